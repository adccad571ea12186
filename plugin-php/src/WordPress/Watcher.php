<?php
/**
 * The chain watcher, run by WP-Cron and (rate-limited) when a status is polled.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\DomainError;
use Stablegate\Domain\Invoice;
use Stablegate\Domain\Network;
use Stablegate\Domain\TransferLog;

/**
 * DESIGN §6 in PHP: per network and token, one eth_getLogs for Transfer logs to any watched
 * receiving address (topic 2 as a list), from a persisted cursor to the head. The cursor is saved
 * only after its range is processed, so an outage never skips a block; ranges split when a node
 * refuses them. A transfer is processing at first sight and final at the network's finality
 * (depth, and the finalized/safe tag where the registry names one), after checking that its
 * receipt is still in the same block. HTTP requests per poll: one batch (head and tag), one
 * eth_getLogs per token, one batch (block times and receipts) per token — independent of the
 * number of open invoices. Only one poll per network runs at a time (a MySQL named lock), and
 * status polls trigger at most one poll per network every poll_seconds, however many customers
 * are waiting.
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
		global $wpdb;
		$table = Schema::table( 'invoices' );
		foreach ( $wpdb->get_col( "SELECT DISTINCT network FROM $table WHERE reserved_amount IS NOT NULL" ) as $network ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
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
		set_transient( $key, Invoices::now(), max( 3, (int) Settings::get( 'poll_seconds' ) ) );
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
	 * @throws RpcError When the node fails; nothing is skipped (the cursor stays).
	 */
	public static function poll( string $network_id, int $wait = 0 ): array {
		$url = Settings::rpcUrl( $network_id );
		if ( '' === $url ) {
			return array( 'skipped' => 'no RPC URL' );
		}
		try {
			return Invoices::withLock( 'chain_' . $network_id, $wait, static fn () => self::pollLocked( Settings::network( $network_id ), Rpc::forNetwork( $network_id, $url ) ) );
		} catch ( ApiError $busy ) {
			return array( 'skipped' => 'another poll of this network is running' );
		}
	}

	/**
	 * The poll itself, under the network's lock.
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
		$head     = self::int( $first[0] );
		$tagged   = ( null !== $tag && is_array( $first[1] ?? null ) ) ? self::int( $first[1]['number'] ) : null;
		$outcomes = array();
		$cursors  = array();
		$tokens   = array();
		foreach ( Settings::acceptedChoices() as $choice ) {
			if ( $choice['network'] === $network->id() ) {
				$tokens[ $choice['token'] ] = true;
			}
		}
		foreach ( Invoices::watched( $network->id() ) as $w ) {
			$tokens[ $w['invoice']->token ] = true;
		}
		foreach ( array_keys( $tokens ) as $token_id ) {
			$cursors[ $token_id ] = self::pollToken( $network, (string) $token_id, $rpc, $head, $tagged, $outcomes );
		}
		$stats = array(
			'head'          => $head,
			'tagged'        => $tagged,
			'cursors'       => $cursors,
			'requests'      => $rpc->requests - $rpc->setup_requests,
			'setup_requests' => $rpc->setup_requests,
			'outcomes'      => $outcomes,
			'last_error'    => null,
			'last_poll_at'  => Invoices::now(),
		);
		$stats['polls']        = (int) ( self::stats( $network->id() )['polls'] ?? 0 ) + 1;
		$stats['max_requests'] = max( $stats['requests'], (int) ( self::stats( $network->id() )['max_requests'] ?? 0 ) );
		self::recordStats( $network->id(), $stats );
		return $stats;
	}

	/**
	 * Scans one token from its cursor and settles its pending entries; returns the new cursor.
	 *
	 * @param string[] $outcomes What happened to each transfer, appended to.
	 */
	private static function pollToken( Network $network, string $token_id, Rpc $rpc, int $head, ?int $tagged, array &$outcomes ): int {
		// The receiving addresses of the settings are scanned even when no invoice is open, so a
		// payment that fits no invoice (days late, a wrong amount) is still recorded and shown to
		// the merchant; addresses of still-watched invoices are scanned even if removed since.
		$recipients = Invoices::watchedRecipients( $network->id(), $token_id );
		foreach ( Settings::addresses( $network->family() ) as $text ) {
			try {
				$recipients[] = $network->parseAddress( $text )->hex();
			} catch ( \Stablegate\Domain\DomainError $e ) {
				continue; // The settings screen refuses these; one stored by hand is skipped.
			}
		}
		$recipients = array_values( array_unique( $recipients ) );
		if ( ! $recipients ) {
			// No address at all: no transfer can matter, so the cursor follows the head.
			self::saveCursor( $network->id(), $token_id, $head );
			return $head;
		}
		$before = $rpc->requests;
		$cursor = self::cursor( $network, $token_id, $head, $rpc );
		// The first scan of a (network, token) searches its start block once; that is not part
		// of the steady per-poll budget, so it is counted apart.
		$rpc->setup_requests += $rpc->requests - $before;
		$from   = $cursor + 1;
		$to     = min( $head, $cursor + max( 1, (int) Settings::get( 'max_blocks' ) ) );
		$token  = $network->token( $token_id );
		$topics = array(
			TransferLog::TRANSFER_TOPIC,
			null,
			array_map( static fn ( string $hex ): string => '0x' . str_repeat( '0', 24 ) . substr( $hex, 2 ), $recipients ),
		);
		$logs = $from <= $to ? self::getLogs( $network, $rpc, $token['contract']->hex(), $topics, $from, $to ) : array();

		// Entries that reached finality by depth and tag; their receipts prove they are canonical.
		$pending = array();
		foreach ( Invoices::watched( $network->id() ) as $w ) {
			if ( $w['invoice']->token !== $token_id ) {
				continue;
			}
			foreach ( $w['invoice']->ledger as $entry ) {
				if ( 'seen' === $entry['status'] && $network->isFinal( (int) $entry['block_number'], $head, $tagged ) ) {
					$pending[] = array(
						'public_id' => $w['row']['public_id'],
						'entry'     => $entry,
					);
				}
			}
		}
		$blocks = array();
		foreach ( $logs as $log ) {
			if ( empty( $log['blockTimestamp'] ) && isset( $log['blockNumber'] ) ) {
				$blocks[ (string) $log['blockNumber'] ] = true;
			}
		}
		$blocks = array_keys( $blocks );
		// Transfers first seen already final (a watcher that was down, a slow cron) get their
		// receipts in the same batch, so that they settle in this poll, not the next one.
		$deep = array();
		foreach ( $logs as $log ) {
			if ( empty( $log['removed'] ) && isset( $log['blockNumber'], $log['transactionHash'] ) && $network->isFinal( self::int( $log['blockNumber'] ), $head, $tagged ) ) {
				$deep[ strtolower( (string) $log['transactionHash'] ) ] = true;
			}
		}
		$deep  = array_keys( $deep );
		$calls = array();
		foreach ( $blocks as $number ) {
			$calls[] = array( 'eth_getBlockByNumber', array( (string) $number, false ) );
		}
		foreach ( $pending as $p ) {
			$calls[] = array( 'eth_getTransactionReceipt', array( TransferLog::rpcTxHash( $p['entry']['tx_hash'] ) ) );
		}
		foreach ( $deep as $tx ) {
			$calls[] = array( 'eth_getTransactionReceipt', array( $tx ) );
		}
		$results = $rpc->batch( $calls );
		foreach ( $results as $result ) {
			if ( $result instanceof RpcError ) {
				throw $result;
			}
		}
		$times = array();
		foreach ( $blocks as $i => $number ) {
			if ( ! is_array( $results[ $i ] ) ) {
				throw new RpcError( "block $number is gone (reorganised?); rescanning next poll" );
			}
			$times[ (string) $number ] = (string) self::int( $results[ $i ]['timestamp'] );
		}
		usort( $logs, static fn ( $a, $b ) => array( self::int( $a['blockNumber'] ), self::int( $a['logIndex'] ) ) <=> array( self::int( $b['blockNumber'] ), self::int( $b['logIndex'] ) ) );
		foreach ( $logs as $log ) {
			if ( ! empty( $log['removed'] ) ) {
				continue;
			}
			try {
				$transfer = TransferLog::decode( $network, $log );
			} catch ( DomainError $e ) {
				$outcomes[] = 'undecodable:' . $e->kind();
				continue;
			}
			// The filter was the node's; this check is ours: this token, to one of our addresses.
			if ( ! $transfer['token']->equals( $token['contract'] ) || ! in_array( $transfer['to']->hex(), $recipients, true ) ) {
				$outcomes[] = $transfer['tx_hash'] . ':ignored:not_ours';
				continue;
			}
			$transfer['block_time'] = $transfer['block_time'] ?? $times[ (string) $log['blockNumber'] ];
			$outcomes[]             = $transfer['tx_hash'] . ':' . Invoices::applyTransfer( $network->id(), $token_id, $transfer );
		}

		$rewind = null;
		foreach ( $pending as $i => $p ) {
			$receipt   = $results[ count( $blocks ) + $i ];
			$entry     = $p['entry'];
			$canonical = is_array( $receipt ) && '0x1' === ( $receipt['status'] ?? '' ) && strtolower( (string) $receipt['blockHash'] ) === strtolower( $entry['block_hash'] );
			Invoices::change(
				Invoices::find( $p['public_id'] ),
				static fn ( Invoice $invoice ): bool => $invoice->setEntryStatus( $entry['tx_hash'], $entry['log_index'], $canonical ? 'final' : 'removed' )
			);
			if ( ! $canonical ) {
				// Reorganised away: credit nothing, and rescan from its block so that the same
				// transfer, mined again elsewhere, is found and reinstated.
				$rewind     = min( $rewind ?? PHP_INT_MAX, (int) $entry['block_number'] - 1 );
				$outcomes[] = $entry['tx_hash'] . ':removed';
			} else {
				$outcomes[] = $entry['tx_hash'] . ':final';
			}
		}
		$receipts = array();
		foreach ( $deep as $i => $tx ) {
			$receipts[ $tx ] = $results[ count( $blocks ) + count( $pending ) + $i ];
		}
		if ( $receipts ) {
			foreach ( Invoices::watched( $network->id() ) as $w ) {
				$final = array();
				foreach ( $w['invoice']->ledger as $entry ) {
					$receipt = $receipts[ strtolower( TransferLog::rpcTxHash( $entry['tx_hash'] ) ) ] ?? null;
					// Only the canonical case is decided here; anything else stays seen and goes
					// through the pending path above on the next poll, the one place that removes.
					if ( 'seen' === $entry['status'] && is_array( $receipt ) && '0x1' === ( $receipt['status'] ?? '' ) && strtolower( (string) $receipt['blockHash'] ) === strtolower( $entry['block_hash'] ) ) {
						$final[]    = $entry;
						$outcomes[] = $entry['tx_hash'] . ':final';
					}
				}
				if ( $final ) {
					Invoices::change(
						$w['row'],
						static function ( Invoice $invoice ) use ( $final ): void {
							foreach ( $final as $entry ) {
								$invoice->setEntryStatus( $entry['tx_hash'], $entry['log_index'], 'final' );
							}
						}
					);
				}
			}
		}
		$cursor = null !== $rewind ? min( $to, $rewind ) : max( $cursor, $to );
		self::saveCursor( $network->id(), $token_id, $cursor );
		return $cursor;
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
		$oldest   = $wpdb->get_var( $wpdb->prepare( "SELECT MIN(created_at) FROM $invoices WHERE network = %s AND token = %s AND reserved_amount IS NOT NULL", $network->id(), $token_id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
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
	 * Calls eth_getLogs over [from, to], halving the range (and remembering it) when refused.
	 *
	 * @param mixed[] $topics Topic filter.
	 * @return array<int, array<string, mixed>>
	 */
	private static function getLogs( Network $network, Rpc $rpc, string $contract, array $topics, int $from, int $to ): array {
		$range = max( 1, (int) get_option( 'stablegate_range_' . $network->id(), 5000 ) );
		$out   = array();
		$start = $from;
		while ( $start <= $to ) {
			$end = min( $to, $start + $range - 1 );
			try {
				$logs = $rpc->call(
					'eth_getLogs',
					array(
						array(
							'fromBlock' => '0x' . dechex( $start ),
							'toBlock'   => '0x' . dechex( $end ),
							'address'   => $contract,
							'topics'    => $topics,
						),
					)
				);
				foreach ( (array) $logs as $log ) {
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
	 * The checks of a doctor, for the settings screen's "test connection" button: the RPC answers,
	 * on the right chain, and eth_getLogs works.
	 *
	 * @return array<int, array{check: string, ok: bool, detail: string}>
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
			$checks[] = array( 'check' => count( $checks ) ? 'eth_getLogs' : 'reachable', 'ok' => false, 'detail' => $e->getMessage() );
		}
		return $checks;
	}
}
