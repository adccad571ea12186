<?php
/**
 * Addresses of EVM networks and TRON.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * An address: 20 bytes and the family whose form it is shown in (EIP-55 hex for EVM, base58check
 * for TRON). Matching compares bytes(); both families share them (TRON's raw address is 0x41
 * followed by the same 20 bytes). Mirrors crates/core/src/address.rs.
 */
final class Address {

	private const TRON_PREFIX = "\x41";

	private function __construct( private string $family, private string $bytes ) {
	}

	/** Creates an address of $family from its 20 raw bytes. */
	public static function fromBytes( string $family, string $bytes ): self {
		if ( 20 !== strlen( $bytes ) ) {
			throw new \LogicException( 'an address is 20 bytes' );
		}
		return new self( $family, $bytes );
	}

	/** Returns the 20 raw bytes. */
	public function bytes(): string {
		return $this->bytes;
	}

	/** Returns the family whose form display() uses. */
	public function family(): string {
		return $this->family;
	}

	/** Returns the same bytes in another family's form. */
	public function withFamily( string $family ): self {
		return new self( $family, $this->bytes );
	}

	/** Returns 0x and 40 lower-case hex digits. */
	public function hex(): string {
		return '0x' . bin2hex( $this->bytes );
	}

	/** Returns the 32-byte log topic of this address, as 0x-hex. */
	public function topic(): string {
		return '0x' . str_repeat( '0', 24 ) . bin2hex( $this->bytes );
	}

	/** Returns true when both hold the same 20 bytes. */
	public function equals( Address $other ): bool {
		return $this->bytes === $other->bytes;
	}

	/** Returns the display form: EIP-55 for EVM, base58check for TRON. */
	public function display(): string {
		if ( Network::TRON === $this->family ) {
			$raw = self::TRON_PREFIX . $this->bytes;
			return Base58::encode( $raw . substr( hash( 'sha256', hash( 'sha256', $raw, true ), true ), 0, 4 ) );
		}
		$lower = bin2hex( $this->bytes );
		$hash  = bin2hex( Keccak::hash( $lower ) );
		$out   = '0x';
		for ( $i = 0; $i < 40; $i++ ) {
			$c    = $lower[ $i ];
			$out .= ( ctype_alpha( $c ) && hexdec( $hash[ $i ] ) >= 8 ) ? strtoupper( $c ) : $c;
		}
		return $out;
	}

	/** Returns the short form used in messages (0x5aAe…eAed). */
	public function short(): string {
		$full = $this->display();
		return substr( $full, 0, 6 ) . '…' . substr( $full, -4 );
	}

	/**
	 * Parses $text as an address of $family.
	 *
	 * @throws DomainError invalid_address, address_checksum.
	 */
	public static function parse( string $family, string $text ): self {
		return Network::TRON === $family ? self::parseTron( $text ) : self::parseEvm( $text );
	}

	/**
	 * Parses an EVM address: 0x + 40 hex; mixed case must be the EIP-55 checksum.
	 *
	 * @throws DomainError invalid_address, address_checksum.
	 */
	public static function parseEvm( string $text ): self {
		$address = new self( Network::EVM, self::parseHex20( $text ) );
		$digits  = substr( $text, 2 );
		$mixed   = strtolower( $digits ) !== $digits && strtoupper( $digits ) !== $digits;
		if ( $mixed && $address->display() !== $text ) {
			throw new DomainError( 'address_checksum', $text, 'mixed-case address fails its EIP-55 checksum; did you mean ' . $address->display() . '?' );
		}
		return $address;
	}

	/**
	 * Parses a TRON address: base58check (T…), or 41 + 40 hex, or 0x + 40 hex.
	 *
	 * @throws DomainError invalid_address, address_checksum.
	 */
	public static function parseTron( string $text ): self {
		if ( str_starts_with( $text, '0x' ) ) {
			return new self( Network::TRON, self::parseHex20( $text ) );
		}
		if ( 42 === strlen( $text ) && str_starts_with( $text, '41' ) && ctype_xdigit( $text ) ) {
			return new self( Network::TRON, self::parseHex20( '0x' . substr( $text, 2 ) ) );
		}
		if ( 34 !== strlen( $text ) || ! str_starts_with( $text, 'T' ) ) {
			throw new DomainError( 'invalid_address', $text, 'a TRON address is 34 characters starting with T' );
		}
		$raw = Base58::decode( $text );
		if ( null === $raw ) {
			throw new DomainError( 'invalid_address', $text, 'not base58 (0, O, I and l are not used)' );
		}
		if ( 25 !== strlen( $raw ) ) {
			throw new DomainError( 'invalid_address', $text, 'base58 payload is not 25 bytes' );
		}
		if ( self::TRON_PREFIX !== $raw[0] ) {
			throw new DomainError( 'invalid_address', $text, 'version byte is not 0x41' );
		}
		$check = substr( hash( 'sha256', hash( 'sha256', substr( $raw, 0, 21 ), true ), true ), 0, 4 );
		if ( ! hash_equals( $check, substr( $raw, 21 ) ) ) {
			throw new DomainError( 'address_checksum', $text, 'base58check checksum does not match' );
		}
		return new self( Network::TRON, substr( $raw, 1, 20 ) );
	}

	/**
	 * Parses any form display() prints (T… as TRON, 0x… as EVM), as records store them.
	 *
	 * @throws DomainError invalid_address, address_checksum.
	 */
	public static function parseAny( string $text ): self {
		return str_starts_with( $text, 'T' ) ? self::parseTron( $text ) : self::parseEvm( $text );
	}

	/** Parses 0x + exactly 40 hex digits of any case into 20 bytes. */
	private static function parseHex20( string $text ): string {
		if ( ! str_starts_with( $text, '0x' ) ) {
			throw new DomainError( 'invalid_address', $text, 'an EVM address starts with 0x' );
		}
		$digits = substr( $text, 2 );
		if ( 40 !== strlen( $digits ) || ! ctype_xdigit( $digits ) ) {
			throw new DomainError( 'invalid_address', $text, 'expected 0x and 40 hex digits' );
		}
		return hex2bin( $digits );
	}
}
