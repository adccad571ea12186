// What the Shopify suites share: a stack with the app configured against a FAKE Shopify
// (test/fake-shopify.js), session tokens from Shopify's own test helpers, and calls to the app's
// routes as the embedded page and the extensions make them.
'use strict';
const { getJwt, API_KEY, API_SECRET_KEY } = require('@shopify/shopify-api/test-helpers');
const { startStack } = require('./helpers');
const { FakeShopify } = require('./fake-shopify');

/** Starts a fake Shopify (routing *.myshopify.com to it) and a stack with the app configured. */
async function startShopify(name, overrides = {}) {
  const fake = await new FakeShopify({ apiKey: API_KEY, apiSecret: API_SECRET_KEY }).start();
  fake.install();
  const s = await startStack(name, {
    ...overrides,
    env: { SG_SHOPIFY_KEY: API_KEY, SG_SHOPIFY_SECRET: API_SECRET_KEY, ...(overrides.env ?? {}) },
    raw: { shopify: { api_key_env: 'SG_SHOPIFY_KEY', api_secret_env: 'SG_SHOPIFY_SECRET', app_url: 'https://pay.example.com' }, ...(overrides.raw ?? {}) },
  });
  const call = async (method, urlPath, token, body) => {
    const r = await fetch(s.app.url + urlPath, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: r.status, body: json, headers: r.headers };
  };
  return {
    s, fake, call,
    async stop() {
      await s.stop();
      await fake.stop();
    },
  };
}

/** The embedded admin's session token of `store` (iss = its admin). */
const adminToken = async (store, overrides = {}) => (await getJwt(store, API_KEY, API_SECRET_KEY, overrides)).token;
/**
 * A checkout or customer-account extension's session token of `store` (no iss); `sub` is the
 * signed-in customer's GID, null for a guest's token (no sub).
 */
const extensionToken = async (store, sub = 'gid://shopify/Customer/7') =>
  (await getJwt(store, API_KEY, API_SECRET_KEY, { iss: undefined, dest: `${store}.myshopify.com`, sub: sub ?? undefined })).token;

/** Resolves once `test()` gives a truthy value (polled every 50 ms). */
async function until(what, test, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

module.exports = { startShopify, adminToken, extensionToken, until, API_KEY, API_SECRET_KEY };
