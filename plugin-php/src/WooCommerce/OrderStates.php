<?php
/**
 * The one table that maps invoice states to order states.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

/**
 * Invoice state and exception → what happens to the WooCommerce order (DESIGN §5). Pure data, no
 * WooCommerce calls, so the table is unit-tested without WooCommerce.
 *
 * Actions: note (an order note only), on-hold, complete (payment_complete with the transaction),
 * cancel, fail.
 */
final class OrderStates {

	/**
	 * The table: "state" or "state/exception" => action. Lookups try state/exception first.
	 */
	public const TABLE = array(
		'new'                     => 'note',     // Network chosen, waiting for the payment.
		'new/paid_partial'        => 'note',     // Part paid; the widget asks for the rest.
		'new/needs_review'        => 'on-hold',
		'processing'              => 'on-hold',  // Paid in full, not final yet: hold, never complete.
		'processing/paid_over'    => 'on-hold',
		'processing/paid_late'    => 'on-hold',
		'processing/needs_review' => 'on-hold',
		'settled'                 => 'complete',
		'settled/paid_over'       => 'complete', // Complete, and the note asks to refund the excess.
		'settled/paid_late'       => 'complete', // Paid after expiry within the monitoring window.
		'settled/needs_review'    => 'on-hold',  // Ambiguous claim or a manual mark: a person decides.
		'expired'                 => 'cancel',   // Late payments are still watched and complete it.
		'expired/paid_partial'    => 'on-hold',  // Money arrived but not enough: the merchant decides.
		'expired/needs_review'    => 'on-hold',
		'invalid'                 => 'fail',     // The payment was reorganised away.
		'invalid/needs_review'    => 'on-hold',
	);

	/** Returns the action for a state and exception. */
	public static function action( string $state, ?string $exception ): string {
		if ( null !== $exception && isset( self::TABLE[ "$state/$exception" ] ) ) {
			return self::TABLE[ "$state/$exception" ];
		}
		return self::TABLE[ $state ] ?? 'note';
	}
}
