<?php
/**
 * Keccak-256 in plain PHP.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not NIST SHA-3's 0x06, which
 * is what PHP's hash('sha3-256') computes). Needed for EIP-55 checksums; PHP has no Keccak and
 * Packagist is out of reach, so it is written here on 64-bit PHP integers.
 *
 * Spec: https://keccak.team/keccak_specs_summary.html
 */
final class Keccak {

	private const RATE = 136;

	private const ROUND_CONSTANTS = array(
		'0000000000000001', '0000000000008082', '800000000000808a', '8000000080008000',
		'000000000000808b', '0000000080000001', '8000000080008081', '8000000000008009',
		'000000000000008a', '0000000000000088', '0000000080008009', '000000008000000a',
		'000000008000808b', '800000000000008b', '8000000000008089', '8000000000008003',
		'8000000000008002', '8000000000000080', '000000000000800a', '800000008000000a',
		'8000000080008081', '8000000000008080', '0000000080000001', '8000000080008008',
	);

	/** Rotation offsets, indexed by x + 5y. */
	private const ROTATIONS = array( 0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14 );

	/** @var int[]|null */
	private static ?array $rc = null;

	/** Returns the 32-byte Keccak-256 digest of $data (raw bytes). */
	public static function hash( string $data ): string {
		if ( PHP_INT_SIZE !== 8 ) {
			throw new \RuntimeException( 'Keccak-256 needs 64-bit PHP' );
		}
		if ( null === self::$rc ) {
			// 'J' is an unsigned 64-bit big-endian; PHP keeps the bit pattern in a signed int.
			self::$rc = array_map( static fn ( string $h ): int => unpack( 'J', hex2bin( $h ) )[1], self::ROUND_CONSTANTS );
		}
		$padded                     = $data . "\x01" . str_repeat( "\0", self::RATE - 1 - ( strlen( $data ) % self::RATE ) );
		$last                       = strlen( $padded ) - 1;
		$padded[ $last ]            = chr( ord( $padded[ $last ] ) | 0x80 );
		$state                      = array_fill( 0, 25, 0 );
		foreach ( str_split( $padded, self::RATE ) as $block ) {
			$lanes = array_values( unpack( 'P17', $block ) );
			for ( $i = 0; $i < 17; $i++ ) {
				$state[ $i ] ^= $lanes[ $i ];
			}
			self::permute( $state );
		}
		return pack( 'P4', $state[0], $state[1], $state[2], $state[3] );
	}

	/** Rotates a 64-bit lane left by $n (1..63). */
	private static function rotl( int $x, int $n ): int {
		return ( $x << $n ) | ( ( $x >> ( 64 - $n ) ) & ~( -1 << $n ) );
	}

	/**
	 * Keccak-f[1600] on 25 lanes, in place.
	 *
	 * @param int[] $a The state.
	 */
	private static function permute( array &$a ): void {
		$b = array_fill( 0, 25, 0 );
		$c = array_fill( 0, 5, 0 );
		foreach ( self::$rc as $rc ) {
			for ( $x = 0; $x < 5; $x++ ) {
				$c[ $x ] = $a[ $x ] ^ $a[ $x + 5 ] ^ $a[ $x + 10 ] ^ $a[ $x + 15 ] ^ $a[ $x + 20 ];
			}
			for ( $x = 0; $x < 5; $x++ ) {
				$d = $c[ ( $x + 4 ) % 5 ] ^ self::rotl( $c[ ( $x + 1 ) % 5 ], 1 );
				for ( $y = 0; $y < 25; $y += 5 ) {
					$a[ $x + $y ] ^= $d;
				}
			}
			// Rho and pi: lane (x, y) moves to (y, 2x + 3y).
			for ( $x = 0; $x < 5; $x++ ) {
				for ( $y = 0; $y < 5; $y++ ) {
					$r                                   = self::ROTATIONS[ $x + 5 * $y ];
					$lane                                = $a[ $x + 5 * $y ];
					$b[ $y + 5 * ( ( 2 * $x + 3 * $y ) % 5 ) ] = 0 === $r ? $lane : self::rotl( $lane, $r );
				}
			}
			// Chi.
			for ( $y = 0; $y < 25; $y += 5 ) {
				for ( $x = 0; $x < 5; $x++ ) {
					$a[ $x + $y ] = $b[ $x + $y ] ^ ( ~$b[ ( $x + 1 ) % 5 + $y ] & $b[ ( $x + 2 ) % 5 + $y ] );
				}
			}
			// Iota.
			$a[0] ^= $rc;
		}
	}
}
