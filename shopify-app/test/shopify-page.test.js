// The embedded settings page in real Chromium (playwright-core), against the server and the FAKE
// Shopify of test/fake-shopify.js; App Bridge and Polaris are the FAKES of
// test/fake-shopify-admin.js (Shopify's CDN cannot be reached here). The page loads with a valid
// admin session token, saves every setting, shows the core's refusal of a bad address naming it,
// and does nothing without a token. Screenshots go to a temporary directory (printed).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium, startShopify, adminToken, extensionToken } = require('./shopify-helpers');
const { routeAdmin } = require('./fake-shopify-admin');

const { browser, skip } = chromium();

const STORE = 'page-store';
const SHOP = `${STORE}.myshopify.com`;
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-shopify-page-'));

let t;
let b;
let page;
/** What the fake App Bridge's idToken() gives on the next load. */
let token = async () => adminToken(STORE);
before(async () => {
  if (skip) return;
  t = await startShopify('shopify-page');
  b = await browser.launch({ viewport: { width: 720, height: 1100 } });
  await routeAdmin(b.context, () => token());
  page = await b.context.newPage();
});
after(async () => {
  if (b) await b.close();
  if (t) await t.stop();
});

const open = async () => {
  await page.goto(`${t.s.app.url}/shopify?embedded=1&shop=${SHOP}&host=YWRtaW4`);
};
const banner = async (tone) => {
  await page.waitForSelector(`#status[tone="${tone}"]:not([hidden])`);
  return page.textContent('#status');
};
const shot = async (name) => {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
};
const devnet = () => [`0x${crypto.randomBytes(20).toString('hex')}`, `0x${crypto.randomBytes(20).toString('hex')}`];

test('with a valid admin session token the page loads the shop\'s settings and saves every one of them', { skip }, async (t2) => {
  await open();
  await page.waitForFunction(() => document.querySelector('#payment_method input')?.value === 'USDT');
  assert.equal(await page.locator('#networks [data-network]').count(), 2, 'the server\'s two networks');
  assert.equal(await page.locator('#addresses [data-addresses] textarea').count(), 2);
  const mine = devnet();
  await page.fill('#payment_method input', 'USDT (Stablegate)');
  await page.fill('#expires_in input', '30');
  await page.selectOption('#on_expiry select', 'leave');
  await page.check('[data-network="devnet"] input');
  await page.fill('[data-addresses="devnet"] textarea', `${mine[0]}\n${mine[1]}\n`);
  await page.click('#save');
  assert.equal(await banner('success'), 'Settings saved.');
  const sg = require('../dist/core');
  const expected = { payment_method: 'USDT (Stablegate)', on_expiry: 'leave', networks: ['devnet'], expires_in: 1800, addresses: { devnet: mine.map((a) => sg.parseAddress('devnet', a).address) } };
  assert.deepEqual(await t.s.app.shopify.shops.settings(SHOP), expected);
  t2.diagnostic(`screenshot: ${await shot('1-saved')}`);
  // Loaded again, the page shows what is stored (the addresses in the core's display form).
  await open();
  await page.waitForFunction(() => document.querySelector('#payment_method input')?.value === 'USDT (Stablegate)');
  assert.equal(await page.inputValue('[data-addresses="devnet"] textarea'), expected.addresses.devnet.join('\n'));
  assert.equal(await page.inputValue('#expires_in input'), '30');
  assert.equal(await page.inputValue('#on_expiry select'), 'leave');
  assert.equal(await page.isChecked('[data-network="devnet"] input'), true);
  assert.equal(await page.isChecked('[data-network="devnet-tron"] input'), false);
});

test('an invalid address is refused by the core with a message naming it; nothing is saved', { skip }, async (t2) => {
  const before = await t.s.app.shopify.shops.settings(SHOP);
  await open();
  await page.waitForFunction(() => document.querySelector('#payment_method input')?.value === 'USDT (Stablegate)');
  await page.fill('[data-addresses="devnet"] textarea', `${before.addresses.devnet[0]}\n0xdeadbeef`);
  await page.fill('[data-addresses="devnet-tron"] textarea', 'TJ766AGZNELvKviwq7wf7pJVXgrSptaZnz');
  await page.click('#save');
  const text = await banner('critical');
  assert.match(text, /^addresses: devnet\[1\]: "0xdeadbeef" is not a devnet address \(invalid_address: /);
  t2.diagnostic(`screenshot: ${await shot('2-invalid-address')}`);
  assert.deepEqual(await t.s.app.shopify.shops.settings(SHOP), before);
});

test('without an admin session token the page reads and changes nothing; a cross-site request without one is refused', { skip }, async (t2) => {
  token = async () => null;
  await open();
  assert.match(await banner('critical'), /send the Shopify session token as "Authorization: Bearer <token>"/);
  assert.equal(await page.inputValue('#payment_method input'), '', 'no settings shown');
  t2.diagnostic(`screenshot: ${await shot('3-no-token')}`);
  // A checkout extension's token is a valid session token, but not the admin's.
  token = async () => extensionToken(STORE);
  await open();
  assert.match(await banner('critical'), /needs the Shopify admin's session token/);
  // The routes authenticate by the bearer token alone (no cookie): a forged cross-site form
  // post, which a browser sends with no Authorization header, is refused.
  const forged = await page.evaluate(async () => {
    const r = await fetch('/shopify/api/settings', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ on_expiry: 'cancel' }), credentials: 'include' });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.error.code, 'invalid_session_token');
  assert.equal((await t.s.app.shopify.shops.settings(SHOP)).on_expiry, 'leave');
  token = async () => adminToken(STORE);
});
