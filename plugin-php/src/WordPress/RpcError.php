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
}
