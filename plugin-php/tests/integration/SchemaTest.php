<?php
/**
 * Tables and migrations in a real WordPress + MariaDB.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\Schema;

final class SchemaTest extends TestCase {

	public function testActivationCreatedTheTablesAtTheCurrentVersion(): void {
		global $wpdb;
		$this->assertTrue( is_plugin_active( 'stablegate/stablegate.php' ) );
		$this->assertSame( Schema::VERSION, (int) get_option( Schema::OPTION ) );
		foreach ( array( 'invoices', 'ledger', 'cursors' ) as $name ) {
			$this->assertSame( Schema::table( $name ), $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Schema::table( $name ) ) ) );
		}
	}

	public function testTheMoneyRulesAreUniqueKeys(): void {
		global $wpdb;
		$keys = static function ( string $table ) use ( $wpdb ): array {
			$out = array();
			foreach ( $wpdb->get_results( 'SHOW INDEX FROM ' . Schema::table( $table ), ARRAY_A ) as $row ) {
				if ( '0' === (string) $row['Non_unique'] ) {
					$out[ $row['Key_name'] ][] = $row['Column_name'];
				}
			}
			return $out;
		};
		$this->assertSame( array( 'network', 'token', 'recipient_hex', 'reserved_amount' ), $keys( 'invoices' )['reserved_amount'] );
		$this->assertSame( array( 'network', 'tx_hash', 'log_index' ), $keys( 'ledger' )['transfer'] );
		$this->assertSame( array( 'public_id' ), $keys( 'invoices' )['public_id'] );
	}

	public function testUpgradeFromVersionOneAddsTheReviewNoteAndIsIdempotent(): void {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		$wpdb->query( "ALTER TABLE $table DROP COLUMN review_note" );
		update_option( Schema::OPTION, 1 );
		$this->assertNull( $wpdb->get_var( "SHOW COLUMNS FROM $table LIKE 'review_note'" ) );
		$this->assertSame( Schema::VERSION, Schema::migrate() );
		$this->assertSame( 'review_note', $wpdb->get_var( "SHOW COLUMNS FROM $table LIKE 'review_note'" ) );
		$this->assertSame( Schema::VERSION, (int) get_option( Schema::OPTION ) );
		// Running the current version's SQL again changes nothing.
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$this->assertSame( array(), dbDelta( Schema::migrations()[ Schema::VERSION ], false ) );
	}

	public function testUpgradeFromVersionTwoVersionsEveryInvoiceRow(): void {
		global $wpdb;
		Helpers::reset();
		$row   = \Stablegate\WordPress\Invoices::create( array( 'fiat_amount' => '1.23', 'currency' => 'USD', 'choices' => array( array( 'network' => 'devnet', 'token' => 'usdt' ) ) ) );
		$table = Schema::table( 'invoices' );
		$wpdb->query( "ALTER TABLE $table DROP COLUMN version" );
		update_option( Schema::OPTION, 2 );
		$this->assertSame( Schema::VERSION, Schema::migrate() );
		$this->assertSame( '0', \Stablegate\WordPress\Invoices::find( $row['public_id'] )['version'], 'an existing invoice starts at version 0' );
		$this->assertSame( '0', $wpdb->get_row( "SHOW COLUMNS FROM $table LIKE 'version'", ARRAY_A )['Default'] );
	}

	public function testUpgradeFromVersionThreeAddsReleasedAndKeepsEveryInvoiceWatched(): void {
		global $wpdb;
		Helpers::reset();
		$row   = \Stablegate\WordPress\Invoices::create( array( 'fiat_amount' => '1.24', 'currency' => 'USD', 'choices' => array( array( 'network' => 'devnet', 'token' => 'usdt' ) ) ) );
		$table = Schema::table( 'invoices' );
		$wpdb->query( "ALTER TABLE $table DROP COLUMN released" );
		update_option( Schema::OPTION, 3 );
		$this->assertSame( Schema::VERSION, Schema::migrate() );
		$this->assertSame( '0', \Stablegate\WordPress\Invoices::find( $row['public_id'] )['released'], 'an existing invoice holds its own reservation' );
		$this->assertArrayHasKey( (int) $row['id'], \Stablegate\WordPress\Invoices::watched( 'devnet' ), 'and is still watched' );
	}

	public function testFreshInstallFromNothing(): void {
		global $wpdb;
		Schema::drop();
		$this->assertNull( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Schema::table( 'ledger' ) ) ) );
		$this->assertSame( Schema::VERSION, Schema::migrate() );
		$this->assertSame( Schema::table( 'ledger' ), $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Schema::table( 'ledger' ) ) ) );
	}

	public function testTheWatcherIsScheduledEveryMinute(): void {
		$this->assertNotFalse( wp_next_scheduled( 'stablegate_watch' ) );
		$this->assertSame( 'stablegate_every_minute', wp_get_schedule( 'stablegate_watch' ) );
		$this->assertSame( 60, wp_get_schedules()['stablegate_every_minute']['interval'] );
	}

	/** Runs the plugin's uninstall.php in its own process, as WordPress does when deleting it. */
	private function uninstall(): void {
		$code = sprintf(
			'require %s; require %s; define( "WP_UNINSTALL_PLUGIN", "stablegate/stablegate.php" ); include WP_PLUGIN_DIR . "/stablegate/uninstall.php";',
			var_export( dirname( __DIR__ ) . '/wp/cli-env.php', true ),
			var_export( ABSPATH . 'wp-load.php', true )
		);
		exec( 'php -r ' . escapeshellarg( $code ) . ' 2>&1', $out, $status );
		$this->assertSame( 0, $status, implode( "\n", $out ) );
		$this->assertSame( array(), $out, 'uninstall prints nothing' );
		wp_cache_flush();
	}

	public function testUninstallKeepsThePaymentRecordUnlessAskedToDelete(): void {
		global $wpdb;
		update_option( 'woocommerce_stablegate_settings', array( 'delete_on_uninstall' => 'no' ) );
		$this->uninstall();
		$this->assertSame( Schema::table( 'invoices' ), $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Schema::table( 'invoices' ) ) ), 'kept: it is the record of payments received' );
		$this->assertNotFalse( get_option( 'woocommerce_stablegate_settings' ) );

		update_option( 'woocommerce_stablegate_settings', array( 'delete_on_uninstall' => 'yes' ) );
		$this->uninstall();
		foreach ( array( 'invoices', 'ledger', 'cursors' ) as $name ) {
			$this->assertNull( $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Schema::table( $name ) ) ) );
		}
		$this->assertFalse( get_option( 'woocommerce_stablegate_settings' ) );
		$this->assertFalse( get_option( Schema::OPTION ) );
		$this->assertFalse( wp_next_scheduled( 'stablegate_watch' ) );

		// Back to an installed plugin for the other tests.
		Schema::migrate();
		\Stablegate\WordPress\Plugin::schedule();
	}
}
