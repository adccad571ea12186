// Fixed-window rate limits (claims: per invoice and per client). Bounded in memory without ever
// forgetting a live window: a flood of new keys cannot reset the limits of the keys in use.
import net = require('node:net');

export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60000,
    private readonly maxKeys = 10000,
  ) {}

  /** Takes one request for `key`; returns seconds to wait, or 0 when allowed. */
  take(key: string, now = Date.now()): number {
    const w = this.windows.get(key);
    if (w && now - w.start < this.windowMs) {
      if (w.count >= this.limit) return Math.ceil((w.start + this.windowMs - now) / 1000);
      w.count++;
      return 0;
    }
    if (!w && this.windows.size >= this.maxKeys) {
      for (const [k, old] of this.windows) if (now - old.start >= this.windowMs) this.windows.delete(k);
      // Every window is live: a new key waits rather than evicting someone's count.
      if (this.windows.size >= this.maxKeys) {
        const oldest = Math.min(...[...this.windows.values()].map((x) => x.start));
        return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
      }
    }
    this.windows.set(key, { start: now, count: 1 });
    return 0;
  }
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
