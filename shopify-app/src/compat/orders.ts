// What the Epusdt and EPay endpoints share: the errors both map to their own codes, reading a
// fiat amount, the networks a request asks for, and creating the order, which is an ordinary
// invoice made through Invoices.create (priced through the server's rates, fiat_amount + currency,
// locked on the invoice), with the terms the callback needs kept beside it in compat_orders.
import type { Config } from '../config';
import type { Db } from '../db';
import { ApiError } from '../errors';
import type { InvoiceRow, Invoices } from '../invoices';
import { network as registryNetwork } from '../registry';
import { checkDestination } from '../webhooks';
import type { Credential, Protocol } from './credentials';
import { shortestDecimal, WireValue } from './sign';

/** What went wrong, in words both protocols have a code for. */
export type CompatErrorKind =
  | 'parse' // the body cannot be read
  | 'signature' // no credential signs the request
  | 'forbidden' // the credential's allow-list refuses the caller
  | 'unknown_merchant' // EPay: no live credential has this pid
  | 'invalid' // a field is missing or malformed (a notify URL to a private address included)
  | 'exists' // the order id is taken by an order with other terms
  | 'no_wallet' // no configured network takes what was asked for
  | 'amount' // the amount is not a usable fiat amount
  | 'no_free_amount' // every unique amount near this price is held
  | 'rate' // no rate for the currency, or its source failed
  | 'not_found' // no such order
  | 'system'; // the server failed

export class CompatError extends Error {
  constructor(
    readonly kind: CompatErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The terms of an order as the merchant sent them, kept for the callback (compat_orders.terms). */
export interface Terms {
  protocol: Protocol;
  /** The amount exactly as sent, echoed in the callback: its text, and whether it was a JSON number. */
  amount: WireValue;
  currency: string;
  notify_url: string;
  return_url: string | null;
  name: string | null;
  /** EPay: the payment type asked for (alipay, usdt…), echoed in the notify. */
  type: string | null;
  /** EPay: the merchant's pass-through parameter. */
  param: string | null;
}

export interface OrderRow {
  invoice_id: string;
  credential_id: string;
  order_id: string;
  terms: string;
  created_at: number;
}

/** Reads a fiat amount as sent (a JSON number's digits, or a decimal string): more than 0, at most 2 decimals. */
export function fiatAmount(value: WireValue | undefined, field: string): string {
  if (!value || (value.kind !== 'number' && value.kind !== 'string') || !/^\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.text)) {
    throw new CompatError('amount', `${field} must be a positive amount like 19.9`);
  }
  const decimal = shortestDecimal(value.text);
  if (decimal === '0') throw new CompatError('amount', `${field} must be more than 0`);
  if (/\.\d{3}/.test(decimal)) throw new CompatError('amount', `${field} has more than 2 decimals`);
  if (decimal.split('.')[0].length > 15) throw new CompatError('amount', `${field} is too large`);
  return decimal;
}

/** A text field: present and a string (or a number's text), at most `max` characters, no control characters. */
export function textField(value: WireValue | undefined, field: string, max: number, required: true): string;
export function textField(value: WireValue | undefined, field: string, max: number, required?: false): string | null;
export function textField(value: WireValue | undefined, field: string, max: number, required = false): string | null {
  if (!value || value.kind === 'null' || value.text === '') {
    if (required) throw new CompatError('invalid', `${field} is required`);
    return null;
  }
  // eslint-disable-next-line no-control-regex
  if ((value.kind !== 'string' && value.kind !== 'number') || value.text.length > max || /[\u0000-\u001f\u007f]/.test(value.text)) {
    throw new CompatError('invalid', `${field} must be text of at most ${max} characters`);
  }
  return value.text;
}

/** An http(s) URL field of at most 2000 characters. */
export function urlField(value: WireValue | undefined, field: string, required: true): string;
export function urlField(value: WireValue | undefined, field: string, required?: false): string | null;
export function urlField(value: WireValue | undefined, field: string, required = false): string | null {
  const text = required ? textField(value, field, 2000, true) : textField(value, field, 2000);
  if (text === null) return null;
  let ok = false;
  try {
    ok = ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    ok = false;
  }
  if (!ok) throw new CompatError('invalid', `${field} must be an http(s) URL`);
  return text;
}

// The chain names clients use (BEpusdt's trade_type `usdt.trc20`, GMPay's `network`), as registry
// networks; the test networks of a family answer to its name too.
const CHAINS: Record<string, string[]> = {
  trc20: ['tron', 'tron-nile', 'devnet-tron'],
  tron: ['tron', 'tron-nile', 'devnet-tron'],
  erc20: ['ethereum', 'sepolia', 'devnet'],
  ethereum: ['ethereum', 'sepolia', 'devnet'],
  bep20: ['bsc', 'bsc-testnet'],
  bsc: ['bsc', 'bsc-testnet'],
  binance: ['bsc', 'bsc-testnet'],
  polygon: ['polygon'],
  arbitrum: ['arbitrum'],
  optimism: ['optimism'],
  avalanche: ['avalanche'],
  base: ['base'],
};

/**
 * The `network:token` choices of this server that a client's asset and chain name (`usdt`,
 * `trc20`) select: a USDT token of a configured network of that chain. An asset this server does
 * not take (USDC, TRX…) or a chain it does not watch selects nothing (the caller says no_wallet).
 */
export function choicesFor(config: Config, asset: string, chain: string): string[] {
  const networks = CHAINS[chain.toLowerCase()] ?? [];
  if (asset.toLowerCase() !== 'usdt') return [];
  return config.networks
    .filter((n) => networks.includes(n.id) && registryNetwork(n.id))
    .flatMap((n) => n.tokens.filter((t) => t.startsWith('usdt')).map((t) => `${n.id}:${t}`));
}

/** What an order asks of the invoice it becomes. */
export interface OrderRequest {
  orderId: string;
  /** The fiat amount, normalised (fiatAmount). */
  fiatAmount: string;
  currency: string;
  /** `network:token` choices, or null for every network of the server (the customer picks). */
  networks: string[] | null;
  redirectUrl: string | null;
  expiresIn: number | null;
  terms: Terms;
}

/** The order state a protocol reports: paid only once settled and out of review. */
export function orderState(view: { state: string; exception: string | null }): 'paid' | 'expired' | 'waiting' {
  if (view.state === 'settled' && view.exception !== 'needs_review') return 'paid';
  if (view.state === 'expired' || view.state === 'invalid') return 'expired';
  return 'waiting';
}

export class CompatOrders {
  constructor(
    private readonly db: Db,
    readonly invoices: Invoices,
    readonly config: Config,
  ) {}

  /**
   * Creates the order's invoice, or finds the one this credential already made for this order id
   * with the same terms (a panel retrying); another order under the same id with other terms is
   * refused (`exists`). Nothing is written before every check has passed: the notify URL's
   * destination, the amount and currency, the rate, the networks.
   */
  async create(credential: Credential, request: OrderRequest, baseUrl: string): Promise<{ invoice: InvoiceRow; order: OrderRow }> {
    const { terms } = request;
    try {
      await checkDestination({ name: 'notify_url', url: terms.notify_url, secret: '', allowPrivate: credential.allowPrivate });
    } catch (error) {
      throw new CompatError('invalid', `notify_url: ${(error as Error).message.replace(/; set allow_private.*$/, '')}`);
    }
    // The invoice's own idempotency (per credential and order id) makes a repeat with the same
    // terms replay the first answer and one with other terms fail, under any concurrency. The
    // body holds the terms by value, so `42` and `42.0` are the same order.
    const body = {
      fiat_amount: request.fiatAmount,
      currency: request.currency,
      order_id: request.orderId,
      ...(request.networks ? { networks: request.networks } : {}),
      ...(request.redirectUrl ? { redirect_url: request.redirectUrl } : {}),
      ...(request.expiresIn ? { expires_in: request.expiresIn } : {}),
      metadata: {
        compat: terms.protocol,
        credential: credential.id,
        notify_url: terms.notify_url,
        ...(terms.return_url ? { return_url: terms.return_url } : {}),
        ...(terms.name ? { name: terms.name } : {}),
        ...(terms.param ? { param: terms.param } : {}),
      },
    };
    let created;
    try {
      created = await this.invoices.create(body, `compat:${credential.id}`, request.orderId, baseUrl);
    } catch (error) {
      throw asCompatError(error);
    }
    const invoiceId = (created.body as { id: string }).id;
    // Written after the invoice: a crash in between leaves an invoice without its order row, and
    // the panel's retry of the same order (the replay above) writes it.
    await this.db.run(
      `INSERT INTO compat_orders (invoice_id, credential_id, order_id, terms, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [invoiceId, credential.id, request.orderId, JSON.stringify(terms), this.invoices.clock()],
    );
    const order = (await this.byInvoice(invoiceId)) as OrderRow;
    return { invoice: (await this.invoices.get(invoiceId)) as InvoiceRow, order };
  }

  byInvoice(invoiceId: string): Promise<OrderRow | undefined> {
    return this.db.get<OrderRow>(`SELECT * FROM compat_orders WHERE invoice_id = ?`, [invoiceId]);
  }

  byOrderId(credentialId: string, orderId: string): Promise<OrderRow | undefined> {
    return this.db.get<OrderRow>(`SELECT * FROM compat_orders WHERE credential_id = ? AND order_id = ?`, [credentialId, orderId]);
  }

  /** The merchant's view of the order's invoice now (state, amounts, transfers). */
  view(invoice: InvoiceRow, baseUrl: string | null) {
    return this.invoices.view(invoice, this.invoices.clock(), baseUrl);
  }
}

// The compat error of each code a failed invoice creation can have; any other is `invalid` (a
// client's error) or `system`.
const CREATE_ERRORS: Record<string, CompatErrorKind> = {
  idempotency_key_reused: 'exists',
  invalid_currency: 'rate',
  rate_unavailable: 'rate',
  amount_band_full: 'no_free_amount',
  amount_contention: 'no_free_amount',
  invalid_fiat_amount: 'amount',
  invalid_amount: 'amount',
};

function asCompatError(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  if (error.code === 'idempotency_key_reused') return new CompatError('exists', 'an order with this id and other terms exists');
  return new CompatError(CREATE_ERRORS[error.code] ?? (error.status < 500 ? 'invalid' : 'system'), error.message);
}
