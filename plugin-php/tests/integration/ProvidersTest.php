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
use Stablegate\WooCommerce\Integration;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Providers;
use Stablegate\WordPress\Settings;

final class ProvidersTest extends TestCase {

	private const BINANCE_KEY    = 'binance-api-key-test';
	private const BINANCE_SECRET = 'binance-api-secret-test';
	private const IPN_SECRET     = 'now-ipn-secret-test';
	private const NOW_API_KEY    = 'now-api-key-test';

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
				'nowpayments_api_key'    => self::NOW_API_KEY,
			)
		);
		global $wpdb;
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'stablegate\\_pn\\_%'" );
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'stablegate\\_pc\\_%'" );
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
		$doc = Invoices::statusDocument( Invoices::find( $row['public_id'] ), array(), null );
		$this->assertSame( array( 'settled', $doc['amount_due'], '0' ), array( $doc['state'], $doc['amount_paid'], $doc['amount_remaining'] ), 'the status document counts the provider payment as a direct one' );
		$this->assertNotSame( '0', $doc['amount_paid'] );
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

	/**
	 * Issue 16: "masked in settings". The settings row of each provider secret holds no secret
	 * (empty input, a placeholder saying one is saved); an empty save keeps it; WooCommerce's REST
	 * API answers it masked, and a PUT sending the mask back keeps it.
	 */
	public function testProviderSecretsAreMaskedInSettingsAndRest(): void {
		$saved = Settings::all();
		foreach ( Settings::PROVIDER_SECRETS as $key ) {
			$secret = (string) $saved[ $key ];
			$this->assertNotSame( '', $secret );
			$html = Integration::secretRow( 'woocommerce_stablegate_' . $key, $key, array( 'title' => $key ), $secret );
			$this->assertStringNotContainsString( $secret, $html, "$key reached the settings page" );
			$this->assertMatchesRegularExpression( '/<input[^>]*type="password"[^>]*value=""[^>]*placeholder="Saved \\(\\*{8}\\); leave empty to keep it"/', $html );
			$this->assertStringContainsString( 'Remove the saved value', $html );
			$this->assertSame( $secret, Integration::postedSecret( $secret, '', false ), 'an empty save keeps the secret' );
			$this->assertSame( 'new', Integration::postedSecret( $secret, ' new ', false ) );
			$this->assertSame( '', Integration::postedSecret( $secret, '', true ), 'the checkbox removes it' );
			$empty = Integration::secretRow( 'woocommerce_stablegate_' . $key, $key, array( 'title' => $key ), '' );
			$this->assertStringContainsString( 'placeholder=""', $empty );
		}

		// REST GET: WooCommerce's answer (settings with their values) goes through maskSecrets.
		$settings = array();
		foreach ( $saved as $id => $value ) {
			$settings[ $id ] = array( 'id' => $id, 'type' => is_array( $value ) ? 'multiselect' : 'text', 'value' => $value, 'default' => '' );
		}
		$response = Integration::maskSecrets( new WP_REST_Response( array( 'id' => 'stablegate', 'settings' => $settings ) ), (object) array( 'id' => 'stablegate' ) );
		$text     = (string) wp_json_encode( $response->get_data() );
		foreach ( Settings::PROVIDER_SECRETS as $key ) {
			$this->assertStringNotContainsString( (string) $saved[ $key ], $text, "$key in the REST answer" );
			$this->assertSame( Settings::MASK, $response->get_data()['settings'][ $key ]['value'] );
		}
		$this->assertSame( 'USDT', $response->get_data()['settings']['title']['value'], 'other settings are answered as they are' );

		// REST PUT with the masked values sent back: they are dropped, so the saved ones stay.
		$request = new WP_REST_Request( 'PUT', '/wc/v3/payment_gateways/stablegate' );
		$request->set_param( 'settings', array( 'binance_api_key' => Settings::MASK, 'binance_api_secret' => Settings::MASK, 'nowpayments_ipn_secret' => 'a-new-ipn-secret' ) );
		$this->assertNull( Integration::checkRestSettings( null, array(), $request ) );
		$this->assertSame( array( 'nowpayments_ipn_secret' => 'a-new-ipn-secret' ), $request->get_param( 'settings' ), 'the mask keeps; a new value is written' );
	}

	/**
	 * Issue 16: the plugin creates the provider's order itself. FAKE Binance Pay order endpoint and
	 * NOWPayments invoice endpoint (documented payloads), each checking the request as the
	 * provider does (Binance: HMAC-SHA512 of ts\nnonce\nbody\n with the secret, computed here with
	 * hash_hmac, not the plugin's code; NOWPayments: x-api-key). Then a notification settles the
	 * invoice once; a provider that does not answer leaves the invoice open for a direct payment.
	 */
	public function testTheProviderOrderIsCreatedSignedAndItsNotificationSettlesOnce(): void {
		$calls = array();
		$down  = false;
		add_filter(
			'pre_http_request',
			static function ( $pre, array $args, string $url ) use ( &$calls, &$down ) {
				$answer = static fn ( int $code, array $body ): array => array( 'headers' => array(), 'body' => wp_json_encode( $body ), 'response' => array( 'code' => $code, 'message' => '' ), 'cookies' => array(), 'filename' => null );
				if ( Providers::BINANCE_URL . '/binancepay/openapi/v3/order' === $url ) {
					if ( $down ) {
						return new WP_Error( 'http_request_failed', 'cURL error 28: Operation timed out' );
					}
					$h        = $args['headers'];
					$expected = strtoupper( hash_hmac( 'sha512', $h['BinancePay-Timestamp'] . "\n" . $h['BinancePay-Nonce'] . "\n" . $args['body'] . "\n", self::BINANCE_SECRET ) );
					$signed   = self::BINANCE_KEY === $h['BinancePay-Certificate-SN'] && hash_equals( $expected, $h['BinancePay-Signature'] ) && preg_match( '/^[A-Za-z]{32}$/', $h['BinancePay-Nonce'] );
					$calls[]  = array( 'binance', json_decode( $args['body'], true ), $signed );
					return $signed
						? $answer( 200, array( 'status' => 'SUCCESS', 'code' => '000000', 'data' => array( 'prepayId' => '29383937493038367', 'terminalType' => 'WEB', 'checkoutUrl' => 'https://pay.binance.com/en/checkout/29383937493038367' ) ) )
						: $answer( 400, array( 'status' => 'FAIL', 'code' => '400002', 'errorMessage' => 'Signature for this request is not valid.' ) );
				}
				if ( Providers::NOWPAYMENTS_URL . '/invoice' === $url ) {
					$calls[] = array( 'nowpayments', json_decode( $args['body'], true ), self::NOW_API_KEY === $args['headers']['x-api-key'] );
					return $answer( 200, array( 'id' => '4522625843', 'order_id' => json_decode( $args['body'], true )['order_id'], 'invoice_url' => 'https://nowpayments.io/payment/?iid=4522625843' ) );
				}
				return $pre;
			},
			9,
			3
		);
		$row = $this->invoice();
		$url = Providers::checkout( $row, 'binance' );
		$this->assertSame( 'https://pay.binance.com/en/checkout/29383937493038367', $url );
		$this->assertCount( 1, $calls );
		list( $name, $body, $signed ) = $calls[0];
		$this->assertTrue( $signed, 'the order request is signed with the merchant secret' );
		$this->assertSame( substr( $row['public_id'], 4 ), $body['merchantTradeNo'], 'the reference its webhook carries back' );
		$this->assertSame( array( '19.99', 'USDT' ), array( $body['orderAmount'], $body['currency'] ) );
		$this->assertStringEndsWith( '/stablegate/v1/providers/binance/notify', $body['webhookUrl'] );
		$this->assertSame( $url, Providers::checkout( $row, 'binance' ), 'asked again, the order is reused' );
		$this->assertCount( 1, $calls );

		$now = Providers::checkout( $row, 'nowpayments' );
		$this->assertSame( 'https://nowpayments.io/payment/?iid=4522625843', $now );
		list( $name, $body, $keyed ) = $calls[1];
		$this->assertTrue( $keyed, 'the x-api-key header is the merchant key' );
		$this->assertSame( array( $row['public_id'], 19.99, Providers::NOWPAYMENTS_PRICE_CURRENCY ), array( $body['order_id'], $body['price_amount'], $body['price_currency'] ) );

		// The provider's notification for that order settles the invoice once.
		$this->assertSame( 200, $this->post( 'binance', $this->binance( $row, 'PAY_SUCCESS' ) )->get_status() );
		$this->assertSame( 200, $this->post( 'binance', $this->binance( $row, 'PAY_SUCCESS' ) )->get_status() );
		$this->assertSame( 'settled', Invoices::find( $row['public_id'] )['state'] );
		$this->assertSame( 1, $this->settledEvents() );
		$this->assertNull( Providers::checkout( Invoices::find( $row['public_id'] ), 'binance' ), 'a settled invoice gets no provider checkout' );

		// The order-pay page's forms: a button per enabled provider, each with its nonce; a post
		// with the nonce goes to the provider's checkout, one without it creates nothing.
		$other = $this->invoice();
		$back  = 'http://localhost/checkout/order-pay/8/?key=wc_order_y';
		$html  = Providers::forms( $other, $back, false );
		$this->assertSame( 2, preg_match_all( '#<form method="post" class="stablegate-provider" action="[^"]*admin-post\.php">#', $html ) );
		$this->assertStringContainsString( 'Pay with Binance Pay', $html );
		$this->assertStringNotContainsString( 'did not answer', $html );
		$this->assertMatchesRegularExpression( '/name="_sgnonce" value="([0-9a-f]{10})"/', $html );
		preg_match( '/name="_sgnonce" value="([0-9a-f]{10})"/', $html, $m );
		$post = array( 'provider' => 'binance', 'invoice' => $other['public_id'], 'back' => $back, '_sgnonce' => $m[1] );
		$this->assertSame( $back, Providers::redirectFor( array( '_sgnonce' => 'forged0000' ) + $post ), 'no nonce, no order' );
		$this->assertCount( 2, $calls );
		$this->assertSame( 'https://pay.binance.com/en/checkout/29383937493038367', Providers::redirectFor( $post ) );
		$this->assertCount( 3, $calls );
		$this->assertSame( '', Providers::forms( Invoices::find( $row['public_id'] ), $back, false ), 'a settled invoice offers no provider' );

		// Binance down: back to the pay page with the sentence, and the invoice stays open with
		// its direct choices.
		$down  = true;
		$other = $this->invoice();
		$this->assertNull( Providers::checkout( $other, 'binance' ) );
		$post  = array( 'provider' => 'binance', 'invoice' => $other['public_id'], 'back' => $back, '_sgnonce' => wp_create_nonce( Providers::ACTION . '|' . $other['public_id'] ) );
		$to    = Providers::redirectFor( $post );
		$this->assertSame( $back . '&' . Providers::UNAVAILABLE_ARG . '=unavailable', $to );
		$this->assertStringContainsString( 'You can still pay directly on this page', Providers::forms( $other, $back, true ) );
		$fresh = Invoices::find( $other['public_id'] );
		$this->assertSame( 'new', $fresh['state'] );
		$this->assertNotEmpty( Invoices::statusDocument( $fresh, array( 'choose' => 'http://localhost/c', 'claim' => null, 'events' => null, 'new_invoice' => null ), null )['choices'], 'the direct payment is still offered' );
	}

	/**
	 * Issue 16: cancelling an invoice (as a cancelled WooCommerce order does, Invoices::cancel)
	 * closes its Binance order, signed; NOWPayments has nothing to close. A payment made at the
	 * provider anyway does not settle the cancelled invoice.
	 */
	public function testCancellingAnInvoiceClosesItsBinanceOrder(): void {
		$closed = array();
		add_filter(
			'pre_http_request',
			static function ( $pre, array $args, string $url ) use ( &$closed ) {
				$answer = static fn ( array $body ): array => array( 'headers' => array(), 'body' => wp_json_encode( $body ), 'response' => array( 'code' => 200, 'message' => 'OK' ), 'cookies' => array(), 'filename' => null );
				$h      = $args['headers'] ?? array();
				$signed = isset( $h['BinancePay-Signature'] ) && hash_equals( strtoupper( hash_hmac( 'sha512', $h['BinancePay-Timestamp'] . "\n" . $h['BinancePay-Nonce'] . "\n" . $args['body'] . "\n", self::BINANCE_SECRET ) ), $h['BinancePay-Signature'] );
				if ( Providers::BINANCE_URL . '/binancepay/openapi/v3/order' === $url ) {
					return $answer( array( 'status' => 'SUCCESS', 'code' => '000000', 'data' => array( 'checkoutUrl' => 'https://pay.binance.com/en/checkout/1' ) ) );
				}
				if ( Providers::BINANCE_URL . '/binancepay/openapi/order/close' === $url ) {
					$closed[] = array( json_decode( $args['body'], true ), $signed );
					return $answer( array( 'status' => 'SUCCESS', 'code' => '000000', 'data' => true ) );
				}
				if ( Providers::NOWPAYMENTS_URL . '/invoice' === $url ) {
					return $answer( array( 'id' => '1', 'invoice_url' => 'https://nowpayments.io/payment/?iid=1' ) );
				}
				return $pre;
			},
			9,
			3
		);
		$plain = $this->invoice();
		Invoices::cancel( $plain );
		$this->assertSame( array(), $closed, 'no provider order, nothing to close' );

		$row = $this->invoice();
		$this->assertNotNull( Providers::checkout( $row, 'binance' ) );
		$this->assertNotNull( Providers::checkout( $row, 'nowpayments' ) );
		$this->assertSame( 'invalid', Invoices::cancel( $row )['state'] );
		$this->assertSame( array( array( array( 'merchantTradeNo' => substr( $row['public_id'], 4 ) ), true ) ), $closed, 'one signed close of its Binance order' );

		$this->assertSame( 200, $this->post( 'binance', $this->binance( $row, 'PAY_SUCCESS' ) )->get_status() );
		$this->assertSame( 'invalid', Invoices::find( $row['public_id'] )['state'], 'a payment after the cancel does not settle it' );
		$this->assertSame( 0, $this->settledEvents() );
	}
}
