<?php
/**
 * The merchant's screens: the invoice list with its review queue, and the settings helpers.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * An invoice list (by state, and the needs_review queue) under WooCommerce (or Tools without it),
 * and on the gateway's settings screen the "test connection" buttons and live address validation
 * through the core's web build (assets/core, copied from crates/wasm/pkg/web by scripts/dist.sh).
 */
final class Admin {

	/** Adds the menu page and the settings-screen script. */
	public static function menu(): void {
		$parent = class_exists( 'WooCommerce' ) ? 'woocommerce' : 'tools.php';
		$cap    = class_exists( 'WooCommerce' ) ? 'manage_woocommerce' : 'manage_options';
		add_submenu_page( $parent, __( 'Stablegate invoices', 'stablegate' ), __( 'USDT invoices', 'stablegate' ), $cap, 'stablegate-invoices', array( self::class, 'page' ) );
		add_action( 'admin_enqueue_scripts', array( self::class, 'scripts' ) );
	}

	/** Enqueues the settings helpers on the gateway's settings screen only. */
	public static function scripts( string $hook ): void {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- reading which screen this is.
		if ( 'woocommerce_page_wc-settings' !== $hook || 'stablegate' !== ( $_GET['section'] ?? '' ) ) {
			return;
		}
		wp_enqueue_script( 'stablegate-admin', plugins_url( 'assets/js/admin.js', STABLEGATE_FILE ), array(), STABLEGATE_VERSION, true );
		add_filter( 'script_loader_tag', array( Assets::class, 'moduleTag' ), 10, 2 );
		wp_add_inline_script(
			'stablegate-admin',
			'window.stablegateAdmin = ' . wp_json_encode(
				array(
					'rest'  => esc_url_raw( rest_url( Rest::NAMESPACE . '/admin/test-connection' ) ),
					'nonce' => wp_create_nonce( 'wp_rest' ),
					'core'  => plugins_url( 'assets/core/stablegate_wasm.js', STABLEGATE_FILE ),
				)
			) . ';',
			'before'
		);
	}

	/** The invoice list. */
	public static function page(): void {
		if ( ! Rest::isMerchant() ) {
			wp_die( esc_html__( 'You are not allowed to see the invoices.', 'stablegate' ) );
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a read-only filter.
		$state   = isset( $_GET['state'] ) ? sanitize_key( wp_unslash( $_GET['state'] ) ) : '';
		$request = new \WP_REST_Request( 'GET', '/' . Rest::NAMESPACE . '/admin/invoices' );
		if ( '' !== $state ) {
			$request->set_param( 'state', $state );
		}
		$rows = Rest::adminList( $request )->get_data();
		echo '<div class="wrap"><h1>' . esc_html__( 'USDT invoices', 'stablegate' ) . '</h1><ul class="subsubsub">';
		foreach ( array( '' => __( 'All', 'stablegate' ), 'needs_review' => __( 'Review queue', 'stablegate' ), 'new' => 'new', 'processing' => 'processing', 'settled' => 'settled', 'expired' => 'expired', 'invalid' => 'invalid' ) as $key => $label ) {
			$url = add_query_arg( array( 'page' => 'stablegate-invoices', 'state' => $key ) );
			printf( '<li><a href="%s"%s>%s</a> | </li>', esc_url( $url ), $key === $state ? ' class="current"' : '', esc_html( $label ) );
		}
		echo '</ul><table class="widefat striped"><thead><tr>';
		foreach ( array( __( 'Invoice', 'stablegate' ), __( 'Order', 'stablegate' ), __( 'State', 'stablegate' ), __( 'Network', 'stablegate' ), __( 'Amount due', 'stablegate' ), __( 'Store amount', 'stablegate' ), __( 'Transfers', 'stablegate' ), __( 'Created (UTC)', 'stablegate' ) ) as $heading ) {
			echo '<th>' . esc_html( $heading ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$order = null === $row['order_id'] ? '—' : '<a href="' . esc_url( admin_url( 'post.php?post=' . $row['order_id'] . '&action=edit' ) ) . '">#' . esc_html( (string) $row['order_id'] ) . '</a>';
			printf(
				'<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td></tr>',
				esc_html( $row['invoice'] ),
				wp_kses_post( $order ),
				esc_html( $row['state'] . ( $row['exception'] ? ' (' . $row['exception'] . ')' : '' ) ),
				esc_html( (string) $row['network'] ),
				esc_html( (string) $row['amount_due'] ),
				esc_html( $row['fiat'] ),
				(int) $row['transfers'],
				esc_html( $row['created_at'] )
			);
		}
		if ( ! $rows ) {
			echo '<tr><td colspan="8">' . esc_html__( 'No invoices.', 'stablegate' ) . '</td></tr>';
		}
		echo '</tbody></table></div>';
	}
}
