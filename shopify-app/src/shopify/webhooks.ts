// Webhooks from Shopify: the HMAC is checked on the raw body by the library, each delivery is
// applied once per X-Shopify-Webhook-Id (Shopify redelivers until it gets a 2xx, and may deliver
// twice), and every handler is also safe to run twice on its own, for the redelivery of a
// delivery whose first attempt failed half-way.
import type http = require('node:http');
import type { Shopify } from '@shopify/shopify-api';
import type { Db } from '../db';
import { isUniqueViolation } from '../db';
import { ApiError } from '../errors';
import type { Invoices } from '../invoices';
import type { Logger } from '../log';
import type { ShopifyOrderRow } from './orders';
import type { Shops } from './shops';

/** The topics the app subscribes to (shopify.app.toml), each with its handler below. */
export const TOPICS = ['orders/cancelled', 'refunds/create', 'app/uninstalled', 'customers/data_request', 'customers/redact', 'shop/redact'] as const;
type Topic = (typeof TOPICS)[number];

type Payload = Record<string, unknown>;

const gidOf = (id: unknown) => (typeof id === 'number' || (typeof id === 'string' && /^[0-9]+$/.test(id)) ? `gid://shopify/Order/${id}` : null);

export class ShopifyWebhooks {
  constructor(private readonly s: { db: Db; invoices: Invoices; shops: Shops; shopify: Shopify; log: Logger; clock: () => number }) {}

  /** Checks and applies one delivery; returns the status to answer. */
  async receive(req: http.IncomingMessage, res: http.ServerResponse, rawBody: string, baseUrl: string): Promise<{ status: number; body: unknown }> {
    const check = await this.s.shopify.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
    if (!check.valid) {
      // 401 for a wrong or missing HMAC (Shopify's documented answer), 400 for missing headers.
      if (check.reason === 'invalid_hmac' || check.reason === 'missing_hmac') throw new ApiError('invalid_webhook_hmac', 'the X-Shopify-Hmac-Sha256 of this body is not the app\'s', 'X-Shopify-Hmac-Sha256');
      throw new ApiError('invalid_webhook', `not a Shopify webhook delivery (${check.reason})`);
    }
    // The library names topics as GraphQL's enum (ORDERS_CANCELLED); the header said orders/cancelled.
    const lower = check.topic.toLowerCase();
    const topic = (lower.includes('/') ? lower : lower.replace('_', '/')) as Topic;
    const shop = check.domain;
    if (!TOPICS.includes(topic)) throw new ApiError('unknown_webhook_topic', `the app does not handle ${check.topic}`, 'X-Shopify-Topic');
    let payload: Payload;
    try {
      payload = JSON.parse(rawBody) as Payload;
    } catch {
      throw new ApiError('invalid_json', 'the webhook body is not JSON', 'body');
    }
    try {
      await this.s.db.run(`INSERT INTO shopify_webhooks (webhook_id, shop, topic, status, received_at) VALUES (?, ?, ?, 'processing', ?)`, [check.webhookId, shop, topic, this.s.clock()]);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Seen before: done (or being done by another process); answered 200 so Shopify stops.
      return { status: 200, body: { duplicate: true } };
    }
    try {
      await this.apply(topic, shop, payload, baseUrl);
    } catch (error) {
      // Forgotten, so that Shopify's retry of this delivery is applied.
      await this.s.db.run(`DELETE FROM shopify_webhooks WHERE webhook_id = ?`, [check.webhookId]);
      throw error;
    }
    await this.s.db.run(`UPDATE shopify_webhooks SET status = 'done' WHERE webhook_id = ?`, [check.webhookId]);
    this.s.log.info('shopify webhook', { topic, shop, webhook: check.webhookId });
    return { status: 200, body: { ok: true } };
  }

  private links(shop: string): Promise<ShopifyOrderRow[]> {
    return this.s.db.all<ShopifyOrderRow>(`SELECT * FROM shopify_orders WHERE shop = ?`, [shop]);
  }

  private async linksOf(shop: string, orderIds: unknown): Promise<ShopifyOrderRow[]> {
    const ids = (Array.isArray(orderIds) ? orderIds : []).map(gidOf).filter((x): x is string => x !== null);
    return (await this.links(shop)).filter((l) => ids.includes(l.order_id));
  }

  /** Cancels an unpaid open invoice; a paid, expired or already cancelled one is left as it is. */
  private async cancelInvoice(id: string, baseUrl: string): Promise<void> {
    try {
      await this.s.invoices.cancel(id, baseUrl);
    } catch (error) {
      if ((error as ApiError).code !== 'invoice_not_cancellable') throw error;
      this.s.log.info('invoice not cancelled: it is paid or closed', { invoice: id });
    }
  }

  private async apply(topic: Topic, shop: string, payload: Payload, baseUrl: string): Promise<void> {
    const { db } = this.s;
    switch (topic) {
      case 'orders/cancelled': {
        // The merchant cancelled the order in Shopify: its invoice stops taking payment.
        const link = await db.get<ShopifyOrderRow>(`SELECT * FROM shopify_orders WHERE shop = ? AND order_id = ?`, [shop, String(payload.admin_graphql_api_id ?? gidOf(payload.id))]);
        if (link) await this.cancelInvoice(link.invoice_id, baseUrl);
        return;
      }
      case 'refunds/create': {
        // Recorded with the order's invoice, once per refund id. A USDT refund is the merchant's
        // to send from their own wallet: Shopify's refund moves no USDT.
        const link = await db.get<ShopifyOrderRow>(`SELECT * FROM shopify_orders WHERE shop = ? AND order_id = ?`, [shop, String(gidOf(payload.order_id))]);
        if (!link) return;
        const refunds = JSON.parse(link.refunds ?? '[]') as Payload[];
        if (refunds.some((r) => String(r.id) === String(payload.id))) return;
        const transactions = (Array.isArray(payload.transactions) ? payload.transactions : []) as Payload[];
        refunds.push({
          id: payload.id,
          created_at: payload.created_at ?? null,
          amounts: transactions.filter((t) => t.kind === 'refund' && t.status !== 'failure').map((t) => ({ amount: String(t.amount), currency: t.currency ?? null })),
        });
        await db.run(`UPDATE shopify_orders SET refunds = ?, updated_at = ? WHERE shop = ? AND order_id = ?`, [JSON.stringify(refunds), this.s.clock(), shop, link.order_id]);
        return;
      }
      case 'app/uninstalled': {
        // The token is revoked; the shop's unpaid open invoices stop taking payment, and its
        // pending actions are dropped (there is no token to do them with).
        await this.s.shops.uninstall(shop);
        for (const link of await this.links(shop)) {
          const invoice = await this.s.invoices.get(link.invoice_id);
          if (invoice && invoice.state === 'new' && !invoice.exception) await this.cancelInvoice(link.invoice_id, baseUrl);
        }
        await db.run(`UPDATE shopify_actions SET status = 'skipped', result = 'shop_uninstalled' WHERE shop = ? AND status = 'pending'`, [shop]);
        return;
      }
      case 'customers/data_request': {
        // What Stablegate holds on the customer's orders: each order's invoice, its amounts and
        // the transfers that paid it (sender addresses, transactions). Stored for the merchant
        // (GET /shopify/api/data-requests), who answers the customer.
        const links = await this.linksOf(shop, payload.orders_requested);
        const orders = [];
        for (const link of links) {
          const invoice = await this.s.invoices.get(link.invoice_id);
          orders.push({ order_id: link.order_id, order_name: link.order_name, invoice: invoice ? this.s.invoices.view(invoice, this.s.clock(), baseUrl) : null, refunds: JSON.parse(link.refunds ?? '[]') });
        }
        const request = payload.data_request as Payload | undefined;
        const customer = payload.customer as Payload | undefined;
        const id = `${shop}:${String(request?.id ?? payload.id ?? this.s.clock())}`;
        await db.run(`INSERT INTO shopify_data_requests (id, shop, customer_id, export, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, [
          id, shop, customer?.id === undefined ? null : String(customer.id), JSON.stringify({ orders }), this.s.clock(),
        ]);
        return;
      }
      case 'customers/redact': {
        // Stablegate holds no name, email, phone or address; it holds which order an invoice
        // paid, and earlier data-request exports. Both go for the customer's orders.
        const customer = payload.customer as Payload | undefined;
        for (const link of await this.linksOf(shop, payload.orders_to_redact)) {
          await db.run(`DELETE FROM shopify_actions WHERE shop = ? AND order_id = ?`, [shop, link.order_id]);
          await db.run(`DELETE FROM shopify_orders WHERE shop = ? AND order_id = ?`, [shop, link.order_id]);
        }
        if (customer?.id !== undefined) await db.run(`DELETE FROM shopify_data_requests WHERE shop = ? AND customer_id = ?`, [shop, String(customer.id)]);
        return;
      }
      case 'shop/redact': {
        // 48 hours after an uninstall: everything Stablegate keeps about the shop goes.
        for (const table of ['shopify_actions', 'shopify_orders', 'shopify_data_requests', 'shopify_shops']) {
          await db.run(`DELETE FROM ${table} WHERE shop = ?`, [shop]);
        }
        return;
      }
    }
  }
}
