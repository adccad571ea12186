// The router is the one place where an error becomes an HTTP answer: an ApiError as it is, a core
// error of a kind the request can cause as a 4xx with the kind as its code, anything else as a
// logged 500. No devnet and no database: a router over stub routes, spoken to over HTTP.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const sg = require('../../crates/wasm/pkg/node/stablegate_wasm');
const { ApiError, ERROR_STATUS } = require('../dist/errors');
const { createRouter, httpError } = require('../dist/http/router');

/** The codes of the core's error kinds, read from the core's source (`ErrorKind::code`). */
const coreKinds = () => {
  const source = fs.readFileSync(path.join(__dirname, '..', '..', 'crates', 'core', 'src', 'error.rs'), 'utf8');
  return [...source.matchAll(/Self::\w+ => "([a-z0-9_]+)"/g)].map((m) => m[1]);
};

/** Throws `make()` inside a handler of a router and returns the answer and what was logged. */
async function answer(make) {
  const logged = [];
  const log = { info() {}, warn() {}, error: (msg, fields) => logged.push({ msg, ...fields }) };
  const routes = [{ method: 'GET', path: '/boom', auth: 'public', handler: async () => { throw make(); } }];
  const server = http.createServer(createRouter({ routes, assets: [], findApiKey: async () => null, baseUrl: () => 'http://x', log }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${server.address().port}/boom`);
    return { status: response.status, retryAfter: response.headers.get('retry-after'), cors: response.headers.get('access-control-allow-origin'), body: await response.json(), logged };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const coreError = (call) => {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('the core accepted what this test expects it to refuse');
};

test('every error kind of the core has an HTTP status', () => {
  const kinds = coreKinds();
  assert.ok(kinds.length >= 20, `read ${kinds.length} kinds from error.rs`);
  for (const kind of kinds) assert.ok(ERROR_STATUS.has(kind), `no HTTP status for the core's ${kind}`);
});

test('every code the server raises has its status in the one table (none falls to a 500 by omission)', () => {
  const src = path.join(__dirname, '..', 'src');
  const files = fs.readdirSync(src, { recursive: true }).filter((f) => f.endsWith('.ts')).map((f) => path.join(src, f));
  const raised = new Set();
  for (const file of files) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/new ApiError\(\s*'([a-z_]+)'/g)) raised.add(m[1]);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/super\(\s*'([a-z_]+)'/g)) raised.add(m[1]);
  }
  assert.ok(raised.size >= 20, `found ${raised.size} codes`);
  for (const code of raised) assert.ok(ERROR_STATUS.has(code), `${code} has no status in errors.ts`);
  assert.equal(new ApiError('invalid_amount', 'x').status, 422);
  assert.equal(new ApiError('invalid_json', 'x').status, 400);
  assert.deepEqual([new ApiError('amount_band_full', 'x').status, new ApiError('amount_band_full', 'x').retryAfter], [503, 30]);
});

test('a core error about the input is a 4xx with the kind as its code, not a 500', async () => {
  const error = coreError(() => sg.parseAddress('devnet', 'nope'));
  assert.equal(error.code, 'invalid_address');
  const r = await answer(() => error);
  assert.deepEqual([r.status, r.body.error.code, r.body.error.message], [422, 'invalid_address', error.message]);
  assert.deepEqual(r.logged, []);
  const full = await answer(() => Object.assign(new Error('every slot is taken'), { code: 'amount_band_full' }));
  assert.deepEqual([full.status, full.body.error.code, full.retryAfter], [503, 'amount_band_full', '30']);
});

test('an ApiError is answered as it is', async () => {
  const r = await answer(() => new ApiError('rate_limited', 'too many claims; try again in 7 s', undefined, 7));
  assert.deepEqual([r.status, r.body, r.retryAfter], [429, { error: { code: 'rate_limited', message: 'too many claims; try again in 7 s' } }, '7']);
  assert.equal(httpError(new ApiError('not_found', 'x')).status, 404);
});

test('errors carry the CORS headers, so a browser caller (the widget, a Shopify extension) reads why', async () => {
  assert.equal((await answer(() => new ApiError('invalid_session_token', 'x'))).cors, '*');
  assert.equal((await answer(() => new Error('a bug'))).cors, '*');
});

test('a fault is a logged 500 that shows the client nothing of it', async () => {
  // A server-side core kind, a database's code, the OS's code, and a plain Error.
  for (const make of [
    () => Object.assign(new Error('deadlines out of order'), { code: 'invalid_invoice' }),
    () => Object.assign(new Error('duplicate key value'), { code: '23505' }),
    () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    () => new Error('a bug'),
  ]) {
    const r = await answer(make);
    assert.deepEqual([r.status, r.body], [500, { error: { code: 'internal_error', message: 'the server failed; see its log' } }]);
    assert.equal(r.logged.length, 1);
    assert.equal(r.logged[0].msg, 'request failed');
    assert.match(r.logged[0].error, new RegExp(make().message));
  }
});

test("a route's path is literal but for its {name} segments: /submit.php matches no /submitXphp", async () => {
  const log = { info() {}, warn() {}, error() {} };
  const routes = [{ method: 'GET', path: '/epay/submit.php/{id}', auth: 'public', handler: async (ctx) => { ctx.res.writeHead(200).end(ctx.params.id); } }];
  const server = http.createServer(createRouter({ routes, assets: [], findApiKey: async () => null, baseUrl: () => 'http://x', log }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const get = async (p) => { const r = await fetch(`http://127.0.0.1:${server.address().port}${p}`); return [r.status, await r.text()]; };
    assert.deepEqual(await get('/epay/submit.php/abc'), [200, 'abc']);
    assert.equal((await get('/epay/submitXphp/abc'))[0], 404);
    assert.equal((await get('/epay/submit.php/a/b'))[0], 404, 'a {name} is one segment');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
