// The order flow (path B of the reference): a customer placed an order with the merchant's manual
// payment method; the extension asks for its invoice. The order is read from Shopify (never taken
// from the caller), checked to be this method's, with a pending capturable sale, not cancelled,
// and gets ONE invoice for its outstanding amount in the presentment currency (priced through the
// server's rates). The invoice is linked on the order as the app's metafields.
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError, invalid } from '../errors';
import type { Db } from '../db';
import type { AddressPool, Invoices, InvoiceRow } from '../invoices';
import type { Logger } from '../log';
import type { Shopify } from '@shopify/shopify-api';
import { Admin, METAFIELD_NAMESPACE, orderGid, OrderTransaction, ShopifyOrder } from './admin';
import type { Shops } from './shops';

export interface ShopifyOrderRow {
  shop: string;
  order_id: string;
  order_name: string | null;
  invoice_id: string;
  amount: string;
  currency: string;
  linked: number;
  refunds: string | null;
  /** The order's customer (GID) when it has one. */
  customer_id?: string | null;
  created_at: number;
  updated_at: number;
}

/** The pending manual sale a capture settles: the reference's "pending capturable SALE". */
export function pendingSale(order: ShopifyOrder): OrderTransaction | undefined {
  return order.transactions.find((t) => t.kind === 'SALE' && t.status === 'PENDING' && t.manuallyCapturable);
}

/** True when `amount` (a decimal string) is more than zero. */
const positive = (amount: string) => /[1-9]/.test(amount);

export interface OrderServices {
  db: Db;
  invoices: Invoices;
  shops: Shops;
  shopify: Shopify;
  log: Logger;
  clock: () => number;
}

/** The order and the checkout token of an extension's request; `invalid_<field>` (422) when malformed. */
export function checkoutRequest(input: unknown): { id: string; checkoutToken: string | null } {
  const body = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const id = orderGid(body.order_id);
  if (id === null) throw invalid('order_id', 'must be the order\'s id ("gid://shopify/Order/123" or "123")');
  const token = body.checkout_token;
  if (token === undefined || token === null) return { id, checkoutToken: null };
  if (typeof token !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(token)) throw invalid('checkout_token', "must be the checkout's token as the Thank-you page gives it (shopify.checkoutToken), 1 to 255 printable characters");
  return { id, checkoutToken: token };
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** Whether `sent` is the order's checkout token (`stored`, its sha256), compared in constant time. */
function sameToken(stored: Buffer | null, sent: string): boolean {
  return stored !== null && timingSafeEqual(stored, digest(sent));
}

/** How many orders' checkout tokens a process keeps (the oldest go first); a forgotten one is asked of Shopify again. */
const REMEMBERED_CHECKOUTS = 10000;

export class ShopifyOrders {
  /**
   * The checkout token (its sha256) of each order read here, by `shop order`: an order's token
   * never changes, so a guest's later looks (the block asks every few seconds) need no Admin
   * request. null: the order has none (made in the admin or by the API), so no guest reads it.
   */
  private readonly checkoutTokens = new Map<string, Buffer | null>();

  constructor(private readonly s: OrderServices) {}

  /** Keeps the order's checkout token (its digest, returned). */
  private remember(shop: string, id: string, token: string | null): Buffer | null {
    const key = `${shop} ${id}`;
    const stored = token === null ? null : digest(token);
    this.checkoutTokens.delete(key);
    this.checkoutTokens.set(key, stored);
    if (this.checkoutTokens.size > REMEMBERED_CHECKOUTS) this.checkoutTokens.delete(this.checkoutTokens.keys().next().value as string);
    return stored;
  }

  /** The checkout token digest of an order that has an invoice here: remembered, else read from Shopify. */
  private async checkoutDigest(shop: string, id: string): Promise<Buffer | null> {
    const key = `${shop} ${id}`;
    if (this.checkoutTokens.has(key)) return this.checkoutTokens.get(key) ?? null;
    const admin = await Admin.of(this.s.shopify, this.s.shops, shop);
    return this.remember(shop, id, await admin.checkoutToken(id));
  }

  link(shop: string, orderId: string): Promise<ShopifyOrderRow | undefined> {
    return this.s.db.get<ShopifyOrderRow>(`SELECT * FROM shopify_orders WHERE shop = ? AND order_id = ?`, [shop, orderId]);
  }

  byInvoice(invoiceId: string): Promise<ShopifyOrderRow | undefined> {
    return this.s.db.get<ShopifyOrderRow>(`SELECT * FROM shopify_orders WHERE invoice_id = ?`, [invoiceId]);
  }

  /**
   * What the extension shows for the order its request names (`{order_id, checkout_token}`):
   * `{applies: false}` for an order of another payment method, else the order's invoice, created
   * the first time. Who may see it: a signed-in customer's token (`customer`, its `sub`) only that
   * customer's orders; a token without a customer (a guest's Thank-you page) only the order of
   * the checkout whose token it sends, compared with the order's own `checkoutToken`. A request
   * with neither is refused (422 `invalid_checkout_token`); any other order is answered as if it
   * did not exist (404 `order_not_found`), before anything about it is read or created.
   */
  async checkout(shop: string, input: unknown, baseUrl: string, customer: string | null = null) {
    const { id, checkoutToken } = checkoutRequest(input);
    if (!customer && checkoutToken === null) {
      throw invalid('checkout_token', "is required with a session token that names no customer (a guest's): the Thank-you page's shopify.checkoutToken");
    }
    const notFound = () => new ApiError('order_not_found', `${shop} has no order ${id}${customer ? ` of ${customer}` : ''}${checkoutToken !== null ? ' from this checkout' : ''}`, 'order_id');
    const known = await this.link(shop, id);
    if (known) {
      if (customer && known.customer_id !== customer) throw notFound();
      if (checkoutToken !== null && !sameToken(await this.checkoutDigest(shop, id), checkoutToken)) throw notFound();
      return this.answer(known, await this.s.invoices.require(known.invoice_id), baseUrl);
    }

    const admin = await Admin.of(this.s.shopify, this.s.shops, shop);
    const order = await admin.order(id);
    if (!order || (customer && order.customer?.id !== customer)) throw notFound();
    const stored = this.remember(shop, id, order.checkoutToken);
    if (checkoutToken !== null && !sameToken(stored, checkoutToken)) throw notFound();
    const settings = await this.s.shops.settings(shop);
    // The method's exact name, as the merchant set it: never a keyword in a name.
    if (!order.paymentGatewayNames.includes(settings.payment_method)) return { applies: false as const };
    if (order.cancelledAt !== null) throw new ApiError('order_cancelled', `order ${order.name} was cancelled; it takes no payment`, 'order_id');
    const outstanding = order.totalOutstandingSet.presentmentMoney;
    if (!pendingSale(order) || !positive(outstanding.amount)) {
      throw new ApiError('order_not_payable', `order ${order.name} has no pending ${settings.payment_method} payment to take (financial status ${order.displayFinancialStatus ?? 'unknown'})`, 'order_id');
    }
    // The shop's own receiving addresses when it set some (its pool), else the server's.
    const terms = this.s.shops.invoiceTerms(settings);
    const body = {
      fiat_amount: outstanding.amount.replace(/\.0+$/, ''),
      currency: outstanding.currencyCode,
      order_id: order.name,
      ...(terms.networks ? { networks: terms.networks } : {}),
      ...(settings.expires_in ? { expires_in: settings.expires_in } : {}),
      metadata: { shopify_shop: shop, shopify_order_id: id, shopify_order_name: order.name },
    };
    const invoiceId = await this.createOnce(shop, id, body, baseUrl, terms.pool);
    await this.s.db.run(
      `INSERT INTO shopify_orders (shop, order_id, order_name, invoice_id, amount, currency, linked, created_at, updated_at, customer_id)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [shop, id, order.name, invoiceId, body.fiat_amount, body.currency, this.s.clock(), this.s.clock(), order.customer?.id ?? null],
    );
    const row = (await this.link(shop, id)) as ShopifyOrderRow;
    const invoice = await this.s.invoices.require(row.invoice_id);
    await this.linkOnOrder(admin, row, invoice, baseUrl);
    return this.answer(row, invoice, baseUrl);
  }

  /**
   * Creates the order's invoice once, whatever the number of concurrent requests and processes:
   * the invoice's idempotency key (shop, order) is claimed inside the creation's transaction (a
   * twin blocks on it in PostgreSQL or fails on its primary key, then replays the same invoice).
   */
  private async createOnce(shop: string, orderId: string, body: Record<string, unknown>, baseUrl: string, pool: AddressPool | null): Promise<string> {
    const owner = `shopify:${shop}`;
    const key = `order:${orderId}`;
    try {
      const created = await this.s.invoices.create(body, owner, key, baseUrl, pool);
      return (created.body as { id: string }).id;
    } catch (error) {
      // The order changed between two first requests (its outstanding amount): the first invoice stands.
      if ((error as ApiError).code !== 'idempotency_key_reused') throw error;
      const stored = await this.s.db.get<{ body: string }>(`SELECT body FROM idempotency_keys WHERE api_key_id = ? AND key = ?`, [owner, key]);
      return (JSON.parse((stored as { body: string }).body) as { id: string }).id;
    }
  }

  /** Writes the invoice's id and pay page on the order (app metafields); retried on the next request if Shopify fails. */
  private async linkOnOrder(admin: Admin, row: ShopifyOrderRow, invoice: InvoiceRow, baseUrl: string): Promise<void> {
    if (row.linked) return;
    try {
      await admin.updateOrder({
        id: row.order_id,
        metafields: [
          { namespace: METAFIELD_NAMESPACE, key: 'invoice_id', type: 'single_line_text_field', value: invoice.id },
          { namespace: METAFIELD_NAMESPACE, key: 'pay_url', type: 'url', value: `${baseUrl}/pay/${invoice.id}` },
        ],
      });
      await this.s.db.run(`UPDATE shopify_orders SET linked = 1, updated_at = ? WHERE shop = ? AND order_id = ?`, [this.s.clock(), row.shop, row.order_id]);
      row.linked = 1;
    } catch (error) {
      this.s.log.warn('invoice not linked on the order yet', { shop: row.shop, order: row.order_id, invoice: invoice.id, error: (error as Error).message });
    }
  }

  /** What the extension renders: the amounts, the QR's payment URI, the pay page, the state. */
  answer(row: ShopifyOrderRow, invoice: InvoiceRow, baseUrl: string) {
    const status = this.s.invoices.statusDocument(invoice, baseUrl);
    return {
      applies: true as const,
      order: { id: row.order_id, name: row.order_name },
      invoice: {
        id: invoice.id,
        state: status.state,
        exception: status.exception,
        network: status.network,
        network_name: status.network_names?.en ?? null,
        token: status.token?.symbol ?? null,
        amount_due: status.amount_due,
        amount_paid: status.amount_paid,
        amount_remaining: status.amount_remaining,
        payment_uri: status.payment_uri,
        expires_at: status.expires_at,
        fiat_amount: row.amount,
        currency: row.currency,
        pay_url: `${baseUrl}/pay/${invoice.id}`,
      },
    };
  }
}
