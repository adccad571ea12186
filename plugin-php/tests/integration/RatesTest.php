<?php
/**
 * The rate: fixed, or from a source with a maximum age, against a real HTTP server (PHP's
 * built-in server on this machine) that the test scripts answer by answer.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\ApiError;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Rates;
use Stablegate\WordPress\Schema;
use Stablegate\WordPress\Settings;

final class RatesTest extends TestCase {

	/** @var resource|null The rate source's process. */
	private static $server = null;

	private static string $dir = '';

	private static string $url = '';

	/** The test's clock (stablegate_now). */
	private int $now = 1800000000;

	public static function setUpBeforeClass(): void {
		self::$dir = sys_get_temp_dir() . '/sg-rates-' . bin2hex( random_bytes( 4 ) );
		mkdir( self::$dir );
		self::answer( 200, '{}' );
		list( self::$server, self::$url ) = Helpers::phpServer( __DIR__ . '/rate-source.php', array( 'RATE_DIR' => self::$dir ) );
	}

	public static function tearDownAfterClass(): void {
		proc_terminate( self::$server );
		proc_close( self::$server );
		array_map( 'unlink', glob( self::$dir . '/*' ) );
		rmdir( self::$dir );
	}

	/** What the rate source answers next. */
	private static function answer( int $status, string $body ): void {
		file_put_contents( self::$dir . '/answer.json', wp_json_encode( array( 'status' => $status, 'body' => $body ) ) );
	}

	/** @return string[] The URIs the source was asked for. */
	private static function requests(): array {
		$log = self::$dir . '/requests.log';
		return is_file( $log ) ? file( $log, FILE_IGNORE_NEW_LINES ) : array();
	}

	protected function setUp(): void {
		Helpers::reset(
			array(
				'rate_source'  => 'url',
				'rate_url'     => self::$url . '/v1/latest?base={currency}&key=s3cret',
				'rate_path'    => 'rates.USD',
				'rate_max_age' => '300',
				'networks'     => array( 'devnet:usdt', 'devnet:usdt18' ),
			)
		);
		delete_option( Rates::CACHE_OPTION );
		@unlink( self::$dir . '/requests.log' ); // phpcs:ignore WordPress.PHP.NoSilencedErrors -- absent before the first test.
		add_filter( 'stablegate_now', fn () => $this->now );
	}

	private function create( string $fiat, string $currency = 'EUR' ): array {
		return Invoices::create(
			array(
				'fiat_amount' => $fiat,
				'currency'    => $currency,
				'choices'     => array( array( 'network' => 'devnet', 'token' => 'usdt' ) ),
			)
		);
	}

	private function invoiceCount(): int {
		global $wpdb;
		return (int) $wpdb->get_var( 'SELECT COUNT(*) FROM ' . Schema::table( 'invoices' ) );
	}

	private function refused( string $fiat ): ApiError {
		$before = $this->invoiceCount();
		try {
			$this->create( $fiat );
		} catch ( ApiError $e ) {
			$this->assertSame( $before, $this->invoiceCount(), 'nothing written' );
			return $e;
		}
		$this->fail( 'priced an invoice without a fresh rate' );
	}

	public function testTheRateIsTheNumberTheSourceWroteAndIsLockedOnTheInvoice(): void {
		self::answer( 200, '{"base": "EUR", "rates": {"GBP": 0.8412, "USD": 1.0834}, "date": "2026-11-25"}' );
		$row = $this->create( '10' );
		$this->assertSame( '1.0834', $row['rate'], 'the literal text, no float on the way' );
		$this->assertSame( '10840000', $row['reserved_amount'], '10 EUR × 1.0834 = 10.834, rounded up to 10.84 USDT' );
		$this->assertSame( array( '/v1/latest?base=EUR&key=s3cret' ), self::requests(), '{currency} filled in' );

		// Within the maximum age the cached rate prices new invoices, without a fetch.
		self::answer( 200, '{"rates": {"USD": 1.2}}' );
		$this->now += 300;
		$this->assertSame( '1.0834', $this->create( '20' )['rate'] );
		$this->assertCount( 1, self::requests() );

		// Older: fetched again; the first invoice keeps the rate it was priced at.
		$this->now += 1;
		$this->assertSame( '1.2', $this->create( '30' )['rate'] );
		$this->assertCount( 2, self::requests() );
		$this->assertSame( '1.0834', Invoices::find( $row['public_id'] )['rate'] );
	}

	public function testAStaleRateWithAFailingSourceRefusesToPriceAndNeverFallsBack(): void {
		self::answer( 503, '{"error": "maintenance"}' );
		$e = $this->refused( '10' );
		$this->assertSame( 503, $e->status );
		$this->assertSame( 'rate_unavailable', $e->kind );
		$this->assertStringContainsString( 'answered HTTP 503', $e->getMessage() );
		$this->assertStringContainsString( 'no rate was ever fetched', $e->getMessage() );

		self::answer( 200, '{"rates": {"USD": "1.09"}}' );
		$this->assertSame( '1.09', $this->create( '10' )['rate'], 'a JSON string is read as well' );

		// The source fails again after the rate went stale: refused, even though a rate is cached.
		$this->now += 301;
		self::answer( 500, 'oops' );
		$e = $this->refused( '10' );
		$this->assertStringContainsString( 'the last rate is 301 s old; the maximum age is 300 s', $e->getMessage() );
		$this->assertStringNotContainsString( 's3cret', $e->getMessage(), 'the source URL, which may hold a key, is not in the message' );

		// The source is back: new invoices get its rate.
		self::answer( 200, '{"rates": {"USD": 1.1}}' );
		$this->assertSame( '1.1', $this->create( '10' )['rate'] );
	}

	public function testAnswersThatAreNotAPositiveDecimalAreRefusedWithTheReason(): void {
		$cases = array(
			'not JSON'           => array( 'Service <b>unavailable</b>', 'did not answer JSON' ),
			'path missing'       => array( '{"rates": {"EUR": 1, "GBP": 0.84}}', 'nothing at path rates.USD' ),
			'negative'           => array( '{"rates": {"USD": -1.08}}', 'no positive decimal at path rates.USD' ),
			'zero'               => array( '{"rates": {"USD": "0.000"}}', 'no positive decimal at path rates.USD' ),
			'exponent'           => array( '{"rates": {"USD": 1.08e0}}', 'no positive decimal at path rates.USD' ),
			'an object'          => array( '{"rates": {"USD": {"rate": 1.08}}}', 'no positive decimal at path rates.USD' ),
			'digits in a string' => array( '{"note": "rates.USD 1.5", "rates": {"usd": 1.08}}', 'nothing at path rates.USD' ),
		);
		foreach ( $cases as $name => list( $body, $reason ) ) {
			self::answer( 200, $body );
			$e = $this->refused( '10' );
			$this->assertSame( 'rate_unavailable', $e->kind, $name );
			$this->assertStringContainsString( $reason, $e->getMessage(), $name );
		}
		$this->assertFalse( get_option( Rates::CACHE_OPTION ), 'no bad answer was cached' );
	}

	public function testAnInvertedSourcePricesOneUsdtAtExactlyItsPrice(): void {
		Helpers::reset(
			array(
				'rate_source' => 'url',
				'rate_url'    => self::$url . '/api/v5/market/ticker?instId=USDT-{currency}',
				'rate_path'   => 'data.0.last',
				'rate_invert' => 'yes',
				'networks'    => array( 'devnet:usdt' ),
			)
		);
		self::answer( 200, '{"code": "0", "data": [{"instId": "USDT-CNY", "last": "7.12"}]}' );
		$row = $this->create( '7.12', 'CNY' );
		$this->assertSame( '0.140449438202247191', $row['rate'], '1 / 7.12, truncated to 18 digits' );
		$this->assertSame( '1000000', $row['reserved_amount'], '7.12 CNY at 7.12 CNY per USDT is 1.00 USDT, not 1.01' );
		$this->assertSame( '/api/v5/market/ticker?instId=USDT-CNY', self::requests()[0] );
	}

	public function testTheFixedRateNeedsNoSource(): void {
		Helpers::reset( array( 'rate' => '0.92' ) );
		$this->assertSame( '0.92', $this->create( '100' )['rate'] );
		$this->assertSame( array(), self::requests() );
	}

	public function testCronKeepsTheRateFreshSoThatACheckoutDoesNotWait(): void {
		update_option( 'woocommerce_currency', 'EUR' );
		self::answer( 200, '{"rates": {"USD": 1.05}}' );
		$this->assertNotFalse( has_action( \Stablegate\WordPress\Watcher::CRON_HOOK, array( Rates::class, 'refreshFromCron' ) ), 'hooked to the cron event' );
		Rates::refreshFromCron();
		$this->assertSame( '1.05', Rates::cached( 'EUR' )['rate'] );
		$this->now += 100; // Under half the maximum age: no fetch.
		Rates::refreshFromCron();
		$this->assertCount( 1, self::requests() );
		$this->now += 60; // Over half: fetched ahead of the checkouts.
		self::answer( 200, '{"rates": {"USD": 1.06}}' );
		Rates::refreshFromCron();
		$this->assertSame( '1.06', Rates::cached( 'EUR' )['rate'] );
		$this->create( '10' );
		$this->assertCount( 2, self::requests(), 'the checkout used the rate cron fetched' );
		delete_option( 'woocommerce_currency' );
	}

	public function testWhatTheSourceAnsweredIsNotQuotedBack(): void {
		// The URL could point at a service whose answer is not for a shop manager's eyes.
		self::answer( 200, '{"rates": {"USD": "internal-token-abc"}}' );
		$e = $this->refused( '10' );
		$this->assertStringNotContainsString( 'internal-token-abc', $e->getMessage() );
		$this->assertStringContainsString( 'found a string of 18 characters', $e->getMessage() );
		self::answer( 200, 'root:x:0:0:root:/root:/bin/bash' );
		$e = $this->refused( '10' );
		$this->assertStringNotContainsString( 'root:', $e->getMessage() );
		$this->assertStringContainsString( 'did not answer JSON (31 characters', $e->getMessage() );
	}

	public function testARateThatCannotPriceIsNotCached(): void {
		// 40 significant digits: over the 128 bits an amount is computed in.
		self::answer( 200, '{"rates": {"USD": "0.1404494382022471910112359550561797752808"}}' );
		$e = $this->refused( '10' );
		$this->assertSame( 'rate_unavailable', $e->kind );
		$this->assertStringContainsString( 'amount_overflow', $e->getMessage() );
		$this->assertFalse( get_option( Rates::CACHE_OPTION ) );
	}

	public function testARateFromTheFutureIsNotFresh(): void {
		self::answer( 200, '{"rates": {"USD": 1.05}}' );
		$this->create( '10' );
		$this->now -= 120; // The clock stepped back (or another web node's clock is behind).
		self::answer( 500, '{}' );
		$e = $this->refused( '10' );
		$this->assertStringContainsString( 'the last rate is dated 120 s in the future', $e->getMessage() );
	}

	public function testAnOrderInAnotherCurrencyIsNotPricedAtTheStoresRate(): void {
		update_option( 'woocommerce_currency', 'USD' );
		try {
			Helpers::reset( array( 'rate' => '1' ) );
			$before = $this->invoiceCount();
			try {
				$this->create( '100', 'GBP' );
				$this->fail( 'priced 100 GBP at the USD rate' );
			} catch ( ApiError $e ) {
				$this->assertSame( array( 422, 'invalid_currency' ), array( $e->status, $e->kind ) );
				$this->assertStringContainsString( 'the rate is set for USD only', $e->getMessage() );
			}
			$this->assertSame( $before, $this->invoiceCount(), 'nothing written' );
			$this->assertSame( '1', $this->create( '100', 'USD' )['rate'] );

			// A source without {currency} answers for the store currency only, too.
			Helpers::reset( array( 'rate_source' => 'url', 'rate_url' => self::$url . '/usd', 'rate_path' => 'rates.USD' ) );
			self::answer( 200, '{"rates": {"USD": 1}}' );
			$this->assertSame( 'invalid_currency', $this->refused( '100' )->kind, 'an order in EUR' );
			$this->assertSame( array(), self::requests(), 'refused before any fetch' );
			// With {currency} each currency gets its own rate.
			Helpers::reset( array( 'rate_source' => 'url', 'rate_url' => self::$url . '/latest?base={currency}', 'rate_path' => 'rates.USD' ) );
			self::answer( 200, '{"rates": {"USD": 1.27}}' );
			$this->assertSame( '1.27', $this->create( '100', 'GBP' )['rate'] );
			$this->assertSame( array( '/latest?base=GBP' ), self::requests() );
		} finally {
			delete_option( 'woocommerce_currency' );
		}
	}

	public function testSettingsRefuseAnIncompleteSource(): void {
		$errors = Settings::validate(
			array(
				'rate_source'  => 'url',
				'rate_url'     => 'ftp://rates.example',
				'rate_path'    => 'rates..USD',
				'rate_max_age' => '5',
			)
		);
		$this->assertSame( array( 'rate_url', 'rate_path', 'rate_max_age' ), array_keys( $errors ) );
		$this->assertSame( array(), Settings::validate( array( 'rate_source' => 'url', 'rate_url' => 'https://api.frankfurter.app/latest?from={currency}', 'rate_path' => 'rates.USD', 'rate_max_age' => '600' ) ) );
		$this->assertArrayHasKey( 'rate_source', Settings::validate( array( 'rate_source' => 'coingecko' ) ) );
		// Plain HTTP only to this machine: a rate read in clear could be changed on the way.
		$this->assertStringContainsString( 'https://', Settings::validate( array( 'rate_source' => 'url', 'rate_url' => 'http://rates.example/usd', 'rate_path' => 'r' ) )['rate_url'] );
		$this->assertSame( array(), Settings::validate( array( 'rate_source' => 'url', 'rate_url' => 'http://127.0.0.1:8080/usd', 'rate_path' => 'r' ) ) );
		// A stored http:// URL (saved before this rule) is refused at fetch time as well.
		Helpers::reset( array( 'rate_source' => 'url', 'rate_url' => 'http://rates.example/usd', 'rate_path' => 'r' ) );
		$this->assertStringContainsString( 'must use https://', $this->refused( '10' )->getMessage() );
		$this->assertArrayHasKey( 'rate', Settings::validate( array( 'rate' => '0' ) ) );
	}
}
