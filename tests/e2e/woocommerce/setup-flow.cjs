// A merchant's first minutes after activating the plugin, in headless Chromium, logged in as the
// shop's admin (scripts/test-woocommerce.sh runs it in a shop whose registry defaults point at the
// devnet, and whose sandbox stands the devnet in for the test networks).
//
// Usage: node setup-flow.cjs address   Plugins screen (the Settings link, the notice naming the
//                                      missing address) → the notice's link → choose the devnet's two tokens,
//                                      paste an address, enable, save; reports the save's messages.
//        node setup-flow.cjs sandbox   switch the sandbox on, save, "Pay a test invoice"; reports
//                                      the order-pay page it lands on and the invoice it shows.
// Env: BASE_URL, WP_ADMIN_USER, WP_ADMIN_PASS, PLAYWRIGHT, SHOTS. Prints a JSON report.
'use strict';
const path = require('node:path');
const { launch, login } = require('./browser.cjs');

const BASE = process.env.BASE_URL;
const mode = process.argv[2];
const report = { mode, console_errors: [], blocked_requests: [] };
const shot = (page, name) => page.screenshot({ path: path.join(process.env.SHOTS, `setup-${name}.png`), fullPage: true });

/** Saves the settings form and returns WooCommerce's messages and errors as text. */
async function save(page) {
  await Promise.all([page.waitForNavigation({ timeout: 60000 }), page.locator('button[name="save"]').click()]);
  return page.locator('#mainform .notice, #mainform .updated, #mainform .error, #message').allInnerTexts();
}

async function address(page) {
  await page.goto(`${BASE}/wp-admin/plugins.php`, { waitUntil: 'domcontentloaded' });
  report.settings_link = await page.locator('tr[data-plugin="stablegate/stablegate.php"] .settings a').getAttribute('href');
  report.notice = await page.locator('.stablegate-setup').innerText();
  await shot(page, 'plugins');
  await Promise.all([page.waitForNavigation({ timeout: 60000 }), page.locator('.stablegate-setup a').click()]);
  report.notice_led_to = page.url();
  // The networks field is selectWoo's: choose as the merchant would, through its select.
  await page.locator('#woocommerce_stablegate_networks').evaluate((select) => {
    for (const option of select.options) option.selected = option.value.startsWith('devnet:');
    window.jQuery(select).trigger('change');
  });
  report.rows_for_the_devnet = await page.evaluate(() => [...document.querySelectorAll('tr[data-stablegate-field]')]
    .filter((row) => !row.hidden && !row.classList.contains('stablegate-folded')).map((row) => row.dataset.stablegateField));
  await page.locator('#woocommerce_stablegate_addresses_evm').fill('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
  await page.locator('#woocommerce_stablegate_enabled').check();
  report.saved_messages = await save(page);
  report.notice_after = await page.locator('.stablegate-setup').count();
  await shot(page, 'saved');
}

async function sandbox(page) {
  await page.goto(`${BASE}/wp-admin/admin.php?page=wc-settings&tab=checkout&section=stablegate`, { waitUntil: 'domcontentloaded' });
  const box = page.locator('#woocommerce_stablegate_sandbox');
  report.sandbox_was_on = await box.isChecked();
  // WooCommerce keeps "Save changes" disabled until something changed.
  if (!report.sandbox_was_on) {
    await box.check();
    report.saved_messages = await save(page);
  }
  await shot(page, 'sandbox-on');
  await Promise.all([page.waitForNavigation({ timeout: 60000 }), page.locator('.stablegate-test-invoice a.button').click()]);
  report.landed_on = page.url();
  report.order_id = Number((page.url().match(/order-pay\/(\d+)/) || [])[1]) || null;
  const widget = page.locator('stablegate-checkout');
  await widget.waitFor({ state: 'attached', timeout: 30000 });
  const statusUrl = await widget.getAttribute('status-url');
  report.invoice = await page.evaluate(async (url) => (await fetch(url)).json(), statusUrl);
  await page.waitForTimeout(1500); // The widget renders the invoice.
  await shot(page, 'test-invoice');
}

(async () => {
  const browser = await launch(BASE, { width: 1280, height: 900 }, report.blocked_requests);
  const { page } = browser;
  page.on('pageerror', (e) => report.console_errors.push(`pageerror: ${e.message}`));
  try {
    await login(page, BASE);
    if (mode === 'address') await address(page);
    else if (mode === 'sandbox') await sandbox(page);
    else throw new Error(`unknown mode ${mode}`);
  } catch (error) {
    report.error = String(error && error.message || error).split('\n')[0];
    await shot(page, `${mode}-error`).catch(() => {});
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(report, null, 2));
})();
