<?php
/**
 * Shared helpers of the integration tests.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use Stablegate\WordPress\Schema;
use Stablegate\WordPress\Settings;

/**
 * Test helpers: a clean plugin state, the devnet, REST calls and schema validation.
 */
final class Helpers {

	/** Receiving address of the tests: devnet account #1 (holds no tokens, pays nothing). */
	public const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

	/** Empties the plugin's tables, options and transients and sets devnet settings. */
	public static function reset( array $settings = array() ): void {
		global $wpdb;
		foreach ( array( 'invoices', 'ledger', 'cursors' ) as $name ) {
			$wpdb->query( 'TRUNCATE TABLE ' . Schema::table( $name ) );
		}
		$wpdb->query( "DELETE FROM {$wpdb->options} WHERE option_name LIKE 'stablegate\\_watch\\_%' OR option_name LIKE '\\_transient\\_%stablegate%'" );
		wp_cache_flush();
		update_option(
			Settings::OPTION,
			array_merge(
				array(
					'enabled'       => 'yes',
					'networks'      => array( 'devnet:usdt', 'devnet:usdt18' ),
					'addresses_evm' => self::RECIPIENT,
					'rpc_devnet'    => self::devnetUrl(),
					'poll_seconds'  => '5',
				),
				$settings
			)
		);
		wp_set_current_user( 0 );
		remove_all_filters( 'stablegate_now' );
	}

	/**
	 * Collects every stablegate_invoice_event into $events, in place of the order flow, until
	 * restoreOrderFlow().
	 *
	 * @param array<int, array> $events Appended to.
	 */
	public static function captureEvents( array &$events ): void {
		$events = array();
		add_action(
			'stablegate_invoice_event',
			static function ( array $event ) use ( &$events ): void {
				$events[] = $event;
			},
			10,
			1
		);
	}

	/** Puts the order flow back as the only listener of stablegate_invoice_event. */
	public static function restoreOrderFlow(): void {
		remove_all_actions( 'stablegate_invoice_event' );
		if ( class_exists( 'WooCommerce' ) ) {
			add_action( 'stablegate_invoice_event', array( \Stablegate\WooCommerce\OrderFlow::class, 'onEvent' ), 10, 2 );
		}
	}

	/** Renders the merchant's invoice screen at $state ('' for all) as the current user sees it. */
	public static function adminPage( string $state ): string {
		$_GET['state'] = $state;
		ob_start();
		try {
			\Stablegate\WordPress\Admin::page();
		} finally {
			$html = (string) ob_get_clean();
			unset( $_GET['state'] );
		}
		return $html;
	}

	/**
	 * Starts PHP's built-in server on a free port with $router and waits until it listens.
	 *
	 * @param array<string, string> $env Environment of the server.
	 * @return array{0: resource, 1: string} The process (proc_terminate it) and its URL.
	 */
	public static function phpServer( string $router, array $env ): array {
		$probe = stream_socket_server( 'tcp://127.0.0.1:0' );
		$port  = (int) substr( (string) strrchr( stream_socket_get_name( $probe, false ), ':' ), 1 );
		fclose( $probe );
		$server = proc_open(
			array( PHP_BINARY, '-S', "127.0.0.1:$port", $router ),
			array( array( 'file', '/dev/null', 'r' ), array( 'file', '/dev/null', 'w' ), array( 'file', '/dev/null', 'w' ) ),
			$pipes,
			null,
			$env
		);
		for ( $i = 0; $i < 100; $i++ ) {
			$socket = @fsockopen( '127.0.0.1', $port, $errno, $error, 0.1 ); // phpcs:ignore WordPress.PHP.NoSilencedErrors -- polled until the server listens.
			if ( $socket ) {
				fclose( $socket );
				break;
			}
			usleep( 50000 );
		}
		return array( $server, "http://127.0.0.1:$port" );
	}

	/**
	 * Creates an invoice of $fiat USD on the one $choice (network:token), so that its unique
	 * amount is allocated at once.
	 *
	 * @return array<string, mixed> The row.
	 */
	public static function invoice( string $fiat, string $choice = 'devnet:usdt' ): array {
		list( $network, $token ) = explode( ':', $choice );
		return \Stablegate\WordPress\Invoices::create(
			array(
				'fiat_amount' => $fiat,
				'currency'    => 'USD',
				'choices'     => array( array( 'network' => $network, 'token' => $token ) ),
			)
		);
	}

	public static function devnetUrl(): string {
		return (string) getenv( 'DEVNET_URL' );
	}

	public static function root(): string {
		return (string) getenv( 'STABLEGATE_ROOT' );
	}

	/**
	 * Pays on the devnet with tests/devnet/pay.js.
	 *
	 * @return array{tx: string, blockNumber: int, blockHash: string, logIndex: int}
	 */
	public static function pay( string $token, string $to, string $amount, int $mine = 0 ): array {
		$cmd = sprintf(
			'node %s --url %s --token %s --to %s --amount %s --mine %d 2>&1',
			escapeshellarg( self::root() . '/tests/devnet/pay.js' ),
			escapeshellarg( self::devnetUrl() ),
			escapeshellarg( $token ),
			escapeshellarg( $to ),
			escapeshellarg( $amount ),
			$mine
		);
		exec( $cmd, $out, $code );
		if ( 0 !== $code ) {
			throw new RuntimeException( "pay failed: $cmd\n" . implode( "\n", $out ) );
		}
		return json_decode( (string) end( $out ), true, 8, JSON_THROW_ON_ERROR );
	}

	/** Mines $n blocks on the devnet. */
	public static function mine( int $n ): void {
		self::rpc( 'hardhat_mine', array( '0x' . dechex( $n ) ) );
	}

	/** One JSON-RPC call to the devnet (test side, not the plugin's client). */
	public static function rpc( string $method, array $params ) {
		$response = wp_remote_post(
			self::devnetUrl(),
			array(
				'headers' => array( 'Content-Type' => 'application/json' ),
				'body'    => wp_json_encode( array( 'jsonrpc' => '2.0', 'id' => 1, 'method' => $method, 'params' => $params ) ),
			)
		);
		$body = json_decode( wp_remote_retrieve_body( $response ), true );
		if ( isset( $body['error'] ) ) {
			throw new RuntimeException( "$method: " . $body['error']['message'] );
		}
		return $body['result'];
	}

	/**
	 * Runs the watcher's cron event, after checking that WP-Cron has it scheduled and hooked.
	 *
	 * @return array<string, array<string, mixed>> The poll results per network.
	 */
	public static function cron(): array {
		if ( false === wp_next_scheduled( \Stablegate\WordPress\Watcher::CRON_HOOK ) ) {
			throw new RuntimeException( 'the watcher is not scheduled in WP-Cron' );
		}
		if ( false === has_action( \Stablegate\WordPress\Watcher::CRON_HOOK, array( \Stablegate\WordPress\Watcher::class, 'pollAll' ) ) ) {
			throw new RuntimeException( 'the cron event has no watcher attached' );
		}
		return \Stablegate\WordPress\Watcher::pollAll();
	}

	/**
	 * Sends a REST request through WordPress's REST server.
	 *
	 * @param array<string, mixed>|string|null $body JSON body (a string is sent as is).
	 */
	public static function rest( string $method, string $route, $body = null, array $query = array() ): WP_REST_Response {
		$request = new WP_REST_Request( $method, $route );
		if ( $query ) {
			$request->set_query_params( $query );
		}
		if ( null !== $body ) {
			$request->set_header( 'content-type', 'application/json' );
			$request->set_body( is_string( $body ) ? $body : wp_json_encode( $body ) );
		}
		return rest_do_request( $request );
	}

	/** Splits an action link of the status document into route and query for rest(). */
	public static function link( string $url ): array {
		$parts = wp_parse_url( $url );
		parse_str( $parts['query'] ?? '', $query );
		$route = $query['rest_route'] ?? substr( $parts['path'], strlen( '/wp-json' ) );
		unset( $query['rest_route'] );
		return array( $route, $query );
	}

	/**
	 * Validates status documents against tests/vectors/schema/status.schema.json with ajv.
	 *
	 * @param array<int, array> $docs Documents.
	 * @return string Empty when all are valid, else ajv's explanation.
	 */
	public static function schemaErrors( array $docs ): string {
		$file = tempnam( sys_get_temp_dir(), 'sg-docs' );
		file_put_contents( $file, wp_json_encode( $docs ) );
		exec( 'node ' . escapeshellarg( __DIR__ . '/validate-status.js' ) . ' ' . escapeshellarg( $file ) . ' 2>&1', $out, $code );
		unlink( $file );
		return 0 === $code ? '' : implode( "\n", $out );
	}
}
