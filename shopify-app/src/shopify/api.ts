// Shopify's own Node library (@shopify/shopify-api), configured from the `shopify` section of the
// configuration: session tokens, token exchange, webhook HMACs and the Admin GraphQL client all go
// through it. The library's Node adapter binds `globalThis.fetch` when it is loaded (here, once).
import { ApiVersion, LogSeverity, shopifyApi, Shopify } from '@shopify/shopify-api';
import type { ShopifyConfig } from '../config';
import type { Logger } from '../log';

// Loaded for its effect (it installs the Node runtime into the library); a plain require so that
// TypeScript does not type-check the library's TypeScript sources this subpath points at.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@shopify/shopify-api/adapters/node');

/**
 * The access scopes the order flow needs, and nothing more (shopify.app.toml says the same; a test
 * keeps the two equal): `read_orders` to find the order and its pending transaction, `write_orders`
 * to capture it, cancel it on expiry and link the invoice on it, `read_customers` to read the
 * order's customer id (only the id), which a signed-in customer's session token must match.
 */
export const SCOPES = ['read_orders', 'write_orders', 'read_customers'];

/** The oldest Admin API version the app's documents are valid in (Order.checkoutToken). */
export const MIN_API_VERSION = '2026-07';

export function createShopify(config: ShopifyConfig, log: Logger): Shopify {
  const url = new URL(config.appUrl);
  const version = Object.values(ApiVersion).find((v) => v === config.apiVersion);
  if (!version) throw new Error(`shopify.api_version ${config.apiVersion} is not one @shopify/shopify-api knows (${Object.values(ApiVersion).join(', ')})`);
  // A guest's order is matched by its checkout token (src/shopify/orders.ts): Order.checkoutToken
  // exists from 2026-07 on; an older version would refuse every order query.
  if (version < MIN_API_VERSION) throw new Error(`shopify.api_version ${config.apiVersion} is too old: the app reads Order.checkoutToken, which Shopify added in ${MIN_API_VERSION}`);
  return shopifyApi({
    apiKey: config.apiKey,
    apiSecretKey: config.apiSecret,
    scopes: SCOPES,
    hostName: url.host,
    hostScheme: url.protocol === 'http:' ? 'http' : 'https',
    apiVersion: version,
    isEmbeddedApp: true,
    logger: {
      level: LogSeverity.Warning,
      // The library's own warnings (a deprecated API version, a retried request) go to our log.
      log: async (severity, message) => {
        if (severity <= LogSeverity.Error) log.error('shopify library', { message });
        else log.warn('shopify library', { message });
      },
    },
  });
}
