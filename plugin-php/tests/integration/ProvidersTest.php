<?php
/**
 * Hosted providers in the plugin (issue 16): Binance Pay webhooks and NOWPayments IPNs complete
 * an invoice's order once; tampered, replayed, stale and unknown-certificate notifications are
 * refused and change nothing. The providers are FAKES: Binance's certificates endpoint is answered
 * through WordPress's pre_http_request filter with its documented payload, and notifications are
 * signed here as each provider signs (openssl with the test's own RSA key; hash_hmac), not with
 * the plugin's code.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Providers;

final class ProvidersTest extends TestCase {

	private const BINANCE_KEY    = 'binance-api-key-test';
	private const BINANCE_SECRET = 'binance-api-secret-test';
	private const IPN_SECRET     = 'now-ipn-secret-test';

	/** @var \OpenSSLAsymmetricKey */
	private static $key;
	private static string $serial;
	private static int $certFetches = 0;

	/** @var array<int, array> */
	private array $events = array();

	public static function setUpBeforeClass(): void {
		self::$key    = openssl_pkey_new( array( 'private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA ) );
		self::$serial = md5( openssl_pkey_get_details( self::$key )['key'] );
	}

	protected function setUp(): void {
		Helpers::reset(
			array(
				'binance_enabled'        => 'yes',
				'binance_api_key'        => self::BINANCE_KEY,
				'binance_api_secret'     => self::BINANCE_SECRET,
				'nowpayments_enabled'    => 'yes',
				'nowpayments_ipn_secret' => self::IPN_SECRET,
			)
		);
		global $wpdb;
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'stablegate\\_pn\\_%'" );
		delete_transient( Providers::CERTS_TRANSIENT );
		delete_transient( Providers::CERTS_TRANSIENT . '_fetched' );
		self::$certFetches = 0;
		// FAKE Binance certificates endpoint: checks the request's HMAC as Binance does.
		add_filter(
			'pre_http_request',
			static function ( $pre, array $args, string $url ) {
				if ( Providers::BINANCE_URL . '/binancepay/openapi/certificates' !== $url ) {
					return $pre;
				}
				$h        = $args['headers'];
				$expected = strtoupper( hash_hmac( 'sha512', $h['BinancePay-Timestamp'] . "\n" . $h['BinancePay-Nonce'] . "\n" . $args['body'] . "\n", self::BINANCE_SECRET ) );
				if ( self::BINANCE_KEY !== $h['BinancePay-Certificate-SN'] || $expected !== $h['BinancePay-Signature'] ) {
					return array( 'headers' => array(), 'body' => '{"status":"FAIL","code":"400002"}', 'response' => array( 'code' => 400, 'message' => 'Bad Request' ), 'cookies' => array(), 'filename' => null );
				}
				self::$certFetches++;
				$body = wp_json_encode( array( 'status' => 'SUCCESS', 'code' => '000000', 'data' => array( array( 'certSerial' => self::$serial, 'certPublic' => openssl_pkey_get_details( self::$key )['key'] ) ) ) );
				return array( 'headers' => array(), 'body' => $body, 'response' => array( 'code' => 200, 'message' => 'OK' ), 'cookies' => array(), 'filename' => null );
			},
			10,
			3
		);
		Helpers::captureEvents( $this->events );
	}

	protected function tearDown(): void {
		remove_all_filters( 'pre_http_request' );
		Helpers::restoreOrderFlow();
	}

	private function invoice(): array {
		return Invoices::create( array( 'fiat_amount' => '19.99', 'currency' => 'USD', 'return_url' => 'http://localhost/checkout/order-received/7/?key=wc_order_x' ) );
	}

	/** A Binance webhook for $row, signed with $key (the fake's own by default). */
	private function binance( array $row, string $status, array $opts = array() ): array {
		$ts    = (string) ( $opts['timestamp'] ?? ( Invoices::now() * 1000 ) );
		$nonce = $opts['nonce'] ?? substr( str_shuffle( str_repeat( 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 2 ) ), 0, 32 );
		$data  = wp_json_encode( array( 'merchantTradeNo' => substr( $row['public_id'], 4 ), 'totalFee' => 19.99, 'currency' => 'USDT', 'transactTime' => (int) $ts ) );
		$body  = wp_json_encode( array( 'bizType' => 'PAY', 'bizId' => 1, 'bizIdStr' => '1', 'bizStatus' => $status, 'data' => $data ) );
		openssl_sign( "$ts\n$nonce\n$body\n", $sig, $opts['key'] ?? self::$key, OPENSSL_ALGO_SHA256 );
		return array(
			'body'    => $body,
			'headers' => array(
				'BinancePay-Timestamp'      => $ts,
				'BinancePay-Nonce'          => $nonce,
				'BinancePay-Signature'      => base64_encode( $sig ),
				'BinancePay-Certificate-SN' => $opts['serial'] ?? self::$serial,
			),
		);
	}

	/** A NOWPayments IPN for $row, signed with JSON.stringify(sortObject(body)) as its docs do. */
	private function ipn( array $row, string $status, string $secret = self::IPN_SECRET ): array {
		$payment = array(
			'payment_id'     => 5077125051,
			'payment_status' => $status,
			'pay_address'    => 'TQ7Z3Ze3xTd1b9wUu3G8h7p8uH7fDj3kXy',
			'price_amount'   => 19.99,
			'price_currency' => 'usd',
			'order_id'       => $row['public_id'],
			'fee'            => array( 'currency' => 'usdttrc20', 'depositFee' => 0, 'withdrawalFee' => 0, 'serviceFee' => 0 ),
		);
		$sorted = $payment;
		ksort( $sorted );
		ksort( $sorted['fee'] );
		$text = json_encode( $sorted, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE );
		return array(
			'body'    => wp_json_encode( $payment ),
			'headers' => array( 'x-nowpayments-sig' => hash_hmac( 'sha512', $text, $secret ) ),
		);
	}

	private function post( string $provider, array $n ): WP_REST_Response {
		$request = new WP_REST_Request( 'POST', "/stablegate/v1/providers/$provider/notify" );
		foreach ( $n['headers'] as $name => $value ) {
			$request->set_header( $name, $value );
		}
		$request->set_header( 'content-type', 'application/json' );
		$request->set_body( $n['body'] );
		return rest_do_request( $request );
	}

	private function settledEvents(): int {
		return count( array_filter( $this->events, static fn ( array $e ): bool => 'invoice.settled' === $e['type'] ) );
	}

	public function testBinancePayCompletesOnceAndRefusesForgeries(): void {
		$row  = $this->invoice();
		$good = $this->binance( $row, 'PAY_SUCCESS' );

		$tampered         = $good;
		$tampered['body'] = str_replace( '19.99', '1999', $good['body'] );
		$this->assertSame( 401, $this->post( 'binance', $tampered )->get_status() );
		$this->assertSame( 1, self::$certFetches, 'the certificate was fetched from the (fake) endpoint' );
		$stale = $this->binance( $row, 'PAY_SUCCESS', array( 'timestamp' => ( Invoices::now() - 600 ) * 1000 ) );
		$this->assertSame( 401, $this->post( 'binance', $stale )->get_status() );
		$other   = openssl_pkey_new( array( 'private_key_bits' => 2048, 'private_key_type' => OPENSSL_KEYTYPE_RSA ) );
		$unknown = $this->binance( $row, 'PAY_SUCCESS', array( 'key' => $other, 'serial' => str_repeat( 'f', 32 ) ) );
		$this->assertSame( 401, $this->post( 'binance', $unknown )->get_status() );
		$wrong_key = $this->binance( $row, 'PAY_SUCCESS', array( 'key' => $other ) );
		$this->assertSame( 401, $this->post( 'binance', $wrong_key )->get_status() );
		$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
		$this->assertSame( 0, $this->settledEvents() );

		$res = $this->post( 'binance', $good );
		$this->assertSame( 200, $res->get_status() );
		$this->assertSame( array( 'returnCode' => 'SUCCESS', 'returnMessage' => null ), $res->get_data() );
		$this->assertSame( 'settled', Invoices::find( $row['public_id'] )['state'] );
		$this->assertSame( 409, $this->post( 'binance', $good )->get_status(), 'a replay is refused' );
		$this->assertSame( 200, $this->post( 'binance', $this->binance( $row, 'PAY_SUCCESS' ) )->get_status() );
		$this->assertSame( 1, $this->settledEvents(), 'the order completes once' );
	}

	public function testNowPaymentsCompletesOnceAndRefusesForgeries(): void {
		$row = $this->invoice();
		$this->assertSame( 401, $this->post( 'nowpayments', $this->ipn( $row, 'finished', 'wrong-secret' ) )->get_status() );
		$tampered         = $this->ipn( $row, 'confirming' );
		$tampered['body'] = str_replace( 'confirming', 'finished', $tampered['body'] );
		$this->assertSame( 401, $this->post( 'nowpayments', $tampered )->get_status() );
		$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );

		$this->assertSame( 200, $this->post( 'nowpayments', $this->ipn( $row, 'confirming' ) )->get_status() );
		$this->assertSame( 'processing', Invoices::find( $row['public_id'] )['state'] );
		$finished = $this->ipn( $row, 'finished' );
		$this->assertSame( 200, $this->post( 'nowpayments', $finished )->get_status() );
		$this->assertSame( 'settled', Invoices::find( $row['public_id'] )['state'] );
		$this->assertSame( 409, $this->post( 'nowpayments', $finished )->get_status() );
		$this->assertSame( 1, $this->settledEvents() );
	}

	public function testADisabledProviderIsRefused(): void {
		Helpers::reset( array( 'nowpayments_enabled' => 'no' ) );
		$row = $this->invoice();
		$this->assertSame( 404, $this->post( 'nowpayments', $this->ipn( $row, 'finished' ) )->get_status() );
		$this->assertSame( 'new', Invoices::find( $row['public_id'] )['state'] );
	}
}
