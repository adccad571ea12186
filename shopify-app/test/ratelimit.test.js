// The claim endpoint's rate limits: a flood of new keys (random invoice ids, or new IPv6
// addresses from one subscriber's /64) must not reset or dodge the limits of the keys in use.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { RateLimiter, clientKey, clientAddress } = require('../dist/ratelimit');
const { parseConfig } = require('../dist/config');

test('a full table of live windows keeps every count; new keys wait instead of evicting one', () => {
  const limiter = new RateLimiter(2, 60000, 100);
  const t0 = 1_000_000;
  assert.equal(limiter.take('victim', t0), 0);
  assert.equal(limiter.take('victim', t0), 0);
  assert.ok(limiter.take('victim', t0) > 0, 'the third request in the window is limited');
  for (let i = 0; i < 99; i++) limiter.take(`flood-${i}`, t0 + 1);
  assert.ok(limiter.take('flood-new', t0 + 2) > 0, 'no room: a new key waits');
  assert.ok(limiter.take('victim', t0 + 3) > 0, 'the flood did not reset the limited key');
  // Once the windows have passed, their room is reused.
  assert.equal(limiter.take('flood-new', t0 + 60001), 0);
  assert.equal(limiter.take('victim', t0 + 60002), 0);
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
