// The HTTP layer under every route: the route table's types, path matching, the merchant's API
// key, the JSON body, and the one place where an error becomes an HTTP answer. It knows nothing of
// invoices; the handlers in ./routes do, and stay thin because of what this module does first.
import http = require('node:http');
import { ApiError, coreCode, ERROR_STATUS } from '../errors';
import type { Logger } from '../log';

/** What a handler is given: the exchange, its decoded path parameters, and the caller's key. */
export interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The base of the links in answers (`public_url`, or the listen address). */
  baseUrl: string;
  /** The id of the caller's API key on a merchant route, null on a public one. */
  apiKeyId: string | null;
  /** The JSON body: `{}` when empty; a 413 over 64 KB, a 400 when it is not JSON. */
  body: () => Promise<unknown>;
}

/** An endpoint of the API, as the OpenAPI document lists it. */
export interface Route {
  method: 'GET' | 'POST';
  /** OpenAPI-style path; {name} matches one segment. */
  path: string;
  auth: 'merchant' | 'public';
  handler: (ctx: Ctx) => Promise<void>;
}

/**
 * A GET-only file beside the API (the widget's files, the pay page's stylesheet and script): not
 * in the OpenAPI document, without a key, matched before the routes.
 */
export interface Asset {
  /** An exact path, or with `prefix` a folder path ending in `/` whose remainder `serve` gets. */
  path: string;
  prefix?: boolean;
  serve: (res: http.ServerResponse, rest: string) => void;
}

export interface RouterOptions {
  routes: Route[];
  assets: Asset[];
  /** The id of the live API key `key`, or null; the router caches answers for 30 s. */
  findApiKey: (key: string) => Promise<string | null>;
  /** Read per request: without `public_url` the base is known only once the server listens. */
  baseUrl: () => string;
  log: Logger;
}

export const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type, authorization', 'access-control-allow-methods': 'GET, POST, OPTIONS' };

/** Answers `body` as JSON, never cached. */
export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * The answer to `error`: an ApiError as it is; a core error of a client kind as an ApiError with
 * the kind as its code; null for anything else (a fault, answered as a logged 500). A `code` that
 * is not a core kind (a database's or the OS's) is a fault too.
 */
export function httpError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  const code = coreCode(error) ?? '';
  const mapped = ERROR_STATUS.get(code);
  if (!mapped || mapped.status === 500) return null;
  return new ApiError(code, (error as Error).message);
}

/** A path segment, percent-decoded; malformed encoding is the client's error (400), not a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('invalid_path', 'the URL path is not valid percent-encoding', 'path');
  }
}

/** The request body as UTF-8 text; a 413 over 64 KB. */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return readRawBody(req, 65536, 'the request body');
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError('invalid_json', 'the request body is not valid JSON', 'body');
  }
}

/** The request listener of the server: CORS preflight, assets, then the routes. */
export function createRouter(options: RouterOptions): http.RequestListener {
  const { assets, log } = options;
  const compiled = options.routes.map((route) => ({
    route,
    // The path's own characters are literal (`/submit.php` matches no `/submitXphp`); `{name}` is one segment.
    regex: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
  }));

  // API key lookups, cached briefly (keys are 256-bit random; a hash lookup per request is the
  // largest cost of a creation otherwise).
  const keyCache = new Map<string, { id: string | null; until: number }>();
  const apiKeyId = async (key: string) => {
    const hit = keyCache.get(key);
    if (hit && hit.until > Date.now()) return hit.id;
    const id = await options.findApiKey(key);
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(key, { id, until: Date.now() + 30000 });
    return id;
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    if (req.method === 'GET') {
      for (const asset of assets) {
        if (asset.prefix ? url.pathname.startsWith(asset.path) : url.pathname === asset.path) {
          asset.serve(res, url.pathname.slice(asset.path.length));
          return;
        }
      }
    }
    let pathMatched = false;
    for (const { route, regex } of compiled) {
      const m = regex.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      let keyId: string | null = null;
      if (route.auth === 'merchant') {
        const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
        keyId = key ? await apiKeyId(key) : null;
        if (!keyId) throw new ApiError('unauthorized', 'send a valid API key as "Authorization: Bearer <key>"');
      }
      const params = Object.fromEntries(Object.entries(m.groups ?? {}).map(([k, v]) => [k, decodePathSegment(v)]));
      await route.handler({ req, res, params, query: url.searchParams, baseUrl: options.baseUrl(), apiKeyId: keyId, body: () => readJson(req) });
      return;
    }
    if (pathMatched) throw new ApiError('method_not_allowed', `${req.method} is not allowed here`);
    throw new ApiError('not_found', `no endpoint at ${url.pathname}`);
  }

  return (req, res) => {
    void handle(req, res).catch((error) => {
      // An answer already under way (an event stream) can only be ended.
      if (res.headersSent) {
        res.end();
        return;
      }
      // Errors carry the CORS headers whatever the route: a browser caller (the widget, the
      // Shopify extensions) can read why it was refused only with them, and an error tells the
      // caller nothing its own request did not (no route reads cookies).
      const answer = httpError(error);
      if (answer) {
        send(res, answer.status, answer, { ...CORS, ...(answer.retryAfter ? { 'retry-after': String(answer.retryAfter) } : {}) });
        return;
      }
      const code = coreCode(error);
      log.error('request failed', { method: req.method, url: req.url, ...(code ? { code } : {}), error: (error as Error).stack ?? String(error) });
      send(res, 500, { error: { code: 'internal_error', message: 'the server failed; see its log' } }, CORS);
    });
  };
}

/** Reads a request's raw body (for signature checks over the exact bytes), refusing more than `max` bytes. */
export async function readRawBody(req: http.IncomingMessage, max: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new ApiError('body_too_large', `${what} is over ${max >= 1048576 ? `${max / 1048576} MB` : `${max / 1024} KB`}`, 'body');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
