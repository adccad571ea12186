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
		add_filter( 'woocommerce_rest_prepare_payment_gateway', array( self::class, 'maskSecrets' ), 10, 2 );
	}

	/**
	 * WooCommerce's REST API (wc/v3/payment_gateways) answers every setting's value, also to a
	 * read-only API key given to an ERP: the RPC and rate source URLs (which may hold API keys)
	 * are answered as their host only, as the settings screen shows them.
	 *
	 * @param \WP_REST_Response $response The gateway's REST answer.
	 * @param object            $gateway  The gateway.
	 */
	public static function maskSecrets( $response, $gateway ) {
		if ( ! $response instanceof \WP_REST_Response || 'stablegate' !== ( $gateway->id ?? '' ) ) {
			return $response;
		}
		$data = $response->get_data();
		foreach ( (array) ( $data['settings'] ?? array() ) as $id => $setting ) {
			if ( 'stablegate_secret' === ( $setting['type'] ?? '' ) ) {
				$value                             = (string) ( $setting['value'] ?? '' );
				$data['settings'][ $id ]['value']   = '' === $value ? '' : (string) wp_parse_url( $value, PHP_URL_HOST );
				$data['settings'][ $id ]['default'] = '';
			}
		}
		$response->set_data( $data );
		return $response;
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
