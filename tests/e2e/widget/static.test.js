// Acceptance: a plain HTML file with the element and a status URL works when served by any static
// server. Here the server is Python's http.server (not ours): the widget folder as the build
// writes it, one HTML file, and the status document as a JSON file (with poll_after_ms 0, since a
// file never changes).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { WIDGET_DIR } = require('./host');
const { launch, decodeQr } = require('./browser');
const { invoiceStory } = require('./docs');

test('a plain HTML page served by python3 -m http.server shows the payment', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-widget-static-'));
  fs.cpSync(WIDGET_DIR, path.join(dir, 'assets', 'stablegate'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Order 1001</title>
<script type="module" src="assets/stablegate/stablegate-checkout.js"></script></head>
<body><h1>Order 1001</h1><stablegate-checkout status-url="status.json"></stablegate-checkout></body></html>`);
  const server = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let browser;
  try {
    const port = await new Promise((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (chunk) => {
        out += chunk;
        const m = out.match(/port (\d+)/);
        if (m) resolve(Number(m[1]));
      });
      server.on('exit', (code) => reject(new Error(`http.server exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const doc = { ...invoiceStory({ base, name: 'static', recipient: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', amount: '42' }).doc(), poll_after_ms: 0 };
    doc.links = { choose: null, claim: null, events: null, new_invoice: null };
    fs.writeFileSync(path.join(dir, 'status.json'), JSON.stringify(doc));
    browser = await launch();
    const page = await browser.context.newPage();
    await page.goto(`${base}/index.html`);
    const widget = page.locator('stablegate-checkout');
    await widget.and(page.locator('[data-state="new"]')).waitFor();
    assert.equal(await widget.locator('[data-field="amount"]').innerText(), '42.00 USDT');
    assert.equal(decodeQr(await widget.locator('.qr').screenshot()), doc.payment_uri);
    assert.deepEqual(browser.requests.filter((u) => !u.startsWith(base)), []);
  } finally {
    await browser?.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => (server.exitCode !== null ? resolve() : server.on('exit', resolve)));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
