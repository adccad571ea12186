// The Thank-you and Order status extensions (extensions/): their decisions (which orders the
// block asks about, what it shows for each answer and each invoice state, the fallback) run here
// in Node; their JSX is type-checked against @shopify/ui-extensions' own declarations; and both
// bundles are built with esbuild the way Shopify CLI builds them, then measured against Shopify's
// 64 KB compressed limit. No Shopify: the rendering itself only a dev store shows (README).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { buildExtension } = require('./shopify-helpers');

const APP = path.join(__dirname, '..');
const EXTENSIONS = path.join(APP, 'extensions');
/** Shopify's limit on a UI extension's compressed script (API 2025-10 and later). */
const LIMIT_BYTES = 64 * 1024;

const block = () => import(path.join(EXTENSIONS, 'shared', 'block.mjs'));
const ORDER = 'gid://shopify/Order/1001';

/** An invoice as POST /shopify/api/checkout answers it (`invoice`), with `changes`. */
const invoice = (changes = {}) => ({
  id: 'inv_1', state: 'new', exception: null, network: 'tron', network_name: 'TRON', token: 'USDT',
  amount_due: '23.33', amount_paid: '0', amount_remaining: '23.33', payment_uri: 'tron:TXYZ?amount=23.33',
  expires_at: '2026-01-01T00:15:00Z', fiat_amount: '21.60', currency: 'EUR', pay_url: 'https://pay.example.com/pay/inv_1',
  ...changes,
});
const answer = (inv) => ({ status: 200, body: { applies: true, order: { id: ORDER, name: '#1001' }, invoice: inv } });

test('the block asks only about a manual method\'s order on the Thank-you page, about any order on Order status, never a cancelled one', async () => {
  const { shouldAsk, THANK_YOU, ORDER_STATUS } = await block();
  assert.equal(shouldAsk({ target: THANK_YOU, orderId: ORDER, paymentTypes: ['manualPayment'] }), true);
  assert.equal(shouldAsk({ target: THANK_YOU, orderId: ORDER, paymentTypes: ['creditCard'] }), false);
  assert.equal(shouldAsk({ target: THANK_YOU, orderId: ORDER, paymentTypes: ['redeemable', 'manualPayment'] }), true, 'a gift card and the manual method');
  assert.equal(shouldAsk({ target: THANK_YOU, orderId: ORDER, paymentTypes: [] }), false);
  assert.equal(shouldAsk({ target: THANK_YOU, orderId: undefined, paymentTypes: ['manualPayment'] }), false);
  assert.equal(shouldAsk({ target: ORDER_STATUS, orderId: ORDER }), true, 'the server tells another method\'s order');
  assert.equal(shouldAsk({ target: ORDER_STATUS, orderId: ORDER, cancelled: true }), false);
  assert.equal(shouldAsk({ target: 'purchase.checkout.block.render', orderId: ORDER, paymentTypes: ['manualPayment'] }), false);
});

test('the server URL setting: https (http only on this machine), no trailing slash; anything else is not configured', async () => {
  const { serverUrl, checkoutRequest } = await block();
  assert.equal(serverUrl('https://pay.example.com/'), 'https://pay.example.com');
  assert.equal(serverUrl(' https://example.com/stablegate// '), 'https://example.com/stablegate');
  assert.equal(serverUrl('http://localhost:8080'), 'http://localhost:8080');
  for (const bad of [undefined, '', 'pay.example.com', 'http://pay.example.com', 'ftp://x', 'https://u:p@x.com', 'https://x.com/?a=1', 42]) assert.equal(serverUrl(bad), null, String(bad));
  const { url, init } = checkoutRequest('https://pay.example.com', ORDER, 'jwt.a.b');
  assert.equal(url, 'https://pay.example.com/shopify/api/checkout');
  assert.equal(init.method, 'POST');
  assert.equal(init.headers.authorization, 'Bearer jwt.a.b');
  assert.deepEqual(JSON.parse(init.body), { order_id: ORDER }, 'the Order status page: no checkout token');
  // The Thank-you page names its checkout (a guest's token names no customer).
  assert.deepEqual(JSON.parse(checkoutRequest('https://pay.example.com', ORDER, 'jwt.a.b', 'c0ffee').init.body), { order_id: ORDER, checkout_token: 'c0ffee' });
  assert.deepEqual(JSON.parse(checkoutRequest('https://pay.example.com', ORDER, 'jwt.a.b', '').init.body), { order_id: ORDER }, 'an empty token is not sent');
});

test('each invoice state has its view: the exact amount, the QR and the pay page while it is open', async () => {
  const { invoiceView } = await block();
  const open = invoiceView(invoice());
  assert.equal(open.kind, 'pay');
  assert.equal(open.amount, '23.33 USDT');
  assert.equal(open.qr, 'tron:TXYZ?amount=23.33');
  assert.equal(open.payUrl, 'https://pay.example.com/pay/inv_1');
  assert.equal(open.button, 'Open payment page');
  assert.match(open.text, /exactly 23\.33 USDT on TRON/);
  assert.equal(open.live, true);

  const partial = invoiceView(invoice({ amount_paid: '10', amount_remaining: '13.33', payment_uri: 'tron:TXYZ?amount=13.33', exception: 'paid_partial' }));
  assert.equal(partial.amount, '13.33 USDT', 'what is left, not the whole');
  assert.equal(partial.qr, 'tron:TXYZ?amount=13.33');
  assert.match(partial.text, /Received 10 USDT.*13\.33 USDT more/);

  const choosing = invoiceView(invoice({ network: null, network_name: null, amount_due: null, payment_uri: null }));
  assert.equal(choosing.kind, 'pay');
  assert.equal(choosing.amount, '21.60 EUR');
  assert.equal(choosing.qr, null);
  assert.equal(choosing.button, 'Choose network and pay');

  const processing = invoiceView(invoice({ state: 'processing', amount_paid: '23.33' }));
  assert.deepEqual([processing.kind, processing.tone, processing.heading, processing.live], ['message', 'info', 'Payment received', true]);
  assert.equal(processing.button, 'See progress');

  const settled = invoiceView(invoice({ state: 'settled', amount_paid: '23.33' }));
  assert.deepEqual([settled.tone, settled.heading, settled.live, settled.button], ['success', 'Paid', false, undefined]);
  assert.match(invoiceView(invoice({ state: 'settled', exception: 'paid_over', amount_paid: '30' })).text, /more than was due/);
  assert.match(invoiceView(invoice({ state: 'settled', exception: 'paid_late', amount_paid: '23.33' })).text, /after the time to pay/);

  const review = invoiceView(invoice({ state: 'settled', exception: 'needs_review', amount_paid: '23.33' }));
  assert.equal(review.heading, 'Payment being checked', 'a review is never shown as paid');
  assert.notEqual(review.tone, 'success');

  assert.equal(invoiceView(invoice({ state: 'expired' })).heading, 'Time to pay has passed');
  assert.match(invoiceView(invoice({ state: 'expired', amount_paid: '5', exception: 'paid_partial' })).text, /5 USDT of 23\.33 USDT received/);
  assert.equal(invoiceView(invoice({ state: 'invalid' })).heading, 'Payment request cancelled');
  assert.equal(invoiceView(invoice({ state: 'something-new' })).kind, 'message', 'an unknown state gets the fallback');
});

test('the server\'s answers: another method hides the block, a missing order is asked again, no server ends in the fallback sentence', async () => {
  const { next, FALLBACK } = await block();
  assert.deepEqual(next({ status: 200, body: { applies: false } }, 0), { view: { kind: 'hidden' } });
  const open = next(answer(invoice()), 0);
  assert.equal(open.view.kind, 'pay');
  assert.equal(open.poll, true, 'an open invoice is looked at again while the page is open');
  const paid = next(answer(invoice({ state: 'settled', amount_paid: '23.33' })), 0);
  assert.equal(paid.retryInMs, undefined, 'a settled invoice is not asked again');

  // The Thank-you page can come before the order exists in the Admin API.
  const early = next({ status: 404, body: { error: { code: 'order_not_found' } } }, 0);
  assert.equal(early.view.kind, 'loading');
  assert.ok(early.retryInMs > 0);

  // No answer, a 5xx or a 429: asked again a few times, then the fallback sentence.
  for (const outcome of [{ error: 'TypeError: fetch failed' }, { status: 502, body: null }, { status: 429, body: { error: { code: 'rate_limited' } } }, null]) {
    let attempt = 0;
    let step = next(outcome, attempt);
    while (step.retryInMs !== undefined) step = next(outcome, ++attempt);
    assert.ok(attempt >= 3 && attempt <= 6, `gave up after ${attempt} tries`);
    assert.equal(step.view.text, FALLBACK);
  }
  // A refusal that asking again cannot change: the fallback at once.
  for (const code of ['shop_not_installed', 'invalid_session_token', 'invalid_order_id']) {
    const step = next({ status: code === 'invalid_session_token' ? 401 : 409, body: { error: { code } } }, 0);
    assert.deepEqual([step.view.text, step.retryInMs], [FALLBACK, undefined], code);
  }
  assert.equal(next({ status: 409, body: { error: { code: 'order_cancelled' } } }, 0).view.heading, 'Order cancelled');
  assert.deepEqual(next({ status: 409, body: { error: { code: 'order_not_payable' } } }, 0).view, { kind: 'hidden' });

  // Once an open invoice is on screen, a failed look keeps it (and keeps looking).
  const shown = open.view;
  const kept = next({ error: 'offline' }, 0, shown);
  assert.equal(kept.view, shown);
  assert.equal(kept.poll, true);
  assert.equal(next(answer(invoice({ state: 'processing', amount_paid: '23.33' })), 0, shown).view.heading, 'Payment received');
});

test('the server URL is written once, in shopify.app.toml, and built into both blocks (configure.mjs)', async () => {
  const { serverUrlOf, moduleText } = await import(path.join(EXTENSIONS, 'configure.mjs'));
  // The committed module says what the committed toml says (fails if the two diverge).
  execFileSync(process.execPath, [path.join(EXTENSIONS, 'configure.mjs'), '--check'], { stdio: 'pipe' });
  assert.equal(serverUrlOf('application_url = "https://pay.shop.example/shopify"\n'), 'https://pay.shop.example');
  assert.equal(serverUrlOf('application_url = "https://example.org/stablegate/shopify/"'), 'https://example.org/stablegate');
  assert.equal(serverUrlOf('application_url = "https://pay.example.com/shopify"'), null, 'the placeholder is no server');
  assert.throws(() => serverUrlOf('application_url = "http://pay.shop.example/shopify"'), /must be https/);
  assert.throws(() => serverUrlOf('name = "x"'), /no application_url/);
  assert.match(moduleText('https://pay.shop.example'), /^export const SERVER_URL = "https:\/\/pay\.shop\.example";$/m);
  // Neither block has a per-block URL setting any more.
  for (const name of ['thank-you', 'order-status']) {
    assert.doesNotMatch(fs.readFileSync(path.join(EXTENSIONS, name, 'shopify.extension.toml'), 'utf8'), /^\[extensions\.settings\]/m, name);
  }
});

test('the extensions type-check against @shopify/ui-extensions (components, their props, each target\'s API)', () => {
  execFileSync(path.join(APP, 'node_modules', '.bin', 'tsc'), ['-p', path.join(EXTENSIONS, 'tsconfig.json')], { stdio: 'pipe' });
});

for (const name of ['thank-you', 'order-status']) {
  test(`the ${name} bundle builds and stays under Shopify's 64 KB compressed limit`, async (t) => {
    const code = await buildExtension(name);
    const gzip = zlib.gzipSync(code, { level: 9 }).length;
    const brotli = zlib.brotliCompressSync(code).length;
    t.diagnostic(`${name}: ${code.length} bytes, ${gzip} gzip, ${brotli} brotli`);
    assert.ok(gzip < LIMIT_BYTES, `${name} is ${gzip} bytes gzipped, over ${LIMIT_BYTES}`);
    const text = Buffer.from(code).toString('utf8');
    assert.match(text, /\/shopify\/api\/checkout/);
    assert.match(text, /s-qr-code/);
    assert.doesNotMatch(text, /shpat_|api_secret|SG_SHOPIFY/, 'no secret in a browser asset');
  });
}
