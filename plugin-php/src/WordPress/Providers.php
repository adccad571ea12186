<?php
/**
 * Hosted providers (issue 16): Binance Pay webhooks and NOWPayments IPNs for WooCommerce orders.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\Amount;
use Stablegate\Domain\DomainError;
use Stablegate\Domain\Provider;
use Stablegate\Domain\Uint;

/**
 * Verifies a provider's notification with the PHP mirror of the core (Domain\Provider), refuses
 * replays (one option per notification key, added atomically: add_option fails on a second), and
 * applies it to the invoice with a versioned write, so that the invoice's stablegate_invoice_event
 * (and with it the order's payment_complete, WooCommerce\OrderFlow) happens once.
 *
 * The references: NOWPayments' order_id is the invoice's public id; Binance's merchantTradeNo is
 * its 32 hex digits (the public id without "inv_"). Secrets come from the gateway's settings,
 * which only the server reads (never a browser asset).
 *
 * Not done here yet: creating the provider's checkout from the pay page (the server does it,
 * shopify-app/src/providers/); until then the merchant's provider order must carry the reference.
 */
final class Providers {

	/** The option prefix of the notifications taken (the replay guard). */
	public const SEEN_PREFIX = 'stablegate_pn_';

	/** The transient of Binance's certificates (serial => certPublic). */
	public const CERTS_TRANSIENT = 'stablegate_binance_certs';

	public const BINANCE_URL = 'https://bpay.binanceapi.com';

	/** Whether $name is enabled in the settings. */
	public static function enabled( string $name ): bool {
		return 'yes' === Settings::get( $name . '_enabled' );
	}

	/**
	 * Takes a notification; returns [HTTP status, body].
	 *
	 * @param callable(string): string $header Reads a request header by name.
	 * @return array{0: int, 1: array<string, mixed>}
	 */
	public static function notify( string $name, callable $header, string $raw ): array {
		if ( ! self::enabled( $name ) ) {
			return array( 404, array( 'code' => 'provider_not_enabled' ) );
		}
		try {
			$note = 'binance' === $name ? self::binance( $header, $raw ) : self::nowpayments( $header, $raw );
		} catch ( DomainError $e ) {
			$status = 'invalid_provider_payload' === $e->kind() ? 400 : 401;
			return array( $status, array( 'code' => $e->kind(), 'message' => $e->getMessage() ) );
		}
		$row = Invoices::find( $note['public_id'] );
		if ( null === $row ) {
			return array( 404, array( 'code' => 'unknown_provider_reference' ) );
		}
		if ( ! add_option( self::SEEN_PREFIX . hash( 'sha256', $name . '|' . $note['key'] ), (string) Invoices::now(), '', 'no' ) ) {
			return array( 409, array( 'code' => 'replayed_notification' ) );
		}
		$outcome = self::apply( $row, $name, $note['status'], $note['paid'] );
		return array( 200, 'binance' === $name ? array( 'returnCode' => 'SUCCESS', 'returnMessage' => null ) : array( 'ok' => true, 'outcome' => $outcome ) );
	}

	/**
	 * Verifies a Binance Pay webhook against the certificate its serial names.
	 *
	 * @param callable(string): string $header Reads a header.
	 * @return array{public_id: string, status: string, paid: ?string, key: string}
	 */
	private static function binance( callable $header, string $raw ): array {
		$serial = $header( 'BinancePay-Certificate-SN' );
		$key    = self::certificate( $serial );
		if ( null === $key ) {
			throw new DomainError( 'signature_mismatch', $serial, 'unknown certificate serial' );
		}
		$timestamp = $header( 'BinancePay-Timestamp' );
		$nonce     = $header( 'BinancePay-Nonce' );
		Provider::binanceVerifyWebhook( $key, $timestamp, $nonce, $raw, $header( 'BinancePay-Signature' ), (int) ( Invoices::now() * 1000 ) );
		$body = json_decode( $raw, true );
		$data = is_array( $body ) && is_string( $body['data'] ?? null ) ? json_decode( $body['data'], true ) : null;
		if ( ! is_array( $data ) || ! is_string( $data['merchantTradeNo'] ?? null ) || ! is_string( $body['bizStatus'] ?? null ) || 'USDT' !== ( $data['currency'] ?? 'USDT' ) ) {
			throw new DomainError( 'invalid_provider_payload', $raw, 'bizStatus, data.merchantTradeNo or a USDT currency missing' );
		}
		$paid = 'PAY_SUCCESS' === $body['bizStatus'] && isset( $data['totalFee'] ) ? Provider::amount( (string) wp_json_encode( $data['totalFee'] ), 6 ) : null;
		return array(
			'public_id' => 'inv_' . strtolower( $data['merchantTradeNo'] ),
			'status'    => $body['bizStatus'],
			'paid'      => $paid,
			'key'       => $timestamp . ':' . $nonce,
		);
	}

	/** Binance's certificate $serial: cached, fetched again (at most once a minute) when unknown. */
	private static function certificate( string $serial ): ?string {
		$certs = get_transient( self::CERTS_TRANSIENT );
		$certs = is_array( $certs ) ? $certs : array();
		if ( ! isset( $certs[ $serial ] ) && false === get_transient( self::CERTS_TRANSIENT . '_fetched' ) ) {
			set_transient( self::CERTS_TRANSIENT . '_fetched', '1', MINUTE_IN_SECONDS );
			$fresh = self::fetchCertificates();
			if ( $fresh ) {
				$certs = $fresh;
				set_transient( self::CERTS_TRANSIENT, $certs, DAY_IN_SECONDS );
			}
		}
		return $certs[ $serial ] ?? null;
	}

	/**
	 * POST /binancepay/openapi/certificates, signed as every merchant request.
	 *
	 * @return array<string, string>
	 */
	private static function fetchCertificates(): array {
		$body      = '{}';
		$timestamp = (string) ( Invoices::now() * 1000 );
		$nonce     = wp_generate_password( 32, false );
		$nonce     = preg_replace( '/[^A-Za-z]/', 'x', $nonce );
		$response  = wp_remote_post(
			self::BINANCE_URL . '/binancepay/openapi/certificates',
			array(
				'timeout' => 8,
				'headers' => array(
					'content-type'              => 'application/json',
					'BinancePay-Timestamp'      => $timestamp,
					'BinancePay-Nonce'          => $nonce,
					'BinancePay-Certificate-SN' => (string) Settings::get( 'binance_api_key' ),
					'BinancePay-Signature'      => Provider::binanceSign( (string) Settings::get( 'binance_api_secret' ), $timestamp, $nonce, $body ),
				),
				'body'    => $body,
			)
		);
		if ( is_wp_error( $response ) ) {
			return array();
		}
		$json  = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		$certs = array();
		foreach ( is_array( $json['data'] ?? null ) ? $json['data'] : array() as $cert ) {
			if ( is_string( $cert['certSerial'] ?? null ) && is_string( $cert['certPublic'] ?? null ) ) {
				$certs[ $cert['certSerial'] ] = $cert['certPublic'];
			}
		}
		return $certs;
	}

	/**
	 * Verifies a NOWPayments IPN.
	 *
	 * @param callable(string): string $header Reads a header.
	 * @return array{public_id: string, status: string, paid: ?string, key: string}
	 */
	private static function nowpayments( callable $header, string $raw ): array {
		Provider::nowpaymentsVerifyIpn( trim( (string) Settings::get( 'nowpayments_ipn_secret' ) ), $raw, $header( 'x-nowpayments-sig' ) );
		$body = json_decode( $raw, true );
		if ( ! is_string( $body['order_id'] ?? null ) || ! is_string( $body['payment_status'] ?? null ) || ! isset( $body['payment_id'] ) ) {
			throw new DomainError( 'invalid_provider_payload', $raw, 'order_id, payment_id or payment_status missing' );
		}
		$paid = 'finished' === $body['payment_status'] ? Provider::amount( (string) wp_json_encode( $body['price_amount'] ?? null ), 6 ) : null;
		return array(
			'public_id' => $body['order_id'],
			'status'    => $body['payment_status'],
			'paid'      => $paid,
			'key'       => $body['payment_id'] . ':' . $body['payment_status'] . ':' . hash( 'sha256', $raw ),
		);
	}

	/**
	 * Applies a verified status to the invoice: settled once (when the amount covers the due), or
	 * processing; anything else leaves the invoice open for a direct payment. An invoice with a
	 * network chosen (a record) is left to the merchant: the answer says review.
	 *
	 * @param array<string, mixed> $row The invoice row.
	 */
	private static function apply( array $row, string $name, string $status, ?string $paid ): string {
		$outcome = Provider::status( $name, $status );
		$rows    = InvoiceTable::site();
		for ( $attempt = 0; $attempt < 5; $attempt++ ) {
			if ( ! empty( $row['record'] ) ) {
				return 'review';
			}
			$state = (string) $row['state'];
			if ( 'settled' === $outcome['state'] ) {
				if ( 'settled' === $state ) {
					return 'unchanged';
				}
				// What the order costs in USDT (6 decimals), as the invoice priced it.
				$due = Amount::fiatToToken( (string) $row['fiat_amount'], (string) $row['rate'], (string) Settings::get( 'precision' ), 6 );
				if ( null === $paid || Uint::cmp( $paid, $due ) < 0 ) {
					return 'review';
				}
				$values = array( 'state' => 'settled', 'updated_at' => Invoices::now() );
			} elseif ( 'processing' === $outcome['state'] && 'new' === $state ) {
				$values = array( 'state' => 'processing', 'updated_at' => Invoices::now() );
			} else {
				return 'unchanged';
			}
			if ( $rows->write( $row, $values ) ) {
				$fresh = $rows->find( (string) $row['public_id'] );
				$event = array(
					'id'        => $row['public_id'] . ':provider:' . $values['state'],
					'type'      => 'invoice.' . $values['state'],
					'invoice'   => $row['public_id'],
					'state'     => $values['state'],
					'exception' => null,
					'provider'  => $name,
				);
				do_action( 'stablegate_invoice_event', $event, $fresh );
				return $values['state'];
			}
			$row = $rows->find( (string) $row['public_id'] );
		}
		throw new \RuntimeException( "invoice {$row['public_id']} was written by others 5 times in a row; retry later" );
	}
}
