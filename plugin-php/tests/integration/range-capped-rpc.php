<?php
/**
 * Router of a JSON-RPC provider that caps eth_getLogs ranges, which the tests start with PHP's
 * built-in server (`php -S`): it forwards every request to the devnet ($DEVNET_URL) and answers
 * each eth_getLogs over more than $MAX_RANGE blocks with the error hosted providers give.
 *
 * @package Stablegate
 */

declare(strict_types=1);

require __DIR__ . '/devnet-forward.php';

$stablegate_body    = (string) file_get_contents( 'php://input' );
$stablegate_request = json_decode( $stablegate_body, true );
$stablegate_single  = ! array_is_list( $stablegate_request );
$stablegate_answer  = stablegate_forward_to_devnet( $stablegate_body );
$stablegate_replies = json_decode( (string) $stablegate_answer, true );
$stablegate_list    = $stablegate_single ? array( $stablegate_replies ) : $stablegate_replies;
$stablegate_wide    = array();
foreach ( $stablegate_single ? array( $stablegate_request ) : $stablegate_request as $stablegate_call ) {
	if ( 'eth_getLogs' === $stablegate_call['method'] && hexdec( $stablegate_call['params'][0]['toBlock'] ) - hexdec( $stablegate_call['params'][0]['fromBlock'] ) + 1 > (int) getenv( 'MAX_RANGE' ) ) {
		$stablegate_wide[ $stablegate_call['id'] ] = true;
	}
}
foreach ( $stablegate_list as $stablegate_i => $stablegate_reply ) {
	if ( isset( $stablegate_wide[ $stablegate_reply['id'] ] ) ) {
		$stablegate_list[ $stablegate_i ] = array(
			'jsonrpc' => '2.0',
			'id'      => $stablegate_reply['id'],
			'error'   => array(
				'code'    => -32005,
				'message' => 'query exceeds max block range ' . getenv( 'MAX_RANGE' ),
			),
		);
	}
}
header( 'Content-Type: application/json' );
echo json_encode( $stablegate_single ? $stablegate_list[0] : $stablegate_list ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode,WordPress.Security.EscapeOutput.OutputNotEscaped -- no WordPress here; the devnet's own JSON.
