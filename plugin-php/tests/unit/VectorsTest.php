<?php
/**
 * Runs every applicable conformance vector of tests/vectors/ through the PHP domain code.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;
use Stablegate\Domain\Address;
use Stablegate\Domain\Amount;
use Stablegate\Domain\DomainError;
use Stablegate\Domain\Invoice;
use Stablegate\Domain\Matching;
use Stablegate\Domain\Network;
use Stablegate\Domain\PaymentUri;
use Stablegate\Domain\Provider;
use Stablegate\Domain\RateQuote;
use Stablegate\Domain\StatusDocument;
use Stablegate\Domain\TransferLog;
use Stablegate\Domain\Uint;
use Stablegate\Domain\Watch;
use Stablegate\Domain\Webhook;

/**
 * Each vector function maps to a PHP call below. A vector file whose function has no mapping and
 * is not in NOT_APPLICABLE fails the run, so nothing is skipped silently; the number of cases run
 * is printed and checked against the files.
 */
final class VectorsTest extends TestCase {

	/**
	 * Functions that do not apply to the PHP plugin, with the reason. Every function of the
	 * vectors applies today: the plugin amounts, addresses, URIs, logs, matching, invoice state,
	 * the watcher's plan/apply, rates, the status documents and webhook signatures all run in PHP.
	 */
	private const NOT_APPLICABLE = array();

	private static function vectorsDir(): string {
		return dirname( __DIR__, 3 ) . '/tests/vectors';
	}

	/**
	 * Returns every vector file, as area/function.json.
	 *
	 * @return string[]
	 */
	private static function files(): array {
		$files = array();
		foreach ( glob( self::vectorsDir() . '/*/*.json' ) as $path ) {
			$area = basename( dirname( $path ) );
			if ( 'schema' !== $area && 'tools' !== $area ) {
				$files[] = $area . '/' . basename( $path );
			}
		}
		sort( $files );
		return $files;
	}

	/**
	 * The PHP call of each vector function.
	 *
	 * @return array<string, callable>
	 */
	private static function calls(): array {
		$token = static fn ( array $i ): array => Network::get( $i['network'] )->token( $i['token'] ?? null );
		return array(
			'to_base_units'       => static fn ( array $i ) => Amount::fromDecimal( $i['amount'], $token( $i )['decimals'] ),
			'format_amount'       => static fn ( array $i ) => Amount::toDecimal( Amount::parseBaseUnits( $i['base_units'] ), $token( $i )['decimals'] ),
			'fiat_to_usdt'        => static fn ( array $i ) => Amount::fiatToToken( $i['fiat_amount'], $i['rate'], $i['precision'], $token( $i )['decimals'] ),
			'allocate_amount'     => static fn ( array $i ) => Amount::allocate(
				Amount::parseBaseUnits( $i['base_units'] ),
				Amount::parseBaseUnits( $i['step_units'] ),
				Invoice::u64( $i['max_slots'] ),
				array_map( array( Amount::class, 'parseBaseUnits' ), $i['taken'] )
			),
			'allocate_in_pool'    => static fn ( array $i ) => Amount::allocateInPool(
				Amount::parseBaseUnits( $i['base_units'] ),
				Amount::parseBaseUnits( $i['step_units'] ),
				Invoice::u64( $i['max_slots'] ),
				array_map(
					static fn ( array $address ): array => array(
						'recipient' => (string) $address['recipient'],
						'reserved'  => array_map(
							static fn ( array $r ): array => array(
								'invoice'           => (string) $r['invoice'],
								'amount'            => Amount::parseBaseUnits( (string) $r['amount'] ),
								'expired_unpaid_at' => isset( $r['expired_unpaid_at'] ) ? Invoice::u64( $r['expired_unpaid_at'] ) : null,
							),
							$address['reserved'] ?? array()
						),
					),
					$i['pool']
				)
			),
			'parse_address'       => static function ( array $i ): array {
				$address = Network::get( $i['network'] )->parseAddress( $i['text'] );
				return array(
					'address' => $address->display(),
					'hex'     => $address->hex(),
				);
			},
			'payment_uri'         => static function ( array $i ) use ( $token ): string {
				$network = Network::get( $i['network'] );
				$tok     = $token( $i );
				$to      = $network->parseAddress( $i['recipient'] );
				return PaymentUri::build( $network, $tok, $to, Amount::fromDecimal( $i['amount'], $tok['decimals'] ) );
			},
			'decode_transfer_log' => static fn ( array $i ) => TransferLog::toJson( TransferLog::decode( Network::get( $i['network'] ), $i['log'] ) ),
			'sign_webhook'        => static fn ( array $i ) => Webhook::sign( $i['secret'], $i['body'], $i['timestamp'] ),
			'verify_webhook'      => static function ( array $i ): bool {
				Webhook::verify( $i['secret'], $i['header'], $i['body'], $i['now'], $i['tolerance'] ?? Webhook::DEFAULT_TOLERANCE_SECS );
				return true;
			},
			'binance_sign'        => static fn ( array $i ) => Provider::binanceSign( $i['secret'], $i['timestamp'], $i['nonce'], $i['body'] ),
			'binance_verify_webhook' => static function ( array $i ): bool {
				Provider::binanceVerifyWebhook( $i['public_key'], $i['timestamp'], $i['nonce'], $i['body'], $i['signature'], (int) $i['now'], (int) ( $i['tolerance'] ?? Provider::BINANCE_WEBHOOK_TOLERANCE_MS ) );
				return true;
			},
			'nowpayments_canonical' => static fn ( array $i ) => Provider::nowpaymentsCanonical( $i['body'] ),
			'nowpayments_sign_ipn' => static fn ( array $i ) => Provider::nowpaymentsSignIpn( $i['secret'], $i['body'] ),
			'nowpayments_verify_ipn' => static function ( array $i ): bool {
				Provider::nowpaymentsVerifyIpn( $i['secret'], $i['body'], $i['signature'] );
				return true;
			},
			'provider_status'     => static fn ( array $i ) => Provider::status( $i['provider'], $i['status'] ),
			'provider_amount'     => static fn ( array $i ) => Provider::amount( $i['json'], (int) $i['decimals'] ),
			'match_transfer'      => static fn ( array $i ) => Matching::matchTransfer(
				Network::get( $i['network'] ),
				array_map( array( Invoice::class, 'fromJson' ), $i['invoices'] ),
				TransferLog::fromJson( $i['transfer'] )
			),
			'claim_transfer'      => static fn ( array $i ) => Matching::claimTransfer(
				Network::get( $i['network'] ),
				array_map( array( Invoice::class, 'fromJson' ), $i['invoices'] ),
				Invoice::fromJson( $i['target'] ),
				TransferLog::fromJson( $i['transfer'] ),
				array( 'auto_accept_up_to' => Amount::parseBaseUnits( (string) ( $i['policy']['auto_accept_up_to'] ?? '0' ) ) )
			),
			'invoice_status'      => static fn ( array $i ) => Invoice::fromJson( $i['invoice'] )->status( $i['now'] ),
			'invoice_events'      => static function ( array $i ): array {
				$invoice = Invoice::fromJson( $i['invoice'] );
				$events  = array();
				foreach ( $i['steps'] as $step ) {
					if ( 'credit' === $step['action'] ) {
						$invoice->credit( TransferLog::fromJson( $step['transfer'] ), $step['matched_by'], $step['review'] ?? false );
					} elseif ( 'set_status' === $step['action'] ) {
						$invoice->setEntryStatus( $step['tx_hash'], $step['log_index'], $step['status'] );
					} elseif ( 'resolve' === $step['action'] ) {
						$invoice->resolveReview( $step['accept'] ?? false, $step['note'], $step['now'] );
					} elseif ( 'sync' !== $step['action'] ) {
						throw new LogicException( "unknown step action {$step['action']}" );
					}
					$event = $invoice->sync( $step['now'] );
					if ( null !== $event ) {
						$events[] = $event;
					}
				}
				return $events;
			},
			'invoice_view'        => static function ( array $i ): array {
				$invoice = Invoice::fromJson( $i['invoice'] );
				return StatusDocument::invoiceView( $invoice, Network::get( $invoice->network ), $i['now'] );
			},
			'cancel_invoice'      => static function ( array $i ): array {
				$invoice = Invoice::fromJson( $i['invoice'] );
				$invoice->cancel( $i['now'] );
				return array( 'event' => $invoice->sync( $i['now'] ) );
			},
			'resolve_review'      => static function ( array $i ): array {
				$invoice  = Invoice::fromJson( $i['invoice'] );
				$returned = $invoice->resolveReview( $i['accept'] ?? false, $i['note'], $i['now'] );
				$event    = $invoice->sync( $i['now'] );
				return array(
					'returned' => array_map( array( Invoice::class, 'entryJson' ), $returned ),
					'invoice'  => $invoice->toJson(),
					'event'    => $event,
				);
			},
			'status_document'      => static fn ( array $i ) => StatusDocument::forInvoice( Invoice::fromJson( $i['invoice'] ), self::statusContext( $i['context'] ) ),
			'status_before_choice' => static fn ( array $i ) => StatusDocument::beforeChoice(
				array(
					'invoice'     => (string) $i['open']['invoice'],
					'state'       => (string) $i['open']['state'],
					'base_amount' => (string) $i['open']['base_amount'],
					'expires_at'  => Invoice::u64( $i['open']['expires_at'] ),
					'accepted'    => $i['open']['accepted'],
				) + array_intersect_key( $i['open'], array_flip( array( 'provider_paid', 'exception' ) ) ),
				self::statusContext( $i['context'] )
			),
			'read_rate'            => static fn ( array $i ) => RateQuote::readRate( $i['json'], $i['path'], $i['invert'] ?? false ),
			'is_final'             => static fn ( array $i ) => Watch::isFinal(
				Network::get( $i['network'] ),
				Invoice::u64( $i['block'] ),
				Invoice::u64( $i['head'] ),
				isset( $i['tagged'] ) ? Invoice::u64( $i['tagged'] ) : null,
				Invoice::u64( $i['min_confirmations'] )
			),
			'plan_poll'            => static fn ( array $i ) => Watch::planPoll( Network::get( $i['network'] ), Watch::planInputFromJson( $i['plan'] ) ),
			'display_amount'       => static fn ( array $i ) => Amount::display( $i['text'] ),
			'watch_settings'       => static fn ( array $i ) => Watch::settings( Network::get( $i['network'] ), Watch::settingsRequestFromJson( $i['request'] ) ),
			'apply_poll'           => static fn ( array $i ) => Watch::outcomeJson( Watch::applyPoll( Network::get( $i['network'] ), Watch::pollInputFromJson( $i['poll'] ) ) ),
			'normalize_tx_hash'    => static fn ( array $i ) => TransferLog::normalizeTxHash( Network::get( $i['network'] ), $i['text'] ),
			'transfer_calldata'    => static function ( array $i ): string {
				$recipient = Network::get( $i['network'] )->parseAddress( $i['recipient'] );
				return PaymentUri::transferCalldata( $recipient, Amount::parseBaseUnits( $i['base_units'] ) );
			},
			// The core has no balance_of_calldata: the JS binding builds it from the owner's topic,
			// as the Rust runner and this one do.
			'balance_of_calldata'  => static fn ( array $i ) => '0x70a08231' . substr( Network::get( $i['network'] )->parseAddress( $i['owner'] )->topic(), 2 ),
			'required_confirmations' => static fn ( array $i ) => (string) Watch::requiredConfirmations( Network::get( $i['network'] ), Uint::toInt( Invoice::u64( $i['min_confirmations'] ) ) ),
			'rfc3339'              => static fn ( array $i ) => StatusDocument::rfc3339( Invoice::u64( $i['unix'] ) ),
			'create_invoice'       => static fn ( array $i ) => Invoice::create( Network::get( $i['terms']['network'] ), $i['terms'] )->toJson(),
			'allocate_in_pool_from_invoices' => static function ( array $i ): array {
				$now  = Invoice::u64( $i['now'] );
				$pool = array_map(
					static fn ( array $address ): array => array(
						'recipient' => (string) $address['recipient'],
						'reserved'  => array_map(
							static function ( array $json ) use ( $now ): array {
								$r = Invoice::fromJson( $json )->reservation( $now );
								return array(
									'invoice'           => $r['invoice'],
									'amount'            => $r['amount'],
									'expired_unpaid_at' => $r['expired_unpaid_at'],
								);
							},
							$address['invoices']
						),
					),
					$i['pool']
				);
				return Amount::allocateInPool( Amount::parseBaseUnits( $i['base_units'] ), Amount::parseBaseUnits( $i['step_units'] ), Invoice::u64( $i['max_slots'] ), $pool );
			},
			'networks'             => static function ( array $i ): array {
				if ( ! isset( $i['network'] ) ) {
					return array_keys( Network::all() );
				}
				$network = Network::get( $i['network'] );
				$limit = static fn ( ?int $n ): ?string => null === $n ? null : (string) $n;
				return array(
					'rpc'           => array_map(
						static fn ( array $e ): array => array(
							'url'       => $e['url'],
							'operator'  => $e['operator'],
							'rps'       => $limit( $e['rps'] ),
							'per_day'   => $limit( $e['per_day'] ),
							'max_range' => $limit( $e['max_range'] ),
							'max_batch' => $limit( $e['max_batch'] ),
						),
						$network->rpcEndpoints()
					),
					'faucets'       => $network->faucets(),
					'id'            => $network->id(),
					'family'        => $network->family(),
					'chain_id'      => (string) $network->chainId(),
					'finality_tag'  => $network->finalityTag(),
					'confirmations' => (string) $network->finalityConfirmations(),
					'qr'            => $network->qr(),
					'tokens'        => array_map(
						static fn ( array $t ): array => array(
							'id'       => $t['id'],
							'symbol'   => $t['symbol'],
							'contract' => $t['contract']->display(),
							'decimals' => (string) $t['decimals'],
							'official' => $t['official'],
						),
						$network->tokens()
					),
				);
			},
		);
	}

	/**
	 * The host's context of a status document, from input.context (StatusContext in the core).
	 *
	 * @param array<string, mixed> $context Decoded JSON.
	 * @return array<string, mixed>
	 */
	private static function statusContext( array $context ): array {
		return array(
			'now'               => Invoice::u64( $context['now'] ),
			'head'              => isset( $context['head'] ) ? Uint::toInt( Invoice::u64( $context['head'] ) ) : null,
			'return_url'        => $context['return_url'] ?? null,
			'poll_after_ms'     => Uint::toInt( Invoice::u64( $context['poll_after_ms'] ) ),
			'links'             => $context['links'] ?? array(),
			'min_confirmations' => Uint::toInt( Invoice::u64( $context['min_confirmations'] ?? '0' ) ),
			'order_total'       => $context['order_total'] ?? null,
		);
	}

	/** Sorts object keys recursively so that comparisons ignore key order only. */
	private static function canonical( mixed $value ): mixed {
		if ( ! is_array( $value ) ) {
			return $value;
		}
		$value = array_map( array( self::class, 'canonical' ), $value );
		if ( ! array_is_list( $value ) ) {
			ksort( $value, SORT_STRING );
		}
		return $value;
	}

	/**
	 * One test per vector file.
	 *
	 * @return array<string, array{0: string}>
	 */
	public function vectorFiles(): array {
		$out = array();
		foreach ( self::files() as $file ) {
			$out[ $file ] = array( $file );
		}
		return $out;
	}

	/**
	 * Runs every case of one vector file.
	 *
	 * @dataProvider vectorFiles
	 */
	public function testVectorFile( string $file ): void {
		$doc = json_decode( (string) file_get_contents( self::vectorsDir() . '/' . $file ), true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING );
		if ( isset( self::NOT_APPLICABLE[ $doc['function'] ] ) ) {
			$this->assertNotEmpty( self::NOT_APPLICABLE[ $doc['function'] ], 'a function left out needs a reason' );
			return;
		}
		$calls = self::calls();
		$this->assertArrayHasKey( $doc['function'], $calls, "the PHP runner has no mapping for function {$doc['function']}; add one or list it in NOT_APPLICABLE with a reason" );
		$call     = $calls[ $doc['function'] ];
		$problems = array();
		// Every case runs and is counted; the failures are listed together, as the Rust runner
		// lists them, so that one wrong case does not hide the others.
		foreach ( $doc['valid'] as $case ) {
			$what = "$file: {$case['description']}";
			try {
				$got = self::canonical( $call( $case['input'] ) );
				if ( self::canonical( $case['output'] ) !== $got ) {
					$problems[] = "$what: expected " . json_encode( self::canonical( $case['output'] ) ) . ', got ' . json_encode( $got );
				}
			} catch ( DomainError $e ) {
				$problems[] = "$what: unexpected error {$e->getCode()}: {$e->getMessage()}";
			}
		}
		foreach ( $doc['invalid'] ?? array() as $case ) {
			$what = "$file: {$case['description']}";
			try {
				$problems[] = "$what: expected error {$case['error']}, got " . json_encode( $call( $case['input'] ) );
			} catch ( DomainError $e ) {
				if ( $case['error'] !== $e->getCode() ) {
					$problems[] = "$what: expected {$case['error']}, got {$e->getCode()}: {$e->getMessage()}";
				}
			}
		}
		self::$ran += count( $doc['valid'] ) + count( $doc['invalid'] ?? array() );
		$this->assertSame( array(), $problems, sprintf( '%d cases of %s failed', count( $problems ), $file ) );
	}

	/** @var int Cases run so far. */
	private static int $ran = 0;

	/**
	 * Checks that every case of every file ran (runs after the data-provider test).
	 *
	 * @depends testVectorFile
	 */
	public function testEveryCaseRan(): void {
		$expected = 0;
		$skipped  = 0;
		foreach ( self::files() as $file ) {
			$doc = json_decode( (string) file_get_contents( self::vectorsDir() . '/' . $file ), true, 512, JSON_BIGINT_AS_STRING );
			$n   = count( $doc['valid'] ) + count( $doc['invalid'] ?? array() );
			if ( isset( self::NOT_APPLICABLE[ $doc['function'] ] ) ) {
				$skipped += $n;
			} else {
				$expected += $n;
			}
		}
		fwrite( STDERR, sprintf( "\nvectors (PHP): %d cases run from %d files, %d not applicable\n", self::$ran, count( self::files() ), $skipped ) );
		$this->assertSame( $expected, self::$ran );
		$this->assertGreaterThanOrEqual( 500, self::$ran );
	}

	/** The plugin's copy of the registry is the core's, byte for byte. */
	public function testRegistryCopyMatchesTheCore(): void {
		$this->assertFileEquals( dirname( __DIR__, 3 ) . '/crates/core/data/networks.json', dirname( __DIR__, 2 ) . '/data/networks.json', 'plugin-php/data/networks.json must be a copy of crates/core/data/networks.json' );
	}
}
