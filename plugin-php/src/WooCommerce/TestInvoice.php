<?php
/**
 * "Pay a test invoice": the merchant's own payment, in the sandbox, end to end.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

use Stablegate\WordPress\Rest;
use Stablegate\WordPress\Sandbox;

/**
 * Creates a real WooCommerce order of 1.00 in the store currency for the merchant, paid with
 * Stablegate, and sends them to its payment page: they pay it from their wallet with test USDT
 * and meet what a customer meets (the widget, the payment-link e-mail, the order's states and
 * notes, the stablegate_invoice_event hook). Only in the sandbox, so no real money is asked.
 */
final class TestInvoice {

	public const ACTION = 'stablegate_test_invoice';

	/** The test order's total, in the store currency. */
	public const AMOUNT = '1.00';

	/** Handles the settings screen's link (admin-post.php): capability, nonce, then the order. */
	public static function start(): void {
		if ( ! Rest::isMerchant() ) {
			wp_die( esc_html__( 'You are not allowed to manage the shop\'s payments.', 'stablegate' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::ACTION );
		try {
			$order = self::create( wp_get_current_user() );
		} catch ( \Exception $e ) {
			wp_die( esc_html( $e->getMessage() ), '', array( 'back_link' => true ) );
		}
		wp_safe_redirect( $order->get_checkout_payment_url( true ) );
		exit;
	}

	/**
	 * Creates the test order for $user and starts its payment as the checkout would.
	 *
	 * @throws \Exception When the sandbox is off or the payment cannot start (a sentence to show).
	 */
	public static function create( \WP_User $user ): \WC_Order {
		if ( ! function_exists( 'WC' ) ) {
			throw new \Exception( esc_html__( 'Stablegate cannot take a payment yet: enable it, enter a receiving address and save.', 'stablegate' ) );
		}
		if ( ! Sandbox::isOn() ) {
			throw new \Exception( esc_html__( 'Switch the sandbox on and save first: a test invoice is paid with test USDT only.', 'stablegate' ) );
		}
		$gateway = WC()->payment_gateways()->payment_gateways()['stablegate'] ?? null;
		if ( null === $gateway || ! $gateway->is_available() ) {
			throw new \Exception( esc_html__( 'Stablegate cannot take a payment yet: enable it, enter a receiving address and save.', 'stablegate' ) );
		}
		$order = wc_create_order(
			array(
				'customer_id' => $user->ID,
				'created_via' => 'stablegate-sandbox',
			)
		);
		$fee = new \WC_Order_Item_Fee();
		$fee->set_name( __( 'Stablegate test payment', 'stablegate' ) );
		$fee->set_amount( self::AMOUNT );
		$fee->set_total( self::AMOUNT );
		$fee->set_tax_status( 'none' );
		$order->add_item( $fee );
		$order->set_billing_email( $user->user_email );
		$order->set_billing_first_name( $user->display_name );
		$order->set_payment_method( $gateway );
		$order->update_meta_data( '_stablegate_test', 'yes' );
		$order->calculate_totals( false );
		/* translators: %s: the merchant's user name */
		$order->add_order_note( sprintf( __( 'Sandbox test order started by %s from the Stablegate settings. Paid with test USDT, it goes through the states, notes and e-mails a customer\'s order goes through.', 'stablegate' ), $user->user_login ) );
		$order->save();
		$result = $gateway->process_payment( $order->get_id() );
		if ( 'success' !== ( $result['result'] ?? '' ) ) {
			throw new \Exception( esc_html__( 'The test payment could not start; see the order\'s notes.', 'stablegate' ) );
		}
		return wc_get_order( $order->get_id() );
	}

	/** The settings screen's link that starts a test payment (with its nonce). */
	public static function url(): string {
		return wp_nonce_url( admin_url( 'admin-post.php?action=' . self::ACTION ), self::ACTION );
	}
}
