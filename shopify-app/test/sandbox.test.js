// The sandbox (issue 18) on the real devnet, which the registry marks as a test network:
// `stablegate init --sandbox` writes a test-networks-only config (`sandbox: true`) that `serve`
// accepts and prints the registry's faucet links; a mainnet is refused. `stablegate test-invoice`
// creates an invoice by the production path, the devnet payment settles it and the webhook goes
// out with `test: true`; /health and the pay page say it is test money. The console's "Pay a test
// invoice" button works over HTTP with the session cookie and CSRF token, and is refused without
// the token; outside the sandbox a mainnet test invoice is refused unless --live.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { startStack, sg } = require('./helpers');
const { startServer } = require('./processes');
const auth = require('../dist/console/auth');
const { loadConfig, parseConfig } = require('../dist/config');

const CLI = path.join(__dirname, '..', 'bin', 'stablegate.js');
const EVM = '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720';
const PASSWORD = 'correct horse battery staple';
let s;
let file;

const cli = (args, env = {}) =>
  new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 60000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });

before(async () => {
  s = await startStack('sandbox', { raw: { sandbox: true } });
  // The CLI reads the same configuration and database as the running server.
  file = path.join(s.dir, 'stablegate.config.json');
  fs.writeFileSync(file, JSON.stringify(s.raw));
});
after(async () => {
  await s?.stop();
});

test('init --sandbox: test networks only, faucet links from the registry, a config serve accepts', async () => {
  const sepolia = sg.networks().find((n) => n.id === 'sepolia');
  assert.ok(sepolia.faucets.length > 0, 'the registry lists Sepolia faucets');
  const testnetFile = path.join(s.dir, 'sepolia', 'stablegate.config.json');
  const r = await cli(['init', '--sandbox', '--config', testnetFile, '--network', 'sepolia', '--address', EVM, '--skip-doctor']);
  assert.equal(r.code, 0, r.stderr);
  for (const url of sepolia.faucets) assert.ok(r.stdout.includes(url), `faucet ${url} printed:\n${r.stdout}`);
  assert.match(r.stdout, /test money/);
  assert.equal(JSON.parse(fs.readFileSync(testnetFile, 'utf8')).sandbox, true);

  const mainnet = await cli(['init', '--sandbox', '--config', path.join(s.dir, 'main', 'c.json'), '--network', 'tron', '--address', 'TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC']);
  assert.equal(mainnet.code, 1);
  assert.match(mainnet.stderr, /--sandbox takes test networks only, and tron is a mainnet/);
  assert.throws(() => parseConfig({ sandbox: true, networks: { tron: { addresses: ['TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC'] } } }, {}), /sandbox.*tron is a mainnet/);

  // The devnet config as init writes it, served by `stablegate serve` (only the log format is
  // changed, for the harness to read the listening line; the devnet's RPC comes from the registry).
  const devnetFile = path.join(s.dir, 'devnet-sandbox', 'stablegate.config.json');
  const d = await cli(['init', '--sandbox', '--config', devnetFile, '--network', 'devnet', '--address', s.net.accounts[5], '--listen', '127.0.0.1:0', '--skip-doctor']);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /Local devnet: no public faucet/);
  const written = JSON.parse(fs.readFileSync(devnetFile, 'utf8'));
  assert.equal(loadConfig(devnetFile, {}).sandbox, true);
  fs.writeFileSync(devnetFile, JSON.stringify({ ...written, log: 'json' }));
  const server = await startServer({ name: 'sandbox-serve', configFile: devnetFile });
  try {
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.sandbox, true);
    assert.equal(health.money, 'test');
  } finally {
    await server.stop();
  }
});

test('test-invoice: the production flow, paid on the devnet, settles and the webhook says test: true', async () => {
  const r = await cli(['test-invoice', '--config', file, '--amount', '1.25'], s.env);
  assert.equal(r.code, 0, r.stderr);
  const id = /created test invoice (inv_\S+)/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const payUrl = /Pay it from your own wallet: (\S+)/.exec(r.stdout)[1];
  assert.ok(payUrl.endsWith(`/pay/${id}`), payUrl);
  const created = await s.receiver.waitFor((e) => e.type === 'invoice.created' && e.data.invoice.id === id);
  assert.equal(created.data.invoice.metadata.test, true);
  // The pay page says it is test money.
  const html = await (await fetch(`${s.app.url}/pay/${id}`)).text();
  assert.match(html, /Sandbox: this invoice is paid on a test network with test money/);
  // The merchant's wallet pays: choose the devnet, send the unique amount, let it finalize.
  const chosen = await fetch(`${s.app.url}/api/v1/checkout/${id}/choose`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ network: 'devnet', token: 'usdt' }) });
  assert.equal(chosen.status, 200, await chosen.text());
  const inv = await s.waitInvoice(id, (i) => i.network === 'devnet');
  assert.equal(inv.base_amount, '1.25');
  await s.pay(inv.recipient, inv.amount_due_units);
  await s.net.mine(3);
  await s.waitInvoice(id, (i) => i.state === 'settled');
  const settled = await s.receiver.waitFor((e) => e.type === 'invoice.settled' && e.data.invoice.id === id);
  assert.equal(settled.data.invoice.metadata.test, true);
  assert.ok(s.receiver.received.find((x) => x.event.id === settled.id).verified, 'signed like any webhook');
});

test('the console button creates a test invoice with the session and its CSRF token, and refuses without the token', async () => {
  const set = spawnSync(process.execPath, [CLI, 'console', 'set-password', '--config', file], { input: `${PASSWORD}\n`, env: { ...process.env, ...s.env }, encoding: 'utf8' });
  assert.equal(set.status, 0, set.stderr);
  const form = await fetch(`${s.app.url}/console/signin`);
  const pre = form.headers.getSetCookie().find((c) => c.startsWith(`${auth.PRE_COOKIE}=`)).split(';')[0];
  const csrfIn = (html) => /name="csrf" value="([^"]+)"/.exec(html)[1];
  const post = (urlPath, cookie, fields) =>
    fetch(`${s.app.url}${urlPath}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams(fields), redirect: 'manual' });
  const signedIn = await post('/console/signin', pre, { csrf: csrfIn(await form.text()), password: PASSWORD });
  assert.equal(signedIn.status, 303);
  const cookie = signedIn.headers.getSetCookie().find((c) => c.startsWith(`${auth.SESSION_COOKIE}=`)).split(';')[0];
  const list = await (await fetch(`${s.app.url}/console/invoices`, { headers: { cookie } })).text();
  assert.match(list, /Sandbox: test networks only/);
  assert.match(list, /action="\/console\/test-invoice"/);
  assert.doesNotMatch(list, /name="live"/, 'no live box in a sandbox');

  const refused = await post('/console/test-invoice', cookie, { csrf: 'x'.repeat(43) });
  assert.equal(refused.status, 403);
  const made = await post('/console/test-invoice', cookie, { csrf: csrfIn(list) });
  assert.equal(made.status, 303);
  const id = /^\/pay\/(inv_\S+)$/.exec(made.headers.get('location'))?.[1];
  assert.ok(id, made.headers.get('location'));
  const event = await s.receiver.waitFor((e) => e.type === 'invoice.created' && e.data.invoice.id === id);
  assert.deepEqual([event.data.invoice.metadata.test, event.data.invoice.base_amount], [true, '1']);
  // Its console page lists its events and webhook attempts.
  const detail = await (await fetch(`${s.app.url}/console/invoices/${id}`, { headers: { cookie } })).text();
  assert.match(detail, /invoice\.created/);
});

test('outside the sandbox a mainnet test invoice is refused unless --live', async () => {
  // Its own database: the running sandbox server does not watch TRON.
  const raw = { ...s.raw, database: { sqlite: path.join(s.dir, 'live.db') }, sandbox: false, networks: { ...s.raw.networks, tron: { addresses: ['TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC'] } } };
  const liveFile = path.join(s.dir, 'live.config.json');
  fs.writeFileSync(liveFile, JSON.stringify(raw));
  const r = await cli(['test-invoice', '--config', liveFile], s.env);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not in sandbox and tron is a mainnet: the test invoice would be paid with real USDT\. Give --live/);
  // A testnet-only test invoice needs no --live; the mainnet one with --live is created (not paid).
  const devnetOnly = await cli(['test-invoice', '--config', liveFile, '--network', 'devnet'], s.env);
  assert.equal(devnetOnly.code, 0, devnetOnly.stderr);
  assert.match(devnetOnly.stdout, /created test invoice inv_\S+ on devnet \(metadata test: true\)\n/);
  const live = await cli(['test-invoice', '--config', liveFile, '--network', 'tron', '--live'], s.env);
  assert.equal(live.code, 0, live.stderr);
  assert.match(live.stdout, /LIVE: real USDT/);
});
