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
use Stablegate\WordPress\Endpoints;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Providers;
use Stablegate\WordPress\Rates;
use Stablegate\WordPress\Rest;
use Stablegate\WordPress\Sandbox;
use Stablegate\WordPress\Setup;
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
		add_filter( 'woocommerce_settings_api_sanitized_fields_' . $this->id, array( self::class, 'withoutDisplayRows' ) );
		add_action( 'woocommerce_receipt_' . $this->id, array( $this, 'receipt_page' ) );
		add_action( 'woocommerce_thankyou_' . $this->id, array( $this, 'thankyou_page' ) );
	}

	/**
	 * The settings fields (stored in woocommerce_stablegate_settings, read by Settings), in the
	 * order a merchant meets them: on/off and the sandbox, the networks, the addresses of the
	 * chosen networks' families, each chosen network's connection (its RPC URL and confirmations
	 * folded under it), the rate (the fields of the selected source only), and the rest under
	 * "Advanced". Which conditional rows show is Settings::fieldConditions; `stablegate_fold`
	 * names the toggle a row is folded under.
	 */
	public function init_form_fields(): void {
		$networks = array();
		foreach ( Network::all() as $network ) {
			foreach ( $network->tokens() as $token ) {
				$networks[ $network->id() . ':' . $token['id'] ] = self::choiceLabel( $network, $token );
			}
		}
		$fields = array(
			'enabled'          => array(
				'title'   => __( 'Enable', 'stablegate' ),
				'type'    => 'checkbox',
				'label'   => __( 'Accept USDT with Stablegate', 'stablegate' ),
				'default' => 'no',
			),
			'sandbox'          => array(
				'title'       => __( 'Sandbox', 'stablegate' ),
				'type'        => 'checkbox',
				'label'       => __( 'Try it on test networks first (TRON Nile, Sepolia, BNB Smart Chain testnet)', 'stablegate' ),
				'default'     => 'no',
				'description' => self::sandboxDescription(),
			),
			// Hosted providers (issue 16). Secrets are kept in the gateway's option and read only by
			// the server (WordPress\Providers); their fields are rendered empty, as the RPC URLs.
			'binance_enabled'        => array(
				'title'       => __( 'Binance Pay', 'stablegate' ),
				'type'        => 'checkbox',
				'label'       => __( 'Take Binance Pay notifications for this store\'s invoices', 'stablegate' ),
				'default'     => 'no',
				'description' => __( 'Binance Pay has no merchant sandbox: test with a small live amount. Webhook URL: /wp-json/stablegate/v1/providers/binance/notify', 'stablegate' ),
			),
			'binance_api_key'        => array(
				'title' => __( 'Binance Pay API key', 'stablegate' ),
				'type'  => 'stablegate_secret',
			),
			'binance_api_secret'     => array(
				'title' => __( 'Binance Pay API secret', 'stablegate' ),
				'type'  => 'stablegate_secret',
			),
			'nowpayments_enabled'    => array(
				'title'       => __( 'NOWPayments', 'stablegate' ),
				'type'        => 'checkbox',
				'label'       => __( 'Take NOWPayments IPNs for this store\'s invoices', 'stablegate' ),
				'default'     => 'no',
				'description' => __( 'IPN callback URL: /wp-json/stablegate/v1/providers/nowpayments/notify', 'stablegate' ),
			),
			'nowpayments_ipn_secret' => array(
				'title' => __( 'NOWPayments IPN secret', 'stablegate' ),
				'type'  => 'stablegate_secret',
			),
			'nowpayments_api_key'    => array(
				'title' => __( 'NOWPayments API key', 'stablegate' ),
				'type'  => 'stablegate_secret',
			),
			'test_invoice'     => array(
				'title' => __( 'Try a payment', 'stablegate' ),
				'type'  => 'stablegate_test_invoice',
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
				'class'   => 'wc-enhanced-select stablegate-networks',
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
			$id                          = $network->id();
			$fields[ 'network_' . $id ]  = array(
				'title'   => $network->names()['en'],
				'type'    => 'stablegate_network',
				'network' => $id,
			);
			$fields[ 'rpc_' . $id ]      = array(
				/* translators: %s: network name */
				'title'           => sprintf( __( 'RPC URL: %s', 'stablegate' ), $network->names()['en'] ),
				'type'            => 'stablegate_secret',
				'network'         => $id,
				'stablegate_fold' => 'network_' . $id,
				'description'     => Endpoints::defaults( $id )
					? __( 'Your own node or provider (the URL may include your API key; it stays on this server). Empty: the public endpoints.', 'stablegate' )
					: __( 'Your own node or provider (the URL may include your API key; it stays on this server). This network has no public endpoint: it is watched only with a URL here.', 'stablegate' ),
			);
			$least                            = $network->finalityConfirmations();
			$fields[ 'confirmations_' . $id ] = array(
				/* translators: %s: network name */
				'title'             => sprintf( __( 'Confirmations: %s', 'stablegate' ), $network->names()['en'] ),
				'type'              => 'number',
				'default'           => '',
				'placeholder'       => (string) $least,
				'stablegate_fold'   => 'network_' . $id,
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
			'advanced'            => array(
				'title' => __( 'Advanced', 'stablegate' ),
				'type'  => 'stablegate_fold',
				'label' => __( 'Payment windows, unique amounts, underpayment and claims', 'stablegate' ),
			),
			'expiry_minutes'      => array(
				'title'           => __( 'Payment window (minutes)', 'stablegate' ),
				'type'            => 'number',
				'default'         => '30',
				'stablegate_fold' => 'advanced',
			),
			'monitoring_hours'    => array(
				'title'           => __( 'Monitoring window after expiry (hours)', 'stablegate' ),
				'type'            => 'number',
				'default'         => '24',
				'description'     => __( 'Late payments within this window still complete the order (as paid late).', 'stablegate' ),
				'stablegate_fold' => 'advanced',
			),
			'step'                => array(
				'title'           => __( 'Unique-amount step', 'stablegate' ),
				'type'            => 'select',
				'options'         => array(
					'0.01'   => '0.01',
					'0.001'  => '0.001',
					'0.0001' => '0.0001',
				),
				'default'         => '0.01',
				'stablegate_fold' => 'advanced',
			),
			'max_slots'           => array(
				'title'           => __( 'Amounts per address', 'stablegate' ),
				'type'            => 'number',
				'default'         => '100',
				'stablegate_fold' => 'advanced',
			),
			'tolerance'           => array(
				'title'           => __( 'Accepted underpayment (USDT)', 'stablegate' ),
				'type'            => 'text',
				'default'         => '0',
				'description'     => __( 'Exchanges sometimes deduct a fee; payments short by at most this much count as paid.', 'stablegate' ),
				'stablegate_fold' => 'advanced',
			),
			'precision'           => array(
				'title'           => __( 'Round amounts up to', 'stablegate' ),
				'type'            => 'text',
				'default'         => '0.01',
				'stablegate_fold' => 'advanced',
			),
			'auto_accept_up_to'   => array(
				'title'           => __( 'Auto-accept claims up to (USDT)', 'stablegate' ),
				'type'            => 'text',
				'default'         => '0',
				'description'     => __( 'A customer who pastes a transaction hash proves nothing about who paid. Claimed payments up to this amount complete the order at once; larger ones wait in the review queue for you to accept or reject. 0 sends every claim to review.', 'stablegate' ),
				'stablegate_fold' => 'advanced',
			),
			'delete_on_uninstall' => array(
				'title'           => __( 'Delete all data on uninstall', 'stablegate' ),
				'type'            => 'checkbox',
				'label'           => __( 'Remove invoices, ledger and settings when the plugin is deleted', 'stablegate' ),
				'default'         => 'no',
				'stablegate_fold' => 'advanced',
			),
		);
		$this->form_fields = $fields;
	}

	/**
	 * The label of a network and token in the networks list. A token not issued by Tether says
	 * so, unless its registry name already does (Base's "Bridged USDT (not issued by Tether)").
	 *
	 * @param array<string, mixed> $token The token.
	 */
	public static function choiceLabel( Network $network, array $token ): string {
		$label  = $network->names()['en'] . ' — ' . $token['names']['en'];
		$notice = __( 'not issued by Tether', 'stablegate' );
		if ( ! $token['official'] && false === stripos( $token['names']['en'], 'not issued by Tether' ) ) {
			$label .= ' (' . $notice . ')';
		}
		return $label;
	}

	/** What the sandbox does, with the faucets' links (admin only: the gateway is built on checkout too). */
	private static function sandboxDescription(): string {
		if ( ! is_admin() ) {
			return '';
		}
		$links = array();
		foreach ( Sandbox::networks() as $key ) {
			$id = explode( ':', $key, 2 )[0];
			foreach ( Sandbox::faucets( $id ) as $url ) {
				$links[] = '<a href="' . esc_url( $url ) . '" target="_blank" rel="noopener noreferrer">' . esc_html( Network::get( $id )->names()['en'] . ': ' . wp_parse_url( $url, PHP_URL_HOST ) ) . '</a>';
			}
		}
		$text = esc_html__( 'The shop takes test USDT, which is worth nothing, in place of the networks below, with the same receiving addresses. Only you see USDT at checkout meanwhile.', 'stablegate' );
		return $links ? $text . ' ' . esc_html__( 'Get test USDT and the test coin for the network fee from a faucet:', 'stablegate' ) . ' ' . implode( ' · ', $links ) : $text;
	}

	/**
	 * Renders the settings rows, marking each row of a conditional field (hidden when its
	 * condition is not met by the saved settings; the screen's script re-applies the conditions
	 * as the merchant edits) and each folded row with the toggle it is folded under.
	 *
	 * @param array<string, array<string, mixed>> $form_fields Fields (default: all).
	 * @param bool                                $echo        Print rather than return.
	 * @return string|void
	 */
	public function generate_settings_html( $form_fields = array(), $echo = true ) {
		if ( empty( $form_fields ) ) {
			$form_fields = $this->get_form_fields();
		}
		$conditions = Settings::fieldConditions();
		$visible    = array_flip( Settings::visibleFields( Settings::all() ) );
		$html       = '';
		foreach ( $form_fields as $key => $field ) {
			$type   = $this->get_field_type( $field );
			$method = 'generate_' . $type . '_html';
			$row    = method_exists( $this, $method ) ? $this->{$method}( $key, $field ) : $this->generate_text_html( $key, $field );
			$attrs  = ' data-stablegate-field="' . esc_attr( $key ) . '"';
			if ( isset( $conditions[ $key ] ) && ! isset( $visible[ $key ] ) ) {
				$attrs .= ' hidden';
			}
			if ( isset( $field['stablegate_fold'] ) && ! $this->unfolded( (string) $field['stablegate_fold'] ) ) {
				$attrs .= ' data-stablegate-fold="' . esc_attr( $field['stablegate_fold'] ) . '" class="stablegate-folded"';
			} elseif ( isset( $field['stablegate_fold'] ) ) {
				$attrs .= ' data-stablegate-fold="' . esc_attr( $field['stablegate_fold'] ) . '"';
			}
			$html .= preg_replace( '/<tr\b/', '<tr' . $attrs, $row, 1 );
		}
		if ( ! $echo ) {
			return $html;
		}
		echo $html; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- the field generators escaped it.
	}

	/** True when the rows folded under $fold start open: a network that cannot be watched yet. */
	private function unfolded( string $fold ): bool {
		if ( ! str_starts_with( $fold, 'network_' ) ) {
			return false;
		}
		return array() === Endpoints::urls( substr( $fold, strlen( 'network_' ) ) );
	}

	/**
	 * A chosen network's row: how it is watched (the merchant's RPC URL, the public endpoints
	 * and what their limits mean, or nothing yet), what the watcher saw last, and the toggle of
	 * its RPC URL and confirmations.
	 *
	 * @param string               $key  Field key.
	 * @param array<string, mixed> $data Field definition.
	 */
	public function generate_stablegate_network_html( $key, $data ): string {
		$id      = (string) $data['network'];
		$own     = Settings::ownRpcUrl( $id );
		$public  = Endpoints::defaults( $id );
		$faucets = Sandbox::faucets( $id );
		if ( '' !== $own ) {
			/* translators: %s: host name */
			$how = esc_html( sprintf( __( 'Watched through your RPC URL (%s).', 'stablegate' ), (string) wp_parse_url( $own, PHP_URL_HOST ) ) );
		} elseif ( $public ) {
			/* translators: 1: host names, 2: seconds */
			$how = esc_html( sprintf( __( 'Watched through public endpoints (%1$s). They are free and shared by everyone, so they limit how often and how much a shop may ask: the plugin asks at most every %2$d seconds, and on a busy shop payments may be confirmed late. For a busy shop, add your own RPC URL (a provider\'s free plan is enough for most shops).', 'stablegate' ), Endpoints::hosts( $public ), Endpoints::leastPollSeconds( $id ) ) );
		} else {
			$how = '<strong>' . esc_html__( 'Not watched yet: this network has no public endpoint. Add the RPC URL of a node or a provider.', 'stablegate' ) . '</strong>';
		}
		$status = is_admin() ? Watcher::describe( $id ) : '';
		$fold   = $this->unfolded( $key );
		ob_start();
		?>
		<tr valign="top" class="stablegate-network">
			<th scope="row" class="titledesc"><span id="<?php echo esc_attr( $this->get_field_key( $key ) ); ?>"><?php echo esc_html( $data['title'] ); ?></span></th>
			<td class="forminp">
				<p><?php echo $how; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped above. ?><?php echo esc_html( $status ); ?></p>
				<?php if ( $faucets ) : ?>
					<p class="description"><?php esc_html_e( 'Test USDT:', 'stablegate' ); ?>
					<?php foreach ( $faucets as $url ) : ?>
						<a href="<?php echo esc_url( $url ); ?>" target="_blank" rel="noopener noreferrer"><?php echo esc_html( (string) wp_parse_url( $url, PHP_URL_HOST ) ); ?></a>
					<?php endforeach; ?></p>
				<?php endif; ?>
				<button type="button" class="button-link stablegate-fold-toggle" data-fold="<?php echo esc_attr( $key ); ?>" aria-expanded="<?php echo $fold ? 'true' : 'false'; ?>"><?php esc_html_e( 'RPC URL and confirmations', 'stablegate' ); ?></button>
			</td>
		</tr>
		<?php
		return (string) ob_get_clean();
	}

	/**
	 * A toggle row: the rows folded under it ($key) show when it is opened.
	 *
	 * @param string               $key  Field key.
	 * @param array<string, mixed> $data Field definition.
	 */
	public function generate_stablegate_fold_html( $key, $data ): string {
		ob_start();
		?>
		<tr valign="top" class="stablegate-fold-row">
			<th scope="row" class="titledesc"><?php echo esc_html( $data['title'] ); ?></th>
			<td class="forminp"><button type="button" class="button stablegate-fold-toggle" data-fold="<?php echo esc_attr( $key ); ?>" aria-expanded="false"><?php echo esc_html( $data['label'] ); ?></button></td>
		</tr>
		<?php
		return (string) ob_get_clean();
	}

	/**
	 * "Pay a test invoice": while the sandbox is on (saved), a link that starts a test order for
	 * the merchant and opens its payment page; before that, a sentence saying how to get there.
	 * A link, not a form: the settings screen is one form already. Its nonce is checked on arrival.
	 *
	 * @param string               $key  Field key.
	 * @param array<string, mixed> $data Field definition.
	 */
	public function generate_stablegate_test_invoice_html( $key, $data ): string {
		$ready = Sandbox::isOn() && (bool) Settings::acceptedChoices();
		$url   = TestInvoice::url();
		ob_start();
		?>
		<tr valign="top" class="stablegate-test-invoice">
			<th scope="row" class="titledesc"><?php echo esc_html( $data['title'] ); ?></th>
			<td class="forminp">
				<?php if ( $ready ) : ?>
					<a class="button button-secondary" href="<?php echo esc_url( $url ); ?>"><?php esc_html_e( 'Pay a test invoice', 'stablegate' ); ?></a>
					<p class="description"><?php esc_html_e( 'Creates a test order of 1.00 in the store currency for you and opens its payment page, as a customer sees it. Pay it from your wallet with test USDT: the order gets the notes, states and e-mails your customers\' orders will get.', 'stablegate' ); ?></p>
				<?php else : ?>
					<p class="description"><?php esc_html_e( 'Switch the sandbox on, enter a receiving address and save: a button here then starts a test payment from your own wallet.', 'stablegate' ); ?></p>
				<?php endif; ?>
			</td>
		</tr>
		<?php
		return (string) ob_get_clean();
	}

	/**
	 * Renders an RPC or rate source URL field, or a provider secret (Integration::secretRow).
	 *
	 * @param string               $key  Field key.
	 * @param array<string, mixed> $data Field definition.
	 */
	public function generate_stablegate_secret_html( $key, $data ): string {
		return Integration::secretRow( $this->get_field_key( $key ), (string) $key, $data, (string) $this->get_option( $key ) );
	}

	/**
	 * Keeps the saved secret (URL or provider secret) when the field comes back empty; removes it
	 * when asked.
	 *
	 * @param string      $key   Field key.
	 * @param string|null $value Posted value.
	 */
	public function validate_stablegate_secret_field( $key, $value ): string {
		$posted = $this->get_post_data();
		return Integration::postedSecret( (string) $this->get_option( $key ), (string) $value, ! empty( $posted[ $this->get_field_key( $key ) . '_clear' ] ) );
	}

	/** The display-only rows (network summaries, toggles, the test invoice) are not settings. */
	public const DISPLAY_TYPES = array( 'stablegate_network', 'stablegate_fold', 'stablegate_test_invoice' );

	/**
	 * Drops the display-only rows from what WooCommerce saves.
	 *
	 * @param array<string, mixed> $settings Sanitized settings.
	 * @return array<string, mixed>
	 */
	public static function withoutDisplayRows( $settings ) {
		foreach ( array_keys( (array) $settings ) as $key ) {
			if ( preg_match( '/^network_|^advanced$|^test_invoice$/', (string) $key ) ) {
				unset( $settings[ $key ] );
			}
		}
		return $settings;
	}

	/**
	 * Saves the settings only when every field is valid (nothing is half-written), then tries
	 * the connection of every network the shop takes payments on and says per network, in a
	 * sentence, whether its payments will be seen. WooCommerce checked the settings form's nonce;
	 * the capability is checked here again, since the save runs RPC calls.
	 *
	 * @return bool
	 */
	public function process_admin_options() {
		if ( ! Rest::isMerchant() ) {
			return false;
		}
		$posted = array();
		foreach ( $this->get_form_fields() as $key => $field ) {
			if ( in_array( $field['type'] ?? '', self::DISPLAY_TYPES, true ) ) {
				continue;
			}
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
		if ( $saved ) {
			foreach ( Setup::testConnections() as $outcome ) {
				if ( $outcome['ok'] ) {
					\WC_Admin_Settings::add_message( $outcome['message'] );
				} else {
					\WC_Admin_Settings::add_error( $outcome['message'] );
				}
			}
			$step = Setup::nextStep();
			if ( null !== $step && 'enable' !== $step['step'] ) {
				\WC_Admin_Settings::add_error( $step['message'] );
			}
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

	/**
	 * Available when enabled and at least one network has an address and an RPC URL; in the
	 * sandbox, to the merchant only (test USDT is worth nothing: no customer may pay with it).
	 */
	public function is_available(): bool {
		if ( Sandbox::isOn() && ! Rest::isMerchant() ) {
			return false;
		}
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
		// Hosted providers (issue 16): a button per enabled provider, below the direct payment.
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only shows a sentence.
		$unavailable = 'unavailable' === ( $_GET[ Providers::UNAVAILABLE_ARG ] ?? '' );
		echo Providers::forms( $row, $order->get_checkout_payment_url( true ), $unavailable ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- forms() escaped it.
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
