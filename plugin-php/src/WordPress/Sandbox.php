<?php
/**
 * The sandbox: the whole shop on test networks, for the merchant to try a payment first.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\Network;

/**
 * One switch (the `sandbox` setting) puts the shop on the registry's public test networks in
 * place of the networks the merchant chose, with the same receiving addresses (a wallet's address
 * is the same on a network's testnet). Test tokens are worth nothing, so while the sandbox is on
 * only the merchant is offered USDT at checkout: a customer cannot pay with test money.
 */
final class Sandbox {

	/** The test networks of the sandbox, as network:token of the registry. */
	public const NETWORKS = array( 'tron-nile:usdt', 'sepolia:usdt', 'bsc-testnet:usdt' );

	/** True when the shop is on the test networks. */
	public static function isOn(): bool {
		return 'yes' === Settings::get( 'sandbox' );
	}

	/**
	 * Returns the sandbox's networks as network:token (the `stablegate_sandbox_networks` filter
	 * may change them; the tests add the devnet).
	 *
	 * @return string[]
	 */
	public static function networks(): array {
		return array_values( array_map( 'strval', (array) apply_filters( 'stablegate_sandbox_networks', self::NETWORKS ) ) );
	}

	/**
	 * Returns the faucet links of $network_id, where a merchant gets test USDT and the test coin
	 * that pays the network fee: the registry's (`faucets`, sources in crates/core/data/README.md),
	 * [] for a network without them or not in the registry.
	 *
	 * @return string[]
	 */
	public static function faucets( string $network_id ): array {
		$all = Network::all();
		return isset( $all[ $network_id ] ) ? $all[ $network_id ]->faucets() : array();
	}
}
