<?php
/**
 * Applies invoice events to WooCommerce orders.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WooCommerce;

use Stablegate\Domain\Network;
use Stablegate\WordPress\Display;
use Stablegate\WordPress\Invoices;

/**
 * Listens to stablegate_invoice_event and moves the order by OrderStates, through the order API
 * only (HPOS-safe). The core announces needs_review as its own event and nothing else while an
 * invoice is in review, so an order in review stays on hold until the merchant's resolution
 * (whose note the next event carries) is announced. Safe to receive an event twice: each action checks the order's current status
 * first (payment_complete is skipped once paid; on-hold is not re-applied), and notes carry the
 * event id.
 */
final class OrderFlow {

	/**
	 * Handles one invoice event.
	 *
	 * @param array<string, mixed> $event The event.
	 * @param array<string, mixed>|null $row The invoice row after the change.
	 */
	public static function onEvent( array $event, ?array $row ): void {
		if ( null === $row || empty( $row['order_id'] ) || ! function_exists( 'wc_get_order' ) ) {
			return;
		}
		$order = wc_get_order( (int) $row['order_id'] );
		if ( ! $order || (string) $order->get_meta( '_stablegate_invoice' ) !== (string) $row['public_id'] ) {
			return; // Not this order's current invoice (the customer started a newer one).
		}
		if ( 'invoice.created' === $event['type'] ) {
			return;
		}
		$invoice = Invoices::record( $row );
		$note    = self::note( $event, $row );
		switch ( OrderStates::action( (string) $event['state'], $event['exception'] ?? null ) ) {
			case 'complete':
				if ( $order->is_paid() ) {
					$order->add_order_note( $note );
					return;
				}
				$order->add_order_note( $note );
				$tx = '';
				foreach ( null === $invoice ? array() : $invoice->ledger as $entry ) {
					if ( 'final' === $entry['status'] ) {
						$tx = $entry['tx_hash'];
					}
				}
				$order->payment_complete( $tx );
				return;
			case 'on-hold':
				if ( $order->is_paid() || $order->has_status( 'on-hold' ) ) {
					$order->add_order_note( $note );
					return;
				}
				$order->update_status( 'on-hold', $note );
				return;
			case 'cancel':
				if ( $order->has_status( array( 'pending', 'on-hold' ) ) ) {
					$order->update_status( 'cancelled', $note );
					return;
				}
				$order->add_order_note( $note );
				return;
			case 'fail':
				if ( ! $order->is_paid() && ! $order->has_status( 'cancelled' ) ) {
					$order->update_status( 'failed', $note );
					return;
				}
				$order->add_order_note( $note );
				return;
			default:
				$order->add_order_note( $note );
		}
	}

	/**
	 * A merchant (or anything else) cancelled a Stablegate order: its invoice is cancelled too
	 * while it is open and unpaid, so the pay page stops asking for money and a payment that still
	 * arrives waits for the merchant's review instead of completing the cancelled order. An
	 * invoice that already has a payment, or has expired, is left as it is, with a note saying so.
	 *
	 * @param int            $order_id The order.
	 * @param \WC_Order|null $order    The order.
	 */
	public static function onCancelled( $order_id, $order = null ): void {
		$order = $order instanceof \WC_Order ? $order : wc_get_order( (int) $order_id );
		if ( ! $order || 'stablegate' !== $order->get_payment_method() ) {
			return;
		}
		$row = Invoices::find( (string) $order->get_meta( '_stablegate_invoice' ) );
		if ( null === $row || in_array( $row['state'], array( 'invalid', 'expired', 'settled' ), true ) ) {
			return; // Nothing open (this flow cancels orders itself when their invoice expires).
		}
		try {
			Invoices::cancel( $row );
			/* translators: %s: invoice id */
			$order->add_order_note( sprintf( __( 'Stablegate invoice %s cancelled with the order: its pay page no longer asks for a payment. A payment that still arrives waits in the review queue.', 'stablegate' ), $row['public_id'] ) );
		} catch ( \Stablegate\WordPress\ApiError $e ) {
			/* translators: 1: invoice id, 2: why */
			$order->add_order_note( sprintf( __( 'Stablegate invoice %1$s was not cancelled with the order: %2$s. Check its payment in USDT invoices before refunding or shipping.', 'stablegate' ), $row['public_id'], $e->getMessage() ) );
		}
	}

	/**
	 * The order note of an event, with explorer links of the transfers.
	 *
	 * @param array<string, mixed> $event The event.
	 * @param array<string, mixed> $row   The invoice row.
	 */
	public static function note( array $event, array $row ): string {
		$invoice = Invoices::record( $row );
		$state   = (string) $event['state'] . ( empty( $event['exception'] ) ? '' : ' (' . $event['exception'] . ')' );
		/* translators: 1: invoice id, 2: invoice state */
		$text = sprintf( __( 'Stablegate invoice %1$s: %2$s.', 'stablegate' ), $row['public_id'], $state );
		if ( 'invoice.needs_review' === $event['type'] ) {
			$text .= ' ' . __( 'A person must review this payment (USDT invoices → Review queue) before the order ships.', 'stablegate' );
		}
		if ( isset( $event['resolution'] ) ) {
			$text .= ' ' . ( 'accepted' === $event['resolution']['outcome']
				/* translators: %s: the merchant's note */
				? sprintf( __( 'Review: payment accepted. Note: %s', 'stablegate' ), esc_html( $event['resolution']['note'] ) )
				/* translators: %s: the merchant's note */
				: sprintf( __( 'Review: payment rejected and returned to the unmatched payments. Note: %s', 'stablegate' ), esc_html( $event['resolution']['note'] ) ) );
		}
		if ( null === $invoice ) {
			return $text;
		}
		$network  = Network::get( $invoice->network );
		$token    = $network->token( $invoice->token );
		$decimals = (int) $token['decimals'];
		$status   = $invoice->status( (string) Invoices::now() );
		/* translators: 1: amount paid, 2: amount due, 3: token symbol, 4: network name */
		$text .= ' ' . sprintf( __( 'Paid %1$s of %2$s %3$s on %4$s.', 'stablegate' ), Display::amount( $status['amount_paid'], $decimals ), Display::amount( $invoice->amount_due, $decimals ), $token['symbol'], $network->names()['en'] );
		if ( 'paid_over' === $status['exception'] ) {
			$text .= ' ' . __( 'More than the amount due was received; consider refunding the excess.', 'stablegate' );
		}
		foreach ( $invoice->ledger as $entry ) {
			$url   = $network->explorerUrl( $entry['tx_hash'] );
			$label = esc_html( substr( $entry['tx_hash'], 0, 12 ) . '…' ) . ' (' . esc_html( Display::amount( $entry['amount'], $decimals ) ) . ', ' . esc_html( $entry['status'] ) . ')';
			$text .= ' ' . ( null === $url ? $label : '<a href="' . esc_url( $url ) . '" target="_blank" rel="noopener">' . $label . '</a>' );
		}
		return $text;
	}

	/**
	 * WooCommerce's customer e-mail of an order put on hold has the same subject as the one of a
	 * paid order ("Your … order has been received!"), so an order held while its payment gathers
	 * confirmations, then paid, sent the customer that e-mail twice. The hold for confirmations is
	 * not a state the customer acts on (the payment page shows the confirmations): no e-mail for
	 * it; the customer hears once the order is paid. A hold for a person's review still mails.
	 *
	 * @param bool           $enabled Whether WooCommerce would send it.
	 * @param \WC_Order|null $order   The order.
	 */
	public static function mayEmailOnHold( $enabled, $order ): bool {
		if ( ! $enabled || ! $order instanceof \WC_Order || 'stablegate' !== $order->get_payment_method() ) {
			return (bool) $enabled;
		}
		$row = Invoices::find( (string) $order->get_meta( '_stablegate_invoice' ) );
		return ! ( null !== $row && 'processing' === $row['state'] && 'needs_review' !== $row['exception'] );
	}

	/**
	 * Keeps WooCommerce's unpaid-order auto-cancel (hold stock) away from orders whose invoice is
	 * still open or whose payment is being confirmed; the invoice's own expiry decides those.
	 *
	 * @param bool      $cancel Whether WooCommerce would cancel.
	 * @param \WC_Order $order  The order.
	 */
	public static function mayCancelUnpaid( $cancel, $order ): bool {
		if ( ! $cancel || ! is_object( $order ) || 'stablegate' !== $order->get_payment_method() ) {
			return (bool) $cancel;
		}
		$row = Invoices::find( (string) $order->get_meta( '_stablegate_invoice' ) );
		if ( null === $row ) {
			return true;
		}
		$open = Invoices::now() < (int) $row['expires_at'] || in_array( $row['state'], array( 'processing' ), true );
		return ! $open;
	}
}
