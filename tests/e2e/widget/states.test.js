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

async function open(name, { lang = 'en', elang, theme, scheme } = {}) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const query = new URLSearchParams({ s: name, lang, ...(elang ? { elang } : {}), ...(theme ? { theme } : {}), ...(scheme ? { scheme } : {}) });
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


const shadowText = (page, selector) =>
  page.evaluate((sel) => document.querySelector('stablegate-checkout').shadowRoot.querySelector(sel)?.textContent ?? null, selector);

test('network choice: keyboard picks a network, the widget POSTs {network, token} and shows it', async () => {
  const tron = invoiceStory({ base: host.url, name: 'choice', network: 'tron', recipient: TRON_RECIPIENT, amount: '19.99' });
  host.set('choice', choiceDoc({ base: host.url, name: 'choice' }));
  host.onPost('choice', 'choose', () => ({ status: 200, body: tron.doc() }));
  const { page, widget, errors } = await open('choice');
  await waitState(widget, 'new');
  const choices = widget.locator('.choice');
  assert.deepEqual(await choices.allInnerTexts(), ['TRON (TRC-20): 19.99 USDT', 'Local devnet: 19.99 USDT']);
  assert.equal(await widget.locator('.status').innerText(), 'Choose a network');
  // Keyboard only: the first Tab lands on the first network, Enter picks it.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.querySelector('stablegate-checkout').shadowRoot.activeElement?.textContent), 'TRON (TRC-20): 19.99 USDT');
  await page.keyboard.press('Enter');
  await widget.locator('[data-field="network"]').waitFor();
  const post = host.posts.find((p) => p.scenario === 'choice');
  assert.deepEqual(post.body, { network: 'tron', token: 'usdt' });
  assert.equal(post.contentType, 'application/json');
  assert.equal(await widget.locator('[data-field="network"]').innerText(), 'TRON (TRC-20)');
  assert.equal(await widget.locator('[data-field="contract"]').innerText(), 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t');
  // TRON: the QR holds the bare address (TronLink rejects tron: URIs); no TRON wallet is present.
  assert.equal(decodeQr(await widget.locator('.qr').screenshot()), TRON_RECIPIENT);
  assert.equal(await widget.locator('.wallets').count(), 0);
  assert.equal(await widget.locator('.warning').innerText(), 'Send USDT on TRON (TRC-20) only. Anything sent on another network is lost.');
  assert.deepEqual(errors, []);
  await page.close();
});

test('partial payment, then the top-up: what is left, a new QR for the rest, then settled', async () => {
  const story = invoiceStory({ base: host.url, name: 'partial', recipient: RECIPIENT, amount: '12.34' });
  story.pay('5000000');
  host.set('partial', story.doc());
  const { page, widget } = await open('partial');
  await waitState(widget, 'new');
  assert.equal(await widget.getAttribute('data-exception'), 'paid_partial');
  assert.equal(await widget.locator('.status').innerText(), '5.00 USDT received; 7.34 USDT still to pay. Send the rest to the same address, with the new QR code below.');
  assert.equal(await widget.locator('[data-field="amount"]').innerText(), '7.34 USDT');
  const uri = decodeQr(await widget.locator('.qr').screenshot());
  assert.equal(uri, story.doc().payment_uri);
  assert.match(uri, /uint256=7340000$/);
  assert.match(await widget.locator('.transfers').innerText(), /^5.00 USDT · confirming/);
  // The top-up: the rest arrives, both transfers settle.
  const rest = story.pay('7340000');
  host.set('partial', story.doc({ head: 97 }));
  await waitState(widget, 'processing');
  assert.equal(await widget.getAttribute('data-exception'), null);
  for (const entry of story.invoice.ledger) story.finalize({ tx_hash: entry.tx_hash, log_index: entry.log_index });
  host.set('partial', { ...story.doc({ head: 200 }), poll_after_ms: 0 });
  await waitState(widget, 'settled');
  assert.deepEqual(await widget.locator('.transfers li').allInnerTexts(), [
    '5.00 USDT · confirmed · 0x01010101…010101',
    `7.34 USDT · confirmed · ${rest.tx_hash.slice(0, 10)}…${rest.tx_hash.slice(-6)}`,
  ]);
  await page.close();
});

test('each transfer links to its explorer (TRON: tronscan), opened safely in a new tab', async () => {
  const story = invoiceStory({ base: host.url, name: 'explorer', network: 'tron', recipient: TRON_RECIPIENT, amount: '10' });
  story.pay('10000000');
  host.set('explorer', story.doc({ head: 100 }));
  const { page, widget } = await open('explorer');
  await waitState(widget, 'processing');
  const link = widget.getByRole('link', { name: `View transaction ${'ab'.repeat(4)}ab…${'ab'.repeat(3)}` });
  assert.equal(await link.getAttribute('href'), `https://tronscan.org/#/transaction/${'ab'.repeat(32)}`);
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  await page.close();
});

test('theming: --sg-* custom properties set by the page restyle it; the font is the page\'s', async () => {
  const story = invoiceStory({ base: host.url, name: 'theme', recipient: RECIPIENT, amount: '1' });
  host.set('theme', story.doc());
  const { page, widget } = await open('theme');
  await waitState(widget, 'new');
  await page.addStyleTag({ content: 'body { font-family: serif } stablegate-checkout { --sg-bg: rgb(1, 2, 3); --sg-radius: 0px }' });
  const style = await page.evaluate(() => {
    const box = document.querySelector('stablegate-checkout').shadowRoot.querySelector('.sg');
    const s = getComputedStyle(box);
    return { bg: s.backgroundColor, radius: s.borderTopLeftRadius, font: s.fontFamily };
  });
  assert.deepEqual(style, { bg: 'rgb(1, 2, 3)', radius: '0px', font: 'serif' });
  await page.close();
});

test('late, review, over-payment, reversal and expiry each say what happens next', async () => {
  const cases = [];
  const late = invoiceStory({ base: host.url, name: 'late', recipient: RECIPIENT, amount: '12.34', expiresIn: 30 });
  late.finalize(late.pay(late.due));
  cases.push(['late', late, 'settled', 'paid_late', 'Your payment of 12.34 USDT arrived after the deadline. The shop will review it and contact you.']);
  const review = invoiceStory({ base: host.url, name: 'review', recipient: RECIPIENT, amount: '12.34' });
  review.pay(review.due, { review: true });
  cases.push(['review', review, 'processing', 'needs_review', 'Your payment needs a check by the shop. There is nothing more to do now; the shop will contact you.']);
  const over = invoiceStory({ base: host.url, name: 'over', recipient: RECIPIENT, amount: '12.34' });
  over.finalize(over.pay('20000000'));
  cases.push(['over', over, 'settled', 'paid_over', 'You paid 20.00 USDT, more than the 12.34 USDT due. The shop will contact you about the difference.']);
  const reversed = invoiceStory({ base: host.url, name: 'reversed', recipient: RECIPIENT, amount: '12.34' });
  reversed.remove(reversed.pay(reversed.due));
  cases.push(['reversed', reversed, 'invalid', null, 'The payment failed or was reversed on the network. Nothing has been credited.']);
  const expired = invoiceStory({ base: host.url, name: 'expired', recipient: RECIPIENT, amount: '12.34', expiresIn: 30 });
  cases.push(['expired', expired, 'expired', null, 'This payment request has expired. Do not send any payment to it.']);
  for (const [name, story, state, exception, text] of cases) {
    host.set(name, { ...story.doc(), poll_after_ms: 0 });
    const { page, widget } = await open(name);
    await waitState(widget, state);
    assert.equal(await widget.getAttribute('data-exception'), exception, name);
    assert.equal(await widget.locator('.status').innerText(), text, name);
    // Nothing to pay any more: no QR, no wallet button.
    if (state !== 'processing') assert.equal(await widget.locator('.qr').count(), 0, name);
    if (state === 'settled') assert.equal(await widget.getByRole('link', { name: 'Back to the shop' }).getAttribute('href'), `${host.url}/thanks`);
    if (name === 'expired') assert.equal(await widget.getByRole('link', { name: 'Start a new payment' }).getAttribute('href'), `${host.url}/s/expired/new`);
    await page.close();
  }
});

test('claim by tx hash: the core refuses a malformed hash before anything is sent; a good one is POSTed', async () => {
  const story = invoiceStory({ base: host.url, name: 'claim', recipient: RECIPIENT, amount: '12.34' });
  host.set('claim', story.doc());
  let answer = { status: 422, body: { error: { code: 'wrong_recipient', message: 'that transfer did not pay this invoice' } } };
  host.onPost('claim', 'claim', () => answer);
  const { page, widget } = await open('claim');
  await waitState(widget, 'new');
  await widget.getByText('Paid, but not recognised?').click();
  const field = widget.getByLabel('Transaction hash');
  await field.fill('0x1234');
  await widget.getByRole('button', { name: 'Check this transaction' }).click();
  assert.equal(await widget.getByRole('alert').innerText(), 'That is not a transaction hash. It has 64 hexadecimal characters, with or without 0x in front.');
  assert.equal(host.posts.filter((p) => p.scenario === 'claim').length, 0);
  // The half-typed value survives re-renders by the poller.
  await page.waitForTimeout(900);
  assert.equal(await field.inputValue(), '0x1234');

  const hash = 'AB'.repeat(32);
  await field.fill(`  ${hash} `);
  await field.press('Enter');
  // A sentence for the code, in the customer's language: never the host's English message.
  await widget.getByText('This transaction paid another address, not the one on this page. Check the transaction hash and the address you sent to.').waitFor();
  assert.equal(await widget.getByText('that transfer did not pay this invoice').count(), 0);
  assert.deepEqual(host.posts.filter((p) => p.scenario === 'claim').map((p) => p.body), [{ tx_hash: `0x${'ab'.repeat(32)}` }]);
  answer = { status: 200, body: story.doc() };
  await widget.getByRole('button', { name: 'Check this transaction' }).click();
  await widget.locator('.note', { hasText: 'Thank you. The shop is checking that transaction.' }).waitFor();
  await page.close();
});

test('server-sent events: follows the stream instead of polling', async () => {
  const story = invoiceStory({ base: host.url, name: 'sse', recipient: RECIPIENT, amount: '1.5', events: true });
  host.set('sse', story.doc({ poll: 60000 }));
  const { page, widget } = await open('sse');
  await waitState(widget, 'new');
  await page.waitForFunction(() => true);
  const tx = story.pay(story.due);
  host.set('sse', story.doc({ poll: 60000, head: 97 }));
  await waitState(widget, 'processing');
  story.finalize(tx);
  host.set('sse', { ...story.doc({ head: 200 }), poll_after_ms: 0 });
  await waitState(widget, 'settled');
  // One status request to start; every change after that came through the stream.
  assert.equal(host.requests.filter((r) => r.startsWith('GET /s/sse/status')).length, 1);
  assert.equal(host.requests.filter((r) => r.startsWith('GET /s/sse/events')).length, 1);
  await page.close();
});

test('a network blip shows a quiet notice, retries with backoff and recovers', async () => {
  const story = invoiceStory({ base: host.url, name: 'blip', recipient: RECIPIENT, amount: '2' });
  host.set('blip', story.doc({ poll: 200 }));
  const { page, widget, errors } = await open('blip');
  await waitState(widget, 'new');
  host.fail('blip', 2);
  const notice = widget.locator('.conn');
  await notice.waitFor({ state: 'visible' });
  assert.equal(await notice.innerText(), 'Connection lost. Reconnecting…');
  // The payment details stay on screen during the outage.
  assert.ok(await widget.locator('.qr svg').isVisible());
  story.pay(story.due);
  host.set('blip', story.doc({ poll: 200, head: 97 }));
  await waitState(widget, 'processing');
  await notice.waitFor({ state: 'hidden' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('keyboard: copy buttons are reachable, copy the exact value and are announced', async () => {
  const story = invoiceStory({ base: host.url, name: 'copy', recipient: RECIPIENT, amount: '1234.5' });
  host.set('copy', story.doc());
  const { page, widget } = await open('copy');
  await waitState(widget, 'new');
  // Grouped for reading, exact when copied.
  assert.equal(await widget.locator('[data-field="amount"]').innerText(), '1,234.50 USDT');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.querySelector('stablegate-checkout').shadowRoot.activeElement?.getAttribute('aria-label')), 'Copy the amount');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('stablegate-checkout').shadowRoot.querySelector('[aria-live]').textContent === 'Amount copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), '1234.5');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => document.querySelector('stablegate-checkout').shadowRoot.querySelector('[aria-live]').textContent === 'Address copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), RECIPIENT);
  await page.close();
});

test('language: the element lang wins, then the page lang; Chinese formats and texts throughout', async () => {
  const story = invoiceStory({ base: host.url, name: 'lang', recipient: RECIPIENT, amount: '1234.5' });
  host.set('lang', story.doc());
  let { page, widget } = await open('lang', { lang: 'zh-CN' });
  await waitState(widget, 'new');
  assert.equal(await widget.locator('.title').innerText(), '使用 USDT 付款');
  assert.equal(await widget.locator('.status').innerText(), '等待您付款');
  assert.equal(await widget.locator('[data-field="network"]').innerText(), '本地开发链');
  assert.match(await widget.locator('[data-timer]').innerText(), /^剩余时间：1[34]:\d\d · 请在 .+ 前付款$/);
  assert.match(await widget.locator('.advice').innerText(), /到账金额必须恰好为 1,234\.50 USDT/);
  await page.close();
  for (const elang of ['zh-TW', 'zh_CN', 'zh-Hans-CN']) {
    ({ page, widget } = await open('lang', { lang: 'en', elang }));
    await waitState(widget, 'new');
    assert.equal(await widget.locator('.title').innerText(), '使用 USDT 付款', elang);
    await page.close();
  }
  ({ page, widget } = await open('lang', { lang: 'fr' }));
  await waitState(widget, 'new');
  assert.equal(await widget.locator('.title').innerText(), 'Pay with USDT');
  // Switching the attribute on a live element switches its language.
  await widget.evaluate((el) => el.setAttribute('lang', 'zh-CN'));
  await widget.locator('.title', { hasText: '使用 USDT 付款' }).waitFor();
  await page.close();
});

test('screenshots of the main states in both languages and both themes; each QR decodes to payment_uri', async () => {
  const docs = {};
  const base = invoiceStory({ base: host.url, name: 'shot-new', recipient: RECIPIENT, amount: '19.99' });
  docs['shot-new'] = base.doc();
  const processing = invoiceStory({ base: host.url, name: 'shot-processing', recipient: RECIPIENT, amount: '19.99' });
  const seen = processing.pay(processing.due);
  docs['shot-processing'] = processing.doc({ head: 97 });
  const partial = invoiceStory({ base: host.url, name: 'shot-partial', recipient: RECIPIENT, amount: '19.99' });
  partial.pay('9990000');
  docs['shot-partial'] = partial.doc();
  processing.finalize(seen);
  docs['shot-settled'] = { ...processing.doc({ head: 200 }), poll_after_ms: 0 };
  docs['shot-expired'] = { ...invoiceStory({ base: host.url, name: 'shot-expired', recipient: RECIPIENT, amount: '19.99', expiresIn: 30 }).doc(), poll_after_ms: 0 };
  docs['shot-choice'] = choiceDoc({ base: host.url, name: 'shot-choice' });
  for (const [name, doc] of Object.entries(docs)) host.set(name, doc);
  let count = 0;
  for (const scheme of ['light', 'dark']) {
    for (const lang of ['en', 'zh-CN']) {
      for (const [name, doc] of Object.entries(docs)) {
        const { page, widget, errors } = await open(name, { lang, scheme });
        await page.emulateMedia({ colorScheme: scheme });
        await waitState(widget, doc.state);
        const png = await widget.screenshot({ path: path.join(ARTIFACTS, `${name.slice(5)}-${lang}-${scheme}.png`), animations: 'disabled' });
        if (doc.payment_uri) assert.equal(decodeQr(png), doc.payment_uri, `${name} ${lang} ${scheme}`);
        else assert.equal(await widget.locator('.qr').count(), 0);
        assert.deepEqual(errors, []);
        count += 1;
        await page.close();
      }
    }
  }
  assert.equal(count, 24);
  // And the narrow screen of a phone, where the QR comes first and everything stacks.
  const { page, widget } = await open('shot-new', { lang: 'zh-CN' });
  await page.setViewportSize({ width: 375, height: 900 });
  await waitState(widget, 'new');
  const png = await widget.screenshot({ path: path.join(ARTIFACTS, 'new-zh-CN-phone.png') });
  assert.equal(decodeQr(png), docs['shot-new'].payment_uri);
  const [qr, facts] = await Promise.all([widget.locator('.qr').boundingBox(), widget.locator('.facts').boundingBox()]);
  assert.ok(facts.y >= qr.y + qr.height, 'the details stack under the QR');
  await page.close();
});

test('the built assets carry no secret', () => {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else files.push(file);
    }
  };
  // The widget, and the full web build that pages load directly (the plugin's settings screen).
  walk(WIDGET_DIR);
  walk(path.join(WIDGET_DIR, '../web'));
  assert.ok(files.some((f) => f.endsWith('.wasm')) && files.some((f) => f.endsWith('stablegate-checkout.js')) && files.some((f) => f.endsWith('web/stablegate_wasm.js')));
  const patterns = [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/, /\bsk_(live|test)_[0-9a-zA-Z]{8,}/, /\bwhsec_[0-9a-zA-Z]{8,}/, /\bshpss?_[0-9a-fA-F]{16,}/,
    /\b(api[_-]?key|secret|password|mnemonic)\s*[:=]\s*["'][^"']{6,}/i, /test test test test test test test test test test test junk/,
  ];
  // A 32-byte hex value has a private key's shape. The web build holds three public ones: the
  // ERC-20 Transfer event topic (log decoding), zeros, and Rust's table of two-digit numbers.
  const PUBLIC_WORDS = new Set(['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', '0'.repeat(64),
    '0001020304050607080910111213141516171819202122232425262728293031', '3233343536373839404142434445464748495051525354555657585960616263',
    '6465666768697071727374757677787980818283848586878889909192939495']);
  for (const file of files) {
    const text = fs.readFileSync(file).toString('latin1');
    const where = path.relative(path.dirname(WIDGET_DIR), file);
    for (const pattern of patterns) assert.doesNotMatch(text, pattern, `${where} matches ${pattern}`);
    const words = text.match(/(?<![0-9a-fA-F])(0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])/g) ?? [];
    assert.deepEqual(words.filter((w) => !PUBLIC_WORDS.has(w)), [], `${where} holds a 32-byte hex value`);
  }
});


test('contrast: the default colours meet WCAG 2.2 AA (4.5:1 text, 3:1 focus ring) in light and dark', async () => {
  const story = invoiceStory({ base: host.url, name: 'contrast', recipient: RECIPIENT, amount: '5' });
  story.pay('2000000');
  host.set('contrast', story.doc());
  for (const scheme of ['light', 'dark']) {
    const { page, widget } = await open('contrast', { scheme });
    await page.emulateMedia({ colorScheme: scheme });
    await waitState(widget, 'new');
    await widget.getByText('Paid, but not recognised?').click();
    await widget.getByLabel('Transaction hash').fill('nonsense');
    await widget.getByRole('button', { name: 'Check this transaction' }).click();
    await widget.getByRole('alert').waitFor();
    const pairs = await page.evaluate(() => {
      const root = document.querySelector('stablegate-checkout').shadowRoot;
      const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
      const lum = (c) => {
        const [r, g, b] = rgb(c).map((v) => {
          const x = v / 255;
          return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const ratio = (a, b) => {
        const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
        return (hi + 0.05) / (lo + 0.05);
      };
      // The colour behind an element: the nearest ancestor (or itself) with a background.
      const behind = (el) => {
        for (let e = el; e; e = e.parentElement) {
          const bg = getComputedStyle(e).backgroundColor;
          if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
        }
        return 'rgb(255, 255, 255)';
      };
      const out = {};
      for (const sel of ['.title', '.status.warn', 'dt', '.value', '.address b', '.timer', '.advice', '.warning', '.copy', 'summary', 'label', '.note.bad', '.transfers li', 'input']) {
        const el = root.querySelector(sel);
        if (!el) throw new Error(`no ${sel} on the page`);
        out[sel] = ratio(getComputedStyle(el).color, behind(el));
      }
      // The focus ring is drawn in the accent colour, the colour the summary's text uses too.
      out['focus ring'] = ratio(getComputedStyle(root.querySelector('summary')).color, getComputedStyle(root.querySelector('.sg')).backgroundColor);
      return out;
    });
    for (const [what, ratio] of Object.entries(pairs)) {
      assert.ok(ratio >= (what === 'focus ring' ? 3 : 4.5), `${scheme}: ${what} has contrast ${ratio.toFixed(2)}:1`);
    }
    await page.close();
  }
});

test('a hidden tab stops polling and catches up when it is shown again', async () => {
  const story = invoiceStory({ base: host.url, name: 'hidden', recipient: RECIPIENT, amount: '3' });
  host.set('hidden', story.doc({ poll: 150 }));
  const { page, widget } = await open('hidden');
  await waitState(widget, 'new');
  const count = () => host.requests.filter((r) => r.startsWith('GET /s/hidden/status')).length;
  // Chromium's own page visibility API, switched the way a tab switch switches it.
  const setHidden = (hidden) => page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
  await setHidden(true);
  const atHide = count();
  story.pay(story.due);
  host.set('hidden', story.doc({ poll: 150, head: 97 }));
  await page.waitForTimeout(1000);
  assert.ok(count() <= atHide + 1, `polled ${count() - atHide} times while hidden`);
  assert.equal(await widget.getAttribute('data-state'), 'new');
  await setHidden(false);
  await waitState(widget, 'processing');
  await page.close();
});

test('a fetch that returns after the element is gone, or after a hide and show, opens no extra stream', async () => {
  const story = invoiceStory({ base: host.url, name: 'race', recipient: RECIPIENT, amount: '2', events: true });
  host.set('race', story.doc({ poll: 60000 }));
  host.delay('race', 600);
  const statusCount = () => host.requests.filter((r) => r.startsWith('GET /s/race/status')).length;
  const streams = () => host.requests.filter((r) => r.startsWith('GET /s/race/events')).length;
  const waitFor = async (fn) => {
    while (!fn()) await new Promise((r) => setTimeout(r, 10));
  };

  // Removed from the page while its first fetch is under way: nothing may follow it afterwards.
  let { page } = await open('race');
  await waitFor(() => statusCount() === 1);
  await page.evaluate(() => document.querySelector('stablegate-checkout').remove());
  await page.waitForTimeout(1200);
  assert.equal(streams(), 0, 'a removed element opened a stream');
  await page.close();

  // Hidden and shown again while the first fetch is under way: one stream, not two.
  let widget;
  ({ page, widget } = await open('race'));
  await waitFor(() => statusCount() === 2);
  await page.evaluate(() => {
    for (const hidden of [true, false]) {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      document.dispatchEvent(new Event('visibilitychange'));
    }
  });
  await waitState(widget, 'new');
  await page.waitForTimeout(1200);
  assert.equal(streams(), 1);
  await page.close();
});

test('language: without any lang attribute, the browser language decides', async () => {
  const zh = await launch({ locale: 'zh-CN' });
  try {
    const story = invoiceStory({ base: host.url, name: 'navlang', recipient: RECIPIENT, amount: '1' });
    host.set('navlang', story.doc());
    const page = await zh.context.newPage();
    await page.goto(`${host.url}/page?s=navlang&lang=none`);
    const widget = page.locator('stablegate-checkout');
    await waitState(widget, 'new');
    assert.equal(await widget.locator('.title').innerText(), '使用 USDT 付款');
    await page.close();
  } finally {
    await zh.close();
  }
});

after(() => {
  // Every request any page made went to the test host: no CDN, no font service, no telemetry.
  const foreign = browser ? browser.requests.filter((u) => !u.startsWith(host.url) && !u.startsWith('data:')) : [];
  assert.deepEqual(foreign, []);
});
