<?php
/**
 * Helper process of InvoiceWritesTest: a customer's status poll, in its own PHP process and its
 * own database connection, as a web request would run it (the poll may run the watcher). Prints
 * the HTTP status and the invoice's state as JSON. Usage: php status-poll.php WP_DIR PUBLIC_ID
 *
 * @package Stablegate
 */

require __DIR__ . '/../wp/cli-env.php';
require $argv[1] . '/wp-load.php';
$stablegate_response = rest_do_request( new WP_REST_Request( 'GET', '/stablegate/v1/invoices/' . $argv[2] ) );
echo wp_json_encode(
	array(
		'status' => $stablegate_response->get_status(),
		'state'  => $stablegate_response->get_data()['state'] ?? null,
	)
);
