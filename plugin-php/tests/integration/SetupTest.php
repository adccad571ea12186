<?php
/**
 * From activation to the first payment: which settings show for which choices, the notice that
 * names the one thing missing, the plugin row's Settings link, the connection test run on save,
 * the sandbox switch, and a merchant who enters only an address (the public defaults, pointed at
 * the devnet here) reaching a paid invoice.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\WordPress\Endpoints;
use Stablegate\WordPress\Invoices;
use Stablegate\WordPress\Settings;
use Stablegate\WordPress\Setup;

final class SetupTest extends TestCase {

	/** A TRON address of the tests (any valid one: nothing is paid to it here). */
	private const TRON_ADDRESS = 'TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW';

	protected function setUp(): void {
		Helpers::reset();
		remove_all_filters( 'stablegate_default_rpc_urls' );
		remove_all_filters( 'stablegate_sandbox_networks' );
	}

	protected function tearDown(): void {
		remove_all_filters( 'stablegate_default_rpc_urls' );
		remove_all_filters( 'stablegate_sandbox_networks' );
		wp_set_current_user( 0 );
	}

	/** Gives the devnet the public default endpoints $urls (the registry's, in production). */
	private static function defaults( array $urls ): void {
		add_filter( 'stablegate_default_rpc_urls', static fn ( array $found, string $network ): array => 'devnet' === $network ? $urls : $found, 10, 2 );
	}

	/** Makes the current user a shop manager (manage_options: WooCommerce is not loaded here). */
	private static function merchant(): void {
		wp_set_current_user( 1 );
	}

	public function testOnlyTheChosenNetworksAndTheirFamilysAddressesShow(): void {
		$shown = Settings::visibleFields( array( 'networks' => array( 'tron:usdt' ) ) );
		$this->assertSame( array( 'addresses_tron', 'rate', 'network_tron', 'rpc_tron', 'confirmations_tron' ), $shown );

		$shown = Settings::visibleFields( array( 'networks' => array( 'ethereum:usdt', 'base:usdt-bridged' ) ) );
		$this->assertContains( 'addresses_evm', $shown );
		$this->assertNotContains( 'addresses_tron', $shown );
		$this->assertSame( array( 'network_ethereum', 'network_base' ), array_values( array_filter( $shown, static fn ( $k ) => str_starts_with( $k, 'network_' ) ) ) );
		$this->assertNotContains( 'rpc_bsc', $shown, 'no row for a network nobody chose' );
	}

	public function testRateSourceFieldsShowOnlyForARateSource(): void {
		$fixed = Settings::visibleFields( array( 'rate_source' => 'fixed' ) );
		$this->assertContains( 'rate', $fixed );
		$this->assertSame( array(), array_intersect( array( 'rate_url', 'rate_path', 'rate_invert', 'rate_max_age' ), $fixed ) );
		$url = Settings::visibleFields( array( 'rate_source' => 'url' ) );
		$this->assertNotContains( 'rate', $url );
		$this->assertSame( array( 'rate_url', 'rate_path', 'rate_invert', 'rate_max_age' ), array_values( array_intersect( $url, array( 'rate_url', 'rate_path', 'rate_invert', 'rate_max_age' ) ) ) );
	}

	public function testTheSandboxShowsAndTakesTheTestNetworksInPlaceOfTheChosenOnes(): void {
		$shown = Settings::visibleFields( array( 'networks' => array( 'ethereum:usdt' ), 'sandbox' => 'yes' ) );
		$this->assertSame( array( 'network_tron-nile', 'network_sepolia', 'network_bsc-testnet' ), array_values( array_filter( $shown, static fn ( $k ) => str_starts_with( $k, 'network_' ) ) ) );
		$this->assertNotContains( 'network_ethereum', $shown );
		$this->assertContains( 'addresses_tron', $shown, 'TRON Nile takes the TRON address' );

		// The switch: the devnet stands for the test networks here (they have no endpoint offline).
		add_filter( 'stablegate_sandbox_networks', static fn (): array => array( 'devnet:usdt' ) );
		Settings::update( array( 'networks' => array( 'ethereum:usdt' ), 'rpc_ethereum' => Helpers::devnetUrl() ) );
		$this->assertSame( array( array( 'network' => 'ethereum', 'token' => 'usdt' ) ), Settings::acceptedChoices() );
		Settings::update( array( 'sandbox' => 'yes' ) );
		$this->assertSame( array( array( 'network' => 'devnet', 'token' => 'usdt' ) ), Settings::acceptedChoices() );
		$this->assertSame( array( 'https://nileex.io/join/getJoinPage' ), \Stablegate\WordPress\Sandbox::faucets( 'tron-nile' ) );
	}

	public function testTheNextStepIsTheOneThingStillMissing(): void {
		$values = array( 'enabled' => 'no', 'networks' => array( 'tron:usdt' ), 'addresses_tron' => '', 'addresses_evm' => '' );
		$this->assertSame( array( 'address', 'addresses_tron' ), array_values( array_intersect_key( Setup::nextStep( $values ), array_flip( array( 'step', 'field' ) ) ) ) );

		// The registry names public endpoints for TRON: an address is all it needs.
		$values['addresses_tron'] = self::TRON_ADDRESS;
		$this->assertContains( 'https://api.trongrid.io/jsonrpc', Endpoints::defaults( 'tron' ) );
		$this->assertSame( 'enable', Setup::nextStep( $values )['step'] );
		// A network without public endpoints (here TRON's removed by the filter) needs an RPC URL.
		add_filter( 'stablegate_default_rpc_urls', static fn ( array $found, string $network ): array => 'tron' === $network ? array() : $found, 10, 2 );
		$step = Setup::nextStep( $values );
		$this->assertSame( 'rpc', $step['step'], 'without a public endpoint an RPC URL is missing' );
		$this->assertSame( 'network_tron', $step['field'] );
		$this->assertStringContainsString( 'TRON (TRC-20) has no public endpoint', $step['message'] );

		$values['rpc_tron'] = 'https://tron.example/jsonrpc';
		$this->assertSame( 'enable', Setup::nextStep( $values )['step'] );
		$values['enabled'] = 'yes';
		$this->assertNull( Setup::nextStep( $values ) );

		// With a public default, an address is all a network needs.
		self::defaults( array( Helpers::devnetUrl() ) );
		$this->assertNull( Setup::nextStep( array( 'enabled' => 'yes', 'networks' => array( 'devnet:usdt' ), 'addresses_evm' => Helpers::RECIPIENT, 'rpc_devnet' => '' ) ) );
	}

	public function testActivationLeadsToTheMissingAddressThenGoesAway(): void {
		Settings::update( array( 'addresses_evm' => '', 'rpc_devnet' => '', 'networks' => array( 'devnet:usdt' ) ) );
		\Stablegate\WordPress\Plugin::activate();
		self::defaults( array( Helpers::devnetUrl() ) );

		wp_set_current_user( 0 );
		$this->assertSame( '', self::notice(), 'nothing for a visitor' );
		self::merchant();
		$html = self::notice();
		$this->assertStringContainsString( 'paste the address of your wallet that receives USDT on Local devnet', $html );
		$this->assertStringContainsString( 'section=stablegate#woocommerce_stablegate_addresses_evm', $html );

		Settings::update( array( 'addresses_evm' => Helpers::RECIPIENT ) );
		$this->assertSame( '', self::notice(), 'address given, a public endpoint, enabled: nothing is missing' );
		$this->assertFalse( get_option( Setup::NOTICE_OPTION ), 'done: the notice does not come back' );
	}

	private static function notice(): string {
		ob_start();
		Setup::notice();
		return (string) ob_get_clean();
	}

	public function testThePluginRowHasASettingsLinkFirst(): void {
		Setup::register();
		$links = apply_filters( 'plugin_action_links_' . plugin_basename( STABLEGATE_FILE ), array( 'deactivate' => '<a href="#">Deactivate</a>' ) );
		$this->assertSame( array( 'settings', 'deactivate' ), array_keys( $links ) );
		$this->assertStringContainsString( 'page=wc-settings&#038;tab=checkout&#038;section=stablegate', $links['settings'] );
		$this->assertStringContainsString( '>Settings</a>', $links['settings'] );
	}

	public function testSavingTestsEveryNetworkAndSaysItInWords(): void {
		$this->assertSame(
			array( 'devnet' => array( 'ok' => true, 'message' => 'Local devnet: connected to 127.0.0.1; payments there will be seen.' ) ),
			Setup::testConnections()
		);

		Settings::update( array( 'rpc_devnet' => '' ) );
		self::defaults( array( Helpers::devnetUrl() ) );
		$this->assertSame( 'Local devnet: connected through the public endpoint 127.0.0.1; payments there will be seen.', Setup::testConnections()['devnet']['message'] );

		Settings::update( array( 'rpc_devnet' => 'http://127.0.0.1:9/' ) ); // Nothing listens on the discard port.
		$outcome = Setup::testConnections()['devnet'];
		$this->assertFalse( $outcome['ok'] );
		$this->assertStringStartsWith( 'Local devnet: 127.0.0.1 does not answer (', $outcome['message'] );
		$this->assertStringContainsString( 'Payments on this network will not be seen until it does', $outcome['message'] );
	}

	public function testAPublicEndpointThatRateLimitsOrDoesNotAnswerIsSaidInWords(): void {
		Settings::update( array( 'rpc_devnet' => '' ) );
		foreach ( array( 'http' => 'HTTP 429', 'rpc' => 'limit exceeded' ) as $limit => $detail ) {
			list( $server, $url ) = Helpers::phpServer( __DIR__ . '/rate-limited-rpc.php', array( 'LIMIT' => $limit ) );
			try {
				self::defaults( array( $url ) );
				$outcome = Setup::testConnections()['devnet'];
			} finally {
				proc_terminate( $server );
				remove_all_filters( 'stablegate_default_rpc_urls' );
			}
			$this->assertFalse( $outcome['ok'] );
			$this->assertStringStartsWith( 'Local devnet: the public endpoint 127.0.0.1 is limiting how often it may be asked (', $outcome['message'], $limit );
			$this->assertStringContainsString( $detail, $outcome['message'], $limit );
			$this->assertStringContainsString( 'add an RPC URL of your own', $outcome['message'], $limit );
		}

		self::defaults( array( 'http://127.0.0.1:9/' ) ); // Nothing listens on the discard port: no internet, say.
		$outcome = Setup::testConnections()['devnet'];
		$this->assertFalse( $outcome['ok'] );
		$this->assertStringStartsWith( 'Local devnet: the public endpoint 127.0.0.1 does not answer (', $outcome['message'] );
		$this->assertStringContainsString( 'may have no internet access', $outcome['message'] );
	}

	public function testAMerchantWhoEntersOnlyAnAddressIsPaid(): void {
		// What the settings screen saves when the merchant pastes an address and nothing else.
		update_option( Settings::OPTION, array( 'enabled' => 'yes', 'networks' => array( 'devnet:usdt' ), 'addresses_evm' => Helpers::RECIPIENT ) );
		self::defaults( array() );
		$this->assertSame( array(), Settings::acceptedChoices(), 'no public endpoint, no RPC URL: not offered' );
		remove_all_filters( 'stablegate_default_rpc_urls' );
		// The registry's public endpoints, the first one down: the next one is used.
		self::defaults( array( 'http://127.0.0.1:9/', Helpers::devnetUrl() ) );
		$this->assertTrue( Endpoints::usesPublic( 'devnet' ) );
		$this->assertSame( array( array( 'network' => 'devnet', 'token' => 'usdt' ) ), Settings::acceptedChoices() );

		$row = Helpers::invoice( '20' );
		Helpers::cron(); // The first scan finds its start block.
		Helpers::pay( 'UsdtLike', Helpers::RECIPIENT, (string) $row['reserved_amount'] );
		Helpers::mine( 3 );
		$polls = Helpers::cron();
		$this->assertArrayNotHasKey( 'error', $polls['devnet'], 'the second endpoint answered' );
		$this->assertSame( 'settled', Invoices::find( $row['public_id'] )['state'] );
	}

	public function testAmountsShowInDisplayForm(): void {
		$this->assertSame( '20.00', \Stablegate\WordPress\Display::amount( '20000000', 6 ) );
		$this->assertSame( '20.50', \Stablegate\WordPress\Display::amount( '20500000000000000000', 18 ) );
		$this->assertSame( '20.013', \Stablegate\WordPress\Display::decimal( '20.013' ) );
		$this->assertSame( '0.01', \Stablegate\WordPress\Display::decimal( '0.01' ) );
	}
}
