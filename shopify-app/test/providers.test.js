// Hosted providers (issue 16) in the server: an order paid through Binance Pay and through
// NOWPayments completes exactly once (one invoice.settled webhook), with the provider APIs as
// FAKES (test/fake-providers.js; neither can run here) and the real server, SQLite or PostgreSQL
// (STABLEGATE_TEST_DB), and devnet. Tampered, replayed, stale and unknown-certificate
// notifications are refused and change nothing; a provider that does not answer leaves the pay
// page's direct payment in place; secrets never appear in the configuration as printed.
const test = require('node:test');
const assert = require('node:assert/strict');
const util = require('node:util');
const { startStack } = require('./helpers');
const { fakeBinance, fakeNowPayments } = require('./fake-providers');
const { parseConfig } = require('../dist/config');
const Ajv2020 = require('../../node_modules/ajv/dist/2020').default;

const validateStatus = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(
  JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', '..', 'tests', 'vectors', 'schema', 'status.schema.json'), 'utf8')),
);

const ENV = {
  SG_BINANCE_KEY: 'binance-api-key-0123456789abcdefKEY1',
  SG_BINANCE_SECRET: 'binance-api-secret-0123456789abcdefSEC1',
  SG_NOW_KEY: 'now-api-key-0123456789abcdefKEY2',
  SG_NOW_IPN: 'now-ipn-secret-0123456789abcdefIPN2',
};

let stack, binance, now;
test.before(async () => {
  binance = await fakeBinance({ apiKey: ENV.SG_BINANCE_KEY, apiSecret: ENV.SG_BINANCE_SECRET });
  now = await fakeNowPayments({ apiKey: ENV.SG_NOW_KEY, ipnSecret: ENV.SG_NOW_IPN });
  stack = await startStack('providers', {
    env: ENV,
    raw: {
      providers: {
        binance: { api_key_env: 'SG_BINANCE_KEY', api_secret_env: 'SG_BINANCE_SECRET', base_url: binance.url, timeout_ms: 2000, cert_refresh_ms: 0 },
        nowpayments: { api_key_env: 'SG_NOW_KEY', ipn_secret_env: 'SG_NOW_IPN', base_url: now.url, timeout_ms: 2000 },
      },
    },
  });
});
test.after(async () => {
  await stack?.stop();
  await binance?.close();
  await now?.close();
});

async function post(path, { body = '', headers = {} } = {}) {
  const r = await fetch(stack.app.url + path, { method: 'POST', body, headers, redirect: 'manual' });
  const text = await r.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: parsed, location: r.headers.get('location') };
}

async function invoice(orderId) {
  const r = await stack.api('POST', '/api/v1/invoices', { amount: '19.99', order_id: orderId });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

const events = (id, type) => stack.receiver.received.filter((r) => r.event.data.invoice.id === id && r.event.type === type);
const snapshot = async (id) => {
  const r = (await stack.api('GET', `/api/v1/invoices/${id}`)).body;
  return { state: r.state, exception: r.exception };
};

test('the pay page offers each enabled provider and redirects to its checkout', async () => {
  const id = await invoice('P-1');
  const page = await (await fetch(`${stack.app.url}/pay/${id}`)).text();
  assert.match(page, /<stablegate-checkout/);
  assert.match(page, new RegExp(`action="/pay/${id}/provider/binance"`));
  assert.match(page, /NOWPayments/);
  const r = await post(`/pay/${id}/provider/binance`);
  assert.equal(r.status, 303);
  assert.match(r.location, /^https:\/\/pay\.binance\.com\/en\/checkout\/\d+$/);
  assert.equal(binance.state.badRequests, 0, 'every request to Binance carried a valid signature');
  // Asking again reuses the order.
  assert.equal((await post(`/pay/${id}/provider/binance`)).location, r.location);
  assert.equal(binance.state.orders.size, 1);
});

test('cancelling an invoice closes its open Binance order; NOWPayments has nothing to close', async () => {
  const id = await invoice('P-C');
  assert.equal((await post(`/pay/${id}/provider/binance`)).status, 303);
  assert.equal((await post(`/pay/${id}/provider/nowpayments`)).status, 303);
  const tradeNo = [...binance.state.orders.keys()].find((k) => binance.state.orders.get(k).description === 'Order P-C');
  assert.equal(binance.state.orders.get(tradeNo).status, 'INITIAL');
  const r = await stack.api('POST', `/api/v1/invoices/${id}/cancel`, {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.state, 'invalid');
  assert.equal(binance.state.orders.get(tradeNo).status, 'CANCELED', 'the Binance order was closed');
  assert.equal(binance.state.badRequests, 0, 'the close request was signed');
  // A provider that does not answer does not undo the cancel (nor fail it).
  const id2 = await invoice('P-C2');
  assert.equal((await post(`/pay/${id2}/provider/binance`)).status, 303);
  binance.state.down = true;
  try {
    const r2 = await stack.api('POST', `/api/v1/invoices/${id2}/cancel`, {});
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
  } finally {
    binance.state.down = false;
  }
  assert.deepEqual(await snapshot(id2), { state: 'invalid', exception: null });
});

test('Binance Pay: paid once; tampered, replayed, stale and unknown-certificate webhooks change nothing', async () => {
  const id = await invoice('P-2');
  await post(`/pay/${id}/provider/binance`);
  const tradeNo = [...binance.state.orders.keys()].find((k) => binance.state.orders.get(k).description === 'Order P-2');
  assert.match(tradeNo, /^sg[0-9a-f]{30}$/);
  const notify = (w) => post('/providers/binance/notify', w);

  // Refusals first, each leaving the invoice new and sending nothing.
  const good = binance.webhook(tradeNo, 'PAY_SUCCESS');
  const tampered = { ...good, body: good.body.replace('19.99', '1999') };
  assert.equal((await notify(tampered)).status, 401);
  const stale = binance.webhook(tradeNo, 'PAY_SUCCESS', { timestamp: Date.now() - 10 * 60 * 1000 });
  assert.equal((await notify(stale)).status, 401);
  const fetchesBefore = binance.state.certFetches;
  const forged = binance.webhook(tradeNo, 'PAY_SUCCESS', { signer: binance.otherKey(), certSerial: 'ffffffffffffffffffffffffffffffff' });
  const unknown = await notify(forged);
  assert.equal(unknown.status, 401);
  assert.equal(unknown.body.error.code, 'unknown_certificate');
  assert.ok(binance.state.certFetches > fetchesBefore, 'an unknown serial makes the server fetch the certificates again');
  const wrongKey = binance.webhook(tradeNo, 'PAY_SUCCESS', { signer: binance.otherKey() });
  assert.equal((await notify(wrongKey)).status, 401);
  assert.deepEqual(await snapshot(id), { state: 'new', exception: null });

  // The real one: settled, acknowledged as Binance expects.
  const ok = await notify(good);
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body, { returnCode: 'SUCCESS', returnMessage: null });
  assert.deepEqual(await snapshot(id), { state: 'settled', exception: null });
  const doc = (await stack.api('GET', `/api/v1/checkout/${id}`)).body;
  assert.equal(doc.state, 'settled');
  // The same document as a direct payment's: what was paid counted, nothing remaining (issue 16).
  assert.ok(validateStatus(doc), JSON.stringify(validateStatus.errors));
  assert.deepEqual([doc.amount_due, doc.amount_paid, doc.amount_remaining, doc.exception], ['19.99', '19.99', '0', null]);
  const merchantView = (await stack.api('GET', `/api/v1/invoices/${id}`)).body;
  assert.deepEqual([merchantView.amount_paid, merchantView.amount_remaining], ['19.99', '0']);

  // A replay of the same delivery is refused; a fresh PAY_SUCCESS changes nothing more.
  assert.equal((await notify(good)).status, 409);
  assert.equal((await notify(binance.webhook(tradeNo, 'PAY_SUCCESS'))).status, 200);
  await stack.receiver.waitFor((e) => e.type === 'invoice.settled' && e.data.invoice.id === id);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(events(id, 'invoice.settled').length, 1, 'exactly one invoice.settled webhook');
  assert.ok(events(id, 'invoice.settled')[0].verified);

  // A refund afterwards puts the order in the merchant's review, once; it stays settled.
  assert.equal((await notify(binance.webhook(tradeNo, 'REFUND_SUCCESS'))).status, 200);
  assert.deepEqual(await snapshot(id), { state: 'settled', exception: 'needs_review' });
});

test('NOWPayments: processing then settled once; tampered and replayed IPNs change nothing', async () => {
  const id = await invoice('P-3');
  const r = await post(`/pay/${id}/provider/nowpayments`);
  assert.equal(r.status, 303);
  assert.match(r.location, /^https:\/\/nowpayments\.io\/payment\/\?iid=\d+$/);
  const notify = (w) => post('/providers/nowpayments/notify', w);

  const confirming = now.ipn(id, 'confirming', { paymentId: '7001' });
  assert.equal((await notify({ ...confirming, headers: { ...confirming.headers, 'x-nowpayments-sig': confirming.headers['x-nowpayments-sig'].replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) } })).status, 401);
  assert.equal((await notify({ ...confirming, body: confirming.body.replace('"confirming"', '"finished"') })).status, 401);
  assert.equal((await notify(now.ipn(id, 'finished', { paymentId: '7001', secret: 'not-the-secret' }))).status, 401);
  assert.deepEqual(await snapshot(id), { state: 'new', exception: null });

  assert.equal((await notify(confirming)).status, 200);
  assert.deepEqual(await snapshot(id), { state: 'processing', exception: null });
  const finished = now.ipn(id, 'finished', { paymentId: '7001' });
  assert.equal((await notify(finished)).status, 200);
  assert.deepEqual(await snapshot(id), { state: 'settled', exception: null });
  assert.equal((await notify(finished)).status, 409, 'a replayed IPN is refused');
  await stack.receiver.waitFor((e) => e.type === 'invoice.settled' && e.data.invoice.id === id);
  await new Promise((r2) => setTimeout(r2, 300));
  assert.equal(events(id, 'invoice.settled').length, 1);
  assert.equal(events(id, 'invoice.processing').length, 1);
});

test('a provider that does not answer leaves the direct payment on the pay page', async () => {
  const id = await invoice('P-4');
  binance.state.down = true;
  try {
    const r = await post(`/pay/${id}/provider/binance`);
    assert.equal(r.status, 303);
    assert.equal(r.location, `${stack.app.url}/pay/${id}?provider_unavailable=binance`);
    const page = await (await fetch(r.location)).text();
    assert.match(page, /Binance Pay is not answering right now; you can still pay directly/);
    assert.match(page, /<stablegate-checkout/);
  } finally {
    binance.state.down = false;
  }
  assert.deepEqual(await snapshot(id), { state: 'new', exception: null });
});

test('a notification for an order this server never created is refused', async () => {
  const r = await post('/providers/binance/notify', binance.webhook('invNOTOURS', 'PAY_SUCCESS'));
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'unknown_provider_reference');
});

test('provider secrets come from the environment and print masked', () => {
  const raw = {
    networks: { devnet: { rpc: ['http://127.0.0.1:1'], addresses: ['0x0000000000000000000000000000000000000001'] } },
    database: { sqlite: ':memory:' },
    providers: {
      binance: { api_key_env: 'SG_BINANCE_KEY', api_secret_env: 'SG_BINANCE_SECRET' },
      nowpayments: { api_key_env: 'SG_NOW_KEY', ipn_secret_env: 'SG_NOW_IPN', sandbox: true },
    },
  };
  const config = parseConfig(raw, ENV);
  assert.equal(config.providers.nowpayments.baseUrl, 'https://api-sandbox.nowpayments.io/v1');
  assert.equal(config.providers.binance.baseUrl, 'https://bpay.binanceapi.com');
  const printed = JSON.stringify(config) + util.inspect(config, { depth: 10 });
  for (const secret of Object.values(ENV)) assert.ok(!printed.includes(secret), `${secret.slice(0, 10)}… printed`);
  assert.equal(config.providers.binance.apiSecret.reveal(), ENV.SG_BINANCE_SECRET);
  assert.throws(() => parseConfig({ ...raw, providers: { binance: { api_key_env: 'NOPE_UNSET', api_secret_env: 'SG_BINANCE_SECRET' } } }, ENV), /NOPE_UNSET is not set/);
  assert.throws(() => parseConfig({ ...raw, providers: { stripe: {} } }, ENV), /providers\.stripe/);
});
