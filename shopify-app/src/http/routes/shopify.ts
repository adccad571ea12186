// The Shopify app's routes (only when the `shopify` section is configured). Each one verifies
// who calls before anything else (a session token, or a webhook's HMAC) and acts on that caller's
// shop only; the work is in src/shopify/.
import { ApiError, invalid } from '../../errors';
import type { ShopifyAuth } from '../../shopify/auth';
import { bearer } from '../../shopify/auth';
import type { ShopifyOrders } from '../../shopify/orders';
import type { Shops } from '../../shopify/shops';
import type { ShopifyWebhooks } from '../../shopify/webhooks';
import type { Db } from '../../db';
import type { Invoices } from '../../invoices';
import { frameAncestors, settingsPage } from '../../shopify/page';
import type { ShopifyOrderRow } from '../../shopify/orders';
import { CORS, readRawBody, Route, send } from '../router';

/** Shopify's order webhooks carry the whole order: more than the API's 64 KB. */
const WEBHOOK_MAX_BYTES = 5 * 1024 * 1024;

export interface ShopifyServices {
  /** The app's client id (public: the embedded page names it for App Bridge). */
  apiKey: string;
  db: Db;
  invoices: Invoices;
  auth: ShopifyAuth;
  shops: Shops;
  orders: ShopifyOrders;
  webhooks: ShopifyWebhooks;
}

export function shopifyRoutes({ apiKey, db, invoices, auth, shops, orders, webhooks }: ShopifyServices): Route[] {
  return [
    {
      // The embedded settings page (the app's URL in shopify.app.toml). No token yet: Shopify
      // loads it in the admin's iframe, and its script asks App Bridge for one.
      method: 'GET',
      path: '/shopify',
      auth: 'public',
      handler: async (ctx) => {
        ctx.res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': frameAncestors(ctx.query.get('shop')),
        });
        ctx.res.end(settingsPage(apiKey, ctx.baseUrl));
      },
    },
    {
      // The checkout and customer-account extensions: the order's invoice (created the first time).
      method: 'POST',
      path: '/shopify/api/checkout',
      auth: 'public',
      handler: async (ctx) => {
        const { shop, subject } = await auth.extension(ctx.req);
        // The token's customer, when it names one (a signed-in customer): only their orders; a
        // guest's request names its checkout (`checkout_token`), checked in orders.checkout.
        const customer = subject && subject.startsWith('gid://shopify/Customer/') ? subject : null;
        send(ctx.res, 200, await orders.checkout(shop, await ctx.body(), ctx.baseUrl, customer), CORS);
      },
    },
    {
      // The embedded settings page reads the shop's settings (and installs the shop the first time).
      method: 'GET',
      path: '/shopify/api/settings',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        send(ctx.res, 200, { shop, settings: await shops.settings(shop), server: shops.offer() });
      },
    },
    {
      method: 'POST',
      path: '/shopify/api/settings',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        send(ctx.res, 200, { shop, settings: await shops.updateSettings(shop, await ctx.body()), server: shops.offer() });
      },
    },
    {
      // The shop's payments waiting for the merchant's review (the embedded page's queue).
      method: 'GET',
      path: '/shopify/api/reviews',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        const rows = await db.all<ShopifyOrderRow>(
          `SELECT o.* FROM shopify_orders o JOIN invoices i ON i.id = o.invoice_id WHERE o.shop = ? AND i.exception = 'needs_review' ORDER BY o.created_at LIMIT 200`,
          [shop],
        );
        const data = [];
        for (const row of rows) {
          const { invoice } = orders.answer(row, await invoices.require(row.invoice_id), ctx.baseUrl);
          data.push({ order_id: row.order_id, order_name: row.order_name, invoice_id: invoice.id, state: invoice.state, amount_due: invoice.amount_due, amount_paid: invoice.amount_paid, pay_url: invoice.pay_url });
        }
        send(ctx.res, 200, { data });
      },
    },
    {
      // Accepts or rejects a review of one of the shop's own invoices (never another shop's).
      method: 'POST',
      path: '/shopify/api/reviews/resolve',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        const body = (await ctx.body()) as Record<string, unknown>;
        const invoiceId = typeof body?.invoice_id === 'string' ? body.invoice_id : null;
        if (invoiceId === null) throw invalid('invoice_id', "must be the invoice's id from GET /shopify/api/reviews");
        const link = await orders.byInvoice(invoiceId);
        if (!link || link.shop !== shop) throw new ApiError('invoice_not_found', `${shop} has no invoice ${invoiceId}`, 'invoice_id');
        const row = await invoices.resolveReview(invoiceId, { decision: body.decision, note: body.note }, ctx.baseUrl);
        send(ctx.res, 200, orders.answer(link, row, ctx.baseUrl));
      },
    },
    {
      // customers/data_request exports of the shop, for the merchant to answer the customer.
      method: 'GET',
      path: '/shopify/api/data-requests',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        const rows = await db.all<{ id: string; customer_id: string | null; export: string; created_at: number }>(
          `SELECT id, customer_id, export, created_at FROM shopify_data_requests WHERE shop = ? ORDER BY created_at DESC LIMIT 100`,
          [shop],
        );
        send(ctx.res, 200, { data: rows.map((r) => ({ id: r.id, customer_id: r.customer_id, created_at: r.created_at, ...JSON.parse(r.export) })) });
      },
    },
    {
      // Every topic of shopify.app.toml, told apart by X-Shopify-Topic.
      method: 'POST',
      path: '/shopify/webhooks',
      auth: 'public',
      handler: async (ctx) => {
        const rawBody = await readRawBody(ctx.req, WEBHOOK_MAX_BYTES, 'the webhook body');
        const answer = await webhooks.receive(ctx.req, ctx.res, rawBody, ctx.baseUrl);
        send(ctx.res, answer.status, answer.body);
      },
    },
  ];
}
