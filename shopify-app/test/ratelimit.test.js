// The claim endpoint's rate limits: a flood of new keys (random invoice ids, or new IPv6
// addresses from one subscriber's /64) must not reset or dodge the limits of the keys in use.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { RateLimiter, clientKey } = require('../dist/ratelimit');

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
