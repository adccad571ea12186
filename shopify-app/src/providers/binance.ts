// Binance Pay (merchant API, reference/standards.md §6.1): v3 order create, query, close, and
// webhooks verified with RSA-SHA256 against the certificate named by BinancePay-Certificate-SN,
// fetched from the certificates endpoint, cached, and fetched again on an unknown serial (at
// most once per cert_refresh_ms, a minute by default). Binance has no merchant sandbox: test against a fake or small live amounts.
import crypto = require('node:crypto');
import sg = require('../core');
import { callJson, Checkout, CheckoutRequest, header, Notification, NotificationRequest, ProviderAdapter, ProviderError, Secret } from './provider';

export interface BinanceConfig {
  apiKey: Secret;
  apiSecret: Secret;
  baseUrl: string;
  timeoutMs: number;
  /** The least time between two fetches of the certificates (an unknown serial asks again). */
  certRefreshMs: number;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * merchantTradeNo: Binance takes at most 32 letters or digits. The invoice id has "_" and may have
 * "-" (base64url), so stripping them is not one-to-one; a hash is: "sg" + 30 hex digits of its
 * SHA-256. The checkout row keeps the mapping back to the invoice.
 */
export function tradeNo(invoiceId: string): string {
  return 'sg' + crypto.createHash('sha256').update(invoiceId).digest('hex').slice(0, 30);
}

export class Binance implements ProviderAdapter {
  readonly name = 'binance' as const;
  private certs = new Map<string, string>();
  private certsFetchedAt = 0;

  constructor(
    private readonly config: BinanceConfig,
    private readonly clockMs: () => number = Date.now,
  ) {}

  private async call(path: string, body: unknown): Promise<any> {
    const text = JSON.stringify(body);
    const timestamp = String(this.clockMs());
    const nonce = Array.from(crypto.randomBytes(32), (b) => LETTERS[b % LETTERS.length]).join('');
    const answer = await callJson(
      'binance',
      this.config.baseUrl + path,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'BinancePay-Timestamp': timestamp,
          'BinancePay-Nonce': nonce,
          'BinancePay-Certificate-SN': this.config.apiKey.reveal(),
          'BinancePay-Signature': sg.binanceSign(this.config.apiSecret.reveal(), timestamp, nonce, text),
        },
        body: text,
      },
      this.config.timeoutMs,
    );
    if (answer?.status !== 'SUCCESS') throw new ProviderError('binance', `${path}: ${answer?.code ?? '?'} ${answer?.errorMessage ?? ''}`);
    return answer.data;
  }

  async create(request: CheckoutRequest): Promise<Checkout> {
    const merchantTradeNo = tradeNo(request.invoiceId);
    const data = await this.call('/binancepay/openapi/v3/order', {
      env: { terminalType: 'WEB' },
      merchantTradeNo,
      orderAmount: request.amount,
      currency: 'USDT',
      description: request.description.slice(0, 256),
      goodsDetails: [{ goodsType: '02', goodsCategory: 'Z000', referenceGoodsId: merchantTradeNo, goodsName: request.description.slice(0, 256) }],
      webhookUrl: request.notifyUrl,
      ...(request.returnUrl ? { returnUrl: request.returnUrl, cancelUrl: request.returnUrl } : {}),
    });
    if (typeof data?.checkoutUrl !== 'string') throw new ProviderError('binance', 'order created without a checkoutUrl');
    return { reference: merchantTradeNo, checkoutUrl: data.checkoutUrl };
  }

  async query(reference: string): Promise<string> {
    const data = await this.call('/binancepay/openapi/v2/order/query', { merchantTradeNo: reference });
    return String(data?.status ?? '');
  }

  async cancel(reference: string): Promise<void> {
    await this.call('/binancepay/openapi/order/close', { merchantTradeNo: reference });
  }

  private async certificate(serial: string): Promise<string | undefined> {
    if (!this.certs.has(serial) && (this.certsFetchedAt === 0 || this.clockMs() - this.certsFetchedAt >= this.config.certRefreshMs)) {
      this.certsFetchedAt = this.clockMs();
      const data = await this.call('/binancepay/openapi/certificates', {});
      const fresh = new Map<string, string>();
      for (const c of Array.isArray(data) ? data : []) {
        if (typeof c?.certSerial === 'string' && typeof c?.certPublic === 'string') fresh.set(c.certSerial, c.certPublic);
      }
      this.certs = fresh;
    }
    return this.certs.get(serial);
  }

  async verify(request: NotificationRequest): Promise<Notification> {
    const h = (name: string) => header(request.headers, name);
    const serial = h('BinancePay-Certificate-SN');
    const publicKey = await this.certificate(serial);
    if (!publicKey) throw Object.assign(new Error(`unknown certificate serial ${JSON.stringify(serial)}`), { code: 'unknown_certificate' });
    const nonce = h('BinancePay-Nonce');
    const timestamp = h('BinancePay-Timestamp');
    sg.binanceVerifyWebhook(publicKey, timestamp, nonce, request.rawBody, h('BinancePay-Signature'), request.nowMs);
    const body = JSON.parse(request.rawBody);
    const data = typeof body?.data === 'string' ? JSON.parse(body.data) : null;
    if (!data || typeof data.merchantTradeNo !== 'string' || typeof body.bizStatus !== 'string') {
      throw Object.assign(new Error('bizStatus or data.merchantTradeNo missing'), { code: 'invalid_provider_payload' });
    }
    if (data.currency !== undefined && data.currency !== 'USDT') {
      throw Object.assign(new Error(`currency ${data.currency} is not USDT`), { code: 'invalid_provider_payload' });
    }
    const paidUnits = body.bizStatus === 'PAY_SUCCESS' && data.totalFee !== undefined ? sg.providerAmount(JSON.stringify(data.totalFee), 6) : null;
    return { reference: data.merchantTradeNo, status: body.bizStatus, paidUnits, dedupeKey: `${timestamp}:${nonce}` };
  }

  acknowledgement(): unknown {
    return { returnCode: 'SUCCESS', returnMessage: null };
  }
}
