<?php
/**
 * Unsigned integers of any size as decimal strings, without GMP or bcmath.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Arithmetic on non-negative integers written as canonical decimal strings ("0", "12500000").
 *
 * Token amounts reach 2^128 (BNB Smart Chain uses 18 decimals), beyond PHP's 64-bit integers, and
 * neither GMP nor bcmath can be assumed on shared hosting. The numbers here have at most ~80
 * digits, so schoolbook arithmetic on base-10^7 limbs is plenty fast.
 */
final class Uint {

	/** The largest u128, the bound of every amount. */
	public const U128_MAX = '340282366920938463463374607431768211455';

	/** The largest u64, the bound of block numbers, log indexes and timestamps. */
	public const U64_MAX = '18446744073709551615';

	private const LIMB = 10000000;
	private const LIMB_DIGITS = 7;

	/** Returns true when $text is one or more ASCII digits (leading zeros allowed). */
	public static function isDigits( string $text ): bool {
		return '' !== $text && strspn( $text, '0123456789' ) === strlen( $text );
	}

	/** Strips leading zeros; the caller has checked isDigits(). */
	public static function normalize( string $digits ): string {
		$trimmed = ltrim( $digits, '0' );
		return '' === $trimmed ? '0' : $trimmed;
	}

	/** Compares two canonical numbers: -1, 0 or 1. */
	public static function cmp( string $a, string $b ): int {
		$la = strlen( $a );
		$lb = strlen( $b );
		if ( $la !== $lb ) {
			return $la < $lb ? -1 : 1;
		}
		return $a <=> $b;
	}

	/** Returns true when $a fits in 128 bits. */
	public static function fitsU128( string $a ): bool {
		return self::cmp( $a, self::U128_MAX ) <= 0;
	}

	/** Returns true when $a fits in 64 bits. */
	public static function fitsU64( string $a ): bool {
		return self::cmp( $a, self::U64_MAX ) <= 0;
	}

	/** Returns true for "0". */
	public static function isZero( string $a ): bool {
		return '0' === $a;
	}

	/**
	 * Splits into base-10^7 limbs, least significant first.
	 *
	 * @return int[]
	 */
	private static function limbs( string $a ): array {
		$out = array();
		for ( $end = strlen( $a ); $end > 0; $end -= self::LIMB_DIGITS ) {
			$start = max( 0, $end - self::LIMB_DIGITS );
			$out[] = (int) substr( $a, $start, $end - $start );
		}
		return $out;
	}

	/**
	 * Joins limbs back into a canonical string.
	 *
	 * @param int[] $limbs Least significant first.
	 */
	private static function join( array $limbs ): string {
		while ( count( $limbs ) > 1 && 0 === end( $limbs ) ) {
			array_pop( $limbs );
		}
		$text = (string) array_pop( $limbs );
		while ( $limbs ) {
			$text .= str_pad( (string) array_pop( $limbs ), self::LIMB_DIGITS, '0', STR_PAD_LEFT );
		}
		return $text;
	}

	/** Returns $a + $b. */
	public static function add( string $a, string $b ): string {
		$x     = self::limbs( $a );
		$y     = self::limbs( $b );
		$n     = max( count( $x ), count( $y ) );
		$out   = array();
		$carry = 0;
		for ( $i = 0; $i < $n; $i++ ) {
			$t       = ( $x[ $i ] ?? 0 ) + ( $y[ $i ] ?? 0 ) + $carry;
			$out[]   = $t % self::LIMB;
			$carry   = intdiv( $t, self::LIMB );
		}
		if ( $carry ) {
			$out[] = $carry;
		}
		return self::join( $out );
	}

	/** Returns $a - $b; throws \LogicException when $b > $a (callers check first). */
	public static function sub( string $a, string $b ): string {
		if ( self::cmp( $a, $b ) < 0 ) {
			throw new \LogicException( "Uint::sub below zero: $a - $b" );
		}
		$x      = self::limbs( $a );
		$y      = self::limbs( $b );
		$out    = array();
		$borrow = 0;
		foreach ( $x as $i => $limb ) {
			$t = $limb - ( $y[ $i ] ?? 0 ) - $borrow;
			if ( $t < 0 ) {
				$t     += self::LIMB;
				$borrow = 1;
			} else {
				$borrow = 0;
			}
			$out[] = $t;
		}
		return self::join( $out );
	}

	/** Returns max($a - $b, 0). */
	public static function saturatingSub( string $a, string $b ): string {
		return self::cmp( $a, $b ) <= 0 ? '0' : self::sub( $a, $b );
	}

	/** Returns $a × $b. */
	public static function mul( string $a, string $b ): string {
		$x   = self::limbs( $a );
		$y   = self::limbs( $b );
		$out = array_fill( 0, count( $x ) + count( $y ) + 1, 0 );
		foreach ( $x as $i => $xi ) {
			$carry = 0;
			foreach ( $y as $j => $yj ) {
				// 10^7 × 10^7 + 10^7 + carry stays far below 2^63.
				$t             = $out[ $i + $j ] + $xi * $yj + $carry;
				$out[ $i + $j ] = $t % self::LIMB;
				$carry         = intdiv( $t, self::LIMB );
			}
			$k = $i + count( $y );
			while ( $carry ) {
				$t          = $out[ $k ] + $carry;
				$out[ $k ]  = $t % self::LIMB;
				$carry      = intdiv( $t, self::LIMB );
				++$k;
			}
		}
		return self::join( $out );
	}

	/**
	 * Divides by a small positive integer.
	 *
	 * @return array{0: string, 1: int} Quotient and remainder.
	 */
	public static function divSmall( string $a, int $divisor ): array {
		$quotient = '';
		$rest     = 0;
		$len      = strlen( $a );
		for ( $i = 0; $i < $len; $i += 9 ) {
			$chunk    = substr( $a, $i, 9 );
			$value    = $rest * ( 10 ** strlen( $chunk ) ) + (int) $chunk;
			$quotient .= str_pad( (string) intdiv( $value, $divisor ), strlen( $chunk ), '0', STR_PAD_LEFT );
			$rest     = $value % $divisor;
		}
		return array( self::normalize( $quotient ), $rest );
	}

	/**
	 * Divides $a by $b > 0 (schoolbook long division, one decimal digit at a time).
	 *
	 * @return array{0: string, 1: string} Quotient and remainder.
	 */
	public static function divmod( string $a, string $b ): array {
		if ( self::isZero( $b ) ) {
			throw new \LogicException( 'Uint::divmod by zero' );
		}
		$quotient = '';
		$rest     = '0';
		$len      = strlen( $a );
		for ( $i = 0; $i < $len; $i++ ) {
			$rest  = self::normalize( $rest . $a[ $i ] );
			$digit = 0;
			while ( self::cmp( $rest, $b ) >= 0 ) {
				$rest = self::sub( $rest, $b );
				++$digit;
			}
			$quotient .= (string) $digit;
		}
		return array( self::normalize( $quotient ), $rest );
	}

	/** Returns $a mod $b for $b > 0. */
	public static function mod( string $a, string $b ): string {
		return self::divmod( $a, $b )[1];
	}

	/** Returns 10^$n. */
	public static function pow10( int $n ): string {
		return '1' . str_repeat( '0', $n );
	}

	/** Converts hex digits (no prefix, any case, non-empty) to decimal. */
	public static function fromHex( string $hex ): string {
		$out = '0';
		// Eight hex digits (32 bits) at a time keep each step inside PHP's integers.
		$hex = str_pad( $hex, (int) ceil( strlen( $hex ) / 8 ) * 8, '0', STR_PAD_LEFT );
		foreach ( str_split( $hex, 8 ) as $chunk ) {
			$out = self::add( self::mul( $out, '4294967296' ), (string) hexdec( $chunk ) );
		}
		return $out;
	}

	/** Converts a canonical decimal to lower-case hex without prefix ("0" for zero). */
	public static function toHex( string $a ): string {
		if ( self::isZero( $a ) ) {
			return '0';
		}
		$hex = '';
		while ( ! self::isZero( $a ) ) {
			list( $a, $rest ) = self::divSmall( $a, 65536 );
			$hex              = str_pad( dechex( $rest ), 4, '0', STR_PAD_LEFT ) . $hex;
		}
		$hex = ltrim( $hex, '0' );
		return '' === $hex ? '0' : $hex;
	}

	/** Returns the value as a PHP int; the caller knows it fits (block numbers, times). */
	public static function toInt( string $a ): int {
		if ( self::cmp( $a, (string) PHP_INT_MAX ) > 0 ) {
			throw new \LogicException( "Uint::toInt overflow: $a" );
		}
		return (int) $a;
	}
}
