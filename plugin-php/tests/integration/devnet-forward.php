<?php
/**
 * For the test routers in front of the devnet (`php -S`): sends a JSON-RPC request body to the
 * devnet ($DEVNET_URL) and returns its answer.
 *
 * @package Stablegate
 */

declare(strict_types=1);

/** Returns the devnet's answer to $body. */
function stablegate_forward_to_devnet( string $body ): string {
	return (string) file_get_contents(
		(string) getenv( 'DEVNET_URL' ),
		false,
		stream_context_create(
			array(
				'http' => array(
					'method'  => 'POST',
					'header'  => 'Content-Type: application/json',
					'content' => $body,
				),
			)
		)
	);
}
