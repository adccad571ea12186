<?php
/**
 * The way from activation to the first payment: the next step, the plugin row's link, and the
 * connection check run when the settings are saved.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\DomainError;
use Stablegate\Domain\Network;

/**
 * After activation, an admin notice names the one thing still missing (a receiving address; then
 * an RPC URL for a chosen network that has no public endpoint; then switching the payment
 * method on) and links to where it is entered; it goes away once nothing is missing.
 */
final class Setup {

	/** Set on activation; the notice shows while it is set and something is missing. */
	public const NOTICE_OPTION = 'stablegate_setup_notice';

	/** Hooks the notice and the plugin row's link (admin requests only). */
	public static function register(): void {
		add_action( 'admin_notices', array( self::class, 'notice' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( STABLEGATE_FILE ), array( self::class, 'actionLinks' ) );
	}

	/** Returns the settings screen's URL (WooCommerce → Settings → Payments → Stablegate). */
	public static function settingsUrl( string $field = '' ): string {
		$url = admin_url( 'admin.php?page=wc-settings&tab=checkout&section=stablegate' );
		return '' === $field ? $url : $url . '#woocommerce_stablegate_' . $field;
	}

	/**
	 * Adds "Settings" first on the plugin's row of the Plugins screen.
	 *
	 * @param array<int|string, string> $links The row's links.
	 * @return array<int|string, string>
	 */
	public static function actionLinks( array $links ): array {
		return array( 'settings' => '<a href="' . esc_url( self::settingsUrl() ) . '">' . esc_html__( 'Settings', 'stablegate' ) . '</a>' ) + $links;
	}

	/**
	 * Returns the one thing still missing before the shop takes USDT, or null when nothing is.
	 *
	 * @param array<string, mixed>|null $values Settings (null: the saved ones).
	 * @return array{step: string, message: string, field: string}|null
	 */
	public static function nextStep( ?array $values = null ): ?array {
		$values   = array_merge( Settings::DEFAULTS, $values ?? Settings::all() );
		$families = array();
		$networks = array();
		foreach ( Settings::chosenNetworks( $values ) as $key ) {
			try {
				$network = Network::get( explode( ':', $key, 2 )[0] );
			} catch ( DomainError $e ) {
				continue;
			}
			$families[ $network->family() ][] = $network->names()['en'];
			$networks[ $network->id() ]       = $network;
		}
		if ( ! $networks ) {
			return array(
				'step'    => 'networks',
				'message' => __( 'Stablegate: choose the networks you take USDT on.', 'stablegate' ),
				'field'   => 'networks',
			);
		}
		foreach ( $families as $family => $names ) {
			if ( '' === trim( (string) $values[ 'addresses_' . $family ] ) ) {
				return array(
					'step'    => 'address',
					/* translators: %s: network names */
					'message' => sprintf( __( 'Stablegate: paste the address of your wallet that receives USDT on %s. That is all it needs to take payments.', 'stablegate' ), implode( ', ', $names ) ),
					'field'   => 'addresses_' . $family,
				);
			}
		}
		foreach ( $networks as $id => $network ) {
			if ( '' === trim( (string) ( $values[ 'rpc_' . $id ] ?? '' ) ) && ! Endpoints::defaults( $id ) ) {
				return array(
					'step'    => 'rpc',
					/* translators: %s: network name */
					'message' => sprintf( __( 'Stablegate: %s has no public endpoint; add the RPC URL of a node or a provider (Alchemy, Infura, QuickNode, TronGrid…) for it.', 'stablegate' ), $network->names()['en'] ),
					'field'   => 'network_' . $id,
				);
			}
		}
		if ( 'yes' !== $values['enabled'] ) {
			return array(
				'step'    => 'enable',
				'message' => __( 'Stablegate is ready: switch USDT payments on.', 'stablegate' ),
				'field'   => 'enabled',
			);
		}
		return null;
	}

	/**
	 * Prints the next step after activation, on the dashboard, the Plugins screen and the
	 * WooCommerce screens, to those who manage the shop; nothing once nothing is missing.
	 */
	public static function notice(): void {
		if ( ! get_option( self::NOTICE_OPTION ) || ! Rest::isMerchant() ) {
			return;
		}
		$screen = function_exists( 'get_current_screen' ) ? get_current_screen() : null;
		if ( null !== $screen && ! in_array( $screen->id, array( 'dashboard', 'plugins', 'woocommerce_page_wc-settings', 'woocommerce_page_wc-admin', 'edit-shop_order', 'woocommerce_page_wc-orders' ), true ) ) {
			return;
		}
		$step = self::nextStep();
		if ( null === $step ) {
			delete_option( self::NOTICE_OPTION );
			return;
		}
		printf(
			'<div class="notice notice-info stablegate-setup"><p>%s <a href="%s">%s</a></p></div>',
			esc_html( $step['message'] ),
			esc_url( self::settingsUrl( $step['field'] ) ),
			esc_html( 'enable' === $step['step'] ? __( 'Open the settings', 'stablegate' ) : __( 'Enter it now', 'stablegate' ) )
		);
	}

	/**
	 * Tries every network the shop takes payments on, with the URL it will use, and says in a
	 * sentence per network whether payments there will be seen. For the settings screen on save.
	 *
	 * @return array<string, array{ok: bool, message: string}> By network id.
	 */
	public static function testConnections(): array {
		$out = array();
		foreach ( Settings::acceptedChoices() as $choice ) {
			$id = $choice['network'];
			if ( isset( $out[ $id ] ) ) {
				continue;
			}
			$out[ $id ] = self::describeConnection( $id, Settings::rpcUrl( $id ), Endpoints::usesPublic( $id ) );
		}
		return $out;
	}

	/**
	 * Runs the doctor's checks on $url for $network_id and says the outcome in words.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function describeConnection( string $network_id, string $url, bool $public ): array {
		$name   = Network::get( $network_id )->names()['en'];
		$host   = (string) wp_parse_url( $url, PHP_URL_HOST );
		$checks = array_column( Watcher::doctor( $network_id, $url ), null, 'check' );
		$failed = array_values( array_filter( $checks, static fn ( array $c ): bool => ! $c['ok'] ) );
		if ( ! $failed ) {
			return array(
				'ok'      => true,
				'message' => $public
					/* translators: 1: network name, 2: host */
					? sprintf( __( '%1$s: connected through the public endpoint %2$s; payments there will be seen.', 'stablegate' ), $name, $host )
					/* translators: 1: network name, 2: host */
					: sprintf( __( '%1$s: connected to %2$s; payments there will be seen.', 'stablegate' ), $name, $host ),
			);
		}
		$first = $failed[0];
		if ( ! empty( $first['rate_limited'] ) && $public ) {
			/* translators: 1: network name, 2: host, 3: the error */
			$message = sprintf( __( '%1$s: the public endpoint %2$s is limiting how often it may be asked (%3$s). Public endpoints are shared with everyone: the watcher waits and tries the next one, so payments are seen later, not lost. For a busy shop, add an RPC URL of your own (a free account at a node provider).', 'stablegate' ), $name, $host, $first['detail'] );
		} elseif ( ! empty( $first['rate_limited'] ) ) {
			/* translators: 1: network name, 2: host, 3: the error */
			$message = sprintf( __( '%1$s: %2$s is limiting how often it may be asked (%3$s). Payments are seen later while it does: raise your plan with the provider, or add another URL.', 'stablegate' ), $name, $host, $first['detail'] );
		} elseif ( 'reachable' === $first['check'] && $public ) {
			/* translators: 1: network name, 2: host, 3: the error */
			$message = sprintf( __( '%1$s: the public endpoint %2$s does not answer (%3$s). This server may have no internet access, or the endpoint may be down or blocked here; payments on this network will not be seen until one answers. Add an RPC URL of your own that this server can reach.', 'stablegate' ), $name, $host, $first['detail'] );
		} elseif ( 'reachable' === $first['check'] ) {
			/* translators: 1: network name, 2: host, 3: the error */
			$message = sprintf( __( '%1$s: %2$s does not answer (%3$s). Payments on this network will not be seen until it does: check the URL, or add another.', 'stablegate' ), $name, $host, $first['detail'] );
		} elseif ( 'chain' === $first['check'] ) {
			/* translators: 1: network name, 2: host, 3: what the node answered */
			$message = sprintf( __( '%1$s: %2$s is a node of another network (%3$s). Enter the RPC URL of %1$s.', 'stablegate' ), $name, $host, $first['detail'] );
		} else {
			/* translators: 1: network name, 2: host, 3: the error */
			$message = sprintf( __( '%1$s: %2$s answers but refuses to list token transfers (%3$s), which the plugin needs to see payments. Use a node or plan that allows eth_getLogs.', 'stablegate' ), $name, $host, $first['detail'] );
		}
		return array(
			'ok'      => false,
			'message' => $message,
		);
	}
}
