// A FAKE Shopify for the tests (Shopify itself cannot run here): the Admin GraphQL endpoint and the
// token exchange of any number of shops, on 127.0.0.1, with orders and their transactions held as
// state, and webhook deliveries signed as Shopify signs them. Every GraphQL document the app sends
// is validated against Shopify's real Admin 2026-07 schema (test/fixtures) before the hand-written
// resolvers run; a document that fails is answered with Shopify's `errors` shape and kept in
// `invalid`, which the suites assert stays empty. The library's requests to
// https://<shop>.myshopify.com are routed here by an undici dispatcher (`install()`): shopify-api
// binds globalThis.fetch at load, and fetch asks the global dispatcher on every request.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { buildClientSchema, parse, validate, execute } = require('graphql');
const { Agent, getGlobalDispatcher, setGlobalDispatcher } = require('undici');
const { getHmac } = require('@shopify/shopify-api/test-helpers');

const SCHEMA_FILE = path.join(__dirname, 'fixtures', 'admin_2026-07.json.gz');
const SCHEMA_SHA256 = '5bcde995c89c59acdb2ee494378d96f45ce7378a16ec829a74b71d696a08ef19';

let schema = null;
/** Shopify's Admin 2026-07 schema (built once per process). */
function adminSchema() {
  if (schema) return schema;
  const gz = fs.readFileSync(SCHEMA_FILE);
  const sum = crypto.createHash('sha256').update(gz).digest('hex');
  if (sum !== SCHEMA_SHA256) throw new Error(`${SCHEMA_FILE} is not the file of @shopify/dev-mcp@1.16.0 (sha256 ${sum}); see test/fixtures/README.md`);
  const json = JSON.parse(zlib.gunzipSync(gz).toString('utf8'));
  schema = buildClientSchema(json.data ?? json);
  return schema;
}

/** The validation errors of `query` against the Admin schema ([] when valid). */
function validateDocument(query) {
  let document;
  try {
    document = parse(query);
  } catch (error) {
    return [error.message];
  }
  return validate(adminSchema(), document).map((e) => e.message);
}

const money = (amount, currencyCode) => ({ amount, currencyCode });
const bag = (amount, currencyCode) => ({ presentmentMoney: money(amount, currencyCode), shopMoney: money(amount, currencyCode) });
const cents = (s) => BigInt(s.replace('.', '').padEnd(s.includes('.') ? 0 : s.length + 2, '0')) * (s.includes('.') ? 10n ** BigInt(2 - s.split('.')[1].length) : 1n);
const decimal = (c) => { const t = c.toString().padStart(3, '0'); return `${t.slice(0, -2)}.${t.slice(-2)}`; };

class FakeShopify {
  constructor({ apiKey, apiSecret }) {
    this.apiKey = apiKey;
    this.apiSecret = apiSecret;
    this.shops = new Map(); // shop → { token, orders: Map }
    this.requests = []; // every GraphQL request: { shop, operation, variables }
    this.invalid = []; // documents that failed validation: { operation, errors }
    this.exchanges = []; // token exchanges: { shop }
    this.ids = 1000;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.previous = null;
  }

  async start() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.origin = `http://127.0.0.1:${this.server.address().port}`;
    adminSchema();
    return this;
  }

  /** Routes https://*.myshopify.com to this fake for every fetch of the process. */
  install() {
    const origin = this.origin;
    class ToFake extends Agent {
      dispatch(opts, handler) {
        const target = new URL(opts.origin);
        if (target.hostname.endsWith('.myshopify.com')) {
          const headers = Array.isArray(opts.headers) ? [...opts.headers, 'x-fake-shop', target.hostname] : { ...(opts.headers ?? {}), 'x-fake-shop': target.hostname };
          return super.dispatch({ ...opts, origin, headers }, handler);
        }
        return super.dispatch(opts, handler);
      }
    }
    this.previous = getGlobalDispatcher();
    setGlobalDispatcher(new ToFake());
  }

  async stop() {
    if (this.previous) setGlobalDispatcher(this.previous);
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  shop(name) {
    if (!this.shops.has(name)) this.shops.set(name, { token: null, orders: new Map(), currency: 'EUR' });
    return this.shops.get(name);
  }

  gid(type) {
    return `gid://shopify/${type}/${++this.ids}`;
  }

  /**
   * An order placed at checkout with payment method `gateway`: a manual method's order carries a
   * pending SALE that is manually capturable, and its whole total is outstanding. `customer` is the
   * buyer's GID (by default the one the suites' extension tokens carry), null for no customer;
   * `checkoutToken` the token of the checkout it came from (Order.checkoutToken, API 2026-07: by
   * default a new one, 32 hex digits as Shopify's are), null for an order made without checkout.
   */
  placeOrder(shopName, { gateway = 'USDT', amount = '20.00', currency = 'EUR', manual = true, customer = 'gid://shopify/Customer/7', checkoutToken = crypto.randomBytes(16).toString('hex') } = {}) {
    const shop = this.shop(shopName);
    const id = this.gid('Order');
    const sale = {
      id: this.gid('OrderTransaction'), kind: 'SALE', status: manual ? 'PENDING' : 'SUCCESS', gateway, manualPaymentGateway: manual,
      manuallyCapturable: manual, amountSet: bag(amount, currency), parentTransaction: null, createdAt: new Date().toISOString(),
    };
    const order = {
      id, name: `#${1000 + shop.orders.size + 1}`, cancelledAt: null, cancel: null, note: null, metafields: [], customer: customer ? { id: customer } : null, checkoutToken,
      displayFinancialStatus: manual ? 'PENDING' : 'PAID', paymentGatewayNames: [gateway], presentmentCurrencyCode: currency,
      currencyCode: currency, total: amount, transactionsList: [sale],
    };
    shop.orders.set(id, order);
    return order;
  }

  outstanding(order) {
    const captured = order.transactionsList.filter((t) => (t.kind === 'CAPTURE' || (t.kind === 'SALE' && t.status === 'SUCCESS')) && t.status === 'SUCCESS').reduce((s, t) => s + cents(t.amountSet.presentmentMoney.amount), 0n);
    return cents(order.total) - captured;
  }

  captures(shopName, orderId) {
    return this.shop(shopName).orders.get(orderId).transactionsList.filter((t) => t.kind === 'CAPTURE');
  }

  /** The resolvers: plain objects whose functions graphql's default resolver calls with the arguments. */
  root(shopName) {
    const shop = this.shop(shopName);
    const fake = this;
    const view = (order) => order && ({
      ...order,
      totalOutstandingSet: bag(decimal(fake.outstanding(order)), order.presentmentCurrencyCode),
      transactions: ({ first }) => order.transactionsList.slice(0, first ?? 100),
      metafield: ({ namespace, key }) => order.metafields.find((m) => m.namespace === namespace && m.key === key) ?? null,
    });
    const userError = (field, message) => ({ field, message });
    return {
      order: ({ id }) => view(shop.orders.get(id) ?? null),
      orderUpdate: ({ input }) => {
        const order = shop.orders.get(input.id);
        if (!order) return { order: null, userErrors: [userError(['id'], 'Order does not exist')] };
        if (input.note !== undefined) order.note = input.note;
        for (const m of input.metafields ?? []) {
          if (!m.namespace || !m.key || !m.type) return { order: null, userErrors: [userError(['metafields'], 'namespace, key and type are required')] };
          const existing = order.metafields.find((x) => x.namespace === m.namespace && x.key === m.key);
          if (existing) Object.assign(existing, m);
          else order.metafields.push({ ...m });
        }
        return { order: view(order), userErrors: [] };
      },
      orderCapture: ({ input }) => {
        const order = shop.orders.get(input.id);
        if (!order) return { transaction: null, userErrors: [userError(['id'], 'Order does not exist')] };
        const parent = order.transactionsList.find((t) => t.id === input.parentTransactionId);
        if (!parent || !parent.manuallyCapturable) return { transaction: null, userErrors: [userError(['parentTransactionId'], 'Transaction is not capturable')] };
        if (order.cancelledAt) return { transaction: null, userErrors: [userError(['id'], 'Order is cancelled')] };
        if (order.presentmentCurrencyCode !== order.currencyCode && !input.currency) return { transaction: null, userErrors: [userError(['currency'], 'Currency is required')] };
        if (input.currency && input.currency !== order.presentmentCurrencyCode) return { transaction: null, userErrors: [userError(['currency'], 'Currency must be the presentment currency')] };
        const amount = cents(String(input.amount));
        if (amount <= 0n || amount > fake.outstanding(order)) return { transaction: null, userErrors: [userError(['amount'], 'Amount exceeds the capturable amount')] };
        const tx = { id: fake.gid('OrderTransaction'), kind: 'CAPTURE', status: 'SUCCESS', gateway: parent.gateway, manualPaymentGateway: true, manuallyCapturable: false,
          amountSet: bag(decimal(amount), order.presentmentCurrencyCode), parentTransaction: { id: parent.id }, createdAt: new Date().toISOString() };
        order.transactionsList.push(tx);
        const left = fake.outstanding(order);
        order.displayFinancialStatus = left === 0n ? 'PAID' : 'PARTIALLY_PAID';
        if (left === 0n) parent.manuallyCapturable = false;
        return { transaction: tx, userErrors: [] };
      },
      orderCancel: ({ orderId, reason, refund, restock, notifyCustomer, staffNote }) => {
        const order = shop.orders.get(orderId);
        if (!order) return { job: null, orderCancelUserErrors: [{ code: 'NOT_FOUND', field: ['orderId'], message: 'Order not found' }] };
        if (order.cancelledAt) return { job: null, orderCancelUserErrors: [{ code: 'INVALID', field: ['orderId'], message: 'Order has already been cancelled' }] };
        order.cancelledAt = new Date().toISOString();
        order.cancel = { reason, refund, restock, notifyCustomer, staffNote };
        return { job: { id: fake.gid('Job'), done: false }, orderCancelUserErrors: [] };
      },
    };
  }

  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const text = Buffer.concat(chunks).toString('utf8');
    const shopName = req.headers['x-fake-shop'] ?? String(req.headers.host).split(':')[0];
    const reply = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/admin/oauth/access_token') {
      const body = JSON.parse(text);
      if (body.client_id !== this.apiKey || body.client_secret !== this.apiSecret) return reply(401, { error: 'invalid_client' });
      if (body.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' || body.subject_token_type !== 'urn:ietf:params:oauth:token-type:id_token' ||
        body.requested_token_type !== 'urn:shopify:params:oauth:token-type:offline-access-token') return reply(400, { error: 'invalid_request' });
      const [h, p, sig] = String(body.subject_token).split('.');
      const good = crypto.createHmac('sha256', this.apiSecret).update(`${h}.${p}`).digest('base64url');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
      if (sig !== good || claims.dest !== `https://${shopName}`) return reply(400, { error: 'invalid_subject_token' });
      const shop = this.shop(shopName);
      shop.token = `shpat_${crypto.randomBytes(16).toString('hex')}`;
      this.exchanges.push({ shop: shopName });
      return reply(200, { access_token: shop.token, scope: 'read_orders,write_orders' });
    }
    const m = /^\/admin\/api\/([0-9]{4}-[0-9]{2}|unstable)\/graphql\.json$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      const shop = this.shop(shopName);
      if (!shop.token || req.headers['x-shopify-access-token'] !== shop.token) return reply(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
      const { query, variables } = JSON.parse(text);
      const operation = /(query|mutation)\s+(\w+)/.exec(query)?.[2] ?? '(anonymous)';
      const errors = validateDocument(query);
      this.requests.push({ shop: shopName, version: m[1], operation, variables });
      if (errors.length) {
        this.invalid.push({ operation, errors });
        return reply(200, { errors: errors.map((message) => ({ message })) });
      }
      const result = await execute({ schema: adminSchema(), document: parse(query), rootValue: this.root(shopName), variableValues: variables });
      return reply(200, { data: result.data, ...(result.errors ? { errors: result.errors.map((e) => ({ message: e.message, path: e.path })) } : {}) });
    }
    reply(404, { errors: 'Not Found' });
  }

  /** POSTs a webhook delivery to `url` as Shopify does (HMAC of the raw body with the app secret). */
  async deliver(url, { topic, shop, payload, webhookId = crypto.randomUUID(), secret = this.apiSecret, apiVersion = '2026-07' }) {
    const body = JSON.stringify(payload);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': shop,
        'x-shopify-api-version': apiVersion,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-triggered-at': new Date().toISOString(),
        'x-shopify-hmac-sha256': getHmac(body, secret),
      },
      body,
    });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: response.status, body: json, webhookId };
  }

  /** orders/cancelled as Shopify sends it (REST order JSON; only the fields the app reads matter). */
  orderPayload(order) {
    const id = Number(order.id.split('/').pop());
    return { id, admin_graphql_api_id: order.id, name: order.name, cancelled_at: order.cancelledAt, financial_status: 'voided', currency: order.presentmentCurrencyCode };
  }
}

module.exports = { FakeShopify, validateDocument, adminSchema };
