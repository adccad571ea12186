// The widget's budgets (DESIGN §13), measured in one run, as ratios against the budget or a peer:
//   1. transfer size of what a page loads (wasm + module with its CSS + one language), gzip -9,
//      against 45 KB, with the breakdown;
//   2. navigation start → QR on screen in headless Chromium, warm, median of RUNS navigations,
//      against the same page drawn with npm `qrcode` (bundled with esbuild);
//   3. QR encode + SVG throughput of the widget's own wasm (loaded in Node) against npm
//      `qrcode`, same process, same text.
// Usage: node bench/widget/bench.js  (after scripts/build-wasm.sh); RUNS, ITERS to change counts.
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

async function navigation() {
  const http = require('node:http');
  const { launch } = require(path.join(ROOT, 'tests/e2e/widget/browser'));
  const { invoiceStory } = require(path.join(ROOT, 'tests/e2e/widget/docs'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-bench-widget-'));
  const peerBundle = path.join(tmp, 'peer.js');
  execFileSync(path.join(ROOT, 'node_modules/.bin/esbuild'), [path.join(__dirname, 'peer.mjs'), '--bundle', '--minify', '--format=esm', '--target=es2022', `--outfile=${peerBundle}`, '--log-level=error']);
  let doc;
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const head = { 'cache-control': 'no-store' };
    if (url.pathname === '/status') return res.writeHead(200, { ...head, 'content-type': 'application/json' }).end(JSON.stringify(doc));
    if (url.pathname === '/peer.js') return res.writeHead(200, { ...head, 'content-type': types['.js'] }).end(fs.readFileSync(peerBundle));
    if (url.pathname.startsWith('/widget/')) {
      const file = path.join(WIDGET, path.normalize(url.pathname.slice(8)));
      if (file.startsWith(WIDGET) && fs.existsSync(file)) return res.writeHead(200, { ...head, 'content-type': types[path.extname(file)] }).end(fs.readFileSync(file));
    }
    const shell = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">${body}`;
    if (url.pathname === '/widget.html') {
      return res.writeHead(200, { ...head, 'content-type': 'text/html' }).end(shell(`<script type="module" src="/widget/stablegate-checkout.js"></script>
<script>document.addEventListener('stablegate:status', () => { window.__qrAt = performance.now(); }, { once: true });</script></head>
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
  const page = await browser.context.newPage();
  const measure = async (which) => {
    await page.goto(`${base}/${which}.html`);
    await page.waitForFunction(() => window.__qrAt !== undefined);
    const ok = which === 'widget'
      ? await page.evaluate(() => !!document.querySelector('stablegate-checkout').shadowRoot.querySelector('.qr svg path'))
      : await page.evaluate(() => !!document.querySelector('#qr svg path'));
    if (!ok) throw new Error(`${which}: no QR on screen when it reported one`);
    return page.evaluate(() => window.__qrAt);
  };
  const times = { widget: [], peer: [] };
  try {
    await measure('widget');
    await measure('peer'); // warm-up: the first navigation of each pays the browser's cold start
    for (let i = 0; i < RUNS; i += 1) {
      for (const which of i % 2 ? ['peer', 'widget'] : ['widget', 'peer']) times[which].push(await measure(which));
    }
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const w = median(times.widget);
  const p = median(times.peer);
  console.log(`== navigation start → QR on screen, headless Chromium, warm, no-store, median of ${RUNS}`);
  console.log(`widget (module + wasm + i18n + status fetch): ${w.toFixed(1)} ms`);
  console.log(`npm qrcode page (esbuild bundle + status fetch): ${p.toFixed(1)} ms`);
  console.log(`nav→QR widget/npm: ${(w / p).toFixed(2)} (budget: at most 1.00)`);
}

(async () => {
  sizes();
  await throughput();
  await navigation();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
