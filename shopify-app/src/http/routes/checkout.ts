// network, claiming a payment by its transaction, the hosted pay page, and the files the page and
// the widget load. Answers carry CORS headers: the widget may run on the merchant's own site.
import fs = require('node:fs');
import path = require('node:path');
import type { Config } from '../../config';
import { forCustomer } from '../../customer';
import type { Db } from '../../db';
import { ApiError } from '../../errors';
import type { Invoices } from '../../invoices';
import { PAY_CSS, PAY_PAGE_HEADERS, payPage } from '../../paypage';
import { clientAddress, clientKey, RateLimiter } from '../../ratelimit';
import type { Watcher } from '../../watcher';
import { Asset, CORS, Route, send } from '../router';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

interface CheckoutServices {
  config: Config;
  db: Db;
  invoices: Invoices;
  watcher: Watcher;
  /** The hosted providers the merchant enabled (issue 16), offered on the pay page. */
  providers?: string[];
}


export function checkoutRoutes({ config, db, invoices, watcher, providers = [] }: CheckoutServices): Route[] {
  const perInvoice = new RateLimiter(db, 'claim-invoice', config.claims.perInvoicePerMinute);
  const perClient = new RateLimiter(db, 'claim-client', config.claims.perClientPerMinute);
  const widgetPresent = () => fs.existsSync(path.join(config.widgetDir, 'stablegate-checkout.js'));
  return [
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
        // The customer reads the answer: a sentence per code, never an internal detail.
        const row = await invoices.choose(ctx.params.id, await ctx.body(), ctx.baseUrl).catch((error) => {
          throw forCustomer(error);
        });
        send(ctx.res, 200, invoices.statusDocument(row, ctx.baseUrl), CORS);
      },
    },
    {
      method: 'POST',
      path: '/api/v1/checkout/{id}/claim',
      auth: 'public',
      handler: async (ctx) => {
        const id = ctx.params.id;
        // The customer reads the answer: a sentence per code that says what to do next, never an
        // internal detail or another invoice's id (customer.ts).
        const row = await (async () => {
          // The client's limit first, then the invoice's, and only for an invoice that exists.
          let wait = await perClient.take(clientKey(clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], config.claims.trustedProxies)));
          if (wait === 0) {
            await invoices.require(id);
            wait = await perInvoice.take(id);
          }
          if (wait > 0) throw new ApiError('rate_limited', `too many claims; try again in ${wait} s`, undefined, wait);
          return invoices.claim(id, await ctx.body(), (network, tx) => watcher.transfersOf(network, tx), ctx.baseUrl);
        })().catch((error) => {
          throw forCustomer(error);
        });
        send(ctx.res, 200, invoices.statusDocument(row, ctx.baseUrl), CORS);
      },
    },
    {
      method: 'GET',
      path: '/pay/{id}',
      auth: 'public',
      handler: async (ctx) => {
        const row = await invoices.require(ctx.params.id);
        // A provider's checkout only while the invoice is open and no network is chosen; the
        // `provider_unavailable` query (set when a provider did not answer) says so on the page.
        const offered = !row.record && row.state === 'new' && invoices.clock() < row.expires_at ? providers : [];
        const html = payPage(row, `${ctx.baseUrl}/api/v1/checkout/${row.id}`, {
          demo: config.demo !== null,
          widgetPresent: widgetPresent(),
          providers: offered,
          unavailable: ctx.query.get('provider_unavailable'),
          sandbox: config.sandbox,
        });
        ctx.res.writeHead(200, PAY_PAGE_HEADERS);
        ctx.res.end(html);
      },
    },
  ];
}

/** The widget's built files (any page may load them), the pay page's stylesheet, and no favicon. */
export function checkoutAssets({ widgetDir }: { widgetDir: string }): Asset[] {
  return [
    {
      path: '/widget/',
      prefix: true,
      serve: (res, rel) => {
        const file = path.resolve(widgetDir, rel);
        if (!file.startsWith(widgetDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
          throw new ApiError('not_found', `no widget file ${rel}`);
        }
        res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', ...CORS });
        fs.createReadStream(file).pipe(res);
      },
    },
    {
      path: '/favicon.ico',
      serve: (res) => {
        res.writeHead(204);
        res.end();
      },
    },
    {
      path: '/assets/pay.css',
      serve: (res) => {
        res.writeHead(200, { 'content-type': 'text/css; charset=utf-8' });
        res.end(PAY_CSS);
      },
    },
  ];
}
