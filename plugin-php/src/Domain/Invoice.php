<?php
/**
 * Invoices, their ledger of transfers, and the state that follows from it.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * An invoice record with the core's JSON shape (crates/core/src/invoice.rs): what is due, where,
 * until when, and the transfers credited to it. The state is never stored on its own: status()
 * derives it from the ledger and the clock. Integers (amounts, unix seconds, block numbers) are
 * decimal strings, compared with Uint.
 */
final class Invoice {

	/** Seconds of clock skew allowed between a block's time and the invoice's creation. */
	public const CLOCK_SKEW_SECS = '60';

	public string $id;
	public string $network;
	public string $token;
	public Address $recipient;
	public string $amount_due;
	public string $tolerance;
	public string $created_at;
	public string $expires_at;
	public string $monitor_until;
	public bool $cancelled         = false;
	public bool $marked_for_review = false;
	/**
	 * True once the invoice's unique amount was given to a newer invoice (it expired unpaid and
	 * its band was full): a transfer of that amount it could still own goes to review.
	 */
	public bool $released = false;
	/**
	 * The merchant's last review resolution, announced with the next event.
	 *
	 * @var array{outcome: string, note: string}|null outcome: accepted or rejected.
	 */
	public ?array $resolution = null;
	/**
	 * Ledger entries: {tx_hash, log_index, from (Address), amount, block_number, block_hash,
	 * block_time, status (seen|final|removed), matched_by (amount|claim), review}.
	 *
	 * @var array<int, array<string, mixed>>
	 */
	public array $ledger = array();
	/** @var array{0: string, 1: ?string}|null State and exception of the last event emitted. */
	public ?array $last_event = null;
	public string $event_seq   = '0';

	/**
	 * Parses a u64 given as a decimal string (or a PHP int).
	 *
	 * @param mixed $value The value.
	 * @throws DomainError invalid_invoice.
	 */
	public static function u64( mixed $value ): string {
		$text = is_int( $value ) && $value >= 0 ? (string) $value : $value;
		if ( ! is_string( $text ) || ! Uint::isDigits( $text ) || ! Uint::fitsU64( Uint::normalize( $text ) ) ) {
			throw new DomainError( 'invalid_invoice', (string) json_encode( $value ), 'expected a decimal integer string of 64 bits' );
		}
		return Uint::normalize( $text );
	}

	/**
	 * Creates an invoice from its terms, checking them against $network.
	 *
	 * @param array{id: string, token?: ?string, recipient: string, amount_due: string, tolerance?: string, created_at: string, expires_in: string, monitoring: string} $terms The terms.
	 * @throws DomainError unknown_token, invalid_address, address_checksum, invalid_amount, invalid_invoice.
	 */
	public static function create( Network $network, array $terms ): self {
		$token     = $network->token( $terms['token'] ?? null );
		$recipient = $network->parseAddress( $terms['recipient'] );
		$due       = Amount::parseBaseUnits( $terms['amount_due'] );
		if ( Uint::isZero( $due ) ) {
			throw new DomainError( 'invalid_amount', '0', 'an invoice needs an amount above zero' );
		}
		$created = self::u64( $terms['created_at'] );
		$expires = Uint::add( $created, self::u64( $terms['expires_in'] ) );
		$monitor = Uint::add( $expires, self::u64( $terms['monitoring'] ) );
		if ( ! Uint::fitsU64( $monitor ) ) {
			throw new DomainError( 'invalid_invoice', $terms['id'], 'the invoice windows overflow' );
		}
		$invoice                = new self();
		$invoice->id            = $terms['id'];
		$invoice->network       = $network->id();
		$invoice->token         = $token['id'];
		$invoice->recipient     = $recipient;
		$invoice->amount_due    = $due;
		$invoice->tolerance     = Amount::parseBaseUnits( $terms['tolerance'] ?? '0' );
		$invoice->created_at    = $created;
		$invoice->expires_at    = $expires;
		$invoice->monitor_until = $monitor;
		return $invoice;
	}

	/**
	 * Reads a record in the core's JSON shape.
	 *
	 * @param array<string, mixed> $json Decoded JSON.
	 * @throws DomainError on a malformed field.
	 */
	public static function fromJson( array $json ): self {
		$invoice                    = new self();
		$invoice->id                = (string) $json['id'];
		$invoice->network           = (string) $json['network'];
		$invoice->token             = (string) $json['token'];
		$invoice->recipient         = Address::parseAny( (string) $json['recipient'] );
		$invoice->amount_due        = Amount::parseBaseUnits( (string) $json['amount_due'] );
		$invoice->tolerance         = Amount::parseBaseUnits( (string) ( $json['tolerance'] ?? '0' ) );
		$invoice->created_at        = self::u64( $json['created_at'] );
		$invoice->expires_at        = self::u64( $json['expires_at'] );
		$invoice->monitor_until     = self::u64( $json['monitor_until'] );
		$invoice->cancelled         = (bool) ( $json['cancelled'] ?? false );
		$invoice->marked_for_review = (bool) ( $json['marked_for_review'] ?? false );
		$invoice->released          = (bool) ( $json['released'] ?? false );
		$resolution                 = $json['resolution'] ?? null;
		$invoice->resolution        = is_array( $resolution ) ? array(
			'outcome' => (string) $resolution['outcome'],
			'note'    => (string) $resolution['note'],
		) : null;
		foreach ( $json['ledger'] ?? array() as $entry ) {
			$invoice->ledger[] = array(
				'tx_hash'      => (string) $entry['tx_hash'],
				'log_index'    => self::u64( $entry['log_index'] ),
				'from'         => Address::parseAny( (string) $entry['from'] ),
				'amount'       => Amount::parseBaseUnits( (string) $entry['amount'] ),
				'block_number' => self::u64( $entry['block_number'] ),
				'block_hash'   => (string) $entry['block_hash'],
				'block_time'   => self::u64( $entry['block_time'] ),
				'status'       => (string) $entry['status'],
				'matched_by'   => (string) $entry['matched_by'],
				'review'       => (bool) $entry['review'],
			);
		}
		$last                = $json['last_event'] ?? null;
		$invoice->last_event = is_array( $last ) ? array( (string) $last[0], isset( $last[1] ) ? (string) $last[1] : null ) : null;
		$invoice->event_seq  = self::u64( $json['event_seq'] ?? '0' );
		return $invoice;
	}

	/**
	 * Returns the record in the core's JSON shape.
	 *
	 * @return array<string, mixed>
	 */
	public function toJson(): array {
		$json = array(
			'id'                => $this->id,
			'network'           => $this->network,
			'token'             => $this->token,
			'recipient'         => $this->recipient->display(),
			'amount_due'        => $this->amount_due,
			'tolerance'         => $this->tolerance,
			'created_at'        => $this->created_at,
			'expires_at'        => $this->expires_at,
			'monitor_until'     => $this->monitor_until,
			'cancelled'         => $this->cancelled,
			'marked_for_review' => $this->marked_for_review,
			'released'          => $this->released,
			'ledger'            => array_map( array( self::class, 'entryJson' ), $this->ledger ),
			'last_event'        => $this->last_event,
			'event_seq'         => $this->event_seq,
		);
		// As in the core, the resolution is left out while there is none.
		if ( null !== $this->resolution ) {
			$json['resolution'] = $this->resolution;
		}
		return $json;
	}

	/**
	 * Returns a ledger entry in the core's JSON shape.
	 *
	 * @param array<string, mixed> $entry A ledger entry.
	 * @return array<string, mixed>
	 */
	public static function entryJson( array $entry ): array {
		$entry['from'] = $entry['from']->display();
		return $entry;
	}

	/** Returns true while transfers are looked for and the amount stays reserved. */
	public function isWatched( string $now ): bool {
		return Uint::cmp( $now, $this->monitor_until ) <= 0;
	}

	/** Returns the sum of credited transfers that are not removed. */
	public function amountPaid(): string {
		return $this->sum( static fn ( array $e ): bool => 'removed' !== $e['status'] );
	}

	private function sum( callable $include ): string {
		$total = '0';
		foreach ( $this->ledger as $entry ) {
			if ( $include( $entry ) ) {
				$total = Uint::add( $total, $entry['amount'] );
			}
		}
		return Uint::fitsU128( $total ) ? $total : Uint::U128_MAX;
	}

	/** Returns true when $amount + tolerance reaches the amount due. */
	private function covered( string $amount ): bool {
		$with = Uint::add( $amount, $this->tolerance );
		return Uint::fitsU128( $with ) && Uint::cmp( $with, $this->amount_due ) >= 0;
	}

	/**
	 * Returns true when $amount is what this invoice expects next: the amount due (less the
	 * tolerance) when unpaid, or the remainder after a partial payment. Once paid in full it
	 * expects nothing: a later transfer of its amount may be that customer's duplicate or another
	 * customer's short payment, so it is kept unmatched and claimable, never silently added
	 * (DESIGN §5, settled invoices).
	 */
	public function expects( string $amount ): bool {
		$paid = $this->amountPaid();
		if ( Uint::isZero( $paid ) ) {
			$target = $this->amount_due;
		} elseif ( Uint::cmp( $this->amount_due, $paid ) >= 0 && Uint::cmp( Uint::sub( $this->amount_due, $paid ), $this->tolerance ) > 0 ) {
			$target = Uint::sub( $this->amount_due, $paid );
		} else {
			return false;
		}
		$with = Uint::add( $amount, $this->tolerance );
		return Uint::cmp( $amount, $target ) <= 0 && Uint::fitsU128( $with ) && Uint::cmp( $with, $target ) >= 0;
	}

	/**
	 * Returns the ledger entry of transfer ($tx_hash, $log_index), or null.
	 *
	 * @return array<string, mixed>|null
	 */
	public function entry( string $tx_hash, string $log_index ): ?array {
		foreach ( $this->ledger as $entry ) {
			if ( $entry['tx_hash'] === $tx_hash && $entry['log_index'] === $log_index ) {
				return $entry;
			}
		}
		return null;
	}

	/**
	 * Credits $transfer to this invoice; false when it was credited already. A transfer removed
	 * by a reorganisation and seen again is reinstated with its new block, and a seen one found
	 * in another block (a reorganisation before finality moved it) follows its transfer.
	 *
	 * @param array<string, mixed> $transfer   The transfer.
	 * @param string               $matched_by amount or claim.
	 * @param bool                 $review     True when another watched invoice could own it.
	 * @throws DomainError wrong_recipient, invalid_log, missing_block_time.
	 */
	public function credit( array $transfer, string $matched_by, bool $review ): bool {
		if ( ! $transfer['to']->equals( $this->recipient ) ) {
			throw new DomainError( 'wrong_recipient', $transfer['to']->display(), "not this invoice's recipient" );
		}
		if ( $transfer['removed'] ) {
			throw new DomainError( 'invalid_log', $transfer['tx_hash'], 'a removed log credits nothing' );
		}
		if ( ! isset( $transfer['block_time'] ) ) {
			throw new DomainError( 'missing_block_time', $transfer['tx_hash'], 'add the block time first' );
		}
		foreach ( $this->ledger as $i => $entry ) {
			if ( $entry['tx_hash'] === $transfer['tx_hash'] && $entry['log_index'] === $transfer['log_index'] ) {
				$moved = 'seen' === $entry['status'] && 0 !== strcasecmp( $entry['block_hash'], $transfer['block_hash'] );
				if ( 'removed' !== $entry['status'] && ! $moved ) {
					return false;
				}
				$this->ledger[ $i ]['block_number'] = $transfer['block_number'];
				$this->ledger[ $i ]['block_hash']   = $transfer['block_hash'];
				$this->ledger[ $i ]['block_time']   = $transfer['block_time'];
				$this->ledger[ $i ]['status']       = 'seen';
				return true;
			}
		}
		$this->ledger[] = array(
			'tx_hash'      => $transfer['tx_hash'],
			'log_index'    => $transfer['log_index'],
			'from'         => $transfer['from'],
			'amount'       => $transfer['amount'],
			'block_number' => $transfer['block_number'],
			'block_hash'   => $transfer['block_hash'],
			'block_time'   => $transfer['block_time'],
			'status'       => 'seen',
			'matched_by'   => $matched_by,
			'review'       => $review,
		);
		return true;
	}

	/** Sets an entry's status (seen, final, removed); false when absent or unchanged. */
	public function setEntryStatus( string $tx_hash, string $log_index, string $status ): bool {
		foreach ( $this->ledger as $i => $entry ) {
			if ( $entry['tx_hash'] === $tx_hash && $entry['log_index'] === $log_index ) {
				if ( $entry['status'] === $status ) {
					return false;
				}
				$this->ledger[ $i ]['status'] = $status;
				return true;
			}
		}
		return false;
	}

	/**
	 * Derives state, exception and totals at $now (unix seconds).
	 *
	 * @return array{state: string, exception: ?string, amount_paid: string, amount_final: string, amount_remaining: string}
	 */
	public function status( string $now ): array {
		$paid        = $this->amountPaid();
		$final_paid  = $this->sum( static fn ( array $e ): bool => 'final' === $e['status'] );
		$remaining   = Uint::saturatingSub( $this->amount_due, $paid );
		$open        = Uint::cmp( $now, $this->expires_at ) < 0 && ! $this->cancelled;
		$exception   = null;
		if ( Uint::isZero( $paid ) ) {
			$removed = false;
			foreach ( $this->ledger as $entry ) {
				$removed = $removed || 'removed' === $entry['status'];
			}
			$state = ( $removed || $this->cancelled ) ? 'invalid' : ( $open ? 'new' : 'expired' );
		} elseif ( ! $this->covered( $paid ) ) {
			$state     = $open ? 'new' : 'expired';
			$exception = 'paid_partial';
		} else {
			$state = $this->covered( $final_paid ) ? 'settled' : 'processing';
			if ( $this->completedLate() ) {
				$exception = 'paid_late';
			} elseif ( Uint::cmp( $paid, $this->amount_due ) > 0 ) {
				$exception = 'paid_over';
			}
		}
		$review = $this->marked_for_review || ( $this->cancelled && ! Uint::isZero( $paid ) );
		foreach ( $this->ledger as $entry ) {
			$review = $review || ( $entry['review'] && 'removed' !== $entry['status'] );
		}
		if ( $review ) {
			$exception = 'needs_review';
		}
		return array(
			'state'            => $state,
			'exception'        => $exception,
			'amount_paid'      => $paid,
			'amount_final'     => $final_paid,
			'amount_remaining' => $this->covered( $paid ) ? '0' : $remaining,
		);
	}

	/** True when the transfer that brought the paid total to the amount due came after expiry. */
	private function completedLate(): bool {
		$total = '0';
		foreach ( $this->ledger as $entry ) {
			if ( 'removed' === $entry['status'] ) {
				continue;
			}
			$total = Uint::add( $total, $entry['amount'] );
			if ( $this->covered( Uint::fitsU128( $total ) ? $total : Uint::U128_MAX ) ) {
				return Uint::cmp( $entry['block_time'], $this->expires_at ) > 0;
			}
		}
		return false;
	}

	/**
	 * Emits an event when the status at $now differs from the last event's, and records it.
	 * The first call (at creation) emits invoice.new.
	 *
	 * @return array<string, mixed>|null {id, type, invoice, state, exception, amount_*, at,
	 *                                   resolution?} (resolution only when there is one).
	 */
	public function sync( string $now ): ?array {
		$status  = $this->status( $now );
		$current = array( $status['state'], $status['exception'] );
		if ( $this->last_event === $current ) {
			return null;
		}
		$in_review     = 'needs_review' === $status['exception'];
		$was_in_review = null !== $this->last_event && 'needs_review' === $this->last_event[1];
		if ( $in_review ) {
			if ( $was_in_review ) {
				// Still in review: the merchant has been told; nothing else is announced until
				// they resolve it (a plain settled would ship the goods).
				$this->last_event = $current;
				return null;
			}
			$kind = 'needs_review';
		} else {
			$last_state = null === $this->last_event ? null : $this->last_event[0];
			if ( 'settled' === $last_state
				&& ( 'new' === $status['state'] || 'processing' === $status['state'] )
				&& null === $this->resolution ) {
				// Events never go back: no processing after settled.
				return null;
			}
			if ( $was_in_review ) {
				$kind = $status['state'];
			} elseif ( null !== $this->last_event && null !== $status['exception'] && $this->last_event[0] === $status['state'] ) {
				$kind = $status['exception'];
			} else {
				$kind = $status['state'];
			}
		}
		$this->last_event = $current;
		$this->event_seq  = Uint::add( $this->event_seq, '1' );
		$event            = array_merge(
			array(
				'id'      => $this->id . ':' . $this->event_seq,
				'type'    => 'invoice.' . $kind,
				'invoice' => $this->id,
			),
			$status,
			array( 'at' => $now )
		);
		if ( null !== $this->resolution ) {
			$event['resolution'] = $this->resolution;
			$this->resolution    = null;
		}
		return $event;
	}

	/**
	 * Returns the reservation of its unique amount, for Amount::allocateInPool(): reusable by a
	 * newer invoice once the invoice expired with nothing paid (invoice.rs reservation).
	 *
	 * @return array{invoice: string, amount: string, expired_unpaid_at: ?string}
	 */
	public function reservation( string $now ): array {
		$unpaid = Uint::isZero( $this->amountPaid() );
		return array(
			'invoice'           => $this->id,
			'amount'            => $this->amount_due,
			'expired_unpaid_at' => $unpaid && Uint::cmp( $now, $this->expires_at ) >= 0 ? $this->expires_at : null,
		);
	}

	/**
	 * Cancels the invoice at $now. Its amount stays reserved through the monitoring window, so a
	 * payment that still arrives is recorded against it (in needs_review), never against a newer
	 * invoice.
	 *
	 * @param string $now Unix seconds.
	 * @throws DomainError invoice_not_cancellable unless the invoice is open (new, before its
	 *                     expiry, not cancelled) with nothing paid.
	 */
	public function cancel( string $now ): void {
		$status = $this->status( $now );
		if ( 'new' !== $status['state'] || ! Uint::isZero( $status['amount_paid'] ) || $this->cancelled ) {
			throw new DomainError( 'invoice_not_cancellable', $this->id, "an invoice in state {$status['state']} with {$status['amount_paid']} paid cannot be cancelled" );
		}
		$this->cancelled = true;
	}

	/** Returns true when the invoice waits for the merchant's review. */
	public function inReview( string $now ): bool {
		return 'needs_review' === $this->status( $now )['exception'];
	}

	/**
	 * Resolves the merchant's review of an invoice in needs_review.
	 *
	 * Accepting takes every payment in its ledger as this invoice's (a cancelled invoice that was
	 * paid becomes a live, paid one). Rejecting takes the transfers that caused the review (those
	 * credited for review, or all of them on a cancelled invoice) out of the ledger and returns
	 * them, for the host to put back on the unmatched list. Either way the next sync() announces
	 * the resulting state with the resolution and the merchant's $note.
	 *
	 * @return array<int, array<string, mixed>> The ledger entries taken out (none on accept).
	 * @throws DomainError not_in_review when the invoice is not in review at $now.
	 */
	public function resolveReview( bool $accept, string $note, string $now ): array {
		if ( ! $this->inReview( $now ) ) {
			throw new DomainError( 'not_in_review', $this->id, 'the invoice is not waiting for a review' );
		}
		$cancelled = $this->cancelled;
		$returned  = array();
		if ( $accept ) {
			foreach ( $this->ledger as $i => $entry ) {
				$this->ledger[ $i ]['review'] = false;
			}
			$this->cancelled = false;
		} else {
			$kept = array();
			foreach ( $this->ledger as $entry ) {
				if ( 'removed' !== $entry['status'] && ( $entry['review'] || $cancelled ) ) {
					$returned[] = $entry;
				} else {
					$kept[] = $entry;
				}
			}
			$this->ledger = $kept;
		}
		$this->marked_for_review = false;
		$this->resolution        = array(
			'outcome' => $accept ? 'accepted' : 'rejected',
			'note'    => $note,
		);
		return $returned;
	}
}
