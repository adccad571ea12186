<?php
/**
 * No writer of an invoice record loses another writer's credit (issue 11, defect 2).
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Schema;
use Stablegate\WordPress\Watcher;

/**
 * The cron sweep re-derives every watched invoice (expiry, end of monitoring). A credit that lands
 * between the sweep's read of a record and its write (a watcher run started by a status poll, a
 * claim) must survive: the ledger table, the record and the order must agree. The interleaving is
 * made deterministic by the clock: the sweep reads it once it holds the records, and the test's
 * stablegate_now filter runs the other writer at that moment.
 */
final class InvoiceWritesTest extends TestCase {

	/** @var array<int, array> Events emitted (stablegate_invoice_event). */
	private array $events = array();

	protected function setUp(): void {
		Helpers::reset( array( 'networks' => array( 'devnet:usdt' ) ) );
		Helpers::captureEvents( $this->events );
	}

	protected function tearDown(): void {
		remove_all_filters( 'stablegate_now' );
		Helpers::restoreOrderFlow();
	}

	/** Runs $writer once, the first time the sweep reads the clock (after it read the records). */
	private function sweepWith( callable $writer ): void {
		$done = false;
		add_filter(
			'stablegate_now',
			static function ( $now ) use ( &$done, $writer ) {
				if ( ! $done ) {
					$done = true;
					$writer();
				}
				return $now;
			}
		);
		Invoices::sweep();
		remove_all_filters( 'stablegate_now' );
		$this->assertTrue( $done, 'the sweep read the clock' );
	}

	/** The ledger table's invoice for a transaction (null: not credited). */
	private function creditedTo( string $tx ): ?string {
		global $wpdb;
		return $wpdb->get_var( $wpdb->prepare( 'SELECT invoice_id FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $tx ) );
	}

	/** Checks that the record holds $tx, as the ledger table says, and that expiry keeps it. */
	private function assertCreditKept( array $row, string $tx ): void {
		$this->assertSame( (string) $row['id'], $this->creditedTo( $tx ), 'the ledger table credited the invoice' );
		$fresh = Invoices::find( $row['public_id'] );
		$this->assertSame( array( $tx ), array_column( Invoices::record( $fresh )->ledger, 'tx_hash' ), 'the record holds the credit the ledger table gives it' );
		$this->assertSame( 'processing', $fresh['state'] );

		// The customer paid in time: past the invoice's expiry it is not expired, so the order is
		// not cancelled.
		$later = (int) $row['expires_at'] + 60;
		add_filter( 'stablegate_now', static fn () => $later );
		Invoices::sweep();
		remove_all_filters( 'stablegate_now' );
		$this->assertSame( 'processing', Invoices::find( $row['public_id'] )['state'] );
		$this->assertNotContains( 'invoice.expired', array_column( $this->events, 'type' ) );
		Helpers::mine( 3 );
		Helpers::cron();
		$this->assertSame( 'settled', Invoices::find( $row['public_id'] )['state'] );
	}

	public function testAStatusPollThatRunsTheWatcherDuringTheSweepLosesNoCredit(): void {
		$row = Helpers::invoice( '4.56' );
		Helpers::cron(); // The cursor now stands before the payment's block.
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '4560000' );
		// A customer's status poll, a web request of its own (another process, another database
		// connection), may run the watcher while the cron's sweep is between read and write.
		$this->sweepWith(
			function () use ( $row ): void {
				$cmd = sprintf( 'php %s %s %s 2>&1', escapeshellarg( __DIR__ . '/status-poll.php' ), escapeshellarg( ABSPATH ), escapeshellarg( $row['public_id'] ) );
				exec( $cmd, $out, $code );
				$this->assertSame( 0, $code, implode( "\n", $out ) );
				$this->assertSame( 200, json_decode( (string) end( $out ), true )['status'], implode( "\n", $out ) );
			}
		);
		Helpers::cron(); // The next minute's run: sees the payment now if the status poll did not.
		$this->assertCreditKept( $row, $paid['tx'] );
	}

	public function testAWriterThatLostTheRaceReReadsTheRecordInsteadOfOverwritingIt(): void {
		$row = Helpers::invoice( '4.57' );
		Helpers::cron();
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '4570000' );
		// The watcher credits between the sweep's read and its write. Run in this process (MySQL
		// named locks are re-entrant within a connection), it gets past any lock the sweep holds:
		// this is the case of any writer the lock does not serialise, which only the record's
		// version can catch.
		$this->sweepWith(
			function () use ( $row, $paid ): void {
				$poll = Watcher::poll( 'devnet' );
				$this->assertContains( $paid['tx'] . ':credited:' . $row['public_id'], $poll['outcomes'] ?? array(), wp_json_encode( $poll ) );
			}
		);
		$this->assertCreditKept( $row, $paid['tx'] );
	}

	public function testAWatcherRunThatLostTheRaceAppliesThePollAgainFromTheSameCursor(): void {
		$row = Helpers::invoice( '4.58' );
		Helpers::cron();
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '4580000' );
		// Another writer (a claim, a review, the sweep of another process) stores the invoice after
		// the poll read it and before the poll's outcome is written: the poll's versioned write
		// loses, nothing of it is stored, and it is applied again to the invoice as it is now.
		$done = false;
		add_filter(
			'stablegate_now',
			static function ( $now ) use ( &$done, $row ) {
				if ( ! $done ) {
					$done = true;
					Stablegate\WordPress\InvoiceTable::site()->write( Invoices::find( $row['public_id'] ), array( 'updated_at' => $now ) );
				}
				return $now;
			}
		);
		$poll = Watcher::poll( 'devnet' );
		remove_all_filters( 'stablegate_now' );
		$this->assertTrue( $done, 'the other writer ran during the poll' );
		$this->assertSame( 1, $poll['lost_races'] ?? null, 'the poll lost one race and applied its answers again' );
		$this->assertContains( $paid['tx'] . ':credited:' . $row['public_id'], $poll['outcomes'] ?? array(), wp_json_encode( $poll ) );
		$fresh = Invoices::find( $row['public_id'] );
		$this->assertSame( (int) $row['version'] + 2, (int) $fresh['version'], 'the other write, then the poll\'s' );
		$this->assertSame( array( 'invoice.processing' ), array_values( array_diff( array_column( $this->events, 'type' ), array( 'invoice.created', 'invoice.new' ) ) ), 'announced once' );
		$this->assertCreditKept( $row, $paid['tx'] );
	}
}
