// The API's errors: a stable code (the core's error kinds, and the server's own codes), a message,
// and the field at fault where there is one. The HTTP status of every code is decided here, in
// one table: handlers and the core raise codes, never statuses.

type Status = { status: number; retryAfter?: number };

/**
 * The HTTP status of every code the API answers. The core's kinds (`crates/core/src/error.rs`, the
 * vectors' error kinds) that a request's input can cause are the client's error; the others mean
 * that the server or its data is wrong, and are answered like any other fault: a logged 500
 * (test/router.test.js fails when a kind of the core is missing here).
 */
const STATUS_TABLE: (Status & { codes: string[] })[] = [
  // The request itself is malformed.
  { status: 400, codes: ['invalid_body', 'invalid_json', 'invalid_path', 'invalid_idempotency_key'] },
  { status: 401, codes: ['unauthorized'] },
  { status: 404, codes: ['not_found', 'invoice_not_found', 'delivery_not_found', 'compat_disabled'] },
  { status: 405, codes: ['method_not_allowed'] },
  { status: 413, codes: ['body_too_large'] },
  // The request's input (an amount, an address, a network, a claimed transaction) is refused.
  {
    status: 422,
    codes: [
      'invalid_amount', 'too_many_decimals', 'amount_overflow', 'unknown_network', 'unknown_token', 'invalid_address',
      'address_checksum', 'invalid_tx_hash', 'invalid_log', 'not_a_transfer', 'wrong_token', 'wrong_recipient',
      'transfer_before_invoice', 'transfer_after_window', 'unknown_field', 'idempotency_key_reused',
      'transaction_not_found', 'transaction_failed', 'claim_refused',
    ],
  },
  // The request is well formed, but the invoice or the transfer is not in a state that allows it.
  {
    status: 409,
    codes: [
      'already_credited', 'invoice_closed', 'not_in_review', 'invoice_not_cancellable', 'reserved_for_another_invoice',
      'network_not_chosen', 'network_already_chosen', 'invoice_not_open', 'nothing_to_pay',
    ],
  },
  { status: 409, retryAfter: 1, codes: ['write_conflict'] },
  { status: 429, codes: ['rate_limited'] },
  // ---- shopify (issue 12)
  { status: 400, codes: ['invalid_webhook', 'unknown_webhook_topic'] },
  { status: 401, codes: ['invalid_session_token', 'invalid_webhook_hmac'] },
  { status: 403, codes: ['admin_token_required'] },
  { status: 404, codes: ['order_not_found'] },
  { status: 409, codes: ['shop_not_installed', 'order_cancelled', 'order_not_payable'] },
  { status: 502, codes: ['token_exchange_failed'] },
  // ---- end shopify
  // ---- console (issue 15)
  { status: 422, codes: ['invalid_name'] },
  { status: 404, codes: ['key_not_found', 'link_not_found'] },
  { status: 502, codes: ['notification_failed'] },
  // ---- end console
  // ---- sandbox (issue 18): a test invoice on a mainnet outside the sandbox, without `live`.
  { status: 409, codes: ['test_invoice_refused'] },
  // ---- providers (issue 16): a notification that fails its checks changes nothing.
  { status: 401, codes: ['provider_signature_refused', 'unknown_certificate'] },
  { status: 404, codes: ['provider_not_enabled', 'unknown_provider_reference'] },
  { status: 409, codes: ['replayed_notification', 'provider_checkout_closed'] },
  { status: 503, retryAfter: 30, codes: ['provider_unavailable'] },
  // ---- end providers
  // Retry later: every unique amount near this price is held by open invoices (one ends soon);
  // concurrent creations at one amount; no RPC answered; the rate source failed.
  { status: 503, retryAfter: 30, codes: ['amount_band_full', 'rate_unavailable'] },
  { status: 503, retryAfter: 1, codes: ['amount_contention'] },
  { status: 503, retryAfter: 10, codes: ['rpc_unavailable'] },
  // The server's own data: its rate sources, the webhooks it signs, the blocks and records it
  // stored; `invalid_input` is the wasm binding's code for an argument of the wrong shape, which
  // only the server's code can pass.
  {
    status: 500,
    codes: [
      'invalid_rate', 'invalid_signature_header', 'timestamp_out_of_window', 'signature_mismatch', 'missing_block_time',
      'invalid_invoice', 'invalid_input', 'internal_error', 'invalid_provider_payload', 'invalid_public_key',
    ],
  },
];

/** The status (and retry delay) of each code of the table. */
export const ERROR_STATUS: ReadonlyMap<string, Status> = new Map(
  STATUS_TABLE.flatMap(({ status, retryAfter, codes }) => codes.map((code) => [code, { status, retryAfter }] as const)),
);

/** The status of `code`: the table's, 422 for a field's `invalid_<field>`, else 500. */
export function statusOf(code: string): Status {
  return ERROR_STATUS.get(code) ?? (code.startsWith('invalid_') ? { status: 422 } : { status: 500 });
}

export class ApiError extends Error {
  readonly status: number;
  readonly retryAfter?: number;

  /** An error with code `code` (its status from the one table), naming `field` where there is one. */
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    retryAfter?: number,
  ) {
    super(message);
    const mapped = statusOf(code);
    this.status = mapped.status;
    this.retryAfter = retryAfter ?? mapped.retryAfter;
  }
  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/** A 422 naming the field: code `invalid_<field>`. */
export function invalid(field: string, message: string): ApiError {
  return new ApiError(`invalid_${field.replace(/[^a-z0-9_]/gi, '_')}`, `${field}: ${message}`, field);
}

/** The `code` of an error thrown by the core (its stable error kind), or undefined. */
export function coreCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
}
