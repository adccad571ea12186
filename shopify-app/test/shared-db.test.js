// Several server processes on one PostgreSQL (issue 14), as two apps in this test process on one
// private database and the devnet: the watcher's lease and its fencing (a process that lost the
// lease mid-poll stores nothing, its cursor included), ledger writes that never change a final
// entry, webhook attempts claimed once, changes fanned out by NOTIFY to the other process's
// live status, and rate limits and idempotency keys that hold across processes. The watchers do
// not run by themselves here: each test polls when it wants. Real processes, SIGKILL and
// failover under load are in cluster.test.js; this suite pins each mechanism on its own.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startStack } = require('./helpers');
const { startApp } = require('../dist/app');
const { parseConfig } = require('../dist/config');
const { LeaseLost, Leases } = require('../dist/lease');
const { LedgerConflict } = require('../dist/invoices');

const postgres = process.env.STABLEGATE_TEST_DB === 'postgres';
const skip = postgres ? false : 'several processes share a database only on PostgreSQL (scripts/test-server.sh runs this suite there)';

let s; // process A, with the devnet and the webhook receiver
let b; // process B: another app on the same database
let devnet;
before(async () => {
  if (!postgres) return;
  s = await startStack('shared', { background: false });
  b = await startApp(parseConfig(s.raw, s.env, path.join(s.dir, 'b.config.json')), { clock: () => s.app.invoices.clock(), background: false });
  devnet = s.app.config.networks.find((n) => n.id === 'devnet');
});
after(async () => {
  if (b) await b.stop();
  if (s) await s.stop();
});

const create = async (app, body, headers = {}) => {
  const r = await fetch(`${app.url}/api/v1/invoices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.env.SG_TEST_API_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ networks: ['devnet'], ...body }),
  });
  return { status: r.status, body: await r.json() };
};
const cursorOf = async (token) => Number((await s.app.db.get(`SELECT block FROM cursors WHERE network = 'devnet' AND token = ?`, [token]))?.block ?? -1);
const health = async (app) => (await (await fetch(`${app.url}/health`)).json()).networks.devnet;

test('one process polls a network; the other stands by, then takes over when the lease is given up', { skip }, async () => {
  assert.equal(await s.app.watcher.poll(devnet), true, 'A takes the lease and polls');
  assert.equal(await b.watcher.poll(devnet), false, 'B stands by while A holds it');
  const [ha, hb] = [await health(s.app), await health(b)];
  assert.deepEqual([ha.watcher, hb.watcher], ['active', 'standby']);
  assert.equal(hb.holder, s.app.leases.holder);
  assert.equal(hb.head, ha.head, "B's status documents count confirmations from the head A saw");
  // A clean stop hands the lease over at once: B polls on its next turn.
  await s.app.leases.release('watch:devnet');
  assert.equal(await b.watcher.poll(devnet), true);
  assert.equal((await health(b)).watcher, 'active');
  assert.equal(await s.app.watcher.poll(devnet), false);
  // Give it back for the next tests (as if B had stopped).
  await b.leases.release('watch:devnet');
  assert.equal(await s.app.watcher.poll(devnet), true);
});

test('a process that lost its lease mid-poll stores nothing: no credit twice, no cursor moved back', { skip }, async () => {
  const inv = (await create(s.app, { amount: '12' })).body;
  await s.app.watcher.poll(devnet);
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  // A pauses after reading the chain and the store (a GC pause, a stalled host) long enough for
  // its lease to lapse; B takes over, credits the payment and moves the cursor on.
  const pollState = s.app.invoices.pollState.bind(s.app.invoices);
  let paused = false;
  s.app.invoices.pollState = async (...args) => {
    const state = await pollState(...args);
    if (!paused) {
      paused = true;
      await s.app.db.run(`UPDATE leases SET expires_at = 0 WHERE name = 'watch:devnet'`);
      assert.equal(await b.watcher.poll(devnet), true, 'B takes the lapsed lease');
      await s.net.mine(5);
      assert.equal(await b.watcher.poll(devnet), true);
    }
    return state;
  };
  const before = await cursorOf('usdt');
  try {
    await assert.rejects(s.app.watcher.poll(devnet), LeaseLost);
  } finally {
    s.app.invoices.pollState = pollState;
  }
  const after = await cursorOf('usdt');
  assert.ok(after > before, `B's cursor stands (${before} → ${after})`);
  const rows = await s.app.db.all('SELECT invoice_id, status FROM ledger WHERE tx_hash = ?', [paid.tx]);
  assert.deepEqual(rows, [{ invoice_id: inv.id, status: 'final' }], 'credited once, by B');
  const settled = await s.app.db.all(`SELECT id FROM events WHERE invoice_id = ? AND type = 'invoice.settled'`, [inv.id]);
  assert.equal(settled.length, 1);
  assert.equal(await s.app.watcher.poll(devnet), false, 'A now stands by');
  await b.leases.release('watch:devnet');
  assert.equal(await s.app.watcher.poll(devnet), true);
  assert.ok((await cursorOf('usdt')) >= after, 'A resumes from B\'s cursor');
});

test('a poll that would change a final ledger entry is dropped whole', { skip }, async () => {
  const inv = (await create(s.app, { amount: '13' })).body;
  await s.app.watcher.poll(devnet);
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  await s.net.mine(4);
  for (let i = 0; i < 3; i++) await s.app.watcher.poll(devnet);
  const entry = await s.app.db.get('SELECT * FROM ledger WHERE tx_hash = ?', [paid.tx]);
  assert.equal(entry.status, 'final');
  // What a writer holding a stale read (or fed by a node that lost the block) would store.
  const transfer = {
    tx_hash: entry.tx_hash, log_index: String(entry.log_index), block_number: String(entry.block_number), block_hash: '0x' + '0'.repeat(64),
    block_time: String(entry.block_time), from: entry.sender, to: entry.recipient, amount: entry.amount, token: entry.token,
  };
  const cursor = await cursorOf('usdt');
  await assert.rejects(
    s.app.invoices.storePoll('devnet', 'usdt', [], { invoices: [], ledger: [{ op: 'update', transfer, status: 'seen', invoice: inv.id }], events: [], cursor: '0', rewound: true }, async (q) => {
      await q.run(`UPDATE cursors SET block = 0 WHERE network = 'devnet' AND token = 'usdt'`);
    }),
    LedgerConflict,
  );
  assert.equal((await s.app.db.get('SELECT status, block_hash FROM ledger WHERE tx_hash = ?', [paid.tx])).status, 'final');
  assert.equal(await cursorOf('usdt'), cursor, 'nothing of the dropped poll was stored');
});

test('a claim stored while a poll was running drops that poll (no 500, no second entry); the next poll finds it credited', { skip }, async () => {
  const inv = (await create(s.app, { amount: '14' })).body;
  await s.app.watcher.poll(devnet);
  // A short payment: it matches no amount, so the poll would store it unmatched.
  const short = await s.pay(inv.recipient, String(BigInt(inv.amount_due_units) - 1000n));
  const pollState = s.app.invoices.pollState.bind(s.app.invoices);
  let claimed = null;
  s.app.invoices.pollState = async (...args) => {
    const state = await pollState(...args);
    // The customer claims it in the middle of the poll, on the other process.
    if (!claimed) claimed = await fetch(`${b.url}/api/v1/checkout/${inv.id}/claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tx_hash: short.tx }) });
    return state;
  };
  try {
    await assert.rejects(s.app.watcher.poll(devnet), LedgerConflict);
  } finally {
    s.app.invoices.pollState = pollState;
  }
  assert.equal(claimed.status, 200);
  assert.equal(await s.app.watcher.poll(devnet), true);
  const rows = await s.app.db.all('SELECT invoice_id, matched_by FROM ledger WHERE tx_hash = ?', [short.tx]);
  assert.deepEqual(rows, [{ invoice_id: inv.id, matched_by: 'claim' }]);
});

test('a lease is fenced by its epoch: the old holder cannot renew, retake or write after a takeover', { skip }, async () => {
  const one = new Leases(s.app.db, 'host/1/a');
  const two = new Leases(s.app.db, 'host/2/b');
  assert.equal(await one.acquire('test:fence', 60000), 1);
  assert.equal(await two.acquire('test:fence', 60000), null, 'held: no takeover');
  assert.equal(await one.renew('test:fence', 1, 60000), true);
  await s.app.db.run(`UPDATE leases SET expires_at = 0 WHERE name = 'test:fence'`);
  assert.equal(await two.acquire('test:fence', 60000), 2, 'lapsed: taken with the next epoch');
  await assert.rejects(s.app.db.tx((q) => one.fence(q, 'test:fence', 1, 60000)), LeaseLost);
  assert.equal(await one.renew('test:fence', 1, 60000), false, 'a renewal never takes a lease back');
  assert.equal(await one.acquire('test:fence', 60000), null);
  await s.app.db.tx((q) => two.fence(q, 'test:fence', 2, 60000));
  // Lapsed again and retaken by the same process: a new epoch, so work begun under the old one
  // cannot be stored under it.
  await s.app.db.run(`UPDATE leases SET expires_at = 0 WHERE name = 'test:fence'`);
  assert.equal(await one.acquire('test:fence', 60000), 3);
  assert.equal(await one.renew('test:fence', 1, 60000), false);
  await assert.rejects(s.app.db.tx((q) => one.fence(q, 'test:fence', 1, 60000)), LeaseLost);
  await s.app.db.tx((q) => one.fence(q, 'test:fence', 3, 60000));
});

test('each webhook attempt is made by one process, whichever process recorded the event', { skip }, async () => {
  const before = s.receiver.received.length;
  const ids = [];
  for (let i = 0; i < 20; i++) ids.push((await create(i % 2 ? b : s.app, { amount: String(20 + i) })).body.id);
  const expected = await s.app.db.get(`SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.invoice_id IN (${ids.map(() => '?').join(',')})`, ids);
  assert.ok(Number(expected.n) >= 20);
  // Both workers at once, several rounds, as two processes' workers would run.
  for (let round = 0; round < 3; round++) await Promise.all([s.app.webhooks.deliverDue(), b.webhooks.deliverDue(), s.app.webhooks.deliverDue(), b.webhooks.deliverDue()]);
  const ours = new Set((await s.app.db.all(`SELECT id FROM events WHERE invoice_id IN (${ids.map(() => '?').join(',')})`, ids)).map((e) => e.id));
  const perEvent = new Map();
  for (const r of s.receiver.received.slice(before)) {
    const id = r.headers['stablegate-event-id'];
    if (ours.has(id)) perEvent.set(id, (perEvent.get(id) ?? 0) + 1);
  }
  assert.equal(perEvent.size, Number(expected.n), 'every delivery made');
  assert.deepEqual([...perEvent.values()].filter((n) => n > 1), [], 'none made twice');
  const rows = await s.app.db.all(`SELECT status, attempts, claimed_by FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.invoice_id IN (${ids.map(() => '?').join(',')})`, ids);
  assert.ok(rows.every((r) => r.status === 'delivered' && Number(r.attempts) === 1 && r.claimed_by), JSON.stringify(rows.slice(0, 3)));
  const claimers = new Set(rows.map((r) => r.claimed_by.split('#')[0]));
  assert.ok([...claimers].every((c) => c === s.app.leases.holder || c === b.leases.holder));
});

test("a change made by one process reaches the other's live status stream (NOTIFY)", { skip }, async () => {
  const inv = (await create(s.app, { amount: '31' })).body;
  const remote = new Promise((resolve) => {
    const on = (id, isRemote) => {
      if (id === inv.id && isRemote) {
        b.invoices.changes.off('change', on);
        resolve();
      }
    };
    b.invoices.changes.on('change', on);
  });
  // A customer watches on B.
  const controller = new AbortController();
  const stream = await fetch(`${b.url}/api/v1/checkout/${inv.id}/events`, { signal: controller.signal });
  const reader = stream.body.getReader();
  const documents = [];
  const reading = (async () => {
    let text = '';
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      text += Buffer.from(value).toString('utf8');
      for (const m of text.matchAll(/event: status\ndata: (.*)\n\n/g)) documents.push(JSON.parse(m[1]));
      text = text.slice(text.lastIndexOf('\n\n') + 2);
    }
  })();
  // A processes the payment.
  await s.app.watcher.poll(devnet);
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  await s.app.watcher.poll(devnet);
  await remote;
  for (let i = 0; i < 40 && !documents.some((d) => d.state === 'processing'); i++) await new Promise((r) => setTimeout(r, 25));
  controller.abort();
  await reading;
  assert.ok(documents.some((d) => d.state === 'processing' && d.transfers.some((t) => t.tx === paid.tx)), JSON.stringify(documents.map((d) => d.state)));
});

test('rate limits and idempotency keys hold across processes', { skip }, async () => {
  const inv = (await create(s.app, { amount: '32' })).body;
  const claim = (app) =>
    fetch(`${app.url}/api/v1/checkout/${inv.id}/claim`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tx_hash: 'nope' }) }).then((r) => r.json());
  const codes = [];
  for (let i = 0; i < 6; i++) codes.push((await claim(i % 2 ? b : s.app)).error.code);
  // per_invoice_per_minute is 5 in the test config: counted once across both processes.
  assert.deepEqual(codes, ['invalid_tx_hash', 'invalid_tx_hash', 'invalid_tx_hash', 'invalid_tx_hash', 'invalid_tx_hash', 'rate_limited']);
  const key = { 'idempotency-key': `order-${Date.now()}` };
  const [one, two] = await Promise.all([create(s.app, { amount: '33' }, key), create(b, { amount: '33' }, key)]);
  assert.ok([200, 201].includes(one.status) && [200, 201].includes(two.status), `${one.status} ${two.status} ${JSON.stringify(two.body)}`);
  assert.equal(one.body.id, two.body.id, 'one invoice for one key, whichever process answered');
});
