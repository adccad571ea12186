<?php
/**
 * Token amounts: base-unit integers, decimal strings at the edges, fiat conversion, the band.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Amounts are canonical decimal strings of base units (for USDT with 6 decimals, "1000000" is 1
 * USDT), bounded by u128 as in the core. Never a float. Mirrors crates/core/src/amount.rs.
 */
final class Amount {

	/**
	 * Parses a base-unit integer string (^[0-9]+$, leading zeros allowed).
	 *
	 * @throws DomainError invalid_amount, amount_overflow.
	 */
	public static function parseBaseUnits( string $text ): string {
		if ( ! Uint::isDigits( $text ) ) {
			throw new DomainError( 'invalid_amount', $text, 'base units must be ASCII digits only' );
		}
		$value = Uint::normalize( $text );
		if ( ! Uint::fitsU128( $value ) ) {
			throw new DomainError( 'amount_overflow', $text, 'amount does not fit in 128 bits' );
		}
		return $value;
	}

	/**
	 * Splits a decimal (^[0-9]+(\.[0-9]+)?$) into whole and fraction digits.
	 *
	 * @return array{0: string, 1: string}
	 * @throws DomainError invalid_amount.
	 */
	private static function split( string $text ): array {
		if ( ! preg_match( '/^([0-9]+)(?:\.([0-9]+))?\z/', $text, $m ) ) {
			throw new DomainError( 'invalid_amount', $text, 'expected digits with an optional fraction, like 12.5' );
		}
		return array( $m[1], $m[2] ?? '' );
	}

	/**
	 * Parses a decimal such as "12.5" for a token with $decimals decimals into base units.
	 * Fractional digits beyond the decimals are accepted only when they are zeros.
	 *
	 * @throws DomainError invalid_amount, too_many_decimals, amount_overflow.
	 */
	public static function fromDecimal( string $text, int $decimals ): string {
		list( $whole, $fraction ) = self::split( $text );
		$fraction                 = rtrim( $fraction, '0' );
		if ( strlen( $fraction ) > $decimals ) {
			throw new DomainError( 'too_many_decimals', $text, "the token has $decimals decimals" );
		}
		$value = Uint::normalize( $whole . $fraction . str_repeat( '0', $decimals - strlen( $fraction ) ) );
		if ( ! Uint::fitsU128( $value ) ) {
			throw new DomainError( 'amount_overflow', $text, 'amount does not fit in 128 bits' );
		}
		return $value;
	}

	/** The fewest fractional digits an amount shows to a person: "20.00", never "20". */
	public const DISPLAY_MIN_FRACTION = 2;

	/**
	 * Formats a decimal amount ("20", "19.5") for a person: its canonical digits with at least
	 * DISPLAY_MIN_FRACTION fractional digits, every significant digit kept (core display_amount).
	 *
	 * @throws DomainError invalid_amount for text that is not a plain decimal.
	 */
	public static function display( string $text ): string {
		if ( 1 !== preg_match( '/^([0-9]+)(?:\.([0-9]+))?$/D', $text, $m ) ) {
			throw new DomainError( 'invalid_amount', $text, 'expected digits with an optional fraction, like 12.5' );
		}
		$whole    = ltrim( $m[1], '0' );
		$fraction = rtrim( $m[2] ?? '', '0' );
		return ( '' === $whole ? '0' : $whole ) . '.' . str_pad( $fraction, self::DISPLAY_MIN_FRACTION, '0' );
	}

	/** Formats base units as a canonical decimal: no leading zeros, no trailing fractional zeros. */
	public static function toDecimal( string $units, int $decimals ): string {
		$digits = str_pad( $units, $decimals + 1, '0', STR_PAD_LEFT );
		$whole  = substr( $digits, 0, strlen( $digits ) - $decimals );
		$frac   = rtrim( (string) substr( $digits, strlen( $digits ) - $decimals ), '0' );
		$whole  = Uint::normalize( $whole );
		return '' === $frac ? $whole : "$whole.$frac";
	}

	/**
	 * Parses a positive decimal (a rate, a fiat amount) into mantissa and scale.
	 *
	 * @return array{0: string, 1: int}
	 * @throws DomainError $kind for bad grammar, amount_overflow above 128 bits.
	 */
	private static function decimal( string $text, string $kind ): array {
		try {
			list( $whole, $fraction ) = self::split( $text );
		} catch ( DomainError $e ) {
			throw new DomainError( $kind, $text, 'expected digits with an optional fraction, like 12.5' );
		}
		$fraction = rtrim( $fraction, '0' );
		$mantissa = Uint::normalize( $whole . $fraction );
		if ( ! Uint::fitsU128( $mantissa ) ) {
			throw new DomainError( 'amount_overflow', $text, 'number does not fit in 128 bits' );
		}
		return array( $mantissa, strlen( $fraction ) );
	}

	/**
	 * Converts a fiat amount at a locked rate (tokens per unit of fiat) to base units, rounded up
	 * (never down) to a multiple of $precision (a token amount such as "0.01").
	 *
	 * @throws DomainError invalid_amount, invalid_rate, amount_overflow.
	 */
	public static function fiatToToken( string $fiat_amount, string $rate, string $precision, int $decimals ): string {
		list( $fiat, $fiat_scale ) = self::decimal( $fiat_amount, 'invalid_amount' );
		list( $r, $rate_scale )    = self::decimal( $rate, 'invalid_rate' );
		if ( Uint::isZero( $r ) ) {
			throw new DomainError( 'invalid_rate', $rate, 'the rate must be above zero' );
		}
		try {
			$step = self::fromDecimal( $precision, $decimals );
		} catch ( DomainError $e ) {
			throw new DomainError( 'invalid_amount', $precision, 'precision: ' . $e->getMessage() );
		}
		if ( Uint::isZero( $step ) ) {
			throw new DomainError( 'invalid_amount', $precision, 'the precision must be above zero' );
		}
		// Exact: fiat × rate × 10^decimals / 10^scale, rounded up; no intermediate bound is needed
		// with arbitrary-size integers.
		$exact = Uint::mul( $fiat, $r );
		$scale = $fiat_scale + $rate_scale;
		if ( $scale <= $decimals ) {
			$units = Uint::mul( $exact, Uint::pow10( $decimals - $scale ) );
		} elseif ( Uint::isZero( $exact ) ) {
			$units = '0';
		} else {
			// ceil(n / 10^k) = floor((n - 1) / 10^k) + 1 for n > 0.
			$less  = Uint::sub( $exact, '1' );
			$cut   = $scale - $decimals;
			$units = strlen( $less ) > $cut ? substr( $less, 0, strlen( $less ) - $cut ) : '0';
			$units = Uint::add( Uint::normalize( $units ), '1' );
		}
		$rest = Uint::mod( $units, $step );
		if ( ! Uint::isZero( $rest ) ) {
			$units = Uint::add( $units, Uint::sub( $step, $rest ) );
		}
		if ( ! Uint::fitsU128( $units ) ) {
			throw new DomainError( 'amount_overflow', $fiat_amount, 'converted amount does not fit in 128 bits' );
		}
		return $units;
	}

	/**
	 * How many steps around each reserved amount stay free: a payment that misses its own amount
	 * by up to this many steps, either way (a typo, an exchange's rounding), lands on no other open
	 * invoice (DESIGN §5).
	 */
	public const AMOUNT_GAP_STEPS = '2';

	/**
	 * Returns the candidate $base + $slot × $step.
	 *
	 * @throws DomainError amount_overflow.
	 */
	private static function bandAmount( string $base, string $step, string $slot ): string {
		$amount = Uint::add( $base, Uint::mul( $slot, $step ) );
		if ( ! Uint::fitsU128( $amount ) ) {
			throw new DomainError( 'amount_overflow', $base, 'the amount band runs past 128 bits' );
		}
		return $amount;
	}

	/**
	 * True when no amount of $taken lies within AMOUNT_GAP_STEPS steps of $amount.
	 *
	 * The core bisects a sorted list; a scan gives the same answer on the few reservations of one
	 * address.
	 *
	 * @param string[] $taken Amounts (base units).
	 */
	private static function clearOf( array $taken, string $amount, string $step ): bool {
		$reach = Uint::mul( $step, self::AMOUNT_GAP_STEPS );
		$low   = Uint::saturatingSub( $amount, $reach );
		$high  = Uint::add( $amount, $reach );
		foreach ( $taken as $t ) {
			if ( Uint::cmp( $t, $low ) >= 0 && Uint::cmp( $t, $high ) <= 0 ) {
				return false;
			}
		}
		return true;
	}

	/**
	 * Finds the smallest slot k < $max_slots such that $base + k × $step is at least
	 * AMOUNT_GAP_STEPS + 1 steps away from every amount in $taken.
	 *
	 * $taken holds the reserved amounts of the invoices still watched on the same (network, token,
	 * recipient), whatever their base: an invoice at another price one step away is a neighbour
	 * too. A database unique index is what makes the choice safe under concurrency; this only
	 * proposes the first candidate.
	 *
	 * @param string   $base      Base units.
	 * @param string   $step      Base units, above zero.
	 * @param string   $max_slots Number of slots (u64 as a string).
	 * @param string[] $taken     Amounts already reserved (base units).
	 * @return array{amount: string, slot: string}
	 * @throws DomainError invalid_amount, amount_band_full (every slot too close to a taken
	 *                     amount), amount_overflow.
	 */
	public static function allocate( string $base, string $step, string $max_slots, array $taken ): array {
		if ( Uint::isZero( $step ) ) {
			throw new DomainError( 'invalid_amount', '0', 'the amount step must be above zero' );
		}
		for ( $slot = '0'; Uint::cmp( $slot, $max_slots ) < 0; $slot = Uint::add( $slot, '1' ) ) {
			$amount = self::bandAmount( $base, $step, $slot );
			if ( self::clearOf( $taken, $amount, $step ) ) {
				return array(
					'amount' => $amount,
					'slot'   => $slot,
				);
			}
		}
		throw new DomainError( 'amount_band_full', $base, "no amount of the $max_slots in the band is clear of the open invoices; use another receiving address or retry later" );
	}

	/**
	 * Chooses the receiving address and unique amount of a new invoice over the merchant's $pool.
	 *
	 * The first address, in pool order, with a clear slot (see allocate()) wins. When every band
	 * is full, the reservation of the invoice that expired unpaid longest ago is reused, so that a
	 * burst of abandoned checkouts never locks a price out for the monitoring window; such a
	 * reservation still has to be clear of every other reservation.
	 *
	 * @param string                                                                                               $base      Base units.
	 * @param string                                                                                               $step      Base units, above zero.
	 * @param string                                                                                               $max_slots Number of slots (u64 as a string).
	 * @param array<int, array{recipient: string, reserved: array<int, array{invoice: string, amount: string, expired_unpaid_at: ?string}>}> $pool
	 *        The receiving addresses and the reservations of the invoices watched on each;
	 *        expired_unpaid_at (unix seconds) is null while open or once anything paid it.
	 * @return array{recipient: string, amount: string, slot: string, reuses: ?string} reuses: the
	 *         expired, unpaid invoice whose reservation this takes over; the host marks it
	 *         released in the same transaction.
	 * @throws DomainError invalid_amount, amount_band_full, amount_overflow.
	 */
	public static function allocateInPool( string $base, string $step, string $max_slots, array $pool ): array {
		$full = null;
		foreach ( $pool as $address ) {
			$taken = array_map( static fn ( array $r ): string => $r['amount'], $address['reserved'] );
			try {
				$found = self::allocate( $base, $step, $max_slots, $taken );
				return array(
					'recipient' => $address['recipient'],
					'amount'    => $found['amount'],
					'slot'      => $found['slot'],
					'reuses'    => null,
				);
			} catch ( DomainError $e ) {
				if ( 'amount_band_full' !== $e->kind() ) {
					throw $e;
				}
				$full = $e;
			}
		}
		if ( Uint::isZero( $max_slots ) ) {
			throw $full ?? self::bandFull( $base );
		}
		$top  = self::bandAmount( $base, $step, Uint::sub( $max_slots, '1' ) );
		$best = null;
		foreach ( $pool as $address ) {
			foreach ( $address['reserved'] as $candidate ) {
				$at = $candidate['expired_unpaid_at'];
				if ( null === $at ) {
					continue;
				}
				$amount  = $candidate['amount'];
				$in_band = Uint::cmp( $amount, $base ) >= 0
					&& Uint::cmp( $amount, $top ) <= 0
					&& Uint::isZero( Uint::mod( Uint::sub( $amount, $base ), $step ) );
				$others  = array();
				foreach ( $address['reserved'] as $r ) {
					if ( $r['invoice'] !== $candidate['invoice'] ) {
						$others[] = $r['amount'];
					}
				}
				if ( ! $in_band || ! self::clearOf( $others, $amount, $step ) ) {
					continue;
				}
				$slot  = Uint::divmod( Uint::sub( $amount, $base ), $step )[0];
				$older = null === $best
					|| Uint::cmp( $at, $best['at'] ) < 0
					|| ( Uint::cmp( $at, $best['at'] ) === 0 && strcmp( $candidate['invoice'], $best['reservation']['invoice'] ) < 0 );
				if ( $older ) {
					$best = array(
						'at'          => $at,
						'recipient'   => $address['recipient'],
						'reservation' => $candidate,
						'slot'        => $slot,
					);
				}
			}
		}
		if ( null !== $best ) {
			return array(
				'recipient' => $best['recipient'],
				'amount'    => $best['reservation']['amount'],
				'slot'      => $best['slot'],
				'reuses'    => $best['reservation']['invoice'],
			);
		}
		throw $full ?? self::bandFull( $base );
	}

	private static function bandFull( string $base ): DomainError {
		return new DomainError( 'amount_band_full', $base, "the merchant's pool has no receiving address with a free amount" );
	}
}
