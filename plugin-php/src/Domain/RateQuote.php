<?php
/**
 * Reading an exchange rate out of a rate source's JSON answer, without floats.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * A rate source answers JSON such as {"rates": {"USD": 1.0834}}; the merchant names the value with
 * a dotted path (rates.USD; array items by index: data.0.price). PHP's json_decode would turn
 * 1.0834 into a float, which is not money, so the number is read as the literal text the source
 * sent. The Node server (shopify-app/src/rates.ts) reads its sources by the same rules.
 */
final class RateQuote {

	/** Fractional digits of an inverted rate (truncated: see invert()). */
	public const INVERSE_DIGITS = 18;

	/**
	 * Returns the decimal at $path of the JSON $body, as the source wrote it.
	 *
	 * @throws DomainError invalid_rate: not JSON, nothing at the path, or not a decimal above zero
	 *                     (negative numbers and exponent forms such as 1e-3 are refused).
	 */
	public static function fromJson( string $body, string $path ): string {
		// What the source answered is never quoted back (the URL may reach a service whose answer
		// is not for a shop manager's eyes): errors describe it by type and size only.
		try {
			json_decode( $body, true, 64, JSON_THROW_ON_ERROR );
		} catch ( \JsonException $e ) {
			throw new DomainError( 'invalid_rate', $path, sprintf( 'the rate source did not answer JSON (%d bytes: %s)', strlen( $body ), $e->getMessage() ) );
		}
		// Every number token becomes a string holding its literal text. A JSON string is matched
		// first, so digits inside strings are left alone; the body is valid JSON, so every other
		// match is a number. Possessive quantifiers: valid JSON needs no backtracking, and a plain
		// (?:...)* exhausts PCRE's JIT stack on a string of about 8 KB.
		$quoted = preg_replace_callback(
			'/"(?:[^"\\\\]++|\\\\.)*+"|-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+/',
			static fn ( array $m ): string => '"' === $m[0][0] ? $m[0] : '"' . $m[0] . '"',
			$body
		);
		if ( null === $quoted ) {
			throw new DomainError( 'invalid_rate', $path, "the rate source's answer could not be read (" . preg_last_error_msg() . ')' );
		}
		try {
			$value = json_decode( $quoted, true, 64, JSON_THROW_ON_ERROR );
		} catch ( \JsonException $e ) {
			throw new DomainError( 'invalid_rate', $path, "the rate source's answer could not be read (" . $e->getMessage() . ')' );
		}
		$walked = array();
		foreach ( explode( '.', $path ) as $key ) {
			if ( ! is_array( $value ) || ! array_key_exists( $key, $value ) ) {
				$where = $walked ? implode( '.', $walked ) : 'the top level';
				$found = is_array( $value ) ? 'keys there: ' . count( $value ) : 'it is ' . gettype( $value );
				throw new DomainError( 'invalid_rate', $path, "the rate source's answer has no \"$key\" at $where ($found)" );
			}
			$value    = $value[ $key ];
			$walked[] = $key;
		}
		$text = is_string( $value ) ? trim( $value ) : '';
		if ( ! preg_match( '/^[0-9]+(\.[0-9]+)?\z/', $text ) || preg_match( '/^0+(\.0+)?\z/', $text ) ) {
			$what = is_string( $value ) ? sprintf( 'a string of %d characters', strlen( $value ) ) : ( is_array( $value ) ? 'an array or object' : gettype( $value ) );
			throw new DomainError( 'invalid_rate', $path, "the value at $path is not a decimal above zero (it is $what; negative numbers and exponents like 1e-3 are refused)" );
		}
		return $text;
	}

	/**
	 * Returns 1 / $price, truncated to INVERSE_DIGITS fractional digits, for sources that quote the
	 * store currency per USDT (7.12 CNY) when the invoice needs USDT per unit of the currency.
	 * Truncating keeps an order of exactly one USDT's price at one USDT after rounding up; the
	 * amount lost is below 10^-18 per unit of the currency.
	 *
	 * @throws DomainError invalid_rate for a price that is not a decimal above zero, or so large
	 *                     that its inverse has no digit within INVERSE_DIGITS.
	 */
	public static function invert( string $price ): string {
		if ( ! preg_match( '/^([0-9]+)(?:\.([0-9]+))?\z/', $price, $m ) ) {
			throw new DomainError( 'invalid_rate', $price, 'expected a decimal like 7.12' );
		}
		$fraction = rtrim( $m[2] ?? '', '0' );
		$mantissa = Uint::normalize( $m[1] . $fraction );
		if ( Uint::isZero( $mantissa ) ) {
			throw new DomainError( 'invalid_rate', $price, 'a price of zero has no inverse' );
		}
		// 1 / (mantissa / 10^scale) = 10^scale / mantissa; scaled by 10^digits and truncated.
		list( $units ) = Uint::divmod( Uint::pow10( strlen( $fraction ) + self::INVERSE_DIGITS ), $mantissa );
		if ( Uint::isZero( $units ) ) {
			throw new DomainError( 'invalid_rate', $price, 'the price is too large to invert' );
		}
		return Amount::toDecimal( $units, self::INVERSE_DIGITS );
	}
}
