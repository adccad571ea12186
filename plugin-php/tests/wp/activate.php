<?php
/**
 * Activates a plugin (runs its activation hook). Usage: php activate.php WP_DIR dir/file.php
 *
 * @package Stablegate
 */

require __DIR__ . '/cli-env.php';
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$result = activate_plugin( $argv[2], '', false, false );
if ( is_wp_error( $result ) ) {
	fwrite( STDERR, $result->get_error_message() . "\n" );
	exit( 1 );
}
echo "activated {$argv[2]}\n";
