// scripts/build-wasm.sh may run while another run or a suite uses its outputs (make test while
// make bench; the server and plugin suites read pkg/ too). A reader must never find an output
// missing or half-written, a failed build must leave the last complete outputs in place, and the
// next run must not call a half-finished build up to date.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../../..');
const PKG = path.join(ROOT, 'crates/wasm/pkg');
const OUTPUTS = ['node/stablegate_wasm.js', 'node/stablegate_wasm_bg.wasm', 'node/package.json', 'web/stablegate_wasm.js',
  'web/stablegate_wasm_bg.wasm', 'widget/stablegate-checkout.js', 'widget/stablegate_wasm_bg.wasm', 'widget/i18n/en.json',
  'widget/i18n/zh-CN.json'].map((f) => path.join(PKG, f));

function build(env = {}) {
  return new Promise((resolve) => {
    const child = spawn(path.join(ROOT, 'scripts/build-wasm.sh'), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** Checks every few milliseconds, until `done` settles, that every output exists; returns what was missing. */
async function watchOutputs(done) {
  const missing = new Set();
  let finished = false;
  done.finally(() => (finished = true));
  while (!finished) {
    for (const file of OUTPUTS) if (!fs.existsSync(file)) missing.add(path.relative(PKG, file));
    await new Promise((r) => setTimeout(r, 3));
  }
  return [...missing];
}

// Forces a build without changing any source's content (sources are found by modification time).
const touchSource = () => {
  const now = new Date();
  fs.utimesSync(path.join(ROOT, 'crates/wasm/widget/i18n/en.json'), now, now);
};

// Three builds of the wasm: minutes on a busy two-core machine (a guard against a hang, not a time budget).
test('build-wasm.sh: a failed build leaves the last outputs whole; then two runs at once: one builds, one waits and finds it done', { timeout: 600000 }, async () => {
  const first = await build();
  assert.equal(first.code, 0, first.output);
  touchSource();
  // The zh-CN catalogue's step fails (injected through NODE_OPTIONS; no source is changed, so a
  // build running elsewhere on this tree is unaffected).
  const inject = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sg-build-')), 'fail.js');
  fs.writeFileSync(inject, "if (process.argv.some((a) => a.endsWith('i18n/zh-CN.json'))) { console.error('injected failure'); process.exit(3); }\n");
  const failing = build({ NODE_OPTIONS: `--require=${inject}` });
  const missingWhileFailing = await watchOutputs(failing);
  const failed = await failing;
  fs.rmSync(path.dirname(inject), { recursive: true, force: true });
  assert.notEqual(failed.code, 0, 'the injected failure fails the build');
  assert.deepEqual(missingWhileFailing, [], 'outputs missing while the failing build ran');

  const both = Promise.all([build(), build()]);
  const missing = await watchOutputs(both);
  const runs = await both;
  for (const run of runs) assert.equal(run.code, 0, run.output);
  assert.deepEqual(missing, [], 'outputs missing while the builds ran');
  // The failed build was not taken for a complete one: one run built; the other waited for it.
  assert.deepEqual(runs.map((run) => /up to date/.test(run.output)).sort(), [false, true]);
  for (const file of OUTPUTS) assert.ok(fs.existsSync(file), file);
});
