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

/**
 * Builds an extension's bundle as Shopify CLI bundles a UI extension (ESM, minified, JSX for
 * Preact, everything inlined); with `serverUrl`, the built-in server URL (shared/server-url.mjs,
 * which extensions/configure.mjs writes from shopify.app.toml) is that one.
 */
async function buildExtension(name, { serverUrl } = {}) {
  const esbuild = require('esbuild');
  const path = require('node:path');
  const entry = { 'thank-you': 'src/ThankYou.jsx', 'order-status': 'src/OrderStatus.jsx' }[name];
  const plugins = serverUrl === undefined ? [] : [{
    name: 'server-url',
    setup(build) {
      build.onResolve({ filter: /\/server-url\.mjs$/ }, () => ({ path: 'server-url', namespace: 'sg' }));
      build.onLoad({ filter: /.*/, namespace: 'sg' }, () => ({ contents: `export const SERVER_URL = ${JSON.stringify(serverUrl)};`, loader: 'js' }));
    },
  }];
  const result = await esbuild.build({
    entryPoints: [path.join(__dirname, '..', 'extensions', name, entry)],
    bundle: true, minify: true, format: 'esm', target: 'es2020', write: false, logLevel: 'silent',
    jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none', plugins,
  });
  return result.outputFiles[0].contents;
}

/**
 * The browser suites' launcher (tests/e2e/widget/browser.js: Debian's Chromium through
 * playwright-core) and why it cannot run here (null when it can): a suite is skipped only while a
 * prerequisite is missing, saying which.
 */
function chromium() {
  let browser = null;
  try {
    browser = require('../../tests/e2e/widget/browser'); // playwright-core from the root `npm ci`
  } catch {
    browser = null;
  }
  const executable = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const missing = !browser ? 'playwright-core is not installed at the repo root (npm ci)' : !require('node:fs').existsSync(executable) ? `${executable} is missing (apt-get install chromium)` : null;
  return { browser, skip: missing || false };
}

module.exports = { chromium, buildExtension, startShopify, adminToken, extensionToken, until, API_KEY, API_SECRET_KEY };
