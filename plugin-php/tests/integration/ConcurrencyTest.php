<?php
/**
 * Parallel checkouts never get one amount.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

final class ConcurrencyTest extends TestCase {

	public function testParallelInvoiceCreationGetsDistinctAmounts(): void {
		// Sixty invoices three steps apart (no open amount within two steps of another: DESIGN §5).
		Helpers::reset( array( 'networks' => array( 'devnet:usdt' ), 'max_slots' => '180' ) );
		$processes = 6;
		$each      = 10;
		$start     = microtime( true ) + 1.0; // Every process loads WordPress first, then all go at once.
		$running   = array();
		for ( $p = 0; $p < $processes; $p++ ) {
			$cmd       = sprintf( 'php %s %s %d %F', escapeshellarg( __DIR__ . '/create-invoices.php' ), escapeshellarg( ABSPATH ), $each, $start );
			$pipes     = array();
			$running[] = array( proc_open( $cmd, array( 1 => array( 'pipe', 'w' ), 2 => array( 'pipe', 'w' ) ), $pipes ), $pipes );
		}
		$amounts = array();
		foreach ( $running as list( $proc, $pipes ) ) {
			$out = stream_get_contents( $pipes[1] );
			$err = stream_get_contents( $pipes[2] );
			$this->assertSame( 0, proc_close( $proc ), $err . $out );
			$amounts = array_merge( $amounts, json_decode( $out, true, 4, JSON_THROW_ON_ERROR ) );
		}
		$this->assertCount( $processes * $each, $amounts );
		$this->assertCount( $processes * $each, array_unique( $amounts ), 'no two invoices share an amount' );
		sort( $amounts );
		// The smallest clear slots were taken: 5.00, 5.03, ... 6.77 exactly.
		$expected = array();
		for ( $k = 0; $k < $processes * $each; $k++ ) {
			$expected[] = (string) ( 5000000 + 30000 * $k );
		}
		$this->assertSame( $expected, $amounts );
	}

	public function testAFullBandGivesAClearRetryableError(): void {
		// Seven slots hold three invoices: 6.00, 6.03, 6.06 (two free steps around each).
		Helpers::reset( array( 'networks' => array( 'devnet:usdt' ), 'max_slots' => '7' ) );
		for ( $i = 0; $i < 3; $i++ ) {
			Stablegate\WordPress\Invoices::create( array( 'fiat_amount' => '6', 'currency' => 'USD' ) );
		}
		try {
			Stablegate\WordPress\Invoices::create( array( 'fiat_amount' => '6', 'currency' => 'USD' ) );
			$this->fail( 'a fourth invoice in a band of three' );
		} catch ( Stablegate\WordPress\ApiError $e ) {
			$this->assertSame( 503, $e->status );
			$this->assertSame( 'amount_band_full', $e->kind );
			$this->assertStringContainsString( 'retry', $e->getMessage() );
		}
		// A second receiving address in the pool takes over.
		Helpers::reset( array( 'networks' => array( 'devnet:usdt' ), 'max_slots' => '1', 'addresses_evm' => Helpers::RECIPIENT . "\n0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC" ) );
		$a = Stablegate\WordPress\Invoices::create( array( 'fiat_amount' => '6', 'currency' => 'USD' ) );
		$b = Stablegate\WordPress\Invoices::create( array( 'fiat_amount' => '6', 'currency' => 'USD' ) );
		$this->assertSame( $a['reserved_amount'], $b['reserved_amount'] );
		$this->assertNotSame( $a['recipient_hex'], $b['recipient_hex'] );
	}
}
