<?php
/**
 * Which invoice a transfer belongs to.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Matching by unique amount and by a claimed transaction hash, with the rules of DESIGN §2: the
 * token contract is the registry's, the recipient is the invoice's, the block time is inside the
 * invoice's window (less 60 s of skew), and the transfer never credited any invoice before (the
 * plugin's unique index on (network, tx_hash, log_index) backs the last rule). Mirrors
 * crates/core/src/matching.rs.
 */
final class Matching {

	private static function inWindow( Invoice $invoice, string $block_time ): bool {
		return Uint::cmp( Uint::add( $block_time, Invoice::CLOCK_SKEW_SECS ), $invoice->created_at ) >= 0
			&& Uint::cmp( $block_time, $invoice->monitor_until ) <= 0;
	}

	/**
	 * Decides which of $invoices (watched invoices; those of other networks are skipped) the
	 * transfer pays, by its unique amount.
	 *
	 * @param Invoice[]            $invoices The watched invoices.
	 * @param array<string, mixed> $transfer The transfer.
	 * @return array<string, mixed> {decision: credit|known|ambiguous|unmatched|ignored, ...}
	 */
	public static function matchTransfer( Network $network, array $invoices, array $transfer ): array {
		$on_network = array_values( array_filter( $invoices, static fn ( Invoice $i ): bool => $i->network === $network->id() ) );
		foreach ( $on_network as $invoice ) {
			if ( null !== $invoice->entry( $transfer['tx_hash'], $transfer['log_index'] ) ) {
				return array(
					'decision' => 'known',
					'invoice'  => $invoice->id,
				);
			}
		}
		$ignored = static fn ( string $reason ): array => array(
			'decision' => 'ignored',
			'reason'   => $reason,
		);
		if ( $transfer['removed'] ) {
			return $ignored( 'invalid_log' );
		}
		$token = $network->tokenByContract( $transfer['token'] );
		if ( null === $token ) {
			return $ignored( 'wrong_token' );
		}
		$to_address = array_values(
			array_filter(
				$on_network,
				static fn ( Invoice $i ): bool => $i->token === $token['id'] && $i->recipient->equals( $transfer['to'] )
			)
		);
		if ( ! $to_address ) {
			return $ignored( 'wrong_recipient' );
		}
		if ( ! isset( $transfer['block_time'] ) ) {
			return $ignored( 'missing_block_time' );
		}
		$time    = $transfer['block_time'];
		$in_time = array_values( array_filter( $to_address, static fn ( Invoice $i ): bool => self::inWindow( $i, $time ) ) );
		if ( ! $in_time ) {
			foreach ( $to_address as $invoice ) {
				if ( Uint::cmp( Uint::add( $time, Invoice::CLOCK_SKEW_SECS ), $invoice->created_at ) < 0 ) {
					return $ignored( 'transfer_before_invoice' );
				}
			}
			return $ignored( 'transfer_after_window' );
		}
		$candidates = array();
		foreach ( $in_time as $invoice ) {
			if ( $invoice->expects( $transfer['amount'] ) ) {
				$candidates[] = $invoice->id;
			}
		}
		if ( ! $candidates ) {
			return array( 'decision' => 'unmatched' );
		}
		if ( 1 === count( $candidates ) ) {
			return array(
				'decision' => 'credit',
				'invoice'  => $candidates[0],
			);
		}
		sort( $candidates, SORT_STRING );
		return array(
			'decision' => 'ambiguous',
			'invoices' => $candidates,
		);
	}

	/**
	 * Checks a claim that $transfer (fetched by the server itself from a successful transaction)
	 * pays $target; returns {review: bool}, true when another watched invoice also expects it.
	 *
	 * @param Invoice[]            $invoices The other watched invoices of the network.
	 * @param array<string, mixed> $transfer The transfer.
	 * @return array{review: bool}
	 * @throws DomainError already_credited, invalid_log, wrong_token, wrong_recipient,
	 *                     missing_block_time, transfer_before_invoice, transfer_after_window.
	 */
	public static function claimTransfer( Network $network, array $invoices, Invoice $target, array $transfer ): array {
		$tx       = $transfer['tx_hash'];
		$everyone = array_merge( $invoices, array( $target ) );
		foreach ( $everyone as $invoice ) {
			if ( null !== $invoice->entry( $tx, $transfer['log_index'] ) ) {
				throw new DomainError( 'already_credited', $tx, "this transfer already credited invoice {$invoice->id}" );
			}
		}
		if ( $target->network !== $network->id() ) {
			throw new DomainError( 'wrong_token', $tx, "the invoice is on {$target->network}, not on {$network->id()}" );
		}
		if ( $transfer['removed'] ) {
			throw new DomainError( 'invalid_log', $tx, 'the log was removed by a reorganisation' );
		}
		$token = $network->token( $target->token );
		if ( ! $token['contract']->equals( $transfer['token'] ) ) {
			throw new DomainError( 'wrong_token', $tx, "the transfer is not of the {$token['symbol']} contract " . $token['contract']->display() );
		}
		if ( ! $target->recipient->equals( $transfer['to'] ) ) {
			throw new DomainError( 'wrong_recipient', $tx, 'the transfer went to another address' );
		}
		if ( ! isset( $transfer['block_time'] ) ) {
			throw new DomainError( 'missing_block_time', $tx, 'the transfer has no block time' );
		}
		$time = $transfer['block_time'];
		if ( Uint::cmp( Uint::add( $time, Invoice::CLOCK_SKEW_SECS ), $target->created_at ) < 0 ) {
			throw new DomainError( 'transfer_before_invoice', $tx, 'the transfer happened before the invoice was created' );
		}
		if ( Uint::cmp( $time, $target->monitor_until ) > 0 ) {
			throw new DomainError( 'transfer_after_window', $tx, "the transfer happened after the invoice's monitoring window" );
		}
		$review = false;
		foreach ( $everyone as $invoice ) {
			if ( $invoice->id !== $target->id && $invoice->network === $network->id()
				&& $invoice->token === $target->token && $invoice->recipient->equals( $transfer['to'] )
				&& self::inWindow( $invoice, $time ) && $invoice->expects( $transfer['amount'] ) ) {
				$review = true;
			}
		}
		return array( 'review' => $review );
	}
}
