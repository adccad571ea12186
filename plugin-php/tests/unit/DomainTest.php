<?php
/**
 * Unit tests of the pieces under the vectors: big integers, Keccak-256, base58, the registry.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\Domain\Address;
use Stablegate\Domain\Amount;
use Stablegate\Domain\Base58;
use Stablegate\Domain\DomainError;
use Stablegate\Domain\Keccak;
use Stablegate\Domain\Network;
use Stablegate\Domain\Uint;

final class DomainTest extends TestCase {

	/** Keccak-256 of the empty string and of the ERC-20 Transfer signature (its topic 0). */
	public function testKeccakKnownDigests(): void {
		$this->assertSame( 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470', bin2hex( Keccak::hash( '' ) ) );
		$this->assertSame( 'ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', bin2hex( Keccak::hash( 'Transfer(address,address,uint256)' ) ) );
		// Not NIST SHA3-256, which PHP has built in and which differs in padding.
		$this->assertNotSame( hash( 'sha3-256', '' ), bin2hex( Keccak::hash( '' ) ) );
	}

	/** The EIP-55 test cases, verbatim. https://eips.ethereum.org/EIPS/eip-55 */
	public function testEip55SpecVectors(): void {
		foreach ( array( '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb' ) as $text ) {
			$this->assertSame( $text, Address::parseEvm( strtolower( $text ) )->display() );
		}
		try {
			Address::parseEvm( '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' );
			$this->fail( 'a flipped checksum letter must be rejected' );
		} catch ( DomainError $e ) {
			$this->assertSame( 'address_checksum', $e->getCode() );
		}
	}

	/** TRON base58check round trip (trustwallet/wallet-core tests/chains/Tron/AddressTests.cpp). */
	public function testTronBase58(): void {
		$a = Address::parseTron( 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC' );
		$this->assertSame( '0x5cd0fb0ab3ce40f3051414c604b27756e69e43db', $a->hex() );
		$this->assertSame( 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC', $a->display() );
		$this->assertSame( "\0\0\x01", Base58::decode( Base58::encode( "\0\0\x01" ) ) );
		$this->assertNull( Base58::decode( 'T0O' ) );
	}

	/** Amounts beyond 64 bits (BNB Smart Chain, 18 decimals) without GMP or bcmath. */
	public function testBigAmounts(): void {
		$units = Amount::fromDecimal( '123456789012.123456789012345678', 18 );
		$this->assertSame( '123456789012123456789012345678', $units );
		$this->assertSame( '123456789012.123456789012345678', Amount::toDecimal( $units, 18 ) );
		$this->assertSame( '246913578024246913578024691356', Uint::add( $units, $units ) );
		$this->assertSame( '0', Uint::sub( $units, $units ) );
		$this->assertSame( Uint::U128_MAX, Uint::fromHex( str_repeat( 'f', 32 ) ) );
		$this->assertSame( str_repeat( 'f', 32 ), Uint::toHex( Uint::U128_MAX ) );
		$this->assertSame( '115792089237316195423570985008687907852589419931798687112530834793049593217025', Uint::mul( Uint::U128_MAX, Uint::U128_MAX ) );
		$this->assertSame( '5', Uint::mod( '340282366920938463463374607431768211455', '10' ) );
		$this->assertSame( -1, Uint::cmp( '99', '100' ) );
		$this->assertSame( array( '34028236692093846346337460743176821145', 5 ), Uint::divSmall( Uint::U128_MAX, 10 ) );
	}

	/** The registry: BSC has 18 decimals, TRON's contract is shown in base58. */
	public function testRegistry(): void {
		$this->assertSame( 18, Network::get( 'bsc' )->token()['decimals'] );
		$this->assertSame( 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', Network::get( 'tron' )->token()['contract']->display() );
		$this->assertTrue( Network::get( 'devnet' )->isFinal( 10, 12, null ) );
		$this->assertFalse( Network::get( 'devnet' )->isFinal( 10, 11, null ) );
		$this->assertFalse( Network::get( 'ethereum' )->isFinal( 10, 100, 9 ) );
	}
}
