<?php
/**
 * Amounts as people read them.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

use Stablegate\Domain\Amount;

/**
 * What the plugin itself shows a person (order notes, e-mails, the admin screens) carries amounts
 * in their display form: at least two decimals ("20.00", "20.013"), never "20". The REST API and
 * the status document keep the canonical decimal (Amount::toDecimal), which programs read.
 */
final class Display {

	/** Returns $units base units of a token of $decimals in display form. */
	public static function amount( string $units, int $decimals ): string {
		return self::decimal( Amount::toDecimal( $units, $decimals ) );
	}

	/**
	 * Returns a canonical decimal ("20", "20.5", "20.013") in display form ("20.00", "20.50",
	 * "20.013"): the core's rule (Amount::display, with vectors), not a second one here.
	 */
	public static function decimal( string $canonical ): string {
		return Amount::display( $canonical );
	}
}
