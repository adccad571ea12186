// Benchmarks of several server processes on one PostgreSQL (issue 14), with real processes
// (`stablegate serve`), each figure printed with the peer it is compared against in this run:
//  1. Invoice creations per second: 1 process on SQLite, 1 process on PostgreSQL, 3 processes on
//     one PostgreSQL. The same client in every case: three worker threads (bench/load-worker.js),
//     6 keep-alive connections each, 1,000 invoices each at prices of their own (no two workers
//     contend for an amount); with 3 processes each worker talks to its own process.
//  2. RPC requests per poll, and per second, across a cluster of 3 against 1 process, counted by a
//     JSON-RPC proxy in front of the devnet (test/rpc-proxy.js), polls counted by each process's
//     /metrics; a block every 200 ms. The standby processes poll nothing.
//  3. Failover: the lease holder killed (SIGKILL, at a random phase of its poll) → the next
//     completed poll by another process, in poll intervals, against the lease's life (3 intervals);
//     and a clean stop (SIGTERM, which hands the lease over at once) as the other peer.
// The PostgreSQL is a private cluster started here (or STABLEGATE_TEST_PG when set).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { API_KEY, devnet } = require('../test/helpers');
const { startProxy } = require('../test/rpc-proxy');
const { startServer, serverConfig, SERVER_ENV, createDatabase, privatePostgres, tempDir, until, sleep } = require('../test/processes');

const POLL_MS = 500;
const PER_WORKER = 1000;
const WORKERS = 3;

/** POSTs PER_WORKER invoices to `url` from a worker thread, prices from `base` two dollars apart. */
function load(url, base) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'load-worker.js'), {
      workerData: { url, total: PER_WORKER, concurrency: 6, apiKey: API_KEY, prices: { base, count: 60, spacing: 2 } },
    });
    worker.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    worker.once('error', reject);
  });
}

/** Creations per second by the three workers together, worker k to `urls[k % urls.length]`. */
async function creationRate(urls) {
  const t0 = process.hrtime.bigint();
  const done = await Promise.all(Array.from({ length: WORKERS }, (_, k) => load(urls[k % urls.length], 10 + k * 120)));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const created = done.flatMap((d) => d.invoices);
  if (new Set(created.map((i) => `${i.recipient}:${i.amount_due_units}`)).size !== created.length) throw new Error('amount collision');
  return created.length / seconds;
}

async function json(url) {
  return (await fetch(url)).json();
}

/** Completed polls of the devnet watcher, summed over `servers` (from /metrics). */
async function polls(servers) {
  let total = 0;
  for (const s of servers) {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('stablegate_watcher_polls_total{network="devnet"}'));
    total += Number(line.split(' ').pop());
  }
  return total;
}

/** RPC requests per completed poll, and per second, over `seconds` of the cluster's life. */
async function rpcWindow(proxy, servers, seconds) {
  const p0 = await polls(servers);
  const r0 = proxy.state.requests;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const p1 = await polls(servers);
  const requests = proxy.state.requests - r0;
  return { perPoll: requests / (p1 - p0), perSecond: requests / ((Date.now() - t0) / 1000), polls: p1 - p0 };
}

async function main() {
  const row = (name, value, unit, peer, peerValue, note = '') => {
    const ratio = peerValue ? ` (ratio ${(value / peerValue).toFixed(2)} against ${peer}: ${peerValue.toFixed(2)} ${unit})` : '';
    console.log(`${name}: ${value.toFixed(2)} ${unit}${ratio}${note ? ' — ' + note : ''}`);
  };
  const dir = tempDir('bench-cluster');
  const net = await devnet.start({ dir: path.join(dir, 'devnet') });
  const proxy = await startProxy(net.url);
  const pg = process.env.STABLEGATE_TEST_PG ? { url: process.env.STABLEGATE_TEST_PG, stop: async () => {} } : await privatePostgres();
  const running = [];
  const addresses = [net.accounts[5], net.accounts[6]];
  /** Starts `n` processes on one fresh database (`sqlite` or PostgreSQL): the first alone, as it migrates it. */
  const cluster = async (name, n, sqlite) => {
    const configFile = path.join(dir, `${name}.config.json`);
    const env = { ...SERVER_ENV };
    let database = { sqlite: path.join(dir, `${name}.db`) };
    if (!sqlite) {
      env.SG_TEST_DATABASE_URL = await createDatabase(pg.url);
      database = { url_env: 'SG_TEST_DATABASE_URL' };
    }
    fs.writeFileSync(configFile, JSON.stringify(serverConfig({ database, rpc: proxy.url, addresses, pollMs: POLL_MS })));
    const start = async (i) => {
      const server = await startServer({ name: `${name}-${i}`, configFile, env });
      running.push(server);
      return server;
    };
    const servers = [await start(0)];
    for (let i = 1; i < n; i++) servers.push(await start(i));
    return { servers, start };
  };
  const stopAll = async (servers) => Promise.all(servers.map((s) => s.stop()));

  try {
    console.log(`machine: ${os.cpus().length} cores; every process, the devnet, PostgreSQL and the load share them`);
    // --- 1 and 2: one process on SQLite, one on PostgreSQL -------------------------------------
    const sqlite = await cluster('sqlite', 1, true);
    const sqliteRate = await creationRate([sqlite.servers[0].url]);
    await stopAll(sqlite.servers);

    const single = await cluster('pg1', 1, false);
    const singleRate = await creationRate([single.servers[0].url]);
    await net.rpc('evm_setIntervalMining', [200]);
    await until(async () => (await polls(single.servers)) >= 3, 20000, 'the single process does not poll');
    const singleRpc = await rpcWindow(proxy, single.servers, 8);
    await net.rpc('evm_setIntervalMining', [0]);
    await stopAll(single.servers);

    // --- 3 processes on one PostgreSQL -----------------------------------------------------------
    const three = await cluster('pg3', 3, false);
    const threeRate = await creationRate(three.servers.map((s) => s.url));
    await net.rpc('evm_setIntervalMining', [200]);
    await until(async () => (await polls(three.servers)) >= 3, 20000, 'the cluster does not poll');
    const threeRpc = await rpcWindow(proxy, three.servers, 8);

    // --- 3. Failover ---------------------------------------------------------------------------
    const live = three.servers;
    const holderOf = async () => {
      const id = (await json(`${live[0].url}/health`)).networks.devnet.holder;
      for (const s of live) if ((await json(`${s.url}/health`)).process.id === id) return s;
      return null;
    };
    /** Stops the holder with `signal` at a random phase of its poll; ms to another's next completed poll. */
    const failover = async (signal) => {
      const victim = await until(holderOf, 20000, 'no holder');
      await sleep(Math.random() * POLL_MS);
      const at = Date.now();
      victim.kill(signal);
      live.splice(live.indexOf(victim), 1);
      const polled = await until(async () => {
        for (const s of live) {
          const n = (await json(`${s.url}/health`)).networks.devnet;
          if (n.watcher === 'active' && n.last_poll_at && Date.parse(n.last_poll_at) > at) return Date.parse(n.last_poll_at);
        }
        return null;
      }, 30000, `no poll after the holder got ${signal}`);
      await victim.exited;
      const taken = live.flatMap((s) => s.logs).find((l) => l.msg === 'watcher lease taken' && l.at >= at);
      live.push(await three.start(running.length));
      return { ms: polled - at, takenMs: taken ? taken.at - at : NaN };
    };
    const killed = [];
    for (let i = 0; i < 5; i++) killed.push(await failover('SIGKILL'));
    const stopped = [];
    for (let i = 0; i < 2; i++) stopped.push(await failover('SIGTERM'));
    await net.rpc('evm_setIntervalMining', [0]);
    await stopAll(live);

    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const phases = (runs) => runs.map((r) => `${r.ms} ms (lease taken at ${r.takenMs} ms)`).join(', ');
    console.log('');
    row('invoice creations per second, 1 process on PostgreSQL', singleRate, 'invoices/s', '1 process on SQLite', sqliteRate, `${WORKERS * PER_WORKER} invoices, ${WORKERS} client threads × 6 connections`);
    row('invoice creations per second, 3 processes on one PostgreSQL', threeRate, 'invoices/s', '1 process on PostgreSQL', singleRate, `the same client, one thread per process; ${os.cpus().length} cores for everything`);
    row('RPC requests per poll, 3 processes', threeRpc.perPoll, 'requests', '1 process', singleRpc.perPoll, `${threeRpc.polls} and ${singleRpc.polls} polls; the standby processes poll nothing`);
    row('RPC requests per second, 3 processes', threeRpc.perSecond, 'requests/s', '1 process', singleRpc.perSecond, 'a block every 200 ms, poll every 500 ms');
    const killedMs = killed.map((r) => r.ms);
    const stoppedMs = stopped.map((r) => r.ms);
    row('failover, holder SIGKILLed → next poll by another process, mean of 5', mean(killedMs) / POLL_MS, 'poll intervals', 'the lease\'s life', 3, `max ${(Math.max(...killedMs) / POLL_MS).toFixed(2)}; at poll_ms ${POLL_MS}: ${phases(killed)}`);
    row('failover, holder stopped (SIGTERM: lease released) → next poll by another, mean of 2', mean(stoppedMs) / POLL_MS, 'poll intervals', 'holder SIGKILLed', mean(killedMs) / POLL_MS, phases(stopped));
  } finally {
    await stopAll(running);
    await proxy.close();
    await net.stop();
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
