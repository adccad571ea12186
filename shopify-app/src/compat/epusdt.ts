// The Epusdt API (the assimon/epusdt form, also spoken by BEpusdt): create a transaction, check
// its status, and the callback once it is paid. Answers are always HTTP 200 with the protocol's
// `status_code`, which its clients read instead of the HTTP status.
// Reference: the project's shared reference compat.md, "Epusdt".
import crypto = require('node:crypto');
import type { InvoiceRow } from '../invoices';
import type { Credential, Credentials } from './credentials';
import { choicesFor, CompatError, CompatErrorKind, CompatOrders, fiatAmount, OrderRow, orderState, Terms, textField, urlField } from './orders';
import { jsonWithRawNumbers, md5Sign, RawNumber, shortestDecimal, verifyMd5, WireFields, WireValue, wireFieldsOf } from './sign';

/** Epusdt's `status_code` of each error. */
const STATUS_CODE: Record<CompatErrorKind, number> = {
  parse: 10009,
  signature: 401,
  forbidden: 401,
  unknown_merchant: 401,
  invalid: 400,
  exists: 10002,
  no_wallet: 10003,
  amount: 10004,
  no_free_amount: 10005,
  rate: 10006,
  not_found: 10008,
  system: 400,
};

const requestId = () => crypto.randomUUID();

/** The answer to a failed request: `status_code` and message, HTTP 200 as the protocol has it. */
export function epusdtError(error: CompatError) {
  return { status_code: STATUS_CODE[error.kind], message: error.message, data: null, request_id: requestId() };
}

/** A number echoed as sent: its shortest form when it came as a JSON number, its text when it came as a string. */
const echo = (value: WireValue) => (value.kind === 'number' ? new RawNumber(shortestDecimal(value.text)) : value.text);

const STATUS = { waiting: 1, paid: 2, expired: 3 } as const;

export class Epusdt {
  constructor(
    private readonly orders: CompatOrders,
    private readonly credentials: Credentials,
  ) {}

  /** The live credential whose token signs `fields`, each token compared in constant time. */
  private async signer(fields: WireFields): Promise<Credential> {
    const signature = fields.get('signature');
    if (!signature || signature.kind !== 'string' || !/^[0-9a-fA-F]{32}$/.test(signature.text)) {
      throw new CompatError('signature', 'signature is missing or malformed');
    }
    let found: Credential | null = null;
    for (const credential of await this.credentials.epusdt()) {
      if (verifyMd5(fields, ['signature'], credential.secret, signature.text) && !found) found = credential;
    }
    if (!found) throw new CompatError('signature', 'signature verification failed');
    return found;
  }

  /** `POST /api/v1/order/create-transaction`. */
  async createTransaction(fields: WireFields, clientAddress: string | undefined, baseUrl: string) {
    const credential = await this.signer(fields);
    if (!credential.allows(clientAddress)) throw new CompatError('forbidden', 'this address may not use this token');
    const orderId = textField(fields.get('order_id'), 'order_id', 128, true);
    const amount = fields.get('amount') as WireValue;
    const fiat = fiatAmount(amount, 'amount');
    const notifyUrl = urlField(fields.get('notify_url'), 'notify_url', true);
    const redirectUrl = urlField(fields.get('redirect_url'), 'redirect_url');
    const name = textField(fields.get('name'), 'name', 256);
    const currency = (textField(fields.get('fiat'), 'fiat', 3) ?? this.orders.config.compat!.currency).toUpperCase();
    if (fields.has('rate')) throw new CompatError('rate', 'a rate chosen per order is not taken: this server prices with its own configured rates');
    if (fields.has('address')) throw new CompatError('no_wallet', 'a receiving address chosen per order is not taken: this server allocates from its configured addresses');
    let networks: string[] | null = null;
    const tradeType = textField(fields.get('trade_type'), 'trade_type', 64);
    if (tradeType !== null) {
      const [asset, chain = ''] = tradeType.split('.');
      networks = choicesFor(this.orders.config, asset, chain);
      if (networks.length === 0) throw new CompatError('no_wallet', `this server has no wallet for ${tradeType}`);
    }
    // BEpusdt's timeout: seconds to pay; 0 or out of its range means the server's default.
    const timeoutText = textField(fields.get('timeout'), 'timeout', 10);
    const timeout = timeoutText !== null && /^\d+$/.test(timeoutText) ? Number(timeoutText) : 0;
    const terms: Terms = { protocol: 'epusdt', amount, currency, notify_url: notifyUrl, return_url: redirectUrl, name, type: tradeType, param: null };
    const { invoice, order } = await this.orders.create(
      credential,
      { orderId, fiatAmount: fiat, currency, networks, redirectUrl, expiresIn: timeout >= 60 && timeout <= 86400 ? timeout : null, terms },
      baseUrl,
    );
    return this.answer(invoice, order, baseUrl);
  }

  private answer(invoice: InvoiceRow, order: OrderRow, baseUrl: string) {
    const view = this.orders.view(invoice, baseUrl);
    const terms = JSON.parse(order.terms) as Terms;
    return {
      status_code: 200,
      message: 'success',
      data: {
        trade_id: invoice.id,
        order_id: order.order_id,
        amount: echo(terms.amount),
        // Until the customer picks a network (several were offered) there is no unique amount
        // and no address yet: the price in USDT, and an empty token.
        actual_amount: new RawNumber(view.amount_due),
        token: view.recipient ?? '',
        expiration_time: invoice.expires_at,
        payment_url: view.pay_url,
      },
      request_id: requestId(),
    };
  }

  /**
   * `GET /pay/check-status/{trade_id}`: the wrapped form (`data`) and, beside it, the flat
   * `trade_id` and `status` that BEpusdt clients read. Status 2 only once settled and out of review.
   */
  async checkStatus(tradeId: string) {
    const invoice = /^inv_[A-Za-z0-9_-]{22}$/.test(tradeId) ? await this.orders.invoices.get(tradeId) : undefined;
    const order = invoice ? await this.orders.byInvoice(invoice.id) : undefined;
    if (!invoice || !order || (JSON.parse(order.terms) as Terms).protocol !== 'epusdt') throw new CompatError('not_found', 'no order has this trade_id');
    const status = STATUS[orderState(this.orders.view(invoice, null))];
    return { status_code: 200, message: 'success', data: { trade_id: invoice.id, status }, trade_id: invoice.id, status, request_id: requestId() };
  }
}

/**
 * The success callback of a paid order: a JSON POST, signed like a request, with the amount
 * echoed exactly as the merchant sent it and numbers in their shortest form (what Go, PHP and
 * Python clients all re-sign the same way). Delivered when the body is `ok`.
 */
export function epusdtCallback(order: OrderRow, view: { id: string; amount_due: string; recipient: string | null; transfers: { tx_hash: string; status: string }[] }, credential: Credential) {
  const terms = JSON.parse(order.terms) as Terms;
  const paid = view.transfers.filter((t) => t.status === 'final');
  const fields = {
    trade_id: view.id,
    order_id: order.order_id,
    amount: echo(terms.amount),
    actual_amount: new RawNumber(view.amount_due),
    token: view.recipient ?? '',
    block_transaction_id: paid.length ? paid[paid.length - 1].tx_hash : '',
    status: STATUS.paid,
  };
  const signature = md5Sign(wireFieldsOf(fields), ['signature'], credential.secret);
  return {
    method: 'POST' as const,
    url: terms.notify_url,
    headers: { 'content-type': 'application/json' },
    body: jsonWithRawNumbers({ ...fields, signature }),
    delivered: (status: number, text: string) => status === 200 && text.trim() === 'ok',
  };
}
