<?php
/**
 * Loads the real WordPress of scripts/test-plugin.sh (WP_DIR) once, with the plugin active.
 *
 * @package Stablegate
 */

declare(strict_types=1);

$stablegate_wp = getenv( 'WP_DIR' ) ?: exit( "WP_DIR is not set; run scripts/test-plugin.sh\n" );
require dirname( __DIR__ ) . '/wp/cli-env.php';
require $stablegate_wp . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

// WordPress 6.1 bundles Requests 1.x, whose classes raise PHP 8.1+ deprecations when first loaded
// (at the first real HTTP call, here the devnet's RPC); load them once with deprecations off.
$stablegate_level = error_reporting( E_ALL & ~E_DEPRECATED );
foreach ( array( 'Requests_Cookie_Jar', 'Requests_Response_Headers', 'Requests_Utility_FilteredIterator', 'Requests_Response', 'Requests_Transport_cURL', 'Requests' ) as $stablegate_class ) {
	class_exists( $stablegate_class );
}
error_reporting( $stablegate_level );

require __DIR__ . '/Helpers.php';
