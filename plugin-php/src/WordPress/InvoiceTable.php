<?php
/**
 * The invoices table: reads, and the one versioned write every writer goes through.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * Rows of wp_stablegate_invoices. Every UPDATE of an invoice goes through write(), which is a
 * compare-and-swap on the row's version: it writes only if nobody wrote the invoice since the row
 * was read, and bumps the version. A writer that lost the race reads the row again and re-applies
 * its change (Invoices::change), so that no writer (the cron sweep, the watcher run of a status
 * poll, a claim, a network choice, a review) can overwrite another's credit with a stale record.
 */
final class InvoiceTable {

	/** The MySQL error number of a unique key's refusal (a reserved amount already taken). */
	public const DUPLICATE_KEY = 1062;

	public function __construct( private \wpdb $db, private string $table ) {
	}

	/** Returns the table of this site. */
	public static function site(): self {
		global $wpdb;
		return new self( $wpdb, Schema::table( 'invoices' ) );
	}

	/**
	 * Returns the row of $public_id, or null.
	 *
	 * @return array<string, mixed>|null
	 */
	public function find( string $public_id ): ?array {
		$row = $this->db->get_row( $this->db->prepare( "SELECT * FROM {$this->table} WHERE public_id = %s", $public_id ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		return $row ?: null;
	}

	/**
	 * Writes $values to the invoice of $row if its version is still the one $row was read at,
	 * and bumps the version.
	 *
	 * @param array<string, mixed>                $row    The row as read (its id and version).
	 * @param array<string, string|int|null>      $values Columns to set (names from the code, never from input).
	 * @return bool False when another writer wrote the invoice first: read it again and re-apply.
	 * @throws \RuntimeException When the database refuses the write; code DUPLICATE_KEY when a
	 *                           unique key did (another watched invoice holds the amount).
	 */
	public function write( array $row, array $values ): bool {
		$sets = array();
		$args = array();
		foreach ( $values as $column => $value ) {
			if ( ! preg_match( '/^[a-z_]+\z/', $column ) || 'version' === $column || 'id' === $column ) {
				throw new \LogicException( "cannot write the column $column" );
			}
			if ( null === $value ) {
				$sets[] = "$column = NULL"; // prepare() would turn null into ''.
			} else {
				$sets[] = "$column = " . ( is_int( $value ) ? '%d' : '%s' );
				$args[] = $value;
			}
		}
		$args[]     = (int) $row['id'];
		$args[]     = (int) $row['version'];
		$suppressed = $this->db->suppress_errors( true );
		$done       = $this->db->query( $this->db->prepare( "UPDATE {$this->table} SET " . implode( ', ', $sets ) . ', version = version + 1 WHERE id = %d AND version = %d', $args ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.PreparedSQL.NotPrepared -- columns checked above, values prepared.
		$error      = $this->db->last_error;
		$this->db->suppress_errors( $suppressed );
		if ( false === $done ) {
			throw new \RuntimeException( "could not write invoice {$row['public_id']}: $error", str_contains( $error, 'Duplicate entry' ) ? self::DUPLICATE_KEY : 0 );
		}
		return 1 === (int) $done;
	}
}
