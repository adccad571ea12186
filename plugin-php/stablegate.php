<?php
/**
 * Plugin Name:          Stablegate — USDT payments
 * Plugin URI:           https://stablegate.dev/
 * Description:          Take USDT (TRON, Ethereum, BNB Smart Chain, Polygon and more) straight into your own wallet. No provider, no fee beyond the network's: the plugin creates invoices, watches the chain and completes orders itself.
 * Version:              0.1.0
 * Requires at least:    6.1
 * Tested up to:         6.8
 * Requires PHP:         8.1
 * Requires Plugins:     woocommerce
 * WC requires at least: 8.5
 * WC tested up to:      10.0
 * Author:               Stablegate
 * License:              GPL-2.0-or-later
 * License URI:          https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:          stablegate
 * Domain Path:          /languages
 *
 * @package Stablegate
 */

defined( 'ABSPATH' ) || exit;

define( 'STABLEGATE_VERSION', '0.1.0' );
define( 'STABLEGATE_FILE', __FILE__ );

require __DIR__ . '/src/autoload.php';

Stablegate\WordPress\Plugin::boot( __FILE__ );
