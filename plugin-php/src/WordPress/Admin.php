<?php
/**
 * The merchant's screens: the invoice list with its review queue, and the settings helpers.
 *
 * @package Stablegate
 */

declare(strict_types=1);

namespace Stablegate\WordPress;

/**
 * An invoice list (by state, and the needs_review queue) under WooCommerce (or Tools without it),
 * the unmatched payments (transfers that credited no invoice) with a form to attach one to an
 * invoice, and on the gateway's settings screen the "test connection" buttons and live address validation
 * through the core's web build (assets/core, copied from crates/wasm/pkg/web by scripts/dist.sh).
 */
final class Admin {

	/** Adds the menu page and the settings-screen script. */
	public static function menu(): void {
		$parent = class_exists( 'WooCommerce' ) ? 'woocommerce' : 'tools.php';
		$cap    = class_exists( 'WooCommerce' ) ? 'manage_woocommerce' : 'manage_options';
		add_submenu_page( $parent, __( 'Stablegate invoices', 'stablegate' ), __( 'USDT invoices', 'stablegate' ), $cap, 'stablegate-invoices', array( self::class, 'page' ) );
		add_action( 'admin_enqueue_scripts', array( self::class, 'scripts' ) );
	}

	/** Enqueues the settings helpers on the gateway's settings screen only. */
	public static function scripts( string $hook ): void {
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- reading which screen this is.
		if ( 'woocommerce_page_wc-settings' !== $hook || 'stablegate' !== ( $_GET['section'] ?? '' ) ) {
			return;
		}
		wp_enqueue_script( 'stablegate-admin', plugins_url( 'assets/js/admin.js', STABLEGATE_FILE ), array( 'jquery' ), STABLEGATE_VERSION, true );
		add_filter( 'script_loader_tag', array( Assets::class, 'moduleTag' ), 10, 2 );
		$families = array();
		foreach ( \Stablegate\Domain\Network::all() as $network ) {
			$families[ $network->id() ] = $network->family();
		}
		wp_add_inline_script(
			'stablegate-admin',
			'window.stablegateAdmin = ' . wp_json_encode(
				array(
					'rest'            => esc_url_raw( rest_url( Rest::NAMESPACE . '/admin/test-connection' ) ),
					'nonce'           => wp_create_nonce( 'wp_rest' ),
					'core'            => plugins_url( 'assets/core/stablegate_wasm.js', STABLEGATE_FILE ),
					// Which rows show for which choices (Settings::fieldConditions), re-applied as the merchant edits.
					'conditions'      => Settings::fieldConditions(),
					'families'        => $families,
					'sandboxNetworks' => Sandbox::networks(),
				)
			) . ';',
			'before'
		);
		wp_register_style( 'stablegate-admin', false, array(), STABLEGATE_VERSION );
		wp_enqueue_style( 'stablegate-admin' );
		wp_add_inline_style( 'stablegate-admin', self::SETTINGS_CSS );
	}

	/**
	 * The settings screen's own rules: folded rows stay closed until their toggle opens them, and
	 * the networks' chips wrap inside the field at any width (a long name is never cut off).
	 */
	private const SETTINGS_CSS = <<<'CSS'
tr.stablegate-folded { display: none; }
tr[data-stablegate-fold] th { padding-left: 1.5em; font-weight: normal; }
.stablegate-network p { margin-top: 0; }
.stablegate-fold-toggle.button { white-space: normal; height: auto; max-width: 100%; text-align: left; }
.stablegate-fold-toggle[aria-expanded]::after { content: " ▸"; }
.stablegate-fold-toggle[aria-expanded="true"]::after { content: " ▾"; }
select.stablegate-networks + .select2-container { width: 100% !important; max-width: 44em; }
select.stablegate-networks + .select2-container .select2-selection__rendered { white-space: normal; }
select.stablegate-networks + .select2-container .select2-selection__choice { white-space: normal; max-width: calc(100% - 10px); box-sizing: border-box; }
CSS;

	/** The invoice list, or (state=unmatched) the payments that credited no invoice. */
	public static function page(): void {
		if ( ! Rest::isMerchant() ) {
			wp_die( esc_html__( 'You are not allowed to see the invoices.', 'stablegate' ) );
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a read-only filter.
		$state = isset( $_GET['state'] ) ? sanitize_key( wp_unslash( $_GET['state'] ) ) : '';
		echo '<div class="wrap"><h1>' . esc_html__( 'USDT invoices', 'stablegate' ) . '</h1>';
		$notice = get_transient( self::noticeKey() );
		if ( is_array( $notice ) ) {
			delete_transient( self::noticeKey() );
			printf( '<div class="notice notice-%s"><p>%s</p></div>', $notice['ok'] ? 'success' : 'error', esc_html( $notice['message'] ) );
		}
		echo '<ul class="subsubsub">';
		foreach ( array( '' => __( 'All', 'stablegate' ), 'needs_review' => __( 'Review queue', 'stablegate' ), 'unmatched' => __( 'Unmatched payments', 'stablegate' ), 'new' => 'new', 'processing' => 'processing', 'settled' => 'settled', 'expired' => 'expired', 'invalid' => 'invalid' ) as $key => $label ) {
			$url = add_query_arg( array( 'page' => 'stablegate-invoices', 'state' => $key ), admin_url( 'admin.php' ) );
			printf( '<li><a href="%s"%s>%s</a> | </li>', esc_url( $url ), $key === $state ? ' class="current"' : '', esc_html( $label ) );
		}
		echo '</ul>';
		if ( 'unmatched' === $state ) {
			self::unmatched();
		} else {
			self::invoices( $state );
		}
		echo '</div>';
	}

	/** The invoices of $state ('' for all, needs_review for the review queue). */
	private static function invoices( string $state ): void {
		$request = new \WP_REST_Request( 'GET', '/' . Rest::NAMESPACE . '/admin/invoices' );
		if ( '' !== $state ) {
			$request->set_param( 'state', $state );
		}
		$rows     = Rest::adminList( $request )->get_data();
		$queue    = 'needs_review' === $state;
		$headings = array( __( 'Invoice', 'stablegate' ), __( 'Order', 'stablegate' ), __( 'State', 'stablegate' ), __( 'Network', 'stablegate' ), __( 'Amount due', 'stablegate' ), __( 'Store amount', 'stablegate' ), __( 'Transfers', 'stablegate' ), __( 'Created (UTC)', 'stablegate' ) );
		if ( $queue ) {
			echo '<p>' . esc_html__( 'Invoices a person must look at: a payment claimed by a customer who cannot be shown to have sent it, a payment to a cancelled invoice, or one that another invoice could also own. No order ships on them until you decide. Accept to take the payment as this invoice\'s (the order completes once it is final); reject to put it back with the unmatched payments. Say why in a note; it goes on the order.', 'stablegate' ) . '</p>';
			$headings[] = __( 'Review', 'stablegate' );
		}
		echo '<table class="widefat striped"><thead><tr>';
		foreach ( $headings as $heading ) {
			echo '<th>' . esc_html( $heading ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$order = null === $row['order_id'] ? '—' : '<a href="' . esc_url( self::orderUrl( (int) $row['order_id'] ) ) . '">#' . esc_html( (string) $row['order_id'] ) . '</a>';
			/* translators: %s: the merchant's review note */
			$reviewed = null === $row['review_note'] ? '' : ' — ' . sprintf( __( 'reviewed: %s', 'stablegate' ), $row['review_note'] );
			printf(
				'<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%s</td>',
				esc_html( $row['invoice'] ),
				wp_kses_post( $order ),
				esc_html( $row['state'] . ( $row['exception'] ? ' (' . $row['exception'] . ')' : '' ) . $reviewed ),
				esc_html( (string) $row['network'] ),
				esc_html( null === $row['amount_due'] ? '' : Display::decimal( (string) $row['amount_due'] ) ),
				esc_html( $row['fiat'] ),
				(int) $row['transfers'],
				esc_html( $row['created_at'] )
			);
			if ( $queue ) {
				echo '<td><form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
				echo '<input type="hidden" name="action" value="stablegate_review" /><input type="hidden" name="invoice" value="' . esc_attr( $row['invoice'] ) . '" />';
				wp_nonce_field( 'stablegate_review' );
				echo '<textarea name="note" rows="2" cols="30" maxlength="1000" required aria-label="' . esc_attr__( 'Why', 'stablegate' ) . '"></textarea> ';
				echo '<button type="submit" class="button button-primary" name="decision" value="accept">' . esc_html__( 'Accept', 'stablegate' ) . '</button> ';
				echo '<button type="submit" class="button" name="decision" value="reject">' . esc_html__( 'Reject', 'stablegate' ) . '</button></form></td>';
			}
			echo '</tr>';
		}
		if ( ! $rows ) {
			echo '<tr><td colspan="' . count( $headings ) . '">' . esc_html( $queue ? __( 'Nothing to review.', 'stablegate' ) : __( 'No invoices.', 'stablegate' ) ) . '</td></tr>';
		}
		echo '</tbody></table>';
	}

	/** The transfers that credited no invoice, each with a form to attach it to one. */
	private static function unmatched(): void {
		$response = Rest::adminTransfers();
		$rows     = $response->get_data();
		$total    = (int) ( $response->get_headers()['X-WP-Total'] ?? count( $rows ) );
		echo '<p>' . esc_html__( 'Payments to your addresses that matched no invoice (a wrong amount, an amount that fits two invoices, or a payment when no invoice was open for it). Attach one to its invoice: the same checks as a customer\'s claim apply.', 'stablegate' ) . '</p>';
		if ( $total > count( $rows ) ) {
			/* translators: 1: how many are shown, 2: how many there are */
			echo '<p><strong>' . esc_html( sprintf( __( 'Showing the newest %1$d of %2$d.', 'stablegate' ), count( $rows ), $total ) ) . '</strong></p>';
		}
		echo '<table class="widefat striped"><thead><tr>';
		foreach ( array( __( 'Received (UTC)', 'stablegate' ), __( 'Network', 'stablegate' ), __( 'Amount', 'stablegate' ), __( 'From', 'stablegate' ), __( 'Transaction', 'stablegate' ), __( 'Why', 'stablegate' ), __( 'Attach to invoice', 'stablegate' ) ) as $heading ) {
			echo '<th>' . esc_html( $heading ) . '</th>';
		}
		echo '</tr></thead><tbody>';
		foreach ( $rows as $row ) {
			$short = substr( $row['tx'], 0, 10 ) . '…' . substr( $row['tx'], -6 );
			$tx    = null === $row['explorer_url'] ? '<code>' . esc_html( $short ) . '</code>' : '<a href="' . esc_url( $row['explorer_url'] ) . '" rel="noreferrer" target="_blank"><code>' . esc_html( $short ) . '</code></a>';
			echo '<tr><td>' . esc_html( $row['block_time'] ) . '</td><td>' . esc_html( $row['network'] . ' ' . $row['symbol'] ) . '</td><td>' . esc_html( Display::decimal( (string) $row['amount'] ) ) . '</td><td><code>' . esc_html( $row['from'] ) . '</code></td><td>' . wp_kses_post( $tx ) . '</td><td>' . esc_html( $row['outcome'] ) . '</td><td>';
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
			echo '<input type="hidden" name="action" value="stablegate_attach" /><input type="hidden" name="tx_hash" value="' . esc_attr( $row['tx'] ) . '" /><input type="hidden" name="log_index" value="' . esc_attr( (string) $row['log_index'] ) . '" />';
			wp_nonce_field( 'stablegate_attach' );
			echo '<input type="text" name="invoice" placeholder="inv_…" pattern="inv_[0-9a-f]{32}" required aria-label="' . esc_attr__( 'Invoice id', 'stablegate' ) . '" /> ';
			echo '<button type="submit" class="button">' . esc_html__( 'Attach', 'stablegate' ) . '</button></form></td></tr>';
		}
		if ( ! $rows ) {
			echo '<tr><td colspan="7">' . esc_html__( 'No unmatched payments.', 'stablegate' ) . '</td></tr>';
		}
		echo '</tbody></table>';
	}

	/** Handles the attach form (admin-post.php): capability and nonce, then the claim's checks. */
	public static function attach(): void {
		self::handleForm(
			'stablegate_attach',
			'unmatched',
			static function (): array {
				// phpcs:disable WordPress.Security.NonceVerification.Missing -- handleForm checked it.
				$invoice = isset( $_POST['invoice'] ) ? sanitize_text_field( wp_unslash( $_POST['invoice'] ) ) : '';
				$tx      = isset( $_POST['tx_hash'] ) ? sanitize_text_field( wp_unslash( $_POST['tx_hash'] ) ) : '';
				$index   = isset( $_POST['log_index'] ) && ctype_digit( (string) wp_unslash( $_POST['log_index'] ) ) ? (string) wp_unslash( $_POST['log_index'] ) : null;
				// phpcs:enable
				return self::attachTransfer( $invoice, $tx, $index );
			}
		);
	}

	/** Handles the review form (admin-post.php): capability and nonce, then the decision and note. */
	public static function review(): void {
		self::handleForm(
			'stablegate_review',
			'needs_review',
			static function (): array {
				// phpcs:disable WordPress.Security.NonceVerification.Missing -- handleForm checked it.
				$invoice  = isset( $_POST['invoice'] ) ? sanitize_text_field( wp_unslash( $_POST['invoice'] ) ) : '';
				$decision = isset( $_POST['decision'] ) ? sanitize_key( wp_unslash( $_POST['decision'] ) ) : '';
				$note     = isset( $_POST['note'] ) ? sanitize_textarea_field( wp_unslash( $_POST['note'] ) ) : '';
				// phpcs:enable
				return self::resolveReview( $invoice, $decision, $note );
			}
		);
	}

	/**
	 * Runs a form of the invoice screen: the capability, then the nonce of $action, then $work
	 * (which returns {ok, message}); the message is shown after the redirect back to $state.
	 */
	private static function handleForm( string $action, string $state, callable $work ): void {
		if ( ! Rest::isMerchant() ) {
			wp_die( esc_html__( 'You are not allowed to see the invoices.', 'stablegate' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( $action );
		set_transient( self::noticeKey(), $work(), 300 );
		wp_safe_redirect( add_query_arg( array( 'page' => 'stablegate-invoices', 'state' => $state ), admin_url( 'admin.php' ) ) );
		exit;
	}

	/**
	 * Resolves the review of invoice $public_id: $decision accept or reject, with the merchant's
	 * $note; the caller has checked the capability and nonce. Never throws: the merchant reads a
	 * sentence.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function resolveReview( string $public_id, string $decision, string $note ): array {
		$row = preg_match( '/^inv_[0-9a-f]{32}\z/', $public_id ) ? Invoices::find( $public_id ) : null;
		if ( null === $row ) {
			/* translators: %s: what the merchant typed */
			return array( 'ok' => false, 'message' => sprintf( __( 'No invoice %s: paste the id from the invoice list (inv_ and 32 hex digits).', 'stablegate' ), $public_id ) );
		}
		if ( ! in_array( $decision, array( 'accept', 'reject' ), true ) ) {
			/* translators: %s: invoice id */
			return array( 'ok' => false, 'message' => sprintf( __( 'Not resolved (%s): choose Accept or Reject.', 'stablegate' ), $public_id ) );
		}
		try {
			$row = Invoices::resolveReview( $row, 'accept' === $decision, $note );
		} catch ( ApiError $e ) {
			/* translators: 1: invoice id, 2: the reason */
			return array( 'ok' => false, 'message' => sprintf( __( 'Not resolved (%1$s): %2$s', 'stablegate' ), $public_id, $e->getMessage() ) );
		} catch ( \Throwable $e ) {
			error_log( 'stablegate: resolving the review of ' . $public_id . ' failed: ' . get_class( $e ) . ': ' . $e->getMessage() ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log
			/* translators: %s: invoice id */
			return array( 'ok' => false, 'message' => sprintf( __( 'Resolving %s hit an unexpected error; look at the invoice before trying again.', 'stablegate' ), $public_id ) );
		}
		$state = $row['state'] . ( $row['exception'] ? ' (' . $row['exception'] . ')' : '' );
		return array(
			'ok'      => true,
			'message' => 'accept' === $decision
				/* translators: 1: invoice id, 2: its state */
				? sprintf( __( 'Accepted: invoice %1$s is now %2$s.', 'stablegate' ), $public_id, $state )
				/* translators: 1: invoice id, 2: its state */
				: sprintf( __( 'Rejected: the payment is back with the unmatched payments; invoice %1$s is now %2$s.', 'stablegate' ), $public_id, $state ),
		);
	}

	/**
	 * Attaches transfer $tx (log $log_index of it, or the first that fits) to invoice $public_id;
	 * the caller has checked the capability and nonce. Never throws: the merchant reads a sentence.
	 *
	 * @return array{ok: bool, message: string}
	 */
	public static function attachTransfer( string $public_id, string $tx, ?string $log_index = null ): array {
		$row = preg_match( '/^inv_[0-9a-f]{32}\z/', $public_id ) ? Invoices::find( $public_id ) : null;
		if ( null === $row ) {
			/* translators: %s: what the merchant typed */
			return array( 'ok' => false, 'message' => sprintf( __( 'No invoice %s: paste the id from the invoice list (inv_ and 32 hex digits).', 'stablegate' ), $public_id ) );
		}
		try {
			$row = Rest::claimFor( $row, $tx, $log_index );
		} catch ( ApiError | \Stablegate\Domain\DomainError $e ) {
			/* translators: 1: invoice id, 2: the reason */
			return array( 'ok' => false, 'message' => sprintf( __( 'Not attached to %1$s: %2$s', 'stablegate' ), $public_id, $e->getMessage() ) );
		} catch ( RpcError $e ) {
			/* translators: %s: invoice id */
			return array( 'ok' => false, 'message' => sprintf( __( 'Not attached to %s: the network cannot be reached right now; try again in a minute.', 'stablegate' ), $public_id ) );
		} catch ( \Throwable $e ) {
			// Another plugin's order hook, say, after the credit was saved: say so, never a white page.
			error_log( 'stablegate: attaching to ' . $public_id . ' failed: ' . get_class( $e ) . ': ' . $e->getMessage() ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log
			/* translators: %s: invoice id */
			return array( 'ok' => false, 'message' => sprintf( __( 'Attaching to %s hit an unexpected error; look at the invoice to see whether the payment was recorded before trying again.', 'stablegate' ), $public_id ) );
		}
		/* translators: 1: invoice id, 2: its state */
		return array( 'ok' => true, 'message' => sprintf( __( 'Attached to %1$s, which is now %2$s.', 'stablegate' ), $public_id, $row['state'] . ( $row['exception'] ? ' (' . $row['exception'] . ')' : '' ) ) );
	}

	/** The edit screen of order $id (HPOS or posts storage). */
	private static function orderUrl( int $id ): string {
		$order = function_exists( 'wc_get_order' ) ? wc_get_order( $id ) : null;
		return $order ? $order->get_edit_order_url() : admin_url( 'post.php?post=' . $id . '&action=edit' );
	}

	/** The per-user transient holding the last attach result. */
	private static function noticeKey(): string {
		return 'stablegate_notice_' . get_current_user_id();
	}
}
