<?php
/**
 * Decoding eth_getLogs results into transfers.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\Domain;

/**
 * Decodes ERC-20 Transfer logs (EVM networks, and TRON through its JSON-RPC) and normalises
 * transaction hashes. A transfer is an array with the core's JSON shape:
 * {token, from, to, amount, tx_hash, log_index, block_number, block_hash, removed, block_time?};
 * addresses are Address objects in memory and display strings in JSON. Mirrors
 * crates/core/src/log.rs.
 */
final class TransferLog {

	/** keccak256("Transfer(address,address,uint256)"). */
	public const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

	/**
	 * Decodes one eth_getLogs result object of $network (decoded JSON, objects as arrays).
	 *
	 * @param array<string, mixed> $log The log.
	 * @return array<string, mixed> The transfer.
	 * @throws DomainError not_a_transfer, invalid_log, amount_overflow.
	 */
	public static function decode( Network $network, array $log ): array {
		$field = static function ( string $name ) use ( $log ): string {
			if ( ! isset( $log[ $name ] ) || ! is_string( $log[ $name ] ) ) {
				throw new DomainError( 'invalid_log', $name, "the log has no string field $name" );
			}
			return $log[ $name ];
		};
		$topics = $log['topics'] ?? null;
		if ( ! is_array( $topics ) || ! array_is_list( $topics ) ) {
			throw new DomainError( 'invalid_log', 'topics', 'the log has no topics array' );
		}
		foreach ( $topics as $topic ) {
			if ( ! is_string( $topic ) ) {
				throw new DomainError( 'invalid_log', (string) json_encode( $topic ), 'a topic is not a string' );
			}
		}
		$topic0 = $topics[0] ?? '';
		if ( strtolower( $topic0 ) !== self::TRANSFER_TOPIC || 3 !== count( $topics ) ) {
			throw new DomainError( 'not_a_transfer', $topic0, sprintf( 'not an ERC-20 Transfer event (topic 0 and exactly 3 topics; got %d)', count( $topics ) ) );
		}
		$family = $network->family();
		$token  = Address::fromBytes( $family, self::hexBytes( $field( 'address' ), 20 ) );
		$from   = self::addressTopic( $topics[1], $family );
		$to     = self::addressTopic( $topics[2], $family );
		$word   = self::hexBytes( $field( 'data' ), 32 );
		if ( str_repeat( "\0", 16 ) !== substr( $word, 0, 16 ) ) {
			throw new DomainError( 'amount_overflow', $log['data'], 'the amount does not fit in 128 bits' );
		}
		$amount  = Uint::fromHex( bin2hex( substr( $word, 16 ) ) );
		$tx_hash = '0x' . bin2hex( self::hexBytes( $field( 'transactionHash' ), 32 ) );
		if ( Network::TRON === $family ) {
			$tx_hash = substr( $tx_hash, 2 );
		}
		$removed = $log['removed'] ?? null;
		if ( null !== $removed && ! is_bool( $removed ) ) {
			throw new DomainError( 'invalid_log', (string) json_encode( $removed ), 'removed is not a boolean' );
		}
		$block_time = null;
		if ( isset( $log['blockTimestamp'] ) ) {
			$block_time = self::quantity( $field( 'blockTimestamp' ) );
		}
		$transfer = array(
			'token'        => $token,
			'from'         => $from,
			'to'           => $to,
			'amount'       => $amount,
			'tx_hash'      => $tx_hash,
			'log_index'    => self::quantity( $field( 'logIndex' ) ),
			'block_number' => self::quantity( $field( 'blockNumber' ) ),
			'block_hash'   => '0x' . bin2hex( self::hexBytes( $field( 'blockHash' ), 32 ) ),
			'removed'      => (bool) $removed,
		);
		if ( null !== $block_time ) {
			$transfer['block_time'] = $block_time;
		}
		return $transfer;
	}

	/**
	 * Reads a transfer from its JSON shape (as vectors and stored records hold it).
	 *
	 * @param array<string, mixed> $json The transfer JSON.
	 * @return array<string, mixed>
	 * @throws DomainError on a malformed field.
	 */
	public static function fromJson( array $json ): array {
		$transfer = array(
			'token'        => Address::parseAny( (string) $json['token'] ),
			'from'         => Address::parseAny( (string) $json['from'] ),
			'to'           => Address::parseAny( (string) $json['to'] ),
			'amount'       => Amount::parseBaseUnits( (string) $json['amount'] ),
			'tx_hash'      => (string) $json['tx_hash'],
			'log_index'    => Invoice::u64( $json['log_index'] ),
			'block_number' => Invoice::u64( $json['block_number'] ),
			'block_hash'   => (string) $json['block_hash'],
			'removed'      => (bool) ( $json['removed'] ?? false ),
		);
		if ( isset( $json['block_time'] ) ) {
			$transfer['block_time'] = Invoice::u64( $json['block_time'] );
		}
		return $transfer;
	}

	/**
	 * Returns the JSON shape of a transfer.
	 *
	 * @param array<string, mixed> $transfer The transfer.
	 * @return array<string, mixed>
	 */
	public static function toJson( array $transfer ): array {
		$out = array(
			'token'        => $transfer['token']->display(),
			'from'         => $transfer['from']->display(),
			'to'           => $transfer['to']->display(),
			'amount'       => $transfer['amount'],
			'tx_hash'      => $transfer['tx_hash'],
			'log_index'    => $transfer['log_index'],
			'block_number' => $transfer['block_number'],
			'block_hash'   => $transfer['block_hash'],
			'removed'      => $transfer['removed'],
		);
		if ( isset( $transfer['block_time'] ) ) {
			$out['block_time'] = $transfer['block_time'];
		}
		return $out;
	}

	/**
	 * Checks a pasted transaction hash (0x + 64 hex, or 64 hex) and returns the form transfers
	 * use on $network (0x + lower hex on EVM, lower hex without 0x on TRON).
	 *
	 * @throws DomainError invalid_tx_hash.
	 */
	public static function normalizeTxHash( Network $network, string $text ): string {
		$digits = str_starts_with( $text, '0x' ) ? substr( $text, 2 ) : $text;
		if ( 64 !== strlen( $digits ) || ! ctype_xdigit( $digits ) ) {
			throw new DomainError( 'invalid_tx_hash', $text, 'a transaction hash is 64 hex digits' );
		}
		$digits = strtolower( $digits );
		return Network::TRON === $network->family() ? $digits : '0x' . $digits;
	}

	/** Returns the 0x form a JSON-RPC node expects for a stored transaction hash. */
	public static function rpcTxHash( string $tx_hash ): string {
		return str_starts_with( $tx_hash, '0x' ) ? $tx_hash : '0x' . $tx_hash;
	}

	/** Decodes 0x/0X-prefixed hex of exactly $len bytes. */
	private static function hexBytes( string $text, int $len ): string {
		$prefix = substr( $text, 0, 2 );
		$digits = ( '0x' === $prefix || '0X' === $prefix ) ? substr( $text, 2 ) : "\0";
		if ( strlen( $digits ) !== $len * 2 ) {
			throw new DomainError( 'invalid_log', $text, sprintf( 'expected 0x and %d hex digits', $len * 2 ) );
		}
		if ( ! ctype_xdigit( $digits ) ) {
			throw new DomainError( 'invalid_log', $text, 'not hex' );
		}
		return hex2bin( $digits );
	}

	/** Decodes an address topic: 12 zero bytes, then 20 address bytes. */
	private static function addressTopic( string $topic, string $family ): Address {
		$word = self::hexBytes( $topic, 32 );
		if ( str_repeat( "\0", 12 ) !== substr( $word, 0, 12 ) ) {
			throw new DomainError( 'invalid_log', $topic, 'an address topic starts with 12 zero bytes' );
		}
		return Address::fromBytes( $family, substr( $word, 12 ) );
	}

	/** Parses a JSON-RPC quantity (0x + 1 to 16 hex digits) into a decimal string. */
	public static function quantity( string $text ): string {
		$digits = str_starts_with( $text, '0x' ) ? substr( $text, 2 ) : '';
		if ( '' === $digits || strlen( $digits ) > 16 || ! ctype_xdigit( $digits ) ) {
			throw new DomainError( 'invalid_log', $text, 'expected a 0x-hex quantity' );
		}
		return Uint::fromHex( $digits );
	}
}
