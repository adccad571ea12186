// RPC trouble: two RPC URLs behind proxies. One dies → the watcher fails over and says which is
// unhealthy. Both die while payments are made over thousands of blocks → nothing is credited and
// the cursor stays put; when one returns (a provider that caps eth_getLogs at 1,000 blocks) the
// watcher splits its ranges, every payment is credited, and the cursor skipped nothing.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const os = require('node:os');
const fs = require('node:fs');
const { startStack, devnet } = require('./helpers');
const { startProxy } = require('./rpc-proxy');

let net;
let primary;
let backup;
let wrongChain;
let s;
const netDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-outage-devnet-'));
before(async () => {
  net = await devnet.start({ dir: netDir });
  primary = await startProxy(net.url);
  backup = await startProxy(net.url, { maxRange: 1000 });
  wrongChain = await startProxy(net.url, { chainId: 1 }); // says it is Ethereum mainnet
  s = await startStack('outage', { net, rpc: [wrongChain.url, primary.url, backup.url], maxRange: 5000 });
});
after(async () => {
  if (s) await s.stop();
  await primary?.close();
  await backup?.close();
  await wrongChain?.close();
  await net?.stop();
  fs.rmSync(netDir, { recursive: true, force: true });
});

const health = async () => (await s.api('GET', '/health')).body.networks.devnet;

test('an RPC URL on another chain is checked once, refused and never used', async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '10.5', networks: ['devnet'] })).body;
  await s.pay(inv.recipient, inv.amount_due_units);
  await s.net.mine(3);
  await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  const h = await health();
  assert.equal(h.rpc[0].healthy, false);
  assert.equal(h.rpc[0].last_error, 'serves chain 1, not 31337; never used');
  assert.deepEqual(Object.keys(wrongChain.state.methods), ['eth_chainId']);
});

test('one RPC URL down: the watcher fails over and reports it unhealthy', async () => {
  primary.state.down = true;
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '11', networks: ['devnet'] })).body;
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  await s.net.mine(3);
  const done = await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  assert.equal(done.transfers[0].tx_hash, paid.tx);
  const h = await health();
  assert.equal(h.rpc[1].healthy, false);
  assert.match(h.rpc[1].last_error, /fetch failed|socket|terminated/i);
  assert.equal(h.rpc[2].healthy, true);
  const metrics = await (await fetch(`${s.app.url}/metrics`)).text();
  assert.match(metrics, /stablegate_rpc_healthy\{network="devnet",url="1:[^"]+"\} 0/);
  assert.match(metrics, /stablegate_rpc_errors_total\{network="devnet",url="1:[^"]+"\} [1-9]/);
});

test('every RPC down while payments are made; afterwards every payment is credited and no block skipped', { timeout: 90000 }, async () => {
  const invoices = [];
  for (let i = 0; i < 5; i++) invoices.push((await s.api('POST', '/api/v1/invoices', { amount: `12.${i}`, networks: ['devnet'] })).body);
  const before = await health();
  const cursorBefore = before.cursors.usdt;
  backup.state.down = true;
  const paid = [];
  for (const inv of invoices) {
    paid.push((await s.pay(inv.recipient, inv.amount_due_units)).tx);
    await s.net.mine(700); // thousands of blocks in all: the catch-up must split its ranges
  }
  // While everything is down: failing polls, nothing credited, the cursor not moved.
  await new Promise((r) => setTimeout(r, 1500));
  const during = await health();
  assert.ok(during.last_error, 'the watcher reports its failure');
  assert.equal(during.cursors.usdt, cursorBefore, 'the cursor does not move during the outage');
  for (const inv of invoices) assert.equal((await s.api('GET', `/api/v1/invoices/${inv.id}`)).body.state, 'new');
  // A claim cannot be checked without the chain: a retryable 503 that says so, not a 500.
  const claim = await s.api('POST', `/api/v1/checkout/${invoices[0].id}/claim`, { tx_hash: paid[0] });
  assert.deepEqual([claim.status, claim.body.error.code], [503, 'rpc_unavailable']);
  assert.ok(Number(claim.headers.get('retry-after')) > 0);

  backup.state.down = false; // back, capped at 1,000 blocks per eth_getLogs
  const head = Number(await net.rpc('eth_blockNumber'));
  for (const [i, inv] of invoices.entries()) {
    const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled', 60000);
    assert.deepEqual(done.transfers.map((t) => t.tx_hash), [paid[i]]);
  }
  assert.ok(backup.state.refusedRanges > 0, 'the provider refused a wide range and the watcher split it');
  const afterHealth = await health();
  assert.ok(afterHealth.cursors.usdt >= head);
  // Nothing skipped: every block from the old cursor to the head was inside some eth_getLogs
  // range that succeeded — shown by every payment being found, and by the ledger holding each.
  const rows = await s.app.db.all(`SELECT tx_hash FROM ledger WHERE tx_hash IN (${paid.map(() => '?').join(',')})`, paid);
  assert.equal(rows.length, paid.length);
});

test('a node behind the head it reported (load-balanced provider) makes the watcher wait, never skip its blocks', { timeout: 60000 }, async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '12.75', networks: ['devnet'] })).body;
  backup.state.lag = 3;
  let paid;
  try {
    paid = await s.pay(inv.recipient, inv.amount_due_units);
    await new Promise((r) => setTimeout(r, 1000)); // several polls against the lagging node
    assert.equal((await s.api('GET', `/api/v1/invoices/${inv.id}`)).body.state, 'new');
  } finally {
    backup.state.lag = 0;
  }
  await net.mine(3);
  const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled', 15000);
  assert.deepEqual(done.transfers.map((t) => t.tx_hash), [paid.tx]);
});

test('a node that lacks a payment\'s block when finality comes does not make the payment invalid', { timeout: 60000 }, async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '12.8', networks: ['devnet'] })).body;
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  await s.waitInvoice(inv.id, (x) => x.state === 'processing');
  backup.state.lag = 5; // the finality check's header request lands on a node 5 blocks behind
  try {
    await net.mine(3);
    await new Promise((r) => setTimeout(r, 1000));
    const during = (await s.api('GET', `/api/v1/invoices/${inv.id}`)).body;
    assert.deepEqual([during.state, during.transfers.map((t) => t.status)], ['processing', ['seen']]);
  } finally {
    backup.state.lag = 0;
  }
  const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled', 15000);
  assert.deepEqual(done.transfers.map((t) => [t.tx_hash, t.status]), [[paid.tx, 'final']]);
  assert.equal(s.receiver.received.some((r) => r.event.type === 'invoice.invalid' && r.event.data.invoice.id === inv.id), false, 'no invalid webhook was sent');
});

test('a transient eth_getLogs error does not shrink the ranges for good', { timeout: 60000 }, async () => {
  const USDT = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
  const caughtUp = async () => {
    const head = Number(await net.rpc('eth_blockNumber'));
    for (let i = 0; i < 600 && (await health()).cursors.usdt < head; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await health()).cursors.usdt >= head, 'the watcher caught up');
  };
  backup.state.failLogsOf = USDT;
  backup.state.failLogs = 1; // e.g. "header not found" from a provider, once, on a few blocks
  await net.mine(8);
  await caughtUp();
  assert.equal(backup.state.failLogs, 0);
  await new Promise((r) => setTimeout(r, 500)); // a few ordinary polls
  // Later, an outage of 3,000 blocks: the catch-up must still take wide ranges (this provider
  // caps them at 1,000), not the few blocks that the transient error happened to cover.
  backup.state.down = true;
  await net.mine(3000);
  backup.reset();
  backup.state.down = false;
  await caughtUp();
  const calls = backup.state.logsByAddress[USDT];
  assert.ok(calls <= 10, `${calls} eth_getLogs of the USDT contract for 3,000 blocks`);
});

test('a provider that ignores the eth_getLogs filter: each token still credits its own invoices, nothing else', { timeout: 60000 }, async () => {
  backup.state.ignoreFilter = true; // every log of every contract, to every address
  try {
    const inv18 = (await s.api('POST', '/api/v1/invoices', { amount: '12.9', networks: ['devnet:usdt18'] })).body;
    const inv = (await s.api('POST', '/api/v1/invoices', { amount: '12.9', networks: ['devnet'] })).body;
    const fake = await s.pay(inv.recipient, inv.amount_due_units, { token: 'FakeUsdt' });
    const paid18 = await s.pay(inv18.recipient, inv18.amount_due_units, { token: 'BscUsdLike' });
    const paid = await s.pay(inv.recipient, inv.amount_due_units);
    await net.mine(3);
    const done18 = await s.waitInvoice(inv18.id, (x) => x.state === 'settled');
    const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled');
    assert.deepEqual(done18.transfers.map((t) => t.tx_hash), [paid18.tx]);
    assert.deepEqual(done.transfers.map((t) => t.tx_hash), [paid.tx]);
    // The fake token's transfer is not in the ledger under a real token's name.
    assert.deepEqual(await s.app.db.all('SELECT token FROM ledger WHERE tx_hash = ?', [fake.tx]), []);
  } finally {
    backup.state.ignoreFilter = false;
  }
});

test('after long downtime the backfill is bounded by the oldest watched invoice, and still finds its payment', { timeout: 60000 }, async () => {
  const devnetConfig = s.app.config.networks.find((n) => n.id === 'devnet');
  devnetConfig.maxBlocksPerPoll = 500;
  devnetConfig.backfillBlocks = 500;
  primary.state.down = true;
  backup.state.down = true;
  const cursorBefore = (await health()).cursors.usdt;
  // A day and more passes (every earlier invoice leaves its monitoring window) and 6,000 blocks.
  await s.advance(90000);
  await net.mine(6000);
  await s.advance(600);
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '13', networks: ['devnet'] })).body;
  const paid = await s.pay(inv.recipient, inv.amount_due_units);
  await net.mine(3);
  backup.reset();
  backup.state.down = false;
  const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled', 30000);
  assert.equal(done.transfers[0].tx_hash, paid.tx);
  // Without the bound, 6,000+ blocks at 500 a poll would take 12+ eth_getLogs of the USDT contract.
  const usdtLogs = backup.state.logsByAddress['0x5fbdb2315678afecb367f032d93f642f64180aa3'];
  assert.ok(usdtLogs < 6, JSON.stringify(backup.state.logsByAddress));
  const cursor = (await health()).cursors.usdt;
  assert.ok(cursor > cursorBefore + 6000);
  devnetConfig.maxBlocksPerPoll = 20000;
  devnetConfig.backfillBlocks = 20000;
});
