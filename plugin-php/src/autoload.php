<?php
/**
 * PSR-4 autoloader for Stablegate\ => src/ (no Composer: Packagist is not a dependency).
 *
 * @package Stablegate
 */

declare(strict_types=1);

spl_autoload_register(
	static function ( string $class_name ): void {
		$prefix = 'Stablegate\\';
		if ( 0 === strncmp( $class_name, $prefix, strlen( $prefix ) ) ) {
			$file = __DIR__ . '/' . str_replace( '\\', '/', substr( $class_name, strlen( $prefix ) ) ) . '.php';
			if ( is_file( $file ) ) {
				require $file;
			}
		}
	}
);
