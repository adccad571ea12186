<?php
/**
 * Nonces bound to one invoice.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * A nonce for the customer's actions on one invoice (choose, claim), carried in the action URLs of
 * the status document. WordPress's own nonces depend on the logged-in user and session, but the
 * REST API drops the cookie user when no X-WP-Nonce header is sent (the widget sends none), so a
 * nonce made on the order page would never verify there. This one is an HMAC of the invoice id and
 * a 12-hour tick under the site's nonce salt: valid for 12 to 24 hours, useless for another invoice.
 */
final class Nonce {

	private const TICK = 43200;

	/** Returns the nonce of $public_id for the current tick. */
	public static function create( string $public_id, ?int $now = null ): string {
		return self::token( $public_id, intdiv( $now ?? time(), self::TICK ) );
	}

	/** Returns true when $nonce is the nonce of $public_id for this tick or the previous one. */
	public static function verify( string $public_id, string $nonce, ?int $now = null ): bool {
		$tick = intdiv( $now ?? time(), self::TICK );
		return hash_equals( self::token( $public_id, $tick ), $nonce ) || hash_equals( self::token( $public_id, $tick - 1 ), $nonce );
	}

	private static function token( string $public_id, int $tick ): string {
		return substr( hash_hmac( 'sha256', 'stablegate|' . $public_id . '|' . $tick, wp_salt( 'nonce' ) ), 0, 20 );
	}
}
