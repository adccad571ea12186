<?php
/**
 * The payment request a QR code holds.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * EIP-681 transfer requests for EVM networks, the bare base58 address for TRON (TronLink rejects
 * tron: URIs). Mirrors crates/core/src/uri.rs.
 *
 * EIP-681: https://eips.ethereum.org/EIPS/eip-681
 */
final class PaymentUri {

	/**
	 * Builds the payment request for $amount base units of $token to $recipient on $network.
	 *
	 * @param array $token A token of $network (Network::token()).
	 * @throws DomainError invalid_amount for zero.
	 */
	public static function build( Network $network, array $token, Address $recipient, string $amount ): string {
		if ( Uint::isZero( $amount ) ) {
			throw new DomainError( 'invalid_amount', '0', 'a payment request needs an amount above zero' );
		}
		$to = $recipient->withFamily( $network->family() );
		if ( 'address' === $network->qr() ) {
			return $to->display();
		}
		return sprintf( 'ethereum:%s@%d/transfer?address=%s&uint256=%s', $token['contract']->display(), $network->chainId(), $to->display(), $amount );
	}

	/**
	 * Returns the calldata of ERC-20 transfer($recipient, $amount) as 0x-prefixed hex, for a
	 * browser wallet to send (uri.rs transfer_calldata).
	 *
	 * @param Address $recipient The recipient.
	 * @param string  $amount    Base units (a u128 decimal string).
	 */
	public static function transferCalldata( Address $recipient, string $amount ): string {
		return '0xa9059cbb' . substr( $recipient->topic(), 2 ) . str_pad( Uint::toHex( $amount ), 64, '0', STR_PAD_LEFT );
	}
}
