<?php
/**
 * Base58 (Bitcoin alphabet), as TRON addresses use it.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Base58 encoding and decoding over raw bytes. Checksums are the caller's business.
 */
final class Base58 {

	public const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

	/** Encodes raw bytes. */
	public static function encode( string $bytes ): string {
		$digits = array(); // Base-58 digits, least significant first.
		$len    = strlen( $bytes );
		for ( $i = 0; $i < $len; $i++ ) {
			$carry = ord( $bytes[ $i ] );
			foreach ( $digits as $k => $digit ) {
				$carry       += $digit << 8;
				$digits[ $k ] = $carry % 58;
				$carry        = intdiv( $carry, 58 );
			}
			while ( $carry > 0 ) {
				$digits[] = $carry % 58;
				$carry    = intdiv( $carry, 58 );
			}
		}
		$out = str_repeat( '1', $len - strlen( ltrim( $bytes, "\0" ) ) );
		for ( $k = count( $digits ) - 1; $k >= 0; $k-- ) {
			$out .= self::ALPHABET[ $digits[ $k ] ];
		}
		return $out;
	}

	/** Decodes to raw bytes, or returns null when a character is outside the alphabet. */
	public static function decode( string $text ): ?string {
		$bytes = array(); // Least significant first.
		$len   = strlen( $text );
		for ( $i = 0; $i < $len; $i++ ) {
			$value = strpos( self::ALPHABET, $text[ $i ] );
			if ( false === $value ) {
				return null;
			}
			$carry = $value;
			foreach ( $bytes as $k => $byte ) {
				$carry      += $byte * 58;
				$bytes[ $k ] = $carry & 0xff;
				$carry     >>= 8;
			}
			while ( $carry > 0 ) {
				$bytes[] = $carry & 0xff;
				$carry >>= 8;
			}
		}
		$zeros = strlen( $text ) - strlen( ltrim( $text, '1' ) );
		$out   = str_repeat( "\0", $zeros );
		for ( $k = count( $bytes ) - 1; $k >= 0; $k-- ) {
			$out .= chr( $bytes[ $k ] );
		}
		return $out;
	}
}
