<?php
/**
 * Router of the rate source the tests start with PHP's built-in server (`php -S`): it answers
 * what the test wrote to $RATE_DIR/answer.json ({status, body}) and logs each request's URI to
 * $RATE_DIR/requests.log, so that a test can count fetches.
 *
 * @package Stablegate
 */

declare(strict_types=1);

$stablegate_dir = (string) getenv( 'RATE_DIR' );
file_put_contents( $stablegate_dir . '/requests.log', $_SERVER['REQUEST_URI'] . "\n", FILE_APPEND | LOCK_EX );
$stablegate_answer = json_decode( (string) file_get_contents( $stablegate_dir . '/answer.json' ), true );
http_response_code( (int) $stablegate_answer['status'] );
header( 'Content-Type: application/json' );
echo $stablegate_answer['body']; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- the test's own JSON.
