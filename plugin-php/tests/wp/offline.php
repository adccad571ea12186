<?php
/**
 * Must-use plugin of the test site: outbound HTTP only to this machine (the devnet), no update
 * checks (they raise warnings offline).
 *
 * @package Stablegate
 */

add_filter(
	'pre_http_request',
	static function ( $pre, $args, $url ) {
		$host = wp_parse_url( $url, PHP_URL_HOST );
		if ( in_array( $host, array( '127.0.0.1', 'localhost' ), true ) ) {
			return $pre;
		}
		return new WP_Error( 'http_request_blocked', 'offline test site: ' . $url );
	},
	10,
	3
);
foreach ( array(
	array( 'admin_init', '_maybe_update_core' ),
	array( 'admin_init', '_maybe_update_plugins' ),
	array( 'admin_init', '_maybe_update_themes' ),
	array( 'wp_version_check', 'wp_version_check' ),
	array( 'wp_update_plugins', 'wp_update_plugins' ),
	array( 'wp_update_themes', 'wp_update_themes' ),
	array( 'wp_maybe_auto_update', 'wp_maybe_auto_update' ),
	array( 'init', 'wp_schedule_update_checks' ),
) as $stablegate_hook ) {
	remove_action( $stablegate_hook[0], $stablegate_hook[1] );
}
