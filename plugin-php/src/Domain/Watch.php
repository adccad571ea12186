<?php
/**
 * The watcher's poll as plan → apply: everything a poll decides, as functions of data.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * A host polls one (network, token) like this (DESIGN §6, "the engine's plan/apply contract"):
 *
 * 1. It reads the chain head (and the finality tag's block where the network has one), loads its
 *    cursor and the credited entries not final yet, and calls planPoll(): the block range to
 *    search and the entries whose blocks to look at.
 * 2. It asks its node for the Transfer logs to its receiving addresses over that range (with the
 *    answering node's own head), and for the headers of the blocks of the logs and of the entries
 *    to check: a fixed number of RPC calls, whatever the number of open invoices.
 * 3. It calls applyPoll() once with the logs, the headers, its watched invoices and the keys of
 *    the unmatched transfers it already stored, and writes what comes back (changed invoice
 *    records, ledger writes, events, the next cursor) in one transaction, versioned against
 *    concurrent writers.
 *
 * Completeness does not rest on the head: the host's cursor is a *final* cursor (every block up
 * to it was searched after it became final), so the blocks not yet final are searched again on
 * every poll and a payment in a block that replaced one already scanned is still seen. A transfer
 * first seen in a block that is already final (and whose header the node confirms) settles in the
 * same poll. A node that lacks a block proves no
 * reorganisation: the entry is looked at again next poll.
 *
 * Mirrors crates/core/src/watch.rs function for function. As there, the inputs and outputs have
 * the core's JSON shapes (u64 as decimal strings, transfers as TransferLog arrays, invoices as
 * Invoice objects); the *FromJson and outcomeJson adapters convert the JSON the vectors hold.
 * Block heights are compared as PHP integers (64-bit: real chains are near 10^8).
 */
final class Watch {

	/** The poll interval (ms) a watcher starts from when the merchant sets none. */
	public const DEFAULT_POLL_MS = 3000;
	/** The widest eth_getLogs range a watcher asks for when nothing narrower is known. */
	public const DEFAULT_MAX_RANGE = 2000;
	/** The HTTP requests one poll of a network makes (DESIGN §13: the head, the logs, the headers). */
	public const REQUESTS_PER_POLL = 3;
	/** A watcher plans to use at most 1/PUBLIC_SHARE of a public endpoint's allowance. */
	public const PUBLIC_SHARE = 2;

	/**
	 * Reads a watch request from its JSON ({rpc?, poll_ms?, max_range?}; integers as strings).
	 *
	 * @param array<string, mixed> $json The request.
	 * @return array{rpc: string[], poll_ms: ?int, max_range: ?int}
	 */
	public static function settingsRequestFromJson( array $json ): array {
		return array(
			'rpc'       => array_values( array_map( 'strval', $json['rpc'] ?? array() ) ),
			'poll_ms'   => isset( $json['poll_ms'] ) ? Uint::toInt( Invoice::u64( $json['poll_ms'] ) ) : null,
			'max_range' => isset( $json['max_range'] ) ? Uint::toInt( Invoice::u64( $json['max_range'] ) ) : null,
		);
	}

	/**
	 * Decides how a host watches $network (core watch::watch_settings). With the merchant's own
	 * URLs their settings stand. With the registry's public endpoints every endpoint must carry the
	 * whole watcher alone (a failover moves all of it): the poll interval is at least what keeps
	 * REQUESTS_PER_POLL within 1/PUBLIC_SHARE of each endpoint's requests per second and per day,
	 * the range at most the narrowest documented eth_getLogs range, a batch at most the smallest,
	 * and each poll paced within the requests every endpoint allows (pollPace()).
	 *
	 * @param array{rpc: string[], poll_ms: ?int, max_range: ?int} $request See settingsRequestFromJson.
	 * @return array{rpc: string[], public: bool, poll_ms: string, max_range: string, max_batch: ?string, pace: ?array}
	 */
	public static function settings( Network $network, array $request ): array {
		$poll_ms   = $request['poll_ms'] ?? self::DEFAULT_POLL_MS;
		$max_range = max( 1, $request['max_range'] ?? self::DEFAULT_MAX_RANGE );
		if ( array() !== $request['rpc'] ) {
			return array(
				'rpc'       => $request['rpc'],
				'public'    => false,
				'poll_ms'   => (string) $poll_ms,
				'max_range' => (string) $max_range,
				'max_batch' => null,
				'pace'      => null,
			);
		}
		$budget    = self::REQUESTS_PER_POLL * self::PUBLIC_SHARE;
		$floor     = 0;
		$max_batch = null;
		foreach ( $network->rpcEndpoints() as $e ) {
			if ( null !== $e['rps'] ) {
				$floor = max( $floor, intdiv( $budget * 1000 + max( $e['rps'], 1 ) - 1, max( $e['rps'], 1 ) ) );
			}
			if ( null !== $e['per_day'] ) {
				$floor = max( $floor, intdiv( $budget * 86400000 + max( $e['per_day'], 1 ) - 1, max( $e['per_day'], 1 ) ) );
			}
			if ( null !== $e['max_range'] ) {
				$max_range = min( $max_range, $e['max_range'] );
			}
			if ( null !== $e['max_batch'] ) {
				$max_batch = null === $max_batch ? $e['max_batch'] : min( $max_batch, $e['max_batch'] );
			}
		}
		$poll_ms   = max( $poll_ms, $floor );
		$max_range = max( 1, $max_range );
		// What each endpoint allows per poll; every one must carry the poll alone. A poll's
		// requests go out within about a second, so its per-second allowance bounds them whatever
		// the interval; its daily allowance is spread over the day's polls.
		$requests = null;
		foreach ( $network->rpcEndpoints() as $e ) {
			$own = array();
			if ( null !== $e['rps'] ) {
				$own[] = $e['rps'];
			}
			if ( null !== $e['per_day'] ) {
				$own[] = intdiv( $e['per_day'] * $poll_ms, 86400000 );
			}
			$allowed  = $own ? intdiv( min( $own ), self::PUBLIC_SHARE ) : self::REQUESTS_PER_POLL;
			$requests = null === $requests ? $allowed : min( $requests, $allowed );
		}
		return array(
			'rpc'       => array_column( $network->rpcEndpoints(), 'url' ),
			'public'    => true,
			'poll_ms'   => (string) $poll_ms,
			'max_range' => (string) $max_range,
			'max_batch' => null === $max_batch ? null : (string) $max_batch,
			'pace'      => self::pollPace( $requests ?? self::REQUESTS_PER_POLL, $max_range, $max_batch, null !== $network->finalityTag() ),
		);
	}

	/**
	 * Spends a poll's requests (core watch::poll_pace, a PollPace): one for the head, a quarter
	 * of what is left past the minimum for batches of headers (payments are rare among blocks),
	 * the rest for eth_getLogs requests of max_range blocks each, so that a watcher catches up
	 * after downtime over several polls instead of in a burst. Under a batch limit below 2 the
	 * head with its tag and each eth_getLogs with its node's head take two requests each.
	 *
	 * @return array{requests: string, log_requests: string, header_requests: string, max_blocks: string}
	 */
	private static function pollPace( int $requests, int $max_range, ?int $max_batch, bool $tagged ): array {
		$requests        = max( $requests, self::REQUESTS_PER_POLL );
		$cost            = static fn ( int $calls ): int => null === $max_batch ? 1 : intdiv( $calls + max( $max_batch, 1 ) - 1, max( $max_batch, 1 ) );
		$head            = $cost( $tagged ? 2 : 1 );
		$header_requests = 1 + intdiv( $requests - self::REQUESTS_PER_POLL, 4 );
		$log_requests    = max( 1, intdiv( max( 0, $requests - $head - $header_requests ), $cost( 2 ) ) );
		return array(
			'requests'        => (string) $requests,
			'log_requests'    => (string) $log_requests,
			'header_requests' => (string) $header_requests,
			'max_blocks'      => (string) ( $log_requests * $max_range ),
		);
	}

	/**
	 * Returns true when a transfer in $block is final on $network with the chain at $head (and the
	 * finality tag's block at $tagged), and has at least the merchant's $min_confirmations, which
	 * can only add to the registry's policy.
	 */
	public static function isFinal( Network $network, string $block, string $head, ?string $tagged, string $min_confirmations ): bool {
		$block = Uint::toInt( $block );
		$head  = Uint::toInt( $head );
		return $network->isFinal( $block, $head, null === $tagged ? null : Uint::toInt( $tagged ) )
			&& Network::confirmationsAt( $block, $head ) >= Uint::toInt( $min_confirmations );
	}

	/**
	 * Returns the confirmations a payment waits for on $network: the registry's, or the merchant's
	 * stricter $min_confirmations.
	 */
	public static function requiredConfirmations( Network $network, int $min_confirmations ): int {
		return max( $network->finalityConfirmations(), $min_confirmations );
	}

	/** Returns the highest block that is final with the chain at $head (null when none is yet). */
	private static function finalBlock( Network $network, int $head, ?int $tagged, int $min_confirmations ): ?int {
		$depth = self::requiredConfirmations( $network, $min_confirmations );
		if ( $head + 1 < max( $depth, 1 ) ) {
			return null;
		}
		$by_depth = $head + 1 - max( $depth, 1 );
		if ( null === $network->finalityTag() ) {
			return $by_depth;
		}
		// Without the tag's answer nothing is known final: the final cursor stays (the range
		// searched grows with the head, bounded by max_blocks).
		if ( null === $tagged ) {
			return null;
		}
		return min( $tagged, $by_depth );
	}

	/**
	 * Reads what the host knows before a poll (PollPlanInput in the core's JSON shape):
	 * {cursor (the final cursor: every block up to it was searched after it became final), head, tagged?, min_confirmations?, max_blocks, pending?: [{tx_hash, log_index,
	 * block_number}]}.
	 *
	 * @param array<string, mixed> $json Decoded JSON.
	 * @return array<string, mixed> The same fields, checked, absent ones defaulted.
	 * @throws DomainError invalid_invoice for a field that is not a u64 string.
	 */
	public static function planInputFromJson( array $json ): array {
		return array(
			'cursor'            => Invoice::u64( $json['cursor'] ),
			'head'              => Invoice::u64( $json['head'] ),
			'tagged'            => isset( $json['tagged'] ) ? Invoice::u64( $json['tagged'] ) : null,
			'min_confirmations' => Invoice::u64( $json['min_confirmations'] ?? '0' ),
			'max_blocks'        => Invoice::u64( $json['max_blocks'] ),
			'pending'           => array_map( array( self::class, 'pendingEntry' ), $json['pending'] ?? array() ),
		);
	}

	/**
	 * A ledger entry the host holds, credited and not final yet: {tx_hash, log_index, block_number}.
	 *
	 * @param array<string, mixed> $json Decoded JSON.
	 * @return array{tx_hash: string, log_index: string, block_number: string}
	 */
	private static function pendingEntry( array $json ): array {
		return array(
			'tx_hash'      => (string) $json['tx_hash'],
			'log_index'    => Invoice::u64( $json['log_index'] ),
			'block_number' => Invoice::u64( $json['block_number'] ),
		);
	}

	/**
	 * Plans one poll of one (network, token): {from, to, checks}, the range to search (nothing
	 * when from > to) and the pending entries whose block headers to fetch, those final by now,
	 * to check they are canonical.
	 *
	 * The range runs from past the final cursor (the last block searched after it was final) to
	 * the head, at most max_blocks blocks: so every block not yet final is searched on every poll,
	 * and every block is searched at least once after it became final — a payment in a block that
	 * replaced one already scanned is seen however long the host went between polls.
	 *
	 * @param array<string, mixed> $input As planInputFromJson() returns it.
	 * @return array{from: string, to: string, checks: array<int, array<string, string>>}
	 */
	public static function planPoll( Network $network, array $input ): array {
		$head   = Uint::toInt( $input['head'] );
		$cursor = min( Uint::toInt( $input['cursor'] ), $head );
		$from   = $cursor + 1;
		// cursor + max_blocks, without leaving PHP's integers when max_blocks is huge.
		$max_blocks = max( Uint::toInt( $input['max_blocks'] ), 1 );
		$to         = $head - $cursor <= $max_blocks ? $head : $cursor + $max_blocks;
		$checks     = array_values(
			array_filter(
				$input['pending'],
				static fn ( array $e ): bool => self::isFinal( $network, $e['block_number'], $input['head'], $input['tagged'], $input['min_confirmations'] )
			)
		);
		return array(
			'from'   => (string) $from,
			'to'     => (string) $to,
			'checks' => $checks,
		);
	}

	/**
	 * Reads what one poll returned (PollInput in the core's JSON shape): {now, cursor, head,
	 * tagged?, min_confirmations?, searched_to, transfers?, blocks?, checks?, invoices?,
	 * unmatched?}; blocks are {number, hash, timestamp}, checks {tx_hash, log_index, block:
	 * header|null}, unmatched {tx_hash, log_index}.
	 *
	 * @param array<string, mixed> $json Decoded JSON.
	 * @return array<string, mixed> The same fields, typed: transfers as TransferLog arrays,
	 *                              invoices as Invoice objects, u64 as canonical strings.
	 * @throws DomainError on a malformed field.
	 */
	public static function pollInputFromJson( array $json ): array {
		$header = static fn ( array $b ): array => array(
			'number'    => Invoice::u64( $b['number'] ),
			'hash'      => (string) $b['hash'],
			'timestamp' => Invoice::u64( $b['timestamp'] ),
		);
		$key    = static fn ( array $k ): array => array(
			'tx_hash'   => (string) $k['tx_hash'],
			'log_index' => Invoice::u64( $k['log_index'] ),
		);
		return array(
			'now'               => Invoice::u64( $json['now'] ),
			'cursor'            => Invoice::u64( $json['cursor'] ),
			'head'              => Invoice::u64( $json['head'] ),
			'tagged'            => isset( $json['tagged'] ) ? Invoice::u64( $json['tagged'] ) : null,
			'min_confirmations' => Invoice::u64( $json['min_confirmations'] ?? '0' ),
			'searched_to'       => Invoice::u64( $json['searched_to'] ),
			'transfers'         => array_map( array( TransferLog::class, 'fromJson' ), $json['transfers'] ?? array() ),
			// Raw eth_getLogs objects: applyPoll decodes them (one call per poll, not per log).
			'logs'              => $json['logs'] ?? array(),
			'blocks'            => array_map( $header, $json['blocks'] ?? array() ),
			'checks'            => array_map(
				static fn ( array $c ): array => $key( $c ) + array( 'block' => isset( $c['block'] ) ? $header( $c['block'] ) : null ),
				$json['checks'] ?? array()
			),
			'invoices'          => array_map( array( Invoice::class, 'fromJson' ), $json['invoices'] ?? array() ),
			'unmatched'         => array_map( $key, $json['unmatched'] ?? array() ),
		);
	}

	/**
	 * Returns a poll's outcome in the core's JSON shape (PollOutcome).
	 *
	 * @param array<string, mixed> $outcome As applyPoll() returns it.
	 * @return array<string, mixed>
	 */
	public static function outcomeJson( array $outcome ): array {
		$outcome['invoices'] = array_map( static fn ( Invoice $i ): array => $i->toJson(), $outcome['invoices'] );
		$outcome['ledger']   = array_map(
			static fn ( array $w ): array => array( 'transfer' => TransferLog::toJson( $w['transfer'] ) ) + $w,
			$outcome['ledger']
		);
		return $outcome;
	}

	/**
	 * True when $transfer is the one of key ($tx_hash, $log_index).
	 *
	 * @param array<string, mixed> $transfer The transfer.
	 */
	private static function keyEq( array $transfer, string $tx_hash, string $log_index ): bool {
		return $transfer['tx_hash'] === $tx_hash && $transfer['log_index'] === $log_index;
	}

	/**
	 * Returns the update of a stored entry of $invoice, as it is now.
	 *
	 * @return array<string, mixed> A ledger write.
	 * @throws DomainError invalid_invoice when the entry is not in the ledger; unknown_token.
	 */
	private static function updateOf( Network $network, Invoice $invoice, string $tx_hash, string $log_index ): array {
		$entry = $invoice->entry( $tx_hash, $log_index );
		if ( null === $entry ) {
			throw new DomainError( 'invalid_invoice', $tx_hash, "the entry is not in the invoice's ledger" );
		}
		return array(
			'op'         => 'update',
			'transfer'   => array(
				'token'        => $network->token( $invoice->token )['contract'],
				'from'         => $entry['from'],
				'to'           => $invoice->recipient,
				'amount'       => $entry['amount'],
				'tx_hash'      => $entry['tx_hash'],
				'log_index'    => $entry['log_index'],
				'block_number' => $entry['block_number'],
				'block_hash'   => $entry['block_hash'],
				'removed'      => false,
				'block_time'   => $entry['block_time'],
			),
			'invoice'    => $invoice->id,
			'matched_by' => $entry['matched_by'],
			'review'     => $entry['review'],
			'status'     => $entry['status'],
			'note'       => null,
		);
	}

	/**
	 * Applies one poll of one (network, token): matches and credits the new transfers, moves or
	 * reinstates reorganised ones seen again, settles or removes the entries checked, expires what is due,
	 * and returns every write and event with the next cursor.
	 *
	 * The outcome is {invoices: the Invoice records that changed (ledger, or announced state), to
	 * store; ledger: the writes in order, each {op: insert|update, transfer, invoice: ?id,
	 * matched_by: ?string, review, status: seen|final|removed, note: ?string (why it credited
	 * nothing: unmatched, ambiguous: …, ignored: …)}; events: in order; cursor: the final cursor
	 * to save (the last block searched that was final when searched, or before a replaced block);
	 * rewound: true when a credited transfer's block was replaced and the cursor went back to
	 * before it}.
	 * The input's invoices are not changed.
	 *
	 * @param array<string, mixed> $input As pollInputFromJson() returns it.
	 * @return array<string, mixed>
	 * @throws DomainError unknown_token when an invoice's token is not on $network.
	 */
	public static function applyPoll( Network $network, array $input ): array {
		foreach ( $input['invoices'] as $invoice ) {
			$network->token( $invoice->token );
		}
		$invoices     = array_map( static fn ( Invoice $i ): Invoice => clone $i, $input['invoices'] );
		$touched      = array_fill( 0, count( $invoices ), false );
		$ledger       = array();
		$seen         = array();
		$is_final_now = static fn ( string $block ): bool => self::isFinal( $network, $block, $input['head'], $input['tagged'], $input['min_confirmations'] );
		$canonical    = static function ( array $transfer ) use ( $input ): bool {
			foreach ( $input['blocks'] as $b ) {
				if ( $b['number'] === $transfer['block_number'] && 0 === strcasecmp( $b['hash'], $transfer['block_hash'] ) ) {
					return true;
				}
			}
			return false;
		};
		$owner_of     = static function ( string $tx_hash, string $log_index ) use ( &$invoices ): ?int {
			foreach ( $invoices as $index => $invoice ) {
				if ( null !== $invoice->entry( $tx_hash, $log_index ) ) {
					return $index;
				}
			}
			return null;
		};

		// A log whose block time is unknown (the node lost the block meanwhile) is left for a later
		// poll: the final cursor stays below its block. A log that does not decode is no payment.
		$unplaced = null;
		$decoded  = array();
		foreach ( $input['logs'] ?? array() as $log ) {
			try {
				$transfer = TransferLog::decode( $network, $log );
			} catch ( DomainError $e ) {
				continue;
			}
			if ( ! isset( $transfer['block_time'] ) ) {
				foreach ( $input['blocks'] as $b ) {
					if ( $b['number'] === $transfer['block_number'] ) {
						$transfer['block_time'] = $b['timestamp'];
						break;
					}
				}
			}
			if ( ! isset( $transfer['block_time'] ) ) {
				if ( ! $transfer['removed'] ) {
					$unplaced = null === $unplaced ? $transfer['block_number'] : self::min( $unplaced, $transfer['block_number'] );
				}
				continue;
			}
			$decoded[] = $transfer;
		}
		$transfers = array_values( array_filter( array_merge( $input['transfers'], $decoded ), static fn ( array $t ): bool => ! $t['removed'] ) );
		// usort is stable (PHP 8), as Rust's sort_by_key.
		usort(
			$transfers,
			static function ( array $a, array $b ): int {
				$by_block = Uint::cmp( $a['block_number'], $b['block_number'] );
				return 0 !== $by_block ? $by_block : Uint::cmp( $a['log_index'], $b['log_index'] );
			}
		);
		foreach ( $transfers as $transfer ) {
			$key = $transfer['tx_hash'] . ':' . $transfer['log_index'];
			if ( isset( $seen[ $key ] ) ) {
				continue;
			}
			foreach ( $input['unmatched'] as $k ) {
				if ( self::keyEq( $transfer, $k['tx_hash'], $k['log_index'] ) ) {
					continue 2;
				}
			}
			$seen[ $key ] = true;
			// Address-poisoning spam moves zero tokens: it pays nothing and is not kept.
			if ( Uint::isZero( $transfer['amount'] ) ) {
				continue;
			}
			$settle_now = $is_final_now( $transfer['block_number'] ) && $canonical( $transfer );
			$owner      = $owner_of( $transfer['tx_hash'], $transfer['log_index'] );
			if ( null !== $owner ) {
				$invoice     = $invoices[ $owner ];
				$entry_final = 'final' === $invoice->entry( $transfer['tx_hash'], $transfer['log_index'] )['status'];
				// Reorganised away earlier and mined again, or moved to another block before it
				// was final: the core reinstates it in its new block (credit changes nothing
				// otherwise).
				$moved   = $invoice->credit( $transfer, 'amount', false );
				$settles = $settle_now && ! $entry_final;
				if ( $moved || $settles ) {
					if ( $settle_now ) {
						$invoice->setEntryStatus( $transfer['tx_hash'], $transfer['log_index'], 'final' );
					}
					$touched[ $owner ]          = true;
					$write                      = self::updateOf( $network, $invoice, $transfer['tx_hash'], $transfer['log_index'] );
					$write['transfer']['token'] = $transfer['token'];
					$ledger[]                   = $write;
				}
				continue;
			}
			$decision = Matching::matchTransfer( $network, $invoices, $transfer );
			if ( 'credit' === $decision['decision'] ) {
				$review = $decision['review'] ?? false;
				$index  = null;
				foreach ( $invoices as $i => $candidate ) {
					if ( $candidate->id === $decision['invoice'] ) {
						$index = $i;
						break;
					}
				}
				if ( null === $index ) {
					throw new \LogicException( 'the decision names one of the invoices' );
				}
				$invoice = $invoices[ $index ];
				$invoice->credit( $transfer, 'amount', $review );
				if ( $settle_now ) {
					$invoice->setEntryStatus( $transfer['tx_hash'], $transfer['log_index'], 'final' );
					$status = 'final';
				} else {
					$status = 'seen';
				}
				$touched[ $index ] = true;
				$ledger[]          = array(
					'op'         => 'insert',
					'transfer'   => $transfer,
					'invoice'    => $decision['invoice'],
					'matched_by' => 'amount',
					'review'     => $review,
					'status'     => $status,
					'note'       => null,
				);
			} elseif ( 'known' !== $decision['decision'] ) {
				$note     = match ( $decision['decision'] ) {
					'ignored'   => 'ignored: ' . $decision['reason'],
					'ambiguous' => 'ambiguous: ' . implode( ',', $decision['invoices'] ),
					default     => 'unmatched',
				};
				$ledger[] = array(
					'op'         => 'insert',
					'transfer'   => $transfer,
					'invoice'    => null,
					'matched_by' => null,
					'review'     => false,
					'status'     => $settle_now ? 'final' : 'seen',
					'note'       => $note,
				);
			}
		}

		$rewind = null;
		foreach ( $input['checks'] as $check ) {
			$index = $owner_of( $check['tx_hash'], $check['log_index'] );
			if ( null === $index ) {
				continue;
			}
			$invoice = $invoices[ $index ];
			$entry   = $invoice->entry( $check['tx_hash'], $check['log_index'] );
			if ( 'seen' !== $entry['status'] || ! $is_final_now( $entry['block_number'] ) ) {
				continue;
			}
			$block = $check['block'];
			// The node lacks the block: it is behind (a load-balanced provider), which proves no
			// reorganisation. Look again next poll.
			if ( null === $block || $block['number'] !== $entry['block_number'] ) {
				continue;
			}
			$verdict = 0 === strcasecmp( $block['hash'], $entry['block_hash'] ) ? 'final' : 'removed';
			$invoice->setEntryStatus( $check['tx_hash'], $check['log_index'], $verdict );
			if ( 'removed' === $verdict ) {
				// Its block was replaced: rescan from there, so that the same transfer mined again
				// elsewhere is found and reinstated.
				$back   = Uint::saturatingSub( $entry['block_number'], '1' );
				$rewind = null === $rewind ? $back : self::min( $rewind, $back );
			}
			$touched[ $index ] = true;
			$ledger[]          = self::updateOf( $network, $invoice, $check['tx_hash'], $check['log_index'] );
		}

		$events = array();
		foreach ( $invoices as $index => $invoice ) {
			$event = $invoice->sync( $input['now'] );
			if ( null !== $event ) {
				$events[]          = $event;
				$touched[ $index ] = true;
			}
		}
		// The final cursor moves to the last block searched that was final when searched (a block
		// searched before it was final is searched again by later polls).
		$last_final = self::finalBlock(
			$network,
			Uint::toInt( $input['head'] ),
			null === $input['tagged'] ? null : Uint::toInt( $input['tagged'] ),
			Uint::toInt( $input['min_confirmations'] )
		);
		$advanced   = self::max(
			$input['cursor'],
			self::min( $input['searched_to'], null === $last_final ? $input['cursor'] : (string) $last_final )
		);
		$held       = null === $unplaced ? null : ( '0' === $unplaced ? '0' : Uint::sub( $unplaced, '1' ) );
		$back       = null === $rewind ? $held : ( null === $held ? $rewind : self::min( $rewind, $held ) );
		$cursor     = null === $back ? $advanced : self::min( $advanced, $back );
		return array(
			'invoices' => array_values( array_filter( $invoices, static fn ( int $index ): bool => $touched[ $index ], ARRAY_FILTER_USE_KEY ) ),
			'ledger'   => $ledger,
			'events'   => $events,
			'cursor'   => $cursor,
			'rewound'  => null !== $rewind,
		);
	}

	/** The smaller of two u64 strings. */
	private static function min( string $a, string $b ): string {
		return Uint::cmp( $a, $b ) <= 0 ? $a : $b;
	}

	/** The larger of two u64 strings. */
	private static function max( string $a, string $b ): string {
		return Uint::cmp( $a, $b ) >= 0 ? $a : $b;
	}
}
