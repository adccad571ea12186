// The server's composition root: opens the store, builds the engine's parts (invoices, watcher,
// webhook worker, rates), registers the routes of ./http/routes on the router, listens, and stops.
// What each part does lives in its own module; this one only wires them. Several processes may
// share one PostgreSQL (each watcher and webhook attempt is leased or claimed, changes are fanned
// out by NOTIFY); SQLite serves one process, which holds its lease for as long as it runs.
import http = require('node:http');
import os = require('node:os');
import type { AddressInfo } from 'node:net';
import { findApiKey, syncEnvApiKeys } from './apikeys';
import { Compat, createCompat } from './compat';
import type { Config } from './config';
import { Db, openDb } from './db';
import { createRouter, Route } from './http/router';
import { checkoutAssets, checkoutRoutes } from './http/routes/checkout';
import { compatAdminRoutes, compatRoutes } from './http/routes/compat';
import { consoleRoutes } from './http/routes/console';
import { demoAssets, demoRoutes } from './http/routes/demo';
import { merchantRoutes } from './http/routes/merchant';
import { operationsRoutes } from './http/routes/operations';
import { providerRoutes } from './http/routes/providers';
import { Providers } from './providers/service';
import { Invoices } from './invoices';
import { Notifier } from './notify';
import { holderProcess, Leases } from './lease';
import { createLogger, Logger } from './log';
import { pruneRateLimits } from './ratelimit';
import { Rates } from './rates';
import { createShopifyApp, ShopifyApp } from './shopify';
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
  leases: Leases;
  /** The Epusdt and EPay compatibility layer, when the config has a `compat` section. */
  compat: Compat | null;
  routes: { method: string; path: string; auth: string }[];
  /** The Shopify app's parts, when the `shopify` section is configured (issue 12). */
  shopify: ShopifyApp | null;
  /** The merchant's Telegram and e-mail notifications, when configured (issue 15). */
  notifier: Notifier | null;
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
  const leases = new Leases(db);
  let heartbeat: NodeJS.Timeout | null = null;
  if (db.kind === 'sqlite') {
    try {
      await holdSqlite(leases, config.database.sqlite ?? 'stablegate.db');
    } catch (error) {
      await db.close();
      throw error;
    }
    heartbeat = setInterval(() => void leases.acquire(SQLITE_LEASE, SQLITE_TTL_MS).catch(() => undefined), SQLITE_TTL_MS / 4);
  }
  if (applied.length) log.info('database migrated', { versions: applied, kind: db.kind });
  const withdrawn = await syncEnvApiKeys(db, config.bootstrapApiKeys);
  if (withdrawn.length) log.info('API keys no longer in api_keys_env revoked', { keys: withdrawn });
  const rates = new Rates(config.rates, clock, log);
  const invoices = new Invoices(db, config, clock, log, rates);
  const watcher = new Watcher(config, db, invoices, log, leases);
  const webhooks = new Webhooks(config, db, log, leases.holder);
  // A change made here is told to the other processes; one made there is emitted here as if
  // local (live status streams, the webhook worker), marked remote so it is not told back.
  invoices.changes.on('change', (id: string, remote?: boolean) => {
    webhooks.kick();
    if (!remote && db.kind === 'postgres') void db.publish(CHANGES, `${leases.holder} ${id}`).catch((e) => log.warn('change not published', { error: (e as Error).message }));
  });
  if (db.kind === 'postgres') {
    await db.subscribe(CHANGES, (payload) => {
      const [origin, id] = payload.split(' ');
      if (origin !== leases.holder && id) invoices.changes.emit('change', id, true);
    });
  }

  // ---- providers (issue 16)
  const providers = new Providers(config, db, invoices, log);
  if (providers.enabled().length > 0) invoices.afterCancel = (id) => providers.close(id);
  // ---- end providers
  const services = { config, db, invoices, watcher, webhooks, leases, clock, log, providers: providers.enabled() };
  const routes: Route[] = [...merchantRoutes(services), ...checkoutRoutes(services), ...operationsRoutes(services)];
  // ---- shopify (issue 12)
  const shopify = config.shopify ? createShopifyApp(services, config.shopify, leases.holder) : null;
  if (shopify) routes.push(...shopify.routes);
  // ---- end shopify
  const assets = checkoutAssets(config);
  if (config.demo) {
    routes.push(...demoRoutes({ ...services, demo: config.demo }));
    assets.push(...demoAssets);
  }
  // The compatibility protocols' endpoints are not Stablegate's API: served, but not in `routes`
  // (the OpenAPI document's list).
  const compat = config.compat ? createCompat({ ...config, compat: config.compat }, db, invoices, log) : null;
  if (compat) invoices.changes.on('change', () => compat.callbacks.kick());
  routes.push(...compatAdminRoutes(compat?.callbacks ?? null));
  // The merchant console (issue 15): pages, not the API; served, not in `routes` either.
  const notifier = config.notifications ? new Notifier(config.notifications, db, invoices, watcher, log) : null;
  const merchantConsole = consoleRoutes({ ...services, webhooks, notifier });
  assets.push(...merchantConsole.assets);
  const served = [...(compat ? [...routes, ...compatRoutes({ config, log, ...compat })] : routes), ...merchantConsole.routes];
  if (providers.enabled().length > 0) served.push(...providerRoutes(providers));
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
  const pruner = setInterval(() => void pruneRateLimits(db).catch((e) => log.warn('rate limit prune failed', { error: (e as Error).message })), 60000);
  if (options.background !== false) {
    watcher.start();
    webhooks.start();
    compat?.callbacks.start();
    shopify?.actions.start();
    notifier?.start();
  }
  for (const net of config.networks) {
    if (!net.publicRpc) continue;
    // Said at every start: public endpoints are shared, and a busy shop outgrows them.
    log.info('watching through public RPC endpoints', {
      network: net.id,
      endpoints: net.rpc.map(redactUrl),
      poll_ms: net.pollMs,
      max_range: net.maxRange,
      advice: `shared public endpoints suit a first payment and a quiet shop; for a busy one, add your own under networks.${net.id}.rpc (a provider key or your node); stablegate doctor checks each`,
    });
  }
  log.info('stablegate listening', {
    url,
    process: leases.holder,
    database: db.kind,
    networks: config.networks.map((n) => `${n.id} (${n.tokens.join(',')}) via ${n.publicRpc ? 'public endpoints ' : ''}${n.rpc.map(redactUrl).join(' ')}`),
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
    leases,
    compat,
    routes: routes.map((r) => ({ method: r.method, path: r.path, auth: r.auth })),
    shopify,
    notifier,
    stop() {
      stopping ??= (async () => {
        clearInterval(sweeper);
        clearInterval(pruner);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await watcher.stop();
        await webhooks.stop();
        await compat?.callbacks.stop();
        await shopify?.actions.stop();
        await notifier?.stop();
        if (heartbeat) {
          clearInterval(heartbeat);
          await leases.release(SQLITE_LEASE).catch(() => undefined);
        }
        await db.close();
      })();
      return stopping;
    },
  };
}

/** The channel on which processes sharing a PostgreSQL tell each other of changed invoices. */
const CHANGES = 'stablegate_changes';
const SQLITE_LEASE = 'process:sqlite';
const SQLITE_TTL_MS = 10000;

/** True when `pid` is a live process on this host. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SQLite serves one server process (its watcher and webhook worker assume they are alone): this
 * process takes the database's lease, or stops with a sentence saying who holds it. A holder
 * that is gone (a dead process on this host, or this very pid restarted) is taken over at once.
 */
async function holdSqlite(leases: Leases, file: string): Promise<void> {
  if ((await leases.acquire(SQLITE_LEASE, SQLITE_TTL_MS)) !== null) return;
  const row = await leases.get(SQLITE_LEASE);
  if (row) {
    const { host, pid } = holderProcess(row.holder);
    if (host === os.hostname() && (pid === process.pid || !alive(pid))) {
      if ((await leases.takeOver(SQLITE_LEASE, row.holder, SQLITE_TTL_MS)) !== null) return;
    }
  }
  const who = row ? holderProcess(row.holder) : null;
  throw new Error(
    `another Stablegate server process${who ? ` (pid ${who.pid} on ${who.host})` : ''} is using the SQLite database ${file}. ` +
      'SQLite serves one server process: stop the other one first, or, to run several processes, use PostgreSQL for all of them (database.url_env names the variable holding its URL).',
  );
}
