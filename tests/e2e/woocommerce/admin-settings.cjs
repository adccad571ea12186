// The gateway's settings screen in headless Chromium, logged in as the shop's admin: the "Test
// connection" button runs the doctor's checks on the server against the saved RPC URL (the field
// itself stays empty), and the receiving-address fields are checked live by the core's web build
// (assets/core). An invalid address blocks saving. Prints a JSON report; exit 1 on failure.
// `admin-settings.cjs policy`: instead, the finality policy (a number below the network's own is
// refused and nothing is saved) and a rate source (tried on save; its URL, which holds a key,
// never comes back to the browser), then saves 6 devnet confirmations and the source.
// Env: BASE_URL, WP_ADMIN_USER, WP_ADMIN_PASS, PLAYWRIGHT, SHOTS; RATE_URL for `policy`.
'use strict';
const path = require('node:path');
const { launch, login } = require('./browser.cjs');

const BASE = process.env.BASE_URL;
const report = { console_errors: [] };

(async () => {
  report.blocked_requests = [];
  const browser = await launch(BASE, { width: 1280, height: 1600 }, report.blocked_requests);
  const { page } = browser;
  page.on('pageerror', (e) => report.console_errors.push(`pageerror: ${e.message}`));
  try {
    await login(page, BASE);
    const settingsUrl = `${BASE}/wp-admin/admin.php?page=wc-settings&tab=checkout&section=stablegate`;
    await page.goto(settingsUrl, { waitUntil: 'domcontentloaded' });
    if (process.argv[2] === 'policy') await policy(page, settingsUrl);
    else await connectionAndAddresses(page);
  } catch (error) {
    report.error = String(error && error.message || error).split('\n')[0];
    await page.screenshot({ path: path.join(process.env.SHOTS, 'admin-settings-error.png'), fullPage: true }).catch(() => {});
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(report, null, 2));
})();

async function connectionAndAddresses(page) {
  // Only the chosen networks have rows; a network's RPC URL and confirmations are folded under
  // its row until the merchant opens them.
  const visible = (key) => page.locator(`#woocommerce_stablegate_${key}`).isVisible();
  report.rows_before_unfolding = { network_devnet: await visible('network_devnet'), rpc_devnet: await visible('rpc_devnet'), network_sepolia: await visible('network_sepolia'), rpc_ethereum: await visible('rpc_ethereum') };
  await page.locator('.stablegate-fold-toggle[data-fold="network_devnet"]').click();
  report.rows_after_unfolding = { rpc_devnet: await visible('rpc_devnet'), confirmations_devnet: await visible('confirmations_devnet') };
  const rpc = page.locator('#woocommerce_stablegate_rpc_devnet');
  report.rpc_field_value = await rpc.inputValue();
  report.rpc_field_placeholder = await rpc.getAttribute('placeholder');
  await page.locator('.stablegate-test-connection[data-network="devnet"]').click();
  const result = page.locator('.stablegate-test-connection[data-network="devnet"] ~ .stablegate-test-result');
  await page.waitForFunction((el) => el && el.textContent.includes('eth_getLogs'), await result.elementHandle(), { timeout: 30000 });
  report.test_connection = await result.textContent();

  const evm = page.locator('#woocommerce_stablegate_addresses_evm');
  const note = page.locator('#woocommerce_stablegate_addresses_evm + .stablegate-address-check');
  await note.waitFor({ state: 'attached', timeout: 30000 });
  await evm.fill('0x70997970c51812dc3a010c7d01b50e0d17dc79C8'); // Mixed case, wrong checksum.
  report.bad_address_note = await note.textContent();
  report.bad_address_valid = await evm.evaluate((el) => el.checkValidity());
  await page.screenshot({ path: path.join(process.env.SHOTS, 'admin-settings-bad-address.png'), fullPage: true });
  await page.locator('button[name="save"]').click();
  await page.waitForTimeout(1500);
  report.still_on_settings_after_bad_save = page.url().includes('section=stablegate');
  await evm.fill('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
  report.good_address_note = await note.textContent();
  report.good_address_valid = await evm.evaluate((el) => el.checkValidity());
}

/** Saves the settings form and returns WooCommerce's messages and errors as text. */
async function save(page) {
  await Promise.all([page.waitForNavigation({ timeout: 60000 }), page.locator('button[name="save"]').click()]);
  return page.locator('#message, .notice, .updated, .error').allInnerTexts();
}

async function policy(page, settingsUrl) {
  await page.locator('.stablegate-fold-toggle[data-fold="network_devnet"]').click();
  const confirmations = page.locator('#woocommerce_stablegate_confirmations_devnet');
  report.confirmations_placeholder = await confirmations.getAttribute('placeholder');
  await confirmations.fill('2');
  // The browser's own min check would stop the submit; the server's check is the one under test.
  await confirmations.evaluate((el) => el.removeAttribute('min'));
  report.weaker_finality_notices = await save(page);

  await page.goto(settingsUrl, { waitUntil: 'domcontentloaded' });
  await page.locator('.stablegate-fold-toggle[data-fold="network_devnet"]').click();
  await page.locator('#woocommerce_stablegate_confirmations_devnet').fill('6');
  await page.locator('#woocommerce_stablegate_rate_source').selectOption('url');
  await page.locator('#woocommerce_stablegate_rate_url').fill(`${process.env.RATE_URL}/latest?base={currency}&apikey=s3cret-key`);
  await page.locator('#woocommerce_stablegate_rate_path').fill('rates.usdt');
  report.rate_saved_notices = await save(page);
  await page.screenshot({ path: path.join(process.env.SHOTS, 'admin-settings-rate-source.png'), fullPage: true });
  report.rate_url_field_value = await page.locator('#woocommerce_stablegate_rate_url').inputValue();
  report.rate_url_placeholder = await page.locator('#woocommerce_stablegate_rate_url').getAttribute('placeholder');
  report.page_holds_the_key = (await page.content()).includes('s3cret-key');
  report.rate_status = await page.locator('#woocommerce_stablegate_rate_max_age ~ .description, label[for="woocommerce_stablegate_rate_max_age"] ~ .description').first().innerText().catch(() => null);
}
