<?php
/**
 * Offline wp_install(), no wp-cli. Usage: php install.php WP_DIR
 *
 * @package Stablegate
 */

require __DIR__ . '/cli-env.php';
define( 'WP_INSTALLING', true );
// WordPress 6.1's bundled Requests 1.x raises PHP 8.1+ deprecations while installing; they are core's, not ours.
error_reporting( E_ALL & ~E_DEPRECATED );
require $argv[1] . '/wp-load.php';
/** No mail on install. */
function wp_new_blog_notification() {}
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
if ( is_blog_installed() ) {
	echo "already installed\n";
	exit( 0 );
}
$result = wp_install( 'Stablegate CI', 'admin', 'admin@example.test', false, '', 'admin-password-ci' );
echo 'installed WordPress ', get_bloginfo( 'version' ), ', admin user id ', $result['user_id'], "\n";
