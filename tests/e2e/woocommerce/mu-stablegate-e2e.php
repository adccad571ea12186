<?php
/**
 * Test shop only (scripts/test-woocommerce.sh): the registry's public endpoints of the devnet are
 * the test's devnet (option stablegate_e2e_devnet_url), as a mainnet's are public nodes in
 * production, and the sandbox's test networks are the devnet (the real ones are not reachable
 * offline). The Plugins screen's question to wordpress.org about required plugins is answered
 * "offline" at once, rather than failing with a PHP warning that would hide one of ours.
 *
 * @package Stablegate
 */

add_filter(
	'stablegate_default_rpc_urls',
	static function ( array $urls, string $network ): array {
		$devnet = (string) get_option( 'stablegate_e2e_devnet_url', '' );
		return 'devnet' === $network && '' !== $devnet ? array( $devnet ) : $urls;
	},
	10,
	2
);
add_filter( 'stablegate_sandbox_networks', static fn (): array => array( 'devnet:usdt' ) );
add_filter( 'plugins_api', static fn ( $result ) => false === $result ? new WP_Error( 'offline', 'the test shop is offline' ) : $result );
