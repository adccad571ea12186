// Money safety on the devnet: unique amounts under concurrency, each payment settles exactly its
// own invoice, and the transfers that must credit nothing credit nothing (fake token, another
// address, a transfer from before the invoice, a replayed claim); partial + top-up; late.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack, sg } = require('./helpers');

let s;
before(async () => {
  s = await startStack('money');
});
after(async () => {
  if (s) await s.stop();
});

const create = async (body) => {
  const r = await s.api('POST', '/api/v1/invoices', { networks: ['devnet'], ...body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
};
const claim = (id, tx) => s.api('POST', `/api/v1/checkout/${id}/claim`, { tx_hash: tx });
const ledgerOf = (tx) => s.app.db.all('SELECT invoice_id, note FROM ledger WHERE tx_hash = ?', [tx]);

test('200 invoices created concurrently at one price get 200 amounts, three steps apart on each address; each payment settles exactly its own', { timeout: 120000 }, async () => {
  const invoices = await Promise.all(Array.from({ length: 200 }, (_, i) => create({ amount: '25', order_id: `c-${i}` })));
  const keys = invoices.map((inv) => `${inv.recipient.toLowerCase()} ${inv.amount_due_units}`);
  assert.equal(new Set(keys).size, 200, 'no two invoices share an amount at one address');
  // DESIGN §5: a payment off by up to two steps lands on no other invoice. With 300 slots and two
  // addresses: 25.00, 25.03, … 27.97 on each (100 amounts each).
  for (const address of new Set(invoices.map((i) => i.recipient))) {
    const amounts = invoices.filter((i) => i.recipient === address).map((i) => BigInt(i.amount_due_units)).sort((a, b) => (a < b ? -1 : 1));
    assert.equal(amounts.length, 100);
    assert.ok(amounts.every((a, i) => i === 0 || a - amounts[i - 1] >= 30_000n), 'neighbours at least three steps apart');
    assert.equal(amounts[99], 27_970_000n);
  }

  const paid = new Map();
  for (const inv of invoices) paid.set(inv.id, (await s.pay(inv.recipient, inv.amount_due_units, { fromIndex: 1 + (paid.size % 4) })).tx);
  await s.net.mine(3);
  for (const inv of invoices) {
    const done = await s.waitInvoice(inv.id, (i) => i.state === 'settled', 30000);
    assert.deepEqual(done.transfers.map((t) => [t.tx_hash, t.amount_units, t.matched_by]), [[paid.get(inv.id), inv.amount_due_units, 'amount']]);
    assert.equal(done.exception, null);
  }
  const rows = await s.app.db.all(`SELECT tx_hash, invoice_id FROM ledger WHERE invoice_id IN (${invoices.map(() => '?').join(',')})`, invoices.map((i) => i.id));
  assert.equal(rows.length, 200);
  assert.ok(rows.every((r) => paid.get(r.invoice_id) === r.tx_hash));
});

test('the fake token, another address and an early transfer credit nothing; a replayed claim credits nothing', { timeout: 60000 }, async () => {
  const [, , , , , address1] = s.net.accounts;
  // An early transfer of exactly the amount the next invoice will get.
  const early = await s.pay(address1, '31310000');
  await s.advance(120);
  const inv = await create({ amount: '31.31' });
  assert.equal(inv.amount_due_units, '31310000');
  const fake = await s.pay(inv.recipient, inv.amount_due_units, { token: 'FakeUsdt' });
  const elsewhere = await s.pay(s.net.accounts[8], inv.amount_due_units);
  await s.net.mine(4);
  // Let the watcher pass over all of it, then check: nothing was credited.
  const head = Number(await s.net.rpc('eth_blockNumber'));
  await waitCursor(head);
  const now = (await s.api('GET', `/api/v1/invoices/${inv.id}`)).body;
  assert.deepEqual([now.state, now.amount_paid, now.transfers], ['new', '0', []]);
  assert.deepEqual(await ledgerOf(early.tx), [{ invoice_id: null, note: 'unmatched' }]);
  assert.deepEqual(await ledgerOf(fake.tx), [], 'logs of other contracts are not even fetched');
  assert.deepEqual(await ledgerOf(elsewhere.tx), []);

  // Claims of the same three: refused, each with the core's reason, nothing written.
  const before = await s.app.db.get('SELECT COUNT(*) AS n FROM ledger WHERE invoice_id IS NOT NULL');
  const refusals = [];
  for (const tx of [early.tx, fake.tx, elsewhere.tx]) refusals.push((await claim(inv.id, tx)).body.error.code);
  assert.deepEqual(refusals, ['transfer_before_invoice', 'wrong_token', 'wrong_recipient']);
  assert.deepEqual(await s.app.db.get('SELECT COUNT(*) AS n FROM ledger WHERE invoice_id IS NOT NULL'), before);

  // A real payment the amount rule cannot place (an overpayment): the claim credits it once, for
  // the merchant's review (on a shared address a hash proves nothing about who paid).
  const over = await s.pay(inv.recipient, '31500000');
  await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
  assert.deepEqual(await ledgerOf(over.tx), [{ invoice_id: null, note: 'unmatched' }]);
  const ok = await claim(inv.id, over.tx);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual([ok.body.state, ok.body.exception], ['processing', 'needs_review']);
  const replay = await claim(inv.id, over.tx);
  assert.deepEqual([replay.status, replay.body.error.code], [409, 'already_credited']);
  const other = await create({ amount: '31.5' });
  const stolen = await claim(other.id, over.tx);
  assert.deepEqual([stolen.status, stolen.body.error.code], [409, 'already_credited']);
  assert.deepEqual(await ledgerOf(over.tx), [{ invoice_id: inv.id, note: 'claim (review)' }]);
  const after = (await s.api('GET', `/api/v1/invoices/${inv.id}`)).body;
  assert.deepEqual(after.transfers.map((t) => [t.tx_hash, t.matched_by]), [[over.tx, 'claim']]);
});

test('a partial payment (claimed, accepted by the merchant) followed by a top-up settles', { timeout: 60000 }, async () => {
  const inv = await create({ amount: '50' });
  const part = await s.pay(inv.recipient, '20000000');
  await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
  const claimed = await claim(inv.id, part.tx);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  assert.deepEqual([claimed.body.state, claimed.body.exception, claimed.body.amount_remaining], ['new', 'needs_review', '30']);
  assert.match(claimed.body.payment_uri, /uint256=30000000$/);
  const accepted = await s.api('POST', `/api/v1/invoices/${inv.id}/review/resolve`, { decision: 'accept', note: 'the customer showed the exchange withdrawal' });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.deepEqual([accepted.body.state, accepted.body.exception], ['new', 'paid_partial']);
  const topUp = await s.pay(inv.recipient, '30000000');
  await s.net.mine(3);
  const done = await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  assert.deepEqual([done.exception, done.amount_paid], [null, '50']);
  assert.deepEqual(done.transfers.map((t) => [t.tx_hash, t.matched_by, t.status]), [[part.tx, 'claim', 'final'], [topUp.tx, 'amount', 'final']]);
});

test('a transfer two invoices could own is credited to neither; claimed, it credits one as needs_review', { timeout: 60000 }, async () => {
  // A owes 10 after a claimed partial payment; B is due 10: a transfer of 10 fits both.
  const a = await create({ amount: '80' });
  const part = await s.pay(a.recipient, '70000000');
  await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
  assert.equal((await claim(a.id, part.tx)).body.amount_remaining, '10');
  const b = await create({ amount: '10' });
  assert.deepEqual([b.recipient, b.amount_due_units], [a.recipient, '10000000']);
  const ten = await s.pay(a.recipient, '10000000');
  await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
  const [kept] = await ledgerOf(ten.tx);
  assert.equal(kept.invoice_id, null);
  assert.match(kept.note, /^ambiguous: /);
  assert.ok(kept.note.includes(a.id) && kept.note.includes(b.id));
  assert.equal((await s.api('GET', `/api/v1/invoices/${b.id}`)).body.amount_paid, '0');
  const claimed = await claim(a.id, ten.tx);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  assert.deepEqual([claimed.body.state, claimed.body.exception], ['processing', 'needs_review']);
  const merchant = (await s.api('GET', `/api/v1/invoices/${a.id}`)).body;
  // Both claims are for review: nothing shows that A's customer sent either transfer.
  assert.deepEqual(merchant.transfers.map((t) => [t.matched_by, t.review]), [['claim', true], ['claim', true]]);
});

test('a payment after expiry, inside the monitoring window, becomes paid_late', { timeout: 60000 }, async () => {
  const inv = await create({ amount: '61', expires_in: 60 });
  await s.advance(120);
  await s.receiver.waitFor((e) => e.type === 'invoice.expired' && e.data.invoice.id === inv.id);
  const late = await s.pay(inv.recipient, inv.amount_due_units);
  await s.net.mine(3);
  const done = await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  assert.deepEqual([done.exception, done.transfers[0].tx_hash], ['paid_late', late.tx]);
  const events = (await s.app.db.all('SELECT type FROM events WHERE invoice_id = ? ORDER BY created_at, id', [inv.id])).map((e) => e.type);
  assert.ok(events.includes('invoice.expired') && events.includes('invoice.settled'), events.join());
});

test('the TRON-convention network credits its token (which returns false) by receipt and log', { timeout: 60000 }, async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '7', networks: ['devnet-tron'] })).body;
  assert.match(inv.recipient, /^T/);
  const hex = sg.parseAddress('devnet-tron', inv.recipient).hex;
  const paid = await s.pay(hex, inv.amount_due_units, { token: 'TronUsdtLike' });
  await s.net.mine(3);
  const done = await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  assert.equal(done.transfers[0].tx_hash, paid.tx.slice(2));
});

test('a payment reorganised away before finality credits nothing (invalid); mined again in a new block, it is found and settles', { timeout: 60000 }, async () => {
  const inv = await create({ amount: '71' });
  const snapshot = await s.net.rpc('evm_snapshot');
  const gone = await s.pay(inv.recipient, inv.amount_due_units);
  await s.waitInvoice(inv.id, (i) => i.state === 'processing');
  // The block is replaced: the transaction vanishes; the chain grows past the finality depth.
  assert.equal(await s.net.rpc('evm_revert', [snapshot]), true);
  await s.net.mine(4);
  const invalid = await s.waitInvoice(inv.id, (i) => i.state === 'invalid');
  assert.deepEqual(invalid.transfers.map((t) => [t.tx_hash, t.status]), [[gone.tx, 'removed']]);
  assert.equal(invalid.amount_paid, '0');
  // The same transaction is mined again (same sender and nonce, so the same hash) in a new block
  // at a height the cursor had passed: the watcher went back to rescan, finds it, and the core
  // reinstates the entry with its new block.
  const again = await s.pay(inv.recipient, inv.amount_due_units);
  assert.equal(again.tx, gone.tx);
  assert.notEqual(again.blockHash, gone.blockHash);
  await s.net.mine(3);
  const done = await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  assert.deepEqual(done.transfers.map((t) => [t.tx_hash, t.status]), [[again.tx, 'final']]);
  const [row] = await s.app.db.all('SELECT invoice_id, block_hash, status FROM ledger WHERE tx_hash = ?', [again.tx]);
  assert.deepEqual(row, { invoice_id: inv.id, block_hash: again.blockHash, status: 'final' });
});

test('an unmatched transfer reorganised into a new block, then claimed, is credited with its new block and settles', { timeout: 60000 }, async () => {
  const inv = await create({ amount: '73' });
  const snapshot = await s.net.rpc('evm_snapshot');
  const gone = await s.pay(inv.recipient, '72500000'); // an exchange took 0.5: matches nothing
  await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
  assert.deepEqual(await ledgerOf(gone.tx), [{ invoice_id: null, note: 'unmatched' }]);
  assert.equal(await s.net.rpc('evm_revert', [snapshot]), true);
  await s.net.mine(2);
  const again = await s.pay(inv.recipient, '72500000'); // the same transaction, in a new block
  assert.equal(again.tx, gone.tx);
  assert.notEqual(again.blockHash, gone.blockHash);
  await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
  const claimed = await claim(inv.id, again.tx);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  // The ledger holds the block the server just fetched, not the one that was replaced.
  const [row] = await s.app.db.all('SELECT invoice_id, block_hash, status FROM ledger WHERE tx_hash = ?', [again.tx]);
  assert.deepEqual(row, { invoice_id: inv.id, block_hash: again.blockHash, status: 'seen' });
  const received = s.receiver.received.length;
  await s.net.mine(3);
  const done = await s.waitInvoice(inv.id, (i) => i.transfers[0]?.status === 'final');
  // A claimed short payment waits for the merchant's review (DESIGN §5, claim policy).
  assert.deepEqual([done.exception, done.amount_paid], ['needs_review', '72.5']);
  assert.equal(s.receiver.received.slice(received).some((r) => r.event.type === 'invoice.invalid'), false, 'never invalid on the way');
});

test('min_confirmations makes finality stricter than the registry: 6 confirmations on the devnet, not 3', { timeout: 60000 }, async () => {
  const devnet = s.app.config.networks.find((n) => n.id === 'devnet');
  devnet.minConfirmations = 6;
  try {
    const inv = await create({ amount: '81' });
    await s.pay(inv.recipient, inv.amount_due_units);
    await s.net.mine(3); // 4 confirmations: final for the registry (3), not for this server (6)
    await waitCursor(Number(await s.net.rpc('eth_blockNumber')));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await s.api('GET', `/api/v1/invoices/${inv.id}`)).body.state, 'processing');
    const doc = (await s.api('GET', `/api/v1/checkout/${inv.id}`)).body;
    assert.deepEqual(doc.finality, { seen: 4, required: 6 });
    assert.equal(doc.transfers[0].confirmations, 4);
    await s.net.mine(2);
    await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  } finally {
    devnet.minConfirmations = 0;
  }
});

async function waitCursor(block) {
  for (let i = 0; i < 200; i++) {
    const health = (await s.api('GET', '/health')).body;
    if (health.networks.devnet.cursors.usdt >= block) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the watcher did not reach block ${block}`);
}

// One transaction with two Transfer-topic logs: first one of another contract whose data is not an
// amount word (an ERC-20 decoder throws on it), then a real transfer of the registry's token.
const NOISY_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Noisy {
    function relay(address token, address to, uint256 amount) external {
        bytes32 topic = keccak256("Transfer(address,address,uint256)");
        assembly { log3(0, 0, topic, 0, to) }
        (bool minted, ) = token.call(abi.encodeWithSignature("mint(address,uint256)", address(this), amount));
        (bool sent, ) = token.call(abi.encodeWithSignature("transfer(address,uint256)", to, amount));
        require(minted && sent, "token call failed");
    }
}`;

test('a claimed transaction that also holds a malformed Transfer-topic log of another contract is judged by its token transfer, not a 500', { timeout: 60000 }, async () => {
  const solc = require('solc');
  const { waitForReceipt } = require('../../tests/devnet/rpc');
  const input = { language: 'Solidity', sources: { 'Noisy.sol': { content: NOISY_SOURCE } }, settings: { outputSelection: { '*': { '*': ['evm.bytecode.object', 'evm.methodIdentifiers'] } } } };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const compiled = output.contracts?.['Noisy.sol']?.Noisy;
  assert.ok(compiled, JSON.stringify(output.errors));
  const [from] = await s.net.rpc('eth_accounts');
  const deployed = await waitForReceipt(s.net.url, await s.net.rpc('eth_sendTransaction', [{ from, data: '0x' + compiled.evm.bytecode.object, gas: '0x1e8480' }]));
  const noisy = deployed.contractAddress;

  const inv = await create({ amount: '41' });
  const word = (hex) => hex.slice(2).toLowerCase().padStart(64, '0');
  const data = '0x' + compiled.evm.methodIdentifiers['relay(address,address,uint256)'] + word(s.net.tokens.UsdtLike) + word(inv.recipient) + word('0x' + (40990000).toString(16));
  const receipt = await waitForReceipt(s.net.url, await s.net.rpc('eth_sendTransaction', [{ from, to: noisy, data, gas: '0x1e8480' }]));
  assert.equal(receipt.status, '0x1');
  const usdt = [s.net.tokens.UsdtLike.toLowerCase(), '0x' + word('0x' + (40990000).toString(16))];
  assert.deepEqual(receipt.logs.map((l) => [l.address.toLowerCase(), l.data]), [[noisy.toLowerCase(), '0x'], usdt, usdt], 'the bad log, the mint, the payment');

  const claimed = await claim(inv.id, receipt.transactionHash);
  assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
  assert.deepEqual(claimed.body.transfers.map((t) => [t.tx, t.amount]), [[receipt.transactionHash, '40.99']]);
});
