// The Shopify app's routes (only when the `shopify` section is configured). Each one verifies
// who calls before anything else (a session token, or a webhook's HMAC) and acts on that caller's
// shop only; the work is in src/shopify/.
import { ApiError } from '../../errors';
import type { ShopifyAuth } from '../../shopify/auth';
import { bearer } from '../../shopify/auth';
import type { ShopifyOrders } from '../../shopify/orders';
import type { Shops } from '../../shopify/shops';
import type { ShopifyWebhooks } from '../../shopify/webhooks';
import type { Db } from '../../db';
import { CORS, Route, send } from '../router';

/** Shopify's order webhooks carry the whole order: more than the API's 64 KB. */
const WEBHOOK_MAX_BYTES = 5 * 1024 * 1024;

export interface ShopifyServices {
  db: Db;
  auth: ShopifyAuth;
  shops: Shops;
  orders: ShopifyOrders;
  webhooks: ShopifyWebhooks;
}

export function shopifyRoutes({ db, auth, shops, orders, webhooks }: ShopifyServices): Route[] {
  return [
    {
      // The checkout and customer-account extensions: the order's invoice (created the first time).
      method: 'POST',
      path: '/shopify/api/checkout',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.extension(ctx.req);
        const body = (await ctx.body()) as Record<string, unknown>;
        send(ctx.res, 200, await orders.checkout(shop, body?.order_id, ctx.baseUrl), CORS);
      },
    },
    {
      // The embedded settings page reads the shop's settings (and installs the shop the first time).
      method: 'GET',
      path: '/shopify/api/settings',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        send(ctx.res, 200, { shop, settings: await shops.settings(shop) });
      },
    },
    {
      method: 'POST',
      path: '/shopify/api/settings',
      auth: 'public',
      handler: async (ctx) => {
        const { shop } = await auth.admin(bearer(ctx.req));
        send(ctx.res, 200, { shop, settings: await shops.updateSettings(shop, await ctx.body()) });
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
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of ctx.req) {
          size += (chunk as Buffer).length;
          if (size > WEBHOOK_MAX_BYTES) throw new ApiError('body_too_large', 'the webhook body is over 5 MB', 'body');
          chunks.push(chunk as Buffer);
        }
        const answer = await webhooks.receive(ctx.req, ctx.res, Buffer.concat(chunks).toString('utf8'), ctx.baseUrl);
        send(ctx.res, answer.status, answer.body);
      },
    },
  ];
}
