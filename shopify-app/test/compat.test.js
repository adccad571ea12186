// The Epusdt and EPay endpoints on the real devnet, spoken to by the unmodified PyPI clients
// `bepusdt` 0.3.15 and `epusdt` 0.4.0 (pinned in compat-requirements.txt) through a TLS
// terminator with a test CA, and by requests signed here as a panel signs them. Callbacks go to an
// https receiver; the server trusts the test CA through `compat.callbacks.ca_file` (the server runs
// in this process, started after the CA exists, so NODE_EXTRA_CA_CERTS could not name it).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, sg } = require('./helpers');
const { ensureVenv, makeCa, tlsProxy, callbackReceiver, python, panelSign } = require('./compat-helpers');
const { createCompat } = require('../dist/compat');

let s, tls, front, rx, epusdtToken, epay, strictToken, cli;
const defaultAnswer = (r) => (r.method === 'GET' ? 'success' : 'ok');

before(async () => {
  ensureVenv();
  const caDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'sg-compat-ca-'));
  tls = makeCa(caDir);
  s = await startStack('compat', {
    rates: { CNY: { fixed: '0.14' } },
    raw: {
      // The harness's environment holds two secrets; the webhook one (38 characters) doubles as
      // the key material of the credentials' encryption here.
      // A claimed short payment credits as paid_partial instead of going to review.
      claims: { per_invoice_per_minute: 5, per_client_per_minute: 1000, auto_accept_up_to: '1000' },
      compat: { encryption_key_env: 'SG_TEST_WEBHOOK_SECRET', callbacks: { retry_schedule: [0.2, 0.2], poll_ms: 50, timeout_ms: 3000, ca_file: tls.ca } },
    },
  });
  front = await tlsProxy(tls, s.app.url);
  rx = await callbackReceiver(tls);
  const credentials = s.app.compat.credentials;
  // The receiver is on 127.0.0.1: these panels' credentials allow private notify URLs.
  epusdtToken = (await credentials.create({ name: 'dujiaoka', protocol: 'epusdt', allowPrivate: true })).secret;
  const made = await credentials.create({ name: 'xboard', protocol: 'epay', allowPrivate: true });
  epay = { pid: String(made.pid), key: made.secret };
  strictToken = (await credentials.create({ name: 'strict', protocol: 'epusdt' })).secret;
  const configFile = path.join(s.dir, 'stablegate.config.json');
  fs.writeFileSync(configFile, JSON.stringify(s.raw));
  cli = (...args) =>
    new Promise((resolve) => {
      execFile('node', [path.join(__dirname, '..', 'bin', 'stablegate.js'), ...args, '--config', configFile], { env: { ...process.env, ...s.env } }, (error, stdout, stderr) =>
        resolve({ code: error ? error.code : 0, stdout, stderr }));
    });
});
after(async () => {
  await front?.close();
  await rx?.close();
  if (s) await s.stop();
});

const bepusdt = (command, args) => python(command, { api_url: front.url, token: epusdtToken, ...args }, tls.ca);
const epusdtClient = (command, args) => python(command, { base_url: front.url, pid: epay.pid, key: epay.key, ...args }, tls.ca);

/** POSTs an Epusdt request signed as a PHP panel signs it (JSON numbers as given, token appended). */
async function epusdtPost(fields, token = epusdtToken, rawBody = null) {
  const body = rawBody ?? JSON.stringify({ ...fields, signature: panelSign(fields, token) });
  const r = await fetch(`${s.app.url}/api/v1/order/create-transaction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(r.status, 200, 'Epusdt answers HTTP 200 whatever happened');
  return r.json();
}

/** An EPay form request signed with the merchant key. */
async function epayForm(file, fields, key = epay.key) {
  const form = new URLSearchParams({ ...fields, sign: panelSign(fields, key), sign_type: 'MD5' });
  return fetch(`${s.app.url}/${file}`, { method: 'POST', body: form, redirect: 'manual' });
}

/** Picks devnet for an invoice that offers several networks, pays it in full (or `units`), and mines to finality. */
async function pay(invoiceId, units) {
  let inv = (await s.api('GET', `/api/v1/invoices/${invoiceId}`)).body;
  if (!inv.network) {
    await s.api('POST', `/api/v1/checkout/${invoiceId}/choose`, { network: 'devnet', token: 'usdt' });
    inv = (await s.api('GET', `/api/v1/invoices/${invoiceId}`)).body;
  }
  const tron = inv.network === 'devnet-tron';
  const to = tron ? sg.parseAddress('devnet-tron', inv.recipient).hex : inv.recipient;
  await s.pay(to, units ?? inv.amount_due_units, { token: tron ? 'TronUsdtLike' : 'UsdtLike' });
  await s.net.mine(3);
  return inv;
}

const callbackRow = (invoiceId) => s.app.db.get('SELECT * FROM compat_callbacks WHERE invoice_id = ?', [invoiceId]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('bepusdt 0.3.15 over https: create, same order again, check status, paid on TRON: exactly one callback, which it verifies', { timeout: 60000 }, async () => {
  const order = { order_id: 'B-1', amount: 10, notify_url: `${rx.base}/epusdt/notify`, trade_type: 'usdt.trc20', name: 'VIP' };
  const made = await bepusdt('bepusdt-create', { order });
  assert.ok(!made.error, JSON.stringify(made));
  // 10 CNY at 0.14 USDT per CNY, on the one TRON network, with its unique amount and address.
  assert.equal(made.amount, 10);
  assert.equal(made.actual_amount, 1.4);
  assert.match(made.token, /^T/);
  assert.equal(made.payment_url, `${s.app.url}/pay/${made.trade_id}`);
  assert.equal((await bepusdt('bepusdt-create', { order })).trade_id, made.trade_id, 'the same order again is the same trade');
  const other = await bepusdt('bepusdt-create', { order: { ...order, amount: 11 } });
  assert.deepEqual([other.error, other.status_code], ['APIError', 10002]);
  assert.equal((await bepusdt('bepusdt-query', { trade_id: made.trade_id })).status, 1);
  assert.equal((await epusdtClient('epusdt-check-status', { trade_id: made.trade_id })).status, 1);

  await pay(made.trade_id);
  const callback = await rx.waitFor((r) => r.body.includes('"B-1"'));
  assert.equal(callback.method, 'POST');
  assert.deepEqual(await bepusdt('bepusdt-verify', { body: callback.body }), { verified: true });
  const body = JSON.parse(callback.body);
  assert.deepEqual([body.trade_id, body.order_id, body.amount, body.actual_amount, body.status, body.token], [made.trade_id, 'B-1', 10, 1.4, 2, made.token]);
  assert.match(callback.body, /"amount":10,/, 'the amount echoed as sent, a JSON number in its shortest form');
  assert.match(body.block_transaction_id, /^[0-9a-f]{64}$/);
  assert.equal((await bepusdt('bepusdt-query', { trade_id: made.trade_id })).status, 2);
  assert.equal((await epusdtClient('epusdt-check-status', { trade_id: made.trade_id })).status, 2);
  await sleep(500);
  assert.equal(rx.about('B-1').length, 1, 'exactly one callback');
  const row = await callbackRow(made.trade_id);
  assert.deepEqual([row.status, row.attempts], ['delivered', 1]);
});

test('epusdt 0.4.0 EPay: submit.php redirects to the pay page; paid, one GET notify, which it verifies; the return is signed only once paid', { timeout: 60000 }, async () => {
  const order = { out_trade_no: 'E-1', money: '1.00', notify_url: `${rx.base}/epay/notify.php`, return_url: 'https://shop.example/return', name: 'VIP 会员', type: 'alipay' };
  const made = await epusdtClient('epay-create', { order });
  assert.ok(!made.error, JSON.stringify(made));
  assert.equal(made.status_code, 302);
  const invoiceId = /\/pay\/(inv_[\w-]{22})$/.exec(made.location)[1];
  const inv = (await s.api('GET', `/api/v1/invoices/${invoiceId}`)).body;
  assert.deepEqual([inv.fiat_amount, inv.currency, inv.network, inv.accepted.length], ['1', 'CNY', null, 3], 'alipay: the customer picks the network');
  const returnUrl = `${s.app.url}/compat/epay/return?pid=${epay.pid}&out_trade_no=E-1`;
  const early = await fetch(returnUrl, { redirect: 'manual' });
  assert.equal(early.headers.get('location'), `${s.app.url}/pay/${invoiceId}`, 'no signed return before payment');

  await pay(invoiceId);
  const notify = await rx.waitFor((r) => r.url.startsWith('/epay/notify.php?') && r.url.includes('E-1'));
  assert.equal(notify.method, 'GET');
  const verified = await epusdtClient('epay-verify', { url: notify.url });
  assert.deepEqual(verified, { verified: true, money: '1', trade_status: 'TRADE_SUCCESS', out_trade_no: 'E-1', pid: Number(epay.pid) }, 'money echoed as the client sent it');
  const back = (await fetch(returnUrl, { redirect: 'manual' })).headers.get('location');
  assert.ok(back.startsWith('https://shop.example/return?'), back);
  assert.equal((await epusdtClient('epay-verify', { url: back })).verified, true);
  const query = await (await fetch(`${s.app.url}/api.php?act=order&pid=${epay.pid}&key=${epay.key}&out_trade_no=E-1`)).json();
  assert.deepEqual([query.code, query.status, query.money, query.trade_no], [1, 1, '1', invoiceId]);
  await sleep(500);
  assert.equal(rx.about('E-1').length, 1);
});

test('mapi.php answers JSON with the pay URL and QR content; an unknown type leaves the network to the customer', async () => {
  const r = await epayForm('mapi.php', { pid: epay.pid, type: 'wxpay', out_trade_no: 'M-1', notify_url: `${rx.base}/n`, name: 'x', money: '19.90', clientip: '203.0.113.5' });
  const body = await r.json();
  assert.equal(body.code, 1, JSON.stringify(body));
  assert.equal(body.payurl, `${s.app.url}/pay/${body.trade_no}`);
  assert.equal(body.qrcode, body.payurl);
  const inv = (await s.api('GET', `/api/v1/invoices/${body.trade_no}`)).body;
  assert.deepEqual([inv.fiat_amount, inv.network, inv.rate], ['19.9', null, '0.14']);
});

test('no callback for an unpaid, partial, in-review or expired invoice; the review, accepted, sends one', { timeout: 60000 }, async () => {
  const create = async (order_id, extra = {}) => {
    const r = await epusdtPost({ order_id, amount: 20, notify_url: `${rx.base}/none`, trade_type: 'usdt.erc20', ...extra });
    assert.equal(r.status_code, 200, JSON.stringify(r));
    return r.data.trade_id;
  };
  const unpaid = await create('N-unpaid');
  const partial = await create('N-partial');
  const review = await create('N-review');
  const expiring = await create('N-expired', { timeout: 60 });
  // usdt.erc20 offers both devnet tokens: choose one to fix the amount, then pay half.
  await s.api('POST', `/api/v1/checkout/${partial}/choose`, { network: 'devnet', token: 'usdt' });
  const inv = (await s.api('GET', `/api/v1/invoices/${partial}`)).body;
  // Half the amount matches no unique amount: the customer claims it by its transaction.
  const half = await s.pay(inv.recipient, String(BigInt(inv.amount_due_units) / 2n));
  await s.net.mine(3);
  assert.equal((await s.api('POST', `/api/v1/checkout/${partial}/claim`, { tx_hash: half.tx })).status, 200);
  await s.api('POST', `/api/v1/checkout/${review}/choose`, { network: 'devnet', token: 'usdt' });
  assert.equal((await s.api('POST', `/api/v1/invoices/${review}/review`)).status, 200);
  await pay(review);
  await s.waitInvoice(review, (i) => i.state === 'settled' && i.exception === 'needs_review');
  await s.waitInvoice(partial, (i) => i.exception === 'paid_partial');
  await s.advance(120);
  await s.waitInvoice(expiring, (i) => i.state === 'expired');
  await sleep(1000);
  for (const id of [unpaid, partial, review, expiring]) assert.equal(await callbackRow(id), undefined, id);
  assert.equal(rx.received.filter((r) => r.url === '/none').length, 0);

  const resolved = await s.api('POST', `/api/v1/invoices/${review}/review/resolve`, { decision: 'accept', note: 'the customer showed the transfer' });
  assert.equal(resolved.body.state, 'settled');
  const callback = await rx.waitFor((r) => r.body.includes('"N-review"'));
  assert.deepEqual(await bepusdt('bepusdt-verify', { body: callback.body }), { verified: true });
});

test('delivered only on the protocol\'s answer: retried on the schedule, dead-lettered, resent from the CLI or the API', { timeout: 60000 }, async () => {
  rx.answerWith((r) => (r.url.includes('D-2') ? 'FAIL' : r.body.includes('"D-1"') ? 'OK!' : defaultAnswer(r)));
  const d1 = (await epusdtPost({ order_id: 'D-1', amount: 30, notify_url: `${rx.base}/d`, trade_type: 'usdt.erc20' })).data.trade_id;
  const d2 = await (await epayForm('mapi.php', { pid: epay.pid, type: 'usdt.erc20', out_trade_no: 'D-2', notify_url: `${rx.base}/d2`, name: 'x', money: '31' })).json();
  await pay(d1);
  await pay(d2.trade_no);
  for (const id of [d1, d2.trade_no]) {
    const until = Date.now() + 20000;
    while ((await callbackRow(id))?.status !== 'dead' && Date.now() < until) await sleep(100);
    const row = await callbackRow(id);
    assert.deepEqual([row.status, row.attempts], ['dead', 3], 'the first try and the two retries of the schedule');
  }
  assert.equal(rx.about('D-1').length, 3);
  assert.equal(rx.about('D-2').length, 3);
  const listed = await cli('compat', 'callbacks', 'dead-letters');
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.includes(`cb_${d1}`) && listed.stdout.includes(`cb_${d2.trade_no}`), listed.stdout);

  const api = await s.api('GET', '/api/v1/compat/callbacks/dead-letters');
  assert.deepEqual(api.body.data.map((c) => c.id).sort(), [`cb_${d1}`, `cb_${d2.trade_no}`].sort(), 'the same list through the API');

  rx.answerWith(defaultAnswer);
  // One resent from the CLI, the other through the API.
  const resent = await cli('compat', 'callbacks', 'resend', `cb_${d1}`);
  assert.equal(resent.code, 0, resent.stderr);
  const viaApi = await s.api('POST', `/api/v1/compat/callbacks/cb_${d2.trade_no}/resend`);
  assert.deepEqual([viaApi.status, viaApi.body.status, viaApi.body.attempts], [200, 'pending', 0]);
  assert.equal((await s.api('POST', '/api/v1/compat/callbacks/cb_nope/resend')).body.error.code, 'delivery_not_found');
  for (const id of [d1, d2.trade_no]) {
    const until = Date.now() + 20000;
    while ((await callbackRow(id)).status !== 'delivered' && Date.now() < until) await sleep(100);
    assert.deepEqual([(await callbackRow(id)).status, (await callbackRow(id)).attempts], ['delivered', 1]);
  }
  assert.equal(rx.about('D-1').length, 4);
});

test('bad input gets each protocol\'s error, and nothing is created', async () => {
  const counts = async () => {
    const n = async (table) => Number((await s.app.db.get(`SELECT COUNT(*) AS n FROM ${table}`)).n);
    return { invoices: await n('invoices'), orders: await n('compat_orders'), events: await n('events') };
  };
  const good = { order_id: 'X-1', amount: 42, notify_url: `${rx.base}/x` };
  assert.equal((await epusdtPost({ ...good, order_id: 'X-taken' })).status_code, 200);
  await epayForm('mapi.php', { pid: epay.pid, type: 'alipay', out_trade_no: 'Y-taken', notify_url: `${rx.base}/y`, name: 'x', money: '5.00' });
  const before = await counts();
  const epusdtCases = [
    ['bad signature', () => epusdtPost(good, 'not-the-token'), 401],
    ['another order under an existing id', () => epusdtPost({ ...good, order_id: 'X-taken', amount: 43 }), 10002],
    ['a negative amount', () => epusdtPost({ ...good, amount: -1 }), 10004],
    ['a zero amount', () => epusdtPost({ ...good, amount: 0 }), 10004],
    ['three decimals', () => epusdtPost({ ...good, amount: 1.234 }), 10004],
    ['an amount that is no number', () => epusdtPost({ ...good, amount: 'abc' }), 10004],
    ['a notify URL to a private address', () => epusdtPost({ ...good, notify_url: 'http://10.0.0.7/notify' }, strictToken), 400],
    ['a notify URL to loopback', () => epusdtPost({ ...good, notify_url: 'http://127.0.0.1:9/notify' }, strictToken), 400],
    ['a notify URL that is not http(s)', () => epusdtPost({ ...good, notify_url: 'file:///etc/passwd' }), 400],
    ['an asset this server does not take', () => epusdtPost({ ...good, trade_type: 'usdc.trc20' }), 10003],
    ['a currency without a rate', () => epusdtPost({ ...good, fiat: 'JPY' }), 10006],
    ['a rate chosen per order', () => epusdtPost({ ...good, rate: '7.4' }), 10006],
    ['not JSON', () => epusdtPost(null, epusdtToken, '{"order_id": '), 10009],
    ['a key twice', () => epusdtPost(null, epusdtToken, `{"order_id":"X-2","order_id":"X-3","amount":1,"notify_url":"${rx.base}/x","signature":"${'0'.repeat(32)}"}`), 10009],
  ];
  for (const [name, call, code] of epusdtCases) {
    const r = await call();
    assert.equal(r.status_code, code, `${name}: ${JSON.stringify(r)}`);
    assert.equal(typeof r.message, 'string');
    assert.deepEqual(await counts(), before, name);
  }
  const form = { pid: epay.pid, type: 'alipay', out_trade_no: 'Y-1', notify_url: `${rx.base}/y`, name: 'x', money: '5.00' };
  const epayCases = [
    ['bad signature', () => epayForm('mapi.php', form, 'wrong-key')],
    ['an unknown pid', () => epayForm('mapi.php', { ...form, pid: '1' })],
    ['another order under an existing id', () => epayForm('mapi.php', { ...form, out_trade_no: 'Y-taken', money: '6.00' })],
    ['money that is no amount', () => epayForm('mapi.php', { ...form, money: '-5' })],
    ['money with three decimals', () => epayForm('mapi.php', { ...form, money: '5.001' })],
    ['a type this server has no wallet for', () => epayForm('mapi.php', { ...form, token: 'usdc', network: 'tron' })],
  ];
  for (const [name, call] of epayCases) {
    const r = await (await call()).json();
    assert.deepEqual([r.code, typeof r.msg], [-1, 'string'], `${name}: ${JSON.stringify(r)}`);
  }
  const page = await epayForm('submit.php', { ...form, money: '<b>' });
  assert.equal(page.status, 400);
  const html = await page.text();
  assert.ok(!html.includes('<b>') && html.includes('money'), html);
  assert.deepEqual(await counts(), before);
});

test('credentials: made and revoked from the CLI, secrets sealed at rest, listed without them; the allow-list refuses other callers', async () => {
  const made = await cli('compat', 'create', 'new-api', '--protocol', 'epusdt', '--allow-ip', '203.0.113.9,2001:db8::/32');
  assert.equal(made.code, 0, made.stderr);
  const id = /created (cc_[0-9a-f]{16})/.exec(made.stdout)[1];
  const token = /token \(shown once, store it now\): ([0-9a-f]{40})/.exec(made.stdout)[1];
  const refused = await epusdtPost({ order_id: 'IP-1', amount: 1, notify_url: `${rx.base}/ip` }, token);
  assert.equal(refused.status_code, 401, 'this test calls from 127.0.0.1, which the list does not hold');
  const rows = await s.app.db.all('SELECT * FROM compat_credentials');
  const text = JSON.stringify(rows);
  for (const secret of [token, epusdtToken, epay.key, strictToken]) assert.ok(!text.includes(secret), 'no secret in plaintext');
  assert.ok(rows.every((r) => /^v1:/.test(r.secret_enc) && /^[0-9a-f]{64}$/.test(r.secret_hash)));
  const listed = await cli('compat', 'list');
  assert.ok(listed.stdout.includes(id) && listed.stdout.includes('from=203.0.113.9,2001:db8::/32') && !listed.stdout.includes(token), listed.stdout);
  assert.equal((await cli('compat', 'revoke', id)).code, 0);
  assert.match((await cli('compat', 'list')).stdout, new RegExp(`${id}.*REVOKED`));
});

test('several workers at once (as several server processes would) send each due callback once', { timeout: 30000 }, async () => {
  const delivered = await s.app.db.all(`SELECT id, invoice_id FROM compat_callbacks WHERE status = 'delivered'`);
  assert.ok(delivered.length >= 4);
  const before = rx.received.length;
  const quiet = { info() {}, warn() {}, error() {} };
  const others = [0, 1].map(() => createCompat(s.config, s.app.db, s.app.invoices, quiet).callbacks);
  await s.app.db.run(`UPDATE compat_callbacks SET status = 'pending', attempts = 0, next_attempt_at = 0 WHERE status = 'delivered'`);
  await Promise.all([...others.map((w) => w.deliverDue()), ...others.map((w) => w.deliverDue()), s.app.compat.callbacks.deliverDue()]);
  // Counted per callback (a retry of an earlier test's callback may arrive meanwhile).
  const sends = () => delivered.map((d) => rx.received.slice(before).filter((r) => r.url.includes(d.invoice_id) || r.body.includes(d.invoice_id)).length);
  const until = Date.now() + 10000;
  while (sends().some((n) => n < 1) && Date.now() < until) await sleep(50);
  await sleep(300);
  assert.deepEqual(sends(), delivered.map(() => 1), 'one send per callback');
  const rows = await s.app.db.all(`SELECT status, attempts, claimed_by FROM compat_callbacks WHERE id IN (${delivered.map(() => '?').join(',')})`, delivered.map((d) => d.id));
  assert.ok(rows.every((r) => r.status === 'delivered' && r.attempts === 1 && r.claimed_by === null), JSON.stringify(rows));
});
