<?php
/**
 * An error a REST route answers with.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/** A client-facing error: HTTP status, stable code, a message naming what is wrong. */
final class ApiError extends \RuntimeException {

	public function __construct( public readonly int $status, public readonly string $kind, string $message, public readonly ?string $field = null ) {
		parent::__construct( $message );
	}

	/** Returns the WP_Error the REST API sends. */
	public function toWpError(): \WP_Error {
		$data = array( 'status' => $this->status );
		if ( null !== $this->field ) {
			$data['field'] = $this->field;
		}
		return new \WP_Error( 'stablegate_' . $this->kind, $this->getMessage(), $data );
	}
}
