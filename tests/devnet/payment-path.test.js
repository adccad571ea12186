// The whole payment path on a real chain, through the core's Node build, as a host runs it:
// pay on the devnet → eth_getLogs → decodeTransferLog → matchTransfer → creditTransfer →
// finality → settled. Fake tokens, transfers to other addresses and transfers from before the
// invoice existed must credit nothing; replaying the scan must credit nothing twice.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const sg = require('../../crates/wasm/pkg/node');
const devnet = require('./devnet');
const { pay } = require('./pay');

let net;
before(async () => {
  net = await devnet.start({ dir: path.join(__dirname, '.state', 'payment-path') });
});
after(async () => {
  if (net) await net.stop();
});

const topic = (address) => '0x' + address.slice(2).toLowerCase().padStart(64, '0');
const block = (tag) => net.rpc('eth_getBlockByNumber', [tag, false]);
const units = (network, decimal, token) => sg.toBaseUnits(network, decimal, token);

/** One scan, the way a host's watcher does it: every Transfer log of the given contracts. */
async function scan(network, contracts, invoices, fromBlock) {
  const logs = await net.rpc('eth_getLogs', [
    { fromBlock, toBlock: 'latest', address: contracts, topics: [devnet.TRANSFER_TOPIC] },
  ]);
  const decisions = [];
  for (const log of logs) {
    const transfer = sg.decodeTransferLog(network, log);
    transfer.block_time = String(Number((await block(log.blockNumber)).timestamp));
    const decision = sg.matchTransfer(network, invoices, transfer);
    if (decision.decision === 'credit') {
      const i = invoices.findIndex((inv) => inv.id === decision.invoice);
      invoices[i] = sg.creditTransfer(invoices[i], transfer, 'amount', false).invoice;
    }
    decisions.push({ transfer, decision });
  }
  return decisions;
}

/** Marks pending entries final once the network's policy says so and the block is canonical. */
async function finalize(network, invoices) {
  const head = Number((await block('latest')).number);
  for (const [i, invoice] of invoices.entries()) {
    for (const entry of invoice.ledger.filter((e) => e.status === 'seen')) {
      if (!sg.isFinal(network, Number(entry.block_number), head, undefined)) continue;
      const hash = network === 'devnet-tron' ? '0x' + entry.tx_hash : entry.tx_hash;
      const receipt = await net.rpc('eth_getTransactionReceipt', [hash]);
      const canonical = receipt && receipt.status === '0x1' && receipt.blockHash === entry.block_hash;
      invoices[i] = sg.setEntryStatus(invoices[i], entry.tx_hash, entry.log_index, canonical ? 'final' : 'removed').invoice;
    }
  }
}

test('pay → getLogs → decode → match → credit → settle, on the devnet', async () => {
  const [, r1, r2, other, payerTron] = net.accounts;
  const { UsdtLike, FakeUsdt, TronUsdtLike } = net.tokens;
  const price = units('devnet', '19.99');

  // An early transfer of the very amount, before any invoice exists.
  const early = await pay({ url: net.url, token: UsdtLike, to: r1, amount: price, fromIndex: 0 });
  await net.rpc('evm_increaseTime', [120]);
  await net.mine(1);

  // Two invoices at the same price on one address get distinct amounts; a third on another address.
  const now = Number((await block('latest')).timestamp);
  const startBlock = (await block('latest')).number;
  const terms = (id, recipient, amount) => ({
    id, network: 'devnet', recipient, amount_due: amount, created_at: String(now), expires_in: '900', monitoring: '86400',
  });
  const first = sg.allocateAmount({ baseUnits: price, stepUnits: '10000', maxSlots: '100', taken: [] });
  const second = sg.allocateAmount({ baseUnits: price, stepUnits: '10000', maxSlots: '100', taken: [first.amount] });
  // DESIGN §5: three steps apart, so a payment off by up to two steps lands on no other invoice.
  assert.deepEqual([first.amount, second.amount], ['19990000', '20020000']);
  const invoices = [
    sg.createInvoice(terms('inv_1', r1, first.amount)),
    sg.createInvoice(terms('inv_2', r1, second.amount)),
    sg.createInvoice(terms('inv_3', r2, first.amount)),
  ];

  // The payments: the real ones, a fake "USDT" of the exact amount, and the right token to another address.
  const paid1 = await pay({ url: net.url, token: UsdtLike, to: r1, amount: first.amount, fromIndex: 0 });
  const fake = await pay({ url: net.url, token: FakeUsdt, to: r1, amount: second.amount, fromIndex: 0 });
  const elsewhere = await pay({ url: net.url, token: UsdtLike, to: other, amount: second.amount, fromIndex: 0 });
  const paid3 = await pay({ url: net.url, token: UsdtLike, to: r2, amount: first.amount, fromIndex: 0 });

  const decisions = await scan('devnet', [UsdtLike, FakeUsdt], invoices, '0x0');
  const byTx = (tx) => decisions.find((d) => d.transfer.tx_hash === tx.tx).decision;
  assert.deepEqual(byTx(paid1), { decision: 'credit', invoice: 'inv_1' });
  assert.deepEqual(byTx(paid3), { decision: 'credit', invoice: 'inv_3' });
  assert.deepEqual(byTx(early), { decision: 'ignored', reason: 'transfer_before_invoice' });
  assert.deepEqual(byTx(fake), { decision: 'ignored', reason: 'wrong_token' });
  assert.deepEqual(byTx(elsewhere), { decision: 'ignored', reason: 'wrong_recipient' });
  // The mints at deployment (from the zero address, before the invoices) credit nothing either.
  const credited = decisions.filter((d) => d.decision.decision === 'credit');
  assert.equal(credited.length, 2);

  // The right invoice holds exactly the right transfer; inv_2 holds nothing.
  const [inv1, inv2, inv3] = invoices;
  assert.deepEqual(inv1.ledger.map((e) => [e.tx_hash, e.amount, e.status]), [[paid1.tx, '19990000', 'seen']]);
  assert.equal(inv2.ledger.length, 0);
  assert.equal(inv3.ledger[0].tx_hash, paid3.tx);
  assert.equal(sg.invoiceStatus(inv1, now + 30).state, 'processing');

  // Replaying the scan credits nothing twice.
  const again = await scan('devnet', [UsdtLike, FakeUsdt], invoices, startBlock);
  assert.ok(again.every((d) => d.decision.decision !== 'credit'));
  assert.deepEqual(again.find((d) => d.transfer.tx_hash === paid1.tx).decision, { decision: 'known', invoice: 'inv_1' });
  assert.equal(invoices[0].ledger.length, 1);

  // Finality (devnet policy: 3 confirmations), checked canonical by receipt. inv_1's payment has
  // 4 confirmations (three more payments were mined after it); inv_3's, the last, only 1.
  await finalize('devnet', invoices);
  const settled = sg.invoiceStatus(invoices[0], now + 30);
  assert.deepEqual([settled.state, settled.exception, settled.amount_paid], ['settled', null, '19990000']);
  assert.equal(sg.invoiceStatus(invoices[2], now + 30).state, 'processing');
  await net.mine(2);
  await finalize('devnet', invoices);
  assert.equal(sg.invoiceStatus(invoices[2], now + 30).state, 'settled');
  assert.equal(sg.invoiceStatus(invoices[1], now + 30).state, 'new');

  // TRON conventions on the same chain: the TRON-like token returns false yet the transfer counts.
  const tronRecipient = sg.parseAddress('devnet-tron', payerTron).address;
  assert.match(tronRecipient, /^T/);
  const tronInvoices = [sg.createInvoice({ ...terms('inv_tron', tronRecipient, first.amount), network: 'devnet-tron' })];
  const tronPaid = await pay({ url: net.url, token: TronUsdtLike, to: payerTron, amount: first.amount, fromIndex: 0 });
  const tronDecisions = await scan('devnet-tron', [TronUsdtLike], tronInvoices, startBlock);
  const tronTx = tronPaid.tx.slice(2); // TRON's form: no 0x
  assert.deepEqual(tronDecisions.find((d) => d.transfer.tx_hash === tronTx).decision, { decision: 'credit', invoice: 'inv_tron' });
  await net.mine(3);
  await finalize('devnet-tron', tronInvoices);
  assert.equal(sg.invoiceStatus(tronInvoices[0], now + 60).state, 'settled');

  // The status document of the settled invoice is what the widget will render.
  const doc = sg.statusDocument(invoices[0], { now: now + 30, head: Number((await block('latest')).number), poll_after_ms: 3000 });
  assert.equal(doc.state, 'settled');
  assert.equal(doc.transfers[0].tx, paid1.tx);
  assert.equal(doc.poll_after_ms, 0);
});
