<?php
/**
 * Webhook signatures: Stablegate-Signature: t=<unix>,v1=<hex>.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Signs and verifies the Stablegate-Signature header (DESIGN §10), HMAC-SHA256 over
 * "<timestamp>.<body>". Mirrors crates/core/src/webhook.rs.
 */
final class Webhook {

	public const DEFAULT_TOLERANCE_SECS = '300';

	/** Returns the header value for $body sent at $timestamp (unix seconds, decimal string). */
	public static function sign( string $secret, string $body, string $timestamp ): string {
		return 't=' . $timestamp . ',v1=' . hash_hmac( 'sha256', $timestamp . '.' . $body, $secret );
	}

	/**
	 * Verifies $header for $body at the receiver's time $now, within $tolerance seconds either way.
	 *
	 * @throws DomainError invalid_signature_header, timestamp_out_of_window, signature_mismatch.
	 */
	public static function verify( string $secret, string $header, string $body, string $now, string $tolerance = self::DEFAULT_TOLERANCE_SECS ): void {
		$malformed  = static fn ( string $why ): DomainError => new DomainError( 'invalid_signature_header', $header, $why );
		$timestamp  = null;
		$signatures = array();
		foreach ( explode( ',', $header ) as $pair ) {
			$at = strpos( $pair, '=' );
			if ( false === $at ) {
				throw $malformed( 'each part must be key=value' );
			}
			$key   = substr( $pair, 0, $at );
			$value = substr( $pair, $at + 1 );
			if ( 't' === $key ) {
				if ( null !== $timestamp ) {
					throw $malformed( 'more than one t' );
				}
				if ( '' === $value || strlen( $value ) > 19 || ! Uint::isDigits( $value ) ) {
					throw $malformed( 't must be unix seconds' );
				}
				$timestamp = Uint::normalize( $value );
			} elseif ( 'v1' === $key ) {
				if ( 64 !== strlen( $value ) || ! ctype_xdigit( $value ) ) {
					throw $malformed( 'v1 must be 64 hex digits' );
				}
				$signatures[] = strtolower( $value );
			}
		}
		if ( null === $timestamp ) {
			throw $malformed( 'no t' );
		}
		if ( ! $signatures ) {
			throw $malformed( 'no v1' );
		}
		$distance = Uint::cmp( $now, $timestamp ) >= 0 ? Uint::sub( $now, $timestamp ) : Uint::sub( $timestamp, $now );
		if ( Uint::cmp( $distance, $tolerance ) > 0 ) {
			throw new DomainError( 'timestamp_out_of_window', $timestamp, "timestamp is $distance s away from now, more than $tolerance s" );
		}
		$expected = hash_hmac( 'sha256', $timestamp . '.' . $body, $secret );
		$any      = false;
		foreach ( $signatures as $tag ) {
			// Every candidate is compared (no early exit), each in constant time.
			$any = hash_equals( $expected, $tag ) || $any;
		}
		if ( ! $any ) {
			throw new DomainError( 'signature_mismatch', $header, 'no v1 signature matches the body' );
		}
	}
}
