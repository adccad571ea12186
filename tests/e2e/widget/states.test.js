// <stablegate-checkout> in real Chromium, driven through scripted status documents: what a
// customer sees in each state, in both languages and both themes (screenshots are saved under
// tests/e2e/widget/.artifacts/, git-ignored), the QR decoded back to payment_uri, network choice,
// claims, the reconnect notice, keyboard use and the live region, and that no request leaves the
// page's own origin.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startHost, WIDGET_DIR } = require('./host');
const { launch, decodeQr } = require('./browser');
const { invoiceStory, choiceDoc } = require('./docs');

const ARTIFACTS = path.join(__dirname, '.artifacts');
const RECIPIENT = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';
const TRON_RECIPIENT = 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC';

let host;
let browser;

before(async () => {
  assert.ok(fs.existsSync(path.join(WIDGET_DIR, 'stablegate-checkout.js')), 'build the widget first: scripts/build-wasm.sh');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  host = await startHost();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await host?.close();
});

async function open(name, { lang = 'en', theme, scheme } = {}) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const query = new URLSearchParams({ s: name, lang, ...(theme ? { theme } : {}), ...(scheme ? { scheme } : {}) });
  await page.goto(`${host.url}/page?${query}`);
  const widget = page.locator('stablegate-checkout');
  return { page, widget, errors };
}

const waitState = (widget, state) => widget.and(widget.page().locator(`[data-state="${state}"]`)).waitFor({ timeout: 10000 });

test('new → processing → settled, followed by polling, as a customer reads it', async () => {
  const story = invoiceStory({ base: host.url, name: 'life', recipient: RECIPIENT, amount: '12.34' });
  host.set('life', story.doc());
  const { page, widget, errors } = await open('life');
  await waitState(widget, 'new');
  assert.equal(await widget.getAttribute('data-exception'), null);
  assert.equal(await widget.locator('[data-field="amount"]').innerText(), '12.34 USDT');
  const address = widget.locator('[data-field="address"]');
  assert.equal((await address.innerText()).replace(/\s/g, ''), RECIPIENT);
  // The first and last characters are emphasised against look-alike addresses.
  assert.deepEqual(await address.locator('b').allInnerTexts(), [RECIPIENT.slice(0, 6), RECIPIENT.slice(-5)]);
  assert.equal(await widget.locator('[data-field="network"]').innerText(), 'Local devnet');
  assert.equal(await widget.locator('[data-field="contract"]').innerText(), '0x5FbDB2315678afecb367f032d93F642f64180aa3');
  assert.match(await widget.locator('.advice').innerText(), /must be exactly 12\.34 USDT/);
  assert.match(await widget.locator('.warning').innerText(), /Send USDT on Local devnet only\. .* not issued by Tether/);
  assert.match(await widget.locator('[data-timer]').innerText(), /^Time left: 1[34]:\d\d · Pay by /);
  const qr = widget.locator('.qr');
  assert.equal(await qr.getAttribute('role'), 'img');
  assert.match(await qr.getAttribute('aria-label'), /pay 12\.34 USDT to 0xa0Ee/);
  const shot = await qr.screenshot();
  assert.equal(decodeQr(shot), story.doc().payment_uri);

  const tx = story.pay(story.due);
  host.set('life', story.doc({ head: 97 }));
  await waitState(widget, 'processing');
  assert.match(await widget.locator('.status').innerText(), /Payment seen\. Waiting for confirmations\. Confirmations: 1 of \d+/);
  assert.match(await widget.locator('.transfers').innerText(), /12\.34 USDT · confirming · 0x01010101…010101/);
  story.finalize(tx);
  host.set('life', { ...story.doc({ head: 200 }), poll_after_ms: 0 });
  await waitState(widget, 'settled');
  assert.equal(await widget.locator('.status').innerText(), 'Payment received. Thank you!');
  assert.equal(await widget.locator('a.button').getAttribute('href'), `${host.url}/thanks`);
  await page.waitForFunction(() => document.querySelector('stablegate-checkout').shadowRoot.querySelector('[role="status"][aria-live]').textContent.includes('Payment received'));
  // poll_after_ms 0: the widget stops asking.
  const before = host.requests.filter((r) => r.startsWith('GET /s/life/status')).length;
  await page.waitForTimeout(1200);
  assert.equal(host.requests.filter((r) => r.startsWith('GET /s/life/status')).length, before);
  assert.deepEqual(errors, []);
  await page.close();
});

after(() => {
  // Every request any page made went to the test host: no CDN, no font service, no telemetry.
  const foreign = browser ? browser.requests.filter((u) => !u.startsWith(host.url) && !u.startsWith('data:')) : [];
  assert.deepEqual(foreign, []);
});
