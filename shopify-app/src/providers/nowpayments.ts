// NOWPayments (reference/standards.md §6.3): invoices, payment status, and IPNs verified with
// HMAC-SHA512 over the recursively key-sorted body (the core's nowpaymentsVerifyIpn). The IPN has
// no timestamp or nonce: a redelivery is recognised by (payment_id, payment_status, body hash), and
// a "finished" IPN is confirmed by asking the payment-status endpoint before it settles anything.
import crypto = require('node:crypto');
import sg = require('../core');
import { callJson, Checkout, CheckoutRequest, header, Notification, NotificationRequest, ProviderAdapter, ProviderError, Secret } from './provider';

export const NOWPAYMENTS_URL = 'https://api.nowpayments.io/v1';
export const NOWPAYMENTS_SANDBOX_URL = 'https://api-sandbox.nowpayments.io/v1';

export interface NowPaymentsConfig {
  apiKey: Secret;
  ipnSecret: Secret;
  baseUrl: string;
  /** The currency the invoice is priced in at NOWPayments (its ticker, e.g. "usdttrc20"). */
  priceCurrency: string;
  timeoutMs: number;
}

export class NowPayments implements ProviderAdapter {
  readonly name = 'nowpayments' as const;
  constructor(private readonly config: NowPaymentsConfig) {}

  private call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
    return callJson(
      'nowpayments',
      this.config.baseUrl + path,
      {
        method,
        headers: { 'x-api-key': this.config.apiKey.reveal(), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      },
      this.config.timeoutMs,
    );
  }

  async create(request: CheckoutRequest): Promise<Checkout> {
    const answer = await this.call('POST', '/invoice', {
      // A JSON number, as the API takes it; "19.99" → 19.99 prints back exactly.
      price_amount: Number(request.amount),
      price_currency: this.config.priceCurrency,
      order_id: request.invoiceId,
      order_description: request.description,
      ipn_callback_url: request.notifyUrl,
      ...(request.returnUrl ? { success_url: request.returnUrl, cancel_url: request.returnUrl } : {}),
    });
    if (typeof answer?.invoice_url !== 'string' || answer.id === undefined) throw new ProviderError('nowpayments', 'invoice created without id or invoice_url');
    // Its IPNs carry order_id, Stablegate's invoice id: that is the reference kept.
    return { reference: request.invoiceId, checkoutUrl: answer.invoice_url };
  }

  async query(paymentId: string): Promise<string> {
    const answer = await this.call('GET', `/payment/${encodeURIComponent(paymentId)}`);
    return String(answer?.payment_status ?? '');
  }

  async cancel(): Promise<void> {
    // NOWPayments has no call to close an invoice: it expires on its own. Nothing to do.
  }

  async verify(request: NotificationRequest): Promise<Notification> {
    sg.nowpaymentsVerifyIpn(this.config.ipnSecret.reveal(), request.rawBody, header(request.headers, 'x-nowpayments-sig'));
    const body = JSON.parse(request.rawBody);
    if (typeof body.order_id !== 'string' || typeof body.payment_status !== 'string' || body.payment_id === undefined) {
      throw Object.assign(new Error('order_id, payment_id or payment_status missing'), { code: 'invalid_provider_payload' });
    }
    let paidUnits: string | null = null;
    if (body.payment_status === 'finished') {
      // The IPN is signed, but a finished payment is confirmed where it is kept before it settles.
      const confirmed = await this.query(String(body.payment_id));
      if (confirmed !== 'finished') {
        throw Object.assign(new Error(`payment ${body.payment_id} is ${confirmed} at NOWPayments, not finished`), { code: 'invalid_provider_payload' });
      }
      if (String(body.price_currency).toLowerCase() !== this.config.priceCurrency.toLowerCase()) {
        throw Object.assign(new Error(`price_currency ${body.price_currency} is not ${this.config.priceCurrency}`), { code: 'invalid_provider_payload' });
      }
      paidUnits = sg.providerAmount(JSON.stringify(body.price_amount), 6);
    }
    const digest = crypto.createHash('sha256').update(request.rawBody).digest('hex').slice(0, 32);
    return { reference: body.order_id, status: body.payment_status, paidUnits, dedupeKey: `${body.payment_id}:${body.payment_status}:${digest}` };
  }

  acknowledgement(): unknown {
    return { ok: true };
  }
}
