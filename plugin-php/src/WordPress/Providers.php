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
 * checkout() creates the provider's order of an invoice server-side (signed with the PHP mirror),
 * as the server does (shopify-app/src/providers/): the order-pay page shows a form per enabled
 * provider (forms()), posted with a nonce to admin-post.php (start()), which redirects the
 * customer to the provider's checkout, or back to the pay page with a sentence and the direct
 * payment when the provider does not answer.
 */
final class Providers {

	/** The option prefix of the notifications taken (the replay guard). */
	public const SEEN_PREFIX = 'stablegate_pn_';

	/** The transient of Binance's certificates (serial => certPublic). */
	public const CERTS_TRANSIENT = 'stablegate_binance_certs';

	public const BINANCE_URL = 'https://bpay.binanceapi.com';

	public const NOWPAYMENTS_URL = 'https://api.nowpayments.io/v1';

	/** The currency NOWPayments prices the invoice in: USDT (TRC-20), as the invoice's due. */
	public const NOWPAYMENTS_PRICE_CURRENCY = 'usdttrc20';

	/** The admin-post action (and nonce action prefix) of the pay page's provider forms. */
	public const ACTION = 'stablegate_provider';

	/** The query argument the pay page gets back when the provider did not answer. */
	public const UNAVAILABLE_ARG = 'stablegate_provider';

	/**
	 * The order-pay page's forms: one button per enabled provider while the invoice is open and
	 * no network is chosen, each posting with a nonce to admin-post.php; with $unavailable, the
	 * sentence saying the provider did not answer (the direct payment stays on the page).
	 *
	 * @param array<string, mixed> $row The invoice row.
	 */
	public static function forms( array $row, string $back, bool $unavailable ): string {
		$html = $unavailable ? '<p class="stablegate-provider-unavailable" role="status">' . esc_html__( 'The provider did not answer. You can still pay directly on this page: it is the same invoice.', 'stablegate' ) . '</p>' : '';
		if ( ! empty( $row['record'] ) || 'new' !== $row['state'] || Invoices::now() >= (int) $row['expires_at'] ) {
			return $html;
		}
		$labels = array(
			'binance'     => __( 'Pay with Binance Pay', 'stablegate' ),
			'nowpayments' => __( 'Pay with NOWPayments', 'stablegate' ),
		);
		foreach ( $labels as $name => $label ) {
			if ( ! self::enabled( $name ) ) {
				continue;
			}
			$html .= '<form method="post" class="stablegate-provider" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">'
				. '<input type="hidden" name="action" value="' . esc_attr( self::ACTION ) . '" />'
				. '<input type="hidden" name="provider" value="' . esc_attr( $name ) . '" />'
				. '<input type="hidden" name="invoice" value="' . esc_attr( (string) $row['public_id'] ) . '" />'
				. '<input type="hidden" name="back" value="' . esc_attr( $back ) . '" />'
				. '<input type="hidden" name="_sgnonce" value="' . esc_attr( wp_create_nonce( self::ACTION . '|' . $row['public_id'] ) ) . '" />'
				. '<button type="submit" class="button">' . esc_html( $label ) . '</button></form>';
		}
		return $html;
	}

	/**
	 * Where a posted provider form sends the customer: the provider's checkout, or back to the
	 * pay page (with UNAVAILABLE_ARG when the provider did not answer). A form without a valid
	 * nonce (CSRF) creates nothing.
	 *
	 * @param array<string, mixed> $post The posted fields (unslashed).
	 */
	public static function redirectFor( array $post ): string {
		$back = wp_validate_redirect( (string) ( $post['back'] ?? '' ), home_url( '/' ) );
		$id   = (string) ( $post['invoice'] ?? '' );
		$name = (string) ( $post['provider'] ?? '' );
		if ( ! wp_verify_nonce( (string) ( $post['_sgnonce'] ?? '' ), self::ACTION . '|' . $id ) || ! in_array( $name, array( 'binance', 'nowpayments' ), true ) ) {
			return $back;
		}
		$row = Invoices::find( $id );
		$url = null === $row ? null : self::checkout( $row, $name );
		return $url ?? add_query_arg( self::UNAVAILABLE_ARG, 'unavailable', $back );
	}

	/** admin-post.php handler of the pay page's provider forms: a 303 to where redirectFor says. */
	public static function start(): void {
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- redirectFor verifies the nonce.
		wp_redirect( self::redirectFor( wp_unslash( $_POST ) ), 303 ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- the provider's https checkout is another host.
		exit;
	}

	/** The option prefix of the provider orders created (the checkout URL, reused). */
	public const CHECKOUT_PREFIX = 'stablegate_pc_';

	/**
	 * The provider's checkout URL of an open invoice without a chosen network: creates the order
	 * once (Binance Pay v3 order, signed; NOWPayments invoice) and reuses it. Null when the
	 * provider is not enabled, the invoice is not open, or the provider did not answer (the pay
	 * page keeps the direct payment).
	 *
	 * @param array<string, mixed> $row The invoice row.
	 */
	public static function checkout( array $row, string $name ): ?string {
		if ( ! self::enabled( $name ) || ! empty( $row['record'] ) || 'new' !== $row['state'] || Invoices::now() >= (int) $row['expires_at'] ) {
			return null;
		}
		$option = self::CHECKOUT_PREFIX . hash( 'sha256', $name . '|' . $row['public_id'] );
		$known  = get_option( $option );
		if ( is_string( $known ) && '' !== $known ) {
			return $known;
		}
		$amount = Amount::toDecimal( Amount::fiatToToken( (string) $row['fiat_amount'], (string) $row['rate'], (string) Settings::get( 'precision' ), 6 ), 6 );
		$text   = sprintf( 'Invoice %s', $row['public_id'] );
		$return = (string) ( $row['return_url'] ?? '' );
		$notify = rest_url( "stablegate/v1/providers/$name/notify" );
		if ( 'binance' === $name ) {
			$trade = substr( (string) $row['public_id'], 4 );
			$body  = array(
				'env'             => array( 'terminalType' => 'WEB' ),
				'merchantTradeNo' => $trade,
				'orderAmount'     => $amount,
				'currency'        => 'USDT',
				'description'     => $text,
				'goodsDetails'    => array( array( 'goodsType' => '02', 'goodsCategory' => 'Z000', 'referenceGoodsId' => $trade, 'goodsName' => $text ) ),
				'webhookUrl'      => $notify,
			) + ( '' !== $return ? array( 'returnUrl' => $return, 'cancelUrl' => $return ) : array() );
			$answer = self::binanceCall( '/binancepay/openapi/v3/order', $body );
			$url    = 'SUCCESS' === ( $answer['status'] ?? null ) ? ( $answer['data']['checkoutUrl'] ?? null ) : null;
		} else {
			$response = wp_remote_post(
				self::NOWPAYMENTS_URL . '/invoice',
				array(
					'timeout' => 8,
					'headers' => array( 'x-api-key' => (string) Settings::get( 'nowpayments_api_key' ), 'content-type' => 'application/json' ),
					'body'    => (string) wp_json_encode(
						array(
							'price_amount'      => (float) $amount, // A JSON number, as the API takes it.
							'price_currency'    => self::NOWPAYMENTS_PRICE_CURRENCY,
							'order_id'          => $row['public_id'],
							'order_description' => $text,
							'ipn_callback_url'  => $notify,
						) + ( '' !== $return ? array( 'success_url' => $return, 'cancel_url' => $return ) : array() )
					),
				)
			);
			$answer = is_wp_error( $response ) || 200 !== (int) wp_remote_retrieve_response_code( $response ) ? null : json_decode( (string) wp_remote_retrieve_body( $response ), true );
			$url    = is_array( $answer ) ? ( $answer['invoice_url'] ?? null ) : null;
		}
		if ( ! is_string( $url ) || ! preg_match( '#^https://#', $url ) ) {
			return null;
		}
		add_option( $option, $url, '', 'no' );
		return (string) get_option( $option );
	}

	/**
	 * Closes the provider orders of a cancelled invoice, so that the customer cannot pay it there
	 * any more: Binance Pay's order/close; NOWPayments has no such call (its invoice expires on
	 * its own). A provider that does not answer leaves the cancel as it is: a payment made there
	 * anyway goes to the merchant's review (apply() on an invalid invoice).
	 */
	public static function close( string $public_id ): void {
		if ( self::enabled( 'binance' ) && false !== get_option( self::CHECKOUT_PREFIX . hash( 'sha256', 'binance|' . $public_id ) ) ) {
			self::binanceCall( '/binancepay/openapi/order/close', array( 'merchantTradeNo' => substr( $public_id, 4 ) ) );
		}
	}

	/**
	 * A signed Binance Pay merchant request; the decoded answer, or null when it did not answer.
	 *
	 * @param array<string, mixed> $data The request body.
	 * @return array<string, mixed>|null
	 */
	private static function binanceCall( string $path, array $data ): ?array {
		$body      = array() === $data ? '{}' : (string) wp_json_encode( $data );
		$timestamp = (string) ( Invoices::now() * 1000 );
		$nonce     = (string) preg_replace( '/[^A-Za-z]/', 'x', wp_generate_password( 32, false ) );
		$response  = wp_remote_post(
			self::BINANCE_URL . $path,
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
			return null;
		}
		$json = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		return is_array( $json ) ? $json : null;
	}

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
		$json  = self::binanceCall( '/binancepay/openapi/certificates', array() );
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
				if ( 'invalid' === $state ) {
					return 'review'; // Paid at the provider after the invoice was cancelled.
				}
				// What the order costs in USDT (6 decimals), as the invoice priced it.
				$due = Amount::fiatToToken( (string) $row['fiat_amount'], (string) $row['rate'], (string) Settings::get( 'precision' ), 6 );
				if ( null === $paid || Uint::cmp( $paid, $due ) < 0 ) {
					return 'review';
				}
				$values = array( 'state' => 'settled', 'provider_paid' => $paid, 'updated_at' => Invoices::now() );
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
