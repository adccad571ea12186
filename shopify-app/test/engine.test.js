// The money defects of issue 11, each as the review found it, against the real devnet and the
// server's store (SQLite here; PostgreSQL in the second pass of scripts/test-server.sh). The
// watcher does not run by itself in this suite: each test polls when it wants, so that "before
// the watcher polls" and "a block the watcher already scanned" are exact, not timing.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startStack } = require('./helpers');

let s;
let devnet;
before(async () => {
  // Six slots per price and address: with amounts three steps apart, two invoices per address.
  s = await startStack('engine', { background: false, maxSlots: 6 });
  devnet = s.app.config.networks.find((n) => n.id === 'devnet');
});
after(async () => {
  if (s) await s.stop();
});

/** One poll, as the watcher's own schedule makes it: a poll dropped because a sweep or a claim wrote meanwhile runs again. */
const poll = async () => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await s.app.watcher.poll(devnet);
    } catch (error) {
      if (error.code !== 'write_conflict' || attempt >= 5) throw error;
    }
  }
};
const create = async (body) => {
  const r = await s.api('POST', '/api/v1/invoices', { networks: ['devnet'], ...body });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
};
const invoice = async (id) => (await s.api('GET', `/api/v1/invoices/${id}`)).body;
const claim = (id, tx) => s.api('POST', `/api/v1/checkout/${id}/claim`, { tx_hash: tx });
const ledgerOf = (tx) => s.app.db.all('SELECT invoice_id, note, status FROM ledger WHERE tx_hash = ?', [tx]);
const eventsOf = async (id) => (await s.app.db.all('SELECT type FROM events WHERE invoice_id = ? ORDER BY created_at, id', [id])).map((e) => e.type);
/** The signed webhook bodies queued for an invoice (the webhook worker does not run in this suite). */
const bodiesOf = async (id) => (await s.app.db.all('SELECT body FROM events WHERE invoice_id = ? ORDER BY created_at, id', [id])).map((e) => JSON.parse(e.body));
/** Mines past the devnet's finality (3 confirmations) and polls until `test` holds. */
async function settle(id, test) {
  await s.net.mine(3);
  for (let i = 0; i < 20; i++) {
    await poll();
    const now = await invoice(id);
    if (test(now)) return now;
  }
  throw new Error(`invoice ${id} did not reach the expected state: ${JSON.stringify(await invoice(id))}`);
}

test('defect 1: a claim of another invoice\'s exact payment, sent before the watcher polls, is refused; that invoice settles', async () => {
  const rightful = await create({ amount: '41' });
  const cheap = await create({ amount: '1' });
  const paid = await s.pay(rightful.recipient, rightful.amount_due_units);
  // The attacker saw the payment on chain and claims it for their cheap invoice at once.
  const stolen = await claim(cheap.id, paid.tx);
  assert.deepEqual([stolen.status, stolen.body.error?.code], [409, 'reserved_for_another_invoice']);
  // The claimer reads a sentence, never the id of the invoice the payment belongs to.
  assert.ok(!JSON.stringify(stolen.body).includes(rightful.id), JSON.stringify(stolen.body));
  assert.doesNotMatch(stolen.body.error.message, /inv_|reserved_for/);
  assert.deepEqual(await ledgerOf(paid.tx), []);
  const done = await settle(rightful.id, (i) => i.state === 'settled');
  assert.deepEqual(done.transfers.map((t) => [t.tx_hash, t.matched_by]), [[paid.tx, 'amount']]);
  assert.deepEqual([(await invoice(cheap.id)).state, (await invoice(cheap.id)).amount_paid], ['new', '0']);
});

test('defect 1: someone else\'s unmatched transfer claimed for a cheap invoice goes to review; nothing announces it settled', async () => {
  const victim = await s.pay(s.net.accounts[5], '57300000'); // an exchange's short withdrawal: matches nothing
  await poll();
  assert.deepEqual(await ledgerOf(victim.tx), [{ invoice_id: null, note: 'unmatched', status: 'seen' }]);
  const cheap = await create({ amount: '2', expires_in: 3600 });
  // A claim made after the transfer must still be inside the invoice's window: the invoice is
  // created after the transfer here, so the attacker needs the 60 s clock-skew allowance.
  const r = await claim(cheap.id, victim.tx);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual([r.body.state, r.body.exception], ['processing', 'needs_review']);
  const held = await settle(cheap.id, (i) => i.transfers[0]?.status === 'final');
  assert.deepEqual([held.state, held.exception], ['settled', 'needs_review']);
  const events = await eventsOf(cheap.id);
  assert.ok(events.includes('invoice.needs_review'), events.join());
  assert.ok(!events.includes('invoice.settled') && !events.includes('invoice.processing'), `no plain processing or settled while in review: ${events.join()}`);
  // The merchant rejects: the transfer goes back to the unmatched list, claimable by its owner.
  const rejected = await s.api('POST', `/api/v1/invoices/${cheap.id}/review/resolve`, { decision: 'reject', note: 'not this customer\'s payment' });
  assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
  assert.deepEqual([rejected.body.state, rejected.body.amount_paid, rejected.body.transfers], ['new', '0', []]);
  assert.deepEqual(await ledgerOf(victim.tx), [{ invoice_id: null, note: `returned by review of ${cheap.id}`, status: 'final' }]);
  const announced = (await bodiesOf(cheap.id)).find((b) => b.data.resolution);
  assert.deepEqual(announced.data.resolution, { outcome: 'rejected', note: 'not this customer\'s payment' });
});

test('defect 3: a payment in a replacement block at a height the watcher already scanned is seen', async () => {
  const inv = await create({ amount: '43' });
  const snapshot = await s.net.rpc('evm_snapshot');
  await s.net.mine(1);
  const height = Number(await s.net.rpc('eth_blockNumber'));
  await poll(); // the empty block at `height` is scanned; the cursor passes it
  assert.ok(Number((await s.api('GET', '/health')).body.networks.devnet.cursors.usdt) >= height);
  assert.equal(await s.net.rpc('evm_revert', [snapshot]), true);
  const paid = await s.pay(inv.recipient, inv.amount_due_units, { mine: 0 });
  assert.equal(Number(paid.blockNumber), height, 'the payment is in the replacement block at the scanned height');
  const done = await settle(inv.id, (i) => i.state === 'settled');
  assert.deepEqual(done.transfers.map((t) => [t.tx_hash, t.status]), [[paid.tx, 'final']]);
});

test('defect 4: needs_review is announced as its own event; accepted, the invoice is announced settled with the note', async () => {
  const inv = await create({ amount: '44' });
  const over = await s.pay(inv.recipient, '44500000'); // matches no amount: unmatched
  await poll();
  const claimed = await claim(inv.id, over.tx);
  assert.deepEqual([claimed.status, claimed.body.exception], [200, 'needs_review']);
  await settle(inv.id, (i) => i.transfers[0]?.status === 'final');
  const announced = (await eventsOf(inv.id)).filter((t) => t !== 'invoice.created' && t !== 'invoice.new');
  assert.deepEqual(announced, ['invoice.needs_review'], 'final on chain, but not announced settled while in review');
  const accepted = await s.api('POST', `/api/v1/invoices/${inv.id}/review/resolve`, { decision: 'accept', note: 'the customer showed the withdrawal' });
  assert.deepEqual([accepted.status, accepted.body.state, accepted.body.exception], [200, 'settled', 'paid_over']);
  const settled = (await bodiesOf(inv.id)).find((b) => b.data.resolution);
  assert.equal(settled.type, 'invoice.settled');
  assert.deepEqual(settled.data.resolution, { outcome: 'accepted', note: 'the customer showed the withdrawal' });
  const again = await s.api('POST', `/api/v1/invoices/${inv.id}/review/resolve`, { decision: 'accept', note: 'twice' });
  assert.deepEqual([again.status, again.body.error.code], [409, 'not_in_review']);
});

test('defect 5: a burst of abandoned checkouts does not lock a price out; the reused amount goes to review', async () => {
  // Abandoned checkouts at one price until the band is full (two addresses, six slots each, amounts
  // three steps apart: four of them).
  const abandoned = [];
  let full;
  for (let i = 0; i < 20; i++) {
    full = await s.api('POST', '/api/v1/invoices', { networks: ['devnet'], amount: '45', expires_in: 60 });
    if (full.status !== 201) break;
    abandoned.push(full.body);
  }
  assert.deepEqual([full.status, full.body.error?.code], [503, 'amount_band_full']);
  await s.advance(120); // all of them expire unpaid, still inside their monitoring window
  const fresh = await create({ amount: '45' });
  assert.equal(abandoned.length, 4, 'amounts three steps apart: two per address');
  const reused = abandoned.find((a) => a.recipient === fresh.recipient && a.amount_due_units === fresh.amount_due_units);
  assert.ok(reused, 'the new invoice took over the oldest expired unpaid reservation');
  const [row] = await s.app.db.all('SELECT released FROM invoices WHERE id = ?', [reused.id]);
  assert.equal(row.released, 1);
  // A payment of that amount could be the abandoned checkout's late payment: the merchant decides.
  const paid = await s.pay(fresh.recipient, fresh.amount_due_units);
  const held = await settle(fresh.id, (i) => i.transfers[0]?.status === 'final');
  assert.deepEqual([held.state, held.exception, held.transfers[0].tx_hash], ['settled', 'needs_review', paid.tx]);
  assert.equal((await invoice(reused.id)).amount_paid, '0');
});

test('defect 6: a settled invoice does not swallow another customer\'s short payment; that customer can claim it', async () => {
  const a = await create({ amount: '46' });
  const paidA = await s.pay(a.recipient, a.amount_due_units);
  await settle(a.id, (i) => i.state === 'settled');
  const b = await create({ amount: '46' });
  // Same price, same address (it has room), three steps above A's amount.
  assert.deepEqual([b.recipient, BigInt(b.amount_due_units) - BigInt(a.amount_due_units)], [a.recipient, 30_000n]);
  // B's customer sends A's amount (an exchange took the unique tag).
  const paidB = await s.pay(a.recipient, a.amount_due_units, { fromIndex: 2 });
  await s.net.mine(3);
  await poll();
  const afterA = await invoice(a.id);
  assert.deepEqual([afterA.state, afterA.exception, afterA.transfers.map((t) => t.tx_hash)], ['settled', null, [paidA.tx]]);
  assert.deepEqual((await ledgerOf(paidB.tx)).map((r) => [r.invoice_id, r.note]), [[null, 'unmatched']]);
  assert.notEqual((await invoice(b.id)).state, 'settled');
  const claimed = await claim(b.id, paidB.tx);
  assert.deepEqual([claimed.status, claimed.body.exception], [200, 'needs_review']);
});

test('defect 7: a payment one or two steps short of its own amount completes no neighbour', async () => {
  const c = await create({ amount: '47.01' });
  const d = await create({ amount: '47.01' });
  // Neighbours: one address, amounts three steps apart.
  assert.deepEqual([d.recipient, BigInt(d.amount_due_units) - BigInt(c.amount_due_units)], [c.recipient, 30_000n]);
  const target = d;
  for (const steps of [1n, 2n]) {
    for (const sign of [-1n, 1n]) {
      const amount = String(BigInt(target.amount_due_units) + sign * steps * 10_000n);
      const sent = await s.pay(target.recipient, amount);
      await poll();
      assert.deepEqual((await ledgerOf(sent.tx)).map((r) => [r.invoice_id, r.note]), [[null, 'unmatched']], `${sign * steps} steps`);
    }
  }
  assert.equal((await invoice(c.id)).amount_paid, '0');
  assert.equal((await invoice(d.id)).amount_paid, '0');
});

test('DESIGN §13: a poll of a network with two tokens, payments on both, makes at most 3 HTTP requests', async () => {
  const state = s.app.watcher.states.get('devnet');
  await poll(); // the RPC client's one-time chain id check is not a poll's
  const usdt = await create({ amount: '48' });
  const usdt18 = await create({ amount: '48', networks: ['devnet:usdt18'] });
  const paid = await s.pay(usdt.recipient, usdt.amount_due_units);
  const paid18 = await s.pay(usdt18.recipient, usdt18.amount_due_units, { token: 'BscUsdLike' });
  state.maxRequestsPerPoll = 0;
  await poll(); // both seen: logs of both tokens and their blocks' headers
  await settle(usdt.id, (i) => i.state === 'settled'); // both final: the headers of both checks
  const done18 = await settle(usdt18.id, (i) => i.state === 'settled');
  assert.deepEqual([(await invoice(usdt.id)).transfers[0].tx_hash, done18.transfers[0].tx_hash], [paid.tx, paid18.tx]);
  assert.ok(state.maxRequestsPerPoll <= 3, `${state.maxRequestsPerPoll} HTTP requests in one poll`);
});
