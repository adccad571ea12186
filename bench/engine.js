// The engine's throughput through the Node build: one watcher poll applying N transfers against W
// watched invoices, the way the server does it now and the way it did before the engine.
//
// - after: `planPoll` + `applyPoll`, once per poll: the whole poll crosses into the core once
//   (twice with the plan), whatever N and W.
// - before: the server's per-transfer flow until `applyPoll` (commit 0bf6c60): for each transfer,
//   `matchTransfer` over all the watched records, then for a credit `creditTransfer` and
//   `syncInvoice` on the credited record; every call converts its records across the boundary.
//   Only the core calls are replayed (no database): the host's own costs of that flow come on top.
//
// The workload is crates/core/benches/engine.rs's, generated the same way (no randomness): W
// invoices (createInvoice + syncInvoice at creation, as the server stores them) at amounts
// 19.99 + 0.03 × k USDT; N transfers in blocks 1000..1001 (head 1001: none final yet), transfer n
// paying invoice n mod W, every fourth one step over (unmatched). The after outcome is printed as
// `outcome N=…, W=…: …` for scripts/bench.sh to compare with the native one, and the before flow
// must credit the same transfers (checked here).
//
// Crossings: the module's exports are wrapped in a counting Proxy (bench/crossings.js); the first poll of each flow is
// counted (the timed runs call the module directly), printed as
// `crossings N=…, W=…: before B (…), after A (…)`.
//
// Each (N, W) and flow is timed over RUNS runs of whole polls (BEFORE_RUNS for the before flow),
// each run at least RUN_SECONDS (env BENCH_RUN_SECONDS), median; a poll longer than LONG_POLL is
// timed once (see `measure`). Printed as `node after N=…, W=…: T transfers/s` and
// `node before N=…, W=…: T transfers/s`, after the outcomes and crossings.
'use strict';

const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');
const raw = require('../crates/wasm/pkg/node');
const { counting, describe } = require('./crossings');

const SIZES = [
  [1, 1],
  [100, 1],
  [1000, 1],
  [1, 1000],
  [100, 1000],
  [1000, 1000],
];
const RUNS = 5;
// Fewer runs of the before flow, whose polls are long (see `measure`).
const BEFORE_RUNS = 3;
const RUN_SECONDS = Number(process.env.BENCH_RUN_SECONDS || 0.2);
const LONG_POLL = 1;
const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const SENDER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const BASE_AMOUNT = 19_990_000n;
const STEP = 10_000n;
const GAP = 3n * STEP;
const CREATED_AT = 1_700_000_000;
const FIRST_BLOCK = 1000;
const HEAD = 1001;
const NOW = String(CREATED_AT + 600);

const hex64 = (n) => `0x${n.toString(16).padStart(64, '0')}`;
const blockHash = (block) => hex64(0xb10c0000 + block);
const blockTime = (block) => String(CREATED_AT + 300 + (block - FIRST_BLOCK) * 12);
const usdt = raw.networks().find((n) => n.id === 'devnet').tokens[0].contract;

function invoices(watched) {
  return Array.from({ length: watched }, (_, k) => {
    const created = raw.createInvoice({
      id: `inv_${k}`,
      network: 'devnet',
      recipient: RECIPIENT,
      amount_due: String(BASE_AMOUNT + BigInt(k) * GAP),
      created_at: String(CREATED_AT),
      expires_in: '900',
      monitoring: '86400',
    });
    return raw.syncInvoice(created, CREATED_AT).invoice;
  });
}

function transfers(count, watched) {
  return Array.from({ length: count }, (_, n) => {
    const due = BASE_AMOUNT + BigInt(n % watched) * GAP;
    const block = FIRST_BLOCK + Math.floor((n * 2) / count);
    return {
      token: usdt,
      from: SENDER,
      to: RECIPIENT,
      amount: String(n % 4 === 3 ? due + STEP : due),
      tx_hash: hex64(n + 1),
      log_index: String(n),
      block_number: String(block),
      block_hash: blockHash(block),
      removed: false,
      block_time: blockTime(block),
    };
  });
}

const plan = { cursor: String(FIRST_BLOCK - 1), head: String(HEAD), min_confirmations: '0', max_blocks: '1000', pending: [] };

/** One poll as the server does it now: plan, then every transfer in one applyPoll. */
function after(sg, workload) {
  const planned = sg.planPoll('devnet', plan);
  assert.equal(planned.from, String(FIRST_BLOCK));
  return sg.applyPoll('devnet', {
    now: NOW,
    cursor: String(FIRST_BLOCK - 1),
    head: String(HEAD),
    min_confirmations: '0',
    searched_to: String(HEAD),
    transfers: workload.transfers,
    blocks: workload.blocks,
    checks: [],
    invoices: workload.invoices,
    unmatched: [],
  });
}

/** One poll as the server did it before applyPoll: per transfer, match, credit and sync. */
function before(sg, workload) {
  const records = workload.invoices.slice();
  const index = new Map(records.map((r, i) => [r.id, i]));
  let credited = 0;
  let unmatched = 0;
  let events = 0;
  for (const transfer of workload.transfers) {
    const decision = sg.matchTransfer('devnet', records, transfer);
    if (decision.decision === 'credit') {
      const i = index.get(decision.invoice);
      const change = sg.creditTransfer(records[i], transfer, 'amount', decision.review ?? false);
      const synced = sg.syncInvoice(change.invoice, Number(NOW));
      records[i] = synced.invoice;
      credited += 1;
      if (synced.event) events += 1;
    } else if (decision.decision !== 'known') {
      unmatched += 1;
    }
  }
  return { credited, unmatched, events };
}

/**
 * Runs one poll counted (its crossings and result), then times `poll` over `runs` runs of whole
 * polls and returns the median transfers per second. A poll that takes over LONG_POLL seconds
 * (the before flow at W = 1,000) is timed by that first poll alone: one poll of it already
 * averages over its N transfers, and the proxy's cost per call is nothing beside one such call.
 */
function measure(count, runs, flow, workload) {
  const start = performance.now();
  const counted = counter.count(() => flow(counter.sg, workload));
  const first = (performance.now() - start) / 1000;
  if (first > LONG_POLL) return { ...counted, rate: count / first, polls: 1 };
  const rates = [];
  let polls = 0;
  for (let run = 0; run < runs; run += 1) {
    const begin = performance.now();
    let n = 0;
    while (n === 0 || performance.now() - begin < RUN_SECONDS * 1000) {
      flow(raw, workload);
      n += 1;
    }
    polls += n;
    rates.push((n * count) / ((performance.now() - begin) / 1000));
  }
  rates.sort((a, b) => a - b);
  return { ...counted, rate: rates[runs >> 1], polls };
}

const counter = counting(raw);
const lines = [];
for (const [count, watched] of SIZES) {
  const workload = { invoices: invoices(watched), transfers: transfers(count, watched) };
  workload.blocks = [...new Set(workload.transfers.map((t) => Number(t.block_number)))].map((b) => ({
    number: String(b),
    hash: blockHash(b),
    timestamp: blockTime(b),
  }));

  const label = `N=${count}, W=${watched}`;
  const a = measure(count, RUNS, after, workload);
  const b = measure(count, BEFORE_RUNS, before, workload);
  const outcome = a.result;
  const credited = outcome.ledger.filter((w) => w.invoice).length;
  console.log(
    `outcome ${label}: credited ${credited}, unmatched ${outcome.ledger.length - credited}, ` +
      `events ${outcome.events.length}, changed ${outcome.invoices.length}`,
  );
  assert.deepEqual(
    { credited: b.result.credited, unmatched: b.result.unmatched },
    { credited, unmatched: outcome.ledger.length - credited },
    `${label}: the before flow decides as applyPoll does`,
  );
  console.log(`crossings ${label}: before ${b.total} (${describe(b.by)}), after ${a.total} (${describe(a.by)})`);
  console.log(`polls timed ${label}: before ${b.polls}, after ${a.polls}`);
  lines.push(`node after ${label}: ${a.rate.toFixed(0)} transfers/s`);
  lines.push(`node before ${label}: ${b.rate.toFixed(0)} transfers/s`);
}
for (const line of lines) console.log(line);
