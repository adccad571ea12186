<?php
/**
 * Front-end assets: the widget.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * Enqueues the <stablegate-checkout> widget (an ES module that loads its wasm relative to itself,
 * shipped in assets/widget/ by scripts/dist.sh) and prints the element. WordPress 6.1 has no
 * script-module API, so the script tag gets type="module" through script_loader_tag.
 */
final class Assets {

	public const WIDGET_HANDLE = 'stablegate-checkout';

	/** Prints the widget for invoice $public_id. */
	public static function widget( string $public_id ): void {
		wp_enqueue_script( self::WIDGET_HANDLE, plugins_url( 'assets/widget/stablegate-checkout.js', STABLEGATE_FILE ), array(), STABLEGATE_VERSION, true );
		add_filter( 'script_loader_tag', array( self::class, 'moduleTag' ), 10, 2 );
		$lang = str_starts_with( determine_locale(), 'zh' ) ? 'zh-CN' : 'en';
		printf(
			'<stablegate-checkout status-url="%s" lang="%s"></stablegate-checkout><noscript>%s</noscript>',
			esc_url( Rest::statusUrl( $public_id ) ),
			esc_attr( $lang ),
			esc_html__( 'The payment page needs JavaScript.', 'stablegate' )
		);
	}

	/** Makes the widget's script tag a module. */
	public static function moduleTag( string $tag, string $handle ): string {
		if ( self::WIDGET_HANDLE === $handle || 'stablegate-admin' === $handle ) {
			return str_replace( '<script ', '<script type="module" ', str_replace( " type='text/javascript'", '', str_replace( ' type="text/javascript"', '', $tag ) ) );
		}
		return $tag;
	}
}
