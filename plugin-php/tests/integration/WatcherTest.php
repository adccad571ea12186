<?php
/**
 * The watcher against the real devnet, run through WP-Cron's event and through status polls.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Schema;
use Stablegate\WordPress\Watcher;

/**
 * Each test uses its own amounts: the devnet is shared by the tests of this run, and a payment of
 * an earlier test within the 60 s clock skew would otherwise fit a new invoice of the same amount.
 */
final class WatcherTest extends TestCase {

	/** @var array<int, array> Events emitted (stablegate_invoice_event). */
	private array $events = array();

	/** @var array<int, array> Documents to validate against the schema. */
	private static array $docs = array();

	protected function setUp(): void {
		Helpers::reset( array( 'networks' => array( 'devnet:usdt', 'devnet:usdt18' ) ) );
		Helpers::captureEvents( $this->events );
	}

	protected function tearDown(): void {
		Helpers::restoreOrderFlow();
		remove_all_filters( 'stablegate_watch_settings' );
	}

	private function doc( array $row ): array {
		$res = Helpers::rest( 'GET', '/stablegate/v1/invoices/' . $row['public_id'] );
		$this->assertSame( 200, $res->get_status() );
		self::$docs[] = $res->get_data();
		return $res->get_data();
	}

	private function types(): array {
		return array_column( $this->events, 'type' );
	}

	public function testAPaymentIsProcessingAtFirstSightAndSettledAtFinality(): void {
		$row = Helpers::invoice( '12.34' );
		$this->assertSame( 'devnet', $row['network'] );
		$this->assertSame( '12340000', $row['reserved_amount'] );
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '12340000' );

		$polls = Helpers::cron();
		$this->assertLessThanOrEqual( 4, $polls['devnet']['requests'], 'HTTP requests of one poll: head, one eth_getLogs per token (usdt, usdt18), one batch' );
		$this->assertLessThanOrEqual( 12, $polls['devnet']['setup_requests'], 'the first scan\'s start-block search' );
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'processing', $doc['state'] );
		$this->assertSame( '12.34', $doc['amount_paid'] );
		$this->assertSame( $paid['tx'], $doc['transfers'][0]['tx'] );
		$this->assertSame( 'processing', $doc['transfers'][0]['status'] );
		$this->assertSame( 3, $doc['finality']['required'] );
		$this->assertNull( $doc['payment_uri'] );

		Helpers::mine( 3 );
		Helpers::cron();
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'settled', $doc['state'] );
		$this->assertNull( $doc['exception'] );
		$this->assertSame( 'settled', $doc['transfers'][0]['status'] );
		$this->assertSame( 0, $doc['poll_after_ms'] );
		$this->assertSame( array( 'invoice.created', 'invoice.new', 'invoice.processing', 'invoice.settled' ), $this->types() );

		global $wpdb;
		$ledger = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . Schema::table( 'ledger' ) . ' WHERE invoice_id = %d', $row['id'] ), ARRAY_A );
		$this->assertSame( $paid['tx'], $ledger['tx_hash'] );
		$this->assertSame( 'credited', $ledger['outcome'] );
		$this->assertSame( (string) $row['id'], $ledger['invoice_id'] );
		$cursor = (int) $wpdb->get_var( $wpdb->prepare( 'SELECT block FROM ' . Schema::table( 'cursors' ) . " WHERE network = 'devnet' AND token = %s", 'usdt' ) );
		// The cursor is the last block searched once final (3 confirmations: head − 2); the blocks
		// above it are searched again on every poll until they are final (DESIGN §6).
		$this->assertSame( (int) Watcher::stats( 'devnet' )['head'] - 2, $cursor, 'the cursor reached the last final block' );

		// A second run changes nothing (the transfer is known; events are not repeated).
		Helpers::cron();
		$this->assertSame( array( 'invoice.created', 'invoice.new', 'invoice.processing', 'invoice.settled' ), $this->types() );
	}

	public function testManyOpenInvoicesCostNoMoreRpcCalls(): void {
		\Stablegate\WordPress\Settings::update( array( 'max_slots' => '200' ) ); // 40 amounts three steps apart.
		$rows = array();
		for ( $i = 0; $i < 40; $i++ ) {
			$rows[] = Helpers::invoice( '1.5' );
		}
		$amounts = array_column( $rows, 'reserved_amount' );
		$this->assertCount( 40, array_unique( $amounts ), 'distinct unique amounts' );
		$this->assertSame( '1500000', $amounts[0] );
		$this->assertSame( '2670000', $amounts[39] );
		Helpers::cron(); // The first scan finds its start block once (counted apart).
		Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '2010000' ); // The 18th invoice: 1.50 + 17 × 0.03.
		$polls = Helpers::cron();
		$this->assertSame( 3, $polls['devnet']['requests'], 'head, one batch of eth_getLogs (usdt, usdt18), one batch of headers: independent of 40 open invoices' );
		$states = array_map( static fn ( $r ) => Invoices::find( $r['public_id'] )['state'], $rows );
		$this->assertSame( 'processing', $states[17] );
		$this->assertSame( 39, count( array_keys( $states, 'new', true ) ) );
	}

	public function testStatusPollsShareOneWatcherRun(): void {
		$row    = Helpers::invoice( '2.22' );
		$before = (int) ( Watcher::stats( 'devnet' )['polls'] ?? 0 );
		for ( $i = 0; $i < 5; $i++ ) {
			$this->doc( $row );
		}
		$this->assertSame( $before + 1, (int) Watcher::stats( 'devnet' )['polls'], 'five customers polling made one watcher run' );
		Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '2220000' );
		delete_transient( 'stablegate_polled_devnet' ); // poll_seconds later.
		$this->assertSame( 'processing', $this->doc( $row )['state'], 'a status poll ran the watcher' );
	}

	public function testAShortPaymentIsKeptAndCanBeClaimedThenCompleted(): void {
		global $wpdb;
		// The merchant auto-accepts claims up to 5 USDT (by default every claim waits for review).
		\Stablegate\WordPress\Settings::update( array( 'auto_accept_up_to' => '5' ) );
		$row  = Helpers::invoice( '3.21' );
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '3000000' ); // An exchange kept 0.21.
		Helpers::cron();
		$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
		$kept = $wpdb->get_row( $wpdb->prepare( 'SELECT * FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ), ARRAY_A );
		$this->assertSame( 'unmatched', $kept['outcome'], 'kept, never dropped' );
		$this->assertNull( $kept['invoice_id'] );

		list( $route, $query ) = Helpers::link( $this->doc( $row )['links']['claim'] );
		$res                   = Helpers::rest( 'POST', $route, array( 'tx_hash' => strtoupper( substr( $paid['tx'], 2 ) ) ), $query );
		$this->assertSame( 200, $res->get_status(), wp_json_encode( $res->get_data() ) );
		$doc          = $res->get_data();
		self::$docs[] = $doc;
		$this->assertSame( 'new', $doc['state'] );
		$this->assertSame( 'paid_partial', $doc['exception'] );
		$this->assertSame( '0.21', $doc['amount_remaining'] );
		$this->assertStringEndsWith( '&uint256=210000', $doc['payment_uri'] );
		$this->assertSame( (string) $row['id'], $wpdb->get_var( $wpdb->prepare( 'SELECT invoice_id FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ) ) );

		$again = Helpers::rest( 'POST', $route, array( 'tx_hash' => $paid['tx'] ), $query );
		$this->assertSame( 409, $again->get_status() );
		$this->assertSame( 'stablegate_already_credited', $again->as_error()->get_error_code() );

		Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '210000', 3 ); // The rest, already final.
		$polls = Helpers::cron(); // One poll: seen and final at once.
		$this->assertLessThanOrEqual( 4, $polls['devnet']['requests'], 'head, one eth_getLogs per token, one batch' );
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'settled', $doc['state'], wp_json_encode( $doc ) );
		$this->assertSame( '3.21', $doc['amount_paid'] );
	}

	public function testTheMerchantSeesAnUnmatchedPaymentAndAttachesItToItsInvoice(): void {
		global $wpdb;
		$row  = Helpers::invoice( '5.55' );
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '5500000' ); // Short: matches nothing.
		Helpers::cron();
		$this->assertSame( 401, Helpers::rest( 'GET', '/stablegate/v1/admin/transfers' )->get_status() );
		$this->assertSame( 401, Helpers::rest( 'POST', '/stablegate/v1/admin/invoices/' . $row['public_id'] . '/claim', array( 'tx_hash' => $paid['tx'] ) )->get_status() );
		$subscriber = wp_insert_user( array( 'user_login' => 'sub' . wp_rand(), 'user_pass' => wp_generate_password(), 'role' => 'subscriber' ) );
		wp_set_current_user( $subscriber );
		$this->assertSame( 403, Helpers::rest( 'GET', '/stablegate/v1/admin/transfers' )->get_status() );

		wp_set_current_user( 1 );
		$listed = array_values( array_filter( Helpers::rest( 'GET', '/stablegate/v1/admin/transfers' )->get_data(), static fn ( $t ) => $t['tx'] === $paid['tx'] ) );
		$this->assertCount( 1, $listed, 'the merchant sees the payment' );
		$this->assertSame( array( 'devnet', 'usdt', '5.5', 'USDT', 'unmatched', Helpers::RECIPIENT ), array( $listed[0]['network'], $listed[0]['token'], $listed[0]['amount'], $listed[0]['symbol'], $listed[0]['outcome'], $listed[0]['to'] ) );

		// The screen lists it with an attach form protected by a nonce.
		$html = Helpers::adminPage( 'unmatched' );
		$this->assertStringContainsString( 'value="' . $paid['tx'] . '"', $html );
		$this->assertStringContainsString( 'name="_wpnonce"', $html );
		$this->assertStringContainsString( '<td>5.50</td>', $html );

		$this->assertSame(
			array( 'ok' => false, 'message' => 'No invoice inv_nope: paste the id from the invoice list (inv_ and 32 hex digits).' ),
			\Stablegate\WordPress\Admin::attachTransfer( 'inv_nope', $paid['tx'] )
		);
		$other = Helpers::invoice( '5.56', 'devnet:usdt18' );
		$wrong = \Stablegate\WordPress\Admin::attachTransfer( $other['public_id'], $paid['tx'] );
		$this->assertFalse( $wrong['ok'] );
		$this->assertStringContainsString( 'wrong_token', $wrong['message'], 'the claim\'s checks apply: a USDT transfer cannot pay an invoice in the 18-decimal token' );

		$done = \Stablegate\WordPress\Admin::attachTransfer( $row['public_id'], $paid['tx'] );
		// The merchant's attach follows the claim policy: a transfer nobody can be shown to own
		// goes to review (accepted from the review queue).
		$this->assertSame( array( 'ok' => true, 'message' => 'Attached to ' . $row['public_id'] . ', which is now new (needs_review).' ), $done );
		$this->assertSame( (string) $row['id'], $wpdb->get_var( $wpdb->prepare( 'SELECT invoice_id FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ) ) );
		$this->assertSame( array(), array_filter( Helpers::rest( 'GET', '/stablegate/v1/admin/transfers' )->get_data(), static fn ( $t ) => $t['tx'] === $paid['tx'] ), 'no longer unmatched' );
		$again = Helpers::rest( 'POST', '/stablegate/v1/admin/invoices/' . $row['public_id'] . '/claim', array( 'tx_hash' => $paid['tx'] ) );
		$this->assertSame( 409, $again->get_status() );
		wp_set_current_user( 0 );
	}

	public function testAPaymentAttachedAfterTheMonitoringWindowSettlesWhenFinalAndWaitsWhenNot(): void {
		$final   = Helpers::invoice( '6.66' );
		$pending = Helpers::invoice( '6.77' );
		$paid    = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '6700000' ); // Over: unmatched.
		Helpers::mine( 10 );
		$late = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '6800000' ); // Over, and not final.
		Helpers::cron();
		$later = time() + 3 * 86400; // Days later: both invoices are past their monitoring window.
		add_filter( 'stablegate_now', static fn () => $later );
		Invoices::sweep();
		$this->assertNull( Invoices::find( $final['public_id'] )['reserved_amount'], 'no longer watched' );
		wp_set_current_user( 1 );
		$wait = \Stablegate\WordPress\Admin::attachTransfer( $pending['public_id'], $late['tx'] );
		$this->assertFalse( $wait['ok'] );
		$this->assertStringContainsString( 'not final yet', $wait['message'], 'nobody would ever finish it: refused until it is final' );
		$done = \Stablegate\WordPress\Admin::attachTransfer( $final['public_id'], $paid['tx'], '0' );
		$this->assertTrue( $done['ok'], $done['message'] );
		$row = Invoices::find( $final['public_id'] );
		$this->assertSame( 'settled', $row['state'], 'final at once: the watcher no longer looks at this invoice' );
		$this->assertSame( 'needs_review', $row['exception'], 'an attached transfer nobody is shown to own waits for review' );
		Helpers::mine( 10 );
		Helpers::cron();
		$this->assertSame( 'settled', Invoices::find( $final['public_id'] )['state'] );
		$other = \Stablegate\WordPress\Admin::attachTransfer( $pending['public_id'], $paid['tx'] );
		$this->assertStringContainsString( 'already credited', $other['message'] );
		remove_all_filters( 'stablegate_now' );
		wp_set_current_user( 0 );
	}

	public function testAPaymentWhileNoInvoiceIsOpenIsStillRecorded(): void {
		global $wpdb;
		Helpers::cron(); // The watcher is running; no invoice is open.
		$paid  = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '9120000' ); // Days late, say.
		$spam  = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '0' ); // Address poisoning: nothing moved.
		$polls = Helpers::cron();
		$this->assertSame( array(), preg_grep( '/^' . $spam['tx'] . ':/', $polls['devnet']['outcomes'] ), 'the core drops it' );
		$this->assertSame( '0', $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $spam['tx'] ) ) );
		$this->assertLessThanOrEqual( 4, $polls['devnet']['requests'], 'head, one eth_getLogs per token, one batch' );
		$this->assertContains( $paid['tx'] . ':kept:no_open_invoice', $polls['devnet']['outcomes'] );
		$this->assertSame( 'no_open_invoice', $wpdb->get_var( $wpdb->prepare( 'SELECT outcome FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ) ), 'kept for the merchant, never dropped' );
		wp_set_current_user( 1 );
		$listed = array_filter( Helpers::rest( 'GET', '/stablegate/v1/admin/transfers' )->get_data(), static fn ( $t ) => $t['tx'] === $paid['tx'] );
		$this->assertCount( 1, $listed, 'under Unmatched payments' );
		wp_set_current_user( 0 );
	}

	public function testAPaymentClaimedJustBeforeTheWindowEndsIsStillFinished(): void {
		$row  = Helpers::invoice( '6.11' );
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '6200000' ); // Over: unmatched, not final.
		Helpers::cron();
		$end = (int) $row['monitor_until'];
		add_filter( 'stablegate_now', static fn () => $end - 5 );
		wp_set_current_user( 1 );
		$done = \Stablegate\WordPress\Admin::attachTransfer( $row['public_id'], $paid['tx'] );
		$this->assertTrue( $done['ok'], $done['message'] );
		remove_all_filters( 'stablegate_now' );
		add_filter( 'stablegate_now', static fn () => $end + 60 ); // The window ends before finality.
		Invoices::sweep();
		$this->assertNotNull( Invoices::find( $row['public_id'] )['reserved_amount'], 'still watched: a payment waits for finality' );
		Helpers::mine( 3 );
		Helpers::cron();
		$done = Invoices::find( $row['public_id'] );
		$this->assertSame( array( 'settled', 'needs_review' ), array( $done['state'], $done['exception'] ), 'final, and still for the merchant to accept' );
		$this->assertNull( $done['reserved_amount'], 'released once final' );
		remove_all_filters( 'stablegate_now' );
		wp_set_current_user( 0 );
	}

	public function testTheMerchantRejectsOrAcceptsAReviewWithANote(): void {
		global $wpdb;
		$a    = Helpers::invoice( '3.3' );
		$b    = Helpers::invoice( '3.3' ); // Three steps up: 3.33.
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '3200000' ); // Short of A: matches nobody.
		Helpers::cron();
		list( $route, $query ) = Helpers::link( \Stablegate\WordPress\Rest::links( $a['public_id'] )['claim'] );
		$this->assertSame( 200, Helpers::rest( 'POST', $route, array( 'tx_hash' => $paid['tx'] ), $query )->get_status() );
		$this->assertSame( 'needs_review', Invoices::find( $a['public_id'] )['exception'], 'nothing shows the claimer sent it' );
		$review = '/stablegate/v1/admin/invoices/' . $a['public_id'] . '/review';
		$this->assertSame( 401, Helpers::rest( 'POST', $review, array( 'decision' => 'accept', 'note' => 'x' ) )->get_status() );

		wp_set_current_user( 1 );
		$queue = static fn (): array => array_column( Helpers::rest( 'GET', '/stablegate/v1/admin/invoices', null, array( 'state' => 'needs_review' ) )->get_data(), 'invoice' );
		$this->assertContains( $a['public_id'], $queue() );
		$html = Helpers::adminPage( 'needs_review' );
		$this->assertStringContainsString( 'name="invoice" value="' . $a['public_id'] . '"', $html );
		$this->assertStringContainsString( 'value="stablegate_review"', $html );
		$this->assertStringContainsString( 'name="decision" value="accept"', $html );
		$this->assertStringContainsString( 'name="decision" value="reject"', $html );
		$this->assertStringContainsString( 'name="_wpnonce"', $html );

		$this->assertSame( 'stablegate_invalid_note', Helpers::rest( 'POST', $review, array( 'decision' => 'accept', 'note' => '  ' ) )->as_error()->get_error_code() );
		$this->assertSame( 'stablegate_invalid_body', Helpers::rest( 'POST', $review, array( 'note' => 'ok' ) )->as_error()->get_error_code() );
		$this->assertSame( 'stablegate_not_in_review', Helpers::rest( 'POST', '/stablegate/v1/admin/invoices/' . $b['public_id'] . '/review', array( 'decision' => 'accept', 'note' => 'ok' ) )->as_error()->get_error_code() );

		// Rejected: the transfer goes back to the unmatched payments, the invoice waits again.
		$this->events = array();
		$done         = \Stablegate\WordPress\Admin::resolveReview( $a['public_id'], 'reject', "Not <b>theirs</b>: another customer's.\nRefund asked." );
		$this->assertTrue( $done['ok'], $done['message'] );
		$this->assertNotContains( $a['public_id'], $queue(), 'it left the queue' );
		$row = Invoices::find( $a['public_id'] );
		$this->assertSame( array( 'new', null ), array( $row['state'], $row['exception'] ) );
		$this->assertSame( "Not theirs: another customer's.\nRefund asked.", $row['review_note'], 'tags stripped, lines kept' );
		$this->assertSame( array(), Invoices::record( $row )->ledger );
		$this->assertNull( $wpdb->get_var( $wpdb->prepare( 'SELECT invoice_id FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ) ) );
		$this->assertCount( 1, array_filter( Helpers::rest( 'GET', '/stablegate/v1/admin/transfers' )->get_data(), static fn ( $t ) => $t['tx'] === $paid['tx'] && 'rejected' === $t['outcome'] ), 'unmatched again' );
		$this->assertSame( array( 'invoice.new' ), $this->types() );
		$this->assertSame( array( 'outcome' => 'rejected', 'note' => "Not theirs: another customer's.\nRefund asked." ), $this->events[0]['resolution'], 'the resolution is announced with the note' );
		Helpers::cron();
		$this->assertNull( $wpdb->get_var( $wpdb->prepare( 'SELECT invoice_id FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ) ), 'the watcher leaves it unmatched' );

		// Claimed again, accepted: the payment is the invoice's.
		$this->assertSame( 200, Helpers::rest( 'POST', $route, array( 'tx_hash' => $paid['tx'] ), $query )->get_status() );
		$this->assertContains( $a['public_id'], $queue(), 'back in the queue' );
		$this->events = array();
		$accepted     = Helpers::rest( 'POST', $review, array( 'decision' => 'accept', 'note' => 'The customer showed the withdrawal.' ) );
		$this->assertSame( 200, $accepted->get_status(), wp_json_encode( $accepted->get_data() ) );
		$this->assertSame( array( 'new', 'paid_partial' ), array( $accepted->get_data()['state'], $accepted->get_data()['exception'] ) );
		$this->assertSame( 'accepted', $this->events[0]['resolution']['outcome'] );
		$this->assertNotContains( $a['public_id'], $queue() );
		wp_set_current_user( 0 );
	}

	public function testAFakeTokenNamedUsdtPaysNothing(): void {
		global $wpdb;
		$row  = Helpers::invoice( '4.44' );
		$fake = Helpers::pay( 'FakeUsdt', Helpers::RECIPIENT, '4440000', 3 );
		Helpers::cron();
		$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
		$this->assertSame( '0', $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $fake['tx'] ) ), 'not even recorded' );
		list( $route, $query ) = Helpers::link( $this->doc( $row )['links']['claim'] );
		$res                   = Helpers::rest( 'POST', $route, array( 'tx_hash' => $fake['tx'] ), $query );
		$this->assertSame( 422, $res->get_status() );
		$this->assertSame( 'stablegate_wrong_token', $res->as_error()->get_error_code() );
		$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
	}

	public function testAPaymentAfterExpiryWithinTheMonitoringWindowIsPaidLate(): void {
		$created = time() - 3600;
		add_filter( 'stablegate_now', static fn () => $created );
		$row = Helpers::invoice( '7.77' ); // 30-minute window: expired 30 minutes ago.
		remove_all_filters( 'stablegate_now' );
		Invoices::sweep();
		$this->assertSame( 'expired', Invoices::find( $row['public_id'] )['state'] );
		$this->assertContains( 'invoice.expired', $this->types() );
		$this->assertNotNull( Invoices::find( $row['public_id'] )['reserved_amount'], 'still watched: the amount stays reserved' );

		Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '7770000', 3 );
		Helpers::cron(); // Seen already final: settled in this one poll.
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'settled', $doc['state'] );
		$this->assertSame( 'paid_late', $doc['exception'] );
		$this->assertSame( array( 'invoice.created', 'invoice.new', 'invoice.expired', 'invoice.settled' ), $this->types(), 'expired; then, in one poll, seen and final: one event per poll' );
	}

	public function testAReorganisedPaymentIsRemovedAndTheInvoiceInvalid(): void {
		$row      = Helpers::invoice( '8.88' );
		$snapshot = Helpers::rpc( 'evm_snapshot', array() );
		$paid     = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '8880000' );
		Helpers::cron();
		$this->assertSame( 'processing', Invoices::find( $row['public_id'] )['state'] );
		$this->assertTrue( Helpers::rpc( 'evm_revert', array( $snapshot ) ) );
		Helpers::mine( 6 );
		$polls = Helpers::cron();
		$this->assertContains( $paid['tx'] . ':removed', $polls['devnet']['outcomes'] );
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'invalid', $doc['state'] );
		$this->assertSame( 'removed', $doc['transfers'][0]['status'] );
		$this->assertContains( 'invoice.invalid', $this->types() );
	}

	/**
	 * Ethereum's public-endpoint limits applied to the devnet (the core's Watch::settings with a
	 * range of 40 blocks: batches of at most 3 calls, 3 requests a poll): after hundreds of blocks
	 * and several payments while nothing polled, every eth_getLogs spans at most 40 blocks, no
	 * request carries more than 3 calls, no poll makes more than 3 requests, the catch-up takes
	 * several polls, and every payment in the gap is found; a provider that refuses the range makes
	 * the next poll ask half of it, with no extra request in the poll it refused.
	 */
	public function testACatchUpThroughPublicEndpointsKeepsToTheirLimitsAndLosesNoPayment(): void {
		$ethereum = \Stablegate\Domain\Watch::settings( \Stablegate\Domain\Network::get( 'ethereum' ), \Stablegate\Domain\Watch::settingsRequestFromJson( array( 'max_range' => '40' ) ) );
		$this->assertSame( array( '3', '40', '1', '1' ), array( $ethereum['max_batch'], $ethereum['max_range'], $ethereum['pace']['log_requests'], $ethereum['pace']['header_requests'] ) );
		add_filter( 'stablegate_watch_settings', static fn ( array $settings, string $network ): array => 'devnet' === $network ? $ethereum : $settings, 10, 2 );
		$rows = array();
		for ( $i = 1; $i <= 5; $i++ ) {
			$rows[] = Helpers::invoice( "31.0$i" );
		}
		Helpers::cron(); // The first scan finds its start block (counted apart).
		$before = (int) Watcher::stats( 'devnet' )['head'];
		// Nothing polls meanwhile: three payments within one stretch of 40 blocks (more blocks with
		// logs than a batch of 3 headers holds), then two more over hundreds of blocks.
		foreach ( $rows as $i => $row ) {
			Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, $row['reserved_amount'], $i < 3 ? 1 : 110 );
		}
		Helpers::mine( 3 );
		$gap = (int) hexdec( Helpers::rpc( 'eth_blockNumber', array() ) ) - $before;
		$this->assertGreaterThan( 200, $gap );

		// The shop's provider caps eth_getLogs at 20 blocks: a refused range is halved for the next
		// poll, within the pace (no extra requests in the poll that was refused).
		list( $capped, $url ) = Helpers::phpServer( __DIR__ . '/range-capped-rpc.php', array( 'DEVNET_URL' => Helpers::devnetUrl(), 'MAX_RANGE' => '20' ) );
		\Stablegate\WordPress\Settings::update( array( 'rpc_devnet' => $url ) );
		$widest  = 0;
		$longest = 0;
		$record  = static function ( $response, $context, $transport, $args ) use ( &$widest, &$longest ): void {
			$calls   = json_decode( (string) $args['body'], true );
			$calls   = array_is_list( $calls ) ? $calls : array( $calls );
			$longest = max( $longest, count( $calls ) );
			foreach ( $calls as $call ) {
				if ( 'eth_getLogs' === $call['method'] ) {
					$widest = max( $widest, hexdec( $call['params'][0]['toBlock'] ) - hexdec( $call['params'][0]['fromBlock'] ) + 1 );
				}
			}
		};
		add_action( 'http_api_debug', $record, 10, 4 );
		$polls = 0;
		$most  = 0;
		try {
			do {
				$poll = Helpers::cron()['devnet'];
				$this->assertArrayNotHasKey( 'error', $poll );
				$most = max( $most, $poll['requests'] );
				++$polls;
				$states = array_map( static fn ( array $r ): string => Invoices::find( $r['public_id'] )['state'], $rows );
				$caught = (int) $poll['cursors']['usdt'] >= $before + $gap - 3;
			} while ( ( array_diff( $states, array( 'processing', 'settled' ) ) || ! $caught ) && $polls < 60 );
			$learnt = (int) get_option( 'stablegate_range_devnet', 0 );
		} finally {
			remove_action( 'http_api_debug', $record, 10 );
			proc_terminate( $capped );
			delete_option( 'stablegate_range_devnet' );
		}
		$this->assertSame( 20, $learnt, 'the refused range was halved to what the provider takes' );
		$this->assertSame( array(), array_diff( $states, array( 'processing', 'settled' ) ), 'every payment in the gap was found' );
		$this->assertTrue( $caught, 'the cursor caught up with the head' );
		$this->assertGreaterThan( 0, $widest );
		$this->assertLessThanOrEqual( 40, $widest, 'no eth_getLogs spans more than max_range' );
		$this->assertLessThanOrEqual( 3, $longest, 'no request carries more than max_batch calls' );
		$this->assertLessThanOrEqual( 3, $most, 'no poll makes more requests than the pace allows' );
		$this->assertGreaterThanOrEqual( intdiv( $gap, 40 ), $polls, 'the catch-up took several polls, not one burst' );
	}

	public function testTheWatcherSurvivesAnRpcOutageWithoutSkippingBlocks(): void {
		global $wpdb;
		$row = Helpers::invoice( '9.99' );
		Helpers::cron();
		$cursor = (int) $wpdb->get_var( 'SELECT block FROM ' . Schema::table( 'cursors' ) . " WHERE network = 'devnet' AND token = 'usdt'" );
		Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '9990000' );
		update_option( 'woocommerce_stablegate_settings', array_merge( get_option( 'woocommerce_stablegate_settings' ), array( 'rpc_devnet' => 'http://127.0.0.1:9/' ) ) );
		$down = Helpers::cron();
		$this->assertArrayHasKey( 'error', $down['devnet'] );
		$this->assertStringContainsString( 'unreachable', $down['devnet']['error'] );
		$this->assertStringNotContainsString( '127.0.0.1:9/', $down['devnet']['error'], 'the URL (which may hold a key) is not in messages' );
		$this->assertSame( $cursor, (int) $wpdb->get_var( 'SELECT block FROM ' . Schema::table( 'cursors' ) . " WHERE network = 'devnet' AND token = 'usdt'" ), 'the cursor stays' );
		update_option( 'woocommerce_stablegate_settings', array_merge( get_option( 'woocommerce_stablegate_settings' ), array( 'rpc_devnet' => Helpers::devnetUrl() ) ) );
		Helpers::cron();
		$this->assertSame( 'processing', Invoices::find( $row['public_id'] )['state'] );
	}

	public function testANodeOfAnotherChainCreditsNothingAndTheSettingsSayWhy(): void {
		global $wpdb;
		// A fork or a testnet can serve the same token contract and the same logs: this node
		// forwards to the devnet but says it is Sepolia.
		list( $node, $url ) = Helpers::phpServer( __DIR__ . '/other-chain-rpc.php', array( 'DEVNET_URL' => Helpers::devnetUrl() ) );
		$settings           = static fn ( string $rpc ) => update_option( 'woocommerce_stablegate_settings', array_merge( get_option( 'woocommerce_stablegate_settings' ), array( 'rpc_devnet' => $rpc ) ) );
		try {
			$row = Helpers::invoice( '6.02' );
			Helpers::cron(); // The cursor stands before the payment.
			$this->assertStringStartsWith( ' Watched ', Watcher::describe( 'devnet' ) );
			$settings( $url );
			$paid  = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '6020000', 3 ); // Final at once.
			$polls = Helpers::cron();
			$this->assertStringContainsString( 'serves chain 11155111, not chain 31337', $polls['devnet']['error'] ?? '', wp_json_encode( $polls ) );
			$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
			$this->assertSame( '0', $wpdb->get_var( $wpdb->prepare( 'SELECT COUNT(*) FROM ' . Schema::table( 'ledger' ) . ' WHERE tx_hash = %s', $paid['tx'] ) ), 'not even recorded' );
			delete_transient( 'stablegate_polled_devnet' );
			$this->assertSame( 'new', $this->doc( Invoices::find( $row['public_id'] ) )['state'], 'nor by a status poll' );
			list( $route, $query ) = Helpers::link( \Stablegate\WordPress\Rest::links( $row['public_id'] )['claim'] );
			$claim                 = Helpers::rest( 'POST', $route, array( 'tx_hash' => $paid['tx'] ), $query );
			$this->assertSame( 503, $claim->get_status(), 'nor by a claim' );
			$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
			$this->assertStringContainsString( 'The watcher cannot use it: RPC 127.0.0.1 serves chain 11155111, not chain 31337', Watcher::describe( 'devnet' ), 'the settings screen says why' );

			// Back on a node of the right chain: nothing was skipped, at the same cost per poll.
			$settings( Helpers::devnetUrl() );
			$polls = Helpers::cron();
			$this->assertLessThanOrEqual( 4, $polls['devnet']['requests'], 'the chain id rides in the first batch: head, one eth_getLogs per token, one batch' );
			$this->assertSame( 'settled', Invoices::find( $row['public_id'] )['state'] );
			$this->assertStringStartsWith( ' Watched ', Watcher::describe( 'devnet' ) );
		} finally {
			proc_terminate( $node );
			proc_close( $node );
		}
	}

	public function testAStricterFinalityPolicyWaitsLongerAndShowsIt(): void {
		Helpers::reset( array( 'confirmations_devnet' => '6' ) );
		$row  = Helpers::invoice( '6.54' );
		$paid = Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, '6540000' );
		Helpers::cron();
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'processing', $doc['state'] );
		$this->assertSame( array( 'seen' => 1, 'required' => 6 ), $doc['finality'] );

		Helpers::mine( 3 ); // 4 confirmations: final by the registry's 3, not by the merchant's 6.
		Helpers::cron();
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'processing', $doc['state'] );
		$this->assertSame( array( 'seen' => 4, 'required' => 6 ), $doc['finality'] );
		$this->assertSame( 4, $doc['transfers'][0]['confirmations'] );

		Helpers::mine( 2 );
		Helpers::cron();
		$doc = $this->doc( Invoices::find( $row['public_id'] ) );
		$this->assertSame( 'settled', $doc['state'] );
		$this->assertSame( $paid['tx'], $doc['transfers'][0]['tx'] );
	}

	public function testTheFinalityPolicyCanOnlyBeMadeStricter(): void {
		$this->assertSame( array(), \Stablegate\WordPress\Settings::validate( array( 'confirmations_devnet' => '', 'confirmations_ethereum' => '96' ) ) );
		$errors = \Stablegate\WordPress\Settings::validate( array( 'confirmations_devnet' => '2', 'confirmations_ethereum' => '12', 'confirmations_tron' => 'many', 'confirmations_bsc' => '99999' ) );
		$this->assertSame( "cannot be below the network's own 3: finality can only be made stricter", $errors['confirmations_devnet'] );
		$this->assertSame( "cannot be below the network's own 64: finality can only be made stricter", $errors['confirmations_ethereum'] );
		$this->assertStringContainsString( 'whole number', $errors['confirmations_tron'] );
		$this->assertStringContainsString( 'up to 14400', $errors['confirmations_bsc'] );
		// A value stored below the registry (by hand, or by an older version) cannot weaken it.
		Helpers::reset( array( 'confirmations_devnet' => '1' ) );
		$this->assertSame( 3, \Stablegate\Domain\Watch::requiredConfirmations( \Stablegate\Domain\Network::get( 'devnet' ), \Stablegate\WordPress\Settings::minConfirmations( 'devnet' ) ) );
	}

	public function testTheClaimPolicyIsCheckedOnSaveAndReadInBaseUnits(): void {
		$this->assertSame( array(), \Stablegate\WordPress\Settings::validate( array( 'auto_accept_up_to' => '2.5' ) ) );
		foreach ( array( '-1', 'ten', '1e3', '0.0000001' ) as $bad ) {
			$this->assertArrayHasKey( 'auto_accept_up_to', \Stablegate\WordPress\Settings::validate( array( 'auto_accept_up_to' => $bad ) ), $bad );
		}
		$this->assertSame( array( 'auto_accept_up_to' => '0' ), \Stablegate\WordPress\Settings::claimPolicy( 6 ), 'by default every claim is reviewed' );
		\Stablegate\WordPress\Settings::update( array( 'auto_accept_up_to' => '2.5' ) );
		$this->assertSame( array( 'auto_accept_up_to' => '2500000' ), \Stablegate\WordPress\Settings::claimPolicy( 6 ) );
		$this->assertSame( array( 'auto_accept_up_to' => '2500000000000000000' ), \Stablegate\WordPress\Settings::claimPolicy( 18 ) );
	}

	/** Runs last (declaration order): every document above follows the shared JSON Schema. */
	public function testDocumentsFollowTheSchema(): void {
		$this->assertGreaterThanOrEqual( 8, count( self::$docs ) );
		$this->assertSame( '', Helpers::schemaErrors( self::$docs ) );
	}
}
