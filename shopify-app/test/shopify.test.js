// The Shopify app against a FAKE Shopify (test/fake-shopify.js: Admin GraphQL validated against the
// real 2026-07 schema, token exchange, signed webhooks) and the real devnet: install by token
// exchange, session tokens scoped to their shop, the order flow from the extension's request to
// the capture of what was paid, exactly once, and the webhooks. Session tokens and HMACs come
// from Shopify's own test helpers.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { getJwt } = require('@shopify/shopify-api/test-helpers');
const { startShopify, adminToken: tokenOf, extensionToken: extensionTokenOf, until, API_KEY, API_SECRET_KEY } = require('./shopify-helpers');
const { validateDocument } = require('./fake-shopify');
const { DOCUMENTS } = require('../dist/shopify/admin');
const { SCOPES, MIN_API_VERSION, createShopify } = require('../dist/shopify/api');

// Store names as Shopify's test helpers take them (getJwt appends .myshopify.com).
const STORE = 'usdt-store';
const SHOP = `${STORE}.myshopify.com`;
const OTHER_STORE = 'other-store';
const OTHER_SHOP = `${OTHER_STORE}.myshopify.com`;

let t;
let s;
let fake;
let call;
before(async () => {
  t = await startShopify('shopify');
  ({ s, fake, call } = t);
});
after(async () => {
  if (t) await t.stop();
});

/** The embedded admin's session token of `shop` (iss = its admin), or a checkout extension's. */
const adminToken = (store = STORE, overrides = {}) => tokenOf(store, overrides);
const extensionToken = (store = STORE) => extensionTokenOf(store);
const checkout = async (order, store = STORE) => call('POST', '/shopify/api/checkout', await extensionToken(store), { order_id: order.id ?? order });
const orderOf = (order, shop = SHOP) => fake.shop(shop).orders.get(order.id);
const invoicesOfOrder = async (order) => (await s.app.db.all(`SELECT id FROM invoices WHERE metadata LIKE ?`, [`%${order.id}"%`])).length;

test('every Admin GraphQL document the app sends is valid against Shopify\'s 2026-07 schema', () => {
  for (const [name, doc] of Object.entries(DOCUMENTS)) assert.deepEqual(validateDocument(doc), [], name);
  // The fake refuses what the schema refuses (so a wrong field name fails the suite).
  assert.match(validateDocument('query { order(id: "gid://shopify/Order/1") { paymentGateway } }')[0], /paymentGateway/);
});

test('shopify.app.toml asks for exactly the scopes the code uses, and subscribes the handled topics', () => {
  const toml = fs.readFileSync(path.join(__dirname, '..', 'shopify.app.toml'), 'utf8');
  assert.equal(/^scopes = "([^"]*)"/m.exec(toml)[1], SCOPES.join(','));
  const { TOPICS } = require('../dist/shopify/webhooks');
  const subscribed = [...toml.matchAll(/topics = \[([^\]]*)\]/g)].flatMap((m) => m[1].split(',').map((t) => t.trim().replace(/"/g, '')));
  assert.deepEqual(subscribed.sort(), [...TOPICS].sort());
});

test('one Shopify API version: the toml\'s webhooks are the server\'s default version, which the library knows', () => {
  const toml = fs.readFileSync(path.join(__dirname, '..', 'shopify.app.toml'), 'utf8');
  const { SHOPIFY_API_VERSION_DEFAULT } = require('../dist/config');
  assert.equal(/^\[webhooks\]\napi_version = "([^"]+)"/m.exec(toml.replace(/^#.*\n/gm, ''))[1], SHOPIFY_API_VERSION_DEFAULT);
  assert.equal(s.app.config.shopify.apiVersion, SHOPIFY_API_VERSION_DEFAULT);
  // Order.checkoutToken (a guest's order is matched by it) exists from 2026-07: an older version is refused at start.
  assert.equal(MIN_API_VERSION, '2026-07');
  const config = (apiVersion) => ({ ...s.app.config.shopify, apiVersion });
  const quiet = { info() {}, warn() {}, error() {} };
  assert.throws(() => createShopify(config('2026-04'), quiet), /shopify\.api_version 2026-04 is too old: the app reads Order\.checkoutToken/);
  assert.ok(createShopify(config('2026-07'), quiet));
});

test('install: the admin session token is exchanged once for an offline token, stored encrypted', async () => {
  const r = await call('GET', '/shopify/api/settings', await adminToken());
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.shop, r.body.settings], [SHOP, { payment_method: 'USDT', on_expiry: 'cancel', networks: null, expires_in: null, addresses: null }]);
  // What the settings choose among: the server's networks and receiving addresses, its expiry.
  assert.deepEqual(r.body.server.networks.map((n) => [n.id, n.addresses.length]), [['devnet', 2], ['devnet-tron', 1]]);
  assert.equal(r.body.server.expires_in, 900);
  assert.equal(fake.exchanges.filter((e) => e.shop === SHOP).length, 1);
  const row = await s.app.db.get(`SELECT access_token FROM shopify_shops WHERE shop = ?`, [SHOP]);
  assert.ok(row.access_token.startsWith('v1.'));
  assert.ok(!row.access_token.includes(fake.shop(SHOP).token), 'the token is not stored in clear');
  assert.equal(await s.app.shopify.shops.token(SHOP), fake.shop(SHOP).token);
  await call('GET', '/shopify/api/settings', await adminToken());
  assert.equal(fake.exchanges.filter((e) => e.shop === SHOP).length, 1, 'an installed shop is not exchanged again');
});

test('session tokens: a bad or foreign token is refused, and an extension\'s token cannot change a shop', async () => {
  const none = await call('GET', '/shopify/api/settings', null);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, 'invalid_session_token');
  const otherApp = (await getJwt(STORE, 'anotherAppKey', API_SECRET_KEY)).token;
  assert.equal((await call('GET', '/shopify/api/settings', otherApp)).status, 401, 'another app\'s audience');
  const forged = (await getJwt(STORE, API_KEY, 'not-the-secret')).token;
  assert.equal((await call('GET', '/shopify/api/settings', forged)).status, 401, 'signed with another secret');
  const expired = await adminToken(STORE, { exp: Math.floor(Date.now() / 1000) - 60 });
  assert.equal((await call('GET', '/shopify/api/settings', expired)).status, 401, 'expired');
  const fromExtension = await call('POST', '/shopify/api/settings', await extensionToken(), { on_expiry: 'leave' });
  assert.equal(fromExtension.status, 403);
  assert.equal(fromExtension.body.error.code, 'admin_token_required');
});

test('settings: the merchant sets the method\'s exact name and the networks; bad input names its field', async () => {
  const token = await adminToken();
  for (const [body, code] of [
    [{ payment_method: '' }, 'invalid_payment_method'],
    [{ on_expiry: 'burn' }, 'invalid_on_expiry'],
    [{ networks: ['bitcoin'] }, 'invalid_networks'],
    [{ colour: 'red' }, 'unknown_field'],
    [{ expires_in: 30 }, 'invalid_expires_in'],
    [{ expires_in: '900' }, 'invalid_expires_in'],
  ]) {
    const r = await call('POST', '/shopify/api/settings', token, body);
    assert.equal(r.status, 422, JSON.stringify(body));
    assert.equal(r.body.error.code, code);
  }
  const r = await call('POST', '/shopify/api/settings', token, { payment_method: 'USDT (Stablegate)', networks: ['devnet'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.settings, { payment_method: 'USDT (Stablegate)', on_expiry: 'cancel', networks: ['devnet'], expires_in: null, addresses: null });
});

test('the embedded settings page: App Bridge first, the public client id only, framed by the shop\'s admin alone', async () => {
  const r = await fetch(`${s.app.url}/shopify?embedded=1&shop=${SHOP}&host=YWRtaW4&id_token=x`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.equal(r.headers.get('content-security-policy'), `frame-ancestors https://${SHOP} https://admin.shopify.com;`);
  const html = await r.text();
  const scripts = [...html.matchAll(/<script( src="([^"]+)")?>/g)].map((m) => m[2] ?? 'inline');
  assert.deepEqual(scripts, ['https://cdn.shopify.com/shopifycloud/app-bridge.js', 'https://cdn.shopify.com/shopifycloud/polaris.js', 'inline']);
  assert.match(html, new RegExp(`<meta name="shopify-api-key" content="${API_KEY}">`));
  assert.ok(!html.includes(API_SECRET_KEY), 'no secret in the page');
  assert.match(html, new RegExp(`data-api="${s.app.url}/shopify/api"`));
  for (const tag of ['s-page', 's-text-field id="payment_method"', 's-number-field id="expires_in"', 's-select id="on_expiry"', 's-stack id="networks"', 's-stack id="reviews"']) assert.ok(html.includes(`<${tag}`), tag);
  // A shop parameter that is not a shop domain frames nothing but the unified admin.
  const odd = await fetch(`${s.app.url}/shopify?shop=evil.example.com`);
  assert.equal(odd.headers.get('content-security-policy'), 'frame-ancestors https://admin.shopify.com;');
});

test('the order flow: extension request → one invoice → payment on the devnet → orderCapture once, amount and currency right', async () => {
  const order = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', amount: '21.60', currency: 'EUR' });
  // Five requests at once (the Thank-you and the Order status pages, reloads): one invoice.
  const answers = await Promise.all(Array.from({ length: 5 }, () => checkout(order)));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  const ids = new Set(answers.map((a) => a.body.invoice.id));
  assert.equal(ids.size, 1);
  assert.equal(await invoicesOfOrder(order), 1);
  const { invoice } = answers[0].body;
  assert.equal(answers[0].headers.get('access-control-allow-origin'), '*');
  assert.equal(invoice.state, 'new');
  assert.equal(invoice.fiat_amount, '21.60');
  assert.equal(invoice.currency, 'EUR');
  assert.equal(invoice.network, 'devnet');
  assert.equal(typeof invoice.network_name, 'string');
  // 21.60 EUR at 1.08 USDT per EUR = 23.328, rounded up to 23.33, plus the unique tag.
  assert.match(invoice.amount_due, /^23\.3[3-9]$/);
  assert.match(invoice.payment_uri, /^ethereum:/);
  assert.equal(invoice.pay_url, `${s.app.url}/pay/${invoice.id}`);
  // Linked on the order.
  const metafields = Object.fromEntries(orderOf(order).metafields.map((m) => [m.key, m.value]));
  assert.deepEqual(metafields, { invoice_id: invoice.id, pay_url: invoice.pay_url });

  const row = await s.app.invoices.get(invoice.id);
  const record = s.app.invoices.record(row);
  await s.pay(record.recipient, record.amount_due, { mine: 3 });
  await s.waitInvoice(invoice.id, (i) => i.state === 'settled');
  await until('the capture', () => fake.captures(SHOP, order.id).length === 1);
  const [capture] = fake.captures(SHOP, order.id);
  assert.deepEqual(capture.amountSet.presentmentMoney, { amount: '21.60', currencyCode: 'EUR' });
  assert.equal(capture.parentTransaction.id, orderOf(order).transactionsList[0].id);
  assert.equal(orderOf(order).displayFinancialStatus, 'PAID');
  await until('the note', () => /captured 21\.60 EUR/.test(orderOf(order).note ?? ''));
  assert.match(orderOf(order).note, /tx 0x[0-9a-f]{64}/);
  const applied = () => s.app.db.all(`SELECT action, status, result FROM shopify_actions WHERE invoice_id = ? AND action = 'capture'`, [invoice.id]);
  await until('the capture recorded done', async () => (await applied())[0]?.status === 'done');
  assert.deepEqual(await applied(), [{ action: 'capture', status: 'done', result: 'captured 21.60 EUR' }]);
  // Once: more turns of the worker (a restart, another process) capture nothing more.
  await s.app.shopify.actions.runOnce();
  await s.app.shopify.actions.runOnce();
  assert.equal(fake.captures(SHOP, order.id).length, 1);
  // The extension, asked again (the Order status page), shows it paid.
  const again = await checkout(order);
  assert.equal(again.body.invoice.state, 'settled');
  assert.deepEqual(fake.invalid, []);
  // Every Admin request went at the app's one API version (the toml's webhooks' too, above).
  assert.deepEqual([...new Set(fake.requests.map((r) => r.version))], [require('../dist/config').SHOPIFY_API_VERSION_DEFAULT]);
});

test('an order of another payment method is ignored: no invoice', async () => {
  const card = fake.placeOrder(SHOP, { gateway: 'shopify_payments', manual: false });
  const r = await checkout(card);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { applies: false });
  // A manual method whose name only contains the configured one is not it either.
  const other = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate) by bank' });
  assert.deepEqual((await checkout(other)).body, { applies: false });
  assert.equal(await invoicesOfOrder(card), 0);
  assert.equal(await invoicesOfOrder(other), 0);
});

test('another shop\'s token is refused on this shop\'s orders', async () => {
  await call('GET', '/shopify/api/settings', await adminToken(OTHER_STORE)); // installs the other shop
  const mine = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)' });
  const theirs = await checkout(mine, OTHER_STORE);
  assert.equal(theirs.status, 404);
  assert.equal(theirs.body.error.code, 'order_not_found');
  assert.equal(await invoicesOfOrder(mine), 0);
  // Even once this shop created its invoice, the other shop cannot read it.
  assert.equal((await checkout(mine)).status, 200);
  assert.equal((await checkout(mine, OTHER_STORE)).status, 404);
  // And a shop that never installed the app gets a clear answer.
  const stranger = await checkout(mine, 'stranger');
  assert.equal(stranger.status, 409);
  assert.equal(stranger.body.error.code, 'shop_not_installed');
});

test('a signed-in customer\'s token reads that customer\'s orders only', async () => {
  const asCustomer = async (order, sub, store = STORE, body = {}) => call('POST', '/shopify/api/checkout', await extensionTokenOf(store, sub), { order_id: order.id, ...body });
  const order = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', customer: 'gid://shopify/Customer/41' });
  // Another customer of the same shop, before and after the invoice exists: as if there were no such order.
  const stranger = await asCustomer(order, 'gid://shopify/Customer/42');
  assert.equal(stranger.status, 404);
  assert.equal(stranger.body.error.code, 'order_not_found');
  assert.equal(await invoicesOfOrder(order), 0, 'no invoice made for a stranger');
  const own = await asCustomer(order, 'gid://shopify/Customer/41');
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal((await asCustomer(order, 'gid://shopify/Customer/42')).status, 404, 'the stored link is checked too');
  // Shop B's token naming the same customer id still reads nothing of shop A.
  assert.equal((await asCustomer(order, 'gid://shopify/Customer/41', OTHER_STORE)).status, 404);
  // A signed-in customer's Thank-you page sends the checkout's token too: both must match.
  const withToken = await asCustomer(order, 'gid://shopify/Customer/41', STORE, { checkout_token: orderOf(order).checkoutToken });
  assert.equal(withToken.body.invoice.id, own.body.invoice.id);
  assert.equal((await asCustomer(order, 'gid://shopify/Customer/41', STORE, { checkout_token: 'f'.repeat(32) })).status, 404, 'their own order, another checkout\'s token');
  const guest = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', customer: null });
  assert.equal((await asCustomer(guest, 'gid://shopify/Customer/41')).status, 404, 'a customer\'s token does not read a guest order');
  assert.equal((await asCustomer(guest, 'gid://shopify/Customer/41', STORE, { checkout_token: orderOf(guest).checkoutToken })).status, 404, 'not even with its checkout token');
  assert.equal(await invoicesOfOrder(guest), 0);
});

test('a guest\'s token (no customer) reads only the order of the checkout whose token it sends; without one it is refused', async () => {
  const guestToken = await extensionTokenOf(STORE, null);
  const asGuest = (order, body = {}, token = guestToken) => call('POST', '/shopify/api/checkout', token, { order_id: order.id ?? order, ...body });
  const order = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', customer: null });
  const other = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', customer: null });
  const { checkoutToken } = orderOf(order);
  const readsOf = (o) => fake.requests.filter((r) => JSON.stringify(r.variables).includes(`"${o.id}"`)).map((r) => r.operation);
  const unlinked = () => orderOf(order).metafields.length === 0;

  // Neither a customer nor a checkout token: refused before anything is read.
  const neither = await asGuest(order);
  assert.equal(neither.status, 422);
  assert.equal(neither.body.error.code, 'invalid_checkout_token');
  assert.equal(neither.body.error.field, 'checkout_token');
  assert.match(neither.body.error.message, /names no customer.*shopify\.checkoutToken/);
  assert.equal(neither.headers.get('access-control-allow-origin'), '*');
  assert.deepEqual(readsOf(order), []);
  // A malformed token names its field.
  for (const bad of [42, '', 'x'.repeat(256), 'with space', ['a']]) {
    const r = await asGuest(order, { checkout_token: bad });
    assert.equal(r.status, 422, JSON.stringify(bad));
    assert.equal(r.body.error.code, 'invalid_checkout_token');
  }

  // The answer for an order that does not exist, which every refusal below must equal.
  const unknown = await asGuest('gid://shopify/Order/999999', { checkout_token: checkoutToken });
  assert.equal(unknown.status, 404);
  const same = (r, o, what) => {
    assert.equal(r.status, 404, what);
    assert.deepEqual({ ...r.body.error, message: r.body.error.message.replace(o.id, 'ID') }, { ...unknown.body.error, message: unknown.body.error.message.replace('gid://shopify/Order/999999', 'ID') }, what);
  };
  // Another checkout's token, or another order's of the same shop: as if there were no such order, and no invoice made.
  same(await asGuest(order, { checkout_token: 'f'.repeat(32) }), order, 'a made-up token');
  same(await asGuest(order, { checkout_token: orderOf(other).checkoutToken }), order, 'the token of another order of the shop');
  same(await asGuest(order, { checkout_token: checkoutToken.toUpperCase() }), order, 'compared exactly');
  same(await asGuest(order, { checkout_token: checkoutToken.slice(0, -1) }), order, 'a prefix');
  assert.equal(await invoicesOfOrder(order), 0, 'no invoice made without the checkout\'s token');
  assert.ok(unlinked(), 'nothing written on the order');

  // Its own checkout's token: the invoice.
  const own = await asGuest(order, { checkout_token: checkoutToken });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal(own.body.invoice.state, 'new');
  assert.equal(await invoicesOfOrder(order), 1);
  // Once the invoice exists, a wrong token is still refused the same way, and the right one needs no Admin request.
  const before = readsOf(order).length;
  same(await asGuest(order, { checkout_token: orderOf(other).checkoutToken }), order, 'the stored link is checked too');
  assert.equal((await asGuest(order, { checkout_token: checkoutToken })).body.invoice.id, own.body.invoice.id);
  assert.equal(readsOf(order).length, before, 'the order\'s checkout token is remembered (it never changes)');
  // Another shop's guest, even with the right checkout token, reads nothing of this shop.
  assert.equal((await asGuest(order, { checkout_token: checkoutToken }, await extensionTokenOf(OTHER_STORE, null))).status, 404);

  // An order made without a checkout (Order.checkoutToken null): no guest reads it, whatever it sends.
  const drafted = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', customer: null, checkoutToken: null });
  same(await asGuest(drafted, { checkout_token: checkoutToken }), drafted, 'an order without a checkout token');
  assert.equal(await invoicesOfOrder(drafted), 0);
  // Another payment method's order is refused the same way to a stranger (nothing tells it apart), and says applies: false to its own checkout.
  const card = fake.placeOrder(SHOP, { gateway: 'shopify_payments', manual: false, customer: null });
  same(await asGuest(card, { checkout_token: checkoutToken }), card, 'another method\'s order');
  assert.deepEqual((await asGuest(card, { checkout_token: orderOf(card).checkoutToken })).body, { applies: false });
  assert.deepEqual(fake.invalid, []);
});

test('bad input to the extension endpoint gets an error naming what is wrong', async () => {
  const r = await call('POST', '/shopify/api/checkout', await extensionToken(), { order_id: 'gid://shopify/Product/1' });
  assert.equal(r.status, 422);
  assert.equal(r.body.error.code, 'invalid_order_id');
  const anonymous = await call('POST', '/shopify/api/checkout', null, { order_id: '1' });
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('access-control-allow-origin'), '*', 'the extension reads the error');
  const cancelled = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)' });
  orderOf(cancelled).cancelledAt = new Date().toISOString();
  const c = await checkout(cancelled);
  assert.equal(c.status, 409);
  assert.equal(c.body.error.code, 'order_cancelled');
  const paid = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)' });
  orderOf(paid).transactionsList[0].status = 'SUCCESS';
  orderOf(paid).transactionsList[0].manuallyCapturable = false;
  assert.equal((await checkout(paid)).body.error.code, 'order_not_payable');
});

test('orders/cancelled cancels the invoice; a replayed delivery is applied once; a wrong HMAC is refused', async () => {
  const order = fake.placeOrder(SHOP, { gateway: 'USDT (Stablegate)', amount: '5.00' });
  const { invoice } = (await checkout(order)).body;
  orderOf(order).cancelledAt = new Date().toISOString();
  const url = `${s.app.url}/shopify/webhooks`;
  const payload = fake.orderPayload(orderOf(order));
  const forged = await fake.deliver(url, { topic: 'orders/cancelled', shop: SHOP, payload, secret: 'wrong' });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.error.code, 'invalid_webhook_hmac');
  assert.equal((await s.app.invoices.get(invoice.id)).state, 'new', 'nothing done on a forged delivery');
  const first = await fake.deliver(url, { topic: 'orders/cancelled', shop: SHOP, payload });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal((await s.app.invoices.get(invoice.id)).state, 'invalid');
  const replay = await fake.deliver(url, { topic: 'orders/cancelled', shop: SHOP, payload, webhookId: first.webhookId });
  assert.deepEqual([replay.status, replay.body], [200, { duplicate: true }]);
  const events = await s.app.db.all(`SELECT type FROM events WHERE invoice_id = ? ORDER BY created_at`, [invoice.id]);
  assert.equal(events.filter((e) => e.type === 'invoice.invalid').length, 1);
});

/** An order of the shop's method with its invoice (one network: the amount is fixed at once). */
async function orderWithInvoice(amount, shop = SHOP) {
  const order = fake.placeOrder(shop, { gateway: 'USDT (Stablegate)', amount, currency: 'EUR' });
  const r = await checkout(order);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { order, invoice: r.body.invoice, record: s.app.invoices.record(await s.app.invoices.get(r.body.invoice.id)) };
}

test('a payment in review is noted on the order and never captured on its own', async () => {
  const { order, invoice, record } = await orderWithInvoice('3.00');
  assert.equal((await s.api('POST', `/api/v1/invoices/${invoice.id}/review`)).status, 200);
  await s.pay(record.recipient, record.amount_due, { mine: 3 });
  await s.waitInvoice(invoice.id, (i) => i.exception === 'needs_review' && i.amount_paid !== '0');
  await until('the review note', () => /needs your review/.test(orderOf(order).note ?? ''));
  await s.app.shopify.actions.runOnce();
  assert.equal(fake.captures(SHOP, order.id).length, 0);
  assert.equal(orderOf(order).displayFinancialStatus, 'PENDING');
});

test('expiry: an unpaid order is cancelled with restock, once', async () => {
  const unpaid = await orderWithInvoice('4.00');
  await s.advance(901);
  await s.waitInvoice(unpaid.invoice.id, (i) => i.state === 'expired');
  await until('the cancellation', () => orderOf(unpaid.order).cancelledAt !== null);
  assert.deepEqual(orderOf(unpaid.order).cancel, { reason: 'DECLINED', refund: false, restock: true, notifyCustomer: false, staffNote: `Stablegate invoice ${unpaid.invoice.id} expired unpaid.` });
  const rows = () => s.app.db.all(`SELECT status, result FROM shopify_actions WHERE invoice_id = ? AND action = 'expire'`, [unpaid.invoice.id]);
  await until('the action done', async () => (await rows())[0]?.status === 'done');
  await s.app.shopify.actions.runOnce();
  assert.deepEqual(await rows(), [{ status: 'done', result: 'cancelled' }]);
});

const claim = (id, tx) => s.api('POST', `/api/v1/checkout/${id}/claim`, { tx_hash: tx });
const resolve = (id, decision) => s.api('POST', `/api/v1/invoices/${id}/review/resolve`, { decision, note: 'checked by the test' });
/** Waits until the watcher has read the chain up to its head (a transfer is in the ledger). */
const waitCursor = async () => {
  const head = Number(await s.net.rpc('eth_blockNumber'));
  await until(`the watcher at block ${head}`, async () => (await s.api('GET', '/health')).body.networks.devnet.cursors.usdt >= head);
};
const actionRows = (invoiceId, action) => s.app.db.all(`SELECT status, result FROM shopify_actions WHERE invoice_id = ? AND action = ? ORDER BY event_id`, [invoiceId, action]);
const captureCalls = (order) => fake.requests.filter((r) => r.operation === 'StablegateOrderCapture' && r.variables.input.id === order.id);

test('a partial payment is credited only through a claim, which goes to review: nothing captured until the merchant accepts, then on expiry only what was paid', async () => {
  // The engine matches a transfer by its exact unique amount; 5 of 10.80 USDT matches nothing
  // and is credited when the customer claims its hash, for the merchant's review.
  const { order, invoice, record } = await orderWithInvoice('10.00');
  const part = await s.pay(record.recipient, '5000000', { mine: 3 });
  await waitCursor();
  const claimed = await claim(invoice.id, part.tx);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  assert.deepEqual([claimed.body.state, claimed.body.exception, claimed.body.amount_paid], ['new', 'needs_review', '5']);
  await until('the review note', () => /needs your review/.test(orderOf(order).note ?? ''));
  await s.app.shopify.actions.runOnce();
  assert.equal(captureCalls(order).length, 0, 'a review is never captured on its own');
  assert.equal((await checkout(order)).body.invoice.exception, 'needs_review', 'the extension shows it in review');

  const accepted = await resolve(invoice.id, 'accept');
  assert.deepEqual([accepted.status, accepted.body.state, accepted.body.exception], [200, 'new', 'paid_partial']);
  // Partly paid and still open: the customer may send the rest; nothing is captured yet.
  await s.app.shopify.actions.runOnce();
  assert.equal(captureCalls(order).length, 0);
  const shown = (await checkout(order)).body.invoice;
  assert.equal(shown.amount_paid, '5');
  assert.equal(Number(shown.amount_remaining).toFixed(2), (Number(shown.amount_due) - 5).toFixed(2));

  await s.advance(901);
  await s.waitInvoice(invoice.id, (i) => i.state === 'expired');
  await until('the capture', () => captureCalls(order).length === 1);
  // 5 USDT at the invoice's locked 1.08 USDT per EUR is 4.6296… EUR: 4.62 captured, never more.
  assert.deepEqual(fake.captures(SHOP, order.id).map((c) => c.amountSet.presentmentMoney), [{ amount: '4.62', currencyCode: 'EUR' }]);
  assert.equal(orderOf(order).displayFinancialStatus, 'PARTIALLY_PAID');
  assert.equal(orderOf(order).cancelledAt, null, 'a partly paid order is not cancelled on expiry');
  await until('the capture recorded', async () => (await actionRows(invoice.id, 'capture'))[0]?.status === 'done');
  await s.app.shopify.actions.runOnce();
  assert.deepEqual(await actionRows(invoice.id, 'capture'), [{ status: 'done', result: 'captured 4.62 EUR' }]);
  assert.deepEqual(await actionRows(invoice.id, 'expire'), [], 'no cancellation');
});

test('an overpayment is a claim in review too; once accepted, the order\'s amount is captured, never more', async () => {
  const { order, invoice, record } = await orderWithInvoice('6.00');
  const over = await s.pay(record.recipient, (BigInt(record.amount_due) + 2000000n).toString(), { mine: 3 });
  await waitCursor();
  const claimed = await claim(invoice.id, over.tx);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  assert.equal(claimed.body.exception, 'needs_review');
  await until('the review note', () => /needs your review/.test(orderOf(order).note ?? ''));
  await s.app.shopify.actions.runOnce();
  assert.equal(captureCalls(order).length, 0);
  assert.equal((await resolve(invoice.id, 'accept')).status, 200);
  const settled = await s.waitInvoice(invoice.id, (i) => i.state === 'settled');
  assert.equal(settled.exception, 'paid_over');
  await until('the capture', () => captureCalls(order).length === 1);
  assert.deepEqual(fake.captures(SHOP, order.id).map((c) => c.amountSet.presentmentMoney), [{ amount: '6.00', currencyCode: 'EUR' }]);
  assert.equal(orderOf(order).displayFinancialStatus, 'PAID');
  await s.app.shopify.actions.runOnce();
  assert.equal(captureCalls(order).length, 1);
});

test('expiry with "leave pending": the order stays open, and a late payment of the exact amount is captured in full', async () => {
  const admin = await adminToken();
  assert.equal((await call('POST', '/shopify/api/settings', admin, { on_expiry: 'leave' })).status, 200);
  try {
    const { order, invoice, record } = await orderWithInvoice('7.00');
    // Well past the expiry: the devnet's block times trail the server's clock by a second or two,
    // and a transfer counts as late only in a block after expires_at.
    await s.advance(930);
    await s.waitInvoice(invoice.id, (i) => i.state === 'expired');
    await until('the expiry recorded', async () => (await actionRows(invoice.id, 'expire'))[0]?.status === 'done');
    assert.deepEqual(await actionRows(invoice.id, 'expire'), [{ status: 'done', result: 'left_pending' }]);
    assert.equal(orderOf(order).cancelledAt, null);
    assert.match(orderOf(order).note, /expired unpaid; the order is left pending/);
    // Within the monitoring window the exact amount still finds its invoice: paid_late.
    await s.pay(record.recipient, record.amount_due, { mine: 3 });
    const late = await s.waitInvoice(invoice.id, (i) => i.state === 'settled');
    assert.equal(late.exception, 'paid_late');
    await until('the capture', () => captureCalls(order).length === 1);
    assert.deepEqual(fake.captures(SHOP, order.id)[0].amountSet.presentmentMoney, { amount: '7.00', currencyCode: 'EUR' });
    assert.equal(orderOf(order).displayFinancialStatus, 'PAID');
  } finally {
    assert.equal((await call('POST', '/shopify/api/settings', admin, { on_expiry: 'cancel' })).status, 200);
  }
});

test('a cancelled order paid anyway is never captured: paid late after the expiry cancelled it, or paid after the merchant cancelled it', async () => {
  // Expiry cancels the order (on_expiry = cancel); the customer pays late anyway.
  const expired = await orderWithInvoice('8.00');
  await s.advance(930);
  await s.waitInvoice(expired.invoice.id, (i) => i.state === 'expired');
  await until('the cancellation', () => orderOf(expired.order).cancelledAt !== null);
  await s.pay(expired.record.recipient, expired.record.amount_due, { mine: 3 });
  await s.waitInvoice(expired.invoice.id, (i) => i.state === 'settled' && i.exception === 'paid_late');
  await until('the late payment recorded', async () => (await actionRows(expired.invoice.id, 'capture'))[0]?.status === 'done');
  assert.deepEqual(await actionRows(expired.invoice.id, 'capture'), [{ status: 'done', result: 'paid_after_cancel' }]);
  assert.equal(captureCalls(expired.order).length, 0);
  assert.match(orderOf(expired.order).note, /paid on devnet \(tx 0x[0-9a-f]{64}\) after the order was cancelled; nothing was captured/);

  // The merchant cancels in Shopify: orders/cancelled cancels the invoice. The engine still
  // credits a payment of its exact amount, into review (paid while cancelled): noted, never
  // captured; and accepting the review captures nothing on a cancelled order either.
  const cancelled = await orderWithInvoice('9.00');
  orderOf(cancelled.order).cancelledAt = new Date().toISOString();
  const delivered = await fake.deliver(`${s.app.url}/shopify/webhooks`, { topic: 'orders/cancelled', shop: SHOP, payload: fake.orderPayload(orderOf(cancelled.order)) });
  assert.equal(delivered.status, 200);
  assert.equal((await s.app.invoices.get(cancelled.invoice.id)).state, 'invalid');
  await s.pay(cancelled.record.recipient, cancelled.record.amount_due, { mine: 3 });
  await s.waitInvoice(cancelled.invoice.id, (i) => i.state === 'settled' && i.exception === 'needs_review');
  await until('the review noted', async () => (await actionRows(cancelled.invoice.id, 'review')).some((r) => r.status === 'done'));
  assert.match(orderOf(cancelled.order).note, /needs your review/);
  assert.equal((await resolve(cancelled.invoice.id, 'accept')).status, 200);
  await until('the accepted payment recorded', async () => (await actionRows(cancelled.invoice.id, 'capture')).some((r) => r.status === 'done'));
  await s.app.shopify.actions.runOnce();
  assert.deepEqual(await actionRows(cancelled.invoice.id, 'capture'), [{ status: 'done', result: 'paid_after_cancel' }]);
  assert.equal(captureCalls(cancelled.order).length, 0);
});

test('refunds/create is recorded on the order\'s invoice once per refund; the invoice (USDT) is left as it is', async () => {
  const { order, invoice, record } = await orderWithInvoice('3.50');
  await s.pay(record.recipient, record.amount_due, { mine: 3 });
  await s.waitInvoice(invoice.id, (i) => i.state === 'settled');
  await until('the capture', () => captureCalls(order).length === 1);
  const numeric = Number(order.id.split('/').pop());
  const refund = {
    id: 5551, order_id: numeric, created_at: '2026-01-02T10:00:00Z', note: 'damaged', refund_line_items: [],
    transactions: [
      { id: 91, kind: 'refund', status: 'success', amount: '3.50', currency: 'EUR', gateway: 'USDT (Stablegate)' },
      { id: 92, kind: 'refund', status: 'failure', amount: '3.50', currency: 'EUR', gateway: 'USDT (Stablegate)' },
    ],
  };
  const url = `${s.app.url}/shopify/webhooks`;
  // Twice: a second delivery of the same refund (another webhook id) is not recorded again.
  for (let i = 0; i < 2; i++) assert.equal((await fake.deliver(url, { topic: 'refunds/create', shop: SHOP, payload: refund })).status, 200);
  const link = await s.app.shopify.orders.link(SHOP, order.id);
  assert.deepEqual(JSON.parse(link.refunds), [{ id: 5551, created_at: '2026-01-02T10:00:00Z', amounts: [{ amount: '3.50', currency: 'EUR' }] }]);
  const after = await s.app.invoices.get(invoice.id);
  assert.deepEqual([after.state, after.exception], ['settled', null], 'a Shopify refund moves no USDT');
  // A refund of an order without an invoice, or of another shop, changes nothing.
  const unknown = { ...refund, id: 5552, order_id: 424242 };
  assert.equal((await fake.deliver(url, { topic: 'refunds/create', shop: SHOP, payload: unknown })).status, 200);
  assert.equal((await fake.deliver(url, { topic: 'refunds/create', shop: OTHER_SHOP, payload: { ...refund, id: 5553 } })).status, 200);
  assert.equal(JSON.parse((await s.app.shopify.orders.link(SHOP, order.id)).refunds).length, 1);
});

test('the review queue in the embedded page: the shop\'s invoices in review, resolved there, never another shop\'s', async () => {
  const { order, invoice } = await orderWithInvoice('2.50');
  assert.equal((await s.api('POST', `/api/v1/invoices/${invoice.id}/review`)).status, 200);
  const listed = await call('GET', '/shopify/api/reviews', await adminToken());
  assert.equal(listed.status, 200);
  const mine = listed.body.data.find((r) => r.invoice_id === invoice.id);
  assert.deepEqual([mine.order_id, mine.order_name, mine.pay_url], [order.id, order.name, invoice.pay_url]);
  assert.deepEqual((await call('GET', '/shopify/api/reviews', await adminToken(OTHER_STORE))).body.data.filter((r) => r.invoice_id === invoice.id), []);
  const foreign = await call('POST', '/shopify/api/reviews/resolve', await adminToken(OTHER_STORE), { invoice_id: invoice.id, decision: 'accept', note: 'x' });
  assert.deepEqual([foreign.status, foreign.body.error.code], [404, 'invoice_not_found']);
  const fromExtension = await call('POST', '/shopify/api/reviews/resolve', await extensionToken(), { invoice_id: invoice.id, decision: 'accept', note: 'x' });
  assert.equal(fromExtension.status, 403);
  const bad = await call('POST', '/shopify/api/reviews/resolve', await adminToken(), { invoice_id: invoice.id, decision: 'maybe', note: 'x' });
  assert.deepEqual([bad.status, bad.body.error.code], [422, 'invalid_decision']);
  const rejected = await call('POST', '/shopify/api/reviews/resolve', await adminToken(), { invoice_id: invoice.id, decision: 'reject', note: 'not paid' });
  assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
  assert.equal(rejected.body.invoice.exception, null);
  assert.equal((await call('GET', '/shopify/api/reviews', await adminToken())).body.data.some((r) => r.invoice_id === invoice.id), false);
});

test('the shop\'s time to pay (expires_in) is its invoices\' expiry', async () => {
  const admin = await adminToken();
  assert.equal((await call('POST', '/shopify/api/settings', admin, { expires_in: 3600 })).status, 200);
  try {
    const { invoice } = await orderWithInvoice('1.25');
    const row = await s.app.invoices.get(invoice.id);
    assert.equal(row.expires_at - row.created_at, 3600);
  } finally {
    assert.equal((await call('POST', '/shopify/api/settings', admin, { expires_in: null })).status, 200);
  }
});

test('app/uninstalled drops the token and stops the shop\'s unpaid invoices; shop/redact forgets the shop', async () => {
  const order = fake.placeOrder(OTHER_SHOP, { gateway: 'USDT' });
  const r = await checkout(order, OTHER_STORE);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const url = `${s.app.url}/shopify/webhooks`;
  assert.equal((await fake.deliver(url, { topic: 'app/uninstalled', shop: OTHER_SHOP, payload: { id: 1, domain: OTHER_SHOP } })).status, 200);
  assert.equal(await s.app.shopify.shops.token(OTHER_SHOP), null);
  assert.equal((await s.app.invoices.get(r.body.invoice.id)).state, 'invalid');
  assert.equal((await checkout(order, OTHER_STORE)).status, 200, 'its invoice can still be shown');
  assert.equal((await fake.deliver(url, { topic: 'shop/redact', shop: OTHER_SHOP, payload: { shop_id: 2, shop_domain: OTHER_SHOP } })).status, 200);
  for (const table of ['shopify_shops', 'shopify_orders', 'shopify_actions']) {
    assert.equal(Number((await s.app.db.get(`SELECT COUNT(*) AS n FROM ${table} WHERE shop = ?`, [OTHER_SHOP])).n), 0, table);
  }
});

test('customers/data_request exports what Stablegate holds on the orders; customers/redact forgets their links', async () => {
  const { order, invoice } = await orderWithInvoice('2.00');
  const numeric = Number(order.id.split('/').pop());
  const url = `${s.app.url}/shopify/webhooks`;
  const request = { shop_id: 1, shop_domain: SHOP, orders_requested: [numeric], customer: { id: 7, email: 'c@example.com', phone: null }, data_request: { id: 99 } };
  assert.equal((await fake.deliver(url, { topic: 'customers/data_request', shop: SHOP, payload: request })).status, 200);
  const exported = await call('GET', '/shopify/api/data-requests', await adminToken());
  assert.equal(exported.status, 200);
  assert.equal(exported.body.data[0].orders[0].invoice.id, invoice.id);
  // Another shop's admin sees none of it.
  assert.deepEqual((await call('GET', '/shopify/api/data-requests', await adminToken('third-store'))).body.data, []);
  const redact = { shop_id: 1, shop_domain: SHOP, customer: { id: 7 }, orders_to_redact: [numeric] };
  assert.equal((await fake.deliver(url, { topic: 'customers/redact', shop: SHOP, payload: redact })).status, 200);
  assert.equal(await s.app.shopify.orders.link(SHOP, order.id), undefined);
  assert.deepEqual((await call('GET', '/shopify/api/data-requests', await adminToken())).body.data, []);
  assert.deepEqual(fake.invalid, []);
});
