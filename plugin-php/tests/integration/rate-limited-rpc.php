<?php
/**
 * Router of a public JSON-RPC endpoint over its allowance, which the tests start with PHP's
 * built-in server (`php -S`): with LIMIT=http it answers every request HTTP 429 Too Many Requests
 * with Retry-After, as public endpoints do; with LIMIT=rpc it answers each call with EIP-1474's
 * JSON-RPC error -32005 "limit exceeded" (HTTP 200), as others do.
 *
 * @package Stablegate
 */

declare(strict_types=1);

if ( 'http' === getenv( 'LIMIT' ) ) {
	http_response_code( 429 );
	header( 'Retry-After: 60' );
	echo 'Too Many Requests';
	return;
}
$stablegate_request = json_decode( (string) file_get_contents( 'php://input' ), true );
$stablegate_calls   = array_is_list( $stablegate_request ) ? $stablegate_request : array( $stablegate_request );
$stablegate_errors  = array_map(
	static fn ( array $call ): array => array(
		'jsonrpc' => '2.0',
		'id'      => $call['id'],
		'error'   => array(
			'code'    => -32005,
			'message' => 'limit exceeded',
		),
	),
	$stablegate_calls
);
header( 'Content-Type: application/json' );
echo json_encode( array_is_list( $stablegate_request ) ? $stablegate_errors : $stablegate_errors[0] );
