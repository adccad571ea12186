<?php
/**
 * Networks and tokens of the registry.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * A network of the registry (data/networks.json, a copy of crates/core/data/networks.json that a
 * test keeps identical): its family, chain id, finality policy, explorer and tokens.
 */
final class Network {

	public const EVM  = 'evm';
	public const TRON = 'tron';

	/** @var array<string, Network>|null */
	private static ?array $registry = null;

	/**
	 * Builds a network from its registry entry.
	 *
	 * @param array<string, mixed> $data The registry entry.
	 */
	private function __construct( public readonly array $data ) {
	}

	/**
	 * Returns the network $id of the built-in registry.
	 *
	 * @throws DomainError unknown_network.
	 */
	public static function get( string $id ): self {
		$all = self::all();
		if ( ! isset( $all[ $id ] ) ) {
			throw new DomainError( 'unknown_network', $id, 'not a network of the registry' );
		}
		return $all[ $id ];
	}

	/**
	 * Returns every network, keyed by id, in registry order.
	 *
	 * @return array<string, Network>
	 */
	public static function all(): array {
		if ( null === self::$registry ) {
			$json = file_get_contents( dirname( __DIR__, 2 ) . '/data/networks.json' );
			$doc  = json_decode( (string) $json, true, 32, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING );
			$out  = array();
			foreach ( $doc['networks'] as $entry ) {
				foreach ( $entry['tokens'] as $i => $token ) {
					// Contracts are shown in their network's form, whatever form the JSON used.
					$entry['tokens'][ $i ]['contract'] = Address::parseAny( $token['contract'] )->withFamily( $entry['family'] );
				}
				$out[ $entry['id'] ] = new self( $entry );
			}
			self::$registry = $out;
		}
		return self::$registry;
	}

	/** Returns the id. */
	public function id(): string {
		return $this->data['id'];
	}

	/** Returns the family (evm or tron). */
	public function family(): string {
		return $this->data['family'];
	}

	/** Returns the chain id eth_chainId answers. */
	public function chainId(): int {
		return (int) $this->data['chain_id'];
	}

	/**
	 * Returns the display names.
	 *
	 * @return array{en: string, zh-CN: string}
	 */
	public function names(): array {
		return $this->data['names'];
	}

	/** Returns the finality tag (finalized, safe) or null. */
	public function finalityTag(): ?string {
		return $this->data['finality']['tag'];
	}

	/** Returns the confirmations the finality policy requires. */
	public function finalityConfirmations(): int {
		return (int) $this->data['finality']['confirmations'];
	}

	/**
	 * Returns the public JSON-RPC endpoints, in the order to try them, with the limits their
	 * operators document (null where none is documented). Hosts use them when the merchant names
	 * no RPC of their own; where each comes from is in crates/core/data/README.md.
	 *
	 * @return array<int, array{url: string, operator: string, rps: ?int, per_day: ?int, max_range: ?int, max_batch: ?int}>
	 */
	public function rpcEndpoints(): array {
		return array_map(
			static fn ( array $e ): array => array(
				'url'       => (string) $e['url'],
				'operator'  => (string) $e['operator'],
				'rps'       => isset( $e['rps'] ) ? (int) $e['rps'] : null,
				'per_day'   => isset( $e['per_day'] ) ? (int) $e['per_day'] : null,
				'max_range' => isset( $e['max_range'] ) ? (int) $e['max_range'] : null,
				'max_batch' => isset( $e['max_batch'] ) ? (int) $e['max_batch'] : null,
			),
			$this->data['rpc'] ?? array()
		);
	}

	/**
	 * Returns the faucet links of a test network (where to get the test token and the coin that
	 * pays the network fee); [] for a mainnet or a network without public faucets.
	 *
	 * @return string[]
	 */
	public function faucets(): array {
		return array_map( 'strval', $this->data['faucets'] ?? array() );
	}

	/** Returns the QR style: eip681 or address. */
	public function qr(): string {
		return $this->data['qr'];
	}

	/**
	 * Returns the token with id $token, or the default (first) token for null.
	 *
	 * @return array{id: string, symbol: string, contract: Address, decimals: int, official: bool, names: array}
	 * @throws DomainError unknown_token.
	 */
	public function token( ?string $token = null ): array {
		foreach ( $this->data['tokens'] as $candidate ) {
			if ( null === $token || $candidate['id'] === $token ) {
				return $candidate;
			}
		}
		$known = implode( ', ', array_column( $this->data['tokens'], 'id' ) );
		throw new DomainError( 'unknown_token', (string) $token, "network {$this->id()} has tokens $known" );
	}

	/**
	 * Returns every token of the network.
	 *
	 * @return array<int, array>
	 */
	public function tokens(): array {
		return $this->data['tokens'];
	}

	/**
	 * Returns the token whose contract is $contract, or null.
	 *
	 * @return array|null
	 */
	public function tokenByContract( Address $contract ): ?array {
		foreach ( $this->data['tokens'] as $token ) {
			if ( $token['contract']->equals( $contract ) ) {
				return $token;
			}
		}
		return null;
	}

	/** Returns the explorer URL of transaction $tx, or null. */
	public function explorerUrl( string $tx ): ?string {
		$template = $this->data['explorer_tx'];
		return null === $template ? null : str_replace( '{tx}', $tx, $template );
	}

	/**
	 * Parses $text as an address of this network.
	 *
	 * @throws DomainError invalid_address, address_checksum.
	 */
	public function parseAddress( string $text ): Address {
		return Address::parse( $this->family(), $text );
	}

	/** Returns how many confirmations a transfer in $block has at $head. */
	public static function confirmationsAt( int $block, int $head ): int {
		return $head >= $block ? $head - $block + 1 : 0;
	}

	/**
	 * Returns true when a transfer in $block is final: deep enough, and (when the policy has a
	 * tag) inside the tagged block; $tagged null means the node gave no tagged block.
	 */
	public function isFinal( int $block, int $head, ?int $tagged ): bool {
		$deep = self::confirmationsAt( $block, $head ) >= $this->finalityConfirmations();
		if ( null === $this->finalityTag() ) {
			return $deep;
		}
		return $deep && null !== $tagged && $block <= $tagged;
	}
}
