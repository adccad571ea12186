// Two server processes of the Shopify app on one PostgreSQL (as shared-db.test.js: two apps in
// this test process, one private database, the real devnet) against the FAKE Shopify of
// test/fake-shopify.js. Both run their watchers and their Shopify actions workers at once: every
// invoice event is applied to Shopify exactly once (one orderCapture request per paid order, one
// orderCancel per expired one, one note line per event), an order gets one invoice whichever
// process the extension reaches, and a webhook delivered to both is applied once.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { getJwt, API_KEY, API_SECRET_KEY } = require('@shopify/shopify-api/test-helpers');
const { startStack } = require('./helpers');
const { FakeShopify } = require('./fake-shopify');
const { startApp } = require('../dist/app');
const { parseConfig } = require('../dist/config');

const postgres = process.env.STABLEGATE_TEST_DB === 'postgres';
const skip = postgres ? false : 'several processes share a database only on PostgreSQL (scripts/test-server.sh runs this suite there)';

const STORE = 'two-process-store';
const SHOP = `${STORE}.myshopify.com`;

let s; // process A, with the devnet
let b; // process B: another app on the same database
let fake;
before(async () => {
  if (!postgres) return;
  fake = await new FakeShopify({ apiKey: API_KEY, apiSecret: API_SECRET_KEY }).start();
  fake.install();
  s = await startStack('shopify-shared', {
    env: { SG_SHOPIFY_KEY: API_KEY, SG_SHOPIFY_SECRET: API_SECRET_KEY },
    raw: { shopify: { api_key_env: 'SG_SHOPIFY_KEY', api_secret_env: 'SG_SHOPIFY_SECRET', app_url: 'https://pay.example.com' } },
  });
  b = await startApp(parseConfig(s.raw, s.env, path.join(s.dir, 'b.config.json')), { clock: () => s.app.invoices.clock() });
});
after(async () => {
  if (b) await b.stop();
  if (s) await s.stop();
  if (fake) await fake.stop();
});

const token = async (claims = {}) => (await getJwt(STORE, API_KEY, API_SECRET_KEY, claims)).token;
/** A guest's Thank-you page token (no customer in it): its requests name the order's checkout. */
const extensionToken = () => token({ iss: undefined, dest: SHOP, sub: undefined });
async function checkout(app, order, checkoutToken = fake.shop(SHOP).orders.get(order.id).checkoutToken) {
  const r = await fetch(`${app.url}/shopify/api/checkout`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await extensionToken()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: order.id, checkout_token: checkoutToken }),
  });
  return { status: r.status, body: await r.json() };
}
const until = async (what, check, timeoutMs = 30000) => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
const calls = (operation, order) => fake.requests.filter((r) => r.operation === operation && JSON.stringify(r.variables).includes(`"${order.id}"`));
const orderOf = (order) => fake.shop(SHOP).orders.get(order.id);

test('the shop installs once through either process', { skip }, async () => {
  const [ra, rb] = await Promise.all([s.app, b].map(async (app) => fetch(`${app.url}/shopify/api/settings`, { headers: { authorization: `Bearer ${await token()}` } })));
  assert.deepEqual([ra.status, rb.status], [200, 200]);
  // Two first requests at once may both exchange (Shopify answers both); one token is stored.
  assert.ok(fake.exchanges.length >= 1 && fake.exchanges.length <= 2);
  assert.equal(await s.app.shopify.shops.token(SHOP), await b.shopify.shops.token(SHOP));
  // One network: each invoice has its amount and address at once.
  const set = await fetch(`${b.url}/shopify/api/settings`, { method: 'POST', headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' }, body: JSON.stringify({ networks: ['devnet'] }) });
  assert.equal(set.status, 200);
});

test('each invoice event is applied to Shopify once, with both processes\' workers running', { skip, timeout: 120000 }, async (t) => {
  const orders = Array.from({ length: 6 }, (_, i) => fake.placeOrder(SHOP, { gateway: 'USDT', amount: `${10 + i}.00`, currency: 'EUR' }));
  // The extension reaches either process, several times at once: one invoice per order.
  const answers = await Promise.all(orders.flatMap((order) => [checkout(s.app, order), checkout(b, order), checkout(b, order)]));
  for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
  for (let i = 0; i < orders.length; i++) assert.equal(new Set(answers.slice(3 * i, 3 * i + 3).map((a) => a.body.invoice.id)).size, 1);
  const invoices = orders.map((_, i) => answers[3 * i].body.invoice);

  // Five are paid; the sixth expires unpaid (and is cancelled with restock).
  for (const inv of invoices.slice(0, 5)) {
    const record = s.app.invoices.record(await s.app.invoices.get(inv.id));
    await s.pay(record.recipient, record.amount_due);
  }
  await s.net.mine(3);
  for (const inv of invoices.slice(0, 5)) await s.waitInvoice(inv.id, (i) => i.state === 'settled', 30000);
  await s.advance(930);
  await s.waitInvoice(invoices[5].id, (i) => i.state === 'expired');

  const settledDone = async () => {
    const rows = await s.app.db.all(`SELECT status FROM shopify_actions WHERE action IN ('capture', 'expire') AND shop = ?`, [SHOP]);
    return rows.length === 6 && rows.every((r) => r.status === 'done');
  };
  await until('every action done', settledDone);
  // More turns of both workers at once (a restart, a late change notice) add nothing.
  await Promise.all([s.app.shopify.actions.runOnce(), b.shopify.actions.runOnce(), s.app.shopify.actions.runOnce(), b.shopify.actions.runOnce()]);

  for (let i = 0; i < 5; i++) {
    assert.equal(calls('StablegateOrderCapture', orders[i]).length, 1, `one capture request for ${orders[i].name}`);
    assert.deepEqual(fake.captures(SHOP, orders[i].id).map((c) => c.amountSet.presentmentMoney.amount), [`${10 + i}.00`]);
    assert.equal(orderOf(orders[i]).note.split('\n').filter((line) => line.includes('captured')).length, 1, 'one note line');
  }
  assert.equal(calls('StablegateOrderCancel', orders[5]).length, 1, 'one cancellation');
  assert.equal(calls('StablegateOrderCapture', orders[5]).length, 0);
  assert.ok(orderOf(orders[5]).cancelledAt);

  // One row per (event, action), whichever process recorded and made it.
  const rows = await s.app.db.all(`SELECT event_id, action, COUNT(*) AS n FROM shopify_actions WHERE shop = ? GROUP BY event_id, action`, [SHOP]);
  assert.ok(rows.every((r) => Number(r.n) === 1));
  const makers = await s.app.db.all(`SELECT DISTINCT claimed_by FROM shopify_actions WHERE shop = ? AND claimed_by IS NOT NULL`, [SHOP]);
  t.diagnostic(`actions made by ${makers.map((m) => m.claimed_by.split('#')[0]).filter((v, i, all) => all.indexOf(v) === i).length} process(es)`);
  assert.deepEqual(fake.invalid, []);
});

test('a guest\'s later look through the other process checks its checkout token there too (read from Shopify once)', { skip }, async () => {
  const order = fake.placeOrder(SHOP, { gateway: 'USDT', amount: '5.00', currency: 'EUR', customer: null });
  const { invoice } = (await checkout(s.app, order)).body;
  assert.equal(calls('StablegateOrderCheckout', order).length, 0, 'the process that read the order knows its token');
  // Process B has the invoice (the database) but not the order's checkout token: it asks Shopify, once.
  const wrong = await checkout(b, order, 'f'.repeat(32));
  assert.equal(wrong.status, 404);
  assert.equal(wrong.body.error.code, 'order_not_found');
  assert.equal(calls('StablegateOrderCheckout', order).length, 1);
  const right = await checkout(b, order);
  assert.equal(right.status, 200, JSON.stringify(right.body));
  assert.equal(right.body.invoice.id, invoice.id);
  assert.equal(calls('StablegateOrderCheckout', order).length, 1, 'remembered');
  assert.deepEqual(fake.invalid, []);
});

test('a webhook delivered to both processes at once is applied once', { skip }, async () => {
  const order = fake.placeOrder(SHOP, { gateway: 'USDT', amount: '4.00', currency: 'EUR' });
  const { invoice } = (await checkout(s.app, order)).body;
  orderOf(order).cancelledAt = new Date().toISOString();
  const payload = fake.orderPayload(orderOf(order));
  const webhookId = 'two-process-delivery';
  const answers = await Promise.all([s.app, b].map((app) => fake.deliver(`${app.url}/shopify/webhooks`, { topic: 'orders/cancelled', shop: SHOP, payload, webhookId })));
  assert.deepEqual(answers.map((a) => a.status), [200, 200]);
  assert.deepEqual(answers.map((a) => Boolean(a.body.duplicate)).sort(), [false, true]);
  const events = await s.app.db.all(`SELECT type FROM events WHERE invoice_id = ?`, [invoice.id]);
  assert.equal(events.filter((e) => e.type === 'invoice.invalid').length, 1);
});
