// Screenshots of the gateway's settings screen as the merchant sees it, logged in as the shop's
// admin, at desktop width (1280 px) and on a phone (360 px), full page. Also reports which rows
// are visible, so a test can check what the screen shows for the saved choices.
// Usage: settings-shots.cjs PREFIX   (writes $SHOTS/PREFIX-desktop.png and PREFIX-360.png)
// Env: BASE_URL, WP_ADMIN_USER, WP_ADMIN_PASS, PLAYWRIGHT, SHOTS.
'use strict';
const path = require('node:path');
const { launch, login } = require('./browser.cjs');

const BASE = process.env.BASE_URL;
const prefix = process.argv[2] || 'settings';
const report = { console_errors: [], blocked_requests: [], shots: [], visible: {} };

(async () => {
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['360', { width: 360, height: 740 }]]) {
    const browser = await launch(BASE, viewport, report.blocked_requests);
    const { page } = browser;
    page.on('pageerror', (e) => report.console_errors.push(`pageerror: ${e.message}`));
    try {
      await login(page, BASE);
      await page.goto(`${BASE}/wp-admin/admin.php?page=wc-settings&tab=checkout&section=stablegate`, { waitUntil: 'load' });
      await page.waitForTimeout(800); // selectWoo builds the chips after load.
      const file = path.join(process.env.SHOTS, `${prefix}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      report.shots.push(file);
      // The settings rows a merchant can see, by field key.
      report.visible[name] = await page.evaluate(() => [...document.querySelectorAll('[id^="woocommerce_stablegate_"]')]
        .filter((el) => el.offsetParent !== null || (el.tagName === 'SELECT' && el.nextElementSibling && el.nextElementSibling.offsetParent !== null))
        .map((el) => el.id.replace('woocommerce_stablegate_', '')));
      report.page_width = report.page_width || {};
      report.page_width[name] = await page.evaluate(() => document.documentElement.scrollWidth);
    } catch (error) {
      report.error = String(error && error.message || error).split('\n')[0];
      process.exitCode = 1;
    } finally {
      await browser.close();
    }
  }
  console.log(JSON.stringify(report, null, 2));
})();
