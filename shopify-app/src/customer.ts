// What a customer reads when the checkout refuses something: one sentence per error code that says
// what happened and what to do next, never a code, an internal detail or another invoice's id.
// The checkout routes (choose a network, claim a transaction) answer with these messages; the
// widget shows its own translation of the same code (crates/wasm/widget/i18n, keys error_<code>),
// so these are what any other client of the public checkout API shows. test/words.test.js scans
// them, and the widget's catalogues, for codes and ids.
import { ApiError } from './errors';

/** The customer's sentence for each code the public checkout routes can answer. */
export const CUSTOMER_MESSAGES: Readonly<Record<string, string>> = {
  already_credited: 'This payment has already been counted. If this page does not show it, contact the shop with the transaction hash.',
  wrong_token: 'This transaction did not send the token this payment asks for. Check the transaction hash, or contact the shop.',
  wrong_recipient: 'This transaction paid another address, not the one on this page. Check the transaction hash and the address you sent to.',
  reserved_for_another_invoice: "This transaction is exactly another order's payment, so it counts for that order. If it was yours, contact the shop with the transaction hash.",
  transaction_not_found: 'This transaction is not on the network yet. Check the hash and the network, or wait a minute and try again.',
  transaction_failed: 'This transaction failed on the network and moved nothing. Send the payment again.',
  transfer_before_invoice: 'This transaction was made before this payment request existed, so it cannot pay it. Contact the shop if it was meant for this order.',
  transfer_after_window: 'This transaction arrived after this payment request closed. Contact the shop with the transaction hash.',
  invalid_tx_hash: 'That is not a transaction hash. It has 64 hexadecimal characters, with or without 0x in front.',
  invalid_log: 'The shop could not read this transaction. Contact the shop with the transaction hash.',
  not_a_transfer: 'The shop could not read this transaction. Contact the shop with the transaction hash.',
  rate_limited: 'Too many attempts. Wait a minute, then try again.',
  rpc_unavailable: 'The network cannot be reached right now. Try again in a minute.',
  invoice_not_open: 'This payment request no longer takes payments. If you have paid, contact the shop.',
  invoice_closed: 'This payment request no longer takes payments. If you have paid, contact the shop.',
  invoice_not_found: 'This payment request does not exist. Go back to the shop and start again.',
  network_not_chosen: 'Choose a network first, then try again.',
  network_already_chosen: 'A network is already chosen for this payment. Reload the page to see it.',
  unknown_network: 'That network is not accepted for this order. Choose another one.',
  unknown_token: 'That network is not accepted for this order. Choose another one.',
  amount_band_full: 'Many payments are open on this network right now. Try again in a few minutes, or choose another network.',
  amount_contention: 'Many payments are starting at once. Try again.',
  write_conflict: 'Something changed at the same moment. Try again.',
};

/** For any other code (a fault of the server, malformed input from a script). */
export const CUSTOMER_FALLBACK = 'The shop could not do this just now. Try again later, or contact the shop.';

/** Which codes the input validators answer for a bad transaction hash (invalid('tx_hash', …)). */
const HASH_FIELDS = new Set(['tx_hash']);

/**
 * Rewrites an error of a public checkout route for the customer: same code, status and field,
 * the customer's sentence instead of the internal message. Anything that is not an ApiError is
 * left alone (the router logs it and answers a plain 500).
 */
export function forCustomer(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const message = HASH_FIELDS.has(error.field ?? '') && !CUSTOMER_MESSAGES[error.code]
    ? CUSTOMER_MESSAGES.invalid_tx_hash
    : CUSTOMER_MESSAGES[error.code] ?? CUSTOMER_FALLBACK;
  return new ApiError(error.code, message, error.field, error.retryAfter);
}
