<?php
/**
 * Wiring: hooks of WordPress, and of WooCommerce when it is active.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * Registers the plugin's hooks. The invoice engine (tables, REST, watcher) needs WordPress only;
 * the gateway, Blocks integration and order flow load when WooCommerce is active.
 */
final class Plugin {

	public const CRON_SCHEDULE = 'stablegate_every_minute';

	/** Hooks everything up; called once from the main file. */
	public static function boot( string $file ): void {
		register_activation_hook( $file, array( self::class, 'activate' ) );
		register_deactivation_hook( $file, array( self::class, 'deactivate' ) );
		add_action( 'plugins_loaded', array( Schema::class, 'migrate' ), 5 );
		add_action( 'init', array( self::class, 'loadTranslations' ) );
		add_filter( 'cron_schedules', array( self::class, 'cronSchedules' ) ); // phpcs:ignore WordPress.WP.CronInterval -- one minute: the watcher must see payments promptly.
		// The rate first: the watcher may wait for a network's lock.
		add_action( Watcher::CRON_HOOK, array( Rates::class, 'refreshFromCron' ), 5 );
		add_action( Watcher::CRON_HOOK, array( Watcher::class, 'pollAll' ) );
		add_action( 'rest_api_init', array( Rest::class, 'register' ) );
		add_action( 'before_woocommerce_init', array( \Stablegate\WooCommerce\Integration::class, 'declareCompatibility' ) );
		add_action( 'plugins_loaded', array( \Stablegate\WooCommerce\Integration::class, 'load' ), 20 );
		if ( is_admin() ) {
			add_action( 'admin_menu', array( Admin::class, 'menu' ) );
			add_action( 'admin_post_stablegate_attach', array( Admin::class, 'attach' ) );
			add_action( 'admin_post_stablegate_review', array( Admin::class, 'review' ) );
			add_action( 'admin_post_stablegate_test_invoice', array( \Stablegate\WooCommerce\TestInvoice::class, 'start' ) );
			// The pay page's provider forms (issue 16): customers, signed in or not.
			add_action( 'admin_post_' . Providers::ACTION, array( Providers::class, 'start' ) );
			add_action( 'admin_post_nopriv_' . Providers::ACTION, array( Providers::class, 'start' ) );
			Setup::register();
		}
	}

	/** Creates the tables, schedules the watcher and asks for the next setup step. */
	public static function activate(): void {
		Schema::migrate();
		self::schedule();
		update_option( Setup::NOTICE_OPTION, 1, false );
	}

	/** Schedules the watcher every minute (idempotent). */
	public static function schedule(): void {
		if ( false === wp_next_scheduled( Watcher::CRON_HOOK ) ) {
			wp_schedule_event( time(), self::CRON_SCHEDULE, Watcher::CRON_HOOK );
		}
	}

	/** Stops the watcher; data stays (uninstall.php removes it only when asked). */
	public static function deactivate(): void {
		wp_clear_scheduled_hook( Watcher::CRON_HOOK );
	}

	/** Loads the bundled translations (on init, never earlier: WordPress 6.7 warns otherwise). */
	public static function loadTranslations(): void {
		load_plugin_textdomain( 'stablegate', false, dirname( plugin_basename( STABLEGATE_FILE ) ) . '/languages' );
	}

	/**
	 * Adds the one-minute schedule.
	 *
	 * @param array<string, array{interval: int, display: string}> $schedules Schedules.
	 * @return array<string, array{interval: int, display: string}>
	 */
	public static function cronSchedules( array $schedules ): array {
		$schedules[ self::CRON_SCHEDULE ] = array(
			'interval' => 60,
			'display'  => 'Every minute (Stablegate watcher)',
		);
		return $schedules;
	}
}
