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
 * sent. Mirrors crates/core/src/rate.rs (DESIGN §3): read_rate is readRate, invert_price is invert.
 */
final class RateQuote {

	/** Fractional digits of an inverted rate (truncated: see invert()); INVERTED_DIGITS in the core. */
	public const INVERSE_DIGITS = 18;

	/** The characters Rust's str::trim takes off (Unicode White_Space), as a PCRE class. */
	private const WHITE_SPACE = '[\x{9}-\x{d}\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]';

	/**
	 * Describes a JSON value by its type and size, never its content (it may be anything). A
	 * number arrives here as its literal text, so a string holding number syntax reads as one.
	 */
	private static function describe( mixed $value ): string {
		if ( is_string( $value ) ) {
			return preg_match( '/^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\z/', $value )
				? 'a number that is not a plain positive decimal'
				: sprintf( 'a string of %d characters', strlen( $value ) );
		}
		return match ( true ) {
			null === $value   => 'null',
			is_bool( $value ) => 'a boolean',
			default           => 'an object or an array',
		};
	}

	/** True for digits[.digits] with something above zero. */
	private static function positiveDecimal( string $text ): bool {
		return 1 === preg_match( '/^[0-9]+(\.[0-9]+)?\z/', $text ) && 1 === preg_match( '/[1-9]/', $text );
	}

	/**
	 * Returns the rate at $path (a.b.0.c: object keys and array indexes) of the source's answer
	 * $json, as USDT per one unit of the currency; with $invert, the source gives a price (units of
	 * the currency per USDT) and the rate is its exact inverse, truncated to INVERSE_DIGITS
	 * fractional digits.
	 *
	 * A JSON number or a JSON string holding a plain decimal is accepted; negative numbers,
	 * exponents and zero are refused.
	 *
	 * @throws DomainError invalid_rate naming the path: the answer is not JSON, nothing is at the
	 *                     path, or what is there is not a positive plain decimal (or inverts to
	 *                     zero, or has too many digits to invert in 128 bits).
	 */
	public static function readRate( string $json, string $path, bool $invert ): string {
		// What the source answered is never quoted back (the URL may reach a service whose answer
		// is not for a shop manager's eyes): errors describe it by type and size only.
		try {
			json_decode( $json, true, 512, JSON_THROW_ON_ERROR );
		} catch ( \JsonException $e ) {
			throw new DomainError( 'invalid_rate', $path, sprintf( 'the source did not answer JSON (%d characters)', strlen( $json ) ) );
		}
		// Every number token becomes a string holding its literal text (a number's text has no
		// white space, so trimming it below as the core trims a string changes nothing). A JSON
		// string is matched first, so digits inside strings are left alone; the body is valid
		// JSON, so every other match is a number. Possessive quantifiers: valid JSON needs no
		// backtracking, and a plain (?:...)* exhausts PCRE's JIT stack on a string of about 8 KB.
		$quoted = preg_replace_callback(
			'/"(?:[^"\\\\]++|\\\\.)*+"|-?+(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?+(?:[eE][+-]?+[0-9]++)?+/',
			static fn ( array $m ): string => '"' === $m[0][0] ? $m[0] : '"' . $m[0] . '"',
			$json
		);
		if ( null === $quoted ) {
			throw new DomainError( 'invalid_rate', $path, "the source's answer could not be read (" . preg_last_error_msg() . ')' );
		}
		try {
			$value = json_decode( $quoted, true, 512, JSON_THROW_ON_ERROR );
		} catch ( \JsonException $e ) {
			throw new DomainError( 'invalid_rate', $path, "the source's answer could not be read (" . $e->getMessage() . ')' );
		}
		foreach ( explode( '.', $path ) as $part ) {
			// As in the core, an array takes an index the way Rust parses a usize ("+1", "01").
			if ( is_array( $value ) && array_is_list( $value ) && preg_match( '/^\+?[0-9]+\z/', $part ) ) {
				$part = ltrim( ltrim( $part, '+' ), '0' );
				$part = '' === $part ? '0' : $part;
			}
			if ( ! is_array( $value ) || ! array_key_exists( $part, $value ) ) {
				throw new DomainError( 'invalid_rate', $path, "nothing at path $path" );
			}
			$value = $value[ $part ];
		}
		$literal = is_string( $value ) ? (string) preg_replace( '/^' . self::WHITE_SPACE . '++|' . self::WHITE_SPACE . '++\z/u', '', $value ) : '';
		if ( ! self::positiveDecimal( $literal ) ) {
			throw new DomainError( 'invalid_rate', $path, sprintf( 'no positive decimal at path %s (found %s; negative numbers and exponents are refused)', $path, self::describe( $value ) ) );
		}
		return $invert ? self::invert( $literal ) : $literal;
	}

	/**
	 * Returns 1 / $price, truncated to INVERSE_DIGITS fractional digits, for sources that quote the
	 * store currency per USDT (7.12 CNY) when the invoice needs USDT per unit of the currency.
	 * Truncating keeps an order of exactly one USDT's price at one USDT after rounding up; the
	 * amount lost is below 10^-18 per unit of the currency. As in the core, the arithmetic stays
	 * inside 128 bits: a price whose digits or scale do not fit is refused, not inverted.
	 *
	 * @throws DomainError invalid_rate for a price that is not a decimal above zero, that has more
	 *                     digits than 128 bits hold, or so large that its inverse has no digit
	 *                     within INVERSE_DIGITS.
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
		$numerator = Uint::pow10( strlen( $fraction ) + self::INVERSE_DIGITS );
		if ( ! Uint::fitsU128( $mantissa ) || ! Uint::fitsU128( $numerator ) ) {
			throw new DomainError( 'invalid_rate', $price, 'the price has too many digits to invert' );
		}
		list( $units ) = Uint::divmod( $numerator, $mantissa );
		if ( Uint::isZero( $units ) ) {
			throw new DomainError( 'invalid_rate', $price, 'the price is too large to invert' );
		}
		return Amount::toDecimal( $units, self::INVERSE_DIGITS );
	}
}
