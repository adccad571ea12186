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

	/** The most decimals a base amount (USDT, before a network is chosen) may have: BSC USDT's 18. */
	private const BASE_AMOUNT_DECIMALS = 18;

	/** The decimals of the USDT amounts hosted providers report (the core's PROVIDER_DECIMALS). */
	public const PROVIDER_DECIMALS = 6;

	/** Formats unix seconds as RFC 3339 UTC (2026-11-25T12:30:00Z). */
	public static function rfc3339( string $unix ): string {
		return gmdate( 'Y-m-d\TH:i:s\Z', Uint::toInt( $unix ) );
	}

	/**
	 * Returns the host's links with every key present (null when the host offers none).
	 *
	 * @param array<string, ?string> $links The host's links.
	 * @return array{choose: ?string, claim: ?string, events: ?string, new_invoice: ?string}
	 */
	private static function links( array $links ): array {
		return array(
			'choose'      => $links['choose'] ?? null,
			'claim'       => $links['claim'] ?? null,
			'events'      => $links['events'] ?? null,
			'new_invoice' => $links['new_invoice'] ?? null,
		);
	}

	/**
	 * Renders an invoice as the merchant's view shows it (InvoiceView::of in the core): its status
	 * at $now and every amount also as a decimal of its token, in ledger order for the transfers.
	 *
	 * @param Invoice $invoice The invoice.
	 * @param Network $network Its network.
	 * @param string  $now     Unix seconds.
	 * @return array{status: array, amount_due: string, amount_paid: string, amount_remaining: string, transfer_amounts: array<int, string>}
	 * @throws DomainError unknown_token when the invoice's token is not on $network.
	 */
	public static function invoiceView( Invoice $invoice, Network $network, string $now ): array {
		$decimals = $network->token( $invoice->token )['decimals'];
		$status   = $invoice->status( $now );
		return array(
			'status'           => $status,
			'amount_due'       => Amount::toDecimal( $invoice->amount_due, $decimals ),
			'amount_paid'      => Amount::toDecimal( $status['amount_paid'], $decimals ),
			'amount_remaining' => Amount::toDecimal( $status['amount_remaining'], $decimals ),
			'transfer_amounts' => array_map( static fn ( array $e ): string => Amount::toDecimal( $e['amount'], $decimals ), $invoice->ledger ),
		);
	}

	/**
	 * Builds the document of an invoice whose network the customer has not picked yet: the
	 * choices, each with the amount it would cost (the unique amount is allocated on choice).
	 *
	 * @param array{invoice: string, state: string, base_amount: string, expires_at: string, accepted: array<int, array{network: string, token: string}>} $open
	 *        What the host stores of it (OpenChoice in the core): state is new while it takes
	 *        payments, or the state the host stored (invalid once cancelled); base_amount is the
	 *        amount due before the unique tag, a decimal string of USDT; accepted lists the
	 *        (network, token) pairs the customer may pick, in the merchant's order;
	 *        provider_paid (optional) what a hosted provider reported paid, base units of its
	 *        6-decimal USDT, and exception (optional) the exception stored with it (issue 16).
	 * @param array{now: string, return_url: ?string, poll_after_ms: int, links: array} $context
	 *        What the host adds, as for forInvoice().
	 * @return array<string, mixed>
	 * @throws DomainError unknown_network, unknown_token, or an amount error for a choice the
	 *                     registry refuses.
	 */
	public static function beforeChoice( array $open, array $context ): array {
		$state   = 'new' === $open['state'] && Uint::cmp( $context['now'], $open['expires_at'] ) >= 0 ? 'expired' : $open['state'];
		$payable = 'new' === $state;
		// The base amount in its canonical form ("19.90" shows as "19.9"), like every amount.
		$due     = Amount::fromDecimal( $open['base_amount'], self::BASE_AMOUNT_DECIMALS );
		$base    = Amount::toDecimal( $due, self::BASE_AMOUNT_DECIMALS );
		// Paid through a hosted provider: paid and remaining as for a direct payment.
		$paid    = isset( $open['provider_paid'] )
			? Amount::fromDecimal( Amount::toDecimal( Amount::parseBaseUnits( (string) $open['provider_paid'] ), self::PROVIDER_DECIMALS ), self::BASE_AMOUNT_DECIMALS )
			: null;
		$choices = array();
		if ( $payable ) {
			foreach ( $open['accepted'] as $key ) {
				$network   = Network::get( $key['network'] );
				$token     = $network->token( $key['token'] );
				$amount    = Amount::fromDecimal( $open['base_amount'], (int) $token['decimals'] );
				$choices[] = array(
					'network' => $network->id(),
					'token'   => $token['id'],
					'names'   => $network->names(),
					'symbol'  => $token['symbol'],
					'amount'  => Amount::toDecimal( $amount, (int) $token['decimals'] ),
				);
			}
		}
		$links = self::links( $context['links'] );
		if ( ! $payable ) {
			$links['choose'] = null;
			$links['claim']  = null;
		}
		return array(
			'invoice'          => $open['invoice'],
			'state'            => $state,
			'exception'        => $open['exception'] ?? null,
			'network'          => null,
			'network_names'    => null,
			'chain_id'         => null,
			'token'            => null,
			'recipient'        => null,
			'amount_due'       => $base,
			'amount_paid'      => null === $paid ? '0' : Amount::toDecimal( $paid, self::BASE_AMOUNT_DECIMALS ),
			'amount_remaining' => null !== $paid ? Amount::toDecimal( Uint::saturatingSub( $due, $paid ), self::BASE_AMOUNT_DECIMALS ) : ( $payable ? $base : '0' ),
			'payment_uri'      => null,
			'expires_at'       => self::rfc3339( $open['expires_at'] ),
			'finality'         => null,
			'transfers'        => array(),
			'choices'          => $choices,
			'return_url'       => $context['return_url'],
			'poll_after_ms'    => $payable ? (int) $context['poll_after_ms'] : 0,
			'links'            => $links,
		) + self::orderTotal( $context );
	}

	/**
	 * Builds the document of $invoice.
	 *
	 * @param array{now: string, head: ?int, return_url: ?string, poll_after_ms: int, links: array, min_confirmations?: int} $context
	 *        What the host adds; min_confirmations is the merchant's stricter confirmations (0:
	 *        the registry's), shown as the number to wait for.
	 * @return array<string, mixed>
	 * @throws DomainError unknown_network, unknown_token.
	 */
	public static function forInvoice( Invoice $invoice, array $context ): array {
		$network       = Network::get( $invoice->network );
		$required      = Watch::requiredConfirmations( $network, (int) ( $context['min_confirmations'] ?? 0 ) );
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
					'seen'     => min( $confirmations( $entry['block_number'] ), $required ),
					'required' => $required,
				);
			}
		}
		$payable     = 'new' === $status['state'] && ! Uint::isZero( $status['amount_remaining'] );
		$done        = in_array( $status['state'], array( 'settled', 'invalid' ), true ) || ! $invoice->isWatched( $context['now'] );
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
			'links'            => self::links( $context['links'] ),
		) + self::orderTotal( $context );
	}

	/**
	 * The order's total as the shop priced it ({amount, currency}), where the host gives one: shown
	 * beside the amount to pay, so the customer sees why that differs. Absent otherwise.
	 *
	 * @param array<string, mixed> $context The host's context.
	 * @return array<string, array{amount: string, currency: string}>
	 */
	private static function orderTotal( array $context ): array {
		$total = $context['order_total'] ?? null;
		if ( ! is_array( $total ) ) {
			return array();
		}
		return array(
			'order_total' => array(
				'amount'   => (string) $total['amount'],
				'currency' => (string) $total['currency'],
			),
		);
	}
}
