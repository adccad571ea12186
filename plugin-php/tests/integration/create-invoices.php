<?php
/**
 * Helper process of ConcurrencyTest: waits for a shared start time, then creates invoices as fast
 * as it can and prints their amounts as JSON. Usage: php create-invoices.php WP_DIR COUNT START
 *
 * @package Stablegate
 */

require __DIR__ . '/../wp/cli-env.php';
require $argv[1] . '/wp-load.php';
$stablegate_start = (float) $argv[3];
while ( microtime( true ) < $stablegate_start ) {
	usleep( 500 );
}
$stablegate_amounts = array();
for ( $i = 0; $i < (int) $argv[2]; $i++ ) {
	$stablegate_row       = Stablegate\WordPress\Invoices::create(
		array(
			'fiat_amount' => '5',
			'currency'    => 'USD',
			'choices'     => array( array( 'network' => 'devnet', 'token' => 'usdt' ) ),
		)
	);
	$stablegate_amounts[] = $stablegate_row['reserved_amount'];
}
echo wp_json_encode( $stablegate_amounts );
