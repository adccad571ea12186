// The words a customer reads, in real Chromium: amounts in their display form ("20.00", never
// "20"), one sentence on why the amount differs from the order's total, every refusal of a claim
// or a network choice as a sentence in the customer's language that says what to do next (never
// the host's message, a code or another invoice's id), labels and the address in one typographic
// style, and nothing wider than a 320 px screen with the longest error. Screenshots land in
// tests/e2e/widget/.artifacts/words-*.png.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startHost, WIDGET_DIR } = require('./host');
const { launch } = require('./browser');
const { invoiceStory, choiceDoc } = require('./docs');

const ARTIFACTS = path.join(__dirname, '.artifacts');
const RECIPIENT = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';
const I18N = path.resolve(__dirname, '../../../crates/wasm/widget/i18n');
const strings = (lang) => JSON.parse(fs.readFileSync(path.join(I18N, `${lang}.json`), 'utf8'));
// What a host may answer; the widget must show none of it.
const HOST_MESSAGE = 'this is exactly the amount invoice inv_someone_else expects; it is that invoice\'s payment';

let host;
let browser;
let phone;

before(async () => {
  assert.ok(fs.existsSync(path.join(WIDGET_DIR, 'stablegate-checkout.js')), 'build the widget first: scripts/build-wasm.sh');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  host = await startHost();
  browser = await launch();
  phone = await launch({ viewport: { width: 320, height: 900 } });
});

after(async () => {
  await phone?.close();
  await browser?.close();
  await host?.close();
});

async function open(context, name, lang = 'en') {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${host.url}/page?${new URLSearchParams({ s: name, lang })}`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor({ timeout: 10000 });
  return { page, widget, errors };
}

/** Elements of the widget (shadow root included) that reach past its box or the screen. */
const overflowing = (page) =>
  page.evaluate(() => {
    const el = document.querySelector('stablegate-checkout');
    const box = el.getBoundingClientRect();
    const out = [];
    for (const node of el.shadowRoot.querySelectorAll('*')) {
      if (node.matches('style, .sr')) continue;
      // An input scrolls its own text (a 66-character hash); only its box must fit.
      const scrolls = !node.matches('input') && node.scrollWidth > node.clientWidth + 1 && getComputedStyle(node).overflowX !== 'visible';
      const r = node.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5 || scrolls) {
        out.push(`${node.tagName.toLowerCase()}.${node.className}: ${Math.round(r.left)}–${Math.round(r.right)} in ${Math.round(box.left)}–${Math.round(box.right)}`);
      }
    }
    if (document.documentElement.scrollWidth > window.innerWidth) out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    return out;
  });

test('amounts in display form, and one sentence on why the amount differs from the order total', async () => {
  const story = invoiceStory({ base: host.url, name: 'total', recipient: RECIPIENT, amount: '20', orderTotal: { amount: '19.99', currency: 'USD' } });
  host.set('total', story.doc());
  const { page, widget, errors } = await open(browser.context, 'total');
  assert.equal(await widget.locator('[data-field="amount"]').innerText(), '20.00 USDT');
  assert.equal(
    await widget.locator('[data-field="unique"]').innerText(),
    'Your order total is 19.99 USD. You pay 20.00 USDT: the last digits are unique to your order, so your payment is recognised automatically.',
  );
  assert.match(await widget.locator('.advice').innerText(), /must be exactly 20\.00 USDT/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'words-total-en.png'), fullPage: true });
  await page.close();

  // Priced in USDT at exactly the amount to pay: nothing to explain.
  const same = invoiceStory({ base: host.url, name: 'same', recipient: RECIPIENT, amount: '20', orderTotal: { amount: '20', currency: 'USDT' } });
  host.set('same', same.doc());
  const plain = await open(browser.context, 'same', 'zh-CN');
  assert.equal(await plain.widget.locator('[data-field="unique"]').count(), 0);
  await plain.page.close();

  const zh = invoiceStory({ base: host.url, name: 'total-zh', recipient: RECIPIENT, amount: '1234.5', orderTotal: { amount: '1234.49', currency: 'USD' } });
  host.set('total-zh', zh.doc());
  const chinese = await open(browser.context, 'total-zh', 'zh-CN');
  assert.equal(await chinese.widget.locator('[data-field="amount"]').innerText(), '1,234.50 USDT');
  assert.match(await chinese.widget.locator('[data-field="unique"]').innerText(), /订单总额为 1,234\.49 USD。您需支付 1,234\.50 USDT/);
  await chinese.page.screenshot({ path: path.join(ARTIFACTS, 'words-total-zh-CN.png'), fullPage: true });
  await chinese.page.close();
  assert.deepEqual(errors, []);
});

test('every claim refusal is the customer\'s sentence for its code, in en and zh-CN: no code, no host message, no id', async () => {
  const story = invoiceStory({ base: host.url, name: 'refusals', recipient: RECIPIENT, amount: '12.34' });
  host.set('refusals', story.doc());
  let answer;
  host.onPost('refusals', 'claim', () => answer);
  for (const lang of ['en', 'zh-CN']) {
    const catalogue = strings(lang);
    const { page, widget } = await open(browser.context, 'refusals', lang);
    await widget.locator('summary').click();
    const field = widget.locator('input[name="tx_hash"]');
    const codes = ['already_credited', 'wrong_token', 'wrong_recipient', 'reserved_for_another_invoice', 'transaction_not_found', 'transaction_failed', 'rate_limited', 'rpc_unavailable', 'something_new'];
    for (const code of codes) {
      answer = { status: code === 'rate_limited' ? 429 : 409, body: { error: { code, message: `${code}: ${HOST_MESSAGE}`, field: 'tx_hash' } } };
      await field.fill(`0x${'ab'.repeat(32)}`);
      await field.press('Enter');
      const alert = widget.getByRole('alert');
      const expected = catalogue[`error_${code}`] ?? catalogue.error_generic;
      await widget.locator('.note.bad', { hasText: expected }).waitFor({ timeout: 5000 });
      const shown = await alert.innerText();
      assert.equal(shown, expected, `${lang} ${code}`);
      assert.doesNotMatch(shown, /inv_|_[a-z]+_|\bHTTP\b/, `${lang} ${code}`);
    }
    await page.close();
  }
});

test('a network that cannot be chosen is a sentence too; a dropped connection says so', async () => {
  host.set('choice-refused', choiceDoc({ base: host.url, name: 'choice-refused' }));
  host.onPost('choice-refused', 'choose', () => ({ status: 503, body: { error: { code: 'amount_band_full', message: 'every slot of the unique-amount band is taken (inv_x)' } } }));
  const { page, widget } = await open(browser.context, 'choice-refused');
  await widget.locator('.choice').first().click();
  await widget.locator('.note.bad', { hasText: strings('en').error_amount_band_full }).waitFor();
  // The request never reaches the host: the customer is told to check their connection.
  await page.route('**/choose', (route) => route.abort('connectionreset'));
  await widget.locator('.choice').first().click();
  await widget.locator('.note.bad', { hasText: strings('en').error_offline }).waitFor();
  await page.close();
});

test('the WordPress plugin\'s error shape ({code: "stablegate_<code>"}) gets the same sentences', async () => {
  const story = invoiceStory({ base: host.url, name: 'wp-shape', recipient: RECIPIENT, amount: '12.34' });
  host.set('wp-shape', story.doc());
  host.onPost('wp-shape', 'claim', () => ({ status: 422, body: { code: 'stablegate_wrong_token', message: 'wrong_token: inv_x', data: { status: 422 } } }));
  const { page, widget } = await open(browser.context, 'wp-shape');
  await widget.locator('summary').click();
  await widget.locator('input[name="tx_hash"]').fill(`0x${'ef'.repeat(32)}`);
  await widget.locator('input[name="tx_hash"]').press('Enter');
  await widget.locator('.note.bad', { hasText: strings('en').error_wrong_token }).waitFor();
  await page.close();
});

test('labels, amount, address and contract share one typeface; at 320 px the longest error fits, in en and zh-CN', async () => {
  const story = invoiceStory({ base: host.url, name: 'narrow', recipient: RECIPIENT, amount: '19.991', orderTotal: { amount: '19.99', currency: 'USD' } });
  host.set('narrow', story.doc());
  host.onPost('narrow', 'claim', () => ({ status: 409, body: { error: { code: 'reserved_for_another_invoice', message: HOST_MESSAGE } } }));
  for (const lang of ['en', 'zh-CN']) {
    const { page, widget, errors } = await open(phone.context, 'narrow', lang);
    const fonts = await page.evaluate(() => {
      const root = document.querySelector('stablegate-checkout').shadowRoot;
      const style = (sel) => {
        const s = getComputedStyle(root.querySelector(sel));
        return `${s.fontFamily} ${s.fontSize}`;
      };
      return { label: style('dt'), value: style('[data-field="network"]'), address: style('.address'), contract: style('[data-field="contract"] .mono') };
    });
    assert.equal(fonts.address, fonts.value, 'the address is set like the other values');
    assert.equal(fonts.contract, fonts.value, 'the contract is set like the other values');
    assert.equal(fonts.label.split(' ').slice(0, -1).join(' '), fonts.value.split(' ').slice(0, -1).join(' '), 'labels and values share the typeface');
    await widget.locator('summary').click();
    await widget.locator('input[name="tx_hash"]').fill(`0x${'cd'.repeat(32)}`);
    await widget.locator('input[name="tx_hash"]').press('Enter');
    await widget.locator('.note.bad').waitFor();
    assert.deepEqual(await overflowing(page), [], `${lang}: nothing reaches past the card at 320 px`);
    await page.screenshot({ path: path.join(ARTIFACTS, `words-320-${lang}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  }
});
