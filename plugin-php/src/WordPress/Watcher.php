<?php
/**
 * The chain watcher, run by WP-Cron and (rate-limited) when a status is polled.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\DomainError;
use Stablegate\Domain\Network;
use Stablegate\Domain\TransferLog;
use Stablegate\Domain\Uint;
use Stablegate\Domain\Watch;

/**
 * DESIGN §6, the host's half of the engine's plan/apply contract: per network, the head and the
 * finality tag; per token, the core's plan (Watch::planPoll) over the saved cursor and the
 * credited entries not final yet; the node's Transfer logs over the plan's range (topic 2: every
 * watched receiving address) and the block headers of those logs and of the plan's checks; the
 * core's apply (Watch::applyPoll); and the outcome stored in one transaction. Everything that
 * decides money (matching, finality with the merchant's confirmations, reorganisations, a node
 * that lacks a block, zero-amount spam, the next cursor) is the core's; this class holds the
 * transport (batching, range splitting, the answering node's head) and the storage. HTTP requests
 * per poll: three (head and tag; every token's eth_getLogs; the headers), whatever the number of
 * open invoices; through public endpoints a catch-up after downtime is paced by the core
 * (Watch::settings' pace, Endpoints::watchSettings): at most its blocks, eth_getLogs requests
 * of max_range blocks and batches of max_batch headers per poll, the rest in the next polls. Only one poll per network runs at a time (a MySQL named lock), and status polls
 * trigger at most one poll per network every poll_seconds, however many customers are waiting.
 */
final class Watcher {

	public const CRON_HOOK = 'stablegate_watch';

	/**
	 * Polls every network that has an RPC URL and something to watch.
	 *
	 * @return array<string, array<string, mixed>> Per network: the poll's stats or its error.
	 */
	public static function pollAll(): array {
		$networks = array();
		foreach ( Settings::acceptedChoices() as $choice ) {
			$networks[ $choice['network'] ] = true;
		}
		foreach ( Invoices::watchedNetworks() as $network ) {
			$networks[ $network ] = true;
		}
		$out = array();
		foreach ( array_keys( $networks ) as $network ) {
			try {
				// Cron waits a little for a poll that a status request is running; a status request
				// never waits (its caller gets the document either way).
				$out[ $network ] = self::poll( $network, 10 );
			} catch ( \Throwable $e ) {
				$out[ $network ] = array( 'error' => $e->getMessage() );
				self::recordStats( $network, array( 'last_error' => $e->getMessage() ) );
			}
		}
		Invoices::sweep();
		return $out;
	}

	/** Polls $network unless it was polled in the last poll_seconds (for status requests). */
	public static function maybePoll( string $network ): void {
		$key = 'stablegate_polled_' . $network;
		if ( false !== get_transient( $key ) ) {
			return;
		}
		// Public endpoints are shared and rate-limited: polled less often than the merchant's own.
		$least = Endpoints::leastPollSeconds( $network );
		set_transient( $key, Invoices::now(), max( $least, (int) Settings::get( 'poll_seconds' ) ) );
		try {
			self::poll( $network );
		} catch ( \Throwable $e ) {
			self::recordStats( $network, array( 'last_error' => $e->getMessage() ) );
		}
	}

	/**
	 * Returns the last stats of $network (head, polls, last_error, requests of the last poll).
	 *
	 * @return array<string, mixed>
	 */
	public static function stats( string $network ): array {
		$stats = get_option( 'stablegate_watch_' . $network, array() );
		return is_array( $stats ) ? $stats : array();
	}

	/**
	 * Says how the last run of $network_id went, for the settings screen (after the RPC URL's own
	 * description: starts with a space; empty for a network without an RPC URL).
	 */
	public static function describe( string $network_id ): string {
		if ( '' === Settings::rpcUrl( $network_id ) ) {
			return '';
		}
		$stats = self::stats( $network_id );
		if ( ! empty( $stats['last_error'] ) ) {
			/* translators: %s: the error, naming the RPC host only */
			return ' ' . sprintf( __( 'The watcher cannot use it: %s', 'stablegate' ), $stats['last_error'] );
		}
		if ( isset( $stats['last_poll_at'], $stats['head'] ) ) {
			/* translators: 1: seconds, 2: block number */
			return ' ' . sprintf( __( 'Watched %1$d seconds ago, up to block %2$d.', 'stablegate' ), max( 0, Invoices::now() - (int) $stats['last_poll_at'] ), (int) $stats['head'] );
		}
		return ' ' . __( 'Not watched yet: WP-Cron runs the watcher every minute.', 'stablegate' );
	}

	/**
	 * Merges $values into the stats of $network.
	 *
	 * @param array<string, mixed> $values Values.
	 */
	private static function recordStats( string $network, array $values ): void {
		update_option( 'stablegate_watch_' . $network, array_merge( self::stats( $network ), $values ), false );
	}

	/**
	 * One poll of one network.
	 *
	 * @return array<string, mixed> Stats: head, cursors, requests, outcomes.
	 * With several URLs (the public defaults), a node that fails is followed by the next: a failed
	 * poll stored nothing, so the next node starts from the same cursor.
	 *
	 * @throws RpcError When every node fails; nothing is skipped (the cursor stays).
	 */
	public static function poll( string $network_id, int $wait = 0 ): array {
		$urls = Endpoints::urls( $network_id );
		if ( ! $urls ) {
			return array( 'skipped' => 'no RPC URL' );
		}
		try {
			return Invoices::withLock(
				'chain_' . $network_id,
				$wait,
				static function () use ( $network_id, $urls ): array {
					foreach ( $urls as $i => $url ) {
						try {
							return self::pollLocked( Network::get( $network_id ), Rpc::forNetwork( $network_id, $url ) );
						} catch ( RpcError $e ) {
							if ( count( $urls ) - 1 === $i ) {
								throw $e;
							}
						}
					}
					return array(); // Unreachable: the last failure was thrown.
				}
			);
		} catch ( ApiError $busy ) {
			return array( 'skipped' => 'another poll of this network is running' );
		}
	}

	/**
	 * The poll itself, under the network's lock: the head, then per token the core's plan, the
	 * node's answers and the core's apply (DESIGN §6, the engine's plan/apply contract). HTTP
	 * requests: one batch (head and finality tag), one batch of eth_getLogs (every token, with
	 * the answering node's head), one batch of block headers (every token): three, whatever the
	 * number of open invoices.
	 *
	 * @return array<string, mixed>
	 */
	private static function pollLocked( Network $network, Rpc $rpc ): array {
		$tag   = $network->finalityTag();
		$calls = array( array( 'eth_blockNumber', array() ) );
		if ( null !== $tag ) {
			$calls[] = array( 'eth_getBlockByNumber', array( $tag, false ) );
		}
		$first = $rpc->batch( $calls );
		foreach ( $first as $result ) {
			if ( $result instanceof RpcError ) {
				throw $result;
			}
		}
		$head   = self::quantity( $first[0] );
		$tagged = ( null !== $tag && is_array( $first[1] ?? null ) ) ? self::quantity( $first[1]['number'] ) : null;
		$tokens = array();
		foreach ( Settings::acceptedChoices() as $choice ) {
			if ( $choice['network'] === $network->id() ) {
				$tokens[ $choice['token'] ] = true;
			}
		}
		foreach ( Invoices::watched( $network->id() ) as $w ) {
			$tokens[ $w['invoice']->token ] = true;
		}

		// 1. Plan every token.
		$polls = array();
		foreach ( array_keys( $tokens ) as $token_id ) {
			$polls[ $token_id ] = self::plan( $network, (string) $token_id, $rpc, $head, $tagged );
		}
		// 2. Ask the node: the logs of every token in one batch, then the headers in another.
		self::fetchLogs( $network, $rpc, $polls );
		// The entries to check first, then the blocks of the logs from the lowest; paced (public
		// endpoints), at most the pace's batches of max_batch headers. A check left unasked is
		// looked at next poll; a log left without its header is placed by its blockTimestamp or
		// held by the core for a later poll (the cursor stays below it): none is lost.
		$checked = array();
		$logged  = array();
		foreach ( $polls as $poll ) {
			foreach ( $poll['plan']['checks'] as $check ) {
				$checked[ $check['block_number'] ] = true;
			}
			foreach ( $poll['logs'] as $log ) {
				$logged[ self::quantity( $log['blockNumber'] ) ] = true;
			}
		}
		$logged = array_keys( array_diff_key( $logged, $checked ) );
		sort( $logged, SORT_NUMERIC );
		$heights = array_merge( array_keys( $checked ), $logged );
		$pace    = Endpoints::watchSettings( $network->id() )['pace'] ?? null;
		if ( null !== $pace && null !== $rpc->maxBatch() ) {
			$heights = array_slice( $heights, 0, (int) $pace['header_requests'] * $rpc->maxBatch() );
		}
		$headers = array();
		$results = $rpc->batch( array_map( static fn ( $height ): array => array( 'eth_getBlockByNumber', array( '0x' . dechex( (int) $height ), false ) ), $heights ) );
		foreach ( $heights as $i => $height ) {
			if ( $results[ $i ] instanceof RpcError ) {
				throw $results[ $i ];
			}
			if ( is_array( $results[ $i ] ) ) {
				$headers[ (string) $height ] = array(
					'number'    => self::quantity( $results[ $i ]['number'] ),
					'hash'      => strtolower( (string) $results[ $i ]['hash'] ),
					'timestamp' => self::quantity( $results[ $i ]['timestamp'] ),
				);
			}
		}
		// 3. Apply and store, token by token.
		$outcomes   = array();
		$cursors    = array();
		$searched   = array();
		$lost_races = 0;
		foreach ( $polls as $token_id => $poll ) {
			$cursors[ $token_id ]  = self::apply( $network, (string) $token_id, $poll, $headers, $head, $tagged, $outcomes, $lost_races );
			$searched[ $token_id ] = array( $poll['plan']['from'], $poll['searched_to'] );
		}
		$stats                 = array(
			'head'           => (int) $head,
			'tagged'         => null === $tagged ? null : (int) $tagged,
			'cursors'        => $cursors,
			'searched'       => $searched,
			'requests'       => $rpc->requests - $rpc->setup_requests,
			'setup_requests' => $rpc->setup_requests,
			'outcomes'       => $outcomes,
			'lost_races'     => $lost_races,
			'last_error'     => null,
			'last_poll_at'   => Invoices::now(),
		);
		$stats['polls']        = (int) ( self::stats( $network->id() )['polls'] ?? 0 ) + 1;
		$stats['max_requests'] = max( $stats['requests'], (int) ( self::stats( $network->id() )['max_requests'] ?? 0 ) );
		self::recordStats( $network->id(), $stats );
		return $stats;
	}

	/**
	 * Plans the poll of one token: its receiving addresses, its cursor and the core's plan over
	 * the credited entries not final yet.
	 *
	 * @return array{token: array, recipients: string[], cursor: string, plan: array, logs: array, searched_to: string}
	 */
	private static function plan( Network $network, string $token_id, Rpc $rpc, string $head, ?string $tagged ): array {
		// The receiving addresses of the settings are scanned even when no invoice is open, so a
		// payment that fits no invoice (days late, a wrong amount) is still recorded and shown to
		// the merchant; addresses of still-watched invoices are scanned even if removed since.
		$recipients = Invoices::watchedRecipients( $network->id(), $token_id );
		foreach ( Settings::addresses( $network->family() ) as $text ) {
			try {
				$recipients[] = $network->parseAddress( $text )->hex();
			} catch ( DomainError $e ) {
				continue; // The settings screen refuses these; one stored by hand is skipped.
			}
		}
		$recipients = array_values( array_unique( $recipients ) );
		$before     = $rpc->requests;
		$cursor     = $recipients ? self::cursor( $network, $token_id, (int) $head, $rpc ) : (int) $head;
		// The first scan of a (network, token) searches its start block once; that is not part of
		// the steady per-poll budget, so it is counted apart.
		$rpc->setup_requests += $rpc->requests - $before;
		$pending              = array();
		foreach ( Invoices::watched( $network->id(), $token_id ) as $w ) {
			foreach ( $w['invoice']->ledger as $entry ) {
				if ( 'seen' === $entry['status'] ) {
					$pending[] = array(
						'tx_hash'      => $entry['tx_hash'],
						'log_index'    => $entry['log_index'],
						'block_number' => $entry['block_number'],
					);
				}
			}
		}
		$plan = Watch::planPoll(
			$network,
			array(
				'cursor'            => (string) $cursor,
				'head'              => $head,
				'tagged'            => $tagged,
				'min_confirmations' => (string) Settings::minConfirmations( $network->id() ),
				'max_blocks'        => (string) self::maxBlocks( $network ),
				'pending'           => $recipients ? $pending : array(),
			)
		);
		return array(
			'token'       => $network->token( $token_id ),
			'recipients'  => $recipients,
			'cursor'      => (string) $cursor,
			'plan'        => $plan,
			'logs'        => array(),
			// Nothing searched yet: below the plan's start.
			'searched_to' => (string) max( 0, (int) $plan['from'] - 1 ),
		);
	}

	/**
	 * The most blocks one poll searches past a cursor: the merchant's max_blocks, and through
	 * public endpoints at most the core's pace (its eth_getLogs requests of max_range blocks), so
	 * that a catch-up after downtime takes several polls instead of a burst.
	 */
	private static function maxBlocks( Network $network ): int {
		$own  = max( 1, (int) Settings::get( 'max_blocks' ) );
		$pace = Endpoints::watchSettings( $network->id() )['pace'] ?? null;
		return null === $pace ? $own : max( 1, min( $own, (int) $pace['max_blocks'] ) );
	}

	/**
	 * Fills each poll's logs and searched_to: eth_getLogs over the plan's range for every token
	 * in one batch, each range cut into the pieces the provider accepts, with the answering
	 * node's head so that a node behind the plan's head is searched only as far as it has
	 * blocks. A piece the node refuses is halved (and the size remembered) and asked again.
	 *
	 * @param array<string, array> $polls By token, as plan() returns them; changed in place.
	 */
	private static function fetchLogs( Network $network, Rpc $rpc, array &$polls ): void {
		$settings = Endpoints::watchSettings( $network->id() );
		// The range the provider was last seen to accept, within the endpoints' documented range.
		$range = max( 1, min( (int) get_option( 'stablegate_range_' . $network->id(), 5000 ), (int) $settings['max_range'] ) );
		// Paced (public endpoints): the pieces fit the pace's eth_getLogs requests, batches of
		// max_batch calls with the node's head in the first; a token's range past its last piece
		// waits for the next poll (its searched_to stops there, and so does its cursor).
		$limit  = null === $settings['pace'] ? PHP_INT_MAX : (int) $settings['pace']['log_requests'] * ( null === $rpc->maxBatch() ? 1 : max( 1, $rpc->maxBatch() ) ) - ( null === $rpc->maxBatch() ? 0 : 1 );
		$limit  = max( 1, $limit );
		$calls  = array( array( 'eth_blockNumber', array() ) );
		$pieces = array();
		$ends   = array();
		foreach ( $polls as $token_id => $poll ) {
			$from = (int) $poll['plan']['from'];
			$to   = (int) $poll['plan']['to'];
			if ( ! $poll['recipients'] || $from > $to ) {
				continue;
			}
			for ( $start = $from; $start <= $to && count( $pieces ) < $limit; $start += $range ) {
				$pieces[]          = array( $token_id, $start, min( $to, $start + $range - 1 ) );
				$calls[]           = self::getLogsCall( $poll, $start, min( $to, $start + $range - 1 ) );
				$ends[ $token_id ] = min( $to, $start + $range - 1 );
			}
		}
		if ( ! $pieces ) {
			return;
		}
		$results = $rpc->batch( $calls );
		if ( $results[0] instanceof RpcError ) {
			throw $results[0];
		}
		$answering = self::quantity( $results[0] );
		foreach ( $pieces as $i => list( $token_id, $start, $end ) ) {
			$logs = $results[ $i + 1 ];
			if ( $start > $ends[ $token_id ] ) {
				continue; // Past a refused piece of this token: searched next poll.
			}
			if ( $logs instanceof RpcError && null !== $settings['pace'] && $end > $start ) {
				// Paced: no extra request in this poll; the next one asks half the range, from here.
				update_option( 'stablegate_range_' . $network->id(), max( 1, intdiv( $end - $start + 1, 2 ) ), false );
				$ends[ $token_id ] = $start - 1;
				continue;
			}
			if ( $logs instanceof RpcError ) {
				$logs = self::getLogsSplit( $network, $rpc, $polls[ $token_id ], $start, $end );
			}
			foreach ( (array) $logs as $log ) {
				$polls[ $token_id ]['logs'][] = $log;
			}
		}
		foreach ( $ends as $token_id => $end ) {
			$polls[ $token_id ]['searched_to'] = (string) min( $end, (int) $answering );
		}
	}

	/**
	 * The eth_getLogs call of one piece: Transfer logs of the token to any of the poll's addresses.
	 *
	 * @param array<string, mixed> $poll As plan() returns it.
	 * @return array{0: string, 1: mixed[]}
	 */
	private static function getLogsCall( array $poll, int $from, int $to ): array {
		return array(
			'eth_getLogs',
			array(
				array(
					'fromBlock' => '0x' . dechex( $from ),
					'toBlock'   => '0x' . dechex( $to ),
					'address'   => $poll['token']['contract']->hex(),
					'topics'    => array(
						TransferLog::TRANSFER_TOPIC,
						null,
						array_map( static fn ( string $hex ): string => '0x' . str_repeat( '0', 24 ) . substr( $hex, 2 ), $poll['recipients'] ),
					),
				),
			),
		);
	}

	/**
	 * Asks eth_getLogs over [from, to] piece by piece, halving (and remembering) the piece size
	 * while the node refuses it.
	 *
	 * @param array<string, mixed> $poll As plan() returns it.
	 * @return array<int, array<string, mixed>>
	 */
	private static function getLogsSplit( Network $network, Rpc $rpc, array $poll, int $from, int $to ): array {
		$range = max( 1, intdiv( $to - $from + 1, 2 ) );
		update_option( 'stablegate_range_' . $network->id(), $range, false );
		$out   = array();
		$start = $from;
		while ( $start <= $to ) {
			$end = min( $to, $start + $range - 1 );
			try {
				foreach ( (array) $rpc->call( ...self::getLogsCall( $poll, $start, $end ) ) as $log ) {
					$out[] = $log;
				}
				$start = $end + 1;
			} catch ( RpcError $e ) {
				if ( $end === $start ) {
					throw $e;
				}
				$range = max( 1, intdiv( $end - $start + 1, 2 ) );
				update_option( 'stablegate_range_' . $network->id(), $range, false );
			}
		}
		return $out;
	}

	/**
	 * Applies the node's answers of one token through the core (Watch::applyPoll) and stores
	 * the outcome; returns the cursor saved.
	 *
	 * @param array<string, mixed>                $poll     As plan() and fetchLogs() filled it.
	 * @param array<string, array<string, string>> $headers Block headers by height.
	 * @param string[]                            $outcomes What happened to each transfer, appended to.
	 * @param int                                 $lost_races Counts the writes lost to another writer.
	 */
	private static function apply( Network $network, string $token_id, array $poll, array $headers, string $head, ?string $tagged, array &$outcomes, int &$lost_races ): string {
		// The node's filter, checked: only the logs of the token and the addresses that were asked
		// for reach the core, whatever a node answers. The core decodes them, places them in their
		// blocks' headers, and leaves for a later poll a log whose block the node no longer has.
		$contract = strtolower( $poll['token']['contract']->hex() );
		$asked    = array_map( static fn ( string $hex ): string => strtolower( '0x' . str_repeat( '0', 24 ) . substr( $hex, 2 ) ), $poll['recipients'] );
		$logs     = array();
		$keys     = array();
		$blocks   = array();
		foreach ( $poll['logs'] as $log ) {
			$topic = strtolower( (string) ( $log['topics'][2] ?? '' ) );
			if ( strtolower( (string) ( $log['address'] ?? '' ) ) !== $contract || ! in_array( $topic, $asked, true ) ) {
				$outcomes[] = ( $log['transactionHash'] ?? '?' ) . ':ignored:not_asked_for';
				continue;
			}
			$logs[] = $log;
			try {
				$keys[] = TransferLog::decode( $network, $log ); // Its key, to look up what is stored of it.
			} catch ( DomainError $e ) {
				$outcomes[] = 'undecodable:' . $e->kind();
			}
			$height = isset( $log['blockNumber'] ) ? self::quantity( $log['blockNumber'] ) : null;
			if ( null !== $height && isset( $headers[ $height ] ) ) {
				$blocks[ $height ] = $headers[ $height ];
			}
		}
		$checks = array_map(
			static fn ( array $check ): array => array(
				'tx_hash'   => $check['tx_hash'],
				'log_index' => $check['log_index'],
				'block'     => $headers[ $check['block_number'] ] ?? null,
			),
			$poll['plan']['checks']
		);
		// A lost race with another writer (a claim, a review, the sweep) applies the same answers
		// again to the invoices as they are now, from the same cursor: idempotent.
		for ( $attempt = 0; $attempt < 5; $attempt++ ) {
			$watched = Invoices::watched( $network->id(), $token_id );
			$stored  = Invoices::ledgerRows( $network->id(), $keys );
			$owners  = array();
			$known   = array();
			foreach ( $stored as $key => $row ) {
				if ( null === $row['invoice_id'] ) {
					$known[] = array(
						'tx_hash'   => $row['tx_hash'],
						'log_index' => (string) $row['log_index'],
					);
				} elseif ( ! isset( $watched[ (int) $row['invoice_id'] ] ) ) {
					$owners[] = (int) $row['invoice_id']; // Credited to an invoice no longer watched.
				}
			}
			$invoices = $watched + Invoices::byIds( $owners );
			$rows     = array();
			foreach ( $invoices as $w ) {
				$rows[ $w['row']['public_id'] ] = $w['row'];
			}
			$now     = (string) Invoices::now();
			$outcome = Watch::applyPoll(
				$network,
				array(
					'now'               => $now,
					'cursor'            => $poll['cursor'],
					'head'              => $head,
					'tagged'            => $tagged,
					'min_confirmations' => (string) Settings::minConfirmations( $network->id() ),
					'searched_to'       => $poll['searched_to'],
					'transfers'         => array(),
					'logs'              => $logs,
					'blocks'            => array_values( $blocks ),
					'checks'            => $checks,
					'invoices'          => array_values( array_map( static fn ( array $w ) => $w['invoice'], $invoices ) ),
					'unmatched'         => $known,
				)
			);
			$cursor = $poll['recipients'] ? $outcome['cursor'] : $head; // No address: no transfer can matter.
			$saved  = Invoices::commitPoll( $network->id(), $token_id, $rows, $outcome, $now, static fn () => self::saveCursor( $network->id(), $token_id, (int) $cursor ) );
			if ( $saved ) {
				foreach ( $outcome['ledger'] as $write ) {
					$outcomes[] = $write['transfer']['tx_hash'] . ':' . self::describeWrite( $write );
				}
				return $cursor;
			}
			++$lost_races;
		}
		throw new \RuntimeException( "the invoices of {$network->id()} kept being written during the poll; polling again next time" );
	}

	/**
	 * What a ledger write did, for the poll's stats: credited:<invoice>, final, removed, seen (moved
	 * to another block), or kept:<why it credited nothing>.
	 *
	 * @param array<string, mixed> $write A ledger write of the core's outcome.
	 */
	private static function describeWrite( array $write ): string {
		if ( 'update' === $write['op'] ) {
			return (string) $write['status'];
		}
		return null === $write['invoice'] ? 'kept:' . Invoices::ledgerOutcome( $write['note'] ) : 'credited:' . $write['invoice'];
	}

	/** Parses a 0x quantity into a decimal string. */
	private static function quantity( mixed $quantity ): string {
		return Uint::fromHex( substr( (string) $quantity, 2 ) );
	}

	/** Parses a 0x quantity. */
	private static function int( mixed $quantity ): int {
		return (int) hexdec( substr( (string) $quantity, 2 ) );
	}

	/** Returns the saved cursor, or on the first scan the block before the oldest watched invoice. */
	private static function cursor( Network $network, string $token_id, int $head, Rpc $rpc ): int {
		global $wpdb;
		$table = Schema::table( 'cursors' );
		$block = $wpdb->get_var( $wpdb->prepare( "SELECT block FROM $table WHERE network = %s AND token = %s", $network->id(), $token_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( null !== $block ) {
			return (int) $block;
		}
		$invoices = Schema::table( 'invoices' );
		$oldest   = $wpdb->get_var( $wpdb->prepare( "SELECT MIN(created_at) FROM $invoices WHERE network = %s AND token = %s AND " . Invoices::WATCHED_SQL, $network->id(), $token_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$start    = null === $oldest ? $head : self::lastBlockBefore( $rpc, (int) $oldest - 60, $head );
		self::saveCursor( $network->id(), $token_id, $start );
		return $start;
	}

	/** Finds the last block whose time is before $time (binary search, once per network and token). */
	private static function lastBlockBefore( Rpc $rpc, int $time, int $head ): int {
		$lo = 0;
		$hi = $head;
		while ( $lo < $hi ) {
			$mid   = intdiv( $lo + $hi + 1, 2 );
			$block = $rpc->call( 'eth_getBlockByNumber', array( '0x' . dechex( $mid ), false ) );
			if ( is_array( $block ) && self::int( $block['timestamp'] ) < $time ) {
				$lo = $mid;
			} else {
				$hi = $mid - 1;
			}
		}
		return $lo;
	}

	private static function saveCursor( string $network, string $token, int $block ): void {
		global $wpdb;
		$table = Schema::table( 'cursors' );
		$wpdb->query( $wpdb->prepare( "INSERT INTO $table (network, token, block, updated_at) VALUES (%s, %s, %d, %d) ON DUPLICATE KEY UPDATE block = VALUES(block), updated_at = VALUES(updated_at)", $network, $token, $block, Invoices::now() ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * The checks of a doctor, for the settings screen's "test connection" button: the RPC answers,
	 * on the right chain, and eth_getLogs works; a failure says whether the node is rate-limiting.
	 *
	 * @return array<int, array{check: string, ok: bool, detail: string, rate_limited?: bool}>
	 */
	public static function doctor( string $network_id, string $url ): array {
		$network = Network::get( $network_id );
		$rpc     = new Rpc( $url, 10 );
		$checks  = array();
		try {
			$chain    = self::int( $rpc->call( 'eth_chainId', array() ) );
			$checks[] = array( 'check' => 'reachable', 'ok' => true, 'detail' => 'the node answers' );
			$checks[] = array(
				'check'  => 'chain',
				'ok'     => $chain === $network->chainId(),
				'detail' => $chain === $network->chainId() ? "chain id $chain" : "chain id $chain, expected {$network->chainId()} for {$network_id}",
			);
			$head     = self::int( $rpc->call( 'eth_blockNumber', array() ) );
			$logs     = $rpc->call(
				'eth_getLogs',
				array(
					array(
						'fromBlock' => '0x' . dechex( max( 0, $head - 10 ) ),
						'toBlock'   => '0x' . dechex( $head ),
						'address'   => $network->token()['contract']->hex(),
						'topics'    => array( TransferLog::TRANSFER_TOPIC ),
					),
				)
			);
			$checks[] = array( 'check' => 'eth_getLogs', 'ok' => is_array( $logs ), 'detail' => is_array( $logs ) ? sprintf( '%d Transfer logs in the last 10 blocks (head %d)', count( $logs ), $head ) : 'unexpected answer' );
		} catch ( RpcError $e ) {
			$checks[] = array(
				'check'        => count( $checks ) ? 'eth_getLogs' : 'reachable',
				'ok'           => false,
				'detail'       => $e->getMessage(),
				'rate_limited' => $e->rate_limited,
			);
		}
		return $checks;
	}
}
