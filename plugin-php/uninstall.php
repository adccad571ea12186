<?php
/**
 * Uninstall: removes Stablegate's tables and options only when the merchant asked for it
 * (the "Delete all data on uninstall" setting); otherwise invoices and ledger stay, because they
 * are the record of payments received.
 *
 * @package Stablegate
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require __DIR__ . '/src/autoload.php';

wp_clear_scheduled_hook( Stablegate\WordPress\Watcher::CRON_HOOK );
$stablegate_settings = get_option( Stablegate\WordPress\Settings::OPTION, array() );
if ( is_array( $stablegate_settings ) && 'yes' === ( $stablegate_settings['delete_on_uninstall'] ?? 'no' ) ) {
	Stablegate\WordPress\Schema::drop();
	global $wpdb;
	$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'stablegate\\_%' OR option_name LIKE '\\_transient\\_stablegate\\_%' OR option_name LIKE '\\_transient\\_timeout\\_stablegate\\_%'" ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	delete_option( Stablegate\WordPress\Settings::OPTION );
}
