// Scripted status documents for the widget tests, made by the real core (the Node build of
// crates/wasm: createInvoice, creditTransfer, setEntryStatus, statusDocument), so that they are
// exactly what a host serves. Only the network-choice document, which hosts assemble before a
// core invoice exists, is written here; every document is checked against the JSON Schema.
'use strict';
const path = require('node:path');
const Ajv2020 = require('ajv/dist/2020').default;
const sg = require('../../../crates/wasm/pkg/node');

const schema = require(path.resolve(__dirname, '../../vectors/schema/status.schema.json'));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

function checked(doc) {
  if (!validate(doc)) throw new Error(`scripted status document breaks the schema: ${JSON.stringify(validate.errors)}`);
  return doc;
}

const DEVNET_USDT = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const PAYER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/**
 * The documents of one invoice on `network`, as its life goes on.
 * @param {{base: string, name: string, network?: string, recipient: string, amount: string, expiresIn?: number,
 *   orderTotal?: {amount: string, currency: string}}} o
 *   base: the host's URL; name: the scenario (its endpoints are /s/<name>/…); amount: decimal;
 *   orderTotal: the order's total as the shop priced it, passed to the core's status document.
 */
function invoiceStory(o) {
  const network = o.network ?? 'devnet';
  const now = Math.floor(Date.now() / 1000);
  const created = now - 60;
  const links = {
    choose: null,
    claim: `${o.base}/s/${o.name}/claim`,
    events: o.events ? `${o.base}/s/${o.name}/events` : null,
    new_invoice: `${o.base}/s/${o.name}/new`,
  };
  const due = sg.toBaseUnits(network, o.amount);
  let invoice = sg.createInvoice({
    id: `inv_${o.name}`,
    network,
    recipient: o.recipient,
    amount_due: due,
    created_at: String(created),
    expires_in: String(o.expiresIn ?? 900),
    monitoring: '86400',
  });
  const doc = (extra = {}) =>
    checked(sg.statusDocument(invoice, { now: extra.now ?? now, head: extra.head ?? 100, poll_after_ms: extra.poll ?? 400, return_url: o.returnUrl ?? `${o.base}/thanks`, links, order_total: o.orderTotal ?? null }));
  let logIndex = 0;
  const transfer = (amount, blockTime = now) => ({
    token: sg.networks().find((n) => n.id === network).tokens[0].contract,
    from: PAYER,
    to: o.recipient,
    amount,
    tx_hash: network.endsWith('tron') ? 'ab'.repeat(32) : `0x${(logIndex + 1).toString(16).padStart(2, '0').repeat(32)}`,
    log_index: String(logIndex++),
    block_number: '97',
    block_hash: `0x${'cd'.repeat(32)}`,
    removed: false,
    block_time: String(blockTime),
  });
  return {
    due,
    now,
    doc,
    /** Credits a transfer of `amount` base units; returns its tx hash. */
    pay(amount, { review = false, blockTime } = {}) {
      const t = transfer(amount, blockTime);
      invoice = sg.creditTransfer(invoice, t, 'amount', review).invoice;
      return t;
    },
    finalize(tx) {
      invoice = sg.setEntryStatus(invoice, tx.tx_hash, tx.log_index, 'final').invoice;
    },
    remove(tx) {
      invoice = sg.setEntryStatus(invoice, tx.tx_hash, tx.log_index, 'removed').invoice;
    },
    get invoice() {
      return invoice;
    },
  };
}

/** The document of an invoice whose customer has not chosen a network yet. */
function choiceDoc({ base, name }) {
  const nets = sg.networks();
  const names = (id) => nets.find((n) => n.id === id).names;
  const expires = new Date((Math.floor(Date.now() / 1000) + 900) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return checked({
    invoice: `inv_${name}`,
    state: 'new',
    exception: null,
    network: null,
    network_names: null,
    chain_id: null,
    token: null,
    recipient: null,
    amount_due: '19.99',
    amount_paid: '0',
    amount_remaining: '19.99',
    payment_uri: null,
    expires_at: expires,
    finality: null,
    transfers: [],
    choices: [
      { network: 'tron', token: 'usdt', names: names('tron'), symbol: 'USDT', amount: '19.99' },
      { network: 'devnet', token: 'usdt', names: names('devnet'), symbol: 'USDT', amount: '19.99' },
    ],
    return_url: null,
    poll_after_ms: 400,
    links: { choose: `${base}/s/${name}/choose`, claim: null, events: null, new_invoice: null },
  });
}

module.exports = { invoiceStory, choiceDoc, DEVNET_USDT };
