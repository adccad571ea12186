// Matching throughput through the Node build of the core: `matchTransfer` calls per second.
//
// The workload of crates/core/benches/matching.rs, generated the same way (mulberry32, same seed,
// so the stream is identical: compare the `amount sum` of both `workload:` lines): 1,000 invoices
// watched on the devnet, one receiving address, distinct amounts 19.99 + k × 0.01 USDT; 100,000
// transfers inside their window, of which 50% pay an invoice's amount, 25% pay an amount no
// invoice expects, and 25% are of a fake token. Invoices come from `createInvoice`, transfers are
// plain objects of the shape `decodeTransferLog` returns (checked below).
//
// Each call converts its JS arguments into the core's types, which is the real cost a Node host
// pays, so two ways of calling are measured, as natively:
// - full set: every watched invoice on every call (1,000 invoice records converted per call);
// - indexed: only the invoices a host's amount index returns (see `candidatesFor`), with the
//   same decisions as the full set (checked below).
// Each is run RUNS times, each run stopping at the end of the stream or after RUN_SECONDS
// (env BENCH_RUN_SECONDS), and the median is printed as `node matches/s: N` and
// `node indexed matches/s: N` for scripts/bench.sh.
'use strict';

const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');
const stablegate = require('../crates/wasm/pkg/node');

const INVOICES = 1000;
const TRANSFERS = 100_000;
const RUNS = 5;
const RUN_SECONDS = Number(process.env.BENCH_RUN_SECONDS || 1);
// Transfers whose decisions are checked, outside the timed runs: the first ones with the full
// set (3 ms a call), all of them when indexed.
const CHECKED_FULL_SET = 300;
const SEED = 0x57ab1e6a;
const RECIPIENT = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const SENDER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
// A contract that emits Transfer events but is not the registry's USDT.
const FAKE_TOKEN = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0';
const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const BASE_AMOUNT = 19_990_000n;
const STEP = 10_000n;
const CREATED_AT = 1_700_000_000;

/** mulberry32, bit for bit the generator of the native bench. */
function mulberry32(seed) {
  let state = seed >>> 0;
  return (bound) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % bound;
  };
}

const hex64 = (n) => `0x${n.toString(16).padStart(64, '0')}`;

const devnet = stablegate.networks().find((n) => n.id === 'devnet');
const usdt = devnet.tokens[0].contract;

const invoices = Array.from({ length: INVOICES }, (_, k) =>
  stablegate.createInvoice({
    id: `inv_${k}`,
    network: 'devnet',
    recipient: RECIPIENT,
    amount_due: String(BASE_AMOUNT + BigInt(k) * STEP),
    created_at: String(CREATED_AT),
    expires_in: '900',
    monitoring: '86400',
  }),
);

const random = mulberry32(SEED);
const stream = Array.from({ length: TRANSFERS }, (_, n) => {
  let expected;
  let amount;
  switch (random(4)) {
    case 0:
    case 1: {
      const k = random(INVOICES);
      expected = { decision: 'credit', invoice: `inv_${k}` };
      amount = BASE_AMOUNT + BigInt(k) * STEP;
      break;
    }
    case 2: {
      const k = random(INVOICES);
      const between = 1n + BigInt(random(Number(STEP) - 1));
      expected = { decision: 'unmatched' };
      amount = BASE_AMOUNT + BigInt(k) * STEP + between;
      break;
    }
    default: {
      const k = random(INVOICES);
      expected = { decision: 'ignored', reason: 'wrong_token' };
      amount = BASE_AMOUNT + BigInt(k) * STEP;
    }
  }
  const transfer = {
    token: expected.reason === 'wrong_token' ? FAKE_TOKEN : usdt,
    from: SENDER,
    to: RECIPIENT,
    amount: String(amount),
    tx_hash: hex64(n + 1),
    log_index: String(n % 4),
    block_number: String(1000 + n),
    block_hash: hex64(0xb10c0000 + n),
    removed: false,
    block_time: String(CREATED_AT + 300 + (n % 500)),
  };
  return { expected, transfer };
});

// The transfers have the shape a host gets from decodeTransferLog.
{
  const { transfer } = stream[0];
  const topic = (address) => `0x${'0'.repeat(24)}${address.slice(2).toLowerCase()}`;
  const log = {
    address: transfer.token.toLowerCase(),
    topics: [TRANSFER_TOPIC, topic(transfer.from), topic(transfer.to)],
    data: hex64(BigInt(transfer.amount)),
    blockNumber: `0x${Number(transfer.block_number).toString(16)}`,
    blockHash: transfer.block_hash,
    transactionHash: transfer.tx_hash,
    logIndex: `0x${Number(transfer.log_index).toString(16)}`,
    removed: false,
    blockTimestamp: `0x${Number(transfer.block_time).toString(16)}`,
  };
  assert.deepEqual(stablegate.decodeTransferLog('devnet', log), transfer);
}

// What a host with an index on (token, recipient, amount due) passes: the invoices due that
// amount, or, when none is, one watched invoice of the address, so that the core still tells an
// unmatched payment (kept for a claim) from one to an address nobody watches. A fake token finds
// no invoice at all (and a host's eth_getLogs filter would not even return it).
const byAmount = new Map();
for (const invoice of invoices) {
  const list = byAmount.get(invoice.amount_due) ?? [];
  list.push(invoice);
  byAmount.set(invoice.amount_due, list);
}
const anyOfAddress = [invoices[0]];
const noInvoices = [];
function candidatesFor(transfer) {
  if (transfer.token.toLowerCase() !== usdt.toLowerCase()) return noInvoices;
  return byAmount.get(transfer.amount) ?? anyOfAddress;
}

const fullSet = (transfer) => stablegate.matchTransfer('devnet', invoices, transfer);
const indexed = (transfer) => stablegate.matchTransfer('devnet', candidatesFor(transfer), transfer);

stream.forEach(({ expected, transfer }, n) => {
  if (n < CHECKED_FULL_SET) assert.deepEqual(fullSet(transfer), expected);
  assert.deepEqual(indexed(transfer), expected);
});

/** Runs `call` over the stream RUNS times, each run time-boxed; returns the median rate. */
function medianRate(call) {
  for (const { transfer } of stream.slice(0, 50)) call(transfer); // warm up the JIT
  const runs = [];
  for (let run = 0; run < RUNS; run += 1) {
    const deadline = RUN_SECONDS * 1000;
    const start = performance.now();
    let calls = 0;
    let credits = 0;
    while (calls < stream.length) {
      if (call(stream[calls].transfer).decision === 'credit') credits += 1;
      calls += 1;
      if (calls % 16 === 0 && performance.now() - start > deadline) break;
    }
    const seconds = (performance.now() - start) / 1000;
    assert.ok(credits > 0);
    runs.push({ rate: calls / seconds, calls });
  }
  runs.sort((a, b) => a.rate - b.rate);
  return runs[RUNS >> 1];
}

const amountSum = stream.reduce((sum, { transfer }) => sum + BigInt(transfer.amount), 0n);
const count = (decision) => stream.filter((s) => s.expected.decision === decision).length;
console.log(
  `workload: ${INVOICES} invoices, ${stream.length} transfers (${count('credit')} paying, ` +
    `${count('unmatched')} unmatched amount, ${count('ignored')} wrong token), amount sum ${amountSum}`,
);
const full = medianRate(fullSet);
console.log(`node matches/s: ${full.rate.toFixed(0)}`);
const fast = medianRate(indexed);
console.log(`node indexed matches/s: ${fast.rate.toFixed(0)}`);
console.log(
  `node runs: ${RUNS} per variant, each ≤ ${RUN_SECONDS} s; median run covered ` +
    `${full.calls} (full set) and ${fast.calls} (indexed) of ${stream.length} transfers`,
);
