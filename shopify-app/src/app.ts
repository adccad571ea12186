// The HTTP server: the merchant API (API key), the customer endpoints (status document, events,
// choose, claim, the hosted pay page with the widget), and operations (health, metrics,
// OpenAPI). Handlers authenticate first, stay thin, and answer JSON with stable error codes.
import fs = require('node:fs');
import http = require('node:http');
import path = require('node:path');
import type { AddressInfo } from 'node:net';
import sg = require('./core');
import { findApiKey, syncEnvApiKeys } from './apikeys';
import type { Config } from './config';
import { Db, openDb } from './db';
import { ApiError, invalid } from './errors';
import { Invoices, InvoiceRow } from './invoices';
import { createLogger, Logger } from './log';
import { Rates } from './rates';
import { clientAddress, clientKey, RateLimiter } from './ratelimit';
import { token as registryToken } from './registry';
import { redactUrl } from './rpc';
import { Watcher } from './watcher';
import { Webhooks } from './webhooks';

export const OPENAPI_FILE = path.resolve(__dirname, '..', 'openapi.json');

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  baseUrl: string;
  apiKeyId: string | null;
  body: () => Promise<unknown>;
}

interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI-style path; {name} matches one segment. */
  path: string;
  auth: 'merchant' | 'public';
  handler: (ctx: Ctx) => Promise<void>;
  /** Only in demo mode. */
  demo?: boolean;
}

export interface App {
  url: string;
  server: http.Server;
  db: Db;
  config: Config;
  invoices: Invoices;
  watcher: Watcher;
  webhooks: Webhooks;
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

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type', 'access-control-allow-methods': 'GET, POST, OPTIONS' };

/** A path segment, percent-decoded; malformed encoding is the client's error (400), not a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'invalid_path', 'the URL path is not valid percent-encoding', 'path');
  }
}

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

function payPage(row: InvoiceRow, statusUrl: string, demo: boolean, widgetPresent: boolean): string {
  const title = `Pay invoice ${row.order_id ?? row.id}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/pay.css">
${widgetPresent ? '<script type="module" src="/widget/stablegate-checkout.js"></script>' : ''}
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${
  widgetPresent
    ? `<stablegate-checkout status-url="${escapeHtml(statusUrl)}"></stablegate-checkout>`
    : `<p class="missing">The checkout widget is not built on this server (crates/wasm/pkg/widget is missing). Status: <a href="${escapeHtml(statusUrl)}">${escapeHtml(statusUrl)}</a></p>`
}
${
  demo
    ? `<section class="demo"><p>Demo mode: the devnet's unlocked demo wallet can pay this invoice for you.</p>
<button type="button" id="demo-pay" data-invoice="${escapeHtml(row.id)}">Pay from the demo wallet</button>
<p id="demo-result" role="status"></p>
<script type="module" src="/assets/demo-wallet.js"></script></section>`
    : ''
}
</main>
</body>
</html>`;
}

const PAY_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#111}main{max-width:34rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.2rem}.demo{margin-top:1.5rem;padding:1rem;border:1px dashed #999;border-radius:8px}button{font:inherit;padding:.5rem 1rem}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}}`;

const DEMO_WALLET_JS = `// Demo mode only: asks the server to pay this invoice from the devnet's demo wallet.
const button = document.getElementById('demo-pay');
const result = document.getElementById('demo-result');
button.addEventListener('click', async () => {
  button.disabled = true;
  result.textContent = 'Sending…';
  const response = await fetch('/demo/pay/' + encodeURIComponent(button.dataset.invoice), { method: 'POST' });
  const body = await response.json();
  result.textContent = response.ok ? 'Sent: ' + body.tx_hash : 'Failed: ' + body.error.message;
  button.disabled = response.ok;
});
`;

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
  const perInvoice = new RateLimiter(config.claims.perInvoicePerMinute);
  const perClient = new RateLimiter(config.claims.perClientPerMinute);
  // API key lookups, cached briefly (keys are 256-bit random; a hash lookup per request is the
  // largest cost of a creation otherwise).
  const keyCache = new Map<string, { id: string | null; until: number }>();
  const apiKeyId = async (key: string) => {
    const hit = keyCache.get(key);
    if (hit && hit.until > Date.now()) return hit.id;
    const id = await findApiKey(db, key);
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(key, { id, until: Date.now() + 30000 });
    return id;
  };
  const widgetPresent = () => fs.existsSync(path.join(config.widgetDir, 'stablegate-checkout.js'));

  const invoiceResponse = (ctx: Ctx, row: InvoiceRow, status = 200) => send(ctx.res, status, invoices.view(row, clock(), ctx.baseUrl));

  const allRoutes: Route[] = [
    {
      method: 'POST',
      path: '/api/v1/invoices',
      auth: 'merchant',
      handler: async (ctx) => {
        const key = ctx.req.headers['idempotency-key'];
        if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
          throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1 to 200 characters', 'Idempotency-Key');
        }
        const result = await invoices.create(await ctx.body(), ctx.apiKeyId as string, (key as string | undefined) ?? null, ctx.baseUrl);
        send(ctx.res, result.status, result.body);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/invoices',
      auth: 'merchant',
      handler: async (ctx) => {
        const state = ctx.query.get('state') ?? undefined;
        if (state !== undefined && !['new', 'processing', 'settled', 'expired', 'invalid'].includes(state)) throw invalid('state', 'must be new, processing, settled, expired or invalid');
        const limitText = ctx.query.get('limit');
        const limit = limitText === null ? 50 : Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid('limit', 'must be a whole number from 1 to 200');
        send(ctx.res, 200, await invoices.list({ state, order_id: ctx.query.get('order_id') ?? undefined, limit, after: ctx.query.get('after') ?? undefined }, ctx.baseUrl));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/invoices/{id}',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.require(ctx.params.id)),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/{id}/cancel',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.cancel(ctx.params.id, ctx.baseUrl)),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/{id}/review',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.markForReview(ctx.params.id, ctx.baseUrl)),
    },
    {
      method: 'GET',
      path: '/api/v1/transfers/unmatched',
      auth: 'merchant',
      handler: async (ctx) => {
        const limitText = ctx.query.get('limit');
        const limit = limitText === null ? 50 : Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid('limit', 'must be a whole number from 1 to 200');
        send(ctx.res, 200, { data: await invoices.unmatched(limit) });
      },
    },
    {
      method: 'GET',
      path: '/api/v1/webhooks/dead-letters',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, { data: await webhooks.deadLetters() }),
    },
    {
      method: 'POST',
      path: '/api/v1/webhooks/deliveries/{id}/resend',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, await webhooks.resend(ctx.params.id)),
    },
    {
      method: 'GET',
      path: '/api/v1/checkout/{id}',
      auth: 'public',
      handler: async (ctx) => send(ctx.res, 200, invoices.statusDocument(await invoices.require(ctx.params.id), ctx.baseUrl), CORS),
    },
    {
      method: 'GET',
      path: '/api/v1/checkout/{id}/events',
      auth: 'public',
      handler: async (ctx) => {
        const id = ctx.params.id;
        await invoices.require(id);
        ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', ...CORS });
        let last = '';
        let closed = false;
        const push = async () => {
          if (closed) return;
          const row = await invoices.get(id);
          if (!row || closed) return;
          const text = JSON.stringify(invoices.statusDocument(row, ctx.baseUrl));
          if (text !== last) {
            last = text;
            ctx.res.write(`event: status\ndata: ${text}\n\n`);
          }
        };
        const onChange = (changed: string) => {
          if (changed === id) void push().catch(() => undefined);
        };
        invoices.changes.on('change', onChange);
        // Time alone changes the document too (expiry, confirmations): re-render every few seconds.
        const timer = setInterval(() => {
          void push().catch(() => undefined);
          if (!closed) ctx.res.write(': keep-alive\n\n');
        }, 3000);
        const close = () => {
          closed = true;
          clearInterval(timer);
          invoices.changes.off('change', onChange);
        };
        ctx.req.on('close', close);
        ctx.res.on('close', close);
        await push();
      },
    },
    {
      method: 'POST',
      path: '/api/v1/checkout/{id}/choose',
      auth: 'public',
      handler: async (ctx) => {
        const row = await invoices.choose(ctx.params.id, await ctx.body(), ctx.baseUrl);
        send(ctx.res, 200, invoices.statusDocument(row, ctx.baseUrl), CORS);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/checkout/{id}/claim',
      auth: 'public',
      handler: async (ctx) => {
        const id = ctx.params.id;
        // The client's limit first, then the invoice's, and only for an invoice that exists.
        let wait = perClient.take(clientKey(clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], config.claims.trustedProxies)));
        if (wait === 0) {
          await invoices.require(id);
          wait = perInvoice.take(id);
        }
        if (wait > 0) throw new ApiError(429, 'rate_limited', `too many claims; try again in ${wait} s`, undefined, wait);
        const row = await invoices.claim(id, await ctx.body(), (network, tx) => watcher.transfersOf(network, tx), ctx.baseUrl);
        send(ctx.res, 200, invoices.statusDocument(row, ctx.baseUrl), CORS);
      },
    },
    {
      method: 'GET',
      path: '/pay/{id}',
      auth: 'public',
      handler: async (ctx) => {
        const row = await invoices.require(ctx.params.id);
        const html = payPage(row, `${ctx.baseUrl}/api/v1/checkout/${row.id}`, config.demo !== null, widgetPresent());
        ctx.res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy':
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
          'referrer-policy': 'no-referrer',
        });
        ctx.res.end(html);
      },
    },
    {
      method: 'GET',
      path: '/health',
      auth: 'public',
      handler: async (ctx) => {
        let dbOk = true;
        try {
          await db.get(`SELECT 1 AS ok`);
        } catch {
          dbOk = false;
        }
        const networks = Object.fromEntries(
          [...watcher.states.values()].map((s) => [
            s.network,
            {
              head: s.head,
              cursors: s.cursors,
              lag: s.head === null ? null : Math.max(0, ...Object.values(s.cursors).map((c) => s.head! - c)),
              last_poll_at: s.lastPollAt ? new Date(s.lastPollAt).toISOString() : null,
              last_error: s.lastError,
              rpc: s.rpc.health(),
            },
          ]),
        );
        const healthy = dbOk && [...watcher.states.values()].every((s) => s.lastError === null);
        send(ctx.res, dbOk ? 200 : 503, { status: dbOk ? (healthy ? 'ok' : 'degraded') : 'down', database: { kind: db.kind, ok: dbOk }, networks });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: 'public',
      handler: async (ctx) => {
        const lines: string[] = [];
        const metric = (name: string, help: string, type: string, samples: [Record<string, string | number>, number][]) => {
          lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
          for (const [labels, value] of samples) {
            const l = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, '_')}"`).join(',');
            lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
          }
        };
        const byState = await db.all<{ state: string; n: number }>(`SELECT state, COUNT(*) AS n FROM invoices GROUP BY state`);
        metric('stablegate_invoices', 'Invoices by state.', 'gauge', ['new', 'processing', 'settled', 'expired', 'invalid'].map((s) => [{ state: s }, Number(byState.find((r) => r.state === s)?.n ?? 0)]));
        const states = [...watcher.states.values()];
        metric('stablegate_watcher_lag_blocks', 'Blocks between the chain head and the saved cursor.', 'gauge',
          states.flatMap((s) => Object.entries(s.cursors).map(([token, c]): [Record<string, string>, number] => [{ network: s.network, token }, s.head === null ? 0 : s.head - c])));
        metric('stablegate_watcher_head', 'Last chain head seen.', 'gauge', states.map((s) => [{ network: s.network }, s.head ?? 0]));
        metric('stablegate_watcher_polls_total', 'Completed polls.', 'counter', states.map((s) => [{ network: s.network }, s.polls]));
        metric('stablegate_rpc_requests_total', 'JSON-RPC HTTP requests (a batch counts once).', 'counter',
          states.flatMap((s) => s.rpc.health().map((h, i): [Record<string, string | number>, number] => [{ network: s.network, url: `${i}:${h.url}` }, h.requests])));
        metric('stablegate_rpc_errors_total', 'JSON-RPC transport errors (down, timeout, rate-limited).', 'counter',
          states.flatMap((s) => s.rpc.health().map((h, i): [Record<string, string | number>, number] => [{ network: s.network, url: `${i}:${h.url}` }, h.errors])));
        metric('stablegate_rpc_healthy', '1 when the RPC URL answered its last request.', 'gauge',
          states.flatMap((s) => s.rpc.health().map((h, i): [Record<string, string | number>, number] => [{ network: s.network, url: `${i}:${h.url}` }, h.healthy ? 1 : 0])));
        const backlog = await db.all<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered' GROUP BY status`);
        metric('stablegate_webhook_backlog', 'Webhook deliveries waiting (pending) or dead-lettered (dead).', 'gauge',
          ['pending', 'dead'].map((s) => [{ status: s }, Number(backlog.find((r) => r.status === s)?.n ?? 0)]));
        const unmatched = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ledger WHERE invoice_id IS NULL`);
        metric('stablegate_unmatched_transfers', 'Transfers to the receiving addresses that credited no invoice (GET /api/v1/transfers/unmatched).', 'gauge', [[{}, Number(unmatched?.n ?? 0)]]);
        ctx.res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        ctx.res.end(lines.join('\n') + '\n');
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      auth: 'public',
      handler: async (ctx) => {
        ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...CORS });
        ctx.res.end(fs.readFileSync(OPENAPI_FILE));
      },
    },
    {
      method: 'POST',
      path: '/demo/pay/{id}',
      auth: 'public',
      demo: true,
      handler: async (ctx) => {
        // Demo mode only (config.demo, devnet networks only): sends the invoice's remaining
        // amount from an unlocked devnet account, as a customer's wallet would. The server still
        // learns of the payment only from the chain, like any other.
        const row = await invoices.require(ctx.params.id);
        const record = invoices.record(row);
        if (!record) throw new ApiError(409, 'network_not_chosen', 'choose a network first');
        const status = sg.invoiceStatus(record, clock());
        if (status.amount_remaining === '0') throw new ApiError(409, 'nothing_to_pay', 'this invoice needs no more payment');
        const token = registryToken(record.network, record.token)!;
        const tx = {
          from: config.demo!.wallet,
          to: sg.parseAddress(record.network, token.contract).hex,
          gas: '0x30d40',
          data: sg.transferCalldata(record.network, record.recipient, status.amount_remaining),
        };
        const txHash = await watcher.rpc(record.network).call<string>('eth_sendTransaction', [tx]);
        log.info('demo wallet paid', { invoice: row.id, tx: txHash, amount: sg.formatAmount(record.network, status.amount_remaining, record.token) });
        send(ctx.res, 200, { tx_hash: txHash });
      },
    },
  ];
  const routes = allRoutes.filter((r) => !r.demo || config.demo !== null);

  const compiled = routes.map((r) => ({
    route: r,
    regex: new RegExp(`^${r.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
  }));

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((error) => {
      if (!res.headersSent) {
        if (error instanceof ApiError) {
          send(res, error.status, error, error.retryAfter ? { 'retry-after': String(error.retryAfter) } : {});
        } else {
          log.error('request failed', { method: req.method, url: req.url, error: (error as Error).stack ?? String(error) });
          send(res, 500, { error: { code: 'internal_error', message: 'the server failed; see its log' } });
        }
      } else {
        res.end();
      }
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const baseUrl = invoices.publicUrl;
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    if (req.method === 'GET' && url.pathname.startsWith('/widget/')) return serveWidget(url.pathname.slice('/widget/'.length), res);
    if (req.method === 'GET' && url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (req.method === 'GET' && url.pathname === '/assets/pay.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' });
      res.end(PAY_CSS);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/assets/demo-wallet.js' && config.demo) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(DEMO_WALLET_JS);
      return;
    }
    let pathMatched = false;
    for (const { route, regex } of compiled) {
      const m = regex.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      let keyId: string | null = null;
      if (route.auth === 'merchant') {
        const header = req.headers.authorization ?? '';
        const key = /^Bearer (\S+)$/.exec(header)?.[1];
        keyId = key ? await apiKeyId(key) : null;
        if (!keyId) throw new ApiError(401, 'unauthorized', 'send a valid API key as "Authorization: Bearer <key>"');
      }
      const params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodePathSegment(v)]));
      const body = async () => {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size > 65536) throw new ApiError(413, 'body_too_large', 'the request body is over 64 KB', 'body');
          chunks.push(chunk as Buffer);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return {};
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON', 'body');
        }
      };
      await route.handler({ req, res, params, query: url.searchParams, baseUrl, apiKeyId: keyId, body });
      return;
    }
    if (pathMatched) throw new ApiError(405, 'method_not_allowed', `${req.method} is not allowed here`);
    throw new ApiError(404, 'not_found', `no endpoint at ${url.pathname}`);
  }

  function serveWidget(rel: string, res: http.ServerResponse) {
    const file = path.resolve(config.widgetDir, rel);
    if (!file.startsWith(config.widgetDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new ApiError(404, 'not_found', `no widget file ${rel}`);
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      ...CORS,
    });
    fs.createReadStream(file).pipe(res);
  }

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
    routes: routes.map((r) => ({ method: r.method, path: r.path, auth: r.auth })),
    stop() {
      stopping ??= (async () => {
        clearInterval(sweeper);
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await watcher.stop();
        await webhooks.stop();
        await db.close();
      })();
      return stopping;
    },
  };
}
