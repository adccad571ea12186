// Several server processes on one PostgreSQL (issue 14), with real processes: three
// `stablegate serve` on one private database and the devnet, each on its own port with JSON logs.
// 1,000 invoices are created through all three; payments arrive while the watcher's holder is
// killed with SIGKILL in the middle of a poll, twice, the second time with a reorganisation in the
// gap before another process takes over. Then: every payment credited once, each settlement
// delivered once, no delivery attempt made twice, no cursor moved back except by a logged rewind,
// takeover within a few poll intervals; the live stream, idempotency keys and claim limits across
// processes. On SQLite only the single-process guard runs (a second process is refused).
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { API_KEY, WEBHOOK_SECRET, sg, devnet } = require('./helpers');
const { encodeTransfer } = require('../../tests/devnet/pay');
const { waitForReceipt } = require('../../tests/devnet/rpc');
const { startServer, createDatabase, serverConfig, SERVER_ENV: ENV, tempDir, until, sleep } = require('./processes');

const ON_POSTGRES = process.env.STABLEGATE_TEST_DB === 'postgres';
const NEEDS_POSTGRES = ON_POSTGRES ? false : 'needs PostgreSQL: runs in the PostgreSQL pass of scripts/test-server.sh (STABLEGATE_TEST_DB=postgres)';

// A lease's time to live is max(3 × poll_ms, 1000) ms: at 400 ms, 1.2 s, three polls.
const POLL_MS = 400;
const LEASE_TTL_MS = Math.max(3 * POLL_MS, 1000);
// Holder killed → lease taken by another: at most the lease's life plus one standby poll; two
// more poll intervals for a machine shared with other work. Six intervals in all.
const TAKEOVER_BOUND_MS = LEASE_TTL_MS + 3 * POLL_MS;
const INVOICES = 1000;
const PAID = 300;

/** JSON over HTTP to one process, with the merchant's key. */
async function api(server, method, urlPath, body, headers = {}) {
  const response = await fetch(server.url + urlPath, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, body: json };
}

/**
 * A webhook receiver that records every request (each attempt, whatever it answers) and answers
 * 500 to the first attempt of about one event in eight, so that retries cross processes too.
 */
async function recordingReceiver() {
  const attempts = [];
  const failedOnce = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const event = JSON.parse(body);
      let status = 200;
      try {
        if (!sg.verifyWebhook(WEBHOOK_SECRET, req.headers['stablegate-signature'] ?? '', body, Math.floor(Date.now() / 1000))) status = 400;
      } catch {
        status = 400;
      }
      if (status === 200 && crypto.createHash('sha256').update(event.id).digest()[0] % 8 === 0 && !failedOnce.has(event.id)) {
        failedOnce.add(event.id);
        status = 500;
      }
      attempts.push({ id: event.id, type: event.type, invoice: event.data.invoice.id, status, at: Date.now() });
      res.writeHead(status).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    attempts,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * The pid of the local process whose TCP socket has local port `port` (the peer of a connection
 * to us), among `pids`: the socket's inode from /proc/net/tcp, then the process holding it.
 */
function pidOfPeer(port, pids) {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hexPort}`)) inodes.add(`socket:[${f[9]}]`);
    }
  }
  return pids.find((pid) => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return inodes.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

/**
 * A pass-through JSON-RPC proxy that can hold an eth_getLogs of a chosen process (told by its
 * socket): only a watcher that holds its lease asks for logs, so a held request is that process
 * in the middle of a poll, and it can be killed there.
 */
async function gatingProxy(target) {
  let armed = null;
  let logsDelayMs = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (armed && text.includes('"eth_getLogs"') && pidOfPeer(req.socket.remotePort, [armed.pid]) === armed.pid) {
        const gate = armed;
        armed = null;
        gate.caught();
        await gate.released;
      }
      if (logsDelayMs && text.includes('"eth_getLogs"')) await sleep(logsDelayMs);
      try {
        const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Holds the next eth_getLogs of process `pid`; `caught` resolves when it arrives; `release()` lets it through. */
    arm(pid) {
      let release;
      let caught;
      const released = new Promise((r) => (release = r));
      const arrived = new Promise((r) => (caught = r));
      armed = { pid, caught, released };
      return { caught: arrived, release: () => { if (armed?.pid === pid) armed = null; release(); } };
    },
    /** Answers every eth_getLogs `ms` late (a slow provider); 0 for no delay. */
    slowLogs(ms) {
      logsDelayMs = ms;
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

describe('three server processes on one PostgreSQL', { skip: NEEDS_POSTGRES }, () => {
  const c = { slots: [], all: [], kills: [], samples: [], sampling: null, orphaned: new Set() };
  let pgc;

  /** Starts (or restarts) the process of slot `i`; records its holder id from /health. */
  async function startSlot(i) {
    const generation = c.all.filter((s) => s.slot === i).length;
    const server = await startServer({ name: `p${i + 1}${generation ? `#${generation + 1}` : ''}`, configFile: c.configFile, env: c.env });
    server.slot = i;
    server.id = (await api(server, 'GET', '/health')).body.process?.id ?? null;
    c.slots[i] = server;
    c.all.push(server);
    return server;
  }

  const live = () => c.slots.filter((s) => s && s.exitCode === undefined);

  /** The process holding the devnet watcher's lease, by the /health of a live process. */
  async function holder() {
    return until(async () => {
      const health = (await api(live()[0], 'GET', '/health')).body;
      if (!('holder' in (health.networks?.devnet ?? {}))) throw new Error(`GET /health names no lease holder: ${JSON.stringify(health.networks?.devnet)}`);
      const id = health.networks.devnet.holder;
      return id && live().find((s) => s.id === id);
    }, 10000, 'no live process holds the devnet lease');
  }

  const logsOf = (test) => c.all.flatMap((s) => s.logs.filter(test));

  /**
   * The holder as /health names it, caught in the middle of a poll: its eth_getLogs held at the
   * proxy until `gate.release()`. On a loaded machine a holder can lose its lease meanwhile (a
   * poll longer than the lease): then it chooses again.
   */
  async function holderMidPoll(label) {
    for (let tries = 0; ; tries++) {
      const candidate = await holder();
      const gate = c.gate.arm(candidate.pid);
      await c.net.mine(1); // a new block, so that the next poll has a range to search
      if (await Promise.race([gate.caught.then(() => true), sleep(5 * POLL_MS + 2000).then(() => false)])) return { holder: candidate, gate };
      gate.release();
      if (tries === 3) throw new Error(`${label}: the holder asked for no logs in four tries`);
    }
  }

  /**
   * Kills the holder with SIGKILL while its poll waits for eth_getLogs, runs `inGap` at once (the
   * lease is still the dead holder's), and measures: lease taken by another process, and that
   * process's next completed poll.
   */
  async function killHolderMidPoll(label, inGap = async () => {}) {
    const { holder: victim, gate } = await holderMidPoll(label);
    const at = Date.now();
    victim.kill('SIGKILL');
    await victim.exited;
    gate.release();
    // The deliveries whose attempt the victim had claimed: it may have sent them or not; they
    // come back to another process once the claim's time is up.
    const claimed = await pgc.query(`SELECT event_id FROM webhook_deliveries WHERE status = 'pending' AND left(claimed_by, length($1)) = $1`, [`${victim.id}#`]);
    for (const r of claimed.rows) c.orphaned.add(r.event_id);
    await inGap();
    // The lease the victim held (its last epoch), then the first epoch after it: another process's.
    const held = victim.logs.filter((l) => l.msg === 'watcher lease taken' && l.network === 'devnet' && l.at <= at).pop();
    assert.ok(held, `${label}: ${victim.name} never logged taking the lease`);
    const taken = await until(() => logsOf((l) => l.msg === 'watcher lease taken' && l.network === 'devnet' && Number(l.epoch) > Number(held.epoch))[0], 30000, `${label}: nobody took the lease after epoch ${held.epoch}`);
    assert.notEqual(taken.process, victim.name, `${label}: the next epoch is another process's`);
    const successor = c.all.find((s) => s.name === taken.process);
    const polled = await until(async () => {
      const n = (await api(successor, 'GET', '/health')).body.networks?.devnet;
      return n?.watcher === 'active' && n.last_poll_at && Date.parse(n.last_poll_at) > taken.at && Date.parse(n.last_poll_at);
    }, 30000, `${label}: ${successor.name} took the lease but completed no poll`);
    const kill = { label, victim: victim.name, victimId: victim.id, successor: successor.name, at, takeoverMs: taken.at - at, pollMs: polled - at, epoch: taken.epoch };
    c.kills.push(kill);
    // systemd's Restart= brings a killed process back in production: do the same, so that the
    // cluster is three again and the process that comes back (a standby that last saw an old
    // cursor) must not disturb the new holder.
    await startSlot(victim.slot);
    return kill;
  }

  /** Sends one transfer per invoice with automining off, then mines them into one block. */
  async function payBlock(invoices) {
    const accounts = await c.net.rpc('eth_accounts');
    await c.net.rpc('evm_setAutomine', [false]);
    const byPayer = [0, 1, 2, 3, 4].map((k) => invoices.filter((_, i) => i % 5 === k));
    const txs = new Map();
    try {
      // Each payer's transfers in order (its nonces), the five payers side by side.
      await Promise.all(byPayer.map(async (list, k) => {
        for (const inv of list) {
          const tx = await c.net.rpc('eth_sendTransaction', [{ from: accounts[k], to: c.net.tokens.UsdtLike, data: encodeTransfer(inv.recipient, inv.amount_due_units), gas: '0x30d40' }]);
          txs.set(inv.id, tx);
        }
      }));
      await c.net.rpc('evm_mine');
    } finally {
      await c.net.rpc('evm_setAutomine', [true]);
    }
    await Promise.all([...txs].map(async ([id, tx]) => {
      const receipt = await waitForReceipt(c.net.url, tx);
      assert.equal(receipt.status, '0x1', `payment of ${id}`);
      c.paid.set(id, { tx, blockHash: receipt.blockHash });
    }));
  }

  before(async () => {
    c.dir = tempDir('cluster');
    c.net = await devnet.start({ dir: path.join(c.dir, 'devnet') });
    c.gate = await gatingProxy(c.net.url);
    c.receiver = await recordingReceiver();
    const dbUrl = await createDatabase(process.env.STABLEGATE_TEST_PG);
    c.env = { ...ENV, SG_TEST_DATABASE_URL: dbUrl };
    c.configFile = path.join(c.dir, 'stablegate.config.json');
    c.config = serverConfig({ pollMs: POLL_MS, database: { url_env: 'SG_TEST_DATABASE_URL' }, rpc: c.gate.url, addresses: [c.net.accounts[5], c.net.accounts[6]], webhookUrl: c.receiver.url });
    fs.writeFileSync(c.configFile, JSON.stringify(c.config, null, 2));
    const { Pool } = require('pg');
    pgc = new Pool({ connectionString: dbUrl, max: 3 });
    // Three processes started at once on the fresh database, as systemd starts a template's instances.
    await startAll([0, 1, 2].map((i) => () => startSlot(i)));
    // The cursors, sampled often: a value lower than the one before must follow a logged rewind.
    c.sampling = setInterval(() => {
      pgc.query('SELECT network, token, block FROM cursors').then(
        (r) => { const at = Date.now(); for (const row of r.rows) c.samples.push({ at, ...row, block: Number(row.block) }); },
        () => undefined,
      );
    }, 100);
  });

  after(async () => {
    clearInterval(c.sampling);
    if (process.env.STABLEGATE_TEST_LOG) for (const s of c.all) process.stderr.write(`--- ${s.name}\n${s.output}\n`);
    await Promise.all(c.all.map((s) => s.stop()));
    if (pgc) await pgc.end().catch(() => undefined);
    if (c.receiver) await c.receiver.close();
    if (c.gate) await c.gate.close();
    if (c.net) await c.net.stop();
    fs.rmSync(c.dir, { recursive: true, force: true });
  });

  test('1,000 invoices through three processes, 300 payments across two SIGKILLs of the watcher holder and a reorganisation: each credited and announced once', { timeout: 240000 }, async (t) => {
    const health = (await api(c.slots[0], 'GET', '/health')).body;
    assert.ok(health.process?.id && health.networks?.devnet?.watcher, `GET /health names no process and no watcher role (the server has no leases yet): ${JSON.stringify(health).slice(0, 300)}`);
    assert.equal(new Set(c.slots.map((s) => s.id)).size, 3, 'each process has its own holder id');

    // 1,000 invoices, round robin over the three processes, 24 requests in flight.
    const invoices = new Array(INVOICES);
    let next = 0;
    let contention = 0;
    await Promise.all(Array.from({ length: 24 }, async () => {
      while (next < INVOICES) {
        const i = next++;
        for (;;) {
          const r = await api(c.slots[i % 3], 'POST', '/api/v1/invoices', { amount: String(10 + (i % 200)), networks: ['devnet'], order_id: `cluster-${i}` });
          // Two processes allocating one price at once: the loser may be told to retry (503).
          if (r.body.error?.code === 'amount_contention') { contention++; continue; }
          assert.equal(r.status, 201, JSON.stringify(r.body));
          invoices[i] = r.body;
          break;
        }
      }
    }));
    assert.equal(new Set(invoices.map((inv) => `${inv.recipient.toLowerCase()} ${inv.amount_due_units}`)).size, INVOICES, 'no two invoices share an amount at one address');
    const t0 = Date.now();
    const phase = (what) => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    phase(`created ${INVOICES} invoices (${contention} retried after amount_contention)`);

    c.paid = new Map();
    const toPay = invoices.filter((_, i) => i % 10 < 3);
    assert.equal(toPay.length, PAID);
    const [x, y] = toPay.splice(0, 2); // the reorganisation's pair
    const waves = [toPay.slice(0, 120), toPay.slice(120, 220), toPay.slice(220)];

    // Wave 1: four blocks of 30; the holder is killed in the middle of a poll after the second.
    for (let b = 0; b < 4; b++) {
      await payBlock(waves[0].slice(b * 30, b * 30 + 30));
      if (b === 1) await killHolderMidPoll('kill 1');
    }
    // Wave 2: two blocks of 50.
    phase('wave 1 paid, holder killed once');
    await payBlock(waves[1].slice(0, 50));
    await payBlock(waves[1].slice(50));
    phase('wave 2 paid');

    // A payment seen as processing, then the holder killed mid-poll; before anyone takes over,
    // its block is replaced (evm_revert), another payment is mined at that height, and the first
    // transaction is mined again in the next block: same hash, another block.
    const snapshot = await c.net.rpc('evm_snapshot');
    const accounts = await c.net.rpc('eth_accounts');
    const gone = await payOne(c.net, x, accounts[0]);
    await until(async () => (await api(c.slots[0], 'GET', `/api/v1/invoices/${x.id}`)).body.state === 'processing', 15000, 'the payment to be reorganised was never seen');
    await killHolderMidPoll('kill 2 + reorganisation', async () => {
      assert.equal(await c.net.rpc('evm_revert', [snapshot]), true);
      // Another payment (another sender) at the replaced height, then the first again.
      c.paid.set(y.id, await payOne(c.net, y, accounts[1]));
      const again = await payOne(c.net, x, accounts[0]);
      assert.equal(again.tx, gone.tx, 'the same transaction (sender, nonce) mined again');
      assert.notEqual(again.blockHash, gone.blockHash);
      c.paid.set(x.id, again);
    });
    // Wave 3: two blocks; then enough blocks for every payment to be final.
    phase('reorganised during the second failover');
    await payBlock(waves[2].slice(0, 40));
    await payBlock(waves[2].slice(40));
    await c.net.mine(4);
    phase('wave 3 paid');

    const paidIds = [...c.paid.keys()];
    assert.equal(paidIds.length, PAID);
    await until(async () => {
      const r = await pgc.query(`SELECT COUNT(*) AS n FROM invoices WHERE state = 'settled' AND id = ANY($1)`, [paidIds]);
      return Number(r.rows[0].n) === PAID;
    }, 60000, 'not every paid invoice settled');
    phase('every paid invoice settled');
    await until(async () => {
      const r = await pgc.query(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'`);
      return Number(r.rows[0].n) === 0;
    }, 60000, 'webhook deliveries still pending or dead');
    phase('every webhook delivered');
    const samples = c.samples.slice(); // the later cases go on sampling

    // Money: one ledger row per paid invoice, its own transfer, final; nothing for the others.
    const ledger = (await pgc.query(`SELECT invoice_id, tx_hash, amount, status, block_hash FROM ledger WHERE invoice_id IS NOT NULL`)).rows;
    const byInvoice = Map.groupBy ? Map.groupBy(ledger, (r) => r.invoice_id) : ledger.reduce((m, r) => m.set(r.invoice_id, [...(m.get(r.invoice_id) ?? []), r]), new Map());
    assert.equal(byInvoice.size, PAID, 'credited invoices');
    for (const inv of invoices) {
      const rows = byInvoice.get(inv.id) ?? [];
      const paid = c.paid.get(inv.id);
      if (!paid) {
        assert.deepEqual(rows, [], `${inv.id} was not paid`);
        continue;
      }
      assert.deepEqual(rows.map((r) => [r.tx_hash, r.amount, r.status]), [[paid.tx, inv.amount_due_units, 'final']], `${inv.id}: credited once`);
    }
    assert.equal(byInvoice.get(x.id)[0].block_hash, c.paid.get(x.id).blockHash, 'the reorganised payment is credited with its new block');
    const seenOfX = logsOf((l) => l.tx === c.paid.get(x.id).tx).map((l) => `${l.process}: ${l.msg}${l.status ? ` (${l.status})` : ''}`);
    t.diagnostic(`the reorganised payment, as the processes logged it: ${seenOfX.join('; ')}`);
    // amount_paid as every process reads it, 12 requests at a time.
    for (let k = 0; k < paidIds.length; k += 12) {
      await Promise.all(paidIds.slice(k, k + 12).map(async (id, j) => {
        const inv = (await api(c.slots[(k + j) % 3], 'GET', `/api/v1/invoices/${id}`)).body;
        assert.deepEqual([inv.state, inv.exception, inv.amount_paid], ['settled', null, inv.amount_due], id);
      }));
    }

    // Webhooks: one invoice.settled per paid invoice, none for the others; each event answered
    // 2xx exactly once, as many requests as the attempts the database counted, and no attempt
    // (event, endpoint, attempt) logged twice by the processes together.
    const settledEvents = (await pgc.query(`SELECT id, invoice_id FROM events WHERE type = 'invoice.settled'`)).rows;
    assert.deepEqual(settledEvents.map((e) => e.invoice_id).sort(), [...paidIds].sort(), 'one invoice.settled per paid invoice');
    const deliveries = (await pgc.query(`SELECT event_id, attempts, claimed_by FROM webhook_deliveries`)).rows;
    const killed = c.kills.map((k) => `${k.victimId}#`);
    const attemptsOf = new Map(deliveries.map((d) => [d.event_id, Number(d.attempts)]));
    const requests = new Map();
    for (const a of c.receiver.attempts) requests.set(a.id, [...(requests.get(a.id) ?? []), a]);
    const delivered = new Map();
    for (const l of logsOf((l) => l.msg === 'webhook delivered')) delivered.set(l.event, (delivered.get(l.event) ?? 0) + 1);
    // An attempt the server gave up waiting for (its timeout) may still have reached the receiver:
    // each such attempt may add one copy (at least once, as the README says).
    const timedOut = new Map();
    for (const l of logsOf((l) => l.msg === 'webhook failed; will retry' && /abort|time/i.test(String(l.error)))) timedOut.set(l.event, (timedOut.get(l.event) ?? 0) + 1);
    const unexplained = [];
    for (const { event_id: id, claimed_by: claim } of deliveries) {
      const got = requests.get(id) ?? [];
      const ok = got.filter((a) => a.status === 200).length;
      const attempts = attemptsOf.get(id);
      // A process killed after it recorded a delivery but before it logged it says nothing.
      const byKilled = killed.some((k) => String(claim).startsWith(k));
      assert.ok(delivered.get(id) === 1 || (byKilled && !delivered.has(id)), `${id}: "webhook delivered" logged ${delivered.get(id) ?? 0} times`);
      if (ok >= 1 && ok <= 1 + (timedOut.get(id) ?? 0) && got.length === attempts) continue;
      // At least once: an attempt claimed by a process killed before it recorded the outcome is
      // made again by another (counted again), whether the killed one had sent it or not.
      if (c.orphaned.has(id) && ok >= 1 && ok <= 2 + (timedOut.get(id) ?? 0) && got.length >= attempts - 1 && got.length <= attempts) continue;
      unexplained.push({ id, requests: got.map((a) => a.status), attempts, orphaned: c.orphaned.has(id), timedOut: timedOut.get(id) ?? 0 });
    }
    assert.deepEqual(unexplained, [], 'deliveries made twice, or attempts miscounted');
    for (const e of settledEvents) {
      const ok = (requests.get(e.id) ?? []).filter((a) => a.status === 200).length;
      assert.ok(ok >= 1 && ok <= 1 + (c.orphaned.has(e.id) ? 1 : 0) + (timedOut.get(e.id) ?? 0), `${e.id} delivered ${ok} times`);
    }
    const attemptLines = logsOf((l) => ['webhook delivered', 'webhook failed; will retry'].includes(l.msg) || l.msg.startsWith('webhook dead-lettered'));
    const seen = new Set();
    for (const l of attemptLines) {
      const key = `${l.event} ${l.endpoint} ${l.attempt}`;
      assert.ok(!seen.has(key), `attempt ${key} made twice`);
      seen.add(key);
    }
    t.diagnostic(`${c.receiver.attempts.length} webhook requests for ${deliveries.length} deliveries (${c.receiver.attempts.filter((a) => a.status !== 200).length} answered 500 on purpose; ${c.orphaned.size} claimed by a killed process; ${[...timedOut.values()].reduce((a, b) => a + b, 0)} attempts timed out)`);

    // Cursors: never lower than the sample before, unless a process logged that rewind.
    const rewinds = logsOf((l) => l.msg === 'cursor rewound');
    const last = new Map();
    const regressions = [];
    for (const s of samples) {
      const key = `${s.network}:${s.token}`;
      const before = last.get(key);
      last.set(key, s);
      if (!before || s.block >= before.block) continue;
      const logged = rewinds.some((r) => r.network === s.network && r.token === s.token && Number(r.to) <= s.block && Number(r.from) >= before.block && r.at <= s.at + 1000);
      if (!logged) regressions.push({ key, from: before.block, to: s.block, at: new Date(s.at).toISOString() });
    }
    assert.deepEqual(regressions, [], 'cursor moved back without a logged rewind');
    t.diagnostic(`${samples.length} cursor samples; ${rewinds.length} logged rewinds: ${rewinds.map((r) => `${r.process} ${r.token} ${r.from}→${r.to}`).join(', ') || 'none'}`);
    assert.ok(samples.length > 100, `cursors sampled ${samples.length} times`);

    // Takeover: another process took the lease within the lease's life and a poll.
    for (const k of c.kills) {
      t.diagnostic(`${k.label}: ${k.victim} killed; ${k.successor} took the lease (epoch ${k.epoch}) after ${k.takeoverMs} ms and completed a poll after ${k.pollMs} ms (poll ${POLL_MS} ms, lease ${LEASE_TTL_MS} ms)`);
      assert.notEqual(k.successor, k.victim);
      assert.ok(k.takeoverMs <= TAKEOVER_BOUND_MS, `${k.label}: takeover after ${k.takeoverMs} ms (bound ${TAKEOVER_BOUND_MS} ms)`);
    }
    const taken = logsOf((l) => l.msg === 'watcher lease taken' && l.network === 'devnet').sort((a, b) => a.at - b.at);
    const epochs = taken.map((l) => Number(l.epoch));
    // Each epoch is one process's (log times of different processes need not follow the epochs).
    assert.equal(new Set(epochs).size, epochs.length, `each lease epoch taken by one process: ${epochs}`);
    // A holder that misses its renewals (a poll longer than the lease, a stalled machine) loses
    // the lease without being killed: allowed (its poll is dropped), but worth seeing.
    const lost = logsOf((l) => l.msg === 'watcher lease lost; standing by');
    t.diagnostic(`lease taken: ${taken.map((l) => `${l.process} epoch ${l.epoch}`).join(', ')}; lost without a kill: ${lost.map((l) => `${l.process} at ${l.time}`).join(', ') || 'never'}`);
  });

  test('a provider slower than the lease: the holder keeps its lease and its polls complete, as one process alone would', { timeout: 60000 }, async (t) => {
    const inv = (await api(live()[0], 'POST', '/api/v1/invoices', { amount: '66', networks: ['devnet'] })).body;
    const since = Date.now();
    c.gate.slowLogs(LEASE_TTL_MS + 400); // each poll now lasts longer than the lease
    try {
      await payOne(c.net, inv, (await c.net.rpc('eth_accounts'))[3]);
      await c.net.mine(3);
      const settled = await until(async () => (await api(live()[0], 'GET', `/api/v1/invoices/${inv.id}`)).body.state === 'settled', 20000, 'the payment did not settle')
        .then(() => true, () => false);
      const taken = logsOf((l) => l.msg === 'watcher lease taken' && l.at >= since);
      t.diagnostic(`with eth_getLogs ${LEASE_TTL_MS + 400} ms late: lease taken ${taken.length} times in ${((Date.now() - since) / 1000).toFixed(1)} s, settled: ${settled}`);
      assert.ok(settled, 'a payment is seen and settled while the provider is slow');
      assert.equal(taken.length, 0, 'no process took the lease from a live holder');
    } finally {
      c.gate.slowLogs(0);
    }
  });

  test('a holder paused mid-poll past its lease (SIGSTOP) stores nothing of that poll when it resumes, even with nobody holding the lease then', { timeout: 90000 }, async (t) => {
    const cursor = async () => Number((await pgc.query(`SELECT block FROM cursors WHERE network = 'devnet' AND token = 'usdt'`)).rows[0].block);
    // The holder's poll waits for eth_getLogs; the process freezes there (a VM paused, a long GC).
    const { holder: paused, gate } = await holderMidPoll('pause');
    const [successor, other] = live().filter((s) => s !== paused);
    const held = paused.logs.filter((l) => l.msg === 'watcher lease taken').pop();
    process.kill(paused.pid, 'SIGSTOP');
    let resumedAt = null;
    try {
      const before = await cursor();
      const taken = await until(() => logsOf((l) => l.msg === 'watcher lease taken' && Number(l.epoch) > Number(held.epoch))[0], 15000, 'nobody took the lease from the paused holder');
      const next = c.all.find((s) => s.name === taken.process);
      await c.net.mine(6);
      await until(async () => (await cursor()) > before + 3, 15000, `${next.name} moved no cursor`);
      const stored = await cursor();
      // Nobody may hold the lease when the paused process wakes: the new holder dies, the third
      // process is paused too; the lease lapses.
      const third = next === successor ? other : successor;
      process.kill(third.pid, 'SIGSTOP');
      try {
        next.kill('SIGKILL');
        await next.exited;
        await sleep(LEASE_TTL_MS + 300);
        process.kill(paused.pid, 'SIGCONT');
        resumedAt = Date.now();
        await sleep(300); // its timers run first, then the answer it was waiting for arrives
        gate.release();
        // The resumed poll ends (stored or refused), then the process polls again from the stored cursor.
        await paused.waitLog((l) => l.msg === 'watcher lease lost; standing by' || l.msg === 'watcher lease taken', 10000, resumedAt);
        await sleep(4 * POLL_MS);
        const samples = c.samples.filter((x) => x.at >= resumedAt && x.token === 'usdt').map((x) => x.block);
        t.diagnostic(`cursor ${before} at the pause, ${stored} by ${next.name}; after ${paused.name} resumed: ${[...new Set(samples)].join(', ')}; its lines: ${paused.logs.filter((l) => l.at >= resumedAt && /lease|cursor/.test(l.msg)).map((l) => `${l.msg}${l.epoch ? ` (epoch ${l.epoch})` : ''}`).join('; ')}`);
        assert.ok(samples.length > 0 && Math.min(...samples) >= stored, `the cursor went back below ${stored} (to ${Math.min(...samples)}): the paused poll stored its stale cursor`);
        assert.ok((await cursor()) >= stored);
      } finally {
        process.kill(third.pid, 'SIGCONT');
        await startSlot(next.slot);
      }
    } finally {
      if (resumedAt === null) process.kill(paused.pid, 'SIGCONT');
      gate.release();
    }
  });

  test('a customer\'s event stream on one process sees, as soon as the holder\'s own stream does, a payment that the holder processed', { timeout: 60000 }, async (t) => {
    const watcher = await holder();
    const other = live().find((s) => s !== watcher);
    const inv = (await api(other, 'POST', '/api/v1/invoices', { amount: '333', networks: ['devnet'] })).body;
    // The same stream on both processes: the holder's sees its own change at once, the other's
    // only by LISTEN/NOTIFY (else by its re-render every 3 s).
    const streams = [watcher, other].map((s) => openStream(`${s.url}/api/v1/checkout/${inv.id}/events`));
    try {
      await Promise.all(streams.map((st) => st.first('new')));
      await payOne(c.net, inv, (await c.net.rpc('eth_accounts'))[2]);
      await Promise.all(streams.map((st) => st.first('processing')));
      await c.net.mine(3);
      await Promise.all(streams.map((st) => st.first('settled')));
      for (const state of ['processing', 'settled']) {
        const [onHolder, onOther] = await Promise.all(streams.map((st) => st.first(state)));
        t.diagnostic(`${state}: on ${watcher.name} (the holder) and ${onOther - onHolder} ms later on ${other.name}`);
        assert.ok(onOther - onHolder < 1000, `${state}: ${other.name}'s stream ${onOther - onHolder} ms after ${watcher.name}'s`);
      }
    } finally {
      for (const st of streams) st.close();
    }
  });

  test('three processes started at once on a fresh database all start, and the schema is migrated once', { timeout: 90000 }, async () => {
    // systemd starts the instances of a template at once; a first deployment has an empty database.
    const { Client } = require('pg');
    for (let round = 0; round < 4; round++) {
      const url = await createDatabase(process.env.STABLEGATE_TEST_PG);
      const env = { ...ENV, SG_TEST_DATABASE_URL: url };
      const started = [];
      try {
        await startAll([0, 1, 2].map((i) => async () => started.push(await startServer({ name: `fresh${round}-${i}`, configFile: c.configFile, env }))));
      } finally {
        await Promise.all(started.map((s) => s.stop()));
      }
      const db = new Client({ connectionString: url });
      await db.connect();
      try {
        const versions = (await db.query(`SELECT version FROM schema_migrations ORDER BY version`)).rows.map((r) => Number(r.version));
        assert.deepEqual(versions, [...new Set(versions)], `round ${round}: each migration applied once`);
      } finally {
        await db.end();
      }
    }
  });

  test('one Idempotency-Key sent to the three processes at once makes one invoice', { timeout: 60000 }, async () => {
    for (let k = 0; k < 10; k++) {
      const key = `cluster-idem-${k}`;
      const answers = await Promise.all(live().map((s) => api(s, 'POST', '/api/v1/invoices', { amount: '44', networks: ['devnet'], order_id: key }, { 'idempotency-key': key })));
      assert.deepEqual(answers.map((a) => a.status), [201, 201, 201], JSON.stringify(answers.map((a) => a.body)));
      assert.equal(new Set(answers.map((a) => a.body.id)).size, 1, `${key}: one invoice`);
      const { rows } = await pgc.query(`SELECT COUNT(*) AS n FROM invoices WHERE order_id = $1`, [key]);
      assert.equal(Number(rows[0].n), 1, `${key}: one row`);
    }
  });

  test('the per-invoice claim limit is counted once across the three processes', { timeout: 60000 }, async () => {
    const inv = (await api(live()[0], 'POST', '/api/v1/invoices', { amount: '55', networks: ['devnet'] })).body;
    // 15 claims, five to each process, all at once: the limit is 5 per invoice per minute.
    const answers = await Promise.all(live().flatMap((s) => Array.from({ length: 5 }, () => api(s, 'POST', `/api/v1/checkout/${inv.id}/claim`, { tx_hash: 'nope' }))));
    const codes = answers.map((a) => a.body.error?.code);
    assert.equal(codes.filter((code) => code !== 'rate_limited').length, 5, codes.join(' '));
    assert.equal(codes.filter((code) => code === 'invalid_tx_hash').length, 5);
  });

});

/**
 * Runs the starts side by side and waits for all of them, so that none is left running unseen
 * when another fails; then throws the first failure.
 */
async function startAll(starts) {
  const results = await Promise.allSettled(starts.map((start) => start()));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Pays one invoice in a block of its own (automining) from `from`; returns { tx, blockHash }. The
 * fees are fixed, so that the same transaction sent again after a reorganisation (same sender and
 * nonce) has the same hash whatever the base fee of the block it lands in.
 */
async function payOne(net, inv, from) {
  const fees = { maxFeePerGas: '0x2540be400', maxPriorityFeePerGas: '0x3b9aca00' }; // 10 and 1 gwei
  const tx = await net.rpc('eth_sendTransaction', [{ from, to: net.tokens.UsdtLike, data: encodeTransfer(inv.recipient, inv.amount_due_units), gas: '0x30d40', ...fees }]);
  const receipt = await waitForReceipt(net.url, tx);
  assert.equal(receipt.status, '0x1');
  return { tx, blockHash: receipt.blockHash };
}

/**
 * A server-sent events client: keeps the time each state first arrived; `first(state)` waits for
 * it (up to 20 s).
 */
function openStream(url) {
  const controller = new AbortController();
  const firsts = new Map();
  const reading = (async () => {
    const response = await fetch(url, { signal: controller.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const state = JSON.parse(data.slice(6)).state;
        if (!firsts.has(state)) firsts.set(state, Date.now());
      }
    }
  })().catch(() => undefined);
  return {
    first: (state) => until(() => firsts.get(state), 20000, `no "${state}" on ${url}`),
    close() {
      controller.abort();
      return reading;
    },
  };
}

test('a second process on one SQLite file is refused at start with a sentence saying why; a killed holder does not lock the file for good', { skip: ON_POSTGRES ? 'SQLite only: runs in the SQLite pass' : false, timeout: 60000 }, async () => {
  const dir = tempDir('sqlite-guard');
  const configFile = path.join(dir, 'stablegate.config.json');
  const started = [];
  try {
    fs.writeFileSync(configFile, JSON.stringify(serverConfig({
      pollMs: POLL_MS,
      database: { sqlite: path.join(dir, 'one.db') },
      rpc: 'http://127.0.0.1:9', // never reached in this test: nobody waits for the watcher
      addresses: ['0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'],
      webhookUrl: 'http://127.0.0.1:9/hooks',
    })));
    const first = await startServer({ name: 'first', configFile, env: ENV });
    started.push(first);
    const second = await startServer({ name: 'second', configFile, env: ENV, waitListening: false });
    started.push(second);
    await until(() => second.exitCode !== undefined || second.url, 15000, 'the second process neither exited nor listened');
    assert.equal(second.url, null, `the second process must not listen; output:\n${second.output}`);
    assert.ok(second.exitCode !== 0, `the second process exits with a failure status, got ${second.exitCode}; output:\n${second.output}`);
    assert.match(second.output, /another .*process.* (is using|holds) the SQLite database/i, 'it says another process holds the database');
    assert.match(second.output, /PostgreSQL for all of them \(database\.url_env/, 'and to use PostgreSQL for several processes, naming the real key');
    assert.equal((await fetch(`${first.url}/health`)).status, 200, 'the first one still serves');
    // A holder that dies without cleaning up (SIGKILL, power loss) must not lock the file out.
    await first.kill('SIGKILL');
    const third = await startServer({ name: 'third', configFile, env: ENV });
    started.push(third);
    assert.equal((await fetch(`${third.url}/health`)).status, 200);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
