<?php
/**
 * The WooCommerce payment gateway.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

use Stablegate\Domain\Network;
use Stablegate\WordPress\ApiError;
use Stablegate\WordPress\Assets;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Rates;
use Stablegate\WordPress\Rest;
use Stablegate\WordPress\Settings;
use Stablegate\WordPress\Watcher;

/**
 * USDT straight to the merchant's wallet. process_payment creates the invoice (choosing the
 * network at once when the customer picked one at checkout) and sends the customer to the
 * order-pay page, where the widget runs; the order stays pending until the watcher sees the
 * payment. Thin on purpose: the invoice engine does the work.
 */
class Gateway extends \WC_Payment_Gateway {

	public function __construct() {
		$this->id                 = 'stablegate';
		$this->method_title       = __( 'Stablegate (USDT)', 'stablegate' );
		$this->method_description = __( 'USDT payments straight to your own wallet, watched on chain by this plugin. No provider, no fee beyond the network\'s.', 'stablegate' );
		$this->has_fields         = true;
		$this->supports           = array( 'products' );
		$this->init_form_fields();
		$this->init_settings();
		$this->title       = (string) $this->get_option( 'title' );
		$this->description = (string) $this->get_option( 'description' );
		$this->enabled     = (string) $this->get_option( 'enabled' );
		add_action( 'woocommerce_update_options_payment_gateways_' . $this->id, array( $this, 'process_admin_options' ) );
		add_action( 'woocommerce_receipt_' . $this->id, array( $this, 'receipt_page' ) );
		add_action( 'woocommerce_thankyou_' . $this->id, array( $this, 'thankyou_page' ) );
	}

	/** The settings fields (stored in woocommerce_stablegate_settings, read by Settings). */
	public function init_form_fields(): void {
		$networks = array();
		foreach ( Network::all() as $network ) {
			foreach ( $network->tokens() as $token ) {
				$networks[ $network->id() . ':' . $token['id'] ] = $network->names()['en'] . ' — ' . $token['names']['en'] . ( $token['official'] ? '' : ' (' . __( 'not issued by Tether', 'stablegate' ) . ')' );
			}
		}
		$fields = array(
			'enabled'          => array(
				'title'   => __( 'Enable', 'stablegate' ),
				'type'    => 'checkbox',
				'label'   => __( 'Accept USDT with Stablegate', 'stablegate' ),
				'default' => 'no',
			),
			'title'            => array(
				'title'   => __( 'Title', 'stablegate' ),
				'type'    => 'text',
				'default' => __( 'USDT', 'stablegate' ),
			),
			'description'      => array(
				'title'   => __( 'Description', 'stablegate' ),
				'type'    => 'textarea',
				'default' => __( 'Pay with USDT (Tether) from your own wallet or an exchange.', 'stablegate' ),
			),
			'networks'         => array(
				'title'   => __( 'Networks', 'stablegate' ),
				'type'    => 'multiselect',
				'class'   => 'wc-enhanced-select',
				'options' => $networks,
				'default' => Settings::DEFAULTS['networks'],
			),
			'addresses_evm'    => array(
				'title'       => __( 'EVM receiving addresses', 'stablegate' ),
				'type'        => 'textarea',
				'description' => __( 'One per line (0x…). Ethereum, BNB Smart Chain, Polygon and the other EVM networks share them. The next address is used when every amount of the first is in use.', 'stablegate' ),
				'class'       => 'stablegate-address',
				'custom_attributes' => array( 'data-family' => 'evm' ),
			),
			'addresses_tron'   => array(
				'title'       => __( 'TRON receiving addresses', 'stablegate' ),
				'type'        => 'textarea',
				'description' => __( 'One per line (T…).', 'stablegate' ),
				'class'       => 'stablegate-address',
				'custom_attributes' => array( 'data-family' => 'tron' ),
			),
		);
		foreach ( Network::all() as $network ) {
			$fields[ 'rpc_' . $network->id() ] = array(
				/* translators: %s: network name */
				'title'       => sprintf( __( 'RPC URL: %s', 'stablegate' ), $network->names()['en'] ),
				'type'        => 'stablegate_secret',
				'network'     => $network->id(),
				'description' => __( 'JSON-RPC endpoint (may include your API key; it stays on this server).', 'stablegate' )
					// The gateway is built on every checkout request; the watcher's status is for the admin only.
					. ( is_admin() ? Watcher::describe( $network->id() ) : '' ),
			);
			$least = $network->finalityConfirmations();
			$fields[ 'confirmations_' . $network->id() ] = array(
				/* translators: %s: network name */
				'title'             => sprintf( __( 'Confirmations: %s', 'stablegate' ), $network->names()['en'] ),
				'type'              => 'number',
				'default'           => '',
				'placeholder'       => (string) $least,
				'custom_attributes' => array(
					'min' => (string) $least,
					'max' => (string) Settings::MAX_CONFIRMATIONS,
				),
				'description'       => null === $network->finalityTag()
					/* translators: %d: number of confirmations */
					? sprintf( __( 'A payment is final after %d confirmations. Empty keeps that; a larger number waits longer. It cannot be lower.', 'stablegate' ), $least )
					/* translators: %d: number of confirmations */
					: sprintf( __( 'A payment is final once its block is finalized and has %d confirmations. Empty keeps that; a larger number waits longer. It cannot be lower.', 'stablegate' ), $least ),
			);
		}
		$fields += array(
			'expiry_minutes'      => array(
				'title'   => __( 'Payment window (minutes)', 'stablegate' ),
				'type'    => 'number',
				'default' => '30',
			),
			'monitoring_hours'    => array(
				'title'       => __( 'Monitoring window after expiry (hours)', 'stablegate' ),
				'type'        => 'number',
				'default'     => '24',
				'description' => __( 'Late payments within this window still complete the order (as paid late).', 'stablegate' ),
			),
			'step'                => array(
				'title'   => __( 'Unique-amount step', 'stablegate' ),
				'type'    => 'select',
				'options' => array(
					'0.01'   => '0.01',
					'0.001'  => '0.001',
					'0.0001' => '0.0001',
				),
				'default' => '0.01',
			),
			'max_slots'           => array(
				'title'   => __( 'Amounts per address', 'stablegate' ),
				'type'    => 'number',
				'default' => '100',
			),
			'tolerance'           => array(
				'title'       => __( 'Accepted underpayment (USDT)', 'stablegate' ),
				'type'        => 'text',
				'default'     => '0',
				'description' => __( 'Exchanges sometimes deduct a fee; payments short by at most this much count as paid.', 'stablegate' ),
			),
			'auto_accept_up_to'   => array(
				'title'       => __( 'Auto-accept claims up to (USDT)', 'stablegate' ),
				'type'        => 'text',
				'default'     => '0',
				'description' => __( 'A customer who pastes a transaction hash proves nothing about who paid. Claimed payments up to this amount complete the order at once; larger ones wait in the review queue for you to accept or reject. 0 sends every claim to review.', 'stablegate' ),
			),
			'rate_source'         => array(
				'title'   => __( 'Exchange rate', 'stablegate' ),
				'type'    => 'select',
				'options' => array(
					'fixed' => __( 'Fixed rate', 'stablegate' ),
					'url'   => __( 'From a rate source (JSON over HTTPS)', 'stablegate' ),
				),
				'default' => 'fixed',
			),
			'rate'                => array(
				'title'       => __( 'Fixed rate (USDT per unit of the store currency)', 'stablegate' ),
				'type'        => 'text',
				'default'     => '1',
				'description' => __( 'Locked on each invoice. 1 for a USD store.', 'stablegate' ),
			),
			'rate_url'            => array(
				'title'       => __( 'Rate source URL', 'stablegate' ),
				'type'        => 'stablegate_secret',
				'description' => __( 'Fetched by this server only (it may hold an API key). {currency} and {currency_lower} stand for the store currency.', 'stablegate' ),
			),
			'rate_path'           => array(
				'title'       => __( 'Path to the rate in the answer', 'stablegate' ),
				'type'        => 'text',
				'default'     => '',
				'placeholder' => 'rates.USD',
				'description' => __( 'Dotted keys, array items by index: rates.USD, data.0.price.', 'stablegate' ),
			),
			'rate_invert'         => array(
				'title'   => __( 'The source quotes the store currency per USDT', 'stablegate' ),
				'type'    => 'checkbox',
				'label'   => __( 'Invert it (for example 7.12 CNY per USDT becomes 0.1404… USDT per CNY)', 'stablegate' ),
				'default' => 'no',
			),
			'rate_max_age'        => array(
				'title'       => __( 'Maximum age of the rate (seconds)', 'stablegate' ),
				'type'        => 'number',
				'default'     => '600',
				// The gateway is built on every checkout request; the rate's status is for the admin only.
				'description' => is_admin() ? self::rateStatus() : '',
			),
			'precision'           => array(
				'title'   => __( 'Round amounts up to', 'stablegate' ),
				'type'    => 'text',
				'default' => '0.01',
			),
			'delete_on_uninstall' => array(
				'title'   => __( 'Delete all data on uninstall', 'stablegate' ),
				'type'    => 'checkbox',
				'label'   => __( 'Remove invoices, ledger and settings when the plugin is deleted', 'stablegate' ),
				'default' => 'no',
			),
		);
		$this->form_fields = $fields;
	}

	/**
	 * Renders an RPC or rate source URL field: a password input that is always empty, so the saved
	 * URL (which may hold an API key) never reaches a browser; a placeholder names the saved host.
	 * Empty on save keeps the saved value; the checkbox removes it.
	 *
	 * @param string               $key  Field key.
	 * @param array<string, mixed> $data Field definition.
	 */
	public function generate_stablegate_secret_html( $key, $data ): string {
		$field = $this->get_field_key( $key );
		$saved = (string) $this->get_option( $key );
		/* translators: %s: host name of the saved URL */
		$placeholder = '' === $saved ? 'https://…' : sprintf( __( 'Saved (%s); leave empty to keep it', 'stablegate' ), (string) wp_parse_url( $saved, PHP_URL_HOST ) );
		ob_start();
		?>
		<tr valign="top">
			<th scope="row" class="titledesc"><label for="<?php echo esc_attr( $field ); ?>"><?php echo esc_html( $data['title'] ); ?></label></th>
			<td class="forminp"><fieldset>
				<input class="input-text regular-input" type="password" autocomplete="off" name="<?php echo esc_attr( $field ); ?>" id="<?php echo esc_attr( $field ); ?>" value="" placeholder="<?php echo esc_attr( $placeholder ); ?>" />
				<?php if ( isset( $data['network'] ) ) : ?>
					<button type="button" class="button stablegate-test-connection" data-network="<?php echo esc_attr( $data['network'] ); ?>"><?php esc_html_e( 'Test connection', 'stablegate' ); ?></button>
					<span class="stablegate-test-result" role="status"></span>
				<?php endif; ?>
				<?php if ( '' !== $saved ) : ?>
					<br /><label><input type="checkbox" name="<?php echo esc_attr( $field ); ?>_clear" value="1" /> <?php esc_html_e( 'Remove the saved URL', 'stablegate' ); ?></label>
				<?php endif; ?>
				<p class="description"><?php echo esc_html( $data['description'] ); ?></p>
			</fieldset></td>
		</tr>
		<?php
		return (string) ob_get_clean();
	}

	/**
	 * Keeps the saved RPC URL when the field comes back empty; removes it when asked.
	 *
	 * @param string      $key   Field key.
	 * @param string|null $value Posted value.
	 */
	public function validate_stablegate_secret_field( $key, $value ): string {
		$posted = $this->get_post_data();
		if ( ! empty( $posted[ $this->get_field_key( $key ) . '_clear' ] ) ) {
			return '';
		}
		$value = trim( (string) $value );
		return '' === $value ? (string) $this->get_option( $key ) : $value;
	}

	/**
	 * Saves the settings only when every field is valid (nothing is half-written).
	 *
	 * @return bool
	 */
	public function process_admin_options() {
		$posted = array();
		foreach ( $this->get_form_fields() as $key => $field ) {
			try {
				$posted[ $key ] = $this->get_field_value( $key, $field, $this->get_post_data() );
			} catch ( \Exception $e ) {
				$this->add_error( esc_html( $e->getMessage() ) );
			}
		}
		foreach ( Settings::validate( $posted ) as $key => $message ) {
			$this->add_error( esc_html( ( $this->form_fields[ $key ]['title'] ?? $key ) . ': ' . $message ) );
		}
		// A new or changed rate source is tried before it is saved, so that a wrong URL or path
		// shows now rather than as refused checkouts. An unchanged one is not: a source that is
		// down must not stop the merchant from changing anything else (or disabling the gateway).
		$quote    = null;
		$currency = Rates::storeCurrency();
		$changed  = array_filter( array( 'rate_source', 'rate_url', 'rate_path', 'rate_invert' ), fn ( string $k ): bool => (string) ( $posted[ $k ] ?? '' ) !== (string) $this->get_option( $k ) );
		if ( ! $this->get_errors() && 'url' === ( $posted['rate_source'] ?? '' ) && $changed ) {
			try {
				$quote = Rates::fetch( (string) $posted['rate_url'], (string) $posted['rate_path'], 'yes' === ( $posted['rate_invert'] ?? 'no' ), $currency );
			} catch ( \RuntimeException $e ) {
				/* translators: %s: what failed */
				$this->add_error( esc_html( sprintf( __( 'The rate source could not be used: %s', 'stablegate' ), $e->getMessage() ) ) );
			}
		}
		if ( $this->get_errors() ) {
			$this->display_errors();
			return false;
		}
		$saved = parent::process_admin_options();
		if ( null !== $quote ) {
			Rates::remember( $currency, $quote );
			/* translators: 1: store currency, 2: USDT amount, 3: host of the rate source */
			\WC_Admin_Settings::add_message( sprintf( __( 'Rate source checked: 1 %1$s = %2$s USDT (from %3$s).', 'stablegate' ), $currency, $quote['rate'], $quote['source'] ) );
		}
		return $saved;
	}

	/** Says which rate new invoices get now, for the settings screen. */
	private static function rateStatus(): string {
		if ( 'url' !== Settings::get( 'rate_source' ) ) {
			return __( 'Used with a rate source: older than this and failing, new payments are refused (never priced at an old or made-up rate).', 'stablegate' );
		}
		$currency = Rates::storeCurrency();
		$cached   = Rates::cached( $currency );
		if ( null === $cached ) {
			return __( 'No rate has been fetched yet.', 'stablegate' );
		}
		/* translators: 1: store currency, 2: USDT amount, 3: seconds */
		return sprintf( __( 'Last rate: 1 %1$s = %2$s USDT, fetched %3$d seconds ago. Older than this maximum and failing, new payments are refused.', 'stablegate' ), $currency, $cached['rate'], max( 0, Invoices::now() - (int) $cached['fetched_at'] ) );
	}

	/** Available when enabled and at least one network has an address and an RPC URL. */
	public function is_available(): bool {
		return parent::is_available() && (bool) Settings::acceptedChoices();
	}

	/** The network choice at classic checkout. */
	public function payment_fields(): void {
		echo wp_kses_post( wpautop( $this->description ) );
		$choices = Settings::acceptedChoices();
		if ( count( $choices ) < 2 ) {
			return;
		}
		echo '<p class="form-row"><label for="stablegate_network">' . esc_html__( 'Network', 'stablegate' ) . '</label><select name="stablegate_network" id="stablegate_network">';
		echo '<option value="">' . esc_html__( 'Choose on the next page', 'stablegate' ) . '</option>';
		foreach ( $choices as $choice ) {
			$network = Network::get( $choice['network'] );
			$token   = $network->token( $choice['token'] );
			echo '<option value="' . esc_attr( $choice['network'] . ':' . $choice['token'] ) . '">' . esc_html( $network->names()['en'] . ' — ' . $token['names']['en'] ) . '</option>';
		}
		echo '</select></p>';
	}

	/**
	 * Creates (or reuses) the invoice and sends the customer to the order-pay page.
	 *
	 * @param int $order_id The order.
	 * @return array{result: string, redirect?: string}
	 * @throws \Exception With a customer-facing message; WooCommerce shows it as a notice.
	 */
	public function process_payment( $order_id ) {
		$order = wc_get_order( $order_id );
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- WooCommerce verified the checkout nonce.
		$picked  = isset( $_POST['stablegate_network'] ) ? sanitize_text_field( wp_unslash( $_POST['stablegate_network'] ) ) : '';
		$choices = Settings::acceptedChoices();
		if ( '' !== $picked ) {
			$choices = array_values( array_filter( $choices, static fn ( $c ) => $c['network'] . ':' . $c['token'] === $picked ) );
			if ( ! $choices ) {
				throw new \Exception( esc_html__( 'That network is not available; please choose another.', 'stablegate' ) );
			}
		}
		$existing = Invoices::find( (string) $order->get_meta( '_stablegate_invoice' ) );
		$reuse    = null !== $existing && 'new' === $existing['state'] && Invoices::now() < (int) $existing['expires_at']
			&& $existing['fiat_amount'] === $this->fiatTotal( $order ) && ( '' === $picked || null === $existing['network'] || $existing['network'] . ':' . $existing['token'] === $picked );
		try {
			$row = $reuse ? $existing : Invoices::create(
				array(
					'fiat_amount' => $this->fiatTotal( $order ),
					'currency'    => $order->get_currency(),
					'order_id'    => $order->get_id(),
					'return_url'  => $this->get_return_url( $order ),
					'choices'     => $choices,
				)
			);
			if ( $reuse && '' !== $picked && null === $row['network'] ) {
				list( $network, $token ) = explode( ':', $picked, 2 );
				$row                     = Invoices::choose( $row, $network, $token );
			}
		} catch ( ApiError $e ) {
			$sentence = array(
				'rate_unavailable' => __( 'USDT payment is unavailable for a moment: the exchange rate could not be updated. Please try again in a few minutes or choose another payment method.', 'stablegate' ),
				'invalid_currency' => __( 'USDT payment is not available for orders in this currency. Please choose another payment method.', 'stablegate' ),
			)[ $e->kind ] ?? null;
			if ( null !== $sentence ) {
				// The merchant reads why on the order; the customer gets a sentence, not a URL.
				$order->add_order_note( sprintf( /* translators: %s: the technical reason */ __( 'Stablegate could not price this order in USDT: %s', 'stablegate' ), $e->getMessage() ) );
				throw new \Exception( esc_html( $sentence ) );
			}
			throw new \Exception( esc_html( $e->getMessage() ) );
		}
		if ( ! $reuse ) {
			$order->update_meta_data( '_stablegate_invoice', $row['public_id'] );
			$order->add_order_note( sprintf( /* translators: %s: invoice id */ __( 'Stablegate invoice %s created; waiting for the payment.', 'stablegate' ), $row['public_id'] ) );
			$order->save();
			// The customer gets the payment link by e-mail, so closing the tab loses nothing.
			if ( function_exists( 'WC' ) && WC()->mailer() ) {
				WC()->mailer()->customer_invoice( $order );
			}
		}
		if ( function_exists( 'WC' ) && WC()->cart ) {
			WC()->cart->empty_cart();
		}
		return array(
			'result'   => 'success',
			'redirect' => $order->get_checkout_payment_url( true ),
		);
	}

	/** The order total as a decimal string in the store currency. */
	private function fiatTotal( \WC_Order $order ): string {
		return wc_format_decimal( $order->get_total(), wc_get_price_decimals() );
	}

	/**
	 * The order-pay (receipt) page: the widget.
	 *
	 * @param int $order_id The order.
	 */
	public function receipt_page( $order_id ): void {
		$order = wc_get_order( $order_id );
		$row   = $order ? Invoices::find( (string) $order->get_meta( '_stablegate_invoice' ) ) : null;
		if ( null === $row ) {
			echo '<p>' . esc_html__( 'No payment was started for this order.', 'stablegate' ) . '</p>';
			return;
		}
		Assets::widget( $row['public_id'] );
	}

	/**
	 * The order-received page: the widget again while the payment is still being confirmed.
	 *
	 * @param int $order_id The order.
	 */
	public function thankyou_page( $order_id ): void {
		$order = wc_get_order( $order_id );
		if ( ! $order || $order->is_paid() ) {
			return;
		}
		$row = Invoices::find( (string) $order->get_meta( '_stablegate_invoice' ) );
		if ( null !== $row ) {
			Assets::widget( $row['public_id'] );
		}
	}
}
