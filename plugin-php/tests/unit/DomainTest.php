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
use Stablegate\Domain\RateQuote;
use Stablegate\Domain\Uint;
use Stablegate\Domain\Watch;

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

	/** Long division against PHP's own integers, and q × b + r = a beyond 64 bits. */
	public function testDivmod(): void {
		mt_srand( 7 );
		for ( $i = 0; $i < 300; $i++ ) {
			$a = mt_rand( 0, PHP_INT_MAX );
			$b = mt_rand( 1, 0 === $i % 2 ? 1000 : PHP_INT_MAX );
			$this->assertSame( array( (string) intdiv( $a, $b ), (string) ( $a % $b ) ), Uint::divmod( (string) $a, (string) $b ), "$a / $b" );
		}
		$a             = Uint::mul( Uint::U128_MAX, '987654321987654321' );
		list( $q, $r ) = Uint::divmod( $a, '123456789123456789123' );
		$this->assertSame( $a, Uint::add( Uint::mul( $q, '123456789123456789123' ), $r ) );
		$this->assertSame( -1, Uint::cmp( $r, '123456789123456789123' ) );
		$this->assertSame( array( Uint::U128_MAX, '0' ), Uint::divmod( $a, '987654321987654321' ) );
		$this->assertSame( array( '0', '5' ), Uint::divmod( '5', '7' ) );
	}

	/** A rate source's answer is read as the literal number text, never as a float. */
	public function testRateFromJsonKeepsTheLiteral(): void {
		$this->assertSame( '1.0834', RateQuote::readRate( '{"rates":{"USD":1.0834}}', 'rates.USD', false ) );
		// 0.1 + 0.2 style literals and digits a double cannot hold survive exactly.
		$this->assertSame( '0.30000000000000000001', RateQuote::readRate( '{"r": 0.30000000000000000001}', 'r', false ) );
		$this->assertSame( '12345678901234567890.5', RateQuote::readRate( '[{"p": 12345678901234567890.5}]', '0.p', false ) );
		$this->assertSame( '7.12', RateQuote::readRate( '{"data":[{"last":" 7.12 "}]}', 'data.0.last', false ) );
		$this->assertSame( '1.5', RateQuote::readRate( '{"a\\"b": "x 2.5", "r": 1.5}', 'r', false ), 'escaped quotes inside strings' );
		// A long string (a licence text, a base64 blob) beside the rate: no PCRE stack limit.
		$this->assertSame( '1.5', RateQuote::readRate( '{"pad": "' . str_repeat( 'a', 20000 ) . '", "r": 1.5}', 'r', false ) );
		$this->assertSame( '1.5', RateQuote::readRate( '{"pad": "' . str_repeat( 'a\\"7 ', 250000 ) . '", "r": 1.5}', 'r', false ) );
		$this->assertSame( '2', RateQuote::readRate( '{"\\u0000k": 1, "r": 2}', 'r', false ), 'a key JSON allows and PHP objects do not' );
		$this->assertSame( '2.5', RateQuote::readRate( '{"r":[1.5, 2.5]}', 'r.01', false ), 'an index as Rust parses a usize' );
		try {
			RateQuote::readRate( '{"r": "internal-token-abc", "other": "x"}', 'r', false );
			$this->fail( 'accepted a word' );
		} catch ( DomainError $e ) {
			$this->assertStringNotContainsString( 'internal-token-abc', $e->getMessage(), 'what the source answered is not quoted back' );
			$this->assertStringContainsString( 'a string of 18 characters', $e->getMessage() );
		}
		foreach ( array( '{"r": -1}', '{"r": 1e2}', '{"r": 0}', '{"r": "abc"}', '{"r": null}', '{"r": true}', '{"r": [1]}', '{"x": 1}', '{"r": 1', '' ) as $body ) {
			try {
				RateQuote::readRate( $body, 'r', false );
				$this->fail( "accepted $body" );
			} catch ( DomainError $e ) {
				$this->assertSame( 'invalid_rate', $e->kind(), $body );
			}
		}
	}

	/** The inverse of a price, truncated to 18 digits. */
	public function testRateInverse(): void {
		$this->assertSame( '1.25', RateQuote::invert( '0.8' ) );
		$this->assertSame( '0.140449438202247191', RateQuote::invert( '7.12' ) );
		$this->assertSame( '0.140449438202247191', RateQuote::invert( '7.1200' ) );
		$this->assertSame( '0.000000000000000001', RateQuote::invert( '1000000000000000000' ) );
		$this->assertSame( '1000000', RateQuote::invert( '0.000001' ) );
		// 7.12 CNY at 7.12 CNY per USDT is 1 USDT, not one step more.
		$this->assertSame( '1000000', Amount::fiatToToken( '7.12', RateQuote::invert( '7.12' ), '0.01', 6 ) );
		$this->assertSame( '0.13793103448275862', RateQuote::readRate( '{"tether":{"cny":7.25}}', 'tether.cny', true ) );
		// As in the core, the arithmetic stays in 128 bits: 10^(21 + 18) does not fit.
		$this->assertSame( '100000000000000000000', RateQuote::invert( '0.00000000000000000001' ) );
		foreach ( array( '0', '0.000', '10000000000000000000', '-1', '1e3', '0.000000000000000000001' ) as $price ) {
			try {
				RateQuote::invert( $price );
				$this->fail( "inverted $price" );
			} catch ( DomainError $e ) {
				$this->assertSame( 'invalid_rate', $e->kind(), $price );
			}
		}
	}

	/** A merchant's finality policy can only add confirmations, and keeps the tag. */
	public function testStricterFinality(): void {
		$eth = Network::get( 'ethereum' );
		$this->assertSame( 96, Watch::requiredConfirmations( $eth, 96 ) );
		$this->assertSame( 64, Watch::requiredConfirmations( $eth, 12 ) );
		$this->assertFalse( Watch::isFinal( $eth, '100', '190', '200', '96' ), '91 confirmations' );
		$this->assertTrue( Watch::isFinal( $eth, '100', '195', '200', '96' ) );
		$this->assertFalse( Watch::isFinal( $eth, '100', '300', '99', '96' ), 'still inside the finalized block' );
	}
}
