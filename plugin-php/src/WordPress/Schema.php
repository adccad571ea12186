<?php
/**
 * The plugin's tables, created and upgraded by versioned migrations.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * Versioned migrations. Each version's SQL is applied with dbDelta (idempotent) in order; the
 * applied version is kept in the option stablegate_db_version. The unique keys carry the money
 * rules of DESIGN §2 and §5:
 * - invoices (network, token, recipient_hex, reserved_amount): two watched invoices can never hold
 *   one amount on one address, under any concurrency (reserved_amount is NULL once an invoice is
 *   no longer watched, or once its reservation was reused by a newer invoice, and MySQL unique
 *   keys allow many NULLs);
 * - ledger (network, tx_hash, log_index): a transfer credits at most one invoice, once.
 * Every write of an invoice is a compare-and-swap on its version (InvoiceTable::write).
 */
final class Schema {

	public const VERSION = 5;
	public const OPTION  = 'stablegate_db_version';

	/** Returns a table name with the site's prefix. */
	public static function table( string $name ): string {
		global $wpdb;
		return $wpdb->prefix . 'stablegate_' . $name;
	}

	/**
	 * The CREATE TABLE statements of each version (dbDelta format: one column per line, two
	 * spaces after PRIMARY KEY, KEY not INDEX).
	 *
	 * @return array<int, string[]>
	 */
	public static function migrations(): array {
		global $wpdb;
		$charset  = $wpdb->get_charset_collate();
		$invoices = self::table( 'invoices' );
		$ledger   = self::table( 'ledger' );
		$cursors  = self::table( 'cursors' );
		$v1       = array(
			"CREATE TABLE $invoices (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  public_id varchar(40) NOT NULL,
  order_id bigint(20) unsigned DEFAULT NULL,
  fiat_amount varchar(40) NOT NULL,
  currency char(3) NOT NULL,
  rate varchar(40) NOT NULL,
  accepted text NOT NULL,
  network varchar(32) DEFAULT NULL,
  token varchar(32) DEFAULT NULL,
  recipient_hex char(42) DEFAULT NULL,
  reserved_amount varchar(40) DEFAULT NULL,
  record longtext DEFAULT NULL,
  state varchar(20) NOT NULL DEFAULT 'new',
  exception varchar(20) DEFAULT NULL,
  return_url text DEFAULT NULL,
  created_at bigint(20) unsigned NOT NULL,
  expires_at bigint(20) unsigned NOT NULL,
  monitor_until bigint(20) unsigned NOT NULL,
  updated_at bigint(20) unsigned NOT NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY public_id (public_id),
  UNIQUE KEY reserved_amount (network,token,recipient_hex,reserved_amount),
  KEY order_id (order_id),
  KEY state (state)
) $charset;",
			"CREATE TABLE $ledger (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  network varchar(32) NOT NULL,
  token varchar(32) NOT NULL,
  tx_hash varchar(66) NOT NULL,
  log_index bigint(20) unsigned NOT NULL,
  invoice_id bigint(20) unsigned DEFAULT NULL,
  from_address varchar(64) NOT NULL,
  to_hex char(42) NOT NULL,
  amount varchar(40) NOT NULL,
  block_number bigint(20) unsigned NOT NULL,
  block_time bigint(20) unsigned NOT NULL,
  outcome varchar(20) NOT NULL,
  created_at bigint(20) unsigned NOT NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY transfer (network,tx_hash,log_index),
  KEY invoice_id (invoice_id)
) $charset;",
			"CREATE TABLE $cursors (
  network varchar(32) NOT NULL,
  token varchar(32) NOT NULL,
  block bigint(20) unsigned NOT NULL,
  updated_at bigint(20) unsigned NOT NULL,
  PRIMARY KEY  (network,token)
) $charset;",
		);
		// Version 2: the review note an admin leaves when resolving a needs_review invoice.
		$v2    = $v1;
		$v2[0] = str_replace( "  return_url text DEFAULT NULL,\n", "  return_url text DEFAULT NULL,\n  review_note text DEFAULT NULL,\n", $v1[0] );
		// Version 3: the row's version, which every write compares and bumps, so that a writer
		// holding a stale record (the cron sweep, say) cannot overwrite another writer's credit.
		$v3    = $v2;
		$v3[0] = str_replace( "  updated_at bigint(20) unsigned NOT NULL,\n", "  updated_at bigint(20) unsigned NOT NULL,\n  version bigint(20) unsigned NOT NULL DEFAULT 0,\n", $v2[0] );
		// Version 4: released, 1 while an invoice whose reservation was reused by a newer one (it
		// expired unpaid and the band was full) is still watched without it (DESIGN §5, reserved
		// amounts); its record says released for good.
		$v4    = $v3;
		$v4[0] = str_replace( "  version bigint(20) unsigned NOT NULL DEFAULT 0,\n", "  version bigint(20) unsigned NOT NULL DEFAULT 0,\n  released tinyint(1) unsigned NOT NULL DEFAULT 0,\n", $v3[0] );
		// Version 5: provider_paid, what a hosted provider reported paid (base units of its 6-decimal
		// USDT) for an invoice it settled, so the status document counts it (core status::OpenChoice).
		$v5    = $v4;
		$v5[0] = str_replace( "  released tinyint(1) unsigned NOT NULL DEFAULT 0,\n", "  released tinyint(1) unsigned NOT NULL DEFAULT 0,\n  provider_paid varchar(80) DEFAULT NULL,\n", $v4[0] );
		return array(
			1 => $v1,
			2 => $v2,
			3 => $v3,
			4 => $v4,
			5 => $v5,
		);
	}

	/** Applies the migrations above the stored version; returns the version reached. */
	public static function migrate(): int {
		$current = (int) get_option( self::OPTION, 0 );
		if ( $current >= self::VERSION ) {
			return $current;
		}
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		foreach ( self::migrations() as $version => $statements ) {
			if ( $version > $current ) {
				dbDelta( $statements );
				update_option( self::OPTION, $version, true );
				$current = $version;
			}
		}
		return $current;
	}

	/** Drops the tables and the version (uninstall, when the merchant asked for it). */
	public static function drop(): void {
		global $wpdb;
		foreach ( array( 'invoices', 'ledger', 'cursors' ) as $name ) {
			$wpdb->query( 'DROP TABLE IF EXISTS ' . self::table( $name ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name from the prefix.
		}
		delete_option( self::OPTION );
	}
}
