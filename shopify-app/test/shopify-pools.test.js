// Each shop's own receiving addresses (its address pool), against the FAKE Shopify of
// test/fake-shopify.js and the real devnet: the settings take addresses checked by the core, a
// shop's order is invoiced to that shop's addresses only, the watcher watches the union (the
// server's and every installed shop's), a payment to one shop's address never settles another
// shop's order, and an uninstalled shop's addresses stop being watched.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startShopify, adminToken, extensionToken, until } = require('./shopify-helpers');
const sg = require('../dist/core');

/** A fresh devnet address (display form), nobody's key: what a merchant pastes. */
const address = () => sg.parseAddress('devnet', `0x${crypto.randomBytes(20).toString('hex')}`).address;
const A = 'pool-a-store';
const B = 'pool-b-store';
const shopOf = (store) => `${store}.myshopify.com`;
const ADDRESSES = { [A]: [address(), address()], [B]: [address()] };

let t;
before(async () => {
  t = await startShopify('shopify-pools');
});
after(async () => {
  if (t) await t.stop();
});

const settings = async (store, body) => t.call('POST', '/shopify/api/settings', await adminToken(store), body);
const checkout = async (store, order) => t.call('POST', '/shopify/api/checkout', await extensionToken(store), { order_id: order.id });
const watched = async () => (await t.s.app.watcher.receiving(t.s.config.networks.find((n) => n.id === 'devnet'))).map((h) => h.toLowerCase());
const hex = (a) => sg.parseAddress('devnet', a).hex.toLowerCase();

test('settings: a shop\'s receiving addresses are checked by the core; a bad one is refused by name', async () => {
  const bad = await settings(A, { addresses: { devnet: [ADDRESSES[A][0], '0xnot-an-address'] } });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.error.code, 'invalid_addresses');
  assert.match(bad.body.error.message, /devnet\[1\]: "0xnot-an-address" is not a devnet address \(invalid_address: /);
  const tron = await settings(A, { addresses: { 'devnet-tron': ['TJ766AGZNELvKviwq7wf7pJVXgrSptaZnZ'] } });
  assert.equal(tron.status, 422, 'a TRON address with a wrong checksum');
  assert.match(tron.body.error.message, /devnet-tron\[0\]: "TJ766AGZNELvKviwq7wf7pJVXgrSptaZnZ" is not a devnet-tron address/);
  const unknown = await settings(A, { addresses: { bitcoin: ['1abc'] } });
  assert.match(unknown.body.error.message, /"bitcoin" is not a network this server accepts/);
  const twice = await settings(A, { addresses: { devnet: [ADDRESSES[A][0], ADDRESSES[A][0].toLowerCase()] } });
  assert.match(twice.body.error.message, /listed twice/);
  // Networks chosen where the shop has no address: nothing could be offered.
  const none = await settings(A, { networks: ['devnet-tron'], addresses: { devnet: ADDRESSES[A] } });
  assert.equal(none.body.error.code, 'invalid_networks');
  // Saved in the core's display form (lower case in, checksummed out).
  for (const store of [A, B]) {
    const ok = await settings(store, { networks: ['devnet'], addresses: { devnet: ADDRESSES[store].map((a) => a.toLowerCase()) } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.settings.addresses, { devnet: ADDRESSES[store] });
  }
});

test('the watcher watches the server\'s addresses and every installed shop\'s', async () => {
  const set = await watched();
  for (const a of [...t.s.config.networks.find((n) => n.id === 'devnet').addresses, ...ADDRESSES[A], ...ADDRESSES[B]]) assert.ok(set.includes(hex(a)), a);
  assert.equal(new Set(set).size, set.length, 'each once');
});

test('each shop\'s order is paid to its own addresses and captured in its own shop; a payment to A\'s address never settles B\'s order', async () => {
  const orderA = t.fake.placeOrder(shopOf(A), { gateway: 'USDT', amount: '10.00', currency: 'EUR' });
  const orderB = t.fake.placeOrder(shopOf(B), { gateway: 'USDT', amount: '12.00', currency: 'EUR' });
  const a = await checkout(A, orderA);
  const b = await checkout(B, orderB);
  assert.equal(a.status, 200, JSON.stringify(a.body));
  assert.equal(b.status, 200, JSON.stringify(b.body));
  const record = async (r) => t.s.app.invoices.record(await t.s.app.invoices.get(r.body.invoice.id));
  const recA = await record(a);
  const recB = await record(b);
  assert.ok(ADDRESSES[A].includes(recA.recipient), `A's invoice pays A (${recA.recipient})`);
  assert.deepEqual([recB.recipient], ADDRESSES[B]);
  // The payment URI the customer's wallet reads names the shop's address.
  assert.match(b.body.invoice.payment_uri, new RegExp(ADDRESSES[B][0].slice(2), 'i'));

  // B's exact amount, sent to A's address: it matches nothing (recorded unmatched), B stays unpaid.
  await t.s.pay(recA.recipient, recB.amount_due, { mine: 3 });
  await until('the stray transfer recorded', async () => (await t.s.app.db.get(`SELECT COUNT(*) AS n FROM ledger WHERE recipient = ? AND invoice_id IS NULL`, [hex(recA.recipient)])).n > 0);
  await t.s.advance(1); // more blocks: the stray transfer is final, and still credits nobody
  await t.s.net.mine(3);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await t.s.app.invoices.get(b.body.invoice.id)).state, 'new');
  assert.equal((await t.s.app.invoices.get(a.body.invoice.id)).state, 'new');
  assert.deepEqual(t.fake.captures(shopOf(B), orderB.id), []);
  assert.deepEqual(t.fake.captures(shopOf(A), orderA.id), []);

  // Each paid to its own shop's address: each captured in its own shop, once.
  await t.s.pay(recB.recipient, recB.amount_due, { mine: 3 });
  await t.s.pay(recA.recipient, recA.amount_due, { mine: 3 });
  await t.s.waitInvoice(b.body.invoice.id, (i) => i.state === 'settled');
  await t.s.waitInvoice(a.body.invoice.id, (i) => i.state === 'settled');
  await until('both captures', () => t.fake.captures(shopOf(A), orderA.id).length === 1 && t.fake.captures(shopOf(B), orderB.id).length === 1);
  assert.deepEqual(t.fake.captures(shopOf(A), orderA.id)[0].amountSet.presentmentMoney, { amount: '10.00', currencyCode: 'EUR' });
  assert.deepEqual(t.fake.captures(shopOf(B), orderB.id)[0].amountSet.presentmentMoney, { amount: '12.00', currencyCode: 'EUR' });
  assert.deepEqual(t.fake.invalid, []);
});

test('a shop without its own addresses is paid to the server\'s; an uninstalled shop\'s addresses stop being watched', async () => {
  const C = 'pool-c-store';
  const order = t.fake.placeOrder(shopOf(C), { gateway: 'USDT', amount: '3.00' });
  await adminToken(C).then((token) => t.call('GET', '/shopify/api/settings', token));
  await settings(C, { networks: ['devnet'] });
  const r = await checkout(C, order);
  const rec = t.s.app.invoices.record(await t.s.app.invoices.get(r.body.invoice.id));
  assert.ok(t.s.config.networks.find((n) => n.id === 'devnet').addresses.includes(rec.recipient));

  const D = 'pool-d-store';
  const mine = [address()];
  assert.equal((await settings(D, { addresses: { devnet: mine } })).status, 200);
  assert.ok((await watched()).includes(hex(mine[0])));
  const uninstalled = await t.fake.deliver(`${t.s.app.url}/shopify/webhooks`, { topic: 'app/uninstalled', shop: shopOf(D), payload: { id: 4, domain: shopOf(D) } });
  assert.equal(uninstalled.status, 200);
  assert.ok(!(await watched()).includes(hex(mine[0])), 'no longer watched');
  // Shop B's address is still watched: installed, and its settled invoice is in its monitoring window.
  assert.ok((await watched()).includes(hex(ADDRESSES[B][0])));
});

test('an invoice whose network the customer picks later is still paid to its shop\'s addresses (the pool is kept on the invoice)', async () => {
  const E = 'pool-e-store';
  const own = [address()];
  assert.equal((await settings(E, { networks: null, addresses: { devnet: own } })).status, 200);
  const order = t.fake.placeOrder(shopOf(E), { gateway: 'USDT', amount: '6.00' });
  const r = await checkout(E, order);
  assert.equal(r.body.invoice.network, null, 'two tokens on devnet: the customer chooses');
  const doc = await (await fetch(`${t.s.app.url}/api/v1/checkout/${r.body.invoice.id}`)).json();
  assert.deepEqual(doc.choices.map((c) => c.network), ['devnet', 'devnet'], 'only the network the shop has addresses on');
  // The shop changes its addresses meanwhile: the invoice keeps the pool it was made with.
  assert.equal((await settings(E, { addresses: { devnet: [address()] } })).status, 200);
  const chosen = await fetch(`${t.s.app.url}/api/v1/checkout/${r.body.invoice.id}/choose`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ network: 'devnet', token: 'usdt18' }),
  });
  assert.equal(chosen.status, 200, await chosen.clone().text());
  const rec = t.s.app.invoices.record(await t.s.app.invoices.get(r.body.invoice.id));
  assert.deepEqual([rec.token, rec.recipient], ['usdt18', own[0]]);
});
