<?php
/**
 * The invoice → order state table (WooCommerce glue, tested without WooCommerce).
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WooCommerce\OrderStates;

final class OrderStatesTest extends TestCase {

	public function testOnlySettledCompletesAndReviewAlwaysHolds(): void {
		$states     = array( 'new', 'processing', 'settled', 'expired', 'invalid' );
		$exceptions = array( null, 'paid_partial', 'paid_over', 'paid_late', 'needs_review' );
		foreach ( $states as $state ) {
			foreach ( $exceptions as $exception ) {
				$action = OrderStates::action( $state, $exception );
				$this->assertContains( $action, array( 'note', 'on-hold', 'complete', 'cancel', 'fail' ) );
				if ( 'complete' === $action ) {
					$this->assertSame( 'settled', $state, 'only a final payment completes an order' );
				}
				if ( 'needs_review' === $exception ) {
					$this->assertSame( 'on-hold', $action, "$state/needs_review waits for a person" );
				}
			}
		}
		$this->assertSame( 'on-hold', OrderStates::action( 'processing', null ), 'seen but not final: never complete' );
		$this->assertSame( 'complete', OrderStates::action( 'settled', 'paid_late' ) );
		$this->assertSame( 'complete', OrderStates::action( 'settled', 'paid_over' ) );
		$this->assertSame( 'cancel', OrderStates::action( 'expired', null ) );
		$this->assertSame( 'on-hold', OrderStates::action( 'expired', 'paid_partial' ), 'money arrived: the merchant decides' );
		$this->assertSame( 'fail', OrderStates::action( 'invalid', null ) );
		$this->assertSame( 'note', OrderStates::action( 'new', 'paid_partial' ) );
	}
}
