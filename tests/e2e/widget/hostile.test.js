// The trust boundary, from the widget's side: whatever a status document holds, the widget sets
// it as text, links only to http(s), and sends nothing to another origin. Every string field of
// the documents below carries markup that would run script if it were ever parsed as HTML, and
// every link points at another origin (the same test host under "localhost" instead of
// "127.0.0.1": a real, reachable other origin, so a request to it would be seen and recorded).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startHost } = require('./host');
const { launch, decodeQr } = require('./browser');
const { invoiceStory, choiceDoc } = require('./docs');

const MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
let host;
let browser;
let foreign;

before(async () => {
  host = await startHost();
  browser = await launch();
  foreign = host.url.replace('127.0.0.1', 'localhost');
});

after(async () => {
  await browser?.close();
  await host?.close();
});

/** What a person and a script could get from the widget's shadow tree. */
async function inspect(page) {
  return page.evaluate(() => {
    const root = document.querySelector('stablegate-checkout').shadowRoot;
    return {
      pwned: Boolean(window.__pwned),
      scripts: root.querySelectorAll('script, img, iframe, object, embed').length,
      // Every element's attribute that starts with "on" (an inline handler).
      handlers: [...root.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName}.${a.name}`)),
      hrefs: [...root.querySelectorAll('[href]')].map((el) => el.getAttribute('href')),
      text: root.textContent,
    };
  });
}

const foreignRequests = () => browser.requests.filter((u) => u.startsWith(foreign));

test('markup in every field of the document is shown as text; links go only to http(s); nothing goes to another origin', async () => {
  const story = invoiceStory({ base: host.url, name: 'hostile', recipient: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', amount: '5' });
  const tx = story.pay('2000000');
  const doc = story.doc({ head: 97 });
  Object.assign(doc, {
    invoice: MARKUP,
    network_names: { en: MARKUP, 'zh-CN': MARKUP },
    token: { ...doc.token, symbol: MARKUP, contract: MARKUP },
    payment_uri: MARKUP,
    links: { choose: `${foreign}/s/hostile/choose`, claim: `${foreign}/s/hostile/claim`, events: `${foreign}/s/hostile/events`, new_invoice: `${foreign}/s/hostile/new` },
  });
  doc.transfers = doc.transfers.map((t) => ({ ...t, explorer_url: 'javascript:window.__pwned=1' }));
  assert.equal(doc.exception, 'paid_partial');
  host.set('hostile', doc);
  const page = await browser.context.newPage();
  await page.goto(`${host.url}/page?s=hostile`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor();
  await page.waitForTimeout(1000); // a few polls
  const seen = await inspect(page);
  assert.equal(seen.pwned, false);
  assert.equal(seen.scripts, 0);
  assert.deepEqual(seen.handlers, []);
  assert.deepEqual(seen.hrefs, [], 'the javascript: explorer link is plain text');
  assert.ok(seen.text.includes(MARKUP), 'the markup is shown, as text');
  assert.ok(seen.text.includes(tx.tx_hash.slice(0, 10)));
  // A claim link on another origin: no claim form at all.
  assert.equal(await widget.getByText('Paid, but not recognised?').count(), 0);
  assert.deepEqual(foreignRequests(), []);

  // The settled document's return_url is javascript:, the expired one's new_invoice foreign.
  story.finalize(tx);
  story.pay('3000000');
  host.set('hostile', { ...story.doc({ head: 200 }), return_url: 'javascript:window.__pwned=1', links: doc.links, poll_after_ms: 400 });
  await page.waitForTimeout(800);
  const settled = await inspect(page);
  assert.equal(settled.pwned, false);
  assert.deepEqual(settled.hrefs, []);
  assert.deepEqual(foreignRequests(), []);
  await page.close();
});

test('a payment_uri that pays another address, amount or token than the widget shows draws no QR, and says so', async () => {
  const sg = require('../../../crates/wasm/pkg/node');
  const recipient = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';
  const story = invoiceStory({ base: host.url, name: 'hostile-qr', recipient, amount: '5' });
  const honest = story.doc();
  const uri = (o) => sg.paymentUri({ network: 'devnet', recipient, amount: '5', ...o });
  assert.equal(uri({}), honest.payment_uri, 'the honest request, rebuilt');
  const page = await browser.context.newPage();
  await page.goto(`${host.url}/page?s=hostile-qr`);
  const widget = page.locator('stablegate-checkout');
  for (const [what, payment_uri] of [
    ['another address', uri({ recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' })],
    ['another amount', uri({ amount: '50' })],
    ['another token', uri({ token: 'usdt18' })],
  ]) {
    host.set('hostile-qr', { ...honest, payment_uri });
    await page.reload();
    await widget.locator('[data-field="amount"]').waitFor({ timeout: 5000 });
    assert.equal(await widget.locator('.qr').count(), 0, `no QR for ${what}`);
    assert.equal(await widget.locator('[role="alert"]', { hasText: 'This payment request does not match the address and amount shown' }).count(), 1, what);
    // What the widget shows stays the document's recipient and amount.
    assert.equal(await widget.locator('[data-field="amount"]').innerText(), '5.00 USDT');
  }
  host.set('hostile-qr', honest);
  await page.reload();
  await widget.locator('.qr').waitFor({ timeout: 5000 });
  assert.equal(decodeQr(await widget.locator('.qr').screenshot()), honest.payment_uri);
  await page.close();
});

test('a network choice whose choose link is on another origin posts nothing there', async () => {
  const doc = choiceDoc({ base: host.url, name: 'hostile-choice' });
  doc.choices = doc.choices.map((c) => ({ ...c, names: { en: MARKUP, 'zh-CN': MARKUP }, symbol: MARKUP }));
  doc.links = { ...doc.links, choose: `${foreign}/s/hostile-choice/choose` };
  host.set('hostile-choice', doc);
  const page = await browser.context.newPage();
  await page.goto(`${host.url}/page?s=hostile-choice`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor();
  const choices = widget.locator('button.choice');
  assert.equal(await choices.count(), 2);
  await choices.first().click({ force: true }).catch(() => {});
  await page.waitForTimeout(300);
  const seen = await inspect(page);
  assert.equal(seen.pwned, false);
  assert.equal(seen.scripts, 0);
  assert.deepEqual(host.posts.filter((p) => p.scenario === 'hostile-choice'), []);
  assert.deepEqual(foreignRequests(), []);
  await page.close();
});

test('a status-url on another origin is refused before any request', async () => {
  host.set('hostile-url', choiceDoc({ base: host.url, name: 'hostile-url' }));
  const page = await browser.context.newPage();
  await page.goto(`${host.url}/page?s=hostile-url`);
  const widget = page.locator('stablegate-checkout');
  await widget.and(page.locator('[data-state="new"]')).waitFor();
  await page.evaluate((url) => document.querySelector('stablegate-checkout').setAttribute('status-url', url), `${foreign}/s/hostile-url/status`);
  await widget.getByText('stablegate-checkout: status-url must be on this site').waitFor();
  await page.waitForTimeout(500);
  assert.deepEqual(foreignRequests(), []);
  await page.close();
});

test('a link that is not a URL at all ("http://[") is ignored; the document still shows', async () => {
  const story = invoiceStory({ base: host.url, name: 'badurl', recipient: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', amount: '4' });
  const bad = 'http://[';
  host.set('badurl', { ...story.doc(), links: { choose: null, claim: bad, events: bad, new_invoice: bad } });
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${host.url}/page?s=badurl`);
  const widget = page.locator('stablegate-checkout');
  await widget.locator('[data-field="amount"]').waitFor({ timeout: 5000 });
  assert.equal(await widget.locator('[data-field="amount"]').innerText(), '4.00 USDT');
  assert.equal(await widget.getByText('Paid, but not recognised?').count(), 0);
  const tx = story.pay(story.due);
  story.finalize(tx);
  host.set('badurl', { ...story.doc({ head: 200 }), return_url: bad, transfers: story.doc({ head: 200 }).transfers.map((t) => ({ ...t, explorer_url: bad })) });
  await widget.locator('.status', { hasText: 'Payment received. Thank you!' }).waitFor({ timeout: 5000 });
  assert.deepEqual((await inspect(page)).hrefs, []);
  assert.equal(await widget.getByText('Connection lost').count(), 0);
  assert.deepEqual(errors, []);
  await page.close();
});
