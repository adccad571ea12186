// Runs every conformance vector that applies to the JS API, through the built Node package
// (crates/wasm/pkg/node), the way a Node host loads it. Each function is mapped to its JS call
// below; a vector file whose function has no mapping fails the run, so nothing is skipped
// silently. The count of cases run is printed and checked against the files.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const sg = require('../../crates/wasm/pkg/node');

const VECTORS = __dirname;
const num = (s) => (s === undefined || s === null ? undefined : Number(s));

// function name in the vectors -> call through the JS API
const CALLS = {
  to_base_units: (i) => sg.toBaseUnits(i.network, i.amount, i.token),
  format_amount: (i) => sg.formatAmount(i.network, i.base_units, i.token),
  fiat_to_usdt: (i) =>
    sg.fiatToToken({ network: i.network, token: i.token, fiatAmount: i.fiat_amount, rate: i.rate, precision: i.precision }),
  allocate_amount: (i) =>
    sg.allocateAmount({ baseUnits: i.base_units, stepUnits: i.step_units, maxSlots: i.max_slots, taken: i.taken }),
  parse_address: (i) => sg.parseAddress(i.network, i.text),
  payment_uri: (i) => sg.paymentUri({ network: i.network, token: i.token, recipient: i.recipient, amount: i.amount }),
  decode_transfer_log: (i) => sg.decodeTransferLog(i.network, i.log),
  sign_webhook: (i) => sg.signWebhook(i.secret, i.body, num(i.timestamp)),
  verify_webhook: (i) => sg.verifyWebhook(i.secret, i.header, i.body, num(i.now), num(i.tolerance)),
  binance_sign: (i) => sg.binanceSign(i.secret, i.timestamp, i.nonce, i.body),
  binance_verify_webhook: (i) =>
    sg.binanceVerifyWebhook(i.public_key, i.timestamp, i.nonce, i.body, i.signature, num(i.now), num(i.tolerance)),
  nowpayments_canonical: (i) => sg.nowpaymentsCanonical(i.body),
  nowpayments_sign_ipn: (i) => sg.nowpaymentsSignIpn(i.secret, i.body),
  nowpayments_verify_ipn: (i) => sg.nowpaymentsVerifyIpn(i.secret, i.body, i.signature),
  provider_status: (i) => sg.providerStatus(i.provider, i.status),
  provider_amount: (i) => sg.providerAmount(i.json, Number(i.decimals)),
  match_transfer: (i) => sg.matchTransfer(i.network, i.invoices, i.transfer),
  claim_transfer: (i) => sg.claimTransfer(i.network, i.invoices, i.target, i.transfer, i.policy),
  allocate_in_pool: (i) =>
    sg.allocateInPool({ baseUnits: i.base_units, stepUnits: i.step_units, maxSlots: i.max_slots, pool: i.pool }),
  is_final: (i) => sg.isFinal(i.network, num(i.block), num(i.head), num(i.tagged), num(i.min_confirmations)),
  plan_poll: (i) => sg.planPoll(i.network, i.plan),
  watch_settings: (i) => sg.watchSettings(i.network, i.request),
  display_amount: (i) => sg.displayAmount(i.text),
  apply_poll: (i) => sg.applyPoll(i.network, i.poll),
  read_rate: (i) => sg.readRate(i.json, i.path, i.invert ?? false),
  resolve_review: (i) => sg.resolveReview(i.invoice, i.accept ?? false, i.note, num(i.now)),
  invoice_view: (i) => sg.invoiceView(i.invoice, num(i.now)),
  cancel_invoice: (i) => ({ event: sg.cancelInvoice(i.invoice, num(i.now)).event }),
  status_before_choice: (i) => sg.statusBeforeChoice(i.open, statusContext(i.context)),
  invoice_status: (i) => sg.invoiceStatus(i.invoice, num(i.now)),
  invoice_events: (i) => {
    let invoice = i.invoice;
    const events = [];
    for (const step of i.steps) {
      if (step.action === 'credit') {
        invoice = sg.creditTransfer(invoice, step.transfer, step.matched_by, step.review).invoice;
      } else if (step.action === 'set_status') {
        invoice = sg.setEntryStatus(invoice, step.tx_hash, step.log_index, step.status).invoice;
      } else if (step.action === 'resolve') {
        // resolveReview syncs the invoice itself: its event is the step's.
        const resolved = sg.resolveReview(invoice, step.accept ?? false, step.note, num(step.now));
        invoice = resolved.invoice;
        if (resolved.event) events.push(resolved.event);
        continue;
      } else if (step.action !== 'sync') {
        throw new Error(`unknown step action ${step.action}`);
      }
      const synced = sg.syncInvoice(invoice, num(step.now));
      invoice = synced.invoice;
      if (synced.event) events.push(synced.event);
    }
    return events;
  },
  status_document: (i) => sg.statusDocument(i.invoice, statusContext(i.context)),
  normalize_tx_hash: (i) => sg.normalizeTxHash(i.network, i.text),
  transfer_calldata: (i) => sg.transferCalldata(i.network, i.recipient, i.base_units),
  balance_of_calldata: (i) => sg.balanceOfCalldata(i.network, i.owner),
  create_invoice: (i) => sg.createInvoice(i.terms),
  allocate_in_pool_from_invoices: (i) =>
    sg.allocateInPool({ baseUnits: i.base_units, stepUnits: i.step_units, maxSlots: i.max_slots, pool: i.pool, now: num(i.now) }),
  networks: (i) => {
    const networks = sg.networks();
    if (i.network === undefined) return networks.map((n) => n.id);
    const n = networks.find((n) => n.id === i.network);
    const limit = (v) => (v === undefined ? null : String(v));
    return {
      rpc: n.rpc.map((e) => ({ url: e.url, operator: e.operator, rps: limit(e.rps), per_day: limit(e.per_day), max_range: limit(e.max_range), max_batch: limit(e.max_batch) })),
      faucets: n.faucets,
      id: n.id,
      family: n.family,
      chain_id: String(n.chain_id),
      finality_tag: n.finality.tag,
      confirmations: String(n.finality.confirmations),
      qr: n.qr,
      tokens: n.tokens.map((t) => ({ id: t.id, symbol: t.symbol, contract: t.contract, decimals: String(t.decimals), official: t.official })),
    };
  },
  // The JS API exports neither rfc3339 nor required_confirmations: hosts see them in the status
  // documents, so that is where this runner reads them (expires_at, finality.required).
  rfc3339: (i) =>
    sg.statusBeforeChoice(
      { invoice: 'rfc3339', state: 'settled', base_amount: '1', expires_at: i.unix, accepted: [] },
      { now: 0, poll_after_ms: 0, links: {} },
    ).expires_at,
  required_confirmations: (i) => {
    const recipient = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed';
    const invoice = sg.createInvoice({
      id: 'confirmations', network: i.network, recipient, amount_due: '1', created_at: '0', expires_in: '1', monitoring: '1',
    });
    invoice.ledger = [{
      tx_hash: `0x${'1'.repeat(64)}`, log_index: '0', from: recipient, amount: '1', block_number: '1',
      block_hash: `0x${'2'.repeat(64)}`, block_time: '0', status: 'seen', matched_by: 'amount', review: false,
    }];
    const context = { now: 0, head: 1, poll_after_ms: 0, links: {}, min_confirmations: num(i.min_confirmations) };
    return String(sg.statusDocument(invoice, context).finality.required);
  },
};

function statusContext(context) {
  return {
    now: num(context.now),
    head: num(context.head),
    return_url: context.return_url,
    poll_after_ms: num(context.poll_after_ms),
    links: context.links,
    min_confirmations: num(context.min_confirmations),
    order_total: context.order_total,
  };
}

function vectorFiles() {
  const files = [];
  for (const area of fs.readdirSync(VECTORS).sort()) {
    const dir = path.join(VECTORS, area);
    if (area === 'schema' || area === 'tools' || !fs.statSync(dir).isDirectory()) continue;
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.json')) files.push(path.join(area, f));
  }
  return files;
}

const files = vectorFiles();
let total = 0;

for (const file of files) {
  const doc = JSON.parse(fs.readFileSync(path.join(VECTORS, file), 'utf8'));
  test(`vectors: ${file}`, () => {
    const call = CALLS[doc.function];
    assert.ok(call, `the JS runner has no mapping for function ${doc.function}; add one (no silent skip)`);
    for (const c of doc.valid) {
      let got;
      try {
        got = call(c.input);
      } catch (e) {
        assert.fail(`${file}: ${c.description}: unexpected error ${e.code}: ${e.message}`);
      }
      assert.deepEqual(got, c.output, `${file}: ${c.description}`);
    }
    for (const c of doc.invalid) {
      assert.throws(() => call(c.input), (e) => {
        assert.ok(e instanceof Error, `${file}: ${c.description}: not an Error`);
        assert.equal(e.code, c.error, `${file}: ${c.description}: ${e.message}`);
        return true;
      }, `${file}: ${c.description}: expected error ${c.error}`);
    }
    total += doc.valid.length + doc.invalid.length;
  });
}

test('vectors: every case ran', () => {
  const expected = files
    .map((f) => JSON.parse(fs.readFileSync(path.join(VECTORS, f), 'utf8')))
    .reduce((n, d) => n + d.valid.length + d.invalid.length, 0);
  console.log(`vectors (JS API): ${total} cases run from ${files.length} files, none skipped`);
  assert.equal(total, expected);
  assert.ok(total >= 250, `only ${total} cases`);
});
