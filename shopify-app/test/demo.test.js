// `make demo` itself: scripts/demo.sh is started as a user would, one purchase is driven over
// HTTP (Buy → pay page → "pay from the demo wallet" → the shop's order becomes paid from a
// verified webhook), then SIGINT stops it, and nothing it started is left running.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('make demo: buy, pay from the demo wallet, settle, webhook verified; Ctrl-C stops everything', { timeout: 180000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-demo-'));
  const child = spawn(path.join(root, 'scripts', 'demo.sh'), [], {
    cwd: root,
    env: { ...process.env, STABLEGATE_DEMO_PORT: '0', STABLEGATE_DEMO_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = async (test, what, ms = 120000) => {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const value = await test();
      if (value) return value;
      if (child.exitCode !== null) throw new Error(`demo exited early:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}:\n${out}`);
  };
  let devnetPid;
  try {
    const shop = await waitFor(() => /Shop: +(http:\/\/\S+)/.exec(out)?.[1], 'the shop URL');
    const server = /Server: +(http:\/\/\S+)/.exec(out)[1];
    devnetPid = JSON.parse(fs.readFileSync(path.join(dir, 'devnet', 'devnet.json'), 'utf8')).pid;
    assert.ok(alive(devnetPid));

    const home = await (await fetch(shop)).text();
    assert.match(home, /<button type="submit" id="buy">Buy<\/button>/);
    const buy = await fetch(`${shop}/buy`, { method: 'POST', redirect: 'manual' });
    assert.equal(buy.status, 303);
    const payUrl = buy.headers.get('location');
    assert.ok(payUrl.startsWith(`${server}/pay/inv_`), payUrl);
    const payPage = await (await fetch(payUrl)).text();
    assert.match(payPage, /Pay from the demo wallet/);
    const id = payUrl.split('/').pop();
    const paid = await fetch(`${server}/demo/pay/${id}`, { method: 'POST' });
    assert.equal(paid.status, 200);
    const { tx_hash } = await paid.json();
    assert.match(tx_hash, /^0x[0-9a-f]{64}$/);

    const order = await waitFor(async () => {
      const orders = await (await fetch(`${shop}/orders.json`)).json();
      return orders.find((o) => o.invoice === id && o.state === 'paid');
    }, 'the order to be paid');
    assert.deepEqual(order.events, ['invoice.created', 'invoice.new', 'invoice.processing', 'invoice.settled']);
    const status = await (await fetch(`${server}/api/v1/checkout/${id}`)).json();
    assert.deepEqual([status.state, status.transfers[0].tx], ['settled', tx_hash]);
    // The terminal told each step.
    for (const step of ['invoice created', 'demo wallet paid', 'transfer seen and credited', 'transfer final', 'webhook delivered', 'shop: webhook invoice.settled received, signature verified']) {
      assert.ok(out.includes(step), `the terminal shows "${step}"`);
    }

    child.kill('SIGINT');
    const { code } = await exited;
    assert.equal(code, 0, out);
    assert.match(out, /demo: stopped/);
    await waitFor(() => !alive(devnetPid), 'the devnet to stop', 10000).catch(() => undefined);
    assert.equal(alive(devnetPid), false, 'the devnet process is gone');
    for (const url of [shop, server]) {
      await assert.rejects(fetch(url, { signal: AbortSignal.timeout(2000) }), `${url} no longer answers`);
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    if (devnetPid && alive(devnetPid)) process.kill(devnetPid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
