<?php
/**
 * The merchant's settings.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\Amount;
use Stablegate\Domain\DomainError;
use Stablegate\Domain\Network;

/**
 * Reads the settings from the gateway's option (woocommerce_stablegate_settings, which the
 * WooCommerce settings screen writes), with defaults, so that the invoice engine works without
 * WooCommerce loaded. RPC URLs may carry API keys: they are only ever used server-side.
 */
final class Settings {

	public const OPTION = 'woocommerce_stablegate_settings';

	public const DEFAULTS = array(
		'enabled'            => 'no',
		'title'              => 'USDT',
		'description'        => 'Pay with USDT (Tether) from your own wallet or an exchange.',
		'networks'           => array( 'tron:usdt', 'ethereum:usdt', 'bsc:usdt', 'polygon:usdt0' ),
		'addresses_evm'      => '',
		'addresses_tron'     => '',
		'expiry_minutes'     => '30',
		'monitoring_hours'   => '24',
		'step'               => '0.01',
		'max_slots'          => '100',
		'tolerance'          => '0',
		'auto_accept_up_to'  => '0',
		'precision'          => '0.01',
		'rate_source'        => 'fixed',
		'rate'               => '1',
		'rate_url'           => '',
		'rate_path'          => '',
		'rate_invert'        => 'no',
		'rate_max_age'       => '600',
		'poll_seconds'       => '15',
		'max_blocks'         => '5000',
		'delete_on_uninstall' => 'no',
		'sandbox'            => 'no',
		// Hosted providers (issue 16). The secrets are read on the server only.
		'binance_enabled'        => 'no',
		'binance_api_key'        => '',
		'binance_api_secret'     => '',
		'nowpayments_enabled'    => 'no',
		'nowpayments_ipn_secret' => '',
		'nowpayments_api_key'    => '',
	);

	/**
	 * The provider secrets (issue 16): like the RPC and rate source URLs, no browser ever gets
	 * them back, neither the settings screen nor WooCommerce's REST API.
	 */
	public const PROVIDER_SECRETS = array( 'binance_api_key', 'binance_api_secret', 'nowpayments_ipn_secret', 'nowpayments_api_key' );

	/** What a browser sees of a saved provider secret; sent back through REST, it keeps the saved one. */
	public const MASK = '********';

	/** Whether the setting $key is a secret: an RPC or rate source URL, or a provider secret. */
	public static function isSecret( string $key ): bool {
		return str_starts_with( $key, 'rpc_' ) || 'rate_url' === $key || in_array( $key, self::PROVIDER_SECRETS, true );
	}

	/** What a browser may see of the saved secret $saved: nothing, a URL's host, or the mask. */
	public static function masked( string $key, string $saved ): string {
		if ( '' === $saved ) {
			return '';
		}
		return in_array( $key, self::PROVIDER_SECRETS, true ) ? self::MASK : (string) wp_parse_url( $saved, PHP_URL_HOST );
	}

	/** The largest confirmation count a merchant may ask for (about two days of Ethereum). */
	public const MAX_CONFIRMATIONS = 14400;

	/**
	 * Returns every setting, defaults filled in.
	 *
	 * @return array<string, mixed>
	 */
	public static function all(): array {
		$stored = get_option( self::OPTION, array() );
		return array_merge( self::DEFAULTS, is_array( $stored ) ? $stored : array() );
	}

	/** Returns one setting. */
	public static function get( string $key ): mixed {
		$all = self::all();
		return $all[ $key ] ?? null;
	}

	/**
	 * Merges $values into the stored settings.
	 *
	 * @param array<string, mixed> $values New values.
	 */
	public static function update( array $values ): void {
		$stored = get_option( self::OPTION, array() );
		update_option( self::OPTION, array_merge( is_array( $stored ) ? $stored : array(), $values ) );
	}

	/**
	 * Returns the URL the plugin calls for $network: the merchant's own, or else the first public
	 * default ('' when there is neither). Never sent to a browser.
	 */
	public static function rpcUrl( string $network ): string {
		return Endpoints::urls( $network )[0] ?? '';
	}

	/** Returns the RPC URL the merchant saved for $network ('' when none). Never sent to a browser. */
	public static function ownRpcUrl( string $network ): string {
		return trim( (string) ( self::all()[ 'rpc_' . $network ] ?? '' ) );
	}

	/**
	 * Returns the merchant's minimum confirmations for $network (0: the registry's policy alone).
	 * The core takes the larger of this and the registry's (Watch::isFinal), so a lower stored
	 * value cannot weaken the network's finality.
	 */
	public static function minConfirmations( string $network ): int {
		return max( 0, (int) ( self::all()[ 'confirmations_' . $network ] ?? 0 ) );
	}

	/**
	 * Returns the merchant's claim policy for a token of $decimals (DESIGN §5, claim by
	 * transaction hash), in the core's shape: claims of transfers up to auto_accept_up_to USDT
	 * credit without review; 0, the default, sends every claim the claimer cannot be shown to own
	 * to the review queue.
	 *
	 * @return array{auto_accept_up_to: string} Base units.
	 */
	public static function claimPolicy( int $decimals ): array {
		try {
			$limit = Amount::fromDecimal( trim( (string) self::get( 'auto_accept_up_to' ) ), $decimals );
		} catch ( DomainError $e ) {
			// The settings screen refuses such a value; one stored by hand accepts nothing.
			$limit = '0';
		}
		return array( 'auto_accept_up_to' => $limit );
	}

	/**
	 * Returns the receiving addresses of a family (one per line), validated; the first is used
	 * first, the others when its amount band is full.
	 *
	 * @return string[]
	 */
	public static function addresses( string $family ): array {
		$text = (string) self::get( 'addresses_' . $family );
		$out  = array();
		foreach ( preg_split( '/[\s,]+/', $text, -1, PREG_SPLIT_NO_EMPTY ) as $line ) {
			$out[] = $line;
		}
		return $out;
	}

	/**
	 * Returns the networks the shop takes payments on, as network:token: the merchant's choice,
	 * or the sandbox's test networks while the sandbox is on.
	 *
	 * @param array<string, mixed>|null $values Settings to read (null: the saved ones).
	 * @return string[]
	 */
	public static function chosenNetworks( ?array $values = null ): array {
		$values = $values ?? self::all();
		if ( 'yes' === ( $values['sandbox'] ?? 'no' ) ) {
			return Sandbox::networks();
		}
		return array_values( array_map( 'strval', (array) ( $values['networks'] ?? array() ) ) );
	}

	/**
	 * Returns when each conditional field of the settings screen is shown: for a chosen network
	 * (its RPC URL and confirmations), for a chosen network of a family (the receiving
	 * addresses), or for one rate source. Fields not listed always show. The screen's script
	 * applies the same table as the merchant changes the choices.
	 *
	 * @return array<string, array{network?: string, family?: string, rate_source?: string}>
	 */
	public static function fieldConditions(): array {
		$out = array(
			'addresses_evm'  => array( 'family' => Network::EVM ),
			'addresses_tron' => array( 'family' => Network::TRON ),
			'rate'           => array( 'rate_source' => 'fixed' ),
			'rate_url'       => array( 'rate_source' => 'url' ),
			'rate_path'      => array( 'rate_source' => 'url' ),
			'rate_invert'    => array( 'rate_source' => 'url' ),
			'rate_max_age'   => array( 'rate_source' => 'url' ),
		);
		foreach ( Network::all() as $network ) {
			foreach ( array( 'network_', 'rpc_', 'confirmations_' ) as $prefix ) {
				$out[ $prefix . $network->id() ] = array( 'network' => $network->id() );
			}
		}
		return $out;
	}

	/**
	 * Returns the conditional fields that show for $values (see fieldConditions).
	 *
	 * @param array<string, mixed> $values Settings, as saved or as being edited.
	 * @return string[] Field keys.
	 */
	public static function visibleFields( array $values ): array {
		$networks = array();
		$families = array();
		foreach ( self::chosenNetworks( array_merge( self::DEFAULTS, $values ) ) as $key ) {
			$id = explode( ':', $key, 2 )[0];
			try {
				$families[ Network::get( $id )->family() ] = true;
				$networks[ $id ]                           = true;
			} catch ( DomainError $e ) {
				continue;
			}
		}
		$source = (string) ( $values['rate_source'] ?? self::DEFAULTS['rate_source'] );
		$out    = array();
		foreach ( self::fieldConditions() as $key => $condition ) {
			if ( ( isset( $condition['network'] ) && isset( $networks[ $condition['network'] ] ) )
				|| ( isset( $condition['family'] ) && isset( $families[ $condition['family'] ] ) )
				|| ( isset( $condition['rate_source'] ) && $condition['rate_source'] === $source ) ) {
				$out[] = $key;
			}
		}
		return $out;
	}

	/**
	 * Returns the (network, token) pairs a customer may pay with: chosen (or the sandbox's),
	 * with an RPC URL (the merchant's or a public default) and a receiving address of the
	 * network's family.
	 *
	 * @return array<int, array{network: string, token: string}>
	 */
	public static function acceptedChoices(): array {
		$out = array();
		foreach ( self::chosenNetworks() as $key ) {
			list( $network_id, $token_id ) = array_pad( explode( ':', (string) $key, 2 ), 2, '' );
			try {
				$network = Network::get( $network_id );
				$network->token( $token_id );
			} catch ( DomainError $e ) {
				continue;
			}
			if ( '' !== self::rpcUrl( $network_id ) && self::addresses( $network->family() ) ) {
				$out[] = array(
					'network' => $network_id,
					'token'   => $token_id,
				);
			}
		}
		return $out;
	}

	/**
	 * Checks the settings a merchant saves; returns error messages keyed by field.
	 *
	 * @param array<string, mixed> $values Settings to check.
	 * @return array<string, string>
	 */
	public static function validate( array $values ): array {
		$errors = array();
		foreach ( array( Network::EVM, Network::TRON ) as $family ) {
			$text = (string) ( $values[ 'addresses_' . $family ] ?? '' );
			foreach ( preg_split( '/[\s,]+/', $text, -1, PREG_SPLIT_NO_EMPTY ) as $address ) {
				try {
					\Stablegate\Domain\Address::parse( $family, $address );
				} catch ( DomainError $e ) {
					$errors[ 'addresses_' . $family ] = $e->getMessage();
				}
			}
		}
		foreach ( array( 'step', 'tolerance', 'precision', 'auto_accept_up_to' ) as $key ) {
			if ( isset( $values[ $key ] ) ) {
				try {
					Amount::fromDecimal( (string) $values[ $key ], 6 );
				} catch ( DomainError $e ) {
					$errors[ $key ] = $e->getMessage();
				}
			}
		}
		$source = (string) ( $values['rate_source'] ?? 'fixed' );
		if ( ! in_array( $source, array( 'fixed', 'url' ), true ) ) {
			$errors['rate_source'] = 'must be fixed or url';
		}
		if ( isset( $values['rate'] ) && ( ! preg_match( '/^[0-9]+(\.[0-9]+)?\z/', (string) $values['rate'] ) || preg_match( '/^0+(\.0+)?\z/', (string) $values['rate'] ) ) ) {
			$errors['rate'] = 'the rate must be a decimal above zero like 1 or 0.9231 (USDT per unit of the store currency)';
		}
		if ( 'url' === $source ) {
			$url = trim( (string) ( $values['rate_url'] ?? '' ) );
			if ( ! preg_match( '#^https?://[^\s]+\z#', $url ) || ! Rates::isSecure( $url ) ) {
				$errors['rate_url'] = 'a rate source is a URL starting with https:// (plain http:// only to this machine: 127.0.0.1 or localhost)';
			}
			if ( ! preg_match( '/^[^.\s]+(\.[^.\s]+)*\z/', trim( (string) ( $values['rate_path'] ?? '' ) ) ) ) {
				$errors['rate_path'] = 'name the rate in the answer with a dotted path like rates.USD or data.0.price';
			}
		}
		if ( isset( $values['rate_max_age'] ) && ( ! preg_match( '/^[1-9][0-9]{0,6}\z/', (string) $values['rate_max_age'] ) || (int) $values['rate_max_age'] < 10 ) ) {
			$errors['rate_max_age'] = 'must be a whole number of seconds, at least 10';
		}
		foreach ( array( 'expiry_minutes', 'monitoring_hours', 'max_slots', 'poll_seconds' ) as $key ) {
			if ( isset( $values[ $key ] ) && ! preg_match( '/^[1-9][0-9]{0,6}\z/', (string) $values[ $key ] ) ) {
				$errors[ $key ] = 'must be a whole number above zero';
			}
		}
		foreach ( Network::all() as $network ) {
			$value = trim( (string) ( $values[ 'confirmations_' . $network->id() ] ?? '' ) );
			if ( '' === $value ) {
				continue;
			}
			$least = $network->finalityConfirmations();
			if ( ! preg_match( '/^[0-9]{1,6}\z/', $value ) || (int) $value > self::MAX_CONFIRMATIONS ) {
				$errors[ 'confirmations_' . $network->id() ] = sprintf( 'must be a whole number of confirmations up to %d, or empty for the network\'s %d', self::MAX_CONFIRMATIONS, $least );
			} elseif ( (int) $value < $least ) {
				$errors[ 'confirmations_' . $network->id() ] = sprintf( 'cannot be below the network\'s own %d: finality can only be made stricter', $least );
			}
		}
		foreach ( $values as $key => $value ) {
			if ( str_starts_with( (string) $key, 'rpc_' ) && '' !== trim( (string) $value ) && ! preg_match( '#^https?://#', trim( (string) $value ) ) ) {
				$errors[ $key ] = 'an RPC URL starts with http:// or https://';
			}
		}
		return $errors;
	}
}
