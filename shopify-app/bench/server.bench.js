// Benchmarks of the server (DESIGN §13), each printed with the peer it is compared against in
// this same run:
//  1. RPC calls per poll per network with 1,000 open invoices, against the same with 1 invoice
//     (the design's claim: independent of the number of invoices; budget ≤ 3), counted by a
//     JSON-RPC proxy in front of the devnet (test/rpc-proxy.js: HTTP requests and methods), with
//     the calls into the core per poll (the engine's budget: one per poll, not one per invoice
//     or per transfer), also while payments arrive. Calls into the core are counted by a Proxy
//     (bench/crossings.js) put in place of src/core.ts's export before the server loads.
//  2. Delay from a payment's block to `processing`, and from finality to `settled`, with 1,000
//     invoices open, against the poll interval (budget: within one poll).
//  3. Invoice creations per second on SQLite (HTTP, 16 concurrent keep-alive clients in a
//     worker thread) with no amount collision, against a bare Node HTTP endpoint answering JSON
//     (the ceiling the HTTP layer sets), and against the 1,000/s budget; before it, the calls
//     into the core per request (creating an invoice, choosing its network, reading it).
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { counting, describe } = require('../../bench/crossings');

// Every module of the server takes the core from dist/core.js: put the counting Proxy there
// before any of them loads.
const corePath = require.resolve('../dist/core');
const crossings = counting(require(corePath));
require.cache[corePath].exports = crossings.sg;

const { startStack, devnet } = require('../test/helpers');
const { startProxy } = require('../test/rpc-proxy');

const POLL_MS = 500;

async function until(test, ms = 30000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await test();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out');
}

/** Requests per completed poll of `network`, over `polls` polls. */
async function callsPerPoll(s, network, polls) {
  const state = s.app.watcher.states.get(network);
  const p0 = state.polls;
  const r0 = state.rpc.requests;
  await until(() => state.polls >= p0 + polls, polls * POLL_MS * 4 + 5000);
  return (state.rpc.requests - r0) / (state.polls - p0);
}

async function creationsPerSecond(url, total, concurrency, body) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const ids = [];
  const one = (i) =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body(i));
      const req = http.request(`${url}/api/v1/invoices`, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${require('../test/helpers').API_KEY}` } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))));
      });
      req.on('error', reject);
      req.end(payload);
    });
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        ids.push(await one(i));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return { perSecond: total / seconds, invoices: ids };
}

/** Runs the load generator in a worker thread (see load-worker.js). */
function load(url, total, concurrency, prices) {
  const { Worker } = require('node:worker_threads');
  return new Promise((resolve, reject) => {
    const worker = new Worker(require('node:path').join(__dirname, 'load-worker.js'), { workerData: { url, total, concurrency, apiKey: require('../test/helpers').API_KEY, prices } });
    worker.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
  });
}

async function main() {
  const results = [];
  const row = (name, value, unit, peer, peerValue, note = '') => {
    results.push({ name, value, unit, peer, peerValue });
    const ratio = peerValue ? ` (ratio ${(value / peerValue).toFixed(2)} against ${peer}: ${peerValue.toFixed(2)} ${unit})` : '';
    console.log(`${name}: ${value.toFixed(2)} ${unit}${ratio}${note ? ' — ' + note : ''}`);
  };

  // One network, one token, as a merchant accepting USDT on the devnet would configure it, its
  // RPC through the counting proxy (the bench pays and mines on the devnet directly).
  const netDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-bench-net-'));
  const net = await devnet.start({ dir: netDir });
  const proxy = await startProxy(net.url);
  const networks = { devnet: { rpc: [proxy.url], tokens: ['usdt'], addresses: [net.accounts[5], net.accounts[6]], poll_ms: POLL_MS, max_range: 2000 } };
  const s = await startStack('bench', { net, pollMs: POLL_MS, maxSlots: 100, raw: { networks } });
  const state = s.app.watcher.states.get('devnet');
  /** Per completed poll over `polls` polls: HTTP requests and JSON-RPC calls at the proxy, calls into the core. */
  const window = async (polls, during = async () => {}) => {
    const p0 = state.polls;
    const r0 = proxy.state.requests;
    const m0 = { ...proxy.state.methods };
    const c0 = crossings.snapshot();
    await during();
    await until(() => state.polls >= p0 + polls, polls * POLL_MS * 4 + 60000);
    const n = state.polls - p0;
    const methods = {};
    for (const [m, k] of Object.entries(proxy.state.methods)) if (k - (m0[m] ?? 0) > 0) methods[m] = k - (m0[m] ?? 0);
    const core = crossings.since(c0);
    // The webhook worker signs each delivery: not the watcher's, shown apart.
    const signed = core.by.signWebhook ?? 0;
    delete core.by.signWebhook;
    return { polls: n, requests: (proxy.state.requests - r0) / n, methods, core: (core.total - signed) / n, coreBy: core.by, signed };
  };
  const table = [];
  const tableRow = (label, w) => table.push({ label, ...w });
  try {
    // --- 1. RPC calls per poll, 1 invoice vs 1,000 -------------------------------------------
    // A block every 200 ms, so that every poll has new blocks to scan (an idle chain would need
    // only the head request).
    await s.net.rpc('evm_setIntervalMining', [200]);
    await s.api('POST', '/api/v1/invoices', { amount: '0.5', networks: ['devnet'] });
    await callsPerPoll(s, 'devnet', 3); // warm-up: the first poll checks each URL's chain id and places the cursor
    const one = await window(6);
    tableRow('1 open', one);
    // 999 more at whole-dollar prices: each gets its price's first amount (the allocator keeps
    // amounts at one price three steps apart, so prices a cent apart would share bands).
    const made = await creationsPerSecond(s.app.url, 999, 8, (i) => ({ amount: String(1 + i), networks: ['devnet'] }));
    const open = Number((await s.app.db.get(`SELECT COUNT(*) AS n FROM invoices WHERE watched = 1 AND network = 'devnet'`)).n);
    const thousand = await window(6);
    tableRow(`${open} open`, thousand);
    // 20 of them paid while the watcher polls, about 4 per block (interval mining, no automine):
    // transfers to match, credit and settle.
    await s.net.rpc('evm_setAutomine', [false]);
    const paying = await window(6, async () => {
      for (let b = 0; b < 5; b += 1) {
        await Promise.all(made.invoices.slice(10 + b * 4, 14 + b * 4).map((inv, k) => s.pay(inv.recipient, inv.amount_due_units, { fromIndex: k })));
      }
    });
    await s.net.rpc('evm_setAutomine', [true]);
    tableRow(`${open} open, 20 payments`, paying);
    await s.net.rpc('evm_setIntervalMining', [0]);
    row(`RPC requests per poll, devnet, ${open} open invoices`, thousand.requests, 'requests', '1 open invoice', one.requests, 'budget ≤ 3');
    row(`calls into the core per poll, devnet, ${open} open invoices`, thousand.core, 'calls', '1 open invoice', one.core, 'budget: once per poll, not per invoice');

    console.log('\nper poll of devnet (one token), counted at the RPC proxy and at the core\'s export; a block every 200 ms');
    console.log(`${'open invoices'.padEnd(24)} ${'polls'.padStart(5)} ${'HTTP req'.padStart(9)} ${'core calls'.padStart(10)}  JSON-RPC calls by method; core calls by function`);
    for (const r of table) {
      console.log(`${r.label.padEnd(24)} ${String(r.polls).padStart(5)} ${r.requests.toFixed(2).padStart(9)} ${r.core.toFixed(2).padStart(10)}  ${describe(r.methods, r.polls)}; ${describe(r.coreBy, r.polls)}${r.signed ? ` (and signWebhook ${r.signed}: the webhook worker's, one per delivery)` : ''}`);
    }
    console.log('');

    // --- 2. Detection delays with 1,000 open -------------------------------------------------
    s.app.watcher.states.get('devnet').maxRequestsPerPoll = 0;
    const processing = [];
    const settled = [];
    for (const inv of made.invoices.slice(0, 10)) {
      const state = () => s.app.invoices.get(inv.id).then((r) => r.state);
      await new Promise((r) => setTimeout(r, Math.random() * POLL_MS)); // a random phase of the poll
      const paid = await s.pay(inv.recipient, inv.amount_due_units);
      const tPaid = Date.now(); // the block is mined when pay() returns (automine)
      await until(async () => (await state()) === 'processing');
      processing.push(Date.now() - tPaid);
      await new Promise((r) => setTimeout(r, Math.random() * POLL_MS));
      await s.net.mine(2); // the payment's block + 2 = 3 confirmations: final now
      const tFinal = Date.now();
      await until(async () => (await state()) === 'settled');
      settled.push(Date.now() - tFinal);
      void paid;
    }
    row('RPC requests in the busiest poll while 10 payments were seen and settled', s.app.watcher.states.get('devnet').maxRequestsPerPoll, 'requests', 'the design budget', 3);
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const max = (xs) => Math.max(...xs);
    row('payment block → processing, mean of 10', mean(processing), 'ms', 'the poll interval', POLL_MS, `max ${max(processing)} ms; budget: within one poll`);
    row('finality → settled, mean of 10', mean(settled), 'ms', 'the poll interval', POLL_MS, `max ${max(settled)} ms; budget: within one poll`);
  } finally {
    await s.stop();
    await proxy.close();
    await net.stop();
    fs.rmSync(netDir, { recursive: true, force: true });
  }

  // --- 3. Invoice creations per second on SQLite ----------------------------------------------
  const c = await startStack('bench-create', { background: false, maxSlots: 100 });
  try {
    // Calls into the core per request (no watcher or webhook worker runs in this stack), each
    // request REQUESTS times in a row, at prices of their own.
    const REQUESTS = 20;
    const perRequest = async (label, request) => {
      const before = crossings.snapshot();
      const out = [];
      for (let i = 0; i < REQUESTS; i += 1) {
        const r = await request(i);
        if (r.status >= 300) throw new Error(`${label}: ${r.status} ${JSON.stringify(r.body)}`);
        out.push(r.body);
      }
      const d = crossings.since(before);
      console.log(`${label.padEnd(52)} ${(d.total / REQUESTS).toFixed(2).padStart(6)}  ${describe(d.by, REQUESTS)}`);
      return out;
    };
    console.log(`\ncalls into the core per request (mean of ${REQUESTS}), by function`);
    await perRequest('POST /api/v1/invoices (one network: chosen at once)', (i) => c.api('POST', '/api/v1/invoices', { amount: String(1000 + 2 * i), networks: ['devnet'] }));
    const open = await perRequest('POST /api/v1/invoices (two networks: open)', (i) => c.api('POST', '/api/v1/invoices', { amount: String(2000 + 2 * i), networks: ['devnet', 'devnet-tron'] }));
    await perRequest('GET /api/v1/checkout/{id} (open)', (i) => c.api('GET', `/api/v1/checkout/${open[i].id}`));
    await perRequest('POST /api/v1/checkout/{id}/choose', (i) => c.api('POST', `/api/v1/checkout/${open[i].id}/choose`, { network: 'devnet' }));
    await perRequest('GET /api/v1/checkout/{id} (chosen)', (i) => c.api('GET', `/api/v1/checkout/${open[i].id}`));
    await perRequest('GET /api/v1/invoices/{id}', (i) => c.api('GET', `/api/v1/invoices/${open[i].id}`));
    console.log('');

    // The peer: a bare endpoint on the same machine, same client, answering a small JSON.
    const bare = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise((r) => bare.listen(0, '127.0.0.1', r));
    const bareRate = await load(`http://127.0.0.1:${bare.address().port}`, 3000, 16, null);
    bare.close();
    // 3,000 invoices at 60 prices two dollars apart: 50 share each price and get 50 distinct
    // unique amounts (amounts at one price stay three steps apart, about 33 per address and price).
    const created = await load(c.app.url, 3000, 16, { base: 10, count: 60, spacing: 2 });
    const keys = new Set(created.invoices.map((inv) => `${inv.recipient}:${inv.amount_due_units}`));
    if (keys.size !== created.invoices.length) throw new Error('amount collision');
    row('invoice creations per second, SQLite, 3,000 at 60 prices', created.perSecond, 'invoices/s', 'a bare HTTP endpoint', bareRate.perSecond, `budget ≥ 1000/s; ${keys.size} distinct amounts, no collision`);
  } finally {
    await c.stop();
  }
  return results;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
