<?php
/**
 * The translations: the template covers every string of the code, zh_CN covers the template,
 * and the compiled .mo matches the .po.
 *
 * @package Stablegate
 */

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

final class I18nTest extends TestCase {

	private static function dir(): string {
		return dirname( __DIR__, 2 );
	}

	/**
	 * Reads msgid => msgstr from a .po/.pot file (single-line and continued strings).
	 *
	 * @return array<string, string>
	 */
	private static function po( string $file ): array {
		$out   = array();
		$id    = null;
		$field = null;
		$value = array( 'msgid' => '', 'msgstr' => '' );
		$flush = static function () use ( &$out, &$value, &$id ): void {
			if ( null !== $id && '' !== $value['msgid'] ) {
				$out[ $value['msgid'] ] = $value['msgstr'];
			}
		};
		foreach ( file( $file, FILE_IGNORE_NEW_LINES ) as $line ) {
			if ( preg_match( '/^(msgid|msgstr) (".*")$/', $line, $m ) ) {
				if ( 'msgid' === $m[1] ) {
					$flush();
					$id    = true;
					$value = array( 'msgid' => '', 'msgstr' => '' );
				}
				$field            = $m[1];
				$value[ $field ] .= json_decode( $m[2] );
			} elseif ( str_starts_with( $line, '"' ) && null !== $field ) {
				$value[ $field ] .= json_decode( $line );
			}
		}
		$flush();
		return $out;
	}

	/**
	 * Reads msgid => msgstr from a compiled .mo file (GNU gettext format, little-endian).
	 *
	 * @return array<string, string>
	 */
	private static function mo( string $file ): array {
		$data                                 = (string) file_get_contents( $file );
		list( , $magic, , $count, $ids, $strs ) = unpack( 'V6', $data );
		self::assertSame( 0x950412de, $magic, 'a little-endian .mo file' );
		$out = array();
		for ( $i = 0; $i < $count; $i++ ) {
			list( , $len, $off )   = unpack( 'V2', $data, $ids + 8 * $i );
			list( , $tlen, $toff ) = unpack( 'V2', $data, $strs + 8 * $i );
			$id                    = substr( $data, $off, $len );
			if ( '' !== $id ) {
				$out[ $id ] = substr( $data, $toff, $tlen );
			}
		}
		return $out;
	}

	public function testTheTemplateHoldsEveryStringOfTheCode(): void {
		$found = array();
		$files = new RecursiveIteratorIterator( new RecursiveDirectoryIterator( self::dir() . '/src' ) );
		foreach ( $files as $file ) {
			if ( str_ends_with( (string) $file, '.php' ) ) {
				preg_match_all( "/\\b(?:__|esc_html__|esc_html_e|esc_attr__|_e)\\(\\s*'((?:[^'\\\\]|\\\\.)*)'\\s*,\\s*'stablegate'\\s*\\)/", (string) file_get_contents( (string) $file ), $m );
				foreach ( $m[1] as $text ) {
					$found[ stripslashes( $text ) ] = true;
				}
			}
		}
		$this->assertGreaterThan( 40, count( $found ) );
		$template = self::po( self::dir() . '/languages/stablegate.pot' );
		foreach ( array_keys( $found ) as $text ) {
			$this->assertArrayHasKey( $text, $template, 'run xgettext again: languages/stablegate.pot misses a string' );
		}
	}

	public function testSimplifiedChineseIsCompleteAndCompiled(): void {
		$template = self::po( self::dir() . '/languages/stablegate.pot' );
		$zh       = self::po( self::dir() . '/languages/stablegate-zh_CN.po' );
		foreach ( array_keys( $template ) as $text ) {
			$this->assertNotSame( '', $zh[ $text ] ?? '', "zh_CN has no translation of: $text" );
		}
		$mo = self::mo( self::dir() . '/languages/stablegate-zh_CN.mo' );
		foreach ( $zh as $text => $translation ) {
			$this->assertSame( $translation, $mo[ $text ] ?? null, "the .mo is out of date for: $text" );
		}
		$this->assertSame( '网络', $zh['Network'] );
	}

	public function testTheBlocksScriptHasItsChineseStrings(): void {
		$file = self::dir() . '/languages/stablegate-zh_CN-' . md5( 'assets/js/blocks.js' ) . '.json';
		$this->assertFileExists( $file, 'wp_set_script_translations looks for this name' );
		$json = json_decode( (string) file_get_contents( $file ), true );
		preg_match_all( "/__\\(\\s*'([^']+)'\\s*,\\s*'stablegate'\\s*\\)/", (string) file_get_contents( self::dir() . '/assets/js/blocks.js' ), $m );
		$this->assertNotEmpty( $m[1] );
		foreach ( $m[1] as $text ) {
			$this->assertNotEmpty( $json['locale_data']['messages'][ $text ][0] ?? '', "blocks.js string without zh_CN: $text" );
		}
	}

	/**
	 * Every error the checkout's routes can answer reaches the customer as a sentence of the
	 * widget's (error_<code> in each of its languages), not as the generic one: a code renamed or
	 * added here without its sentence fails. Codes only a merchant, an admin screen or a broken
	 * client can meet are listed apart.
	 */
	public function testEveryCheckoutErrorHasTheWidgetsSentence(): void {
		$not_for_customers = array( 'invalid_body', 'invalid_note', 'not_in_review', 'invoice_not_cancellable', 'invalid_amount', 'invalid_currency', 'invalid_rate', 'no_network' );
		$codes             = array();
		foreach ( array( 'src/WordPress/Rest.php', 'src/WordPress/Invoices.php' ) as $file ) {
			preg_match_all( "/new ApiError\\(\\s*\\d+,\\s*'([a-z_]+)'/", (string) file_get_contents( self::dir() . '/' . $file ), $m );
			$codes = array_merge( $codes, $m[1] );
		}
		$codes = array_diff( array_unique( $codes ), $not_for_customers );
		$this->assertContains( 'invoice_closed', $codes, 'the codes were read' );
		$widget = dirname( self::dir() ) . '/crates/wasm/widget/i18n';
		foreach ( array( 'en', 'zh-CN' ) as $lang ) {
			$strings = json_decode( (string) file_get_contents( "$widget/$lang.json" ), true, 8, JSON_THROW_ON_ERROR );
			foreach ( $codes as $code ) {
				$this->assertNotEmpty( $strings[ "error_$code" ] ?? '', "the widget ($lang) has no sentence for the checkout error $code" );
			}
		}
	}
}
