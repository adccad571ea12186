// What the Stablegate block shows on the Thank-you and the Order status pages, decided without
// Shopify, Preact or the network: which orders it asks the server about, how it reads the server's
// answer (or its absence), and what it shows for each invoice state. The two extensions only
// gather their inputs from `shopify` and draw the view this module returns with Shopify's
// components (shared/Block.jsx); test/shopify-extensions.test.js walks every case in Node.

/**
 * What the block shows.
 * @typedef {object} View
 * @property {'hidden' | 'loading' | 'pay' | 'message'} kind
 * @property {string} [heading]
 * @property {string} [text]
 * @property {'info' | 'success' | 'warning' | 'critical'} [tone]
 * @property {string} [amount] the exact amount to send, with its token (or the order's total before a network is chosen)
 * @property {string | null} [qr] the payment URI a wallet reads
 * @property {string} [network]
 * @property {string} [payUrl] the full pay page
 * @property {string} [button] the pay page button's label (no button without it)
 * @property {string} [state] the invoice's state
 * @property {boolean} [live] true while the invoice may change without the customer
 */

/**
 * @typedef {object} Step
 * @property {View} view
 * @property {number} [retryInMs] ask again after this long
 * @property {boolean} [poll] the next attempt counts from 0
 */

/** Shown whenever the server cannot be reached or cannot answer: the order itself is safe. */
export const FALLBACK =
  'The USDT payment details cannot be loaded right now. Your order is saved: reload this page in a few minutes, or use the link in your order confirmation email.';

/** Shown (in the checkout editor first) when the app was deployed without its server's URL. */
export const NOT_CONFIGURED = 'Stablegate: this app was deployed without its server URL. Set application_url in shopify.app.toml to https://<your server>/shopify, run npm run extensions:configure, then shopify app deploy.';

export const THANK_YOU = 'purchase.thank-you.block.render';
export const ORDER_STATUS = 'customer-account.order-status.block.render';

/** Milliseconds before asking again, by attempt, for an answer that may change on its own. */
const RETRY_MS = [1500, 3000, 5000, 8000, 13000];

/**
 * Whether the block asks the server about this order at all. The Thank-you page exposes only the
 * type of the payment option chosen, never its name: the block asks for any manual method, and
 * the server, which reads the order's gateway names, answers `applies: false` for a manual method
 * that is not the merchant's USDT one. The Order status page exposes no payment option: there
 * the server alone decides. A cancelled order takes no payment.
 */
export function shouldAsk({ target, orderId, paymentTypes = [], cancelled = false }) {
  if (typeof orderId !== 'string' || orderId === '' || cancelled) return false;
  if (target === THANK_YOU) return paymentTypes.includes('manualPayment');
  return target === ORDER_STATUS;
}

/**
 * The server's base URL (built in from shopify.app.toml): https (http only for a server on this
 * machine, in development), without a trailing slash; null when unset or not such a URL.
 */
export function serverUrl(setting) {
  if (typeof setting !== 'string') return null;
  let url;
  try {
    url = new URL(setting.trim());
  } catch {
    return null;
  }
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) return null;
  if (url.search || url.hash || url.username || url.password) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * The request the block sends: the order's invoice, with the extension's session token and, on
 * the Thank-you page, the checkout's token (`shopify.checkoutToken`): a guest's session token
 * names no customer, and the server shows a guest only the order of the checkout it names. The
 * Order status page needs none: its customer is always signed in, and their token names them.
 */
export function checkoutRequest(base, orderId, sessionToken, checkoutToken) {
  const body = typeof checkoutToken === 'string' && checkoutToken !== '' ? { order_id: orderId, checkout_token: checkoutToken } : { order_id: orderId };
  return {
    url: `${base}/shopify/api/checkout`,
    init: {
      method: 'POST',
      headers: { authorization: `Bearer ${sessionToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
  };
}

/**
 * What to do with the outcome of attempt `attempt` (0 for the first): `{ view }` to show, or
 * `{ retryInMs, view }` to show while asking again (`poll`: the next attempt counts from 0).
 * `outcome` is `{ status, body }` for an answer, `{ error }` when there was none (the network, a
 * timeout); `shown` is the view on screen.
 *  - 200 → the answer's view (hidden for another payment method);
 *  - 404 order_not_found → asked again: the Thank-you page can come before the order exists in
 *    the Admin API; in the end the fallback;
 *  - no answer, 429, 5xx → asked again, then the fallback;
 *  - order_cancelled → a cancelled order's sentence; order_not_payable → nothing (the order is
 *    paid or owes nothing, and Shopify's page already says so);
 *  - any other refusal (an unknown shop, a bad token, a guest's request without the checkout's
 *    token) → the fallback.
 */
/**
 * @param {{ status?: number, body?: any, error?: string } | null} outcome
 * @param {number} attempt
 * @param {View | null} [shown]
 * @returns {Step}
 */
export function next(outcome, attempt, shown = null) {
  const answered = outcome && !outcome.error && typeof outcome.status === 'number';
  // An invoice already on screen stays there when a later look fails: it is still right.
  if (shown && shown.live && !(answered && outcome.status === 200)) return { retryInMs: 10000, view: shown, poll: true };
  const again = (view) => (attempt < RETRY_MS.length ? { retryInMs: RETRY_MS[attempt], view } : { view: fallbackView() });
  if (!answered) return again(loadingView());
  const status = /** @type {number} */ (outcome.status);
  const body = outcome.body;
  if (status === 200 && body && body.applies === false) return { view: { kind: 'hidden' } };
  if (status === 200 && body && body.applies === true && body.invoice) {
    const view = invoiceView(body.invoice);
    // An open invoice changes on its own (a payment arrives): asked again while the page is open.
    return view.live ? { retryInMs: 10000, view, poll: true } : { view };
  }
  const code = body && body.error && body.error.code;
  if (status === 404 && code === 'order_not_found') return again(loadingView());
  if (status === 429 || status >= 500) return again(loadingView());
  if (code === 'order_cancelled') return { view: { kind: 'message', tone: 'info', heading: 'Order cancelled', text: 'This order was cancelled: it takes no USDT payment.' } };
  if (code === 'order_not_payable') return { view: { kind: 'hidden' } };
  return { view: fallbackView() };
}

/** @returns {View} */
export function loadingView() {
  return { kind: 'loading', text: 'Loading the USDT payment details…' };
}

/** @returns {View} */
export function fallbackView() {
  return { kind: 'message', tone: 'warning', heading: 'USDT payment', text: FALLBACK };
}

const usdt = (amount, token) => `${amount} ${token ?? 'USDT'}`;
const positive = (amount) => typeof amount === 'string' && /[1-9]/.test(amount);

/**
 * The view of the server's invoice (POST /shopify/api/checkout's `invoice`), by state:
 *  - new, not yet paid: the exact amount, the QR of the payment URI, the pay page (before the
 *    customer picks a network there is no amount yet: the order's total and the pay page);
 *  - new, partly paid: what was received and the exact rest, its QR, the pay page;
 *  - processing: received, waiting for confirmations (the pay page shows the progress);
 *  - settled: paid (an overpayment or a late payment said so: the store settles the difference);
 *  - needs_review: being checked by the store, never shown as paid;
 *  - expired: unpaid, or partly paid (the store will contact the customer);
 *  - invalid: the payment request was cancelled.
 * `live` is true while the state may still change without the customer.
 * @returns {View}
 */
export function invoiceView(invoice) {
  const token = invoice.token ?? 'USDT';
  const network = invoice.network_name ?? invoice.network;
  const base = { payUrl: invoice.pay_url, state: invoice.state };
  if (invoice.exception === 'needs_review') {
    return { ...base, kind: 'message', tone: 'info', live: true, heading: 'Payment being checked',
      text: `The store is checking your payment${positive(invoice.amount_paid) ? ` of ${usdt(invoice.amount_paid, token)}` : ''}. Your order is marked paid once it is confirmed.` };
  }
  switch (invoice.state) {
    case 'new': {
      if (!invoice.network) {
        return { ...base, kind: 'pay', live: true, heading: 'Pay with USDT', amount: `${invoice.fiat_amount} ${invoice.currency}`, qr: null,
          text: 'Choose a network on the payment page to see the exact USDT amount.', button: 'Choose network and pay' };
      }
      const partial = positive(invoice.amount_paid);
      const amount = partial ? invoice.amount_remaining : invoice.amount_due;
      return { ...base, kind: 'pay', live: true, heading: partial ? 'Payment incomplete' : 'Pay with USDT', amount: usdt(amount, token), qr: invoice.payment_uri,
        network,
        text: partial
          ? `Received ${usdt(invoice.amount_paid, token)}. Send exactly ${usdt(amount, token)} more on ${network} to complete the payment.`
          : `Send exactly ${usdt(amount, token)} on ${network}. Scan the code with your wallet, or open the payment page.`,
        button: 'Open payment page' };
    }
    case 'processing':
      return { ...base, kind: 'message', tone: 'info', live: true, heading: 'Payment received',
        text: `${usdt(invoice.amount_paid, token)} received on ${network}; waiting for the network to confirm it.`, button: 'See progress' };
    case 'settled': {
      const extra = invoice.exception === 'paid_over' ? ' You sent more than was due: contact the store about the difference.'
        : invoice.exception === 'paid_late' ? ' It arrived after the time to pay had passed; the store has been told.' : '';
      return { ...base, kind: 'message', tone: 'success', live: false, heading: 'Paid', text: `${usdt(invoice.amount_paid, token)} received. Thank you!${extra}` };
    }
    case 'expired':
      return positive(invoice.amount_paid)
        ? { ...base, kind: 'message', tone: 'warning', live: false, heading: 'Payment incomplete',
          text: `The time to pay has passed with ${usdt(invoice.amount_paid, token)} of ${usdt(invoice.amount_due, token)} received. The store will contact you.` }
        : { ...base, kind: 'message', tone: 'warning', live: false, heading: 'Time to pay has passed', text: 'No USDT payment was received in time. Contact the store if you still want this order.' };
    case 'invalid':
      return { ...base, kind: 'message', tone: 'info', live: false, heading: 'Payment request cancelled', text: 'This USDT payment request was cancelled. Send nothing to its address.' };
    default:
      return fallbackView();
  }
}
