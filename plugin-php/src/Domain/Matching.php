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

	/**
	 * The merchant's default claim policy (DESIGN §5, claim by transaction hash):
	 * auto_accept_up_to is an amount in base units; claims of transfers up to it credit without
	 * review, and zero sends every claim the claimer cannot be shown to own to the merchant's review.
	 */
	public const DEFAULT_POLICY = array( 'auto_accept_up_to' => '0' );

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
	 * @return array<string, mixed> {decision: credit|known|ambiguous|unmatched|ignored, ...}; a
	 *         credit carries review: true (and only then) when the merchant must review it:
	 *         another invoice, whose reservation of this amount was released to it, could own it too.
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
		$released = array();
		$holders  = array();
		foreach ( $in_time as $invoice ) {
			if ( $invoice->expects( $transfer['amount'] ) ) {
				if ( $invoice->released ) {
					$released[] = $invoice;
				} else {
					$holders[] = $invoice;
				}
			}
		}
		// The invoice that holds the amount's reservation owns it; an older one whose reservation
		// was released to it could own it too, and then the merchant decides (DESIGN §5, reserved
		// amounts).
		if ( ! $holders && ! $released ) {
			return array( 'decision' => 'unmatched' );
		}
		if ( count( $holders ) === 1 || ( ! $holders && count( $released ) === 1 ) ) {
			$holder   = $holders ? $holders[0] : $released[0];
			$decision = array(
				'decision' => 'credit',
				'invoice'  => $holder->id,
			);
			// As in the core, review is serialized only when true.
			if ( $released || $holder->released ) {
				$decision['review'] = true;
			}
			return $decision;
		}
		$ids = array_map( static fn ( Invoice $i ): string => $i->id, array_merge( $holders, $released ) );
		sort( $ids, SORT_STRING );
		return array(
			'decision' => 'ambiguous',
			'invoices' => $ids,
		);
	}

	/**
	 * Checks a claim that $transfer (fetched by the server itself from a successful transaction)
	 * pays $target, against all watched $invoices of the network, and applies the claim policy of
	 * DESIGN §5; returns {review: bool}, true when the credit puts the invoice into needs_review:
	 * nothing shows that the claimer owns the transfer, so no order ships on it until the merchant
	 * accepts it.
	 *
	 * On a shared address a transaction hash proves nothing about who paid. So: a transfer of
	 * exactly the amount another watched invoice expects belongs to that invoice, whatever is
	 * claimed (reserved_for_another_invoice), unless the target expects it too (then it credits
	 * for review); a transfer of the amount the target alone expects credits it plainly (the
	 * watcher would have); any other claimed transfer credits the target
	 * for review, unless the merchant's $policy auto-accepts claims of that size.
	 *
	 * @param Invoice[]                         $invoices The other watched invoices of the network.
	 * @param array<string, mixed>              $transfer The transfer.
	 * @param array{auto_accept_up_to?: string} $policy   The claim policy; see DEFAULT_POLICY.
	 * @return array{review: bool}
	 * @throws DomainError already_credited, invalid_log, wrong_token, wrong_recipient,
	 *                     missing_block_time, transfer_before_invoice, transfer_after_window,
	 *                     reserved_for_another_invoice.
	 */
	public static function claimTransfer( Network $network, array $invoices, Invoice $target, array $transfer, array $policy = self::DEFAULT_POLICY ): array {
		$tx       = $transfer['tx_hash'];
		$everyone = array_merge( $invoices, array( $target ) );
		foreach ( $everyone as $invoice ) {
			if ( null !== $invoice->entry( $tx, $transfer['log_index'] ) ) {
				throw new DomainError( 'already_credited', $tx, ( $invoice->id === $target->id ? 'this transfer already credited this invoice' : 'this transfer already credited another invoice' ) );
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
		$own_amount = $target->expects( $transfer['amount'] ) && ! $target->released;
		foreach ( $everyone as $owner ) {
			if ( $owner->id !== $target->id && $owner->network === $network->id() && ! $owner->released
				&& $owner->token === $target->token && $owner->recipient->equals( $transfer['to'] )
				&& self::inWindow( $owner, $time ) && $owner->expects( $transfer['amount'] ) ) {
				if ( $own_amount ) {
					// Both expect it (the target's remainder equals the other's amount): the watcher
					// credited neither; the claim may credit the target, for the merchant to decide.
					return array( 'review' => true );
				}
				throw new DomainError( 'reserved_for_another_invoice', $tx, "this is exactly the amount another open invoice expects; it is that invoice's payment" );
			}
		}
		$limit         = $policy['auto_accept_up_to'] ?? '0';
		$auto_accepted = ! Uint::isZero( $limit ) && Uint::cmp( $transfer['amount'], $limit ) <= 0;
		return array( 'review' => ! ( $own_amount || $auto_accepted ) );
	}
}
