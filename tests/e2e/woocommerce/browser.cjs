// Launches Debian's Chromium for the WooCommerce end-to-end scripts: a fresh profile, headless,
// no background traffic, and every request to another host than the shop's aborted and reported.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require(process.env.PLAYWRIGHT);

/**
 * Returns { context, page, close } for the shop at `base`; blocked URLs go to `blocked`.
 */
async function launch(base, viewport, blocked) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-wc-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport,
  });
  const local = new Set([new URL(base).hostname, '127.0.0.1', 'localhost']);
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.protocol === 'blob:' || local.has(u.hostname)) return route.continue();
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] || (await context.newPage());
  const close = async () => {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, page, close };
}

/** Logs `page` into the shop's wp-admin as WP_ADMIN_USER (the shop's admin). */
async function login(page, base) {
  await page.goto(`${base}/wp-login.php`, { waitUntil: 'domcontentloaded' });
  await page.fill('#user_login', process.env.WP_ADMIN_USER);
  await page.fill('#user_pass', process.env.WP_ADMIN_PASS);
  await Promise.all([page.waitForNavigation({ timeout: 60000 }), page.click('#wp-submit')]);
}

module.exports = { launch, login };
