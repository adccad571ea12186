// Benchmarks of the server (DESIGN §13), each printed with the peer it is compared against in
// this same run:
//  1. RPC calls per poll per network with 1,000 open invoices, against the same with 1 invoice
//     (the design's claim: independent of the number of invoices; budget ≤ 3).
//  2. Delay from a payment's block to `processing`, and from finality to `settled`, with 1,000
//     invoices open, against the poll interval (budget: within one poll).
//  3. Invoice creations per second on SQLite (HTTP, 16 concurrent keep-alive clients in a
//     worker thread) with no amount collision, against a bare Node HTTP endpoint answering JSON
//     (the ceiling the HTTP layer sets), and against the 1,000/s budget.
'use strict';
const http = require('node:http');
const { startStack } = require('../test/helpers');

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

  // One token per network, as a merchant accepting USDT on each network would configure it.
  const s = await startStack('bench', { pollMs: POLL_MS, maxSlots: 100, raw: {} });
  s.app.config.networks.find((n) => n.id === 'devnet').tokens = ['usdt'];
  try {
    // --- 1. RPC calls per poll, 1 invoice vs 1,000 -------------------------------------------
    // A block every 200 ms, so that every poll has new blocks to scan (an idle chain would need
    // only the head request).
    await s.net.rpc('evm_setIntervalMining', [200]);
    await s.api('POST', '/api/v1/invoices', { amount: '0.5', networks: ['devnet'] });
    await callsPerPoll(s, 'devnet', 3); // warm-up: the first poll checks each URL's chain id and places the cursor
    const withOne = await callsPerPoll(s, 'devnet', 6);
    const made = await creationsPerSecond(s.app.url, 999, 8, (i) => ({ amount: (1 + i * 0.01).toFixed(2), networks: ['devnet'] }));
    const open = Number((await s.app.db.get(`SELECT COUNT(*) AS n FROM invoices WHERE watched = 1 AND network = 'devnet'`)).n);
    const withThousand = await callsPerPoll(s, 'devnet', 6);
    await s.net.rpc('evm_setIntervalMining', [0]);
    row(`RPC requests per poll, devnet, ${open} open invoices`, withThousand, 'requests', '1 open invoice', withOne, 'budget ≤ 3');

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
  }

  // --- 3. Invoice creations per second on SQLite ----------------------------------------------
  const c = await startStack('bench-create', { background: false, maxSlots: 100 });
  try {
    // The peer: a bare endpoint on the same machine, same client, answering a small JSON.
    const bare = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'));
    });
    await new Promise((r) => bare.listen(0, '127.0.0.1', r));
    const bareRate = await load(`http://127.0.0.1:${bare.address().port}`, 3000, 16, null);
    bare.close();
    // 3,000 invoices at 30 prices: 100 share each price and get 100 distinct unique amounts.
    const created = await load(c.app.url, 3000, 16, { base: 10, count: 30 });
    const keys = new Set(created.invoices.map((inv) => `${inv.recipient}:${inv.amount_due_units}`));
    if (keys.size !== created.invoices.length) throw new Error('amount collision');
    row('invoice creations per second, SQLite, 3,000 at 30 prices', created.perSecond, 'invoices/s', 'a bare HTTP endpoint', bareRate.perSecond, `budget ≥ 1000/s; ${keys.size} distinct amounts, no collision`);
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
