<?php
/**
 * The WooCommerce side, loaded only when WooCommerce is active.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

use Stablegate\WordPress\Settings;

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
		add_action( 'woocommerce_order_status_cancelled', array( OrderFlow::class, 'onCancelled' ), 10, 2 );
		add_filter( 'woocommerce_cancel_unpaid_order', array( OrderFlow::class, 'mayCancelUnpaid' ), 10, 2 );
		add_filter( 'woocommerce_email_enabled_customer_on_hold_order', array( OrderFlow::class, 'mayEmailOnHold' ), 10, 2 );
		add_filter( 'woocommerce_rest_prepare_payment_gateway', array( self::class, 'maskSecrets' ), 10, 2 );
		add_filter( 'rest_request_before_callbacks', array( self::class, 'checkRestSettings' ), 10, 3 );
	}

	/**
	 * WooCommerce's REST API can update the gateway's settings (PUT wc/v3/payment_gateways/
	 * stablegate) without the settings screen's checks: the same checks run here, and a bad value
	 * gets a 400 naming the field, with nothing written. A URL sent back as the masked host that
	 * GET answered keeps the saved URL.
	 *
	 * @param mixed            $response What the callbacks would get (null to go on).
	 * @param array            $handler  The route's handler.
	 * @param \WP_REST_Request $request  The request.
	 * @return mixed $response, or a \WP_Error.
	 */
	public static function checkRestSettings( $response, $handler, $request ) {
		if ( null !== $response || ! $request instanceof \WP_REST_Request || 'GET' === $request->get_method()
			|| ! preg_match( '#^/wc/v[0-9]+/payment_gateways/stablegate/?$#', $request->get_route() ) || ! is_array( $request['settings'] ) ) {
			return $response;
		}
		$posted = $request['settings'];
		$saved  = Settings::all();
		foreach ( $posted as $key => $value ) {
			$saved_value = (string) ( $saved[ $key ] ?? '' );
			if ( Settings::isSecret( (string) $key ) && '' !== $saved_value && (string) $value === Settings::masked( (string) $key, $saved_value ) ) {
				unset( $posted[ $key ] ); // The masked value GET answered: keep the saved secret.
			}
		}
		$request->set_param( 'settings', $posted );
		// What this change breaks (a value stored before a rule existed does not block every update).
		$errors = array_diff_assoc( Settings::validate( array_merge( $saved, $posted ) ), Settings::validate( $saved ) );
		if ( ! $errors ) {
			return $response;
		}
		$text = implode( '; ', array_map( static fn ( $key, $message ) => "$key: $message", array_keys( $errors ), $errors ) );
		return new \WP_Error( 'stablegate_invalid_settings', $text, array( 'status' => 400, 'fields' => array_keys( $errors ) ) );
	}

	/**
	 * WooCommerce's REST API (wc/v3/payment_gateways) answers every setting's value, also to a
	 * read-only API key given to an ERP: the RPC and rate source URLs (which may hold API keys)
	 * are answered as their host only, the provider secrets as Settings::MASK, as the settings
	 * screen shows them.
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
			if ( 'stablegate_secret' === ( $setting['type'] ?? '' ) || Settings::isSecret( (string) $id ) ) {
				$data['settings'][ $id ]['value']   = Settings::masked( (string) $id, (string) ( $setting['value'] ?? '' ) );
				$data['settings'][ $id ]['default'] = '';
			}
		}
		$response->set_data( $data );
		return $response;
	}

	/**
	 * The settings row of a secret (an RPC or rate source URL, a provider secret): a password
	 * input that is always empty, so the saved value never reaches a browser; the placeholder
	 * says a value is saved (a URL's host, or the mask). Empty on save keeps the saved value
	 * (Gateway::validate_stablegate_secret_field); the checkbox removes it.
	 *
	 * @param string               $field The input's name (the gateway's field key).
	 * @param string               $key   The setting.
	 * @param array<string, mixed> $data  Field definition.
	 * @param string               $saved The saved value.
	 */
	public static function secretRow( string $field, string $key, array $data, string $saved ): string {
		$is_url = ! in_array( $key, Settings::PROVIDER_SECRETS, true );
		/* translators: %s: host name of the saved URL, or asterisks for a saved key */
		$placeholder = '' === $saved ? ( $is_url ? 'https://…' : '' ) : sprintf( __( 'Saved (%s); leave empty to keep it', 'stablegate' ), Settings::masked( $key, $saved ) );
		ob_start();
		?>
		<tr valign="top">
			<th scope="row" class="titledesc"><label for="<?php echo esc_attr( $field ); ?>"><?php echo esc_html( $data['title'] ?? '' ); ?></label></th>
			<td class="forminp"><fieldset>
				<input class="input-text regular-input" type="password" autocomplete="off" name="<?php echo esc_attr( $field ); ?>" id="<?php echo esc_attr( $field ); ?>" value="" placeholder="<?php echo esc_attr( $placeholder ); ?>" />
				<?php if ( isset( $data['network'] ) ) : ?>
					<button type="button" class="button stablegate-test-connection" data-network="<?php echo esc_attr( $data['network'] ); ?>"><?php esc_html_e( 'Test connection', 'stablegate' ); ?></button>
					<span class="stablegate-test-result" role="status"></span>
				<?php endif; ?>
				<?php if ( '' !== $saved ) : ?>
					<br /><label><input type="checkbox" name="<?php echo esc_attr( $field ); ?>_clear" value="1" /> <?php echo esc_html( $is_url ? __( 'Remove the saved URL', 'stablegate' ) : __( 'Remove the saved value', 'stablegate' ) ); ?></label>
				<?php endif; ?>
				<p class="description"><?php echo esc_html( $data['description'] ?? '' ); ?></p>
			</fieldset></td>
		</tr>
		<?php
		return (string) ob_get_clean();
	}

	/** What a save of a secret field writes: the posted value, the saved one when empty, '' when removed. */
	public static function postedSecret( string $saved, string $posted, bool $remove ): string {
		if ( $remove ) {
			return '';
		}
		$posted = trim( $posted );
		return '' === $posted ? $saved : $posted;
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
