// The server's one configuration file (JSON), with secrets taken from environment variables.
// Every check here is about the shape of the file; whether addresses and RPCs are right on chain
// is `stablegate doctor`'s job.
import type { BinanceConfig } from './providers/binance';
import { NOWPAYMENTS_SANDBOX_URL, NOWPAYMENTS_URL } from './providers/nowpayments';
import type { NowPaymentsConfig } from './providers/nowpayments';
import { Secret } from './providers/provider';
import fs = require('node:fs');
import net = require('node:net');
import path = require('node:path');
import sg = require('./core');
import { network as registryNetwork, token as registryToken } from './registry';
import type { WatchSettings } from '../../crates/wasm/pkg/node/stablegate_wasm';

export interface NetworkConfig {
  /** Network id of the core's registry. */
  id: string;
  /** Token ids to accept on this network (the registry's default token when absent). */
  tokens: string[];
  /** The merchant's receiving addresses, in the pool order (display form). */
  addresses: string[];
  /** JSON-RPC URLs, tried in order; the watcher fails over between them. */
  rpc: string[];
  /**
   * True when the merchant named no RPC and these are the registry's public endpoints: the core
   * then bounds pollMs, maxRange and maxBatch by their documented limits (watch::watch_settings).
   */
  publicRpc: boolean;
  /** Most calls in one JSON-RPC batch (an endpoint's documented limit); null for no limit. */
  maxBatch: number | null;
  /** Milliseconds between polls. */
  pollMs: number;
  /** Largest eth_getLogs block range to ask for (halved automatically when a provider refuses). */
  maxRange: number;
  /**
   * Most blocks scanned per poll while catching up after downtime: the merchant's
   * max_blocks_per_poll, and with public endpoints at most the core's pace (logRequests ×
   * maxRange), so a catch-up takes several polls instead of a burst.
   */
  maxBlocksPerPoll: number;
  /** The merchant's max_blocks_per_poll: past it, a catch-up skips blocks before the oldest watched invoice. */
  backfillBlocks: number;
  /** HTTP requests one poll may make (the core's pace for public endpoints); null for no limit. */
  requestsPerPoll: number | null;
  /** eth_getLogs requests one poll may make (the core's pace for public endpoints); null for no limit. */
  logRequests: number | null;
  /** Batches of block headers one poll may make (the core's pace for public endpoints); null for no limit. */
  headerRequests: number | null;
  /**
   * Extra safety on top of the registry's finality policy: a transfer also needs this many
   * confirmations (0: the registry's policy alone). It can only make finality stricter.
   */
  minConfirmations: number;
}

export interface RateConfig {
  currency: string;
  /** A fixed rate (USDT per unit of the currency), as a decimal string. */
  fixed?: string;
  /** Or a source: a URL returning JSON and a dotted path to the rate in it. */
  url?: string;
  path?: string;
  /** The source quotes the currency per USDT (7.12 CNY): the rate is its inverse. */
  invert?: boolean;
  /** Seconds after which a fetched rate is too old to price an invoice. */
  maxAge: number;
}

export interface WebhookEndpoint {
  name: string;
  url: string;
  secret: string;
  /** Allows loopback and private addresses (refused by default against SSRF). */
  allowPrivate: boolean;
}

/** The Epusdt and EPay compatibility endpoints (src/compat/); absent from the file, they are off. */
export interface CompatConfig {
  /** The environment variable holding the key material that encrypts the credentials' secrets. */
  encryptionKeyEnv: string;
  encryptionKey: string;
  /** The fiat currency of a request that names none (both protocols price in CNY by default). */
  currency: string;
  callbacks: {
    retrySchedule: number[];
    timeoutMs: number;
    pollMs: number;
    /** Extra CA certificates (PEM) trusted for https notify URLs, beside the system's: a panel behind a private CA. */
    caFile: string | null;
  };
}

export interface Config {
  file: string | null;
  listen: { host: string; port: number };
  /** The base URL customers and merchants reach the server at (links in documents). */
  publicUrl: string | null;
  database: { sqlite?: string; url?: string };
  networks: NetworkConfig[];
  invoice: {
    expiresIn: number;
    monitoring: number;
    step: string;
    precision: string;
    tolerance: string;
    maxSlots: number;
  };
  rates: RateConfig[];
  webhooks: { endpoints: WebhookEndpoint[]; retrySchedule: number[]; pollMs: number; timeoutMs: number };
  /** Claim rate limits; behind `trustedProxies` the client is read from X-Forwarded-For. */
  claims: {
    perInvoicePerMinute: number;
    perClientPerMinute: number;
    trustedProxies: string[];
    /** USDT: claims of transfers up to this amount credit without review ("0": every claim the
     *  claimer cannot be shown to own goes to the merchant's review, DESIGN §5). */
    autoAcceptUpTo: string;
  };
  /** Present only in demo mode: the unlocked devnet account that "pays from the demo wallet". */
  demo: { wallet: string } | null;
  /** True on a sandbox (`stablegate init --sandbox`): test networks only, test money; `/health`,
   *  the console and the pay page say so. */
  sandbox: boolean;
  /** Where the widget's files are (crates/wasm/pkg/widget by default). */
  widgetDir: string;
  /** Log format: JSON lines, or short lines for a person watching the terminal. */
  log: 'json' | 'pretty' | 'silent';
  /** API keys from the environment, hashed into the store at start (bootstrap). */
  bootstrapApiKeys: string[];
  compat: CompatConfig | null;
  /** The Shopify app (src/shopify/); null when not configured: the server runs standalone. */
  shopify: ShopifyConfig | null;
  /** The merchant's notifications (src/notify.ts); null when not configured. */
  notifications: NotificationsConfig | null;
  /** Hosted providers (issue 16), each null unless configured. */
  providers: ProvidersConfig;
}

// ---- providers (issue 16): secrets only from environment variables, masked wherever shown.
export interface ProvidersConfig {
  binance: BinanceConfig | null;
  nowpayments: NowPaymentsConfig | null;
}

function providersSection(raw: unknown, env: NodeJS.ProcessEnv): ProvidersConfig {
  if (raw === undefined) return { binance: null, nowpayments: null };
  if (!isObject(raw)) throw new ConfigError('providers', 'must be an object with binance and/or nowpayments');
  for (const key of Object.keys(raw)) {
    if (key !== 'binance' && key !== 'nowpayments') throw new ConfigError(`providers.${key}`, 'is not a provider (binance, nowpayments)');
  }
  const section = (name: string, keys: string[]): Json | null => {
    const value = raw[name];
    if (value === undefined) return null;
    if (!isObject(value)) throw new ConfigError(`providers.${name}`, 'must be an object');
    for (const key of Object.keys(value)) if (!keys.includes(key)) throw new ConfigError(`providers.${name}.${key}`, 'is not a setting of this provider');
    return value;
  };
  const b = section('binance', ['api_key_env', 'api_secret_env', 'base_url', 'timeout_ms', 'cert_refresh_ms']);
  const n = section('nowpayments', ['api_key_env', 'ipn_secret_env', 'sandbox', 'base_url', 'price_currency', 'timeout_ms']);
  if (n && n.sandbox !== undefined && typeof n.sandbox !== 'boolean') throw new ConfigError('providers.nowpayments.sandbox', 'must be true or false');
  return {
    binance: b && {
      apiKey: new Secret(secretFromEnv(b, 'api_key_env', 'providers.binance', env)),
      apiSecret: new Secret(secretFromEnv(b, 'api_secret_env', 'providers.binance', env)),
      // No sandbox exists for Binance Pay's merchant API; base_url is for tests' fakes.
      baseUrl: str(b, 'base_url', 'providers.binance', 'https://bpay.binanceapi.com'),
      timeoutMs: int(b, 'timeout_ms', 'providers.binance', 8000, 100),
      certRefreshMs: int(b, 'cert_refresh_ms', 'providers.binance', 60000, 0),
    },
    nowpayments: n && {
      apiKey: new Secret(secretFromEnv(n, 'api_key_env', 'providers.nowpayments', env)),
      ipnSecret: new Secret(secretFromEnv(n, 'ipn_secret_env', 'providers.nowpayments', env).trim()),
      baseUrl: str(n, 'base_url', 'providers.nowpayments', n.sandbox === true ? NOWPAYMENTS_SANDBOX_URL : NOWPAYMENTS_URL),
      priceCurrency: str(n, 'price_currency', 'providers.nowpayments', 'usdttrc20'),
      timeoutMs: int(n, 'timeout_ms', 'providers.nowpayments', 8000, 100),
    },
  };
}

// ---- notifications (issue 15): Telegram and e-mail for the merchant.
export type NotificationKind = 'settled' | 'needs_review' | 'unmatched' | 'watcher_lag' | 'dead_letter';
export const NOTIFICATION_KINDS: NotificationKind[] = ['settled', 'needs_review', 'unmatched', 'watcher_lag', 'dead_letter'];

export interface NotificationsConfig {
  /** Telegram Bot API: the bot's token (a secret, from the environment) and the chat to write to. */
  telegram: { botToken: string; chatId: string; apiUrl: string } | null;
  /** SMTP: where to connect and who writes to whom; user and password from the environment. */
  email: { host: string; port: number; secure: boolean; user: string | null; password: string | null; from: string; to: string[] } | null;
  kinds: NotificationKind[];
  /** Blocks between the head and a watcher's cursor that count as lagging. */
  watcherLagBlocks: number;
  /** How often the causes are looked for (they are also looked for at once after each change). */
  checkMs: number;
  language: 'en' | 'zh-CN';
}

function notificationsSection(raw: unknown, env: NodeJS.ProcessEnv): NotificationsConfig | null {
  if (raw === undefined) return null;
  if (!isObject(raw)) throw new ConfigError('notifications', 'must be an object');
  let telegram: NotificationsConfig['telegram'] = null;
  if (raw.telegram !== undefined) {
    if (!isObject(raw.telegram)) throw new ConfigError('notifications.telegram', 'must be an object');
    const t = raw.telegram;
    const chatId = typeof t.chat_id === 'number' && Number.isSafeInteger(t.chat_id) ? String(t.chat_id) : str(t, 'chat_id', 'notifications.telegram');
    if (!/^(-?[0-9]+|@[A-Za-z0-9_]{5,})$/.test(chatId)) throw new ConfigError('notifications.telegram.chat_id', 'must be a chat id like -1001234567890 or a channel name like @mychannel');
    const botToken = secretFromEnv(t, 'bot_token_env', 'notifications.telegram', env);
    if (!/^[0-9]+:[A-Za-z0-9_-]+$/.test(botToken)) throw new ConfigError('notifications.telegram.bot_token_env', 'the token must look like 123456:ABC-DEF… (as @BotFather gives it)');
    telegram = { botToken, chatId, apiUrl: httpUrl(str(t, 'api_url', 'notifications.telegram', 'https://api.telegram.org'), 'notifications.telegram.api_url').replace(/\/$/, '') };
  }
  let email: NotificationsConfig['email'] = null;
  if (raw.email !== undefined) {
    if (!isObject(raw.email)) throw new ConfigError('notifications.email', 'must be an object');
    const e = raw.email;
    const to = e.to;
    if (!Array.isArray(to) || to.length === 0 || to.some((x) => typeof x !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(x))) {
      throw new ConfigError('notifications.email.to', 'must be a list of e-mail addresses');
    }
    const from = str(e, 'from', 'notifications.email');
    if (!/^[^@\s]+@[^@\s]+$/.test(from)) throw new ConfigError('notifications.email.from', 'must be an e-mail address');
    const port = int(e, 'port', 'notifications.email', 587, 1);
    email = {
      host: str(e, 'host', 'notifications.email'),
      port,
      secure: e.secure === undefined ? port === 465 : e.secure === true,
      user: e.user_env === undefined ? null : secretFromEnv(e, 'user_env', 'notifications.email', env),
      password: e.password_env === undefined ? null : secretFromEnv(e, 'password_env', 'notifications.email', env),
      from,
      to: to as string[],
    };
  }
  if (!telegram && !email) throw new ConfigError('notifications', 'needs a "telegram" or an "email" section (or remove it)');
  const kinds = raw.kinds === undefined ? NOTIFICATION_KINDS : raw.kinds;
  if (!Array.isArray(kinds) || kinds.some((k) => !NOTIFICATION_KINDS.includes(k as NotificationKind))) {
    throw new ConfigError('notifications.kinds', `must be a list of ${NOTIFICATION_KINDS.join(', ')}`);
  }
  const language = raw.language ?? 'en';
  if (language !== 'en' && language !== 'zh-CN') throw new ConfigError('notifications.language', 'must be "en" or "zh-CN"');
  return {
    telegram,
    email,
    kinds: kinds as NotificationKind[],
    watcherLagBlocks: int(raw, 'watcher_lag_blocks', 'notifications', 100, 1),
    checkMs: int(raw, 'check_ms', 'notifications', 10000, 10),
    language,
  };
}
// ---- end notifications

// ---- shopify (issue 12): the app's credentials and what a newly installed shop starts with.
export interface ShopifyConfig {
  /** The app's client id, and its secret: it signs session tokens and webhooks, and keys the stored tokens. */
  apiKey: string;
  apiSecret: string;
  /** The URL Shopify loads the embedded page from and the extension calls (`public_url` by default). */
  appUrl: string;
  /** Admin API version of every request, 2026-07 or later (the fake in the tests checks against 2026-07). */
  apiVersion: string;
  /** A newly installed shop's settings until the merchant changes them on the settings page. */
  defaults: { paymentMethod: string; onExpiry: 'cancel' | 'leave' };
}

const SHOPIFY_API_VERSION = /^20[0-9]{2}-(01|04|07|10)$/;

/**
 * The Shopify API version of the app: the Admin API requests and the webhooks (shopify.app.toml's
 * [webhooks] api_version says the same; a test fails if the two differ).
 */
export const SHOPIFY_API_VERSION_DEFAULT = '2026-07';

function shopifySection(raw: unknown, env: NodeJS.ProcessEnv, publicUrl: string | null): ShopifyConfig | null {
  if (raw === undefined) return null;
  if (!isObject(raw)) throw new ConfigError('shopify', 'must be an object');
  const appUrl = raw.app_url === undefined ? publicUrl : httpUrl(str(raw, 'app_url', 'shopify'), 'shopify.app_url').replace(/\/$/, '');
  if (appUrl === null) throw new ConfigError('shopify.app_url', 'is required without public_url: the https URL Shopify reaches this server at');
  const apiVersion = str(raw, 'api_version', 'shopify', SHOPIFY_API_VERSION_DEFAULT);
  if (!SHOPIFY_API_VERSION.test(apiVersion)) throw new ConfigError('shopify.api_version', `must be a Shopify API version like "2026-07", got ${JSON.stringify(apiVersion)}`);
  const onExpiry = str(raw, 'on_expiry', 'shopify', 'cancel');
  if (onExpiry !== 'cancel' && onExpiry !== 'leave') throw new ConfigError('shopify.on_expiry', 'must be "cancel" (cancel the order and restock) or "leave" (leave it pending)');
  const paymentMethod = str(raw, 'payment_method', 'shopify', 'USDT');
  if (paymentMethod.length > 100) throw new ConfigError('shopify.payment_method', 'must be at most 100 characters');
  return {
    apiKey: secretFromEnv(raw, 'api_key_env', 'shopify', env),
    apiSecret: secretFromEnv(raw, 'api_secret_env', 'shopify', env),
    appUrl,
    apiVersion,
    defaults: { paymentMethod, onExpiry },
  };
}
// ---- end shopify

export class ConfigError extends Error {
  constructor(readonly key: string, message: string) {
    super(`config ${key}: ${message}`);
  }
}

type Json = Record<string, unknown>;

const DEFAULT_SCHEDULE = [10, 60, 300, 1800, 7200, 21600, 86400];
// EPay's own retry intervals (about 1 min, 3 min, 20 min, 1 h, 2 h), which panels are used to.
const COMPAT_SCHEDULE = [60, 180, 1200, 3600, 7200];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function int(obj: Json, key: string, where: string, fallback: number, min = 0): number {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${where}.${key}`, `must be a whole number of at least ${min}`);
  }
  return value;
}

function str(obj: Json, key: string, where: string, fallback?: string): string {
  const value = obj[key];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${where}.${key}`, 'must be a non-empty string');
  return value;
}

/** A plain decimal string ("19.99"): no sign, no exponent, no leading zeros. */
export const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function decimal(obj: Json, key: string, where: string, fallback: string): string {
  const value = str(obj, key, where, fallback);
  if (!DECIMAL.test(value)) {
    throw new ConfigError(`${where}.${key}`, `must be a decimal string like "0.01", got ${JSON.stringify(value)}`);
  }
  return value;
}

function secretFromEnv(obj: Json, key: string, where: string, env: NodeJS.ProcessEnv): string {
  const name = str(obj, key, where);
  const secret = env[name];
  if (!secret) throw new ConfigError(`${where}.${key}`, `environment variable ${name} is not set`);
  return secret;
}

function schedule(obj: Json, where: string, fallback: number[]): number[] {
  const s = obj.retry_schedule;
  if (s === undefined) return fallback;
  if (!Array.isArray(s) || s.some((x) => typeof x !== 'number' || !(x >= 0))) throw new ConfigError(`${where}.retry_schedule`, 'must be a list of seconds');
  return s as number[];
}

function compatSection(raw: unknown, env: NodeJS.ProcessEnv, base: string): CompatConfig | null {
  if (raw === undefined) return null;
  if (!isObject(raw)) throw new ConfigError('compat', 'must be an object');
  const encryptionKey = secretFromEnv(raw, 'encryption_key_env', 'compat', env);
  if (encryptionKey.length < 32) throw new ConfigError('compat.encryption_key_env', 'the key must be at least 32 characters (e.g. `openssl rand -hex 32`)');
  const currency = str(raw, 'currency', 'compat', 'CNY');
  if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError('compat.currency', 'must be a three-letter ISO 4217 code like "CNY"');
  const callbacks = isObject(raw.callbacks) ? raw.callbacks : {};
  return {
    encryptionKeyEnv: str(raw, 'encryption_key_env', 'compat'),
    encryptionKey,
    currency,
    callbacks: {
      retrySchedule: schedule(callbacks, 'compat.callbacks', COMPAT_SCHEDULE),
      timeoutMs: int(callbacks, 'timeout_ms', 'compat.callbacks', 10000, 100),
      pollMs: int(callbacks, 'poll_ms', 'compat.callbacks', 1000, 10),
      caFile: callbacks.ca_file === undefined ? null : path.resolve(base, str(callbacks, 'ca_file', 'compat.callbacks')),
    },
  };
}

function httpUrl(value: string, key: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(key, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(key, 'must be an http(s) URL');
  return value;
}

/** Reads and checks the configuration; `env` supplies the secrets (`*_env` keys name variables). */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError('file', `cannot read ${file}: ${(error as Error).message}`);
  }
  return parseConfig(raw, env, path.resolve(file));
}

/** Checks a parsed configuration object (see loadConfig). */
/**
 * A network's transport settings from the core's watch::watch_settings: where, how often, how
 * much per request, and (public endpoints) how a poll paces itself, with the merchant's
 * max_blocks_per_poll as the widest catch-up per poll.
 */
export function watchConfig(settings: WatchSettings, maxBlocksPerPoll: number) {
  const pace = settings.pace;
  return {
    rpc: settings.rpc,
    publicRpc: settings.public,
    maxBatch: settings.max_batch === null ? null : Number(settings.max_batch),
    pollMs: Number(settings.poll_ms),
    maxRange: Number(settings.max_range),
    maxBlocksPerPoll: pace ? Math.min(maxBlocksPerPoll, Number(pace.max_blocks)) : maxBlocksPerPoll,
    backfillBlocks: maxBlocksPerPoll,
    requestsPerPoll: pace ? Number(pace.requests) : null,
    logRequests: pace ? Number(pace.log_requests) : null,
    headerRequests: pace ? Number(pace.header_requests) : null,
  };
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env, file: string | null = null): Config {
  if (!isObject(raw)) throw new ConfigError('(root)', 'must be a JSON object');
  const base = file ? path.dirname(file) : process.cwd();

  const listenRaw = isObject(raw.listen) ? raw.listen : {};
  const listen = { host: str(listenRaw, 'host', 'listen', '127.0.0.1'), port: int(listenRaw, 'port', 'listen', 8080) };
  const publicUrl = raw.public_url === undefined ? null : httpUrl(str(raw, 'public_url', ''), 'public_url').replace(/\/$/, '');
  // Without public_url the links name the listen address (never a request's Host header); a
  // wildcard address names no host a customer can reach.
  if (publicUrl === null && ['0.0.0.0', '::', '[::]'].includes(listen.host)) {
    throw new ConfigError('public_url', `is required when listen.host is ${listen.host}: set it to the URL customers reach this server at`);
  }

  const dbRaw = isObject(raw.database) ? raw.database : {};
  const database: Config['database'] = {};
  if (dbRaw.url_env !== undefined) {
    database.url = secretFromEnv(dbRaw, 'url_env', 'database', env);
  } else {
    const file = str(dbRaw, 'sqlite', 'database', 'stablegate.db');
    database.sqlite = file === ':memory:' ? file : path.resolve(base, file);
  }

  if (!isObject(raw.networks) || Object.keys(raw.networks).length === 0) {
    throw new ConfigError('networks', 'must name at least one network, e.g. {"tron": {...}}');
  }
  const networks: NetworkConfig[] = Object.entries(raw.networks).map(([id, value]) => {
    const where = `networks.${id}`;
    const net = registryNetwork(id);
    if (!net) throw new ConfigError(where, `unknown network (known: ${sg.networks().map((n) => n.id).join(', ')})`);
    if (!isObject(value)) throw new ConfigError(where, 'must be an object');
    const tokens = value.tokens === undefined ? [net.tokens[0].id] : value.tokens;
    if (!Array.isArray(tokens) || tokens.length === 0) throw new ConfigError(`${where}.tokens`, 'must be a non-empty list');
    for (const t of tokens) {
      if (typeof t !== 'string' || !registryToken(id, t)) {
        throw new ConfigError(`${where}.tokens`, `unknown token ${JSON.stringify(t)} (known: ${net.tokens.map((x) => x.id).join(', ')})`);
      }
    }
    const addresses = value.addresses;
    if (!Array.isArray(addresses) || addresses.length === 0) {
      throw new ConfigError(`${where}.addresses`, 'must list at least one receiving address');
    }
    const parsed = addresses.map((a, i) => {
      try {
        return sg.parseAddress(id, String(a)).address;
      } catch (error) {
        throw new ConfigError(`${where}.addresses[${i}]`, `is not a ${id} address: ${(error as Error).message}`);
      }
    });
    // Without rpc (or rpc_env), the registry's public endpoints: a merchant who pastes only an
    // address is watching the chain. The core decides the poll interval, range and batch size
    // that their documented limits allow.
    let rpc = value.rpc ?? [];
    if (typeof rpc === 'string') rpc = [rpc];
    if (value.rpc_env !== undefined) rpc = secretFromEnv(value, 'rpc_env', where, env).split(/[\s,]+/).filter(Boolean);
    if (!Array.isArray(rpc)) throw new ConfigError(`${where}.rpc`, 'must be a list of JSON-RPC URLs (or leave it out to use the public endpoints)');
    const own = rpc.map((u, i) => httpUrl(String(u), `${where}.rpc[${i}]`));
    const pollMs = value.poll_ms === undefined ? null : int(value, 'poll_ms', where, 3000, 50);
    const maxRange = value.max_range === undefined ? null : int(value, 'max_range', where, 2000, 1);
    const settings = sg.watchSettings(id, { rpc: own, poll_ms: pollMs === null ? null : String(pollMs), max_range: maxRange === null ? null : String(maxRange) });
    if (settings.rpc.length === 0) throw new ConfigError(`${where}.rpc`, `${id} has no public endpoint: list at least one JSON-RPC URL`);
    return {
      id,
      tokens: tokens as string[],
      addresses: parsed,
      ...watchConfig(settings, int(value, 'max_blocks_per_poll', where, 20000, 1)),
      minConfirmations: int(value, 'min_confirmations', where, 0, 0),
    };
  });

  const inv = isObject(raw.invoice) ? raw.invoice : {};
  const invoice = {
    expiresIn: int(inv, 'expires_in', 'invoice', 900, 1),
    monitoring: int(inv, 'monitoring', 'invoice', 86400, 0),
    step: decimal(inv, 'step', 'invoice', '0.01'),
    precision: decimal(inv, 'precision', 'invoice', '0.01'),
    tolerance: decimal(inv, 'tolerance', 'invoice', '0'),
    maxSlots: int(inv, 'max_slots', 'invoice', 100, 1),
  };
  for (const net of networks) {
    for (const t of net.tokens) {
      for (const key of ['step', 'precision', 'tolerance'] as const) {
        try {
          sg.toBaseUnits(net.id, invoice[key], t);
        } catch (error) {
          throw new ConfigError(`invoice.${key}`, `does not fit ${net.id} ${t}: ${(error as Error).message}`);
        }
      }
    }
  }

  const rates: RateConfig[] = [];
  if (raw.rates !== undefined) {
    if (!isObject(raw.rates)) throw new ConfigError('rates', 'must be an object keyed by currency code');
    for (const [currency, value] of Object.entries(raw.rates)) {
      const where = `rates.${currency}`;
      if (!/^[A-Z]{3}$/.test(currency)) throw new ConfigError(where, 'currency codes are three capital letters (ISO 4217)');
      if (!isObject(value)) throw new ConfigError(where, 'must be an object');
      if (value.fixed !== undefined) {
        rates.push({ currency, fixed: decimal(value, 'fixed', where, ''), maxAge: 0 });
      } else {
        const url = httpUrl(str(value, 'url', where), `${where}.url`);
        // A rate read in clear could be changed on the way: plain http only to this machine.
        const { protocol, hostname } = new URL(url);
        if (protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
          throw new ConfigError(`${where}.url`, 'must be an https:// URL (plain http:// only to 127.0.0.1 or localhost)');
        }
        if (value.invert !== undefined && typeof value.invert !== 'boolean') throw new ConfigError(`${where}.invert`, 'must be true or false');
        rates.push({
          currency,
          url,
          path: str(value, 'path', where),
          invert: value.invert === true,
          maxAge: int(value, 'max_age', where, 300, 1),
        });
      }
    }
  }

  const hooksRaw = isObject(raw.webhooks) ? raw.webhooks : {};
  const endpointsRaw = hooksRaw.endpoints === undefined ? [] : hooksRaw.endpoints;
  if (!Array.isArray(endpointsRaw)) throw new ConfigError('webhooks.endpoints', 'must be a list');
  const endpoints = endpointsRaw.map((e, i): WebhookEndpoint => {
    const where = `webhooks.endpoints[${i}]`;
    if (!isObject(e)) throw new ConfigError(where, 'must be an object');
    return {
      name: str(e, 'name', where, `endpoint${i + 1}`),
      url: httpUrl(str(e, 'url', where), `${where}.url`),
      secret: secretFromEnv(e, 'secret_env', where, env),
      allowPrivate: e.allow_private === true,
    };
  });
  endpoints.forEach((e, i) => {
    // Deliveries are keyed by (event, endpoint name).
    if (endpoints.findIndex((x) => x.name === e.name) !== i) {
      throw new ConfigError(`webhooks.endpoints[${i}].name`, `${JSON.stringify(e.name)} is already the name of another endpoint`);
    }
  });
  const retrySchedule = schedule(hooksRaw, 'webhooks', DEFAULT_SCHEDULE);

  const claimsRaw = isObject(raw.claims) ? raw.claims : {};
  const proxiesRaw = claimsRaw.trusted_proxies ?? [];
  if (!Array.isArray(proxiesRaw)) throw new ConfigError('claims.trusted_proxies', 'must be a list of IP addresses');
  const trustedProxies = proxiesRaw.map((p, i) => {
    if (typeof p !== 'string' || !net.isIP(p)) throw new ConfigError(`claims.trusted_proxies[${i}]`, `must be an IP address, got ${JSON.stringify(p)}`);
    return p;
  });
  const demoRaw = raw.demo;
  let demo: Config['demo'] = null;
  if (demoRaw !== undefined) {
    if (!isObject(demoRaw)) throw new ConfigError('demo', 'must be an object');
    demo = { wallet: sg.parseAddress('devnet', str(demoRaw, 'wallet', 'demo')).address };
    if (networks.some((n) => !n.id.startsWith('devnet'))) {
      throw new ConfigError('demo', 'demo mode sends tokens from an unlocked devnet account; it only runs with devnet networks');
    }
  }
  const sandbox = raw.sandbox === undefined ? false : raw.sandbox;
  if (typeof sandbox !== 'boolean') throw new ConfigError('sandbox', 'must be true or false');
  const mainnets = networks.filter((n) => !registryNetwork(n.id)?.testnet).map((n) => n.id);
  if (sandbox && mainnets.length) {
    throw new ConfigError('sandbox', `a sandbox takes test networks only, and ${mainnets.join(', ')} is a mainnet: remove it, or remove "sandbox" to take real payments`);
  }
  const log = raw.log === undefined ? 'json' : raw.log;
  if (log !== 'json' && log !== 'pretty' && log !== 'silent') throw new ConfigError('log', 'must be "json", "pretty" or "silent"');

  const keysEnv = raw.api_keys_env;
  const bootstrapApiKeys =
    typeof keysEnv === 'string' && env[keysEnv] ? (env[keysEnv] as string).split(/[\s,]+/).filter(Boolean) : [];

  return {
    file,
    listen,
    publicUrl,
    database,
    networks,
    invoice,
    rates,
    webhooks: {
      endpoints,
      retrySchedule,
      pollMs: int(hooksRaw, 'poll_ms', 'webhooks', 1000, 10),
      timeoutMs: int(hooksRaw, 'timeout_ms', 'webhooks', 10000, 100),
    },
    claims: {
      perInvoicePerMinute: int(claimsRaw, 'per_invoice_per_minute', 'claims', 5, 1),
      perClientPerMinute: int(claimsRaw, 'per_client_per_minute', 'claims', 30, 1),
      trustedProxies,
      autoAcceptUpTo: decimal(claimsRaw, 'auto_accept_up_to', 'claims', '0'),
    },
    demo,
    sandbox,
    widgetDir:
      typeof raw.widget_dir === 'string'
        ? path.resolve(base, raw.widget_dir)
        : path.resolve(__dirname, '..', '..', 'crates', 'wasm', 'pkg', 'widget'),
    log,
    bootstrapApiKeys,
    compat: compatSection(raw.compat, env, base),
    shopify: shopifySection(raw.shopify, env, publicUrl),
    notifications: notificationsSection(raw.notifications, env),
    providers: providersSection(raw.providers, env),
  };
}
