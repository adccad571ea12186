<?php
/**
 * The Cart/Checkout Blocks integration.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

use Automattic\WooCommerce\Blocks\Payments\Integrations\AbstractPaymentMethodType;
use Stablegate\Domain\Network;
use Stablegate\WordPress\Settings;

/**
 * Registers the payment method in the Checkout block: a plain script against WooCommerce's
 * globals (assets/js/blocks.js, no bundler) that shows the description and a network choice and
 * hands the choice to process_payment as payment data.
 */
final class Blocks extends AbstractPaymentMethodType {

	/** @var string */
	protected $name = 'stablegate';

	public function initialize(): void {
		$this->settings = Settings::all();
	}

	public function is_active(): bool {
		$gateways = WC()->payment_gateways() ? WC()->payment_gateways()->payment_gateways() : array();
		return isset( $gateways['stablegate'] ) && $gateways['stablegate']->is_available();
	}

	/** @return string[] */
	public function get_payment_method_script_handles(): array {
		wp_register_script(
			'stablegate-blocks',
			plugins_url( 'assets/js/blocks.js', STABLEGATE_FILE ),
			array( 'wc-blocks-registry', 'wc-settings', 'wp-element', 'wp-html-entities', 'wp-i18n' ),
			STABLEGATE_VERSION,
			true
		);
		wp_set_script_translations( 'stablegate-blocks', 'stablegate', dirname( STABLEGATE_FILE ) . '/languages' );
		return array( 'stablegate-blocks' );
	}

	/** @return array<string, mixed> */
	public function get_payment_method_data(): array {
		$networks = array();
		foreach ( Settings::acceptedChoices() as $choice ) {
			$network    = Network::get( $choice['network'] );
			$token      = $network->token( $choice['token'] );
			$networks[] = array(
				'value' => $choice['network'] . ':' . $choice['token'],
				'label' => $network->names()['en'] . ' — ' . $token['names']['en'],
			);
		}
		return array(
			'title'       => (string) $this->settings['title'],
			'description' => (string) $this->settings['description'],
			'networks'    => $networks,
			'supports'    => array( 'products' ),
		);
	}
}
