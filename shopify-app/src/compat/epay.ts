// The EPay V1 protocol (彩虹易支付): submit.php (a browser form, answered with a redirect to the pay
// page), mapi.php (a server call, answered with JSON), the order query of api.php, the signed
// notify (a GET) once the order is paid, and the signed return to the shop.
// Reference: the project's shared reference compat.md, "EPay V1".
import type { InvoiceRow } from '../invoices';
import type { Credential, Credentials } from './credentials';
import { choicesFor, CompatError, CompatOrders, fiatAmount, OrderRow, orderState, Terms, textField, urlField } from './orders';
import { md5Sign, verifyMd5, WireFields, wireFieldsOf } from './sign';

const UNSIGNED = ['sign', 'sign_type'];

/** The answer to a failed mapi.php or api.php request, as EPay has it. */
export function epayError(error: CompatError) {
  return { code: -1, msg: error.message };
}

const datetime = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');

export class EPay {
  constructor(
    private readonly orders: CompatOrders,
    private readonly credentials: Credentials,
  ) {}

  /** The credential of `pid` when `sign` signs the fields with its key, and the caller may use it. */
  private async signer(fields: WireFields, clientAddress: string | undefined): Promise<Credential> {
    const pid = textField(fields.get('pid'), 'pid', 12, true);
    const credential = await this.credentials.epay(pid);
    if (!credential) throw new CompatError('unknown_merchant', `no merchant has the pid ${pid}`);
    const signType = fields.get('sign_type')?.text;
    if (signType !== undefined && signType !== '' && signType.toUpperCase() !== 'MD5') throw new CompatError('signature', 'sign_type must be MD5');
    const sign = fields.get('sign');
    if (!sign || sign.kind !== 'string' || !/^[0-9a-fA-F]{32}$/.test(sign.text) || !verifyMd5(fields, UNSIGNED, credential.secret, sign.text)) {
      throw new CompatError('signature', 'signature verification failed');
    }
    if (!credential.allows(clientAddress)) throw new CompatError('forbidden', 'this address may not use this pid');
    return credential;
  }

  /** submit.php and mapi.php: checks the request and makes (or finds) its order. */
  async create(fields: WireFields, clientAddress: string | undefined, baseUrl: string): Promise<{ invoice: InvoiceRow; order: OrderRow }> {
    const credential = await this.signer(fields, clientAddress);
    const orderId = textField(fields.get('out_trade_no'), 'out_trade_no', 128, true);
    const amount = fields.get('money');
    const fiat = fiatAmount(amount, 'money');
    const notifyUrl = urlField(fields.get('notify_url'), 'notify_url', true);
    const returnUrl = urlField(fields.get('return_url'), 'return_url');
    const name = textField(fields.get('name'), 'name', 256);
    const param = textField(fields.get('param'), 'param', 1024);
    const type = textField(fields.get('type'), 'type', 64);
    // GMPay's extension names the currency; EPay itself prices in the server's default (CNY).
    const currency = (textField(fields.get('currency'), 'currency', 3) ?? this.orders.config.compat!.currency).toUpperCase();
    // A type this server knows (`usdt.trc20`, or GMPay's token + network) fixes the network; any
    // other (alipay, wxpay, qqpay… that panels send) leaves the choice to the customer.
    const token = textField(fields.get('token'), 'token', 16);
    const chain = textField(fields.get('network'), 'network', 32);
    let networks: string[] | null = null;
    if (token !== null && chain !== null) {
      networks = choicesFor(this.orders.config, token, chain);
      if (networks.length === 0) throw new CompatError('no_wallet', `this server has no wallet for ${token} on ${chain}`);
    } else if (type !== null && /^usdt\.\w+$/i.test(type)) {
      const [asset, typeChain] = type.split('.');
      networks = choicesFor(this.orders.config, asset, typeChain);
      if (networks.length === 0) networks = null;
    }
    const terms: Terms = { protocol: 'epay', amount: amount!, currency, notify_url: notifyUrl, return_url: returnUrl, name, type, param };
    // The customer comes back through this server, which signs the return only once the order is
    // paid: a signed return_url handed out before payment would be a forged receipt.
    const redirectUrl = returnUrl === null ? null : `${baseUrl}/compat/epay/return?pid=${credential.pid}&out_trade_no=${encodeURIComponent(orderId)}`;
    return this.orders.create(credential, { orderId, fiatAmount: fiat, currency, networks, redirectUrl, expiresIn: null, terms }, baseUrl);
  }

  /** mapi.php's answer: the pay page as the URL to open and as the QR code's content. */
  async mapi(fields: WireFields, clientAddress: string | undefined, baseUrl: string) {
    const { invoice } = await this.create(fields, clientAddress, baseUrl);
    const payurl = `${baseUrl}/pay/${invoice.id}`;
    return { code: 1, msg: 'success', trade_no: invoice.id, payurl, qrcode: payurl };
  }

  /** `api.php?act=order&pid&key&out_trade_no` (or `trade_no`): the merchant's order query, keyed by the key itself. */
  async query(fields: WireFields, clientAddress: string | undefined) {
    const act = fields.get('act')?.text;
    if (act !== 'order') throw new CompatError('invalid', 'only act=order is supported');
    const pid = textField(fields.get('pid'), 'pid', 12, true);
    const key = textField(fields.get('key'), 'key', 128, true);
    if (!(await this.credentials.epayKeyMatches(pid, key))) throw new CompatError('signature', 'the pid or key is wrong');
    const credential = (await this.credentials.epay(pid)) as Credential;
    if (!credential.allows(clientAddress)) throw new CompatError('forbidden', 'this address may not use this pid');
    const outTradeNo = textField(fields.get('out_trade_no'), 'out_trade_no', 128);
    const tradeNo = textField(fields.get('trade_no'), 'trade_no', 64);
    const order = outTradeNo !== null ? await this.orders.byOrderId(credential.id, outTradeNo) : tradeNo !== null ? await this.orders.byInvoice(tradeNo) : undefined;
    const invoice = order && order.credential_id === credential.id ? await this.orders.invoices.get(order.invoice_id) : undefined;
    if (!order || !invoice) throw new CompatError('not_found', 'no such order');
    const terms = JSON.parse(order.terms) as Terms;
    const paid = orderState(this.orders.view(invoice, null)) === 'paid';
    return {
      code: 1,
      msg: 'succ',
      trade_no: invoice.id,
      out_trade_no: order.order_id,
      type: terms.type ?? 'usdt',
      pid: credential.pid,
      addtime: datetime(invoice.created_at),
      endtime: paid ? datetime(invoice.updated_at) : null,
      name: terms.name ?? '',
      money: terms.amount.text,
      param: terms.param ?? '',
      buyer: '',
      status: paid ? 1 : 0,
    };
  }

  /**
   * Where the pay page sends the customer back: the shop's return_url with the signed query once
   * the order is paid, the pay page itself until then.
   */
  async returnTo(pid: string, outTradeNo: string, baseUrl: string): Promise<string> {
    const credential = await this.credentials.epay(pid);
    const order = credential ? await this.orders.byOrderId(credential.id, outTradeNo) : undefined;
    const invoice = order ? await this.orders.invoices.get(order.invoice_id) : undefined;
    if (!credential || !order || !invoice) throw new CompatError('not_found', 'no such order');
    const terms = JSON.parse(order.terms) as Terms;
    if (terms.return_url === null || orderState(this.orders.view(invoice, null)) !== 'paid') return `${baseUrl}/pay/${invoice.id}`;
    return withQuery(terms.return_url, signedResult(order, credential));
  }
}

/** The signed query of a paid order (notify and return): EPay's fields, empty ones left out. */
function signedResult(order: OrderRow, credential: Credential): URLSearchParams {
  const terms = JSON.parse(order.terms) as Terms;
  const fields: Record<string, string> = {
    pid: String(credential.pid),
    trade_no: order.invoice_id,
    out_trade_no: order.order_id,
    type: terms.type ?? 'usdt',
    name: terms.name ?? '',
    money: terms.amount.text,
    trade_status: 'TRADE_SUCCESS',
    param: terms.param ?? '',
  };
  for (const key of Object.keys(fields)) if (fields[key] === '') delete fields[key];
  const sign = md5Sign(wireFieldsOf(fields), UNSIGNED, credential.secret);
  return new URLSearchParams({ ...fields, sign, sign_type: 'MD5' });
}

function withQuery(url: string, query: URLSearchParams): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query.toString()}`;
}

/** The notify of a paid order: a GET of notify_url with the signed query; delivered when the body contains `success`. */
export function epayCallback(order: OrderRow, credential: Credential) {
  const terms = JSON.parse(order.terms) as Terms;
  return {
    method: 'GET' as const,
    url: withQuery(terms.notify_url, signedResult(order, credential)),
    headers: {},
    body: null,
    delivered: (status: number, text: string) => status >= 200 && status < 300 && text.includes('success'),
  };
}
