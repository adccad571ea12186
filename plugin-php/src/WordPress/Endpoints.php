<?php
/**
 * Which JSON-RPC endpoints the plugin talks to for a network.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\DomainError;
use Stablegate\Domain\Network;
use Stablegate\Domain\Watch;

/**
 * A network is watched through the merchant's own RPC URL when they saved one, else through the
 * public endpoints the registry names for it (several, tried in order, so one that is down or
 * refuses is not the end). Public endpoints are shared and rate-limited: the watcher polls them
 * less often (PUBLIC_MIN_POLL_SECONDS) and the settings screen says so.
 */
final class Endpoints {

	/** The shortest interval between two polls of a network watched through public endpoints. */
	public const PUBLIC_MIN_POLL_SECONDS = 30;

	/**
	 * Returns the public JSON-RPC endpoints of $network_id that need no account, in the order to
	 * try them; [] when the network has none: the registry's (crates/core/data/networks.json,
	 * `rpc`), which the `stablegate_default_rpc_urls` filter may replace (the tests point it at
	 * the devnet).
	 *
	 * @return string[]
	 */
	public static function defaults( string $network_id ): array {
		try {
			$registry = array_map( static fn ( array $e ): string => $e['url'], Network::get( $network_id )->rpcEndpoints() );
		} catch ( DomainError $e ) {
			$registry = array();
		}
		$urls = apply_filters( 'stablegate_default_rpc_urls', $registry, $network_id );
		return array_values( array_filter( array_map( 'strval', (array) $urls ), static fn ( string $url ): bool => (bool) preg_match( '#^https?://#', $url ) ) );
	}

	/**
	 * Returns the URLs the plugin uses for $network_id, in order: the merchant's own, or else the
	 * public defaults. Never sent to a browser (the merchant's may hold an API key).
	 *
	 * @return string[]
	 */
	public static function urls( string $network_id ): array {
		$own = Settings::ownRpcUrl( $network_id );
		return '' !== $own ? array( $own ) : self::defaults( $network_id );
	}

	/**
	 * The fewest seconds between two polls of $network_id: the core's rule (Watch::settings) from
	 * the endpoints' published limits when public endpoints are used, else 3. Never below the
	 * plugin's floor for public endpoints, PUBLIC_MIN_POLL_SECONDS.
	 */
	public static function leastPollSeconds( string $network_id ): int {
		if ( ! self::usesPublic( $network_id ) ) {
			return 3;
		}
		try {
			$settings = Watch::settings( Network::get( $network_id ), Watch::settingsRequestFromJson( array() ) );
			$core     = (int) ceil( (int) $settings['poll_ms'] / 1000 );
		} catch ( DomainError $e ) {
			$core = 0;
		}
		return max( self::PUBLIC_MIN_POLL_SECONDS, $core );
	}

	/**
	 * How the watcher uses the endpoints of $network_id (core watch::watch_settings, Watch::settings):
	 * with the public endpoints, the narrowest eth_getLogs range and batch they document and the
	 * pace of a poll (its requests, eth_getLogs requests, header batches and blocks) within what
	 * they allow at the plugin's poll interval; with the merchant's own URL, no batch limit and no
	 * pace. The `stablegate_watch_settings` filter may replace it (a site owner who knows their
	 * endpoint's limits; the tests apply Ethereum's public limits to the devnet).
	 *
	 * @return array{public: bool, poll_ms: string, max_range: string, max_batch: ?string, pace: ?array}
	 */
	public static function watchSettings( string $network_id ): array {
		$public   = self::usesPublic( $network_id );
		$settings = Watch::settings(
			Network::get( $network_id ),
			Watch::settingsRequestFromJson(
				array(
					'rpc'     => $public ? array() : array( Settings::ownRpcUrl( $network_id ) ),
					'poll_ms' => (string) ( 1000 * self::leastPollSeconds( $network_id ) ),
				)
			)
		);
		return (array) apply_filters( 'stablegate_watch_settings', $settings, $network_id );
	}

	/** True when $network_id is watched through public endpoints (the merchant saved no URL). */
	public static function usesPublic( string $network_id ): bool {
		return '' === Settings::ownRpcUrl( $network_id ) && array() !== self::defaults( $network_id );
	}

	/** Returns the host names of $urls, for the merchant to read (never a path, which may hold a key). */
	public static function hosts( array $urls ): string {
		return implode( ', ', array_map( static fn ( string $url ): string => (string) wp_parse_url( $url, PHP_URL_HOST ), $urls ) );
	}
}
