<?php
/**
 * The WooCommerce side, loaded only when WooCommerce is active.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

/**
 * Registers the gateway, the Blocks integration and the order flow with WooCommerce.
 */
final class Integration {

	/** Declares HPOS and Cart/Checkout Blocks compatibility (before_woocommerce_init). */
	public static function declareCompatibility(): void {
		if ( class_exists( \Automattic\WooCommerce\Utilities\FeaturesUtil::class ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', STABLEGATE_FILE, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', STABLEGATE_FILE, true );
		}
	}

	/** Hooks into WooCommerce when it is active (plugins_loaded). */
	public static function load(): void {
		if ( ! class_exists( 'WC_Payment_Gateway' ) ) {
			return;
		}
		add_filter(
			'woocommerce_payment_gateways',
			static function ( array $gateways ): array {
				$gateways[] = Gateway::class;
				return $gateways;
			}
		);
		// WooCommerce fires woocommerce_blocks_loaded during its own plugins_loaded work, which may
		// come before this callback.
		if ( did_action( 'woocommerce_blocks_loaded' ) ) {
			self::registerBlocks();
		} else {
			add_action( 'woocommerce_blocks_loaded', array( self::class, 'registerBlocks' ) );
		}
		add_action( 'stablegate_invoice_event', array( OrderFlow::class, 'onEvent' ), 10, 2 );
		add_filter( 'woocommerce_cancel_unpaid_order', array( OrderFlow::class, 'mayCancelUnpaid' ), 10, 2 );
	}

	/** Registers the Checkout block payment method. */
	public static function registerBlocks(): void {
		if ( ! class_exists( \Automattic\WooCommerce\Blocks\Payments\Integrations\AbstractPaymentMethodType::class ) ) {
			return;
		}
		add_action(
			'woocommerce_blocks_payment_method_type_registration',
			static function ( $registry ): void {
				$registry->register( new Blocks() );
			}
		);
	}
}
