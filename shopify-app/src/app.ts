// The server's composition root: opens the store, builds the engine's parts (invoices, watcher,
// webhook worker, rates), registers the routes of ./http/routes on the router, listens, and stops.
// What each part does lives in its own module; this one only wires them.
import http = require('node:http');
import type { AddressInfo } from 'node:net';
import { findApiKey, syncEnvApiKeys } from './apikeys';
import { Compat, createCompat } from './compat';
import type { Config } from './config';
import { Db, openDb } from './db';
import { createRouter, Route } from './http/router';
import { checkoutAssets, checkoutRoutes } from './http/routes/checkout';
import { compatRoutes } from './http/routes/compat';
import { demoAssets, demoRoutes } from './http/routes/demo';
import { merchantRoutes } from './http/routes/merchant';
import { operationsRoutes } from './http/routes/operations';
import { Invoices } from './invoices';
import { createLogger, Logger } from './log';
import { Rates } from './rates';
import { redactUrl } from './rpc';
import { Watcher } from './watcher';
import { Webhooks } from './webhooks';

export interface App {
  url: string;
  server: http.Server;
  db: Db;
  config: Config;
  invoices: Invoices;
  watcher: Watcher;
  webhooks: Webhooks;
  /** The Epusdt and EPay compatibility layer, when the config has a `compat` section. */
  compat: Compat | null;
  routes: { method: string; path: string; auth: string }[];
  stop(): Promise<void>;
}

export interface AppOptions {
  /** Unix seconds; tests pass a clock that follows the devnet's block time. */
  clock?: () => number;
  logger?: Logger;
  /** Start the watcher and the webhook worker (default true). */
  background?: boolean;
}

/** Starts the server: opens the store, starts the watcher and webhook worker, listens. */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
  const log = options.logger ?? createLogger(config.log);
  const { db, applied } = await openDb(config.database);
  if (applied.length) log.info('database migrated', { versions: applied, kind: db.kind });
  const withdrawn = await syncEnvApiKeys(db, config.bootstrapApiKeys);
  if (withdrawn.length) log.info('API keys no longer in api_keys_env revoked', { keys: withdrawn });
  const rates = new Rates(config.rates, clock, log);
  const invoices = new Invoices(db, config, clock, log, rates);
  const watcher = new Watcher(config, db, invoices, log);
  const webhooks = new Webhooks(config, db, log);
  invoices.changes.on('change', () => webhooks.kick());

  const services = { config, db, invoices, watcher, webhooks, clock, log };
  const routes: Route[] = [...merchantRoutes(services), ...checkoutRoutes(services), ...operationsRoutes(services)];
  const assets = checkoutAssets(config);
  if (config.demo) {
    routes.push(...demoRoutes({ ...services, demo: config.demo }));
    assets.push(...demoAssets);
  }
  // The compatibility protocols' endpoints are not Stablegate's API: served, but not in `routes`
  // (the OpenAPI document's list).
  const compat = config.compat ? createCompat({ ...config, compat: config.compat }, db, invoices, log) : null;
  if (compat) invoices.changes.on('change', () => compat.callbacks.kick());
  const served = compat ? [...routes, ...compatRoutes({ config, log, ...compat })] : routes;
  const server = http.createServer(
    createRouter({ routes: served, assets, findApiKey: (key) => findApiKey(db, key), baseUrl: () => invoices.publicUrl, log }),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  // Without public_url, links name the address the server listens on (config.ts refuses a
  // wildcard listen address without public_url, so this is one a client can reach).
  if (config.publicUrl === null) invoices.publicUrl = url;
  const sweeper = setInterval(() => void invoices.sweep().catch((e) => log.error('sweep failed', { error: (e as Error).message })), 1000);
  if (options.background !== false) {
    watcher.start();
    webhooks.start();
    compat?.callbacks.start();
  }
  log.info('stablegate listening', {
    url,
    database: db.kind,
    networks: config.networks.map((n) => `${n.id} (${n.tokens.join(',')}) via ${n.rpc.map(redactUrl).join(' ')}`),
    demo: config.demo !== null,
  });

  let stopping: Promise<void> | null = null;
  return {
    url,
    server,
    db,
    config,
    invoices,
    watcher,
    webhooks,
    compat,
    routes: routes.map((r) => ({ method: r.method, path: r.path, auth: r.auth })),
    stop() {
      stopping ??= (async () => {
        clearInterval(sweeper);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await watcher.stop();
        await webhooks.stop();
        await compat?.callbacks.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}
