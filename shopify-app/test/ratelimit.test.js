// The claim endpoint's rate limits, counted in the database (so they hold across processes): a
// flood of new keys (random invoice ids, or new IPv6 addresses from one subscriber's /64) must not
// reset or dodge the limits of the keys in use.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { RateLimiter, pruneRateLimits, clientKey, clientAddress } = require('../dist/ratelimit');
const { parseConfig } = require('../dist/config');
const { openDb } = require('../dist/db');

test('a flood of new keys never resets a live window; passed windows start again and are pruned', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-ratelimit-'));
  const { db } = await openDb({ sqlite: path.join(dir, 'db.sqlite') });
  try {
    const limiter = new RateLimiter(db, 'claims', 2, 60000);
    const other = new RateLimiter(db, 'other', 2, 60000);
    const t0 = 1_000_000;
    assert.equal(await limiter.take('victim', t0), 0);
    assert.equal(await limiter.take('victim', t0), 0);
    assert.equal(await limiter.take('victim', t0 + 1000), 59, 'the third request in the window waits for its end');
    assert.equal(await other.take('victim', t0), 0, "another limiter's key of the same name is counted apart");
    for (let i = 0; i < 500; i++) await limiter.take(`flood-${i}`, t0 + 1);
    assert.ok((await limiter.take('victim', t0 + 3)) > 0, 'the flood did not reset the limited key');
    assert.equal(await pruneRateLimits(db, 60000, t0 + 30000), 0, 'live windows are kept');
    // Once the window has passed, the key starts a new one.
    assert.equal(await limiter.take('victim', t0 + 60001), 0);
    assert.equal(await pruneRateLimits(db, 60000, t0 + 60002), 501, 'the passed windows are forgotten');
    assert.equal(Number((await db.get('SELECT COUNT(*) AS n FROM rate_limits')).n), 1);
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('clients are keyed by IPv4 address, or by the /64 of an IPv6 address', () => {
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
  assert.equal(clientKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  assert.notEqual(clientKey('192.0.2.7'), clientKey('192.0.2.8'));
});

test('behind trusted proxies the client is the last address they did not add; anyone else\'s header is ignored', () => {
  const trusted = ['127.0.0.1', '10.0.0.2'];
  // nginx on 127.0.0.1 appended the address it saw; a client-written entry before it is ignored.
  assert.equal(clientAddress('127.0.0.1', '6.6.6.6, 203.0.113.9', trusted), '203.0.113.9');
  // Two proxies: the CDN at 10.0.0.2 then nginx; the client is the first untrusted from the right.
  assert.equal(clientAddress('127.0.0.1', '1.2.3.4, 203.0.113.9, 10.0.0.2', trusted), '203.0.113.9');
  // Not from a trusted proxy: the header is the client's own words, not used.
  assert.equal(clientAddress('198.51.100.7', '203.0.113.9', trusted), '198.51.100.7');
  assert.equal(clientAddress('127.0.0.1', undefined, trusted), '127.0.0.1');
  assert.equal(clientAddress('::ffff:127.0.0.1', '203.0.113.9', trusted), '203.0.113.9');
  assert.equal(clientAddress('127.0.0.1', '203.0.113.9', []), '127.0.0.1');
  assert.equal(clientAddress('127.0.0.1', 'garbage, 203.0.113.9', trusted), '203.0.113.9');
  const base = { networks: { devnet: { rpc: ['http://127.0.0.1:1'], addresses: ['0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'] } } };
  assert.deepEqual(parseConfig({ ...base, claims: { trusted_proxies: ['127.0.0.1'] } }, {}).claims.trustedProxies, ['127.0.0.1']);
  assert.throws(() => parseConfig({ ...base, claims: { trusted_proxies: ['localhost'] } }, {}), /config claims\.trusted_proxies\[0\]: must be an IP address/);
});

test('the claim endpoint limits each forwarded client on its own behind a trusted proxy', { timeout: 60000 }, async () => {
  const { startStack } = require('./helpers');
  const s = await startStack('ratelimit', { raw: { claims: { per_invoice_per_minute: 100, per_client_per_minute: 2, trusted_proxies: ['127.0.0.1'] } } });
  try {
    const inv = (await s.api('POST', '/api/v1/invoices', { amount: '5', networks: ['devnet'] })).body;
    const claim = (forwardedFor) => s.api('POST', `/api/v1/checkout/${inv.id}/claim`, { tx_hash: 'nope' }, { 'x-forwarded-for': forwardedFor });
    assert.equal((await claim('203.0.113.1')).body.error.code, 'invalid_tx_hash');
    assert.equal((await claim('203.0.113.1')).body.error.code, 'invalid_tx_hash');
    assert.equal((await claim('203.0.113.1')).body.error.code, 'rate_limited');
    assert.equal((await claim('203.0.113.2')).body.error.code, 'invalid_tx_hash', 'another customer is not limited');
    assert.equal((await claim('203.0.113.2, 203.0.113.1')).body.error.code, 'rate_limited', 'an address the client wrote itself does not help');
  } finally {
    await s.stop();
  }
});
