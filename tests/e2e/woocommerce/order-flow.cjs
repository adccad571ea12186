// End-to-end in a real WordPress + WooCommerce shop (scripts/test-woocommerce.sh sets it up):
// headless Chromium places an order through the Checkout block (or opens a classic order-pay
// page), the <stablegate-checkout> widget renders the invoice, the devnet pays it, and the widget
// follows the invoice to `settled` while the plugin's watcher runs (from status polls, or from
// WP-Cron when the tab is closed). Prints a JSON report; exit 1 on any failure.
//
// Usage: node order-flow.cjs blocks [--network devnet:usdt|--choose-in-widget devnet:usdt18]
//                                    [--confirmations N]  (the shop's finality policy, 3 by default)
//        node order-flow.cjs receipt --url ORDER_PAY_RECEIPT_URL [--close-before-paying]
// Env: BASE_URL, PRODUCT_ID, CHECKOUT_URL, DEVNET_URL, PLAYWRIGHT (path of playwright-core),
//      SHOTS (folder for screenshots), CRON_CMD (shell command that runs WP-Cron once).
'use strict';
const os = require('node:os');
const path = require('node:path');
const { execFileSync, execSync } = require('node:child_process');
const { launch } = require('./browser.cjs');

const ROOT = path.resolve(__dirname, '../../..');
const BASE = process.env.BASE_URL;
const argv = process.argv.slice(2);
const mode = argv[0];
const opt = (name) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const shots = process.env.SHOTS || os.tmpdir();
const report = { mode, steps: [], console_errors: [], blocked_requests: [] };
const step = (what, extra = {}) => report.steps.push({ what, t: Date.now(), ...extra });

const devnetRpc = (method, params) => {
  const out = execFileSync('curl', ['-s', '-H', 'content-type: application/json', '-d', JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), process.env.DEVNET_URL]);
  return JSON.parse(out).result;
};

/** Runs WP-Cron once (CRON_CMD prints what ran and the watcher's stats); the watcher must be among it. */
function cron() {
  let raw;
  try {
    raw = execSync(process.env.CRON_CMD, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (error) {
    throw new Error(`WP-Cron run failed: ${String(error.stderr || error.message).slice(0, 500)}`);
  }
  const out = JSON.parse(raw);
  report.cron_runs = report.cron_runs || [];
  report.cron_runs.push({ hooks: out.cron_hooks_run, head: out.watch && out.watch.head, outcomes: out.watch && out.watch.outcomes });
  if (!out.cron_hooks_run.includes('stablegate_watch')) throw new Error(`WP-Cron did not run the watcher: ${JSON.stringify(out.cron_hooks_run)}`);
}

async function widgetState(page, wanted, timeout = 90000) {
  await page.locator(`stablegate-checkout[data-state="${wanted}"]`).waitFor({ state: 'attached', timeout });
  return page.locator('stablegate-checkout').evaluate((el) => ({ state: el.dataset.state, exception: el.dataset.exception ?? null }));
}

(async () => {
  const browser = await launch(BASE, { width: 1100, height: 1400 }, report.blocked_requests);
  const { context } = browser;
  let { page } = browser;
  const watch = (p) => {
    p.on('console', (m) => { if (m.type() === 'error') report.console_errors.push(m.text()); });
    p.on('pageerror', (e) => report.console_errors.push(`pageerror: ${e.message}`));
    p.on('response', (r) => {
      if (r.url().includes('/wc/store/v1/checkout') && r.request().method() !== 'GET') {
        report.store_api = report.store_api || [];
        r.text().then((body) => report.store_api.push({ status: r.status(), body: body.slice(0, 300) })).catch(() => {});
      }
    });
  };
  watch(page);
  try {
    if (mode === 'blocks') {
      await page.goto(`${BASE}/?add-to-cart=${process.env.PRODUCT_ID}`, { waitUntil: 'domcontentloaded' });
      await page.goto(process.env.CHECKOUT_URL, { waitUntil: 'domcontentloaded' });
      await page.locator('.wc-block-checkout__form').waitFor({ timeout: 60000 });
      // The block renders the form, then again once its first Store API calls answer, which
      // empties what was typed in between (seen on a cold shop under load): let it settle first.
      await page.waitForLoadState('networkidle', { timeout: 15000 }).catch(() => {});
      await page.fill('#email', 'blocks-buyer@example.test');
      // A shop that ships asks for the shipping address; one that does not (or an older
      // WooCommerce) asks for the billing address: fill whichever the block shows.
      for (const form of ['shipping', 'billing']) {
        for (const [field, v] of [['first_name', 'Block'], ['last_name', 'Buyer'], ['address_1', '1 Test Street'], ['city', 'San Francisco'], ['postcode', '94110']]) {
          const input = page.locator(`#${form}-${field}`);
          if (await input.count() && await input.first().isVisible()) await input.first().fill(v);
        }
      }
      report.payment_methods = await page.locator('input[name="radio-control-wc-payment-method-options"]').evaluateAll((els) => els.map((e) => e.value));
      await page.locator('input[name="radio-control-wc-payment-method-options"][value="stablegate"]').check({ force: true });
      const select = page.locator('#stablegate-network');
      await select.waitFor({ timeout: 15000 });
      report.block_network_options = await select.locator('option').evaluateAll((els) => els.map((e) => e.value));
      if (opt('--network')) await select.selectOption(opt('--network'));
      // The block recalculates after each field; placing the order mid-update is ignored.
      await page.waitForLoadState('networkidle', { timeout: 15000 }).catch(() => {});
      await page.screenshot({ path: path.join(shots, `${mode}-checkout.png`), fullPage: true });
      // A click while the block is still busy (it disables the button by class, which Playwright
      // cannot see) is ignored; click again, up to three times, until the order-pay page loads.
      let placed = false;
      for (let attempt = 1; attempt <= 3 && !placed; attempt++) {
        await page.locator('.wc-block-components-checkout-place-order-button:not(.wc-block-components-button--loading)').click();
        placed = await page.waitForURL(/order-pay/, { timeout: 20000 }).then(() => true, () => false);
        report.place_order_clicks = attempt;
        if (!placed) await page.waitForLoadState('networkidle', { timeout: 15000 }).catch(() => {});
      }
      if (!placed) {
        const notices = await page.locator('.wc-block-components-notice-banner, .wc-block-store-notice').allInnerTexts().catch(() => []);
        throw new Error(`no order-pay page after Place Order (notices: ${JSON.stringify(notices)})`);
      }
      step('placed order through the Checkout block', { url: page.url() });
    } else if (mode === 'receipt') {
      await page.goto(opt('--url'), { waitUntil: 'domcontentloaded' });
      step('opened the order-pay page', { url: page.url() });
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
    report.order_id = Number((page.url().match(/order-pay\/(\d+)/) || [])[1]) || null;
    const payUrl = page.url();
    report.widget_first_state = await widgetState(page, 'new', 30000);
    const statusUrl = await page.locator('stablegate-checkout').getAttribute('status-url');
    if (opt('--choose-in-widget')) {
      const [network, token] = opt('--choose-in-widget').split(':');
      const button = page.locator(`stablegate-checkout button.choice[data-key="choose:${network}:${token}"]`);
      await button.waitFor({ timeout: 30000 });
      report.widget_choices = await page.locator('stablegate-checkout button.choice').evaluateAll((els) => els.map((e) => e.dataset.key));
      await page.screenshot({ path: path.join(shots, `${mode}-choices.png`), fullPage: true });
      await button.click();
      await page.waitForFunction(async (url) => (await (await fetch(url)).json()).network !== null, statusUrl, { timeout: 30000 });
      step('chose the network in the widget', { choice: opt('--choose-in-widget') });
    }
    const doc = await page.evaluate(async (url) => (await fetch(url)).json(), statusUrl);
    report.invoice = { id: doc.invoice, network: doc.network, token: doc.token.id, decimals: doc.token.decimals, amount_due: doc.amount_due, recipient: doc.recipient, payment_uri: doc.payment_uri };
    await page.screenshot({ path: path.join(shots, `${mode}-widget-new.png`), fullPage: true });
    const [whole, frac = ''] = doc.amount_due.split('.');
    const units = (BigInt(whole) * 10n ** BigInt(doc.token.decimals) + BigInt((frac + '0'.repeat(doc.token.decimals)).slice(0, doc.token.decimals))).toString();
    const tokenName = doc.token.id === 'usdt18' ? 'BscUsdLike' : 'UsdtLike';
    if (argv.includes('--close-before-paying')) {
      await page.close();
      step('closed the tab before paying');
    }
    const paid = JSON.parse(execFileSync('node', [path.join(ROOT, 'tests/devnet/pay.js'), '--url', process.env.DEVNET_URL, '--token', tokenName, '--to', doc.recipient, '--amount', units]).toString());
    report.payment = { tx: paid.tx, block: paid.blockNumber, units, token: tokenName };
    step('paid on the devnet', { tx: paid.tx });
    if (argv.includes('--close-before-paying')) {
      cron();
      step('ran WP-Cron');
      devnetRpc('hardhat_mine', ['0x3']);
      cron();
      step('mined 3 blocks, ran WP-Cron again');
      page = await context.newPage();
      watch(page);
      await page.goto(payUrl, { waitUntil: 'domcontentloaded' }).catch(() => {});
      report.after_reopen_url = page.url();
      report.final_doc = await page.evaluate(async (url) => (await fetch(url)).json(), statusUrl);
    } else {
      report.widget_processing = await widgetState(page, 'processing');
      step('widget shows processing (the status poll ran the watcher)');
      await page.screenshot({ path: path.join(shots, `${mode}-widget-processing.png`), fullPage: true });
      const required = Number(opt('--confirmations') || 3);
      if (required > 3) {
        // Final for the registry (3 confirmations), not for this shop: the widget keeps waiting
        // and counts on. The status poll runs the watcher at most every poll_seconds.
        devnetRpc('hardhat_mine', ['0x3']);
        let midway;
        for (const until = Date.now() + 60000; Date.now() < until; await page.waitForTimeout(1000)) {
          midway = await page.evaluate(async (url) => (await fetch(url)).json(), statusUrl);
          if (!midway.finality || midway.finality.seen >= 4) break;
        }
        report.widget_midway = { state: midway.state, finality: midway.finality };
        // The widget itself shows it at its next poll.
        await page.locator('stablegate-checkout progress[value="4"][max="6"]').waitFor({ state: 'attached', timeout: 30000 });
        report.widget_midway.progress = await page.locator('stablegate-checkout progress').getAttribute('aria-label');
        await page.screenshot({ path: path.join(shots, `${mode}-widget-confirmations.png`), fullPage: true });
        devnetRpc('hardhat_mine', [`0x${(required - 4).toString(16)}`]);
      } else {
        devnetRpc('hardhat_mine', ['0x3']);
      }
      report.widget_settled = await widgetState(page, 'settled');
      step(`widget shows settled at ${required} confirmations`);
      await page.screenshot({ path: path.join(shots, `${mode}-widget-settled.png`), fullPage: true });
      report.final_doc = await page.evaluate(async (url) => (await fetch(url)).json(), statusUrl);
    }
  } catch (error) {
    report.error = String(error && error.message || error).split('\n')[0];
    const p = context.pages()[0];
    if (p) await p.screenshot({ path: path.join(shots, `${mode}-error.png`), fullPage: true }).catch(() => {});
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(report, null, 2));
})();
