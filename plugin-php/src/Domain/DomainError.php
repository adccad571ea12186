<?php
/**
 * The one exception type of the domain code.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * An error of the domain code. Its code (getCode()) is the stable error kind of the conformance
 * vectors ("invalid_amount", "address_checksum", ...), the same string the Rust core and its JS
 * build use; the message names the offending input and may change.
 */
final class DomainError extends \RuntimeException {

	/**
	 * Creates an error of kind $kind about $input.
	 *
	 * @param string $kind   Stable error kind.
	 * @param string $input  The rejected input, as given.
	 * @param string $detail Lower-case explanation without a final period.
	 */
	public function __construct( string $kind, string $input, string $detail ) {
		$shown = mb_strlen( $input ) > 80 ? mb_substr( $input, 0, 80 ) . '…' : $input;
		parent::__construct( sprintf( '%s: %s (input %s)', $kind, $detail, json_encode( $shown, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES ) ) );
		// Exception::$code is untyped, so the kind string is stored as the code (as PDOException does).
		$this->code = $kind;
	}

	/** Returns the stable error kind. */
	public function kind(): string {
		return (string) $this->code;
	}
}
