// Every endpoint over HTTP, on the real devnet and the database of STABLEGATE_TEST_DB (SQLite
// by default): good requests, and each malformed field answered with a 4xx whose code names it
// and with nothing written. Every JSON answer is checked against the OpenAPI document, and every
// status document against the shared JSON Schema.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const Ajv2020 = require('../../node_modules/ajv/dist/2020').default;
const { startStack, API_KEY, WEBHOOK_SECRET } = require('./helpers');

const openapi = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'openapi.json'), 'utf8'));
const statusSchema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'vectors', 'schema', 'status.schema.json'), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
ajv.addSchema({ $id: 'openapi', components: openapi.components }, 'openapi');
const validateStatus = ajv.compile(statusSchema);

/** Finds the documented response of (method, concrete path, status) and validates `body`. */
function conforms(method, urlPath, status, body) {
  const pathOnly = urlPath.split('?')[0];
  const entry = Object.entries(openapi.paths).find(([p]) => new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathOnly));
  assert.ok(entry, `no documented path for ${pathOnly}`);
  const op = entry[1][method.toLowerCase()];
  assert.ok(op, `${method} ${entry[0]} is not documented`);
  const response = op.responses[String(status)];
  assert.ok(response, `${method} ${entry[0]} does not document status ${status}`);
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return;
  const ref = JSON.parse(JSON.stringify(schema).replace(/"#\/components/g, '"openapi#/components'));
  const validate = ajv.compile(ref);
  assert.ok(validate(body), `${method} ${pathOnly} ${status} does not match the OpenAPI document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  if (schema.$ref === '#/components/schemas/StatusDocument') assertStatusDoc(body);
}

function assertStatusDoc(doc) {
  assert.ok(validateStatus(doc), `status document fails the schema: ${ajv.errorsText(validateStatus.errors)}`);
}

let s;
/** api() that also checks the answer against the OpenAPI document. */
async function call(method, urlPath, body, headers) {
  const r = await s.api(method, urlPath, body, headers);
  conforms(method, urlPath, r.status, r.body);
  return r;
}
const counts = async () => {
  const n = async (table) => Number((await s.app.db.get(`SELECT COUNT(*) AS n FROM ${table}`)).n);
  return { invoices: await n('invoices'), events: await n('events'), ledger: await n('ledger'), keys: await n('idempotency_keys') };
};

before(async () => {
  s = await startStack('api');
});
after(async () => {
  if (s) await s.stop();
});

test('the OpenAPI document lists exactly the routes the server has', async () => {
  const served = s.app.routes.map((r) => `${r.method} ${r.path}`).sort();
  const documented = Object.entries(openapi.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  assert.deepEqual(served, documented);
  const r = await fetch(`${s.app.url}/openapi.json`).then((x) => x.json());
  assert.deepEqual(r, openapi);
  // Every merchant route refuses a missing or wrong key, and the document says which need one.
  for (const route of s.app.routes) {
    const op = openapi.paths[route.path][route.method.toLowerCase()];
    assert.equal(Boolean(op.security), route.auth === 'merchant', `${route.method} ${route.path} security`);
  }
});

test('merchant endpoints need a valid API key', async () => {
  for (const [method, p] of [['POST', '/api/v1/invoices'], ['GET', '/api/v1/invoices'], ['GET', '/api/v1/invoices/inv_aaaaaaaaaaaaaaaaaaaaaa'], ['GET', '/api/v1/webhooks/dead-letters']]) {
    const none = await call(method, p, method === 'POST' ? { amount: '1' } : undefined, { authorization: '' });
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'unauthorized');
    const wrong = await call(method, p, undefined, { authorization: 'Bearer sg_wrong' });
    assert.equal(wrong.status, 401);
  }
  // Keys are stored hashed: the plain key is nowhere in the database.
  const rows = await s.app.db.all('SELECT key_hash FROM api_keys');
  assert.ok(rows.length >= 1 && rows.every((r) => r.key_hash !== API_KEY && /^[0-9a-f]{64}$/.test(r.key_hash)));
});

test('each malformed field gets a 4xx naming it, and nothing is written', async () => {
  const before = await counts();
  const cases = [
    [[1, 2], 400, 'invalid_body', 'body'],
    ['{"amount": ', 400, 'invalid_json', 'body'],
    [{ amount: 19.99 }, 422, 'invalid_amount', 'amount'],
    [{ amount: 'abc' }, 422, 'invalid_amount', 'amount'],
    [{ amount: '0' }, 422, 'invalid_amount', 'amount'],
    [{ amount: '-1' }, 422, 'invalid_amount', 'amount'],
    [{ amount: '1.1234567', networks: ['devnet'] }, 422, 'invalid_amount', 'amount'],
    [{ amount: '340282366920938463463374607431768.2', networks: ['devnet'] }, 422, 'invalid_amount', 'amount'], // its unique amounts pass 2^128
    [{}, 422, 'invalid_amount', 'amount'],
    [{ amount: '1', fiat_amount: '1', currency: 'EUR' }, 422, 'invalid_amount', 'amount'],
    [{ fiat_amount: '10' }, 422, 'invalid_currency', 'currency'],
    [{ fiat_amount: '10', currency: 'eur' }, 422, 'invalid_currency', 'currency'],
    [{ fiat_amount: '10', currency: 'JPY' }, 422, 'invalid_currency', 'currency'],
    [{ fiat_amount: 10, currency: 'EUR' }, 422, 'invalid_fiat_amount', 'fiat_amount'],
    [{ fiat_amount: '1e3', currency: 'EUR' }, 422, 'invalid_fiat_amount', 'fiat_amount'],
    [{ amount: '1', networks: ['bitcoin'] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: [] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: 'devnet' }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: ['devnet:nope'] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: ['devnet', 'devnet'] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: ['devnet:usdt:usdt18'] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: [{ network: 'devnet', tokn: 'usdt18' }] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', networks: [{ network: 'devnet', token: null }] }, 422, 'invalid_networks', 'networks'],
    [{ amount: '1', redirect_url: 'javascript:alert(1)' }, 422, 'invalid_redirect_url', 'redirect_url'],
    [{ amount: '1', redirect_url: 42 }, 422, 'invalid_redirect_url', 'redirect_url'],
    [{ amount: '1', metadata: [1] }, 422, 'invalid_metadata', 'metadata'],
    [{ amount: '1', metadata: { big: 'x'.repeat(5000) } }, 422, 'invalid_metadata', 'metadata'],
    [{ amount: '1', order_id: '' }, 422, 'invalid_order_id', 'order_id'],
    [{ amount: '1', order_id: 7 }, 422, 'invalid_order_id', 'order_id'],
    [{ amount: '1', expires_in: 0 }, 422, 'invalid_expires_in', 'expires_in'],
    [{ amount: '1', expires_in: 1.5 }, 422, 'invalid_expires_in', 'expires_in'],
    [{ amount: '1', colour: 'red' }, 422, 'unknown_field', 'colour'],
  ];
  for (const [body, status, code, field] of cases) {
    const r = await call('POST', '/api/v1/invoices', body, { 'idempotency-key': `bad-${code}-${Math.random()}` });
    assert.equal(r.status, status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, JSON.stringify(body));
    assert.equal(r.body.error.field, field, JSON.stringify(body));
  }
  const longKey = await call('POST', '/api/v1/invoices', { amount: '1' }, { 'idempotency-key': 'k'.repeat(201) });
  assert.deepEqual([longKey.status, longKey.body.error.code, longKey.body.error.field], [400, 'invalid_idempotency_key', 'Idempotency-Key']);
  assert.deepEqual(await counts(), before);
});

test('create (USDT and fiat), read, list with filters and pages', async () => {
  const usdt = await call('POST', '/api/v1/invoices', { amount: '12.5', networks: ['devnet'], order_id: 'order-1', metadata: { sku: 'tee' }, redirect_url: 'https://shop.example/thanks' });
  assert.equal(usdt.status, 201);
  assert.deepEqual([usdt.body.state, usdt.body.network, usdt.body.token, usdt.body.amount_due, usdt.body.amount_due_units], ['new', 'devnet', 'usdt', '12.5', '12500000']);
  assert.equal(usdt.body.recipient.toLowerCase(), s.net.accounts[5].toLowerCase());
  assert.match(usdt.body.status_url, new RegExp(`/api/v1/checkout/${usdt.body.id}$`));
  // EUR at the configured fixed 1.08 USDT per euro, rounded up to 0.01.
  const eur = await call('POST', '/api/v1/invoices', { fiat_amount: '9.99', currency: 'EUR', networks: ['devnet:usdt18'] });
  assert.equal(eur.status, 201);
  assert.deepEqual([eur.body.amount_due, eur.body.amount_due_units, eur.body.rate, eur.body.token], ['10.79', '10790000000000000000', '1.08', 'usdt18']);
  const got = await call('GET', `/api/v1/invoices/${usdt.body.id}`);
  assert.deepEqual(got.body, usdt.body);
  assert.equal((await call('GET', '/api/v1/invoices/inv_doesnotexistdoesnotex')).body.error.code, 'invoice_not_found');
  assert.equal((await call('GET', '/api/v1/invoices/not-an-id')).status, 404);
  // Without a compat section the compatibility callbacks' routes say so (docs/compat/).
  const off = await call('GET', '/api/v1/compat/callbacks/dead-letters');
  assert.deepEqual([off.status, off.body.error.code], [404, 'compat_disabled']);

  const byOrder = await call('GET', '/api/v1/invoices?order_id=order-1');
  assert.deepEqual(byOrder.body.data.map((i) => i.id), [usdt.body.id]);
  const page1 = await call('GET', '/api/v1/invoices?limit=1');
  assert.equal(page1.body.data.length, 1);
  assert.equal(page1.body.has_more, true);
  const page2 = await call('GET', `/api/v1/invoices?limit=1&after=${page1.body.next_after}`);
  assert.notEqual(page2.body.data[0].id, page1.body.data[0].id);
  const news = await call('GET', '/api/v1/invoices?state=new&limit=200');
  assert.ok(news.body.data.every((i) => i.state === 'new') && news.body.data.length >= 2);
  for (const [q, field] of [['limit=0', 'limit'], ['limit=x', 'limit'], ['state=paid', 'state'], ['after=inv_nope', 'after']]) {
    const r = await call('GET', `/api/v1/invoices?${q}`);
    assert.deepEqual([r.status, r.body.error.code], [422, `invalid_${field}`], q);
  }
});

test('Idempotency-Key: a repeat replays, the same key with another body is refused', async () => {
  const body = { amount: '3.33', networks: ['devnet'], order_id: 'idem' };
  const first = await call('POST', '/api/v1/invoices', body, { 'idempotency-key': 'key-1' });
  const again = await call('POST', '/api/v1/invoices', body, { 'idempotency-key': 'key-1' });
  assert.equal(first.status, 201);
  assert.deepEqual(again.body, first.body);
  // Concurrent twins: one invoice.
  const twins = await Promise.all([1, 2, 3].map(() => call('POST', '/api/v1/invoices', { ...body, order_id: 'twins' }, { 'idempotency-key': 'key-2' })));
  assert.equal(new Set(twins.map((t) => t.body.id)).size, 1);
  assert.equal((await call('GET', '/api/v1/invoices?order_id=twins')).body.data.length, 1);
  const other = await call('POST', '/api/v1/invoices', { ...body, amount: '4' }, { 'idempotency-key': 'key-1' });
  assert.deepEqual([other.status, other.body.error.code], [422, 'idempotency_key_reused']);
});

test('a request\'s Host header reaches no link: not the answer, the stored replay, or a webhook body', { timeout: 30000 }, async () => {
  // fetch() does not let a caller set Host; a raw request does, as any client can.
  const forged = (method, urlPath, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const req = http.request(`${s.app.url}${urlPath}`, { method, headers: { host: 'attacker.example', authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end(text);
    });
  const links = (invoice) => [invoice.status_url, invoice.pay_url];
  const own = (invoice) => [`${s.app.url}/api/v1/checkout/${invoice.id}`, `${s.app.url}/pay/${invoice.id}`];
  const created = await forged('POST', '/api/v1/invoices', { amount: '6.66', networks: ['devnet'], order_id: 'host' }, { 'idempotency-key': 'host-1' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const inv = created.body;
  assert.deepEqual(links(inv), own(inv));
  const replayed = await call('POST', '/api/v1/invoices', { amount: '6.66', networks: ['devnet'], order_id: 'host' }, { 'idempotency-key': 'host-1' });
  assert.deepEqual(links(replayed.body), own(inv));
  const doc = await forged('GET', `/api/v1/checkout/${inv.id}`);
  assert.ok(Object.values(doc.body.links).every((l) => l === null || l.startsWith(`${s.app.url}/`)), JSON.stringify(doc.body.links));
  // The events of requests that carried the forged Host.
  assert.equal((await forged('POST', `/api/v1/invoices/${inv.id}/cancel`)).status, 200);
  for (const type of ['invoice.created', 'invoice.invalid']) {
    const event = await s.receiver.waitFor((e) => e.type === type && e.data.invoice.id === inv.id);
    assert.deepEqual(links(event.data.invoice), own(inv), type);
  }
  const stored = await s.app.db.all('SELECT body FROM events WHERE invoice_id = ?', [inv.id]);
  assert.ok(stored.length >= 2 && stored.every((e) => !e.body.includes('attacker.example')), 'no stored event names the Host');
});

test('several networks: choices until the customer chooses; bad choices name the field', async () => {
  const inv = (await call('POST', '/api/v1/invoices', { amount: '5' })).body;
  assert.equal(inv.network, null);
  assert.equal(inv.amount_due_units, null);
  const doc = (await call('GET', `/api/v1/checkout/${inv.id}`)).body;
  assert.deepEqual(doc.choices.map((c) => `${c.network}:${c.token}:${c.amount}`), ['devnet:usdt:5', 'devnet:usdt18:5', 'devnet-tron:usdt:5']);
  assert.equal(doc.network, null);
  assert.match(doc.links.choose, /\/choose$/);
  const before = await counts();
  for (const [body, status, code] of [
    [{ network: 'bitcoin' }, 422, 'invalid_network'],
    [{ network: 42 }, 422, 'invalid_network'],
    [{ network: 'devnet', token: 'nope' }, 422, 'invalid_token'],
    [[1], 400, 'invalid_body'],
  ]) {
    const r = await call('POST', `/api/v1/checkout/${inv.id}/choose`, body);
    assert.deepEqual([r.status, r.body.error.code], [status, code], JSON.stringify(body));
  }
  assert.deepEqual(await counts(), before);
  const chosen = await call('POST', `/api/v1/checkout/${inv.id}/choose`, { network: 'devnet-tron' });
  assert.equal(chosen.status, 200);
  assert.equal(chosen.body.network, 'devnet-tron');
  assert.match(chosen.body.recipient, /^T/);
  assert.deepEqual(chosen.body.choices, []);
  const same = await call('POST', `/api/v1/checkout/${inv.id}/choose`, { network: 'devnet-tron' });
  assert.equal(same.status, 200);
  const change = await call('POST', `/api/v1/checkout/${inv.id}/choose`, { network: 'devnet' });
  assert.deepEqual([change.status, change.body.error.code], [409, 'network_already_chosen']);
  const merchant = (await call('GET', `/api/v1/invoices/${inv.id}`)).body;
  assert.deepEqual([merchant.network, merchant.token, merchant.amount_due_units], ['devnet-tron', 'usdt', '5000000']);
});

test('cancel and review', async () => {
  const inv = (await call('POST', '/api/v1/invoices', { amount: '6', networks: ['devnet'] })).body;
  const cancelled = await call('POST', `/api/v1/invoices/${inv.id}/cancel`);
  assert.deepEqual([cancelled.status, cancelled.body.state], [200, 'invalid']);
  const again = await call('POST', `/api/v1/invoices/${inv.id}/cancel`);
  assert.deepEqual([again.status, again.body.error.code], [409, 'invoice_not_cancellable']);
  const unchosen = (await call('POST', '/api/v1/invoices', { amount: '6' })).body;
  assert.equal((await call('POST', `/api/v1/invoices/${unchosen.id}/cancel`)).body.state, 'invalid');
  assert.equal((await call('POST', `/api/v1/invoices/${unchosen.id}/review`)).body.error.code, 'network_not_chosen');
  const other = (await call('POST', '/api/v1/invoices', { amount: '6', networks: ['devnet'] })).body;
  const reviewed = await call('POST', `/api/v1/invoices/${other.id}/review`);
  assert.deepEqual([reviewed.status, reviewed.body.exception], [200, 'needs_review']);
  assert.equal((await call('POST', '/api/v1/invoices/inv_doesnotexistdoesnotex/cancel')).status, 404);
});

test('status document, events stream, payment, claim rules and the pay page', async () => {
  const inv = (await call('POST', '/api/v1/invoices', { amount: '7.77', networks: ['devnet'], redirect_url: 'https://shop.example/done' })).body;
  const doc = (await call('GET', `/api/v1/checkout/${inv.id}`)).body;
  assert.deepEqual([doc.state, doc.amount_due, doc.return_url], ['new', '7.77', 'https://shop.example/done']);
  assert.match(doc.payment_uri, /^ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@31337\/transfer\?address=/);
  assert.equal((await fetch(`${s.app.url}/api/v1/checkout/${inv.id}`)).headers.get('access-control-allow-origin'), '*');

  // Server-sent events: the document now, and again when the payment is seen.
  const controller = new AbortController();
  const stream = await fetch(`${s.app.url}/api/v1/checkout/${inv.id}/events`, { signal: controller.signal });
  assert.equal(stream.headers.get('content-type'), 'text/event-stream');
  const reader = stream.body.getReader();
  const docs = [];
  let buffer = '';
  const next = async () => {
    for (;;) {
      const at = buffer.indexOf('\n\n');
      if (at >= 0) {
        const chunk = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const data = chunk.split('\n').find((l) => l.startsWith('data: '));
        if (data) return JSON.parse(data.slice(6));
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += Buffer.from(value).toString('utf8');
    }
  };
  docs.push(await next());
  assert.equal(docs[0].state, 'new');

  // Claims before paying: malformed, unknown.
  for (const [body, code] of [[{ tx_hash: 'nope' }, 'invalid_tx_hash'], [{}, 'invalid_tx_hash'], [{ tx_hash: '0x' + '1'.repeat(64) }, 'transaction_not_found']]) {
    const r = await call('POST', `/api/v1/checkout/${inv.id}/claim`, body);
    assert.deepEqual([r.status, r.body.error.code], [422, code], JSON.stringify(body));
  }
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  let seen;
  do seen = await next(); while (seen.state === 'new');
  assertStatusDoc(seen);
  assert.deepEqual([seen.state, seen.transfers[0].tx, seen.finality.required], ['processing', paid.tx, 3]);
  controller.abort();

  // Claiming a transfer that already credited this invoice credits nothing.
  const replay = await call('POST', `/api/v1/checkout/${inv.id}/claim`, { tx_hash: paid.tx });
  assert.deepEqual([replay.status, replay.body.error.code], [409, 'already_credited']);
  // And the claim endpoint is rate-limited per invoice (5 a minute here: this is the 6th).
  assert.equal((await call('POST', `/api/v1/checkout/${inv.id}/claim`, { tx_hash: paid.tx })).status, 409);
  const limited = await call('POST', `/api/v1/checkout/${inv.id}/claim`, { tx_hash: paid.tx });
  assert.deepEqual([limited.status, limited.body.error.code], [429, 'rate_limited']);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);

  await s.net.mine(3);
  const settled = await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  assert.deepEqual(settled.transfers.map((t) => [t.tx_hash, t.status]), [[paid.tx, 'final']]);
  const finalDoc = (await call('GET', `/api/v1/checkout/${inv.id}`)).body;
  assert.deepEqual([finalDoc.state, finalDoc.poll_after_ms, finalDoc.payment_uri], ['settled', 0, null]);

  const page = await fetch(`${s.app.url}/pay/${inv.id}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
  const html = await page.text();
  assert.ok(html.includes(`status-url="${s.app.url}/api/v1/checkout/${inv.id}"`) || html.includes('widget is not built'), html);
  assert.ok(!html.includes('demo wallet'), 'no demo button outside demo mode');
  // No secret reaches the browser: not in the page, its assets, or the status document.
  const served = [html, await (await fetch(`${s.app.url}/assets/pay.css`)).text(), JSON.stringify(finalDoc)];
  for (const text of served) for (const secret of [API_KEY, WEBHOOK_SECRET]) assert.ok(!text.includes(secret));
  assert.equal((await fetch(`${s.app.url}/pay/inv_doesnotexistdoesnotex`)).status, 404);
  assert.equal((await fetch(`${s.app.url}/demo/pay/${inv.id}`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${s.app.url}/widget/../../package.json`)).status, 404);
});

test('transfers that credited no invoice are listed for the merchant, never lost from view', { timeout: 30000 }, async () => {
  const inv = (await call('POST', '/api/v1/invoices', { amount: '31', networks: ['devnet'] })).body;
  const odd = await s.pay(inv.recipient, '30990000'); // a wallet rounded: matches nothing
  const head = Number(await s.net.rpc('eth_blockNumber'));
  for (let i = 0; i < 200 && (await s.api('GET', '/health')).body.networks.devnet.cursors.usdt < head; i++) await new Promise((r) => setTimeout(r, 50));
  const listed = await call('GET', '/api/v1/transfers/unmatched?limit=200');
  assert.equal(listed.status, 200);
  const entry = listed.body.data.find((t) => t.tx_hash === odd.tx);
  assert.ok(entry, JSON.stringify(listed.body));
  assert.deepEqual([entry.network, entry.token, entry.amount, entry.amount_units, entry.note], ['devnet', 'usdt', '30.99', '30990000', 'unmatched']);
  assert.equal(entry.recipient.toLowerCase(), inv.recipient.toLowerCase());
  const metrics = await (await fetch(`${s.app.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`^stablegate_unmatched_transfers ${listed.body.data.length}$`, 'm'));
  // Claimed, it is no longer unmatched.
  assert.equal((await call('POST', `/api/v1/checkout/${inv.id}/claim`, { tx_hash: odd.tx })).status, 200);
  const after = await call('GET', '/api/v1/transfers/unmatched');
  assert.equal(after.body.data.some((t) => t.tx_hash === odd.tx), false);
  const bad = await call('GET', '/api/v1/transfers/unmatched?limit=0');
  assert.deepEqual([bad.status, bad.body.error.code], [422, 'invalid_limit']);
  assert.equal((await s.api('GET', '/api/v1/transfers/unmatched', undefined, { authorization: 'Bearer nope' })).status, 401);
});

test('webhooks are signed, retried, dead-lettered and resent', async () => {
  const inv = (await call('POST', '/api/v1/invoices', { amount: '8', networks: ['devnet'], order_id: 'hooks' })).body;
  const created = await s.receiver.waitFor((e) => e.type === 'invoice.created' && e.data.invoice.id === inv.id);
  assert.equal(created.data.invoice.order_id, 'hooks');
  assert.ok(s.receiver.received.filter((r) => r.event.data.invoice.id === inv.id).every((r) => r.verified && r.headers['stablegate-event-id'] === r.event.id));
  // The receiver fails three times: first try + two retries (schedule of two), then dead.
  s.receiver.fail((e) => e.data.invoice.id === inv.id && e.type === 'invoice.needs_review', 3);
  await call('POST', `/api/v1/invoices/${inv.id}/review`);
  let dead;
  for (let i = 0; i < 100 && !dead; i++) {
    dead = (await call('GET', '/api/v1/webhooks/dead-letters')).body.data.find((d) => d.event_id.startsWith(inv.id));
    if (!dead) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(dead, 'the delivery was dead-lettered');
  assert.deepEqual([dead.attempts, dead.last_error], [3, 'HTTP 500']);
  const resent = await call('POST', `/api/v1/webhooks/deliveries/${dead.id}/resend`);
  assert.equal(resent.status, 200);
  const event = await s.receiver.waitFor((e) => e.id === dead.event_id);
  assert.equal(event.type, 'invoice.needs_review');
  assert.equal((await call('POST', '/api/v1/webhooks/deliveries/whd_nope/resend')).body.error.code, 'delivery_not_found');
});

test('health, metrics, unknown paths and methods', async () => {
  const health = await call('GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.database.ok, true);
  assert.equal(typeof health.body.networks.devnet.head, 'number');
  assert.ok(health.body.networks.devnet.rpc.every((r) => r.healthy));
  const metrics = await (await fetch(`${s.app.url}/metrics`)).text();
  assert.match(metrics, /^stablegate_invoices\{state="settled"\} [1-9]/m);
  assert.match(metrics, /^stablegate_watcher_lag_blocks\{network="devnet",token="usdt"\} \d+$/m);
  assert.match(metrics, /^stablegate_rpc_errors_total\{network="devnet",url="0:http:\/\/127\.0\.0\.1:\d+"\} 0$/m);
  assert.match(metrics, /^stablegate_webhook_backlog\{status="dead"\} \d+$/m);
  assert.equal((await s.api('GET', '/nope')).body.error.code, 'not_found');
  const wrong = await s.api('DELETE', '/api/v1/invoices');
  assert.deepEqual([wrong.status, wrong.body.error.code], [405, 'method_not_allowed']);
  // A path that is not valid percent-encoding is the client's error, not the server's.
  for (const p of ['/api/v1/invoices/%E0%A4%A', '/api/v1/checkout/%ZZ', '/pay/%']) {
    const bad = await s.api('GET', p);
    assert.deepEqual([bad.status, bad.body.error.code], [400, 'invalid_path'], p);
  }
});
