// Test harness: a real devnet, the server started in-process on an OS-chosen port with a clock
// that follows the devnet's block time, a real database (SQLite file, or the PostgreSQL that
// scripts/test-server.sh starts and names in STABLEGATE_TEST_PG), and a local webhook receiver.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const devnet = require('../../tests/devnet/devnet');
const { pay } = require('../../tests/devnet/pay');
const sg = require('../../crates/wasm/pkg/node/stablegate_wasm');
const { startApp } = require('../dist/app');
const { parseConfig } = require('../dist/config');

const API_KEY = 'sg_test_' + crypto.randomBytes(16).toString('hex');
const WEBHOOK_SECRET = 'whsec_' + crypto.randomBytes(16).toString('hex');

/** The database the suite runs on: SQLite unless STABLEGATE_TEST_DB=postgres. */
async function database(dir) {
  if (process.env.STABLEGATE_TEST_DB !== 'postgres') return { sqlite: path.join(dir, 'stablegate.db') };
  const admin = process.env.STABLEGATE_TEST_PG; // postgres://postgres@127.0.0.1:PORT/postgres
  if (!admin) throw new Error('STABLEGATE_TEST_DB=postgres needs STABLEGATE_TEST_PG (scripts/test-server.sh starts PostgreSQL and sets it)');
  const { Client } = require('pg');
  const name = 'sg_' + crypto.randomBytes(6).toString('hex');
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = '/' + name;
  return { url_env: 'SG_TEST_DATABASE_URL', urlValue: url.toString() };
}

/** A local receiver that verifies every webhook's signature with the core. */
async function webhookReceiver() {
  const received = [];
  const waiters = [];
  let failing = null; // { test(event), left }
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (failing && failing.left > 0 && failing.test(JSON.parse(body))) {
        failing.left--;
        res.writeHead(500).end('try later');
        return;
      }
      let verified = false;
      try {
        verified = sg.verifyWebhook(WEBHOOK_SECRET, req.headers['stablegate-signature'] ?? '', body, Math.floor(Date.now() / 1000));
      } catch (error) {
        verified = false;
      }
      const event = JSON.parse(body);
      received.push({ event, verified, headers: req.headers });
      res.writeHead(verified ? 200 : 400).end();
      for (const w of [...waiters]) if (w.test(event)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(event); }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    received,
    /** Answers 500 to the next `n` deliveries of events that pass `test`. */
    fail: (test, n) => { failing = { test, left: n }; },
    waitFor(test, timeoutMs = 15000) {
      const found = received.find((r) => test(r.event));
      if (found) return Promise.resolve(found.event);
      return new Promise((resolve, reject) => {
        const w = { test, resolve };
        waiters.push(w);
        setTimeout(() => { if (waiters.includes(w)) reject(new Error('no such webhook within ' + timeoutMs + ' ms')); }, timeoutMs).unref();
      });
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * Starts devnet + server. Receiving addresses: accounts #5 and #6 (no minted balance, so the
 * deploy mints credit nothing). Payers: accounts #0..#4 (funded).
 */
async function startStack(name, overrides = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sg-${name}-`));
  const net = overrides.net ?? (await devnet.start({ dir: path.join(dir, 'devnet') }));
  const receiver = await webhookReceiver();
  const db = await database(dir);
  const env = { SG_TEST_API_KEY: API_KEY, SG_TEST_WEBHOOK_SECRET: WEBHOOK_SECRET, ...(overrides.env ?? {}) };
  if (db.urlValue) env.SG_TEST_DATABASE_URL = db.urlValue;
  const rpcUrls = overrides.rpc ?? [net.url];
  const raw = {
    listen: { host: '127.0.0.1', port: 0 },
    database: db.urlValue ? { url_env: db.url_env } : db,
    networks: {
      devnet: { rpc: rpcUrls, tokens: ['usdt', 'usdt18'], addresses: [net.accounts[5], net.accounts[6]], poll_ms: overrides.pollMs ?? 100, max_range: overrides.maxRange ?? 2000 },
      'devnet-tron': { rpc: rpcUrls, addresses: [sg.parseAddress('devnet-tron', net.accounts[7]).address], poll_ms: overrides.pollMs ?? 100 },
    },
    invoice: { expires_in: 900, monitoring: 86400, step: '0.01', max_slots: overrides.maxSlots ?? 300 },
    rates: { USD: { fixed: '1' }, EUR: { fixed: '1.08' }, ...(overrides.rates ?? {}) },
    webhooks: { endpoints: [{ name: 'test', url: receiver.url, secret_env: 'SG_TEST_WEBHOOK_SECRET', allow_private: true }], retry_schedule: [0.2, 0.2], poll_ms: 50 },
    claims: { per_invoice_per_minute: 5, per_client_per_minute: 1000 },
    api_keys_env: 'SG_TEST_API_KEY',
    log: process.env.STABLEGATE_TEST_LOG ? 'pretty' : 'silent',
    ...(overrides.raw ?? {}),
  };
  const config = parseConfig(raw, env, path.join(dir, 'stablegate.config.json'));
  // The server's clock follows the chain: block time (Hardhat follows the wall clock, shifted by
  // evm_increaseTime when a test moves time forward).
  let offset = 0;
  const clock = () => Math.floor(Date.now() / 1000) + offset;
  // A test may change the parsed configuration before the server starts (`configure(config)`).
  overrides.configure?.(config);
  const app = await startApp(config, { clock, background: overrides.background });
  const api = async (method, urlPath, body, headers = {}) => {
    const response = await fetch(app.url + urlPath, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: response.status, body: json, headers: response.headers };
  };
  const stack = {
    dir, net, app, api, receiver, config, raw, env,
    /** Moves the chain and the server's clock forward together. */
    async advance(seconds) {
      await net.rpc('evm_increaseTime', [seconds]);
      await net.mine(1);
      offset += seconds;
    },
    pay: (to, amount, opts = {}) => pay({ url: net.url, token: opts.token ?? 'UsdtLike', to, amount, fromIndex: opts.fromIndex ?? 0, mine: opts.mine ?? 0 }),
    /** Polls the API until `test(invoice)` holds. */
    async waitInvoice(id, test, timeoutMs = 15000) {
      const until = Date.now() + timeoutMs;
      let last;
      while (Date.now() < until) {
        last = (await api('GET', `/api/v1/invoices/${id}`)).body;
        if (test(last)) return last;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`invoice ${id} did not reach the expected state; last: ${JSON.stringify(last && { state: last.state, exception: last.exception, paid: last.amount_paid })}`);
    },
    async stop() {
      await app.stop();
      await receiver.close();
      if (!overrides.net) await net.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

module.exports = { startStack, webhookReceiver, API_KEY, WEBHOOK_SECRET, sg, devnet };
