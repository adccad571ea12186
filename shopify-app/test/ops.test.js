// Operations: rates from a source with a maximum age (a stale or failing source refuses to price,
// nothing written), webhooks refused towards private addresses unless allowed, `stablegate
// doctor` (one plain sentence per problem), the CLI's key and dead-letter commands, and the
// configuration's errors naming the key at fault.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { startStack } = require('./helpers');
const { startProxy } = require('./rpc-proxy');
const { isPrivateAddress } = require('../dist/webhooks');
const { parseConfig } = require('../dist/config');

const CLI = path.join(__dirname, '..', 'bin', 'stablegate.js');
const cli = (args, env = {}, cwd = undefined) =>
  new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, STABLEGATE_CONFIG: '', ...env }, cwd, timeout: 60000 }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });

// A rate source: {"data": {"rate": <value>}}, or an error, as the test sets it (`raw`: the JSON
// text itself, for numbers a JS number cannot hold).
let rateAnswer = { status: 200, body: { data: { rate: '1.25' } } };
// Its /moved path redirects to the rate itself; `rateReads` counts the answers with a rate.
let rateReads = 0;
const source = http.createServer((req, res) => {
  if (req.url.startsWith('/moved')) return res.writeHead(302, { location: `http://127.0.0.1:${source.address().port}/rate` }).end();
  rateReads++;
  res.writeHead(rateAnswer.status, { 'content-type': 'application/json' }).end(rateAnswer.raw ?? JSON.stringify(rateAnswer.body));
});
// A loopback listener that webhooks must never reach without allow_private: it counts hits.
const inside = { hits: 0 };
const insideServer = http.createServer((req, res) => {
  inside.hits++;
  res.writeHead(200).end();
});
// DNS rebinding: `rebind.test` resolves to a public address when asked first (a pre-flight check),
// then to loopback when the connection itself resolves it.
const dns = require('node:dns');
const realLookup = dns.lookup;
const realPromisesLookup = dns.promises.lookup;
let s;
before(async () => {
  await new Promise((r) => source.listen(0, '127.0.0.1', r));
  await new Promise((r) => insideServer.listen(0, '127.0.0.1', r));
  dns.promises.lookup = async (host, options) =>
    host === 'rebind.test' ? (options?.all ? [{ address: '93.184.216.34', family: 4 }] : { address: '93.184.216.34', family: 4 }) : realPromisesLookup(host, options);
  dns.lookup = function (host, options, callback) {
    if (typeof options === 'function') [callback, options] = [options, {}];
    if (host !== 'rebind.test') return realLookup.call(dns, host, options, callback);
    process.nextTick(() => (options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));
  };
  const url = `http://127.0.0.1:${source.address().port}/rate`;
  const port = insideServer.address().port;
  s = await startStack('ops', {
    rates: {
      GBP: { url, path: 'data.rate', max_age: 30 },
      CNY: { url: `${url}?cny`, path: 'data.rate', invert: true, max_age: 30 },
      CHF: { url: `http://127.0.0.1:${source.address().port}/moved`, path: 'data.rate', max_age: 30 },
    },
    raw: {
      webhooks: {
        endpoints: [
          { name: 'inside', url: 'http://127.0.0.1:9/hook', secret_env: 'SG_TEST_WEBHOOK_SECRET' },
          // Loopback written as an IPv4-mapped IPv6 address (the URL parser turns it into ::ffff:7f00:1).
          { name: 'mapped', url: `http://[::ffff:127.0.0.1]:${port}/hook`, secret_env: 'SG_TEST_WEBHOOK_SECRET' },
          { name: 'rebind', url: `http://rebind.test:${port}/hook`, secret_env: 'SG_TEST_WEBHOOK_SECRET' },
        ],
        retry_schedule: [0.1],
        poll_ms: 50,
      },
    },
  });
});
after(async () => {
  await s?.stop();
  source.close();
  insideServer.close();
  dns.lookup = realLookup;
  dns.promises.lookup = realPromisesLookup;
});

test('a rate source prices invoices while fresh; failing and stale, it refuses with a clear error and writes nothing', async () => {
  const ok = await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] });
  assert.equal(ok.status, 201);
  assert.deepEqual([ok.body.amount_due, ok.body.rate], ['10', '1.25']);
  // The source fails, but the last rate is still fresh: used.
  rateAnswer = { status: 500, body: {} };
  assert.equal((await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] })).status, 201);
  // 31 s later it is stale and the source still fails: refused, never a fallback.
  await s.advance(31);
  const count = async () => Number((await s.app.db.get('SELECT COUNT(*) AS n FROM invoices')).n);
  const before = await count();
  const stale = await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] });
  assert.deepEqual([stale.status, stale.body.error.code, stale.body.error.field], [503, 'rate_unavailable', 'currency']);
  assert.match(stale.body.error.message, /GBP rate source failed \(HTTP 500\) and the last rate is \d+ s old; the maximum age is 30 s/);
  // A source answering nonsense is refused too.
  rateAnswer = { status: 200, body: { data: { rate: 'soon' } } };
  assert.equal((await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] })).body.error.code, 'rate_unavailable');
  assert.equal(await count(), before);
  rateAnswer = { status: 200, body: { data: { rate: 1.3 } } }; // JSON numbers are read as their literal
  const back = await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] });
  assert.deepEqual([back.status, back.body.amount_due, back.body.rate], [201, '10.4', '1.3']);
});

test('a rate is the number the source wrote, never a float; a source quoting CNY per USDT is inverted exactly', async () => {
  await s.advance(31);
  rateAnswer = { status: 200, raw: '{"data": {"rate": 1.0000000000000000001}}' }; // a float would read 1
  const exact = await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] });
  assert.deepEqual([exact.status, exact.body.rate, exact.body.amount_due], [201, '1.0000000000000000001', '8.01']);
  rateAnswer = { status: 200, raw: '{"data": {"rate": "7.12"}, "pad": "' + 'x'.repeat(100000) + '"}' };
  const cny = await s.api('POST', '/api/v1/invoices', { fiat_amount: '7.12', currency: 'CNY', networks: ['devnet'] });
  assert.deepEqual([cny.status, cny.body.rate, cny.body.amount_due], [201, '0.140449438202247191', '1'], '7.12 CNY at 7.12 CNY per USDT is 1 USDT, not 1.01');
  // What the source answered is described, never quoted back.
  await s.advance(31);
  rateAnswer = { status: 200, raw: '{"data": {"rate": "internal-token-abc"}}' };
  const refused = await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'GBP', networks: ['devnet'] });
  assert.equal(refused.body.error.code, 'rate_unavailable');
  assert.match(refused.body.error.message, /found a string of 18 characters/);
  assert.doesNotMatch(refused.body.error.message, /internal-token/);
});

test('a rate source that answers with a redirect is refused, naming the source; the redirect is not followed', async () => {
  rateAnswer = { status: 200, body: { data: { rate: '1.25' } } };
  const reads = rateReads;
  const moved = await s.api('POST', '/api/v1/invoices', { fiat_amount: '8', currency: 'CHF', networks: ['devnet'] });
  assert.deepEqual([moved.status, moved.body.error?.code, moved.body.error?.field], [503, 'rate_unavailable', 'currency'], JSON.stringify(moved.body));
  assert.match(moved.body.error.message, /CHF rate source failed \(the source http:\/\/127\.0\.0\.1:\d+ answered HTTP 302, a redirect to http:\/\/127\.0\.0\.1:\d+; a rate is read only from the configured URL: set it to the final one\)/);
  assert.equal(rateReads, reads, 'the redirect target was never asked');
});

test('webhooks to loopback or private addresses are refused unless allowed, and dead-lettered at once', async () => {
  let dead;
  for (let i = 0; i < 100 && !dead; i++) {
    dead = (await s.api('GET', '/api/v1/webhooks/dead-letters')).body.data.find((d) => d.endpoint === 'inside');
    if (!dead) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(dead);
  assert.equal(dead.attempts, 1);
  assert.match(dead.last_error, /^refused: 127\.0\.0\.1 is a loopback or private address/);
  for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:10.0.0.1', '100.64.0.1']) assert.equal(isPrivateAddress(a), true, a);
  for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '1.1.1.1']) assert.equal(isPrivateAddress(a), false, a);
});

test('webhooks: loopback as an IPv4-mapped IPv6 address and a name that rebinds to loopback are refused too', async () => {
  const deadOf = async (name) => {
    for (let i = 0; i < 100; i++) {
      const found = (await s.api('GET', '/api/v1/webhooks/dead-letters')).body.data.find((d) => d.endpoint === name);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  };
  const mapped = await deadOf('mapped');
  assert.ok(mapped, 'the mapped-address delivery is dead-lettered');
  assert.match(mapped.last_error, /^refused: ::ffff:7f00:1 is a loopback or private address/);
  const rebind = await deadOf('rebind');
  assert.ok(rebind, 'the rebinding delivery is dead-lettered');
  assert.match(rebind.last_error, /^refused: rebind\.test is a loopback or private address \(127\.0\.0\.1\)/);
  assert.equal(inside.hits, 0, 'nothing reached the loopback listener');
  // Every written form of a special-purpose address is private, whatever its spelling.
  for (const a of ['::ffff:7f00:1', '::ffff:a00:1', '::7f00:1', '0:0:0:0:0:0:0:1', 'fe90::1', 'fec0::1', 'ff02::1', '64:ff9b::7f00:1', '64:ff9b::a9fe:a9fe', '198.18.0.1', '224.0.0.1', '255.255.255.255', '0.0.0.0']) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ['64:ff9b::808:808', '2606:4700:4700::1111', '::ffff:808:808']) assert.equal(isPrivateAddress(a), false, a);
});

test('configuration errors name the key', () => {
  const base = { networks: { devnet: { rpc: ['http://127.0.0.1:1'], addresses: ['0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'] } } };
  const bad = [
    [{}, /config networks: must name at least one network/],
    [{ networks: { mars: {} } }, /config networks\.mars: unknown network/],
    [{ networks: { devnet: { ...base.networks.devnet, addresses: ['0x1234'] } } }, /config networks\.devnet\.addresses\[0\]: is not a devnet address/],
    [{ networks: { devnet: { ...base.networks.devnet, rpc: ['ftp://x'] } } }, /config networks\.devnet\.rpc\[0\]: must be an http\(s\) URL/],
    [{ networks: { devnet: { ...base.networks.devnet, tokens: ['dai'] } } }, /config networks\.devnet\.tokens: unknown token "dai"/],
    [{ ...base, invoice: { step: '0.0000001' } }, /config invoice\.step: does not fit devnet usdt/],
    [{ ...base, rates: { eur: { fixed: '1' } } }, /config rates\.eur: currency codes are three capital letters/],
    [{ ...base, rates: { EUR: { url: 'http://rates.example/eur', path: 'r' } } }, /config rates\.EUR\.url: must be an https:\/\/ URL/],
    [{ ...base, rates: { EUR: { url: 'https://rates.example/eur', path: 'r', invert: 'yes' } } }, /config rates\.EUR\.invert: must be true or false/],
    [{ ...base, webhooks: { endpoints: [{ url: 'https://x.example/h', secret_env: 'NOPE_NOT_SET' }] } }, /config webhooks\.endpoints\[0\]\.secret_env: environment variable NOPE_NOT_SET is not set/],
    [{ ...base, listen: { host: '0.0.0.0' } }, /config public_url: is required when listen\.host is 0\.0\.0\.0: set it to the URL customers reach this server at/],
    [{ networks: { tron: { rpc: ['http://127.0.0.1:1'], addresses: ['TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t'] } }, demo: { wallet: '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc' } }, /config demo: demo mode .* only runs with devnet networks/],
  ];
  for (const [raw, message] of bad) assert.throws(() => parseConfig(raw, {}), message);
  // Deliveries are keyed by (event, endpoint name): two endpoints of one name would make every
  // event's insert fail its unique constraint, and with it every invoice change.
  const twice = { ...base, webhooks: { endpoints: [{ name: 'erp', url: 'https://a.example/h', secret_env: 'S' }, { name: 'erp', url: 'https://b.example/h', secret_env: 'S' }] } };
  assert.throws(() => parseConfig(twice, { S: 'x' }), /config webhooks\.endpoints\[1\]\.name: "erp" is already the name of another endpoint/);
});

test('stablegate doctor: RPC reachable and on the right chain, getLogs range limit probed, rate source; each problem one sentence', { timeout: 60000 }, async () => {
  const capped = await startProxy(s.net.url, { maxRange: 1000 });
  await s.net.mine(3000);
  const file = path.join(s.dir, 'doctor.config.json');
  fs.writeFileSync(file, JSON.stringify({
    database: { sqlite: path.join(s.dir, 'doctor.db') },
    networks: {
      devnet: { rpc: [s.net.url, capped.url, 'http://127.0.0.1:9'], addresses: [s.net.accounts[5]], max_range: 2000 },
      sepolia: { rpc: [s.net.url], addresses: [s.net.accounts[5]] },
    },
    rates: { GBP: { url: `http://127.0.0.1:${source.address().port}/rate`, path: 'data.missing' }, USD: { fixed: '1' } },
    webhooks: { endpoints: [{ url: 'http://127.0.0.1:9/h', secret_env: 'DOC_SECRET' }] },
  }));
  const r = await cli(['doctor', '--config', file], { DOC_SECRET: 'x' });
  await capped.close();
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  const problems = lines.filter((l) => l.startsWith('PROBLEM'));
  assert.ok(lines.some((l) => /^ok +devnet: the RPC at http:\/\/127\.0\.0\.1:\d+ answers on chain 31337/.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^ok +devnet: the RPC at .* accepts eth_getLogs over \d+ blocks\.$/.test(l)), r.stdout);
  const expected = [
    /devnet: the RPC at http:\/\/127\.0\.0\.1:\d+ accepts eth_getLogs over 1000 blocks at most; set max_range to 1000 or less \(it is 2000\)\./,
    /devnet: the RPC at http:\/\/127\.0\.0\.1:9 cannot be reached: /,
    /sepolia: the RPC at http:\/\/127\.0\.0\.1:\d+ is on chain 31337, but sepolia is chain 11155111\./,
    /Rate GBP: the source http:\/\/127\.0\.0\.1:\d+ gives no usable rate \(nothing at path data\.missing/,
    /Webhook endpoint1: refused: 127\.0\.0\.1 is a loopback or private address/,
  ];
  for (const e of expected) assert.ok(problems.some((p) => e.test(p)), `${e} in\n${r.stdout}`);
  assert.equal(problems.length, expected.length, r.stdout);
  assert.match(lines[lines.length - 1], /^5 problem\(s\) found\.$/);
});

test('CLI: api-key create (stored hashed) and webhooks dead-letters / resend', { timeout: 60000 }, async () => {
  const file = path.join(s.dir, 'cli.config.json');
  fs.writeFileSync(file, JSON.stringify({ ...s.raw, database: { sqlite: path.join(s.dir, 'cli.db') }, api_keys_env: undefined }));
  // Without --config, the CLI reads ./stablegate.config.json, here absent: refused, saying so.
  const created = await cli(['api-key', 'create', 'shop'], s.env, s.dir);
  assert.match(created.stderr, /config file: cannot read stablegate\.config\.json/);
  const keyLine = await cli(['api-key', 'create', 'shop', '--config', file], s.env);
  assert.equal(keyLine.code, 0, keyLine.stderr);
  const key = keyLine.stdout.trim().split('\n').pop();
  assert.match(key, /^sg_[A-Za-z0-9_-]{43}$/);
  const stored = fs.readFileSync(path.join(s.dir, 'cli.db'));
  assert.equal(stored.includes(Buffer.from(key)), false, 'the key is not in the database file');
  // A leaked key is revoked by its id; the store then refuses it.
  const keyId = /created (key_[0-9a-f]+);/.exec(keyLine.stdout)[1];
  const { openDb } = require('../dist/db');
  const { findApiKey } = require('../dist/apikeys');
  const check = async () => { const { db } = await openDb({ sqlite: path.join(s.dir, 'cli.db') }); try { return await findApiKey(db, key); } finally { await db.close(); } };
  assert.equal(await check(), keyId);
  const revoked = await cli(['api-key', 'revoke', keyId, '--config', file], s.env);
  assert.deepEqual([revoked.code, revoked.stdout.trim()], [0, `revoked ${keyId}`], revoked.stderr);
  assert.equal(await check(), null);
  const again = await cli(['api-key', 'revoke', keyId, '--config', file], s.env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no live API key has the id key_/);
  assert.notEqual(created.code, 0);
  const listed = await cli(['webhooks', 'dead-letters', '--config', file], s.env);
  assert.equal(listed.code, 0, listed.stderr);
  const missing = await cli(['webhooks', 'resend', 'whd_nope', '--config', file], s.env);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no webhook delivery has this id/);
});

test('api_keys_env: at start, the keys removed from the variable stop working; a key revoked with the CLI stays revoked', { timeout: 60000 }, async () => {
  const { startApp } = require('../dist/app');
  const db = path.join(s.dir, 'env-keys.db');
  const [kept, removed] = ['sg_env_kept_' + 'a'.repeat(32), 'sg_env_removed_' + 'b'.repeat(32)];
  /** Starts the server on one database with SG_KEYS = `keys`; returns the status each key gets. */
  const statuses = async (keys) => {
    const config = parseConfig({ ...s.raw, database: { sqlite: db }, api_keys_env: 'SG_KEYS' }, { ...s.env, SG_KEYS: keys });
    const app = await startApp(config, { background: false });
    try {
      const status = async (key) => (await fetch(`${app.url}/api/v1/invoices`, { headers: { authorization: `Bearer ${key}` } })).status;
      return [await status(kept), await status(removed)];
    } finally {
      await app.stop();
    }
  };
  assert.deepEqual(await statuses(`${kept},${removed}`), [200, 200]);
  assert.deepEqual(await statuses(kept), [200, 401], 'a key removed from the variable is refused after a restart');
  assert.deepEqual(await statuses(''), [401, 401], 'an empty variable leaves no key of it');
  // Put back, it is the variable's again; a key revoked with the CLI stays revoked whatever it holds.
  assert.deepEqual(await statuses(`${kept} ${removed}`), [200, 200]);
  const { openDb } = require('../dist/db');
  const { findApiKey, revokeApiKey } = require('../dist/apikeys');
  const store = (await openDb({ sqlite: db })).db;
  try {
    assert.equal(await revokeApiKey(store, await findApiKey(store, kept)), true);
  } finally {
    await store.close();
  }
  assert.deepEqual(await statuses(`${kept} ${removed}`), [401, 200]);
});

test('stablegate serve: JSON logs, answers, and stops cleanly on SIGINT', { timeout: 60000 }, async () => {
  const { spawn } = require('node:child_process');
  const file = path.join(s.dir, 'serve.config.json');
  fs.writeFileSync(file, JSON.stringify({ ...s.raw, database: { sqlite: path.join(s.dir, 'serve.db') }, log: 'json' }));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file], { env: { ...process.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let url;
    for (let i = 0; i < 200 && !url; i++) {
      url = out.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l); } catch { return {}; } }).find((l) => l.msg === 'stablegate listening')?.url;
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, out);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.every((l) => typeof l.time === 'string' && ['info', 'warn', 'error'].includes(l.level) && typeof l.msg === 'string'));
    assert.ok(lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGINT'));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
