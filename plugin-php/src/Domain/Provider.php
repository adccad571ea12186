<?php
/**
 * Hosted providers: Binance Pay and NOWPayments signing, notification verification, statuses.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Mirrors crates/core/src/provider.rs and runs the same vectors (tests/vectors/providers/).
 *
 * Binance Pay: requests signed UPPERCASE(HEX(HMAC-SHA512(secret, ts\nnonce\nbody\n))); webhooks
 * verified with RSA-SHA256 (openssl_verify) against the certificate named by
 * BinancePay-Certificate-SN. Binance has no merchant sandbox, and the signing example of its FAQ
 * does not reproduce with the documented algorithm: it is not a test vector.
 * NOWPayments: x-nowpayments-sig = hex HMAC-SHA512(ipn secret, JSON.stringify(sortObject(body))).
 */
final class Provider {

	public const BINANCE_WEBHOOK_TOLERANCE_MS = 300000;
	public const MIN_RSA_BITS                 = 2048;

	private static function timestamp( string $timestamp ): int {
		if ( '' === $timestamp || strlen( $timestamp ) > 18 || ! ctype_digit( $timestamp ) ) {
			throw new DomainError( 'invalid_signature_header', $timestamp, 'BinancePay-Timestamp must be unix milliseconds' );
		}
		return (int) $timestamp;
	}

	private static function nonce( string $nonce ): void {
		if ( '' === $nonce || strlen( $nonce ) > 32 || ! ctype_alnum( $nonce ) ) {
			throw new DomainError( 'invalid_signature_header', $nonce, 'BinancePay-Nonce must be 1 to 32 ASCII letters or digits' );
		}
	}

	/**
	 * BinancePay-Signature of a merchant request.
	 *
	 * @throws DomainError invalid_signature_header.
	 */
	public static function binanceSign( string $secret, string $timestamp, string $nonce, string $body ): string {
		self::timestamp( $timestamp );
		self::nonce( $nonce );
		return strtoupper( hash_hmac( 'sha512', $timestamp . "\n" . $nonce . "\n" . $body . "\n", $secret ) );
	}

	/**
	 * Reads an RSA public key given as PEM (PUBLIC KEY or RSA PUBLIC KEY) or bare base64 DER.
	 *
	 * @return \OpenSSLAsymmetricKey
	 * @throws DomainError invalid_public_key.
	 */
	private static function publicKey( string $text ) {
		$b64 = '';
		foreach ( preg_split( '/\r?\n/', $text ) as $line ) {
			if ( 0 !== strpos( ltrim( $line ), '-----' ) ) {
				$b64 .= preg_replace( '/\s+/', '', $line );
			}
		}
		$der = base64_decode( $b64, true );
		if ( false === $der || '' === $der ) {
			throw new DomainError( 'invalid_public_key', $text, 'not a PEM or base64 public key' );
		}
		$body = chunk_split( base64_encode( $der ), 64, "\n" );
		foreach ( array( 'PUBLIC KEY', 'RSA PUBLIC KEY' ) as $label ) {
			$key = openssl_pkey_get_public( "-----BEGIN $label-----\n$body-----END $label-----\n" );
			if ( false !== $key ) {
				$details = openssl_pkey_get_details( $key );
				if ( OPENSSL_KEYTYPE_RSA !== ( $details['type'] ?? null ) ) {
					break;
				}
				if ( $details['bits'] < self::MIN_RSA_BITS ) {
					throw new DomainError( 'invalid_public_key', $text, 'RSA key shorter than 2048 bits' );
				}
				return $key;
			}
		}
		while ( openssl_error_string() ) { // Clears OpenSSL's error queue.
			continue;
		}
		throw new DomainError( 'invalid_public_key', $text, 'not an RSA public key (SubjectPublicKeyInfo or PKCS#1)' );
	}

	/**
	 * Verifies a Binance Pay webhook (RSA-SHA256, base64 signature), timestamp within the window.
	 *
	 * @throws DomainError invalid_signature_header, invalid_public_key, timestamp_out_of_window, signature_mismatch.
	 */
	public static function binanceVerifyWebhook( string $public_key, string $timestamp, string $nonce, string $body, string $signature, int $now_ms, int $tolerance_ms = self::BINANCE_WEBHOOK_TOLERANCE_MS ): void {
		$sent = self::timestamp( $timestamp );
		self::nonce( $nonce );
		$raw = base64_decode( trim( $signature ), true );
		if ( false === $raw || ! preg_match( '/^[A-Za-z0-9+\/]*={0,2}$/', trim( $signature ) ) || 0 !== strlen( trim( $signature ) ) % 4 ) {
			throw new DomainError( 'invalid_signature_header', $signature, 'BinancePay-Signature must be base64' );
		}
		$key = self::publicKey( $public_key );
		if ( abs( $sent - $now_ms ) > $tolerance_ms ) {
			throw new DomainError( 'timestamp_out_of_window', $timestamp, "more than $tolerance_ms ms from now ($now_ms)" );
		}
		$ok = openssl_verify( $timestamp . "\n" . $nonce . "\n" . $body . "\n", $raw, $key, OPENSSL_ALGO_SHA256 );
		while ( openssl_error_string() ) {
			continue;
		}
		if ( 1 !== $ok ) {
			throw new DomainError( 'signature_mismatch', $signature, 'the RSA-SHA256 signature does not match the payload and key' );
		}
	}

	/** Formats a double as JavaScript's Number.prototype.toString does. */
	public static function jsNumber( float $x ): string {
		if ( 0.0 === $x ) {
			return '0';
		}
		$old = ini_set( 'serialize_precision', '-1' );
		$s   = json_encode( abs( $x ) ); // Shortest round-trip: "0.1", "15", "1.0e+21", "1.0e-7".
		ini_set( 'serialize_precision', (string) $old );
		$exp = 0;
		$e   = stripos( $s, 'e' );
		if ( false !== $e ) {
			$exp = (int) substr( $s, $e + 1 );
			$s   = substr( $s, 0, $e );
		}
		$dot    = strpos( $s, '.' );
		$int    = false === $dot ? $s : substr( $s, 0, $dot );
		$frac   = false === $dot ? '' : substr( $s, $dot + 1 );
		$digits = ltrim( $int . $frac, '0' );
		$n      = strlen( $int ) + $exp - ( strlen( $int . $frac ) - strlen( $digits ) );
		$digits = rtrim( $digits, '0' );
		$k      = strlen( $digits );
		if ( $k <= $n && $n <= 21 ) {
			$body = $digits . str_repeat( '0', $n - $k );
		} elseif ( 0 < $n && $n <= 21 ) {
			$body = substr( $digits, 0, $n ) . '.' . substr( $digits, $n );
		} elseif ( -6 < $n && $n <= 0 ) {
			$body = '0.' . str_repeat( '0', -$n ) . $digits;
		} else {
			$e    = $n - 1;
			$body = ( 1 === $k ? $digits : $digits[0] . '.' . substr( $digits, 1 ) ) . 'e' . ( $e < 0 ? '-' : '+' ) . abs( $e );
		}
		return ( $x < 0 ? '-' : '' ) . $body;
	}

	private static function arrayIndex( string $key ): ?int {
		if ( '' === $key || strlen( $key ) > 10 || ! ctype_digit( $key ) || ( strlen( $key ) > 1 && '0' === $key[0] ) ) {
			return null;
		}
		$n = (int) $key;
		return $n < 4294967295 ? $n : null;
	}

	/**
	 * Writes an object (key => value pairs) with keys in the order of a JS object built from sorted keys.
	 *
	 * @param array<int|string, mixed> $entries Entries.
	 */
	private static function writeObject( array $entries, bool $arrays_as_objects ): string {
		$keys = array_map( 'strval', array_keys( $entries ) );
		usort(
			$keys,
			static function ( string $a, string $b ): int {
				$x = self::arrayIndex( $a );
				$y = self::arrayIndex( $b );
				if ( null !== $x && null !== $y ) {
					return $x <=> $y;
				}
				if ( null !== $x || null !== $y ) {
					return null !== $x ? -1 : 1;
				}
				return strcmp( mb_convert_encoding( $a, 'UTF-16BE', 'UTF-8' ), mb_convert_encoding( $b, 'UTF-16BE', 'UTF-8' ) );
			}
		);
		$parts = array();
		foreach ( $keys as $key ) {
			$parts[] = self::writeString( $key ) . ':' . self::writeValue( $entries[ $key ], $arrays_as_objects );
		}
		return '{' . implode( ',', $parts ) . '}';
	}

	private static function writeString( string $s ): string {
		return (string) json_encode( $s, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS );
	}

	/**
	 * JSON.stringify of a value decoded by json_decode (objects as stdClass).
	 *
	 * @param mixed $value Value.
	 */
	private static function writeValue( $value, bool $arrays_as_objects ): string {
		if ( null === $value ) {
			return 'null';
		}
		if ( is_bool( $value ) ) {
			return $value ? 'true' : 'false';
		}
		if ( is_int( $value ) || is_float( $value ) ) {
			return self::jsNumber( (float) $value );
		}
		if ( is_string( $value ) ) {
			return self::writeString( $value );
		}
		if ( $value instanceof \stdClass ) {
			return self::writeObject( get_object_vars( $value ), $arrays_as_objects );
		}
		if ( $arrays_as_objects ) {
			return self::writeObject( $value, true );
		}
		return '[' . implode( ',', array_map( static fn ( $v ): string => self::writeValue( $v, false ), $value ) ) . ']';
	}

	private static function ipnObject( string $body ): \stdClass {
		try {
			$value = json_decode( $body, false, 512, JSON_THROW_ON_ERROR );
		} catch ( \JsonException $e ) {
			throw new DomainError( 'invalid_provider_payload', $body, 'the IPN body is not JSON: ' . $e->getMessage() );
		}
		if ( ! $value instanceof \stdClass ) {
			throw new DomainError( 'invalid_provider_payload', $body, 'the IPN body must be a JSON object' );
		}
		return $value;
	}

	/**
	 * The text NOWPayments signs: JSON.stringify(sortObject(JSON.parse(body))) of its Node example.
	 *
	 * @throws DomainError invalid_provider_payload.
	 */
	public static function nowpaymentsCanonical( string $body ): string {
		return self::writeValue( self::ipnObject( $body ), true );
	}

	/**
	 * The x-nowpayments-sig of an IPN body.
	 *
	 * @throws DomainError invalid_provider_payload.
	 */
	public static function nowpaymentsSignIpn( string $secret, string $body ): string {
		return hash_hmac( 'sha512', self::nowpaymentsCanonical( $body ), $secret );
	}

	/**
	 * Verifies x-nowpayments-sig (Node form, or arrays kept as in the PHP/Python examples).
	 *
	 * @throws DomainError invalid_signature_header, invalid_provider_payload, signature_mismatch.
	 */
	public static function nowpaymentsVerifyIpn( string $secret, string $body, string $signature ): void {
		$sig = strtolower( trim( $signature ) );
		if ( 128 !== strlen( $sig ) || ! ctype_xdigit( $sig ) ) {
			throw new DomainError( 'invalid_signature_header', $signature, 'x-nowpayments-sig must be 128 hex digits' );
		}
		$value = self::ipnObject( $body );
		$ok    = false;
		foreach ( array( true, false ) as $arrays_as_objects ) {
			$ok = hash_equals( hash_hmac( 'sha512', self::writeValue( $value, $arrays_as_objects ), $secret ), $sig ) || $ok;
		}
		if ( ! $ok ) {
			throw new DomainError( 'signature_mismatch', $signature, 'the HMAC-SHA512 of the sorted body does not match' );
		}
	}

	private const STATUS = array(
		'binance'     => array(
			'INITIAL'         => array( 'new', null ),
			'PENDING'         => array( 'new', null ),
			'PAID'            => array( 'settled', null ),
			'PAY_SUCCESS'     => array( 'settled', null ),
			'REFUND_REJECTED' => array( 'settled', null ),
			'EXPIRED'         => array( 'expired', null ),
			'PAY_CLOSED'      => array( 'expired', null ),
			'CANCELED'        => array( 'invalid', null ),
			'ERROR'           => array( 'invalid', 'needs_review' ),
			'REFUNDING'       => array( 'settled', 'needs_review' ),
			'REFUNDED'        => array( 'settled', 'needs_review' ),
			'FULL_REFUNDED'   => array( 'settled', 'needs_review' ),
			'REFUND_SUCCESS'  => array( 'settled', 'needs_review' ),
		),
		'nowpayments' => array(
			'waiting'        => array( 'new', null ),
			'confirming'     => array( 'processing', null ),
			'confirmed'      => array( 'processing', null ),
			'sending'        => array( 'processing', null ),
			'finished'       => array( 'settled', null ),
			'partially_paid' => array( 'new', 'paid_partial' ),
			'expired'        => array( 'expired', null ),
			'failed'         => array( 'invalid', 'needs_review' ),
			'refunded'       => array( 'invalid', 'needs_review' ),
		),
	);

	/**
	 * Maps a provider's status to the invoice state and exception.
	 *
	 * @return array{state: string, exception: ?string}
	 * @throws DomainError invalid_provider_payload.
	 */
	public static function status( string $provider, string $status ): array {
		if ( ! isset( self::STATUS[ $provider ] ) ) {
			throw new DomainError( 'invalid_provider_payload', $provider, 'unknown provider (binance or nowpayments)' );
		}
		if ( ! isset( self::STATUS[ $provider ][ $status ] ) ) {
			throw new DomainError( 'invalid_provider_payload', $status, "unknown $provider status" );
		}
		[ $state, $exception ] = self::STATUS[ $provider ][ $status ];
		return array(
			'state'     => $state,
			'exception' => $exception,
		);
	}

	/**
	 * A provider's amount (JSON text of a number or a decimal string) in base units.
	 *
	 * @throws DomainError invalid_amount, too_many_decimals, amount_overflow.
	 */
	public static function amount( string $json, int $decimals ): string {
		$value = json_decode( $json );
		if ( is_string( $value ) ) {
			$text = $value;
		} elseif ( ( is_int( $value ) || is_float( $value ) ) && JSON_ERROR_NONE === json_last_error() ) {
			$text = self::jsNumber( (float) $value );
		} else {
			throw new DomainError( 'invalid_amount', $json, 'not a JSON number or decimal string' );
		}
		return Amount::fromDecimal( $text, $decimals );
	}
}
