// The Shopify app's parts, built from the server's services when the `shopify` section is
// configured: the library, the shops, the order flow, the actions worker, incoming webhooks, and
// their routes. app.ts adds the routes and starts and stops the worker.
import type { Config, ShopifyConfig } from '../config';
import type { Db } from '../db';
import { shopifyRoutes } from '../http/routes/shopify';
import type { Route } from '../http/router';
import type { Invoices } from '../invoices';
import type { Logger } from '../log';
import type { Watcher } from '../watcher';
import { ShopifyActions } from './actions';
import { createShopify } from './api';
import { ShopifyAuth } from './auth';
import { ShopifyOrders } from './orders';
import { Shops } from './shops';
import { ShopifyWebhooks } from './webhooks';

export interface ShopifyApp {
  shops: Shops;
  orders: ShopifyOrders;
  actions: ShopifyActions;
  webhooks: ShopifyWebhooks;
  routes: Route[];
}

export function createShopifyApp(
  s: { config: Config; db: Db; invoices: Invoices; log: Logger; clock: () => number; watcher?: Watcher },
  shopifyConfig: ShopifyConfig,
  processId: string,
): ShopifyApp {
  const shopify = createShopify(shopifyConfig, s.log);
  const shops = new Shops(s.db, s.config, shopifyConfig, s.clock);
  const services = { ...s, shops, shopify };
  const auth = new ShopifyAuth(shopify, shops, s.log);
  const orders = new ShopifyOrders(services);
  const webhooks = new ShopifyWebhooks(services);
  const actions = new ShopifyActions(services, processId);
  // The watcher watches every installed shop's own receiving addresses with the server's.
  s.watcher?.addAddressSource((network) => shops.receiving(network));
  // A change of any invoice (here, or told by another process) may be a linked order's event.
  s.invoices.changes.on('change', () => actions.kick());
  return { shops, orders, actions, webhooks, routes: shopifyRoutes({ apiKey: shopifyConfig.apiKey, db: s.db, invoices: s.invoices, auth, shops, orders, webhooks }) };
}
