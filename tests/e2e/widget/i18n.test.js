// The build's check of the widget's language files (crates/wasm/widget/check-i18n.cjs): a file
// that lacks a key of en.json, or drops or renames a placeholder, fails the build.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const WIDGET_SRC = path.resolve(__dirname, '../../../crates/wasm/widget');
const CHECK = path.join(WIDGET_SRC, 'check-i18n.cjs');

function check(strings, english = { exact: 'Must be exactly {amount} {symbol}.', title: 'Pay' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-i18n-'));
  try {
    fs.writeFileSync(path.join(dir, 'en.json'), JSON.stringify(english));
    fs.writeFileSync(path.join(dir, 'xx.json'), JSON.stringify(strings, null, 2));
    const run = spawnSync(process.execPath, [CHECK, path.join(dir, 'xx.json'), path.join(dir, 'out.json'), path.join(dir, 'en.json')], { encoding: 'utf8' });
    const out = fs.existsSync(path.join(dir, 'out.json')) ? fs.readFileSync(path.join(dir, 'out.json'), 'utf8') : null;
    return { status: run.status, stderr: run.stderr, out };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a complete catalogue passes and is written minified', () => {
  const r = check({ exact: '必须正好是 {amount} {symbol}。', title: '付款' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.out, '{"exact":"必须正好是 {amount} {symbol}。","title":"付款"}');
});

test('a missing key, a dropped placeholder and a renamed one each fail, naming the key', () => {
  for (const [strings, message] of [
    [{ exact: '{amount} {symbol}' }, /missing title/],
    [{ exact: '必须正好是 {symbol}。', title: '付款' }, /exact has placeholders "\{symbol\}", en.json "\{amount\} \{symbol\}"/],
    [{ exact: '{amout} {symbol}', title: '付款' }, /exact has placeholders/],
  ]) {
    const r = check(strings);
    assert.equal(r.status, 1, JSON.stringify(strings));
    assert.match(r.stderr, message);
    assert.equal(r.out, null, 'nothing is written');
  }
});

test('the shipped catalogues pass', () => {
  for (const file of fs.readdirSync(path.join(WIDGET_SRC, 'i18n'))) {
    const r = check(JSON.parse(fs.readFileSync(path.join(WIDGET_SRC, 'i18n', file), 'utf8')), JSON.parse(fs.readFileSync(path.join(WIDGET_SRC, 'i18n/en.json'), 'utf8')));
    assert.equal(r.status, 0, `${file}: ${r.stderr}`);
  }
});
