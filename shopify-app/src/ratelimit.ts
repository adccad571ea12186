// Fixed-window rate limits (claims: per invoice and per client), counted in the database so that
// they hold across every process sharing it. A flood of new keys adds rows; it never resets the
// count of a key in use. Windows that have passed are pruned (`pruneRateLimits`).
import net = require('node:net');
import type { Db } from './db';

export class RateLimiter {
  constructor(
    private readonly db: Db,
    /** Keeps this limiter's keys apart from another's in the shared table. */
    private readonly name: string,
    private readonly limit: number,
    private readonly windowMs = 60000,
  ) {}

  /** Takes one request for `key`; returns seconds to wait, or 0 when allowed. */
  async take(key: string, now = Date.now()): Promise<number> {
    const passed = now - this.windowMs;
    const row = (await this.db.get<{ count: number; window_start: number }>(
      `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN rate_limits.window_start <= ? THEN 1 ELSE rate_limits.count + 1 END,
         window_start = CASE WHEN rate_limits.window_start <= ? THEN excluded.window_start ELSE rate_limits.window_start END
       RETURNING count, window_start`,
      [`${this.name}:${key}`, now, passed, passed],
    )) as { count: number; window_start: number };
    if (Number(row.count) <= this.limit) return 0;
    return Math.max(1, Math.ceil((Number(row.window_start) + this.windowMs - now) / 1000));
  }
}

/** Forgets the windows older than `windowMs` (they limit nothing any more). */
export async function pruneRateLimits(db: Db, windowMs = 60000, now = Date.now()): Promise<number> {
  return db.run(`DELETE FROM rate_limits WHERE window_start <= ?`, [now - windowMs]);
}

/** The rate-limit key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's prefix). */
export function clientKey(address: string | undefined): string {
  if (!address) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (net.isIPv6(address)) {
    const groups = new URL(`http://[${address}]/`).hostname.slice(1, -1).split('::');
    const head = groups[0] ? groups[0].split(':') : [];
    const tail = groups.length > 1 && groups[1] ? groups[1].split(':') : [];
    const full = [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail];
    return `${full.slice(0, 4).join(':')}::/64`;
  }
  return address;
}

const plain = (address: string) => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

/**
 * The client's address: the connection's, or, when the connection comes from one of
 * `trustedProxies`, the right-most X-Forwarded-For entry that is not a trusted proxy (entries
 * further left were written by the client and prove nothing).
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: string[]): string | undefined {
  if (!remote || !trustedProxies.includes(plain(remote)) || forwardedFor === undefined) return remote;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => plain(h.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!net.isIP(hops[i])) break;
    if (!trustedProxies.includes(hops[i])) return hops[i];
  }
  return remote;
}
