// The BUILT extension bundles, run end to end in real Chromium (playwright-core) against the real
// server (and the FAKE Shopify of test/fake-shopify.js behind it): each bundle is built as Shopify
// CLI builds it, loaded in a page of another origin with the FAKE `shopify` global of
// test/fake-ui-extensions.js, and what it renders is read back: the exact amount, the QR (decoded
// from a screenshot) equal to the status document's payment_uri, the pay page button; nothing
// for another method's order; the fallback sentence when the server cannot be reached.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium, startShopify, adminToken, extensionToken, buildExtension } = require('./shopify-helpers');
const { fakeShopifyGlobal, componentsScript } = require('./fake-ui-extensions');

const { browser, skip } = chromium();

const STORE = 'block-store';
const SHOP = `${STORE}.myshopify.com`;
const THANK_YOU = 'purchase.thank-you.block.render';
const ORDER_STATUS = 'customer-account.order-status.block.render';
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-shopify-blocks-'));

let t;
let b;
let host; // the extension's page: another origin than the server's, as Shopify's sandbox is
const files = new Map();
const toServer = []; // requests the blocks made to the server
before(async () => {
  if (skip) return;
  t = await startShopify('shopify-blocks');
  await t.call('GET', '/shopify/api/settings', await adminToken(STORE)); // installs the shop
  // A closed port: the server that cannot be reached.
  const closed = http.createServer();
  await new Promise((r) => closed.listen(0, '127.0.0.1', r));
  const down = `http://127.0.0.1:${closed.address().port}`;
  await new Promise((r) => closed.close(r));
  for (const name of ['thank-you', 'order-status']) {
    files.set(`/${name}.js`, Buffer.from(await buildExtension(name, { serverUrl: t.s.app.url })));
    files.set(`/${name}-down.js`, Buffer.from(await buildExtension(name, { serverUrl: down })));
  }
  files.set('/components.js', Buffer.from(await componentsScript()));
  files.set('/', Buffer.from('<!doctype html><html><head><meta charset="utf-8"><script src="/components.js"></script></head><body style="font:14px system-ui;margin:16px"></body></html>'));
  host = http.createServer((req, res) => {
    const body = files.get(req.url);
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  b = await browser.launch({ viewport: { width: 480, height: 700 } });
  b.context.on('request', (r) => { if (r.url().startsWith(t.s.app.url)) toServer.push(r.url()); });
});
after(async () => {
  if (b) await b.close();
  if (host) await new Promise((r) => host.close(r));
  if (t) await t.stop();
});

/** Loads bundle `file` in a new page with the fake `shopify` of `options`; returns the page. */
async function run(file, options) {
  const page = await b.context.newPage();
  await page.goto(`http://127.0.0.1:${host.address().port}/`);
  await page.evaluate(fakeShopifyGlobal({ token: await extensionToken(STORE), ...options }));
  await page.evaluate(async (url) => (await import(url)).default(), `http://127.0.0.1:${host.address().port}${file}`);
  return page;
}
const status = async (invoiceId) => (await (await fetch(`${t.s.app.url}/api/v1/checkout/${invoiceId}`)).json());

test('the Thank-you bundle shows a guest\'s USDT order\'s exact amount, a QR of its payment URI and the pay page button', { skip }, async (t2) => {
  // A guest (the session token names no customer): the bundle sends the page's checkout token, which the server matches.
  const order = t.fake.placeOrder(SHOP, { gateway: 'USDT', amount: '21.60', currency: 'EUR', customer: null });
  await t.call('POST', '/shopify/api/settings', await adminToken(STORE), { networks: ['devnet'] });
  const page = await run('/thank-you.js', { token: await extensionToken(STORE, null), target: THANK_YOU, orderId: order.id, checkoutToken: order.checkoutToken, paymentTypes: ['manualPayment'] });
  await page.waitForSelector('s-qr-code canvas');
  const link = await t.s.app.shopify.orders.link(SHOP, order.id);
  const doc = await status(link.invoice_id);
  assert.equal(await page.textContent('s-heading'), 'Pay with USDT');
  assert.equal(await page.textContent('s-text[type="strong"]'), `${doc.amount_due} ${doc.token.symbol}`);
  assert.equal(await page.getAttribute('s-qr-code', 'content'), doc.payment_uri);
  assert.equal(await page.getAttribute('s-button', 'href'), `${t.s.app.url}/pay/${link.invoice_id}`);
  assert.equal(await page.textContent('s-button'), 'Open payment page');
  const file = path.join(SHOTS, 'thank-you.png');
  const png = await page.screenshot({ path: file, fullPage: true });
  t2.diagnostic(`screenshot: ${file}`);
  assert.equal(browser.decodeQr(png), doc.payment_uri, 'the QR on screen decodes to the status document\'s payment_uri');
  await page.close();
});

test('only a manual method\'s order: the Thank-you block of a card order renders nothing and asks nothing; Order status hides another method\'s order', { skip }, async () => {
  const asked = toServer.length;
  const card = t.fake.placeOrder(SHOP, { gateway: 'shopify_payments', manual: false });
  const page = await run('/thank-you.js', { target: THANK_YOU, orderId: card.id, paymentTypes: ['creditCard'] });
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => document.body.children.length), 0);
  assert.equal(toServer.length, asked, 'no request to the server');
  await page.close();
  // Order status exposes no payment option: the server answers applies: false, the block hides.
  const status2 = await run('/order-status.js', { target: ORDER_STATUS, orderId: card.id });
  await status2.waitForFunction(() => window.__tokensGiven === 1);
  await status2.waitForTimeout(500);
  assert.equal(toServer.length, asked + 1, 'asked once');
  assert.equal(await status2.evaluate(() => document.body.children.length), 0);
  await status2.close();
});

test('the Order status bundle shows the same invoice for a USDT order (and a cancelled order\'s block asks nothing)', { skip }, async () => {
  const order = t.fake.placeOrder(SHOP, { gateway: 'USDT', amount: '4.00', currency: 'EUR' });
  const page = await run('/order-status.js', { target: ORDER_STATUS, orderId: order.id });
  await page.waitForSelector('s-qr-code canvas');
  const link = await t.s.app.shopify.orders.link(SHOP, order.id);
  assert.equal(await page.getAttribute('s-qr-code', 'content'), (await status(link.invoice_id)).payment_uri);
  await page.close();
  const asked = toServer.length;
  const cancelled = await run('/order-status.js', { target: ORDER_STATUS, orderId: order.id, cancelled: true });
  await cancelled.waitForTimeout(300);
  assert.equal(await cancelled.evaluate(() => document.body.children.length), 0);
  assert.equal(toServer.length, asked);
  await cancelled.close();
});

test('with the server down, the block ends in the fallback sentence', { skip }, async (t2) => {
  const order = t.fake.placeOrder(SHOP, { gateway: 'USDT' });
  const page = await b.context.newPage();
  await page.clock.install(); // the retries' waits (about 30 s in all) pass at once
  await page.goto(`http://127.0.0.1:${host.address().port}/`);
  await page.evaluate(fakeShopifyGlobal({ token: await extensionToken(STORE), target: THANK_YOU, orderId: order.id, paymentTypes: ['manualPayment'] }));
  await page.evaluate(async (url) => (await import(url)).default(), `http://127.0.0.1:${host.address().port}/thank-you-down.js`);
  const { FALLBACK } = await import(path.join(__dirname, '..', 'extensions', 'shared', 'block.mjs'));
  assert.match(await page.textContent('body'), /Loading the USDT payment details/);
  for (let i = 0; i < 40 && !(await page.textContent('body')).includes(FALLBACK); i++) {
    await page.clock.runFor(5000);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await page.textContent('s-banner s-text'), FALLBACK);
  assert.equal(await page.getAttribute('s-banner', 'tone'), 'warning');
  const file = path.join(SHOTS, 'server-down.png');
  await page.screenshot({ path: file, fullPage: true });
  t2.diagnostic(`screenshot: ${file}`);
  await page.close();
});
