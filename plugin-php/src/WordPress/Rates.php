<?php
/**
 * Exchange rates: fixed, or fetched from a source with a maximum age.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\Amount;
use Stablegate\Domain\DomainError;
use Stablegate\Domain\RateQuote;

/**
 * The rate prices a new invoice (USDT per unit of the store currency) and is then locked on it.
 * A source is fetched by this server only (its URL may hold an API key and never reaches a
 * browser), cached in an option, and used while younger than its maximum age. When it is older
 * and the source fails, new invoices are refused: there is no fallback rate, ever (gateways.md:
 * Epusdt's silent 6.4 CNY). The source URL and path may hold {currency} and {currency_lower}.
 *
 * A fixed rate, or a source without {currency}, is the rate of the store currency only: an order
 * in another currency (a multi-currency plugin) is refused rather than priced at the wrong rate.
 * A source is fetched over HTTPS (plain HTTP only from this machine), without following redirects.
 */
final class Rates {

	public const CACHE_OPTION = 'stablegate_rate_cache';

	/** Seconds a fetch may take. */
	private const TIMEOUT = 5;

	/** The largest answer read from a source. */
	private const MAX_BYTES = 1048576;

	/** Returns the store currency ('' without WooCommerce). */
	public static function storeCurrency(): string {
		return function_exists( 'get_woocommerce_currency' ) ? (string) get_woocommerce_currency() : (string) get_option( 'woocommerce_currency', '' );
	}

	/** True for an https:// URL, or an http:// one to this machine (a local rate service). */
	public static function isSecure( string $url ): bool {
		$scheme = strtolower( (string) wp_parse_url( $url, PHP_URL_SCHEME ) );
		$host   = strtolower( trim( (string) wp_parse_url( $url, PHP_URL_HOST ), '[]' ) );
		return 'https' === $scheme || ( 'http' === $scheme && in_array( $host, array( '127.0.0.1', 'localhost', '::1' ), true ) );
	}

	/**
	 * True when $rate was fetched at most $max_age seconds ago; a time in the future (a clock that
	 * stepped back, web nodes that disagree) is not fresh.
	 *
	 * @param array{fetched_at: int} $rate A cached rate.
	 */
	private static function isFresh( array $rate, int $max_age ): bool {
		$age = Invoices::now() - (int) $rate['fetched_at'];
		return $age >= 0 && $age <= $max_age;
	}

	/**
	 * Returns the rate to price a new invoice in $currency.
	 *
	 * @return array{rate: string, source: string, fetched_at: int}
	 * @throws ApiError 503 rate_unavailable when the source is stale and failing.
	 */
	public static function current( string $currency ): array {
		$now   = Invoices::now();
		$store = self::storeCurrency();
		$each  = 'url' === Settings::get( 'rate_source' ) && preg_match( '/\{currency(_lower)?\}/', Settings::get( 'rate_url' ) . Settings::get( 'rate_path' ) );
		// A site pricing other currencies through the stablegate_rate filter decides for itself.
		if ( '' !== $store && $currency !== $store && ! $each && ! has_filter( 'stablegate_rate' ) ) {
			throw new ApiError( 422, 'invalid_currency', sprintf( 'the rate is set for %s only; an order in %s needs a rate source whose URL or path has {currency}', $store, $currency ), 'currency' );
		}
		if ( 'url' !== Settings::get( 'rate_source' ) ) {
			return array(
				'rate'       => (string) Settings::get( 'rate' ),
				'source'     => 'fixed',
				'fetched_at' => $now,
			);
		}
		$max_age = max( 10, (int) Settings::get( 'rate_max_age' ) );
		$cached  = self::cached( $currency );
		if ( null !== $cached && self::isFresh( $cached, $max_age ) ) {
			return $cached;
		}
		try {
			return self::refresh( $currency );
		} catch ( \RuntimeException $e ) {
			$age = null === $cached ? 'no rate was ever fetched' : ( $now < $cached['fetched_at'] ? sprintf( 'the last rate is dated %d s in the future', $cached['fetched_at'] - $now ) : sprintf( 'the last rate is %d s old', $now - $cached['fetched_at'] ) );
			throw new ApiError( 503, 'rate_unavailable', sprintf( 'the %s rate source failed (%s) and %s; the maximum age is %d s', $currency, $e->getMessage(), $age, $max_age ) );
		}
	}

	/**
	 * Fetches the source now and caches its rate (on success only).
	 *
	 * @return array{rate: string, source: string, fetched_at: int}
	 * @throws \RuntimeException Naming what failed: the request, the HTTP status, or the answer.
	 */
	public static function refresh( string $currency ): array {
		$rate = self::fetch( (string) Settings::get( 'rate_url' ), (string) Settings::get( 'rate_path' ), 'yes' === Settings::get( 'rate_invert' ), $currency );
		self::remember( $currency, $rate );
		return $rate;
	}

	/**
	 * Caches $rate of $currency for the current source settings.
	 *
	 * @param array{rate: string, source: string, fetched_at: int} $rate A fetched rate.
	 */
	public static function remember( string $currency, array $rate ): void {
		$all                           = get_option( self::CACHE_OPTION, array() );
		$all                           = is_array( $all ) ? $all : array();
		$all[ self::key( $currency ) ] = $rate;
		update_option( self::CACHE_OPTION, $all, false );
	}

	/**
	 * Keeps the source's rate fresh from cron, so that a checkout rarely waits for a fetch: it
	 * refreshes each currency in use once its rate is older than half the maximum age.
	 */
	public static function refreshFromCron(): void {
		if ( 'url' !== Settings::get( 'rate_source' ) ) {
			return;
		}
		$currency = self::storeCurrency();
		if ( '' === $currency ) {
			return;
		}
		$cached = self::cached( $currency );
		if ( null === $cached || ! self::isFresh( $cached, intdiv( max( 10, (int) Settings::get( 'rate_max_age' ) ), 2 ) ) ) {
			try {
				self::refresh( $currency );
			} catch ( \Throwable $e ) {
				// Checkouts will say why when the rate has gone stale; the watcher runs next, whatever this did.
				unset( $e );
			}
		}
	}

	/**
	 * Fetches $url and reads the rate at $path (both after {currency} substitution).
	 *
	 * @return array{rate: string, source: string, fetched_at: int}
	 * @throws \RuntimeException Naming what failed.
	 */
	public static function fetch( string $url, string $path, bool $invert, string $currency ): array {
		$fill     = static fn ( string $text ): string => strtr( $text, array( '{currency}' => $currency, '{currency_lower}' => strtolower( $currency ) ) );
		$url      = $fill( trim( $url ) );
		$path     = $fill( trim( $path ) );
		$host     = (string) wp_parse_url( $url, PHP_URL_HOST );
		if ( ! self::isSecure( $url ) ) {
			throw new \RuntimeException( sprintf( '%s: a rate source must use https:// (plain http:// only on this machine)', $host ) );
		}
		// https to a private or reserved address is refused (wp_safe_remote_get); plain http is
		// only ever to this machine (isSecure), a merchant's own rate service.
		$get      = 'https' === strtolower( (string) wp_parse_url( $url, PHP_URL_SCHEME ) ) ? 'wp_safe_remote_get' : 'wp_remote_get';
		$response = $get(
			$url,
			array(
				'timeout'             => self::TIMEOUT,
				'redirection'         => 0,
				'limit_response_size' => self::MAX_BYTES,
				'headers'             => array( 'Accept' => 'application/json' ),
			)
		);
		if ( is_wp_error( $response ) ) {
			throw new \RuntimeException( sprintf( '%s did not answer: %s', $host, $response->get_error_message() ) );
		}
		$status = (int) wp_remote_retrieve_response_code( $response );
		if ( 200 !== $status ) {
			throw new \RuntimeException( sprintf( '%s answered HTTP %d', $host, $status ) );
		}
		try {
			$rate = RateQuote::readRate( (string) wp_remote_retrieve_body( $response ), $path, $invert );
			// A rate that prices nothing (too many digits for the amounts' 128 bits) is refused
			// now, not cached to fail every checkout until it ages out.
			Amount::fiatToToken( '1', $rate, '0.000001', 18 );
		} catch ( DomainError $e ) {
			throw new \RuntimeException( sprintf( '%s: %s', $host, $e->getMessage() ) );
		}
		return array(
			'rate'       => $rate,
			'source'     => $host,
			'fetched_at' => Invoices::now(),
		);
	}

	/**
	 * Returns the cached rate of $currency for the current source settings, or null.
	 *
	 * @return array{rate: string, source: string, fetched_at: int}|null
	 */
	public static function cached( string $currency ): ?array {
		$all = get_option( self::CACHE_OPTION, array() );
		$hit = is_array( $all ) ? ( $all[ self::key( $currency ) ] ?? null ) : null;
		return is_array( $hit ) && isset( $hit['rate'], $hit['fetched_at'] ) ? $hit : null;
	}

	/** The cache key: the currency and the source settings, so that changing them starts afresh. */
	private static function key( string $currency ): string {
		return $currency . ':' . substr( hash( 'sha256', Settings::get( 'rate_url' ) . "\n" . Settings::get( 'rate_path' ) . "\n" . Settings::get( 'rate_invert' ) ), 0, 16 );
	}
}
