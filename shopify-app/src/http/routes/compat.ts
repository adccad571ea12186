// The Epusdt and EPay V1 endpoints that existing shops and panels call (src/compat/). They are not
// Stablegate's API and not in its OpenAPI document: each answers in its own protocol's shapes and
// codes, errors included, so every handler catches what it throws and answers it itself (the
// router's JSON error would be a shape these clients cannot read).
import http = require('node:http');
import type { CompatCallbacks } from '../../compat/callbacks';
import type { Config } from '../../config';
import { ApiError } from '../../errors';
import type { Logger } from '../../log';
import { clientAddress } from '../../ratelimit';
import type { EPay } from '../../compat/epay';
import { epayError } from '../../compat/epay';
import type { Epusdt } from '../../compat/epusdt';
import { epusdtError } from '../../compat/epusdt';
import { CompatError } from '../../compat/orders';
import { jsonWithRawNumbers, parseFormFields, parseJsonFields, WireFields, WireParseError } from '../../compat/sign';
import { Ctx, readBody, Route, send } from '../router';

interface CompatServices {
  config: Config;
  epusdt: Epusdt;
  epay: EPay;
  log: Logger;
}

/** The body as text (router's readBody, 64 KB at most), a too-large one as the protocol's parse error. */
async function readText(req: http.IncomingMessage): Promise<string> {
  try {
    return await readBody(req);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'body_too_large') throw new CompatError('parse', error.message);
    throw error;
  }
}

/** The request's fields: a JSON object or a form body (POST), else the query string (GET). */
async function fieldsOf(ctx: Ctx): Promise<WireFields> {
  try {
    if (ctx.req.method !== 'POST') return parseFormFields(ctx.query.toString());
    const text = await readText(ctx.req);
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    return type === 'application/json' || (type === '' && text.trimStart().startsWith('{')) ? parseJsonFields(text) : parseFormFields(text);
  } catch (error) {
    if (error instanceof WireParseError) throw new CompatError('parse', error.message);
    throw error;
  }
}

function answerJson(res: http.ServerResponse, body: Record<string, unknown>) {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(jsonWithRawNumbers(body));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function compatRoutes({ config, epusdt, epay, log }: CompatServices): Route[] {
  const caller = (ctx: Ctx) => clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], config.claims.trustedProxies);

  /** Runs `work`; a CompatError becomes the protocol's error, anything else is logged and answered as the protocol's system error. */
  const guarded = (onError: (ctx: Ctx, error: CompatError) => void, work: (ctx: Ctx) => Promise<void>) => async (ctx: Ctx) => {
    try {
      await work(ctx);
    } catch (error) {
      if (!(error instanceof CompatError)) {
        log.error('compat request failed', { method: ctx.req.method, path: ctx.req.url?.split('?')[0], error: (error as Error).stack ?? String(error) });
      }
      onError(ctx, error instanceof CompatError ? error : new CompatError('system', 'the server failed; see its log'));
    }
  };
  const epusdtRoute = (work: (ctx: Ctx) => Promise<Record<string, unknown>>) =>
    guarded((ctx, error) => answerJson(ctx.res, epusdtError(error)), async (ctx) => answerJson(ctx.res, await work(ctx)));
  const epayJson = (work: (ctx: Ctx) => Promise<Record<string, unknown>>) =>
    guarded((ctx, error) => answerJson(ctx.res, epayError(error)), async (ctx) => answerJson(ctx.res, await work(ctx)));
  // submit.php is a browser's form: it answers with a redirect, and its errors with a page.
  const submit = guarded(
    (ctx, error) => {
      ctx.res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" });
      ctx.res.end(`<!doctype html><meta charset="utf-8"><title>Payment error</title><h3>${escapeHtml(error.message)}</h3>`);
    },
    async (ctx) => {
      const { invoice } = await epay.create(await fieldsOf(ctx), caller(ctx), ctx.baseUrl);
      ctx.res.writeHead(302, { location: `${ctx.baseUrl}/pay/${invoice.id}`, 'cache-control': 'no-store' });
      ctx.res.end();
    },
  );
  const route = (method: Route['method'], path: string, handler: Route['handler']): Route => ({ method, path, auth: 'public', handler });
  return [
    // Epusdt
    route('POST', '/api/v1/order/create-transaction', epusdtRoute(async (ctx) => epusdt.createTransaction(await fieldsOf(ctx), caller(ctx), ctx.baseUrl))),
    route('GET', '/pay/check-status/{trade_id}', epusdtRoute(async (ctx) => epusdt.checkStatus(ctx.params.trade_id))),
    // EPay V1, at the root and at the path GMPay-era clients use.
    ...['/submit.php', '/payments/epay/v1/order/create-transaction/submit.php'].flatMap((path) => [route('GET', path, submit), route('POST', path, submit)]),
    route('POST', '/mapi.php', epayJson(async (ctx) => epay.mapi(await fieldsOf(ctx), caller(ctx), ctx.baseUrl))),
    ...(['GET', 'POST'] as const).map((method) => route(method, '/api.php', epayJson(async (ctx) => epay.query(await fieldsOf(ctx), caller(ctx))))),
    route(
      'GET',
      '/compat/epay/return',
      guarded(
        (ctx, error) => {
          ctx.res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          ctx.res.end(error.message);
        },
        async (ctx) => {
          const location = await epay.returnTo(ctx.query.get('pid') ?? '', ctx.query.get('out_trade_no') ?? '', ctx.baseUrl);
          ctx.res.writeHead(302, { location, 'cache-control': 'no-store' });
          ctx.res.end();
        },
      ),
    ),
  ];
}

/**
 * The merchant's side of the compatibility callbacks, in Stablegate's own API (with an API key):
 * the dead letters and a resend. Always routed, so the API is the same whatever the config; with
 * no `compat` section they answer that compatibility is off.
 */
export function compatAdminRoutes(callbacks: CompatCallbacks | null): Route[] {
  const worker = () => {
    if (!callbacks) throw new ApiError('compat_disabled', 'the compatibility protocols are off: the configuration has no compat section');
    return callbacks;
  };
  return [
    {
      method: 'GET',
      path: '/api/v1/compat/callbacks/dead-letters',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, { data: await worker().deadLetters() }),
    },
    {
      method: 'POST',
      path: '/api/v1/compat/callbacks/{id}/resend',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, await worker().resend(ctx.params.id)),
    },
  ];
}
