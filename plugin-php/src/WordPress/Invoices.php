<?php
/**
 * The invoice engine: creation, network choice with a unique amount, matching, claims, events.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\Amount;
use Stablegate\Domain\DomainError;
use Stablegate\Domain\Invoice;
use Stablegate\Domain\Matching;
use Stablegate\Domain\Network;
use Stablegate\Domain\StatusDocument;
use Stablegate\Domain\TransferLog;
use Stablegate\Domain\Uint;
use Stablegate\Domain\Watch;

/**
 * Invoices live in the plugin's own table; each row holds the core's invoice record (JSON) once a
 * network is chosen. Every state change is emitted once as the action stablegate_invoice_event
 * (event, row), which the WooCommerce glue maps to order states. Order data is never touched here.
 */
final class Invoices {

	/** How many times an allocation is retried when a concurrent checkout took the same amount. */
	private const ALLOCATION_ATTEMPTS = 20;

	/** How many times a change is re-applied when other writers keep writing the invoice first. */
	private const WRITE_ATTEMPTS = 20;

	/** Returns the current unix time (filterable, for tests). */
	public static function now(): int {
		return (int) apply_filters( 'stablegate_now', time() );
	}

	/** Returns a fresh unguessable public id: inv_ + 32 hex digits (128 random bits). */
	public static function newPublicId(): string {
		return 'inv_' . bin2hex( random_bytes( 16 ) );
	}

	/**
	 * Runs $work holding the MySQL named lock $name (per site), waiting up to $wait seconds.
	 *
	 * @throws ApiError 503 when the lock is busy.
	 */
	public static function withLock( string $name, int $wait, callable $work ): mixed {
		global $wpdb;
		$lock = substr( $wpdb->prefix . 'stablegate_' . $name, 0, 64 );
		if ( '1' !== (string) $wpdb->get_var( $wpdb->prepare( 'SELECT GET_LOCK(%s, %d)', $lock, $wait ) ) ) {
			throw new ApiError( 503, 'busy', 'another request is updating these invoices; retry in a moment' );
		}
		try {
			return $work();
		} finally {
			$wpdb->query( $wpdb->prepare( 'SELECT RELEASE_LOCK(%s)', $lock ) );
		}
	}

	/**
	 * Creates an invoice for $fiat_amount of the store currency.
	 *
	 * @param array{fiat_amount: string, currency: string, order_id?: int, return_url?: string, choices?: array} $args Terms.
	 * @return array<string, mixed> The row.
	 * @throws ApiError 422 for bad terms or no configured network; 503 when every amount is taken.
	 */
	public static function create( array $args ): array {
		global $wpdb;
		$fiat     = (string) ( $args['fiat_amount'] ?? '' );
		$currency = strtoupper( (string) ( $args['currency'] ?? '' ) );
		if ( ! preg_match( '/^[0-9]+(\.[0-9]+)?\z/', $fiat ) || preg_match( '/^0+(\.0+)?\z/', $fiat ) ) {
			throw new ApiError( 422, 'invalid_amount', sprintf( 'fiat_amount must be a decimal above zero like 19.99, got %s', wp_json_encode( $fiat ) ), 'fiat_amount' );
		}
		if ( ! preg_match( '/^[A-Z]{3}\z/', $currency ) ) {
			throw new ApiError( 422, 'invalid_currency', sprintf( 'currency must be a three-letter ISO 4217 code, got %s', wp_json_encode( $currency ) ), 'currency' );
		}
		$choices = $args['choices'] ?? Settings::acceptedChoices();
		if ( ! $choices ) {
			throw new ApiError( 422, 'no_network', 'no network is ready: set a receiving address and an RPC URL for at least one network' );
		}
		$rate = self::rate( $currency );
		foreach ( $choices as $choice ) {
			// Checks the conversion now, so a bad rate or amount fails before anything is written.
			self::baseUnits( $fiat, $rate, $choice['network'], $choice['token'] );
		}
		$now     = self::now();
		$expires = $now + 60 * (int) Settings::get( 'expiry_minutes' );
		$row     = array(
			'public_id'     => self::newPublicId(),
			'order_id'      => isset( $args['order_id'] ) ? (int) $args['order_id'] : null,
			'fiat_amount'   => $fiat,
			'currency'      => $currency,
			'rate'          => $rate,
			'accepted'      => wp_json_encode( array_values( $choices ) ),
			'state'         => 'new',
			'return_url'    => $args['return_url'] ?? null,
			'created_at'    => $now,
			'expires_at'    => $expires,
			'monitor_until' => $expires + 3600 * (int) Settings::get( 'monitoring_hours' ),
			'updated_at'    => $now,
		);
		if ( false === $wpdb->insert( Schema::table( 'invoices' ), $row ) ) {
			throw new \RuntimeException( 'could not store the invoice: ' . $wpdb->last_error );
		}
		$row = self::find( $row['public_id'] );
		do_action( 'stablegate_invoice_event', array( 'type' => 'invoice.created', 'invoice' => $row['public_id'], 'state' => 'new', 'exception' => null, 'at' => (string) $now ), $row );
		if ( 1 === count( $choices ) ) {
			$row = self::choose( $row, $choices[0]['network'], $choices[0]['token'] );
		}
		return $row;
	}

	/**
	 * Returns the rate (USDT per unit of $currency) locked on new invoices: the fixed rate, or the
	 * source's rate no older than its maximum age, through the stablegate_rate filter.
	 *
	 * @throws ApiError 503 rate_unavailable (source stale and failing), 422 invalid_rate.
	 */
	private static function rate( string $currency ): string {
		$rate = (string) apply_filters( 'stablegate_rate', Rates::current( $currency )['rate'], $currency );
		if ( ! preg_match( '/^[0-9]+(\.[0-9]+)?\z/', $rate ) || preg_match( '/^0*(\.0*)?\z/', $rate ) ) {
			throw new ApiError( 422, 'invalid_rate', sprintf( 'the configured rate %s for %s is not a decimal above zero', wp_json_encode( $rate ), $currency ) );
		}
		return $rate;
	}

	/** Converts the fiat amount to base units of (network, token), rounded up to the precision. */
	private static function baseUnits( string $fiat, string $rate, string $network, string $token ): string {
		try {
			$tok = Network::get( $network )->token( $token );
			return Amount::fiatToToken( $fiat, $rate, (string) Settings::get( 'precision' ), (int) $tok['decimals'] );
		} catch ( DomainError $e ) {
			throw new ApiError( 422, $e->kind(), $e->getMessage() );
		}
	}

	/**
	 * Returns the row of $public_id, or null.
	 *
	 * @return array<string, mixed>|null
	 */
	public static function find( string $public_id ): ?array {
		return InvoiceTable::site()->find( $public_id );
	}

	/**
	 * Returns the newest row of order $order_id, or null.
	 *
	 * @return array<string, mixed>|null
	 */
	public static function forOrder( int $order_id ): ?array {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		$row   = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM $table WHERE order_id = %d ORDER BY id DESC LIMIT 1", $order_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ?: null;
	}

	/** Returns the core record of a row (null before a network is chosen). */
	public static function record( array $row ): ?Invoice {
		return empty( $row['record'] ) ? null : Invoice::fromJson( json_decode( $row['record'], true, 64, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING ) );
	}

	/**
	 * The customer picks a network and token; the unique amount is allocated now.
	 *
	 * @param array<string, mixed> $row The row.
	 * @return array<string, mixed> The updated row.
	 * @throws ApiError 422 for a network that is not offered; 409 when already chosen or closed;
	 *                  503 when every amount of every receiving address is taken.
	 */
	public static function choose( array $row, string $network_id, ?string $token_id ): array {
		global $wpdb;
		$accepted = json_decode( (string) $row['accepted'], true );
		$wanted   = null;
		foreach ( $accepted as $choice ) {
			if ( $choice['network'] === $network_id && ( null === $token_id || $choice['token'] === $token_id ) ) {
				$wanted = $choice;
				break;
			}
		}
		if ( null === $wanted ) {
			throw new ApiError( 422, 'unknown_network', sprintf( '%s is not one of the networks offered for this invoice (%s)', wp_json_encode( $network_id . ( null === $token_id ? '' : ':' . $token_id ) ), implode( ', ', array_map( static fn ( $c ) => $c['network'] . ':' . $c['token'], $accepted ) ) ), 'network' );
		}
		if ( ! empty( $row['record'] ) ) {
			throw new ApiError( 409, 'network_already_chosen', 'a network was already chosen for this invoice' );
		}
		if ( 'invalid' === $row['state'] ) {
			throw new ApiError( 409, 'invoice_closed', 'this invoice was cancelled; start a new payment' );
		}
		$now = self::now();
		if ( $now >= (int) $row['expires_at'] ) {
			throw new ApiError( 409, 'invoice_closed', 'this invoice has expired; start a new payment' );
		}
		$network    = Network::get( $wanted['network'] );
		$token      = $network->token( $wanted['token'] );
		$base       = self::baseUnits( (string) $row['fiat_amount'], (string) $row['rate'], $wanted['network'], $wanted['token'] );
		$step       = Amount::fromDecimal( (string) Settings::get( 'step' ), (int) $token['decimals'] );
		$recipients = array();
		foreach ( Settings::addresses( $network->family() ) as $address_text ) {
			$recipient                            = $network->parseAddress( $address_text );
			$recipients[ $recipient->display() ] = $recipient;
		}
		// One allocation at a time per (network, token): the unique key keeps two invoices off one
		// amount, and this lock keeps them off each other's neighbouring amounts (the gap of
		// Amount::AMOUNT_GAP_STEPS, which no unique key can express) when prices differ.
		return self::withLock(
			'amounts_' . $network->id() . '_' . $token['id'],
			10,
			static function () use ( $row, $network, $token, $base, $step, $recipients ): array {
				$rows = InvoiceTable::site();
				for ( $attempt = 0; $attempt < self::ALLOCATION_ATTEMPTS; $attempt++ ) {
					$now  = self::now();
					$pool = self::pool( $network->id(), $token['id'], $recipients, $now );
					try {
						$slot = Amount::allocateInPool( $base, $step, (string) Settings::get( 'max_slots' ), $pool['pool'] );
					} catch ( DomainError $e ) {
						if ( 'amount_band_full' !== $e->kind() ) {
							throw new ApiError( 422, $e->kind(), $e->getMessage() );
						}
						throw new ApiError( 503, 'amount_band_full', 'every payment amount on this network is in use right now; please retry in a few minutes or pick another network' );
					}
					$recipient = $recipients[ $slot['recipient'] ];
					$invoice   = Invoice::create(
						$network,
						array(
							'id'         => $row['public_id'],
							'token'      => $token['id'],
							'recipient'  => $recipient->display(),
							'amount_due' => $slot['amount'],
							'tolerance'  => Amount::fromDecimal( (string) Settings::get( 'tolerance' ), (int) $token['decimals'] ),
							'created_at' => (string) $now,
							'expires_in' => (string) ( (int) $row['expires_at'] - $now ),
							'monitoring' => (string) ( (int) $row['monitor_until'] - (int) $row['expires_at'] ),
						)
					);
					$event   = $invoice->sync( (string) $now );
					$written = self::transaction(
						static function () use ( $rows, $row, $slot, $pool, $network, $token, $recipient, $invoice, $now ): bool {
							if ( null !== $slot['reuses'] ) {
								// The reservation of an invoice that expired unpaid is given to this one: that
								// invoice is still watched, released, so a later transfer of the amount that
								// either could own goes to review (DESIGN §5, reserved amounts).
								$old      = $pool['rows'][ $slot['reuses'] ];
								$released = self::record( $old );
								$released->released = true;
								if ( ! $rows->write( $old, self::derivedColumns( $old, $released, $now ) + array( 'updated_at' => $now ) ) ) {
									return false; // Paid or changed since it was read: allocate again.
								}
							}
							try {
								return $rows->write(
									$row,
									array(
										'network'         => $network->id(),
										'token'           => $token['id'],
										'recipient_hex'   => $recipient->hex(),
										'reserved_amount' => $slot['amount'],
										'record'          => wp_json_encode( $invoice->toJson() ),
										'created_at'      => $now,
										'updated_at'      => $now,
									)
								);
							} catch ( \RuntimeException $e ) {
								if ( InvoiceTable::DUPLICATE_KEY !== $e->getCode() ) {
									throw $e;
								}
								// The unique key (network, token, recipient_hex, reserved_amount) refused the
								// amount: a concurrent checkout reserved it first. Allocate again.
								return false;
							}
						}
					);
					if ( $written ) {
						$fresh = self::find( $row['public_id'] );
						if ( null !== $event ) {
							do_action( 'stablegate_invoice_event', $event, $fresh );
						}
						return $fresh;
					}
					// Another writer came first (a concurrent checkout, a second choice, the sweep): look again.
					$row = self::find( (string) $row['public_id'] );
					if ( ! empty( $row['record'] ) ) {
						throw new ApiError( 409, 'network_already_chosen', 'a network was already chosen for this invoice' );
					}
					if ( 'invalid' === $row['state'] ) {
						throw new ApiError( 409, 'invoice_closed', 'this invoice was cancelled; start a new payment' );
					}
					if ( 'new' !== $row['state'] ) {
						throw new ApiError( 409, 'invoice_closed', 'this invoice has expired; start a new payment' );
					}
				}
				throw new ApiError( 503, 'amount_band_full', 'every payment amount on this network is in use right now; please retry in a few minutes or pick another network' );
			}
		);
	}

	/**
	 * Returns the merchant's receiving addresses of (network, token) with the reservations held on
	 * each, in the core's shape for Amount::allocateInPool, and the rows of the invoices whose
	 * reservation may be reused. Only the records of invoices past their expiry are read.
	 *
	 * @param array<string, \Stablegate\Domain\Address> $recipients By display form, in the pool's order.
	 * @return array{pool: array<int, array>, rows: array<string, array>}
	 */
	private static function pool( string $network_id, string $token_id, array $recipients, int $now ): array {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		$rows  = $wpdb->get_results( $wpdb->prepare( "SELECT id, version, public_id, recipient_hex, reserved_amount, expires_at, IF(expires_at <= %d, record, NULL) AS record FROM $table WHERE network = %s AND token = %s AND reserved_amount IS NOT NULL", $now, $network_id, $token_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$by_hex = array();
		$stale  = array();
		foreach ( $rows as $row ) {
			$record = self::record( $row );
			// An invoice not expired yet is no candidate whatever its ledger: its record is not read.
			$reservation = null === $record ? array(
				'invoice'           => $row['public_id'],
				'amount'            => $row['reserved_amount'],
				'expired_unpaid_at' => null,
			) : $record->reservation( (string) $now );
			$by_hex[ $row['recipient_hex'] ][] = $reservation;
			if ( null !== $reservation['expired_unpaid_at'] ) {
				$stale[ $row['public_id'] ] = $row;
			}
		}
		$pool = array();
		foreach ( $recipients as $display => $address ) {
			$pool[] = array(
				'recipient' => $display,
				'reserved'  => $by_hex[ $address->hex() ] ?? array(),
			);
		}
		return array(
			'pool' => $pool,
			'rows' => $stale,
		);
	}

	/**
	 * Runs $work in a database transaction: committed when it returns true, rolled back when it
	 * returns false or throws.
	 */
	public static function transaction( callable $work ): bool {
		global $wpdb;
		$wpdb->query( 'START TRANSACTION' );
		try {
			$done = (bool) $work();
		} catch ( \Throwable $e ) {
			$wpdb->query( 'ROLLBACK' );
			throw $e;
		}
		$wpdb->query( $done ? 'COMMIT' : 'ROLLBACK' );
		return $done;
	}

	/**
	 * The SQL condition of a watched invoice: one holding its reserved amount, or one whose
	 * reservation was released to a newer invoice while its monitoring window is still open (a
	 * late payment of that amount may still be its own). Both columns are derived at each write
	 * (derivedColumns), so the condition needs no clock.
	 */
	public const WATCHED_SQL = '(reserved_amount IS NOT NULL OR released = 1)';

	/**
	 * Returns the watched invoices of $network (of $token only, when given), keyed by row id.
	 *
	 * @return array<int, array{row: array, invoice: Invoice}>
	 */
	public static function watched( string $network, ?string $token = null ): array {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		$sql   = null === $token
			? $wpdb->prepare( "SELECT * FROM $table WHERE network = %s AND record IS NOT NULL AND " . self::WATCHED_SQL . ' ORDER BY id', $network ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			: $wpdb->prepare( "SELECT * FROM $table WHERE network = %s AND token = %s AND record IS NOT NULL AND " . self::WATCHED_SQL . ' ORDER BY id', $network, $token ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$rows  = $wpdb->get_results( $sql, ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared -- prepared above.
		return self::withRecords( $rows );
	}

	/**
	 * Pairs each row with its core record, keyed by row id.
	 *
	 * @param array<int, array<string, mixed>> $rows Rows with a record.
	 * @return array<int, array{row: array, invoice: Invoice}>
	 */
	private static function withRecords( array $rows ): array {
		$out = array();
		foreach ( $rows as $row ) {
			$out[ (int) $row['id'] ] = array(
				'row'     => $row,
				'invoice' => self::record( $row ),
			);
		}
		return $out;
	}

	/**
	 * Returns the networks with watched invoices.
	 *
	 * @return string[]
	 */
	public static function watchedNetworks(): array {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		return $wpdb->get_col( "SELECT DISTINCT network FROM $table WHERE network IS NOT NULL AND " . self::WATCHED_SQL ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Returns the distinct receiving addresses (0x hex) of watched invoices on $network.
	 *
	 * @return string[]
	 */
	public static function watchedRecipients( string $network, string $token ): array {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		return $wpdb->get_col( $wpdb->prepare( "SELECT DISTINCT recipient_hex FROM $table WHERE network = %s AND token = %s AND " . self::WATCHED_SQL, $network, $token ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
	}

	/**
	 * Applies $change to the invoice's record and stores it with its derived columns (state,
	 * exception, reserved amount) at the current time, then emits its event, if any. The write
	 * is a compare-and-swap on the row's version: when another writer stored the invoice since
	 * $row was read, the row is read again and $change applied again to the fresh record, so no
	 * writer overwrites another's credit. Nothing is written when nothing changed.
	 *
	 * @param array<string, mixed>    $row    The row as read, with a record (the first attempt uses it).
	 * @param callable(Invoice): mixed $change Changes the record in place (called once per attempt; its result is ignored).
	 * @return array<string, mixed> The row as stored.
	 * @throws \RuntimeException When the invoice keeps being written by others, or the database fails.
	 */
	public static function change( array $row, callable $change ): array {
		$rows = InvoiceTable::site();
		for ( $attempt = 0; $attempt < self::WRITE_ATTEMPTS; $attempt++ ) {
			$invoice = self::record( $row );
			if ( null === $invoice ) {
				throw new \LogicException( "invoice {$row['public_id']} has no record to change" );
			}
			$change( $invoice );
			$now    = self::now();
			$event  = $invoice->sync( (string) $now );
			$values = self::derivedColumns( $row, $invoice, $now );
			if ( null === $event && ! self::differs( $row, $values ) ) {
				return $row; // The sweep's common case: nothing changed since the last write.
			}
			if ( $rows->write( $row, $values + array( 'updated_at' => $now ) ) ) {
				$fresh = $rows->find( (string) $row['public_id'] );
				if ( null !== $event ) {
					do_action( 'stablegate_invoice_event', $event, $fresh );
				}
				return $fresh;
			}
			$row = $rows->find( (string) $row['public_id'] );
		}
		throw new \RuntimeException( "invoice {$row['public_id']} was written by others " . self::WRITE_ATTEMPTS . ' times in a row; retry later' );
	}

	/**
	 * Whether $values differ from the row's columns.
	 *
	 * @param array<string, mixed>       $row    The row.
	 * @param array<string, string|null> $values Columns.
	 */
	private static function differs( array $row, array $values ): bool {
		foreach ( $values as $column => $value ) {
			if ( ( $row[ $column ] ?? null ) !== $value ) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The columns stored from a record at $now (the record itself included).
	 *
	 * @param array<string, mixed> $row The row the record was read from.
	 * @return array<string, string|null>
	 */
	private static function derivedColumns( array $row, Invoice $invoice, int $now ): array {
		$status = $invoice->status( (string) $now );
		$seen   = (bool) array_filter( $invoice->ledger, static fn ( array $e ): bool => 'seen' === $e['status'] );
		return array(
			'record'          => wp_json_encode( $invoice->toJson() ),
			'state'           => $status['state'],
			'exception'       => $status['exception'],
			// Watched until its window ends, and past it while a payment still waits for finality
			// (the watcher finishes only watched invoices); an amount once released (to the sweep,
			// or to a newer invoice) is not taken back.
			'reserved_amount' => ! $invoice->released && ( $invoice->isWatched( (string) $now ) || ( $seen && null !== $row['reserved_amount'] ) ) ? $invoice->amount_due : null,
			// Released to a newer invoice: watched without its reservation until its window ends.
			'released'        => $invoice->released && $invoice->isWatched( (string) $now ) ? '1' : '0',
		);
	}

	/**
	 * Writes a transfer's ledger row. The unique key (network, tx_hash, log_index) keeps one row
	 * per transfer: a row kept without an invoice (unmatched, ambiguous) is attached to the
	 * invoice that credits it later; a row that credited an invoice is never moved to another.
	 *
	 * @param array<string, mixed> $transfer The transfer.
	 * @return bool False when the database refused the row.
	 */
	private static function insertLedger( string $network_id, string $token_id, array $transfer, ?int $invoice_id, string $outcome ): bool {
		global $wpdb;
		$ledger = Schema::table( 'ledger' );
		$wpdb->suppress_errors( true );
		$done = $wpdb->query(
			$wpdb->prepare(
				"INSERT INTO $ledger (network, token, tx_hash, log_index, invoice_id, from_address, to_hex, amount, block_number, block_time, outcome, created_at) VALUES (%s, %s, %s, %s, " . ( null === $invoice_id ? 'NULL' : (string) $invoice_id ) . ", %s, %s, %s, %s, %s, %s, %d) ON DUPLICATE KEY UPDATE outcome = IF(invoice_id IS NULL AND VALUES(invoice_id) IS NOT NULL, VALUES(outcome), outcome), invoice_id = IFNULL(invoice_id, VALUES(invoice_id))", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				$network_id,
				$token_id,
				$transfer['tx_hash'],
				$transfer['log_index'],
				$transfer['from']->display(),
				$transfer['to']->hex(),
				$transfer['amount'],
				$transfer['block_number'],
				$transfer['block_time'],
				$outcome,
				self::now()
			)
		);
		$wpdb->suppress_errors( false );
		return false !== $done;
	}

	/**
	 * Returns the ledger rows of the transfers $keys ({tx_hash, log_index}) of $network_id, keyed
	 * "tx_hash:log_index": what the watcher already stored of the logs it found again.
	 *
	 * @param array<int, array{tx_hash: string, log_index: string}> $keys The transfers.
	 * @return array<string, array{tx_hash: string, log_index: string, invoice_id: ?string}>
	 */
	public static function ledgerRows( string $network_id, array $keys ): array {
		global $wpdb;
		if ( ! $keys ) {
			return array();
		}
		$ledger = Schema::table( 'ledger' );
		$hashes = array_values( array_unique( array_column( $keys, 'tx_hash' ) ) );
		$rows   = $wpdb->get_results( $wpdb->prepare( "SELECT tx_hash, log_index, invoice_id FROM $ledger WHERE network = %s AND tx_hash IN (" . implode( ', ', array_fill( 0, count( $hashes ), '%s' ) ) . ')', array_merge( array( $network_id ), $hashes ) ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQL.NotPrepared -- placeholders only.
		$out    = array();
		foreach ( $rows as $row ) {
			$out[ $row['tx_hash'] . ':' . $row['log_index'] ] = $row;
		}
		return $out;
	}

	/**
	 * Returns the rows (with records) of the invoices of $ids (row ids), keyed by row id.
	 *
	 * @param int[] $ids Row ids.
	 * @return array<int, array{row: array, invoice: Invoice}>
	 */
	public static function byIds( array $ids ): array {
		global $wpdb;
		if ( ! $ids ) {
			return array();
		}
		$table = Schema::table( 'invoices' );
		$rows  = $wpdb->get_results( "SELECT * FROM $table WHERE record IS NOT NULL AND id IN (" . implode( ', ', array_map( 'intval', $ids ) ) . ')', ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQL.NotPrepared -- integers only.
		return self::withRecords( $rows );
	}

	/**
	 * Stores the outcome of one watcher poll of (network, token) (Watch::applyPoll) in one
	 * transaction: every changed invoice record, versioned against the row it was read from; every
	 * ledger write; and the cursor, through $save_cursor. The events are announced after the
	 * commit. Nothing here decides: the core's outcome is written as it is.
	 *
	 * @param array<string, array>  $rows        The rows the poll's invoices were read from, by public id.
	 * @param array<string, mixed>  $outcome     As Watch::applyPoll returns it.
	 * @param callable(): void      $save_cursor Saves the outcome's cursor (inside the transaction).
	 * @return bool False when another writer (a claim, a review, the sweep) wrote one of the
	 *              invoices since it was read: nothing was stored, and the poll is applied again
	 *              from the same cursor (the core's apply is idempotent).
	 * @throws \RuntimeException When the database refuses a write.
	 */
	public static function commitPoll( string $network_id, string $token_id, array $rows, array $outcome, string $now, callable $save_cursor ): bool {
		global $wpdb;
		$table  = InvoiceTable::site();
		$ledger = Schema::table( 'ledger' );
		$stored = self::transaction(
			static function () use ( $network_id, $token_id, $rows, $outcome, $now, $save_cursor, $table, $ledger, $wpdb ): bool {
				foreach ( $outcome['invoices'] as $invoice ) {
					$row = $rows[ $invoice->id ];
					if ( ! $table->write( $row, self::derivedColumns( $row, $invoice, (int) $now ) + array( 'updated_at' => (int) $now ) ) ) {
						return false;
					}
				}
				foreach ( $outcome['ledger'] as $write ) {
					$transfer = $write['transfer'];
					if ( 'update' === $write['op'] ) {
						// A transfer mined again in another block follows it; its status is the record's.
						$wpdb->query( $wpdb->prepare( "UPDATE $ledger SET block_number = %s, block_time = %s WHERE network = %s AND tx_hash = %s AND log_index = %s", $transfer['block_number'], $transfer['block_time'], $network_id, $transfer['tx_hash'], $transfer['log_index'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
						continue;
					}
					$invoice_id = null === $write['invoice'] ? null : (int) $rows[ $write['invoice'] ]['id'];
					if ( ! self::insertLedger( $network_id, $token_id, $transfer, $invoice_id, self::ledgerOutcome( $write['note'] ) ) ) {
						throw new \RuntimeException( 'could not write the ledger row of ' . $transfer['tx_hash'] . ': ' . $wpdb->last_error );
					}
					$holder = $wpdb->get_var( $wpdb->prepare( "SELECT invoice_id FROM $ledger WHERE network = %s AND tx_hash = %s AND log_index = %s", $network_id, $transfer['tx_hash'], $transfer['log_index'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
					if ( null !== $invoice_id && (int) $holder !== $invoice_id ) {
						// The unique key kept the transfer with another invoice: the poll read the ledger
						// before that credit; it runs again and sees it.
						return false;
					}
				}
				$save_cursor();
				return true;
			}
		);
		if ( $stored ) {
			foreach ( $outcome['events'] as $event ) {
				do_action( 'stablegate_invoice_event', $event, self::find( (string) $event['invoice'] ) );
			}
		}
		return $stored;
	}

	/**
	 * The ledger table's outcome column (20 characters) for a ledger write's note: credited, or
	 * why it credited nothing, in the words of the merchant's Unmatched payments list.
	 */
	public static function ledgerOutcome( ?string $note ): string {
		if ( null === $note ) {
			return 'credited';
		}
		$kind = trim( explode( ':', $note, 2 )[0] );
		if ( 'ignored' !== $kind ) {
			return $kind; // unmatched, ambiguous.
		}
		$reason = trim( explode( ':', $note, 2 )[1] ?? '' );
		return substr(
			array(
				'wrong_recipient'         => 'no_open_invoice',
				'transfer_after_window'   => 'after_window',
				'transfer_before_invoice' => 'before_invoice',
			)[ $reason ] ?? $reason,
			0,
			20
		);
	}

	/**
	 * Credits a transfer the customer claims by transaction hash (or the merchant attaches), after
	 * the server fetched and checked it itself (DESIGN §2 and §5). A transfer already final is
	 * credited as final, so that an invoice no longer watched (a claim after its monitoring
	 * window) is still finished; one that is not final yet is refused for such an invoice.
	 *
	 * @param array<string, mixed> $row       The row.
	 * @param string|null          $log_index Only this log of the transaction (the merchant's
	 *                                        choice in a batch payout); null: the first that fits.
	 * @return array<string, mixed> The updated row.
	 * @throws ApiError 409/422 with the reason.
	 */
	public static function claim( array $row, string $tx_text, Rpc $rpc, ?string $log_index = null ): array {
		$invoice = self::record( $row );
		if ( null === $invoice ) {
			throw new ApiError( 409, 'network_not_chosen', 'choose a network before claiming a payment' );
		}
		$network = Network::get( $invoice->network );
		try {
			$tx_hash = TransferLog::normalizeTxHash( $network, $tx_text );
		} catch ( DomainError $e ) {
			throw new ApiError( 422, 'invalid_tx_hash', 'tx_hash must be a transaction hash: 64 hex digits, with or without 0x', 'tx_hash' );
		}
		$receipt = $rpc->call( 'eth_getTransactionReceipt', array( TransferLog::rpcTxHash( $tx_hash ) ) );
		if ( ! is_array( $receipt ) ) {
			throw new ApiError( 422, 'transaction_not_found', "no such transaction on {$network->id()} (yet); retry once it is mined", 'tx_hash' );
		}
		if ( '0x1' !== ( $receipt['status'] ?? '' ) ) {
			throw new ApiError( 422, 'transaction_failed', 'the transaction failed on chain; it moved nothing', 'tx_hash' );
		}
		// The block, the head and the finality tag in one request: a claimed transfer that is
		// already final is credited as final (the watcher only finishes watched invoices).
		$calls = array( array( 'eth_getBlockByNumber', array( $receipt['blockNumber'], false ) ), array( 'eth_blockNumber', array() ) );
		if ( null !== $network->finalityTag() ) {
			$calls[] = array( 'eth_getBlockByNumber', array( $network->finalityTag(), false ) );
		}
		$got = $rpc->batch( $calls );
		foreach ( $got as $result ) {
			if ( $result instanceof RpcError ) {
				throw $result;
			}
		}
		$block  = $got[0];
		$time   = Uint::fromHex( substr( (string) ( $block['timestamp'] ?? '0x0' ), 2 ) );
		$tagged = is_array( $got[2] ?? null ) ? Uint::fromHex( substr( (string) $got[2]['number'], 2 ) ) : null;
		$final  = is_array( $block ) && strtolower( (string) ( $block['hash'] ?? '' ) ) === strtolower( (string) ( $receipt['blockHash'] ?? '' ) )
			&& Watch::isFinal( $network, Uint::fromHex( substr( (string) $receipt['blockNumber'], 2 ) ), Uint::fromHex( substr( (string) $got[1], 2 ) ), $tagged, (string) Settings::minConfirmations( $network->id() ) );
		return self::withLock(
			'chain_' . $network->id(),
			10,
			static function () use ( $row, $network, $receipt, $time, $final, $log_index ): array {
				$watched = self::watched( $network->id() );
				$target  = self::record( self::find( (string) $row['public_id'] ) );
				$others  = array();
				foreach ( $watched as $w ) {
					if ( $w['row']['public_id'] !== $row['public_id'] ) {
						$others[] = $w['invoice'];
					}
				}
				$last_error = null;
				foreach ( (array) ( $receipt['logs'] ?? array() ) as $log ) {
					try {
						$transfer = TransferLog::decode( $network, array( 'removed' => false ) + $log );
					} catch ( DomainError $e ) {
						continue; // Not a Transfer log (approval, other events).
					}
					if ( null !== $log_index && $transfer['log_index'] !== $log_index ) {
						continue;
					}
					$transfer['block_time'] = $time;
					try {
						$verdict = Matching::claimTransfer( $network, $others, $target, $transfer, Settings::claimPolicy( (int) $network->token( $target->token )['decimals'] ) );
					} catch ( DomainError $e ) {
						$last_error = $e;
						continue;
					}
					if ( ! $final && ! $target->isWatched( (string) self::now() ) ) {
						// Nobody would ever bring it to finality: refuse until it is final.
						throw new ApiError( 409, 'not_final_yet', 'this transfer is not final yet; try again in a few minutes', 'tx_hash' );
					}
					try {
						self::recordClaim( $network->id(), $target, $transfer );
					} catch ( ApiError $e ) {
						// This log credited another invoice; another log of the transaction may not have.
						$last_error = new DomainError( 'already_credited', $transfer['tx_hash'], 'this transfer already credited another invoice' );
						continue;
					}
					return self::change(
						self::find( (string) $row['public_id'] ),
						static function ( Invoice $invoice ) use ( $transfer, $verdict, $final ): void {
							$invoice->credit( $transfer, 'claim', $verdict['review'] );
							if ( $final ) {
								$invoice->setEntryStatus( $transfer['tx_hash'], $transfer['log_index'], 'final' );
							}
						}
					);
				}
				if ( null !== $last_error ) {
					throw new ApiError( self::claimStatus( $last_error->kind() ), $last_error->kind(), $last_error->getMessage(), 'tx_hash' );
				}
				throw new ApiError( 422, 'not_a_transfer', 'this transaction holds no token transfer', 'tx_hash' );
			}
		);
	}

	/**
	 * Resolves the merchant's review of a needs_review invoice with their note (Invoice::
	 * resolveReview): accepting takes its payments as the invoice's; rejecting takes the
	 * transfers under review out of its ledger and puts them back on the unmatched list, where
	 * they can be claimed or attached again. The resolution is announced as the invoice's next
	 * event, with the note (the order gets it as a note, and its status from the resulting
	 * state); the note is also kept on the invoice.
	 *
	 * @param array<string, mixed> $row The row.
	 * @return array<string, mixed> The updated row.
	 * @throws ApiError 422 without a note, or for an invoice that is not in review.
	 */
	public static function resolveReview( array $row, bool $accept, string $note ): array {
		$note = trim( sanitize_textarea_field( $note ) );
		if ( '' === $note || mb_strlen( $note ) > 1000 ) {
			throw new ApiError( 422, 'invalid_note', 'say in a note (up to 1,000 characters) why, for example "the customer showed the exchange withdrawal"', 'note' );
		}
		if ( null === $row['network'] ) {
			throw new ApiError( 422, 'not_in_review', sprintf( 'invoice %s is not waiting for a review (it is %s)', $row['public_id'], $row['state'] ) );
		}
		// Under the network's lock, as the watcher and claims: a rejected transfer goes back to the
		// unmatched list before a poll can look for it.
		return self::withLock(
			'chain_' . $row['network'],
			10,
			static function () use ( $row, $accept, $note ): array {
				global $wpdb;
				$returned = array();
				try {
					$row = self::change(
						self::find( (string) $row['public_id'] ),
						static function ( Invoice $invoice ) use ( $accept, $note, &$returned ): void {
							$returned = $invoice->resolveReview( $accept, $note, (string) self::now() );
						}
					);
				} catch ( DomainError $e ) {
					$fresh = self::find( (string) $row['public_id'] );
					throw new ApiError( 422, $e->kind(), sprintf( 'invoice %s is not waiting for a review (it is %s)', $fresh['public_id'], $fresh['state'] . ( $fresh['exception'] ? ' (' . $fresh['exception'] . ')' : '' ) ) );
				}
				$ledger = Schema::table( 'ledger' );
				foreach ( $returned as $entry ) {
					$wpdb->query( $wpdb->prepare( "UPDATE $ledger SET invoice_id = NULL, outcome = 'rejected' WHERE network = %s AND tx_hash = %s AND log_index = %s AND invoice_id = %d", $row['network'], $entry['tx_hash'], $entry['log_index'], $row['id'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
				}
				for ( $attempt = 0; $attempt < self::WRITE_ATTEMPTS; $attempt++ ) {
					if ( InvoiceTable::site()->write( $row, array( 'review_note' => $note ) ) ) {
						break;
					}
					$row = self::find( (string) $row['public_id'] );
				}
				return self::find( (string) $row['public_id'] );
			}
		);
	}

	/**
	 * Cancels an open invoice with nothing paid (Invoice::cancel), under the network's lock like
	 * every other writer of the ledger. Its amount stays reserved through the monitoring window, so
	 * a payment that still arrives is recorded on it and waits for the merchant's review; it never
	 * completes anything by itself. The cancellation is announced as the invoice's next event.
	 *
	 * @param array<string, mixed> $row The row.
	 * @return array<string, mixed> The updated row.
	 * @throws ApiError 409 invoice_not_cancellable when it is paid (even in part), expired or cancelled.
	 */
	public static function cancel( array $row ): array {
		$cancel = static function () use ( $row ): array {
			try {
				return self::change(
					self::find( (string) $row['public_id'] ),
					static function ( Invoice $invoice ): void {
						$invoice->cancel( (string) self::now() );
					}
				);
			} catch ( DomainError $e ) {
				$fresh = self::find( (string) $row['public_id'] );
				throw new ApiError( 409, $e->kind(), sprintf( 'invoice %s cannot be cancelled: it is %s', $fresh['public_id'], $fresh['state'] . ( $fresh['exception'] ? ' (' . $fresh['exception'] . ')' : '' ) ) );
			}
		};
		if ( null !== $row['network'] ) {
			return self::withLock( 'chain_' . $row['network'], 10, $cancel );
		}
		// No network chosen yet: no record, no amount reserved. The row is closed (a later choice
		// is refused), by a versioned write that a concurrent choice cannot cross.
		$rows = InvoiceTable::site();
		for ( $attempt = 0; $attempt < self::WRITE_ATTEMPTS; $attempt++ ) {
			if ( ! empty( $row['record'] ) ) {
				return self::cancel( $row ); // A choice came first: cancel its record.
			}
			if ( 'new' !== $row['state'] || self::now() >= (int) $row['expires_at'] ) {
				throw new ApiError( 409, 'invoice_not_cancellable', sprintf( 'invoice %s cannot be cancelled: it is %s', $row['public_id'], self::now() >= (int) $row['expires_at'] ? 'expired' : $row['state'] ) );
			}
			if ( $rows->write( $row, array( 'state' => 'invalid', 'updated_at' => self::now() ) ) ) {
				Providers::close( (string) $row['public_id'] ); // Its provider orders, if any (issue 16).
				return self::find( (string) $row['public_id'] );
			}
			$row = self::find( (string) $row['public_id'] );
		}
		throw new \RuntimeException( "invoice {$row['public_id']} was written by others " . self::WRITE_ATTEMPTS . ' times in a row; retry later' );
	}

	private static function claimStatus( string $kind ): int {
		return 'already_credited' === $kind ? 409 : 422;
	}

	/**
	 * Writes the ledger row of a claimed transfer; the unique key refuses one that credited
	 * another invoice already (a row kept as unmatched is attached instead).
	 *
	 * @param array<string, mixed> $transfer The transfer.
	 * @throws ApiError 409 already_credited.
	 */
	private static function recordClaim( string $network_id, Invoice $target, array $transfer ): void {
		global $wpdb;
		$ledger = Schema::table( 'ledger' );
		$row    = self::find( $target->id );
		$inserted = self::insertLedger( $network_id, $target->token, $transfer, (int) $row['id'], 'claimed' );
		$owner = $wpdb->get_var( $wpdb->prepare( "SELECT invoice_id FROM $ledger WHERE network = %s AND tx_hash = %s AND log_index = %s", $network_id, $transfer['tx_hash'], $transfer['log_index'] ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		if ( false === $inserted || (int) $owner !== (int) $row['id'] ) {
			throw new ApiError( 409, 'already_credited', 'this transfer already credited another invoice' );
		}
	}

	/**
	 * Re-derives every watched invoice's state at the current time (expiry, end of monitoring),
	 * emitting events and releasing the amounts of invoices no longer watched. Each network's
	 * invoices are read and written under the network's lock, the one the watcher and claims
	 * hold, so that an expiry is never decided between a poll's match and its credit; and every
	 * write is versioned (change()), so that a record read before another writer's credit is read
	 * again, never written back over it.
	 *
	 * @return int Invoices swept.
	 */
	public static function sweep(): int {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		$n     = 0;
		foreach ( self::watchedNetworks() as $network ) {
			try {
				$n += self::withLock(
					'chain_' . $network,
					10,
					static function () use ( $network ): int {
						$watched = self::watched( (string) $network );
						foreach ( $watched as $w ) {
							self::change( $w['row'], static fn () => null );
						}
						return count( $watched );
					}
				);
			} catch ( ApiError $busy ) {
				continue; // A poll held the network too long: the next minute's sweep does it.
			}
		}
		// Invoices whose customer never chose a network have no record: they only expire.
		$rows = InvoiceTable::site();
		foreach ( $wpdb->get_results( "SELECT * FROM $table WHERE record IS NULL AND state = 'new'", ARRAY_A ) as $row ) { // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
			$now = self::now();
			// A lost race means a choice (or another sweep) came first: nothing to expire.
			if ( $now >= (int) $row['expires_at'] && $rows->write( $row, array( 'state' => 'expired', 'updated_at' => $now ) ) ) {
				do_action( 'stablegate_invoice_event', array( 'type' => 'invoice.expired', 'invoice' => $row['public_id'], 'state' => 'expired', 'exception' => null, 'at' => (string) $now ), self::find( $row['public_id'] ) );
				++$n;
			}
		}
		return $n;
	}

	/**
	 * The order's total as the shop priced it, for the customer to see why the amount to pay
	 * differs from it (the unique cents).
	 *
	 * @param array<string, mixed> $row The row.
	 * @return ?array{amount: string, currency: string} Null when the row's total is not a decimal.
	 */
	private static function orderTotal( array $row ): ?array {
		try {
			// Canonical, as the status contract wants it ("20.00" is stored; "20" is sent).
			$amount = Amount::toDecimal( Amount::fromDecimal( (string) $row['fiat_amount'], 18 ), 18 );
		} catch ( \Stablegate\Domain\DomainError $e ) {
			return null;
		}
		return array(
			'amount'   => $amount,
			'currency' => (string) $row['currency'],
		);
	}

	/**
	 * Builds the status document of a row (DESIGN §8).
	 *
	 * @param array<string, mixed>     $row   The row.
	 * @param array<string, ?string>   $links The host's endpoints.
	 * @return array<string, mixed>
	 */
	public static function statusDocument( array $row, array $links, ?int $head ): array {
		$now     = self::now();
		$invoice = self::record( $row );
		$poll_ms = 1000 * max( 3, min( 10, (int) Settings::get( 'poll_seconds' ) ) );
		if ( null !== $invoice ) {
			return StatusDocument::forInvoice(
				$invoice,
				array(
					'now'               => (string) $now,
					'head'              => $head,
					'return_url'        => $row['return_url'],
					'poll_after_ms'     => $poll_ms,
					'links'             => array( 'choose' => null ) + $links,
					'min_confirmations' => Settings::minConfirmations( $invoice->network ),
					'order_total'       => self::orderTotal( $row ),
				)
			);
		}
		// Before the customer picks a network there is no record yet: the document lists the
		// choices with what each would cost (the unique amount is allocated on choice).
		$accepted = json_decode( (string) $row['accepted'], true );
		$first    = $accepted[0];
		$decimals = (int) Network::get( $first['network'] )->token( $first['token'] )['decimals'];
		return StatusDocument::beforeChoice(
			array(
				'invoice'     => $row['public_id'],
				'state'       => $row['state'],
				'base_amount' => Amount::toDecimal( self::baseUnits( (string) $row['fiat_amount'], (string) $row['rate'], $first['network'], $first['token'] ), $decimals ),
				'expires_at'  => (string) $row['expires_at'],
				'accepted'    => $accepted,
			) + ( empty( $row['provider_paid'] ) ? array() : array( 'provider_paid' => (string) $row['provider_paid'] ) ),
			array(
				'now'           => (string) $now,
				'return_url'    => $row['return_url'],
				'poll_after_ms' => $poll_ms,
				'links'         => $links,
				'order_total'   => self::orderTotal( $row ),
			)
		);
	}
}
