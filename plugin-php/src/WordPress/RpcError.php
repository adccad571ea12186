<?php
/**
 * A failed JSON-RPC call.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/** A node could not be reached, or answered an error. */
final class RpcError extends \RuntimeException {

	/**
	 * An error; $rate_limited when the node refused because it is asked too often (HTTP 429, or
	 * a JSON-RPC error that says so: a public endpoint over its allowance).
	 */
	public function __construct( string $message, public readonly bool $rate_limited = false ) {
		parent::__construct( $message );
	}

	/**
	 * Returns true when a JSON-RPC error is a rate limit: code 429, or a message that says so
	 * (EIP-1474's -32005 "limit exceeded", "rate limit", "too many requests", a quota), as public
	 * endpoints answer; a range or result-size refusal is not one.
	 */
	public static function saysRateLimited( ?int $code, string $message ): bool {
		return 429 === $code || 1 === preg_match( '/rate.?limit|too many requests|^limit exceeded|request limit|quota|computing resources/i', $message );
	}
}
