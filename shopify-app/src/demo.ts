// `make demo`: the devnet with its mock USDT, this server standalone on SQLite in demo mode, and
// a demo shop (a separate little website that calls the server's API with an API key and
// receives its signed webhooks). Prints the URL and what to do; Ctrl-C stops everything.
import crypto = require('node:crypto');
import fs = require('node:fs');
import http = require('node:http');
import path = require('node:path');
import type { AddressInfo } from 'node:net';
import sg = require('./core');
import { App, startApp } from './app';
import { escapeHtml } from './paypage';
import { parseConfig } from './config';
import { createLogger, Logger } from './log';

interface Devnet {
  url: string;
  pid: number;
  accounts: string[];
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  stop(): Promise<unknown>;
}
// The devnet harness is plain JS in tests/devnet (shared with the other suites).
const devnet = require('../../tests/devnet/devnet') as { start(o: { dir: string }): Promise<Devnet> };

const PRODUCT = { name: 'Stablegate devnet T-shirt', price: '19.99', currency: 'USD' };

interface Order {
  id: string;
  invoice: string;
  state: string;
  events: string[];
}

/** The demo shop: a product page, a Buy button, an order page, and a webhook receiver. */
async function startShop(port: number, serverUrl: () => string, apiKey: string, secret: string, log: Logger) {
  const orders = new Map<string, Order>();
  let seq = 0;
  const page = (title: string, body: string) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}.product{border:1px solid #ccc;border-radius:8px;padding:1rem}button{font:inherit;padding:.5rem 1.2rem}</style></head>
<body>${body}</body></html>`;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        if (req.method === 'GET' && url.pathname === '/') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(page('Demo shop', `<h1>Demo shop</h1><div class="product"><h2>${PRODUCT.name}</h2><p>${PRODUCT.price} ${PRODUCT.currency}, paid in USDT on the local devnet.</p>
<form method="post" action="/buy"><button type="submit" id="buy">Buy</button></form></div>`));
          return;
        }
        if (req.method === 'POST' && url.pathname === '/buy') {
          const orderId = `order-${++seq}`;
          const shopBase = `http://${req.headers.host}`;
          const response = await fetch(`${serverUrl()}/api/v1/invoices`, {
            method: 'POST',
            headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': orderId },
            body: JSON.stringify({ fiat_amount: PRODUCT.price, currency: PRODUCT.currency, order_id: orderId, redirect_url: `${shopBase}/orders/${orderId}`, metadata: { product: PRODUCT.name } }),
          });
          const invoice = (await response.json()) as { id: string; pay_url: string; amount_due: string; error?: { message: string } };
          if (!response.ok) {
            res.writeHead(502, { 'content-type': 'text/plain' });
            res.end(`the payment server refused: ${invoice.error?.message}`);
            return;
          }
          orders.set(orderId, { id: orderId, invoice: invoice.id, state: 'awaiting payment', events: [] });
          log.info(`shop: order ${orderId} placed; invoice ${invoice.id} for ${invoice.amount_due} USDT`);
          res.writeHead(303, { location: invoice.pay_url });
          res.end();
          return;
        }
        const orderMatch = /^\/orders\/(order-\d+)$/.exec(url.pathname);
        if (req.method === 'GET' && orderMatch) {
          const order = orders.get(orderMatch[1]);
          if (!order) {
            res.writeHead(404).end('no such order');
            return;
          }
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(page(`Order ${order.id}`, `<h1>Order ${escapeHtml(order.id)}</h1><p id="order-state" data-state="${escapeHtml(order.state)}">Status: <strong>${escapeHtml(order.state)}</strong></p>
<p>Webhooks received (signature verified): ${order.events.map(escapeHtml).join(', ') || 'none yet'}</p><p><a href="/">Back to the shop</a></p>`));
          return;
        }
        if (req.method === 'GET' && url.pathname === '/orders.json') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify([...orders.values()]));
          return;
        }
        if (req.method === 'POST' && url.pathname === '/webhook') {
          // Verify first (the core checks the HMAC and the 5-minute window); safe to receive
          // twice: an event already applied changes nothing.
          try {
            sg.verifyWebhook(secret, String(req.headers['stablegate-signature'] ?? ''), raw, Math.floor(Date.now() / 1000));
          } catch (error) {
            log.warn(`shop: webhook REFUSED: ${(error as Error).message}`);
            res.writeHead(400).end();
            return;
          }
          const event = JSON.parse(raw) as { id: string; type: string; data: { invoice: { order_id: string; state: string } } };
          const order = orders.get(event.data.invoice.order_id);
          if (order && !order.events.includes(event.type)) {
            order.events.push(event.type);
            if (event.type === 'invoice.settled') order.state = 'paid';
            else if (event.type === 'invoice.processing') order.state = 'payment seen, waiting for finality';
            else if (event.type === 'invoice.expired' || event.type === 'invoice.invalid') order.state = event.data.invoice.state;
          }
          log.info(`shop: webhook ${event.type} received, signature verified${order ? ` → order ${order.id}: ${order.state}` : ''}`);
          res.writeHead(200).end();
          return;
        }
        res.writeHead(404).end('not found');
      })().catch((error) => {
        log.error(`shop: ${(error as Error).message}`);
        if (!res.headersSent) res.writeHead(500).end('shop error');
      });
    });
  });
  await listen(server, port);
  return server;
}

/** Listens on `port`, or on a port the OS picks when that one is taken. */
async function listen(server: http.Server, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  }
}

export async function main(): Promise<void> {
  const dir = path.resolve(process.env.STABLEGATE_DEMO_DIR ?? path.join(__dirname, '..', '.demo'));
  const shopPort = Number(process.env.STABLEGATE_DEMO_PORT ?? 3000);
  const serverPort = Number(process.env.STABLEGATE_DEMO_SERVER_PORT ?? (shopPort === 0 ? 0 : 8080));
  const log = createLogger('pretty');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['stablegate.db', 'stablegate.db-wal', 'stablegate.db-shm']) fs.rmSync(path.join(dir, f), { force: true });

  log.info('demo: starting the devnet (Hardhat, mock USDT at 0x5FbDB2315678afecb367f032d93F642f64180aa3)');
  const net = await devnet.start({ dir: path.join(dir, 'devnet') });
  let app: App | null = null;
  let shop: http.Server | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`demo: ${signal}: stopping the shop, the server and the devnet`);
    if (shop) {
      shop.closeAllConnections();
      await new Promise((r) => shop!.close(r));
    }
    if (app) await app.stop();
    await net.stop();
    log.info('demo: stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('Ctrl-C'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  try {
    // A block a second, so that finality (3 confirmations on the devnet) comes by itself.
    await net.rpc('evm_setIntervalMining', [1000]);
    const receiving = net.accounts[9]; // received no mint at deploy: its history is the demo's
    const demoWallet = net.accounts[2]; // holds 1,000,000 of each mock token
    const apiKey = `sg_demo_${crypto.randomBytes(16).toString('hex')}`;
    const secret = `whsec_demo_${crypto.randomBytes(16).toString('hex')}`;
    let serverUrl = '';
    shop = await startShop(shopPort, () => serverUrl, apiKey, secret, log);
    const shopUrl = `http://127.0.0.1:${(shop.address() as AddressInfo).port}`;
    const env = { STABLEGATE_DEMO_API_KEY: apiKey, STABLEGATE_DEMO_WEBHOOK_SECRET: secret };
    const rawConfig = {
      listen: { host: '127.0.0.1', port: serverPort },
      database: { sqlite: path.join(dir, 'stablegate.db') },
      networks: { devnet: { rpc: [net.url], tokens: ['usdt'], addresses: [receiving], poll_ms: 1000 } },
      invoice: { expires_in: 900, monitoring: 86400, step: '0.01' },
      rates: { USD: { fixed: '1' } },
      webhooks: { endpoints: [{ name: 'demo-shop', url: `${shopUrl}/webhook`, secret_env: 'STABLEGATE_DEMO_WEBHOOK_SECRET', allow_private: true }] },
      api_keys_env: 'STABLEGATE_DEMO_API_KEY',
      demo: { wallet: demoWallet },
      log: 'pretty',
    };
    fs.writeFileSync(path.join(dir, 'stablegate.config.json'), JSON.stringify({ ...rawConfig, api_keys_env: 'STABLEGATE_DEMO_API_KEY' }, null, 2));
    app = await startApp(parseConfig(rawConfig, env, path.join(dir, 'stablegate.config.json')), { logger: log });
    serverUrl = app.url;
    const widget = fs.existsSync(path.join(app.config.widgetDir, 'stablegate-checkout.js'));
    process.stdout.write(`
  Stablegate demo is running.

    Shop:    ${shopUrl}
    Server:  ${app.url}   (API docs: ${app.url}/openapi.json, health: ${app.url}/health)
    Devnet:  ${net.url}   (chain id 31337, mock USDT 0x5FbDB2315678afecb367f032d93F642f64180aa3)

  Open the shop, click Buy, and pay on the pay page:
    - with "Pay from the demo wallet" (the devnet's unlocked account ${demoWallet}), or
    - from your own browser wallet: add the network ${net.url} (chain id 31337) and import a
      Hardhat test account (e.g. account #0, key 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80),
      which holds mock USDT.
  Receiving address: ${receiving}. This terminal shows each step: invoice created, transfer seen,
  finality, webhook delivered (and verified by the shop). Ctrl-C stops everything.
${widget ? '' : '\n  NOTE: the checkout widget (crates/wasm/pkg/widget) is not built yet; the pay page links the status document instead.\n'}
`);
  } catch (error) {
    log.error(`demo: failed to start: ${(error as Error).message}`);
    await stop('error');
  }
}

if (require.main === module) {
  void main();
}
