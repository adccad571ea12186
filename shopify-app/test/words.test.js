// Every word a customer can read, checked for what must never reach them: error codes
// (snake_case identifiers), invoice or key ids, hexadecimal hashes, HTTP statuses, and
// placeholders that would show the host's own message. It scans both catalogues of the widget
// (crates/wasm/widget/i18n, en and zh-CN) and the server's sentences for its public checkout
// routes (src/customer.ts), and checks that every error code the widget has a sentence for, the
// server has one too, and the other way round.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { CUSTOMER_MESSAGES, CUSTOMER_FALLBACK, forCustomer } = require('../dist/customer');
const { ApiError } = require('../dist/errors');

const I18N = path.join(__dirname, '..', '..', 'crates', 'wasm', 'widget', 'i18n');
const catalogue = (lang) => JSON.parse(fs.readFileSync(path.join(I18N, `${lang}.json`), 'utf8'));

/** What gives away a code or an id, each with the reason it is refused. */
const LEAKS = [
  [/\b[a-z]+(?:_[a-z0-9]+)+\b/, 'a snake_case code'],
  [/\b(?:inv|key|whd|cc|evt)_[A-Za-z0-9]+/, 'an id'],
  [/0x[0-9a-fA-F]{8,}/, 'a hexadecimal hash or address'],
  [/\b[0-9a-fA-F]{16,}\b/, 'a long hexadecimal string'],
  [/\bHTTP\s*\d{3}\b|\b[45]\d\d\b/, 'an HTTP status'],
  [/\{(?:reason|message|code|error|id|invoice)\}/, 'a placeholder for an internal message'],
];

function leaks(text) {
  // Placeholders the widget fills with customer-facing values ({amount}, {network}…) are fine;
  // they are checked by name above, so take them out before looking for codes.
  const bare = text.replace(/\{(amount|symbol|network|wallet|what|time|seen|required|paid|due|remaining|address|tx|total)\}/g, 'X');
  return LEAKS.filter(([pattern]) => pattern.test(bare)).map(([, why]) => why);
}

test('the widget catalogues show no code, id, hash or internal message to a customer, in en and zh-CN', () => {
  for (const lang of ['en', 'zh-CN']) {
    const strings = catalogue(lang);
    for (const [key, text] of Object.entries(strings)) {
      assert.deepEqual(leaks(text), [], `${lang} ${key}: ${JSON.stringify(text)}`);
    }
  }
});

test('the server\'s checkout errors are sentences with no code or id, and match the widget\'s codes', () => {
  for (const [code, text] of [...Object.entries(CUSTOMER_MESSAGES), ['fallback', CUSTOMER_FALLBACK]]) {
    assert.deepEqual(leaks(text), [], `${code}: ${JSON.stringify(text)}`);
    assert.match(text, /^[A-Z].*\.$/, `${code}: one or more full sentences`);
  }
  const en = catalogue('en');
  const widgetCodes = Object.keys(en).filter((k) => k.startsWith('error_')).map((k) => k.slice('error_'.length));
  for (const code of Object.keys(CUSTOMER_MESSAGES)) {
    // The widget may say it in its own words, but says something specific for each.
    if (!['invalid_log', 'write_conflict'].includes(code)) assert.ok(widgetCodes.includes(code), `the widget has no sentence for ${code}`);
  }
  for (const code of widgetCodes) {
    // The WordPress plugin's own: bad_nonce (a payment page older than its nonce), busy (its
    // lock wait), not_final_yet (its claims wait for finality); the server has none of them.
    if (!['generic', 'offline', 'bad_nonce', 'busy', 'not_final_yet'].includes(code)) assert.ok(code in CUSTOMER_MESSAGES, `the server has no sentence for ${code}`);
  }
});

test('forCustomer keeps the code, status, field and retry delay, and drops the internal message', () => {
  const internal = new ApiError('reserved_for_another_invoice', 'this is exactly the amount invoice inv_0123456789 expects', 'tx_hash');
  const shown = forCustomer(internal);
  assert.deepEqual([shown.code, shown.status, shown.field], ['reserved_for_another_invoice', 409, 'tx_hash']);
  assert.equal(shown.message, CUSTOMER_MESSAGES.reserved_for_another_invoice);
  assert.doesNotMatch(JSON.stringify(shown.toJSON()), /inv_/);
  const limited = forCustomer(new ApiError('rate_limited', 'too many claims; try again in 42 s', undefined, 42));
  assert.deepEqual([limited.status, limited.retryAfter, limited.message], [429, 42, CUSTOMER_MESSAGES.rate_limited]);
  const hash = forCustomer(new ApiError('invalid_tx_hash', 'tx_hash: is not a devnet transaction hash: invalid_tx_hash', 'tx_hash'));
  assert.equal(hash.message, CUSTOMER_MESSAGES.invalid_tx_hash);
  assert.equal(forCustomer(new ApiError('internal_error', 'SQLITE_BUSY at db.ts:42')).message, CUSTOMER_FALLBACK);
  const plain = new Error('not an ApiError');
  assert.equal(forCustomer(plain), plain);
});
