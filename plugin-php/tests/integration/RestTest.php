<?php
/**
 * REST routes: permissions, nonces, rate limits, bad input (a clear error and nothing written).
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Schema;

final class RestTest extends TestCase {

	/** @var array<int, array> Documents to validate against the schema. */
	private static array $docs = array();

	protected function setUp(): void {
		Helpers::reset();
	}

	private function invoice( string $fiat = '19.99' ): array {
		return Invoices::create(
			array(
				'fiat_amount' => $fiat,
				'currency'    => 'USD',
				'return_url'  => 'http://localhost/checkout/order-received/7/?key=wc_order_x',
			)
		);
	}

	private function rowSnapshot( string $public_id ): string {
		global $wpdb;
		return wp_json_encode( array( Invoices::find( $public_id ), $wpdb->get_var( 'SELECT COUNT(*) FROM ' . Schema::table( 'ledger' ) ) ) );
	}

	public function testRoutesAreRegistered(): void {
		$routes = rest_get_server()->get_routes();
		foreach ( array( '/stablegate/v1/invoices/(?P<id>inv_[0-9a-f]{32})', '/stablegate/v1/invoices/(?P<id>inv_[0-9a-f]{32})/choose', '/stablegate/v1/invoices/(?P<id>inv_[0-9a-f]{32})/claim', '/stablegate/v1/admin/invoices', '/stablegate/v1/admin/test-connection' ) as $route ) {
			$this->assertArrayHasKey( $route, $routes );
		}
	}

	public function testStatusBeforeTheChoiceListsTheNetworks(): void {
		$row = $this->invoice();
		$this->assertMatchesRegularExpression( '/^inv_[0-9a-f]{32}$/', $row['public_id'] );
		$res = Helpers::rest( 'GET', '/stablegate/v1/invoices/' . $row['public_id'] );
		$this->assertSame( 200, $res->get_status() );
		$doc = $res->get_data();
		self::$docs[] = $doc;
		$this->assertSame( 'new', $doc['state'] );
		$this->assertNull( $doc['network'] );
		$this->assertSame( array( 'devnet', 'devnet' ), array_column( $doc['choices'], 'network' ) );
		$this->assertSame( array( 'usdt', 'usdt18' ), array_column( $doc['choices'], 'token' ) );
		$this->assertSame( array( '19.99', '19.99' ), array_column( $doc['choices'], 'amount' ) );
		$this->assertStringContainsString( '_sgnonce=', (string) $doc['links']['choose'] );
		$this->assertSame( 'no-store', $res->get_headers()['Cache-Control'] );
		// No personal data: the document's keys are the schema's, nothing else.
		$this->assertSame( array( 'invoice', 'state', 'exception', 'network', 'network_names', 'chain_id', 'token', 'recipient', 'amount_due', 'amount_paid', 'amount_remaining', 'payment_uri', 'expires_at', 'finality', 'transfers', 'choices', 'return_url', 'poll_after_ms', 'links', 'order_total' ), array_keys( $doc ) );
		// The order's total as the shop priced it (canonical), so the widget can say why the amount to pay differs.
		$this->assertSame( array( 'amount' => '19.99', 'currency' => 'USD' ), $doc['order_total'] );
	}

	public function testChooseAllocatesTheAmountAndAnswersTheDocument(): void {
		$row                 = $this->invoice();
		$doc                 = Helpers::rest( 'GET', '/stablegate/v1/invoices/' . $row['public_id'] )->get_data();
		list( $route, $query ) = Helpers::link( $doc['links']['choose'] );
		$res                 = Helpers::rest( 'POST', $route, array( 'network' => 'devnet', 'token' => 'usdt18' ), $query );
		$this->assertSame( 200, $res->get_status(), wp_json_encode( $res->get_data() ) );
		$doc          = $res->get_data();
		self::$docs[] = $doc;
		$this->assertSame( 'devnet', $doc['network'] );
		$this->assertSame( 'usdt18', $doc['token']['id'] );
		$this->assertSame( 18, $doc['token']['decimals'] );
		$this->assertSame( '19.99', $doc['amount_due'] );
		$this->assertSame( array( 'amount' => '19.99', 'currency' => 'USD' ), $doc['order_total'] );
		$this->assertSame( Helpers::RECIPIENT, $doc['recipient'] );
		// 19.99 × 10^18 exceeds 64 bits: the EIP-681 amount is exact.
		$this->assertSame( 'ethereum:0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512@31337/transfer?address=' . Helpers::RECIPIENT . '&uint256=19990000000000000000', $doc['payment_uri'] );
		$this->assertNull( $doc['links']['choose'] );
		$again = Helpers::rest( 'POST', $route, array( 'network' => 'devnet', 'token' => 'usdt' ), $query );
		$this->assertSame( 409, $again->get_status() );
		$this->assertSame( 'stablegate_network_already_chosen', $again->as_error()->get_error_code() );
	}

	public function testChooseNeedsTheInvoicesNonce(): void {
		$row    = $this->invoice();
		$other  = $this->invoice();
		$before = $this->rowSnapshot( $row['public_id'] );
		$route  = '/stablegate/v1/invoices/' . $row['public_id'] . '/choose';
		$none   = Helpers::rest( 'POST', $route, array( 'network' => 'devnet' ) );
		$this->assertSame( 403, $none->get_status() );
		$this->assertSame( 'stablegate_bad_nonce', $none->as_error()->get_error_code() );
		// The nonce of another invoice does not work here.
		$foreign = Helpers::link( Helpers::rest( 'GET', '/stablegate/v1/invoices/' . $other['public_id'] )->get_data()['links']['choose'] )[1];
		$this->assertSame( 403, Helpers::rest( 'POST', $route, array( 'network' => 'devnet' ), $foreign )->get_status() );
		$this->assertSame( $before, $this->rowSnapshot( $row['public_id'] ), 'nothing written' );
	}

	public function testBadInputGetsAClearErrorAndWritesNothing(): void {
		$row                   = $this->invoice();
		$doc                   = Helpers::rest( 'GET', '/stablegate/v1/invoices/' . $row['public_id'] )->get_data();
		list( $route, $query ) = Helpers::link( $doc['links']['choose'] );
		$before                = $this->rowSnapshot( $row['public_id'] );
		$cases                 = array(
			array( array( 'network' => 'ethereum' ), 422, 'stablegate_unknown_network', 'not one of the networks offered' ),
			array( array( 'network' => 'devnet', 'token' => 'usdt0' ), 422, 'stablegate_unknown_network', 'devnet:usdt0' ),
			array( array( 'token' => 'usdt' ), 400, 'stablegate_invalid_body', '{"network"' ),
			array( 'not json', 400, 'rest_invalid_json', 'JSON' ), // WordPress refuses it before the route.
			array( array( 'network' => 'devnet', 'token' => array( 'x' ) ), 400, 'stablegate_invalid_body', 'token must be a string' ),
		);
		foreach ( $cases as list( $body, $status, $code, $message ) ) {
			$res = Helpers::rest( 'POST', $route, $body, $query );
			$this->assertSame( $status, $res->get_status(), wp_json_encode( $body ) );
			$this->assertSame( $code, $res->as_error()->get_error_code() );
			$this->assertStringContainsString( $message, $res->as_error()->get_error_message() );
		}
		$claim = Helpers::link( $doc['links']['claim'] );
		$res   = Helpers::rest( 'POST', $claim[0], array( 'tx_hash' => '0x1234' ), $claim[1] );
		$this->assertSame( 409, $res->get_status(), 'a claim before the network is chosen' );
		$this->assertSame( $before, $this->rowSnapshot( $row['public_id'] ), 'nothing written' );

		Helpers::rest( 'POST', $route, array( 'network' => 'devnet', 'token' => 'usdt' ), $query );
		$before = $this->rowSnapshot( $row['public_id'] );
		foreach ( array( array( 'tx_hash' => '0x1234' ), array( 'tx_hash' => str_repeat( 'z', 64 ) ), array( 'hash' => 'x' ) ) as $body ) {
			$res = Helpers::rest( 'POST', $claim[0], $body, $claim[1] );
			$this->assertContains( $res->get_status(), array( 400, 422 ), wp_json_encode( $body ) );
			$this->assertStringContainsString( 'tx_hash', $res->as_error()->get_error_message() . wp_json_encode( $res->get_data() ) );
		}
		// A well-formed hash that the chain does not know.
		$res = Helpers::rest( 'POST', $claim[0], array( 'tx_hash' => '0x' . str_repeat( 'ab', 32 ) ), $claim[1] );
		$this->assertSame( 422, $res->get_status() );
		$this->assertSame( 'stablegate_transaction_not_found', $res->as_error()->get_error_code() );
		$this->assertSame( $before, $this->rowSnapshot( $row['public_id'] ), 'nothing written' );
	}

	public function testCreateRejectsBadTermsBeforeWriting(): void {
		global $wpdb;
		foreach ( array( array( '0', 'USD', 'invalid_amount' ), array( '-1', 'USD', 'invalid_amount' ), array( '1e3', 'USD', 'invalid_amount' ), array( '10', 'dollars', 'invalid_currency' ) ) as list( $fiat, $currency, $kind ) ) {
			try {
				Invoices::create( array( 'fiat_amount' => $fiat, 'currency' => $currency ) );
				$this->fail( "accepted $fiat $currency" );
			} catch ( \Stablegate\WordPress\ApiError $e ) {
				$this->assertSame( $kind, $e->kind );
			}
		}
		Helpers::reset( array( 'rate' => '0' ) );
		try {
			Invoices::create( array( 'fiat_amount' => '10', 'currency' => 'EUR' ) );
			$this->fail( 'accepted a zero rate' );
		} catch ( \Stablegate\WordPress\ApiError $e ) {
			$this->assertSame( 'invalid_rate', $e->kind );
		}
		// No RPC URL and (the registry's devnet default taken away) no public endpoint.
		Helpers::reset( array( 'rpc_devnet' => '' ) );
		add_filter( 'stablegate_default_rpc_urls', '__return_empty_array' );
		try {
			Invoices::create( array( 'fiat_amount' => '10', 'currency' => 'USD' ) );
			$this->fail( 'created an invoice with no network configured' );
		} catch ( \Stablegate\WordPress\ApiError $e ) {
			$this->assertSame( 'no_network', $e->kind );
		} finally {
			remove_filter( 'stablegate_default_rpc_urls', '__return_empty_array' );
		}
		$this->assertSame( '0', $wpdb->get_var( 'SELECT COUNT(*) FROM ' . Schema::table( 'invoices' ) ) );
	}

	public function testUnknownInvoicesAnswer404(): void {
		$res = Helpers::rest( 'GET', '/stablegate/v1/invoices/inv_' . str_repeat( '0', 32 ) );
		$this->assertSame( 404, $res->get_status() );
		$this->assertSame( 'stablegate_invoice_not_found', $res->as_error()->get_error_code() );
		// An order id, or anything else guessable, is not a route at all.
		$this->assertSame( 404, Helpers::rest( 'GET', '/stablegate/v1/invoices/42' )->get_status() );
	}

	public function testChooseAndClaimAreRateLimited(): void {
		$row                   = $this->invoice();
		$doc                   = Helpers::rest( 'GET', '/stablegate/v1/invoices/' . $row['public_id'] )->get_data();
		list( $route, $query ) = Helpers::link( $doc['links']['choose'] );
		$statuses              = array();
		for ( $i = 0; $i < 11; $i++ ) {
			$statuses[] = Helpers::rest( 'POST', $route, array( 'network' => 'nope' ), $query )->get_status();
		}
		$this->assertSame( array_merge( array_fill( 0, 10, 422 ), array( 429 ) ), $statuses );
	}

	public function testAdminRoutesNeedACapability(): void {
		$this->invoice();
		$this->assertSame( 401, Helpers::rest( 'GET', '/stablegate/v1/admin/invoices' )->get_status() );
		$subscriber = wp_insert_user( array( 'user_login' => 'sub' . wp_rand(), 'user_pass' => wp_generate_password(), 'role' => 'subscriber' ) );
		wp_set_current_user( $subscriber );
		$this->assertSame( 403, Helpers::rest( 'GET', '/stablegate/v1/admin/invoices' )->get_status() );
		$this->assertSame( 403, Helpers::rest( 'POST', '/stablegate/v1/admin/test-connection', array( 'network' => 'devnet' ) )->get_status() );
		wp_set_current_user( 1 );
		$list = Helpers::rest( 'GET', '/stablegate/v1/admin/invoices' );
		$this->assertSame( 200, $list->get_status() );
		$this->assertCount( 1, $list->get_data() );
		$this->assertSame( 400, Helpers::rest( 'GET', '/stablegate/v1/admin/invoices', null, array( 'state' => 'bogus' ) )->get_status() );
	}

	public function testTestConnectionRunsTheDoctorsChecks(): void {
		wp_set_current_user( 1 );
		$ok = Helpers::rest( 'POST', '/stablegate/v1/admin/test-connection', array( 'network' => 'devnet' ) )->get_data();
		$this->assertTrue( $ok['ok'], wp_json_encode( $ok ) );
		$this->assertSame( array( 'reachable', 'chain', 'eth_getLogs' ), array_column( $ok['checks'], 'check' ) );
		// The devnet is not Ethereum mainnet: the chain check says so.
		$wrong = Helpers::rest( 'POST', '/stablegate/v1/admin/test-connection', array( 'network' => 'ethereum', 'rpc_url' => Helpers::devnetUrl() ) )->get_data();
		$this->assertFalse( $wrong['ok'] );
		$this->assertStringContainsString( 'expected 1 for ethereum', $wrong['checks'][1]['detail'] );
		$down = Helpers::rest( 'POST', '/stablegate/v1/admin/test-connection', array( 'network' => 'devnet', 'rpc_url' => 'http://127.0.0.1:9/' ) )->get_data();
		$this->assertFalse( $down['ok'] );
		$this->assertSame( 'reachable', $down['checks'][0]['check'] );
		$this->assertSame( 400, Helpers::rest( 'POST', '/stablegate/v1/admin/test-connection', array( 'network' => 'solana' ) )->get_status() );
	}

	/** Runs last (declaration order): every document above follows the shared JSON Schema. */
	public function testDocumentsFollowTheSchema(): void {
		$this->assertGreaterThanOrEqual( 2, count( self::$docs ) );
		$this->assertSame( '', Helpers::schemaErrors( self::$docs ) );
	}
}
