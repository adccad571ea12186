<?php
/**
 * REST routes: the status document, choose and claim for customers; admin routes for the merchant.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\DomainError;
use Stablegate\Domain\Network;

/**
 * Customer routes are keyed by the invoice's public id (128 random bits, never the order id) and
 * reveal no personal data: the status document carries amounts, addresses and the return URL only.
 * Choose and claim need the invoice's nonce (Nonce) and are rate-limited per client address.
 * Admin routes need the manage_woocommerce capability (manage_options without WooCommerce) and
 * WordPress's REST nonce.
 */
final class Rest {

	public const NAMESPACE = 'stablegate/v1';

	private const ID = '(?P<id>inv_[0-9a-f]{32})';

	/** How many unmatched transfers the admin list shows (newest first; X-WP-Total has them all). */
	public const TRANSFERS_SHOWN = 200;

	/** Registers the routes (on rest_api_init). */
	public static function register(): void {
		// Hosted providers' notifications (issue 16): public, verified by signature in Providers.
		register_rest_route(
			self::NAMESPACE,
			'/providers/(?P<provider>binance|nowpayments)/notify',
			array(
				'methods'             => 'POST',
				'callback'            => array( self::class, 'providerNotify' ),
				'permission_callback' => '__return_true',
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/invoices/' . self::ID,
			array(
				'methods'             => 'GET',
				'callback'            => array( self::class, 'status' ),
				// Public: the unguessable id is the capability, as in a payment link.
				'permission_callback' => '__return_true',
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/invoices/' . self::ID . '/choose',
			array(
				'methods'             => 'POST',
				'callback'            => array( self::class, 'choose' ),
				'permission_callback' => array( self::class, 'customerAction' ),
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/invoices/' . self::ID . '/claim',
			array(
				'methods'             => 'POST',
				'callback'            => array( self::class, 'claim' ),
				'permission_callback' => array( self::class, 'customerAction' ),
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/admin/invoices',
			array(
				'methods'             => 'GET',
				'callback'            => array( self::class, 'adminList' ),
				'permission_callback' => array( self::class, 'isMerchant' ),
				'args'                => array(
					'state' => array(
						'type' => 'string',
						'enum' => array( 'new', 'processing', 'settled', 'expired', 'invalid', 'needs_review' ),
					),
				),
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/admin/transfers',
			array(
				'methods'             => 'GET',
				'callback'            => array( self::class, 'adminTransfers' ),
				'permission_callback' => array( self::class, 'isMerchant' ),
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/admin/invoices/' . self::ID . '/claim',
			array(
				'methods'             => 'POST',
				'callback'            => array( self::class, 'adminClaim' ),
				'permission_callback' => array( self::class, 'isMerchant' ),
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/admin/invoices/' . self::ID . '/review',
			array(
				'methods'             => 'POST',
				'callback'            => array( self::class, 'adminReview' ),
				'permission_callback' => array( self::class, 'isMerchant' ),
			)
		);
		register_rest_route(
			self::NAMESPACE,
			'/admin/test-connection',
			array(
				'methods'             => 'POST',
				'callback'            => array( self::class, 'testConnection' ),
				'permission_callback' => array( self::class, 'isMerchant' ),
				'args'                => array(
					'network' => array(
						'type'     => 'string',
						'required' => true,
					),
					'rpc_url' => array( 'type' => 'string' ),
				),
			)
		);
	}

	/** True for users who manage the shop. */
	public static function isMerchant(): bool {
		return current_user_can( class_exists( 'WooCommerce' ) ? 'manage_woocommerce' : 'manage_options' );
	}

	/**
	 * Permission of choose and claim: the invoice's nonce, then the rate limit.
	 *
	 * @return true|\WP_Error
	 */
	public static function customerAction( \WP_REST_Request $request ): bool|\WP_Error {
		$nonce = (string) $request->get_param( '_sgnonce' );
		if ( '' === $nonce || ! Nonce::verify( (string) $request['id'], $nonce ) ) {
			return new \WP_Error( 'stablegate_bad_nonce', 'this payment page is out of date; reload it and try again', array( 'status' => 403 ) );
		}
		$ip    = (string) ( $_SERVER['REMOTE_ADDR'] ?? '' ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput -- only hashed.
		$key   = 'stablegate_rl_' . md5( $ip . '|' . $request->get_route() );
		$count = (int) get_transient( $key );
		$limit = (int) apply_filters( 'stablegate_rate_limit', 10 );
		if ( $count >= $limit ) {
			return new \WP_Error( 'stablegate_rate_limited', 'too many attempts; wait a minute and try again', array( 'status' => 429 ) );
		}
		set_transient( $key, $count + 1, 60 );
		return true;
	}

	/**
	 * Returns the links of the status document of $public_id.
	 *
	 * @return array<string, ?string>
	 */
	public static function links( string $public_id ): array {
		$nonce = Nonce::create( $public_id, Invoices::now() );
		return array(
			'choose'      => add_query_arg( '_sgnonce', $nonce, rest_url( self::NAMESPACE . "/invoices/$public_id/choose" ) ),
			'claim'       => add_query_arg( '_sgnonce', $nonce, rest_url( self::NAMESPACE . "/invoices/$public_id/claim" ) ),
			// PHP on ordinary hosting should not hold connections open: polling only.
			'events'      => null,
			'new_invoice' => null,
		);
	}

	/** Returns the status URL the widget polls. */
	public static function statusUrl( string $public_id ): string {
		return rest_url( self::NAMESPACE . "/invoices/$public_id" );
	}

	/** Returns the row of the request's invoice, or a 404 error. */
	private static function row( \WP_REST_Request $request ): array {
		$row = Invoices::find( (string) $request['id'] );
		if ( null === $row ) {
			throw new ApiError( 404, 'invoice_not_found', 'no such invoice' );
		}
		return $row;
	}

	/** Runs a handler, turning ApiError into its REST error. */
	private static function handle( callable $handler ): \WP_REST_Response|\WP_Error {
		try {
			$response = $handler();
		} catch ( ApiError $e ) {
			return $e->toWpError();
		} catch ( RpcError $e ) {
			return new \WP_Error( 'stablegate_rpc_unavailable', 'the network cannot be reached right now; try again in a minute', array( 'status' => 503 ) );
		} catch ( \Stablegate\Domain\DomainError $e ) {
			return new \WP_Error( 'stablegate_' . $e->kind(), $e->getMessage(), array( 'status' => 422 ) );
		}
		$response = $response instanceof \WP_REST_Response ? $response : new \WP_REST_Response( $response, 200 );
		$response->header( 'Cache-Control', 'no-store' );
		return $response;
	}

	/** GET the status document; a poll may trigger a (rate-limited) watcher run. */
	public static function status( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		return self::handle(
			static function () use ( $request ) {
				$row = self::row( $request );
				if ( null !== $row['network'] && in_array( $row['state'], array( 'new', 'processing', 'expired' ), true ) && Invoices::now() <= (int) $row['monitor_until'] ) {
					Watcher::maybePoll( (string) $row['network'] );
					$row = self::row( $request );
				}
				$head = null;
				if ( null !== $row['network'] ) {
					$head = Watcher::stats( (string) $row['network'] )['head'] ?? null;
				}
				return Invoices::statusDocument( $row, self::links( (string) $row['public_id'] ), null === $head ? null : (int) $head );
			}
		);
	}

	/** POST {network, token?}: the customer picks a network; answers the new status document. */
	public static function choose( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		return self::handle(
			static function () use ( $request ) {
				$body    = $request->get_json_params();
				$network = is_array( $body ) ? ( $body['network'] ?? null ) : null;
				$token   = is_array( $body ) ? ( $body['token'] ?? null ) : null;
				if ( ! is_string( $network ) || '' === $network ) {
					throw new ApiError( 400, 'invalid_body', 'send a JSON body {"network": "<network id>", "token": "<token id>"}', 'network' );
				}
				if ( null !== $token && ! is_string( $token ) ) {
					throw new ApiError( 400, 'invalid_body', 'token must be a string (a token id such as usdt)', 'token' );
				}
				$row = Invoices::choose( self::row( $request ), $network, $token );
				return Invoices::statusDocument( $row, self::links( (string) $row['public_id'] ), null );
			}
		);
	}

	/** POST {tx_hash}: the customer claims a payment by its hash; the server verifies it on chain. */
	public static function claim( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		return self::handle(
			static function () use ( $request ) {
				$row = self::claimFor( self::row( $request ), self::txHash( $request ) );
				return Invoices::statusDocument( $row, self::links( (string) $row['public_id'] ), null );
			}
		);
	}

	/**
	 * Returns the tx_hash of a claim's JSON body.
	 *
	 * @throws ApiError 400 without one.
	 */
	private static function txHash( \WP_REST_Request $request ): string {
		$body = $request->get_json_params();
		$tx   = is_array( $body ) ? ( $body['tx_hash'] ?? null ) : null;
		if ( ! is_string( $tx ) || '' === $tx ) {
			throw new ApiError( 400, 'invalid_body', 'send a JSON body {"tx_hash": "<transaction hash>"}', 'tx_hash' );
		}
		return $tx;
	}

	/**
	 * Credits the transfer $tx to the invoice of $row after fetching and checking it on chain: the
	 * customer's claim and the merchant's "attach" both come here, with the same rules.
	 *
	 * @param array<string, mixed> $row       The row.
	 * @param string|null          $log_index One log of the transaction, or null for the first that fits.
	 * @return array<string, mixed> The updated row.
	 * @throws ApiError Naming why not.
	 */
	public static function claimFor( array $row, string $tx, ?string $log_index = null ): array {
		if ( null === $row['network'] ) {
			throw new ApiError( 409, 'network_not_chosen', 'choose a network before claiming a payment' );
		}
		$url = Settings::rpcUrl( (string) $row['network'] );
		if ( '' === $url ) {
			throw new ApiError( 503, 'rpc_unavailable', 'this network is not configured any more' );
		}
		return Invoices::claim( $row, $tx, Rpc::forNetwork( (string) $row['network'], $url ), $log_index );
	}

	/**
	 * GET the transfers to the merchant's addresses that credited no invoice (unmatched, or
	 * ambiguous between two), newest first: money received that still needs a home.
	 */
	public static function adminTransfers(): \WP_REST_Response {
		global $wpdb;
		$ledger = Schema::table( 'ledger' );
		$rows   = $wpdb->get_results( "SELECT * FROM $ledger WHERE invoice_id IS NULL ORDER BY id DESC LIMIT " . self::TRANSFERS_SHOWN, ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$total  = (int) $wpdb->get_var( "SELECT COUNT(*) FROM $ledger WHERE invoice_id IS NULL" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		$out    = array();
		foreach ( $rows as $row ) {
			try {
				$out[] = self::transferView( $row );
			} catch ( \Stablegate\Domain\DomainError $e ) {
				continue; // A network or token removed from the registry since.
			}
		}
		$response = new \WP_REST_Response( $out, 200 );
		$response->header( 'X-WP-Total', (string) $total );
		return $response;
	}

	/**
	 * What the unmatched list shows of a ledger row.
	 *
	 * @param array<string, mixed> $row The ledger row.
	 * @return array<string, mixed>
	 * @throws \Stablegate\Domain\DomainError For a network or token the registry no longer has.
	 */
	private static function transferView( array $row ): array {
		$network = Network::get( (string) $row['network'] );
		$token   = $network->token( (string) $row['token'] );
		return array(
			'network'      => $network->id(),
			'token'        => $token['id'],
			'tx'           => $row['tx_hash'],
			'log_index'    => (int) $row['log_index'],
			'explorer_url' => $network->explorerUrl( (string) $row['tx_hash'] ),
			'from'         => (string) $row['from_address'],
			'to'           => \Stablegate\Domain\Address::parseAny( (string) $row['to_hex'] )->withFamily( $network->family() )->display(),
			'amount'       => \Stablegate\Domain\Amount::toDecimal( (string) $row['amount'], (int) $token['decimals'] ),
			'symbol'       => $token['symbol'],
			'outcome'      => $row['outcome'],
			'block_number' => (int) $row['block_number'],
			'block_time'   => gmdate( 'Y-m-d H:i:s', (int) $row['block_time'] ),
		);
	}

	/**
	 * POST {tx_hash, log_index?}: the merchant attaches a transfer to an invoice (the claim's
	 * checks apply); log_index picks one log of a transaction that paid several addresses.
	 */
	public static function adminClaim( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		return self::handle(
			static function () use ( $request ) {
				$body  = $request->get_json_params();
				$index = is_array( $body ) && isset( $body['log_index'] ) ? (string) $body['log_index'] : null;
				if ( null !== $index && ! ctype_digit( $index ) ) {
					throw new ApiError( 400, 'invalid_body', 'log_index must be a whole number (the log of the transaction)', 'log_index' );
				}
				return self::adminView( self::claimFor( self::row( $request ), self::txHash( $request ), $index ) );
			}
		);
	}

	/**
	 * POST {decision: accept|reject, note}: the merchant resolves a needs_review invoice, saying
	 * why; a rejected transfer goes back to the unmatched list.
	 */
	public static function adminReview( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		return self::handle(
			static function () use ( $request ) {
				$body     = $request->get_json_params();
				$note     = is_array( $body ) && is_string( $body['note'] ?? null ) ? $body['note'] : '';
				$decision = is_array( $body ) ? ( $body['decision'] ?? null ) : null;
				if ( ! in_array( $decision, array( 'accept', 'reject' ), true ) ) {
					throw new ApiError( 400, 'invalid_body', 'send a JSON body {"decision": "accept" or "reject", "note": "why"}', 'decision' );
				}
				return self::adminView( Invoices::resolveReview( self::row( $request ), 'accept' === $decision, $note ) );
			}
		);
	}

	/** GET the merchant's invoice list (optionally by state, or the needs_review queue). */
	public static function adminList( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		global $wpdb;
		$table = Schema::table( 'invoices' );
		$state = $request->get_param( 'state' );
		if ( 'needs_review' === $state ) {
			// The queue: invoices a person must look at, until one accepts or rejects what they hold.
			$rows = $wpdb->get_results( "SELECT * FROM $table WHERE exception = 'needs_review' ORDER BY id DESC LIMIT 200", ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		} elseif ( is_string( $state ) ) {
			$rows = $wpdb->get_results( $wpdb->prepare( "SELECT * FROM $table WHERE state = %s ORDER BY id DESC LIMIT 200", $state ), ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		} else {
			$rows = $wpdb->get_results( "SELECT * FROM $table ORDER BY id DESC LIMIT 200", ARRAY_A ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared
		}
		return new \WP_REST_Response( array_map( array( self::class, 'adminView' ), $rows ), 200 );
	}

	/**
	 * What the admin list shows of a row.
	 *
	 * @param array<string, mixed> $row The row.
	 * @return array<string, mixed>
	 */
	public static function adminView( array $row ): array {
		$invoice = Invoices::record( $row );
		return array(
			'invoice'    => $row['public_id'],
			'order_id'   => null === $row['order_id'] ? null : (int) $row['order_id'],
			'state'      => $row['state'],
			'exception'  => $row['exception'],
			'network'    => $row['network'],
			'token'      => $row['token'],
			'fiat'       => $row['fiat_amount'] . ' ' . $row['currency'],
			'amount_due' => null === $invoice ? null : \Stablegate\Domain\Amount::toDecimal( $invoice->amount_due, (int) Network::get( $invoice->network )->token( $invoice->token )['decimals'] ),
			'recipient'  => null === $invoice ? null : $invoice->recipient->display(),
			'transfers'  => null === $invoice ? 0 : count( $invoice->ledger ),
			'created_at' => gmdate( 'Y-m-d H:i:s', (int) $row['created_at'] ),
			'review_note' => $row['review_note'] ?? null,
		);
	}

	/** POST {network, rpc_url?}: the doctor's checks against a node (the saved URL by default). */
	public static function testConnection( \WP_REST_Request $request ): \WP_REST_Response|\WP_Error {
		$network = (string) $request->get_param( 'network' );
		try {
			Network::get( $network );
		} catch ( DomainError $e ) {
			return new \WP_Error( 'stablegate_unknown_network', $e->getMessage(), array( 'status' => 400 ) );
		}
		$url = trim( (string) ( $request->get_param( 'rpc_url' ) ?? '' ) );
		$url = '' === $url ? Settings::rpcUrl( $network ) : $url;
		if ( ! preg_match( '#^https?://#', $url ) ) {
			return new \WP_Error( 'stablegate_no_rpc', "no RPC URL for $network: enter one starting with http:// or https://", array( 'status' => 400 ) );
		}
		$checks = Watcher::doctor( $network, $url );
		return new \WP_REST_Response(
			array(
				'network' => $network,
				'ok'      => ! in_array( false, array_column( $checks, 'ok' ), true ),
				'checks'  => $checks,
			),
			200
		);
	}

	/**
	 * A provider's notification: the raw body and headers go to Providers::notify.
	 *
	 * @param \WP_REST_Request $request The request.
	 */
	public static function providerNotify( \WP_REST_Request $request ): \WP_REST_Response {
		[ $status, $body ] = Providers::notify(
			(string) $request['provider'],
			static fn ( string $name ): string => (string) $request->get_header( $name ),
			$request->get_body()
		);
		return new \WP_REST_Response( $body, $status );
	}
}
