// Catch-up after downtime through public endpoints, paced by the core (watch_settings' PollPace):
// the watcher is stopped while hundreds of blocks and several payments are mined on the real
// devnet, then started again behind a counting JSON-RPC proxy with Ethereum's public-endpoint
// limits applied to the devnet (a batch of at most 3 calls, 3 requests a poll) and a range of 40
// blocks. Every eth_getLogs spans at most 40 blocks, no batch holds more than 3 calls, no poll
// makes more requests than the pace allows, the gap takes several polls, and every payment in it
// is found.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const sg = require('../../crates/wasm/pkg/node/stablegate_wasm');
const { watchConfig } = require('../dist/config');
const { startStack, devnet } = require('./helpers');
const { startProxy } = require('./rpc-proxy');

const RANGE = 40;
// What a merchant who names no RPC of their own gets on Ethereum with max_range 40.
const settings = sg.watchSettings('ethereum', { max_range: String(RANGE) });
let net;
let proxy;
let s;
const netDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-catchup-devnet-'));

before(async () => {
  net = await devnet.start({ dir: netDir });
  proxy = await startProxy(net.url);
  s = await startStack('catchup', {
    net,
    rpc: [proxy.url],
    configure(config) {
      // The public pacing, pointed at the devnet through the proxy (a fast poll keeps the test short).
      for (const n of config.networks) Object.assign(n, watchConfig({ ...settings, rpc: [proxy.url], poll_ms: '100' }, 20000));
    },
  });
});
after(async () => {
  if (s) await s.stop();
  await proxy?.close();
  await net?.stop();
  fs.rmSync(netDir, { recursive: true, force: true });
});

test('the core paces Ethereum\'s public endpoints: 3 requests a poll, 1 eth_getLogs of the range, 1 batch of 3 headers', () => {
  assert.deepEqual([settings.max_batch, settings.max_range], ['3', String(RANGE)]);
  assert.deepEqual(settings.pace, { requests: '3', log_requests: '1', header_requests: '1', max_blocks: String(RANGE) });
});

test('after downtime the watcher catches up over several polls within the limits, and finds every payment', { timeout: 120000 }, async () => {
  const state = s.app.watcher.states.get('devnet');
  const invoices = [];
  for (let i = 0; i < 7; i++) invoices.push((await s.api('POST', '/api/v1/invoices', { amount: `21.${i}`, networks: ['devnet'] })).body);
  await net.mine(3);
  const waitCursor = async (atLeast) => {
    for (let t = 0; t < 200 && !(state.cursors.usdt >= atLeast); t++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(state.cursors.usdt >= atLeast, `cursor ${state.cursors.usdt} reached ${atLeast}`);
  };
  await waitCursor(Number(await net.rpc('eth_blockNumber')) - 5);
  await s.app.watcher.stop();
  const cursorBefore = state.cursors.usdt;

  // Down: payments spread over hundreds of blocks, three of them within one stretch of 40 blocks
  // (more blocks with logs than one batch of 3 headers holds, beside the entries to check).
  const paid = [];
  for (const [i, inv] of invoices.entries()) {
    paid.push((await s.pay(inv.recipient, inv.amount_due_units)).tx);
    await net.mine(i < 3 ? 2 : 110);
  }
  const head = Number(await net.rpc('eth_blockNumber'));
  const gap = head - cursorBefore;
  assert.ok(gap > 10 * RANGE, `a gap of ${gap} blocks`);

  proxy.reset();
  state.maxRequestsPerPoll = 0;
  const pollsBefore = state.polls;
  s.app.watcher.start();
  for (const [i, inv] of invoices.entries()) {
    const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled', 90000);
    assert.deepEqual(done.transfers.map((t) => t.tx_hash), [paid[i]], `invoice ${i} credited with its own payment`);
  }
  await waitCursor(head - 5);

  assert.ok(proxy.state.widestLogs > 0 && proxy.state.widestLogs <= RANGE, `widest eth_getLogs ${proxy.state.widestLogs} blocks`);
  assert.ok(proxy.state.longestBatch <= 3, `longest batch ${proxy.state.longestBatch} calls`);
  assert.ok(state.maxRequestsPerPoll <= 3, `at most 3 requests a poll, saw ${state.maxRequestsPerPoll}`);
  assert.equal(proxy.state.refusedRanges, 0);
  // Over several polls, not in a burst: at least one poll per 40 blocks of the gap.
  const polls = state.polls - pollsBefore;
  assert.ok(polls >= Math.floor(gap / RANGE), `${polls} polls for ${gap} blocks`);
  // None lost: every payment in the gap is in the ledger, once.
  const rows = await s.app.db.all(`SELECT tx_hash FROM ledger WHERE tx_hash IN (${paid.map(() => '?').join(',')})`, paid);
  assert.equal(rows.length, paid.length);
});

test('after downtime past max_blocks_per_poll, the search for where to start is paced too, and the payment is found', { timeout: 120000 }, async () => {
  const devnetConfig = s.app.config.networks.find((n) => n.id === 'devnet');
  const state = s.app.watcher.states.get('devnet');
  devnetConfig.backfillBlocks = 200;
  try {
    await s.app.watcher.stop();
    const cursorBefore = state.cursors.usdt;
    // A day and more passes (every earlier invoice leaves its monitoring window) and 1,500 blocks.
    await s.advance(90000);
    await net.mine(1500);
    await s.advance(600);
    const inv = (await s.api('POST', '/api/v1/invoices', { amount: '22', networks: ['devnet'] })).body;
    const paid = await s.pay(inv.recipient, inv.amount_due_units);
    await net.mine(3);
    proxy.reset();
    state.maxRequestsPerPoll = 0;
    const pollsBefore = state.polls;
    s.app.watcher.start();
    const done = await s.waitInvoice(inv.id, (x) => x.state === 'settled', 60000);
    assert.equal(done.transfers[0].tx_hash, paid.tx);
    assert.ok(state.maxRequestsPerPoll <= 3, `at most 3 requests a poll, saw ${state.maxRequestsPerPoll}`);
    assert.ok(proxy.state.longestBatch <= 3 && proxy.state.widestLogs <= RANGE);
    // The blocks before the invoice were skipped, not scanned 40 at a time.
    assert.ok(state.cursors.usdt > cursorBefore + 1500);
    assert.ok(state.polls - pollsBefore < 1500 / RANGE, `${state.polls - pollsBefore} polls`);
  } finally {
    devnetConfig.backfillBlocks = 20000;
  }
});
