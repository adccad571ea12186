// A small static test host for <stablegate-checkout>: it serves the built widget folder
// (crates/wasm/pkg/widget) under /widget/, one HTML page per test, and scripted status
// documents that a test changes step by step (host.set), by polling or server-sent events.
// It records every request it receives and every POST body, so tests can assert on both.
'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const WIDGET_DIR = path.resolve(__dirname, '../../../crates/wasm/pkg/widget');
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.html': 'text/html; charset=utf-8' };

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Starts the host on 127.0.0.1 with an OS-chosen port.
 * @returns {Promise<{url: string, set(name: string, doc: object): void, onPost(name: string, kind: string, fn: Function): void,
 *   posts: Array<{scenario: string, kind: string, body: any}>, requests: string[], close(): Promise<void>}>}
 */
async function startHost(opts = {}) {
  const widgetDir = opts.widgetDir ?? WIDGET_DIR;
  const scenarios = new Map(); // name -> { doc, streams: Set<res>, failing: number }
  const handlers = new Map(); // `${name}:${kind}` -> (body) => {status, body}
  const posts = [];
  const requests = [];
  const scenario = (name) => {
    if (!scenarios.has(name)) scenarios.set(name, { doc: null, streams: new Set(), failing: 0, delay: 0 });
    return scenarios.get(name);
  };

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://host');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    try {
      if (url.pathname.startsWith('/widget/')) return serveFile(res, widgetDir, url.pathname.slice('/widget/'.length));
      if (url.pathname === '/page') return page(res, url.searchParams);
      const match = url.pathname.match(/^\/s\/([\w-]+)\/(status|events|choose|claim|new)$/);
      if (!match) return send(res, 404, { error: { code: 'not_found', message: url.pathname } });
      const [, name, kind] = match;
      const s = scenario(name);
      if (kind === 'status') {
        if (s.delay) await new Promise((r) => setTimeout(r, s.delay));
        if (s.failing > 0) {
          s.failing -= 1;
          return send(res, 503, { error: { code: 'unavailable', message: 'scripted outage' } });
        }
        return s.doc ? send(res, 200, s.doc) : send(res, 404, { error: { code: 'not_found', message: name } });
      }
      if (kind === 'events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        s.streams.add(res);
        req.on('close', () => s.streams.delete(res));
        res.write(`event: status\ndata: ${JSON.stringify(s.doc)}\n\n`);
        return undefined;
      }
      if (req.method !== 'POST') return send(res, 405, { error: { code: 'method', message: 'POST only' } });
      const text = await new Promise((resolve) => {
        let data = '';
        req.on('data', (c) => (data += c));
        req.on('end', () => resolve(data));
      });
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        return send(res, 400, { error: { code: 'invalid_json', message: 'body is not JSON' } });
      }
      posts.push({ scenario: name, kind, body, contentType: req.headers['content-type'] });
      const handler = handlers.get(`${name}:${kind}`);
      const answer = handler ? handler(body) : { status: 200, body: s.doc };
      if (answer.status === 200 && answer.body) setDoc(name, answer.body);
      return send(res, answer.status, answer.body);
    } catch (e) {
      return send(res, 500, { error: { code: 'host_error', message: String(e) } });
    }
  });

  function setDoc(name, doc) {
    const s = scenario(name);
    s.doc = doc;
    for (const res of s.streams) res.write(`event: status\ndata: ${JSON.stringify(doc)}\n\n`);
  }

  function page(res, params) {
    const lang = params.get('lang') ?? 'en';
    const theme = params.get('theme');
    const scheme = params.get('scheme') ?? 'light';
    const name = params.get('s');
    const elementLang = params.get('elang');
    const html = `<!doctype html>
<html${lang === 'none' ? '' : ` lang="${escapeHtml(lang)}"`}><head><meta charset="utf-8"><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>widget test</title>
<style>body{font-family:system-ui,sans-serif;margin:16px;background:${scheme === 'dark' ? '#0d0f12' : '#f4f5f7'}}</style>
<script type="module" src="/widget/stablegate-checkout.js"></script></head>
<body><stablegate-checkout status-url="/s/${escapeHtml(name)}/status"${theme ? ` theme="${escapeHtml(theme)}"` : ''}${elementLang ? ` lang="${escapeHtml(elementLang)}"` : ''}></stablegate-checkout></body></html>`;
    res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
    res.end(html);
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    posts,
    requests,
    set: setDoc,
    /** Makes the next `count` status requests of a scenario fail with 503. */
    fail(name, count) {
      scenario(name).failing = count;
    },
    /** Makes every status response of a scenario wait `ms` first. */
    delay(name, ms) {
      scenario(name).delay = ms;
    },
    onPost(name, kind, fn) {
      handlers.set(`${name}:${kind}`, fn);
    },
    async close() {
      for (const s of scenarios.values()) for (const res of s.streams) res.end();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function serveFile(res, dir, rel) {
  const file = path.resolve(dir, rel);
  if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    return send(res, 404, { error: { code: 'not_found', message: rel } });
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  res.end(fs.readFileSync(file));
  return undefined;
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

module.exports = { startHost, WIDGET_DIR };
