// The widget's budgets (DESIGN §13), measured in one run, as ratios against the budget or a peer:
//   1. transfer size of what a page loads (wasm + module with its CSS + one language), gzip -9,
//      against 45 KB, with the breakdown;
//   2. navigation start → QR on screen in headless Chromium, median of RUNS warm and COLD cold
//      navigations, for the hosted pay page (paypage.ts), the widget in a plain page and the same
//      page drawn with npm `qrcode` (bundled with esbuild), under a desktop and a phone profile
//      (CPU 4× throttled, DevTools' Fast 3G), with each page's cumulative layout shift;
//   3. QR encode + SVG throughput of the widget's own wasm (loaded in Node) against npm
//      `qrcode`, same process, same text.
// Usage: node bench/widget/bench.js  (after scripts/build-wasm.sh); RUNS, COLD, ITERS to change counts.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../..');
const WIDGET = path.join(ROOT, 'crates/wasm/pkg/widget');
// The widget's own wasm-bindgen output (scripts/build-wasm.sh bundles its glue into the module).
const WEB = path.join(ROOT, 'target/wasm-widget/pkg');
const RUNS = Number(process.env.RUNS ?? 15);
const ITERS = Number(process.env.ITERS ?? 1000);
const BUDGET = 45 * 1024;
const gz = (buf) => zlib.gzipSync(buf, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function minifiedGz(file, loader) {
  const out = execFileSync(path.join(ROOT, 'node_modules/.bin/esbuild'), ['--minify', `--loader=${loader}`, '--log-level=error'], { input: fs.readFileSync(file), maxBuffer: 1 << 24 });
  return gz(out);
}

function sizes() {
  const wasm = fs.readFileSync(path.join(WIDGET, 'stablegate_wasm_bg.wasm'));
  const module = fs.readFileSync(path.join(WIDGET, 'stablegate-checkout.js'));
  const langs = Object.fromEntries(fs.readdirSync(path.join(WIDGET, 'i18n')).map((f) => [f.replace(/\.json$/, ''), gz(fs.readFileSync(path.join(WIDGET, 'i18n', f)))]));
  const largestLang = Math.max(...Object.values(langs));
  const total = gz(wasm) + gz(module) + largestLang;
  console.log('== transfer size, gzip -9 (what one page loads: wasm + module + one language)');
  console.log(`wasm (pkg/widget/stablegate_wasm_bg.wasm): ${wasm.length} B raw, ${gz(wasm)} B gzip`);
  console.log(`module (code + wasm-bindgen glue + CSS, minified): ${module.length} B raw, ${gz(module)} B gzip`);
  console.log(`  of which, minified alone: glue ${minifiedGz(path.join(WEB, 'stablegate_wasm.js'), 'js')} B, CSS ${minifiedGz(path.join(ROOT, 'crates/wasm/widget/stablegate-checkout.css'), 'css')} B, widget code ${minifiedGz(path.join(ROOT, 'crates/wasm/widget/stablegate-checkout.js'), 'js')} B gzip`);
  for (const [lang, size] of Object.entries(langs)) console.log(`i18n/${lang}.json: ${size} B gzip`);
  const node = fs.readFileSync(path.join(ROOT, 'crates/wasm/pkg/node/stablegate_wasm_bg.wasm'));
  console.log(`for comparison, the Node build's wasm (feature server, every function): ${node.length} B raw, ${gz(node)} B gzip`);
  console.log(`total (largest language): ${total} B = ${kb(total)}; budget ${kb(BUDGET)}; total/budget: ${(total / BUDGET).toFixed(3)}`);
  // scripts/build-wasm.sh refuses to publish an over-budget widget; this catches a stale build.
  if (total > BUDGET) throw new Error(`the widget is ${total} B gzip, over its ${BUDGET} B budget`);
  return total;
}

async function throughput() {
  const QRCode = require('qrcode');
  const web = await import(path.join(WEB, 'stablegate_wasm.js'));
  web.initSync({ module: fs.readFileSync(path.join(WEB, 'stablegate_wasm_bg.wasm')) });
  const text = 'ethereum:0x5FbDB2315678afecb367f032d93F642f64180aa3@31337/transfer?address=0xa0Ee7A142d267C1f36714E4a8F75612F20a79720&uint256=12340000';
  const ours = () => web.qrSvg(text);
  const peer = () => {
    let out;
    // With a callback, npm qrcode renders synchronously (no Promise in the timed loop).
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 }, (e, s) => {
      if (e) throw e;
      out = s;
    });
    return out;
  };
  const time = (fn) => {
    for (let i = 0; i < Math.min(200, ITERS); i += 1) fn();
    let best = Infinity;
    for (let round = 0; round < 3; round += 1) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < ITERS; i += 1) fn();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
    }
    return ITERS / (best / 1000);
  };
  const a = time(ours);
  const b = time(peer);
  console.log(`== QR encode + SVG throughput, Node ${process.version}, same process, ${text.length}-byte EIP-681 URI, EC level M, best of 3 × ${ITERS}`);
  console.log(`widget wasm qrSvg: ${a.toFixed(0)} ops/s, SVG ${ours().length} B`);
  console.log(`npm qrcode 1.5.4 toString svg: ${b.toFixed(0)} ops/s, SVG ${peer().length} B`);
  console.log(`throughput wasm/npm: ${(a / b).toFixed(2)}; SVG size wasm/npm: ${(ours().length / peer().length).toFixed(2)}`);
}

// The two profiles of the navigation bench. "phone": a mid-range phone as DevTools emulates one,
// CPU 4× slower (Emulation.setCPUThrottlingRate) on DevTools' "Fast 3G" preset (562.5 ms RTT,
// 1.44 Mbit/s down, 675 kbit/s up; Network.emulateNetworkConditions).
const PROFILES = {
  desktop: null,
  phone: { cpu: 4, network: { offline: false, latency: 562.5, downloadThroughput: (1.44e6 / 8), uploadThroughput: (675e3 / 8) } },
};
const COLD = Number(process.env.COLD ?? 5);
const PAGES = ['hosted', 'widget', 'peer'];

/** The hosted pay page's HTML, from the server's own code (shopify-app/dist, built by tsc). */
function hostedHtml(statusUrl) {
  const dist = path.join(ROOT, 'shopify-app/dist/paypage.js');
  if (!fs.existsSync(dist)) execFileSync(path.join(ROOT, 'shopify-app/node_modules/.bin/tsc'), ['-p', path.join(ROOT, 'shopify-app')]);
  const { payPage, PAY_CSS } = require(dist);
  return { html: payPage({ id: 'inv_bench', order_id: '1001' }, statusUrl, false, true), css: PAY_CSS };
}

async function navigation() {
  const http = require('node:http');
  const { launch } = require(path.join(ROOT, 'tests/e2e/widget/browser'));
  const { invoiceStory } = require(path.join(ROOT, 'tests/e2e/widget/docs'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-bench-widget-'));
  const peerBundle = path.join(tmp, 'peer.js');
  execFileSync(path.join(ROOT, 'node_modules/.bin/esbuild'), [path.join(__dirname, 'peer.mjs'), '--bundle', '--minify', '--format=esm', '--target=es2022', `--outfile=${peerBundle}`, '--log-level=error']);
  const hosted = hostedHtml('/status');
  let doc;
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const head = { 'cache-control': 'no-store' };
    if (url.pathname === '/status') return res.writeHead(200, { ...head, 'content-type': 'application/json' }).end(JSON.stringify(doc));
    if (url.pathname === '/peer.js') return res.writeHead(200, { ...head, 'content-type': types['.js'] }).end(fs.readFileSync(peerBundle));
    if (url.pathname === '/assets/pay.css') return res.writeHead(200, { ...head, 'content-type': 'text/css' }).end(hosted.css);
    if (url.pathname.startsWith('/widget/')) {
      const file = path.join(WIDGET, path.normalize(url.pathname.slice(8)));
      if (file.startsWith(WIDGET) && fs.existsSync(file)) return res.writeHead(200, { ...head, 'content-type': types[path.extname(file)] }).end(fs.readFileSync(file));
    }
    const shell = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">${body}`;
    if (url.pathname === '/hosted.html') return res.writeHead(200, { ...head, 'content-type': 'text/html' }).end(hosted.html);
    if (url.pathname === '/widget.html') {
      return res.writeHead(200, { ...head, 'content-type': 'text/html' }).end(shell(`<script type="module" src="/widget/stablegate-checkout.js"></script></head>
<body><stablegate-checkout status-url="/status"></stablegate-checkout></body></html>`));
    }
    if (url.pathname === '/peer.html') {
      return res.writeHead(200, { ...head, 'content-type': 'text/html' }).end(shell(`<script type="module" src="/peer.js"></script></head>
<body><div data-status-url="/status"></div><div id="qr" style="width:13rem"></div></body></html>`));
    }
    return res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  doc = invoiceStory({ base, name: 'bench', recipient: '0xa0Ee7A142d267C1f36714E4a8F75612F20a79720', amount: '12.34' }).doc({ poll: 0 });
  const browser = await launch();
  // In every page: when the QR is on screen (the widget's first status event, the peer's own
  // mark), and the cumulative layout shift from the first paint on.
  await browser.context.addInitScript(() => {
    window.__cls = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    document.addEventListener('stablegate:status', () => { window.__qrAt ??= performance.now(); }, { once: true });
  });
  const foreign = [];
  browser.context.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  const open = async (profile) => {
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    if (profile) {
      await cdp.send('Network.enable');
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
      await cdp.send('Network.emulateNetworkConditions', profile.network);
    }
    return { page, cdp };
  };
  const measure = async ({ page }, which) => {
    await page.goto(`${base}/${which}.html`);
    await page.waitForFunction(() => window.__qrAt !== undefined, null, { timeout: 120000 });
    const ok = which === 'peer'
      ? await page.evaluate(() => !!document.querySelector('#qr svg path'))
      : await page.evaluate(() => !!document.querySelector('stablegate-checkout').shadowRoot.querySelector('.qr svg path'));
    if (!ok) throw new Error(`${which}: no QR on screen when it reported one`);
    // Settled: half a second (of throttled time) after the QR, for any late shift.
    await page.waitForTimeout(500);
    return page.evaluate(() => ({ at: window.__qrAt, cls: window.__cls }));
  };
  const results = {};
  try {
    for (const [name, profile] of Object.entries(PROFILES)) {
      const warm = await open(profile);
      for (const which of PAGES) await measure(warm, which); // warm-up
      const r = Object.fromEntries(PAGES.map((w) => [w, { warm: [], cold: [], cls: 0 }]));
      for (let i = 0; i < RUNS; i += 1) {
        const order = i % 2 ? [...PAGES].reverse() : PAGES;
        for (const which of order) {
          const m = await measure(warm, which);
          r[which].warm.push(m.at);
          r[which].cls = Math.max(r[which].cls, m.cls);
        }
      }
      await warm.page.close();
      // Cold: a new tab with the browser's caches cleared and no open connection to the server.
      for (let i = 0; i < COLD; i += 1) {
        for (const which of PAGES) {
          const cold = await open(profile);
          await cold.cdp.send('Network.clearBrowserCache');
          server.closeAllConnections();
          const m = await measure(cold, which);
          r[which].cold.push(m.at);
          r[which].cls = Math.max(r[which].cls, m.cls);
          await cold.page.close();
        }
      }
      results[name] = r;
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (foreign.length) throw new Error(`requests to another origin: ${foreign.join(', ')}`);
  const label = { hosted: 'hosted pay page (paypage.ts)', widget: 'widget in a plain page', peer: 'npm qrcode page' };
  console.log(`== navigation start → QR on screen, headless Chromium, no-store; median of ${RUNS} warm and ${COLD} cold navigations; CLS = largest cumulative layout shift seen`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`-- profile ${name}${PROFILES[name] ? ` (CPU ${PROFILES[name].cpu}× slower, Fast 3G)` : ' (no throttling)'}`);
    for (const which of PAGES) {
      console.log(`${label[which]}: warm ${median(r[which].warm).toFixed(1)} ms, cold ${median(r[which].cold).toFixed(1)} ms, CLS ${r[which].cls.toFixed(4)}`);
    }
    for (const [which, goal] of [['hosted', name === 'phone' ? 0.5 : null], ['widget', name === 'phone' ? 0.8 : null]]) {
      const warm = median(r[which].warm) / median(r.peer.warm);
      const cold = median(r[which].cold) / median(r.peer.cold);
      console.log(`nav→QR ${which}/npm, ${name}: warm ${warm.toFixed(2)}, cold ${cold.toFixed(2)}${goal ? ` (goal: at most ${goal.toFixed(2)})` : ''}`);
    }
  }
}

(async () => {
  sizes();
  await throughput();
  await navigation();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
