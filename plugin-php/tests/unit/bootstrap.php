<?php
/**
 * Bootstrap of the domain tests: the plugin's own autoloader, no WordPress.
 *
 * @package Stablegate
 */

declare(strict_types=1);

require dirname( __DIR__, 2 ) . '/src/autoload.php';
