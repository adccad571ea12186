<?php
/**
 * The status document the widget renders.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Builds the status document of DESIGN §8 (schema: tests/vectors/schema/status.schema.json).
 * Amounts are decimal strings; small counters (chain_id, decimals, confirmations, poll_after_ms)
 * are JSON integers. Mirrors crates/core/src/status.rs.
 */
final class StatusDocument {

	/** Formats unix seconds as RFC 3339 UTC (2026-11-25T12:30:00Z). */
	public static function rfc3339( string $unix ): string {
		return gmdate( 'Y-m-d\TH:i:s\Z', Uint::toInt( $unix ) );
	}

	/**
	 * Builds the document of $invoice.
	 *
	 * @param array{now: string, head: ?int, return_url: ?string, poll_after_ms: int, links: array, min_confirmations?: int} $context
	 *        What the host adds; min_confirmations is the merchant's stricter finality policy.
	 * @return array<string, mixed>
	 * @throws DomainError unknown_network, unknown_token.
	 */
	public static function forInvoice( Invoice $invoice, array $context ): array {
		$network       = Network::get( $invoice->network )->withMinConfirmations( (int) ( $context['min_confirmations'] ?? 0 ) );
		$token         = $network->token( $invoice->token );
		$status        = $invoice->status( $context['now'] );
		$decimals      = (int) $token['decimals'];
		$head          = $context['head'];
		$confirmations = static fn ( string $block ): int => null === $head ? 0 : Network::confirmationsAt( Uint::toInt( $block ), $head );
		$transfers     = array();
		$finality      = null;
		foreach ( $invoice->ledger as $entry ) {
			$transfers[] = array(
				'tx'            => $entry['tx_hash'],
				'amount'        => Amount::toDecimal( $entry['amount'], $decimals ),
				'status'        => array(
					'seen'    => 'processing',
					'final'   => 'settled',
					'removed' => 'removed',
				)[ $entry['status'] ],
				'confirmations' => $confirmations( $entry['block_number'] ),
				'explorer_url'  => $network->explorerUrl( $entry['tx_hash'] ),
			);
			if ( 'seen' === $entry['status'] ) {
				$finality = array(
					'seen'     => min( $confirmations( $entry['block_number'] ), $network->finalityConfirmations() ),
					'required' => $network->finalityConfirmations(),
				);
			}
		}
		$payable     = 'new' === $status['state'] && ! Uint::isZero( $status['amount_remaining'] );
		$done        = in_array( $status['state'], array( 'settled', 'invalid' ), true ) || ! $invoice->isWatched( $context['now'] );
		$links       = $context['links'] + array(
			'choose'      => null,
			'claim'       => null,
			'events'      => null,
			'new_invoice' => null,
		);
		return array(
			'invoice'          => $invoice->id,
			'state'            => $status['state'],
			'exception'        => $status['exception'],
			'network'          => $network->id(),
			'network_names'    => $network->names(),
			'chain_id'         => $network->chainId(),
			'token'            => array(
				'id'       => $token['id'],
				'symbol'   => $token['symbol'],
				'contract' => $token['contract']->display(),
				'decimals' => $decimals,
				'official' => (bool) $token['official'],
			),
			'recipient'        => $invoice->recipient->withFamily( $network->family() )->display(),
			'amount_due'       => Amount::toDecimal( $invoice->amount_due, $decimals ),
			'amount_paid'      => Amount::toDecimal( $status['amount_paid'], $decimals ),
			'amount_remaining' => Amount::toDecimal( $status['amount_remaining'], $decimals ),
			'payment_uri'      => $payable ? PaymentUri::build( $network, $token, $invoice->recipient, $status['amount_remaining'] ) : null,
			'expires_at'       => self::rfc3339( $invoice->expires_at ),
			'finality'         => $finality,
			'transfers'        => $transfers,
			'choices'          => array(),
			'return_url'       => $context['return_url'],
			'poll_after_ms'    => $done ? 0 : (int) $context['poll_after_ms'],
			'links'            => array(
				'choose'      => $links['choose'],
				'claim'       => $links['claim'],
				'events'      => $links['events'],
				'new_invoice' => $links['new_invoice'],
			),
		);
	}
}
