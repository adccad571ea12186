// The hosted providers' adapter interface (issue 16). A provider is another way to pay the same
// Stablegate invoice: the server asks it for a checkout, verifies its notifications with the core
// (crates/core/src/provider.rs: HMAC, canonical JSON, RSA), maps its statuses with the core, and
// applies the result to the invoice under the invoice's row lock (Invoices.applyProvider), so the
// status document, webhooks and review queue are the ones of a direct payment.

/** A secret from the environment: `toJSON` and `inspect` print it masked, never its value. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return mask(this.#value);
  }
  toString(): string {
    return mask(this.#value);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${mask(this.#value)})`;
  }
}

/** `••••` and the last 4 characters when the secret is long enough to keep them hidden. */
export function mask(value: string): string {
  return value.length >= 16 ? `••••${value.slice(-4)}` : '••••';
}

export interface CheckoutRequest {
  invoiceId: string;
  /** USDT, a decimal string (the invoice's base amount). */
  amount: string;
  description: string;
  notifyUrl: string;
  returnUrl: string | null;
}

export interface Checkout {
  /** The provider's reference of the order (Binance merchantTradeNo, NOWPayments invoice id). */
  reference: string;
  checkoutUrl: string;
}

/** A notification whose signature the core verified, read into what the invoice needs. */
export interface Notification {
  /** Stablegate's invoice id (Binance: through the stored merchantTradeNo). */
  reference: string;
  /** The provider's own status text (mapped by the core's providerStatus). */
  status: string;
  /** What was paid, in USDT base units (6 decimals), when the notification says. */
  paidUnits: string | null;
  /** The key a redelivery of this same notification repeats: it is applied once. */
  dedupeKey: string;
}

export interface NotificationRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody: string;
  /** Unix milliseconds. */
  nowMs: number;
}

export interface ProviderAdapter {
  readonly name: 'binance' | 'nowpayments';
  create(request: CheckoutRequest): Promise<Checkout>;
  /** The provider's current status of an order (the query or payment-status endpoint). */
  query(reference: string): Promise<string>;
  cancel(reference: string): Promise<void>;
  /** Verifies and reads a notification; throws a core error (signature, window, payload). */
  verify(request: NotificationRequest): Promise<Notification>;
  /** The body the provider expects back once a notification is taken. */
  acknowledgement(): unknown;
}

export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    message: string,
  ) {
    super(`${provider}: ${message}`);
  }
}

export function header(headers: NotificationRequest['headers'], name: string): string {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] ?? '' : value ?? '';
}

/** POSTs or GETs JSON with a timeout; a non-2xx answer or a non-JSON body is a ProviderError. */
export async function callJson(provider: string, url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }, timeoutMs: number): Promise<any> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new ProviderError(provider, `no answer from ${new URL(url).host}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProviderError(provider, `HTTP ${response.status}, not JSON`);
  }
  if (!response.ok) throw new ProviderError(provider, `HTTP ${response.status}: ${text.slice(0, 200)}`);
  return json;
}
