<?php
/**
 * A JSON-RPC client over the WordPress HTTP API.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * JSON-RPC 2.0 calls and batches to a node (EVM, or TRON's JSON-RPC). Counts its HTTP requests,
 * so that tests can hold the watcher to its budget. The URL may hold an API key: it is never
 * logged or shown; errors name the host only.
 *
 * Given the registry's chain id, the client asks the node's eth_chainId in its first request (in
 * the same batch: no request of its own) and refuses to return anything from a node of another
 * chain: a testnet or a fork can serve the same token contract and the same logs, and must never
 * credit an invoice.
 */
final class Rpc {

	/** HTTP requests made so far. */
	public int $requests = 0;

	/** Of those, the one-time requests of a first scan's start-block search. */
	public int $setup_requests = 0;

	/** The node's chain id was checked (or no chain id was given). */
	private bool $chain_checked;

	/**
	 * A client of $url, held to $chain_id when given; $max_batch: the most calls one HTTP request
	 * may carry (a public endpoint's documented limit), a longer batch going as several requests.
	 */
	public function __construct( private string $url, private int $timeout = 15, private ?int $chain_id = null, private ?int $max_batch = null ) {
		$this->chain_checked = null === $chain_id;
	}

	/**
	 * Returns a client of the RPC URL of $network_id in the settings, held to its chain id and to
	 * the batch limit of the endpoints in use (Endpoints::watchSettings).
	 */
	public static function forNetwork( string $network_id, string $url, int $timeout = 15 ): self {
		$max_batch = Endpoints::watchSettings( $network_id )['max_batch'] ?? null;
		return new self( $url, $timeout, \Stablegate\Domain\Network::get( $network_id )->chainId(), null === $max_batch ? null : max( 1, (int) $max_batch ) );
	}

	/** The most calls one HTTP request carries; null for no limit. */
	public function maxBatch(): ?int {
		return $this->max_batch;
	}

	/** Returns the host of the URL, for messages (never the path or query, which may hold a key). */
	public function host(): string {
		return (string) wp_parse_url( $this->url, PHP_URL_HOST );
	}

	/**
	 * Calls one method.
	 *
	 * @param mixed[] $params Parameters.
	 * @throws RpcError When the node cannot be reached or answers an error.
	 */
	public function call( string $method, array $params ): mixed {
		$result = $this->batch( array( array( $method, $params ) ) )[0];
		if ( $result instanceof RpcError ) {
			throw $result;
		}
		return $result;
	}

	/**
	 * Sends several calls in one HTTP request; returns results in order (an RpcError in place of
	 * a failed call).
	 *
	 * @param array<int, array{0: string, 1: mixed[]}> $calls Method and parameters.
	 * @return mixed[]
	 * @throws RpcError When the request itself fails, or the node serves another chain.
	 */
	public function batch( array $calls ): array {
		if ( ! $calls ) {
			return array();
		}
		// Within the endpoint's batch limit (the chain check, when still due, rides in the first).
		$room = null === $this->max_batch ? null : $this->max_batch - ( $this->chain_checked ? 0 : 1 );
		if ( null !== $room && count( $calls ) > max( 1, $room ) ) {
			$first = array_slice( $calls, 0, max( 1, $room ) );
			return array_merge( $this->batch( $first ), $this->batch( array_slice( $calls, count( $first ) ) ) );
		}
		if ( ! $this->chain_checked ) {
			$results = $this->send( array_merge( array( array( 'eth_chainId', array() ) ), $calls ) );
			$chain   = array_shift( $results );
			if ( $chain instanceof RpcError ) {
				throw $chain;
			}
			$served = is_string( $chain ) && preg_match( '/^0x[0-9a-fA-F]{1,15}\z/', $chain ) ? (int) hexdec( substr( $chain, 2 ) ) : null;
			if ( $served !== $this->chain_id ) {
				throw new RpcError( sprintf( 'RPC %s serves chain %s, not chain %d: nothing is read from it; set the RPC URL of this network', $this->host(), null === $served ? wp_json_encode( $chain ) : (string) $served, $this->chain_id ) );
			}
			$this->chain_checked = true;
			return $results;
		}
		return $this->send( $calls );
	}

	/**
	 * Sends the calls in one HTTP request.
	 *
	 * @param array<int, array{0: string, 1: mixed[]}> $calls Method and parameters.
	 * @return mixed[]
	 * @throws RpcError When the request itself fails.
	 */
	private function send( array $calls ): array {
		$body = array();
		foreach ( $calls as $i => $call ) {
			$body[] = array(
				'jsonrpc' => '2.0',
				'id'      => $i + 1,
				'method'  => $call[0],
				'params'  => $call[1],
			);
		}
		++$this->requests;
		$response = wp_remote_post(
			$this->url,
			array(
				'timeout' => $this->timeout,
				'headers' => array( 'Content-Type' => 'application/json' ),
				'body'    => wp_json_encode( count( $body ) === 1 ? $body[0] : $body ),
			)
		);
		if ( is_wp_error( $response ) ) {
			throw new RpcError( sprintf( 'RPC %s unreachable: %s', $this->host(), $response->get_error_message() ) );
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 429 === $code ) {
			throw new RpcError( sprintf( 'RPC %s is limiting requests (HTTP 429 Too Many Requests)', $this->host() ), true );
		}
		if ( 200 !== $code ) {
			throw new RpcError( sprintf( 'RPC %s answered HTTP %d', $this->host(), $code ) );
		}
		$decoded = json_decode( (string) wp_remote_retrieve_body( $response ), true, 512, JSON_BIGINT_AS_STRING );
		if ( ! is_array( $decoded ) ) {
			throw new RpcError( sprintf( 'RPC %s answered something that is not JSON', $this->host() ) );
		}
		if ( ! array_is_list( $decoded ) ) {
			$decoded = array( $decoded );
		}
		$by_id = array();
		foreach ( $decoded as $reply ) {
			$by_id[ (int) ( $reply['id'] ?? 0 ) ] = $reply;
		}
		$out = array();
		foreach ( $calls as $i => $call ) {
			$reply = $by_id[ $i + 1 ] ?? null;
			if ( null === $reply ) {
				$out[] = new RpcError( sprintf( 'RPC %s gave no answer to %s', $this->host(), $call[0] ) );
			} elseif ( isset( $reply['error'] ) ) {
				$said  = (string) ( $reply['error']['message'] ?? 'error' );
				$out[] = new RpcError( sprintf( 'RPC %s: %s: %s', $this->host(), $call[0], $said ), RpcError::saysRateLimited( isset( $reply['error']['code'] ) ? (int) $reply['error']['code'] : null, $said ) );
			} else {
				$out[] = $reply['result'] ?? null;
			}
		}
		return $out;
	}
}
