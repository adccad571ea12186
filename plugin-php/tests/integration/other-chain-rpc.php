<?php
/**
 * Router of a JSON-RPC node of another chain, which the tests start with PHP's built-in server
 * (`php -S`): it forwards every call to the devnet ($DEVNET_URL) and answers eth_chainId with
 * Sepolia's 11155111, as a fork or a testnet serving the same contract and the same logs would.
 *
 * @package Stablegate
 */

declare(strict_types=1);

require __DIR__ . '/devnet-forward.php';

$stablegate_answer = stablegate_forward_to_devnet( (string) file_get_contents( 'php://input' ) );
$stablegate_replies = json_decode( (string) $stablegate_answer, true );
$stablegate_single  = ! array_is_list( $stablegate_replies );
$stablegate_request = json_decode( (string) file_get_contents( 'php://input' ), true );
$stablegate_methods = array();
foreach ( $stablegate_single ? array( $stablegate_request ) : $stablegate_request as $stablegate_call ) {
	$stablegate_methods[ $stablegate_call['id'] ] = $stablegate_call['method'];
}
$stablegate_list = $stablegate_single ? array( $stablegate_replies ) : $stablegate_replies;
foreach ( $stablegate_list as $stablegate_i => $stablegate_reply ) {
	if ( 'eth_chainId' === ( $stablegate_methods[ $stablegate_reply['id'] ] ?? '' ) ) {
		$stablegate_list[ $stablegate_i ]['result'] = '0xaa36a7';
	}
}
header( 'Content-Type: application/json' );
echo json_encode( $stablegate_single ? $stablegate_list[0] : $stablegate_list ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode,WordPress.Security.EscapeOutput.OutputNotEscaped -- no WordPress here; the devnet's own JSON.
