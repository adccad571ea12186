// End to end in real Chromium on the devnet: an invoice created through the API, the hosted pay
// page with the <stablegate-checkout> widget, the payment (the page's demo-wallet button, which
// sends a real transfer on the devnet), the widget following the server to settled, and the
// signed webhook verified by a local receiver.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack } = require('./helpers');

const WIDGET = path.resolve(__dirname, '..', '..', 'crates', 'wasm', 'pkg', 'widget', 'stablegate-checkout.js');
const CHROMIUM = '/usr/bin/chromium';
let playwright = null;
try {
  playwright = require('playwright-core'); // the root package.json's devDependency
} catch {
  playwright = null;
}
// Skipped only while a prerequisite is missing, and saying which: the widget is built by
// scripts/build-wasm.sh, playwright-core comes with the root `npm ci`, chromium from apt.
const missing = !fs.existsSync(WIDGET)
  ? `the widget is not built (${WIDGET}); run scripts/build-wasm.sh`
  : !playwright
    ? 'playwright-core is not installed at the repo root (npm ci)'
    : !fs.existsSync(CHROMIUM)
      ? `${CHROMIUM} is missing (apt-get install chromium)`
      : null;

let s;
let context;
let profile;
before(async () => {
  if (missing) return;
  s = await startStack('e2e', { raw: { demo: { wallet: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' } } });
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-e2e-profile-'));
  context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await context?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  await s?.stop();
});

test('pay page in Chromium: the widget shows the invoice, the demo wallet pays, it settles, the webhook is verified', { skip: missing ?? false, timeout: 90000 }, async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '42.42', networks: ['devnet'], order_id: 'e2e-1' })).body;
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('console', (m) => {
    // Chromium warns about a preload the page then requests differently (or never uses).
    if (m.type() === 'error' || /preload/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  const wasmRequests = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/stablegate_wasm_bg.wasm')) wasmRequests.push(r.url());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  await page.goto(inv.pay_url);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor({ timeout: 20000 });
  // The widget renders the amount from the server's document (in its shadow root).
  await page.getByText('42.42', { exact: false }).first().waitFor({ timeout: 10000 });

  await page.click('#demo-pay');
  await page.locator('#demo-result').filter({ hasText: 'Sent: 0x' }).waitFor({ timeout: 15000 });
  await page.locator('stablegate-checkout[data-state="processing"]').waitFor({ timeout: 20000 });
  await s.net.mine(3);
  await page.locator('stablegate-checkout[data-state="settled"]').waitFor({ timeout: 20000 });
  assert.equal(await widget.getAttribute('data-exception'), null);

  const settled = await s.receiver.waitFor((e) => e.type === 'invoice.settled' && e.data.invoice.id === inv.id);
  const delivery = s.receiver.received.find((r) => r.event.id === settled.id);
  assert.equal(delivery.verified, true, 'the receiver verified the Stablegate-Signature');
  assert.equal(settled.data.invoice.order_id, 'e2e-1');
  assert.equal(settled.data.invoice.amount_paid, '42.42');
  assert.deepEqual(problems, [], 'no console errors (CSP, wasm, fetch) and no unused preload');
  // The page preloads the wasm (paypage.ts WIDGET_HEAD): the module's own fetch reuses it.
  assert.equal(wasmRequests.length, 1, `the wasm is downloaded once: ${wasmRequests.join(', ')}`);
});

test('several networks: the customer chooses in the widget, then pays', { skip: missing ?? false, timeout: 90000 }, async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { fiat_amount: '10', currency: 'EUR' })).body;
  assert.equal(inv.network, null);
  const page = await context.newPage();
  await page.goto(inv.pay_url);
  const widget = page.locator('stablegate-checkout[data-state="new"]');
  await widget.waitFor({ timeout: 20000 });
  // The choice buttons name the networks; pick the plain devnet USDT.
  await page.getByRole('button', { name: /Local devnet/ }).first().click();
  for (let i = 0; i < 100; i++) {
    if ((await s.api('GET', `/api/v1/invoices/${inv.id}`)).body.network) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const chosen = (await s.api('GET', `/api/v1/invoices/${inv.id}`)).body;
  assert.equal(chosen.network, 'devnet');
  assert.equal(chosen.amount_due, '10.8');
  await s.pay(chosen.recipient, chosen.amount_due_units);
  await s.net.mine(3);
  await page.locator('stablegate-checkout[data-state="settled"]').waitFor({ timeout: 20000 });
  await page.close();
});
