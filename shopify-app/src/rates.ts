// Exchange rates for pricing invoices in fiat: a fixed rate, or a source (URL + JSON path) with a
// maximum age. A stale or failing source refuses to price a new invoice; there is never a
// hard-coded fallback (gateways.md: Epusdt's silent 6.4 CNY).
import { DECIMAL } from './config';
import type { RateConfig } from './config';
import { ApiError, invalid } from './errors';
import type { Logger } from './log';

export interface Rate {
  currency: string;
  /** USDT per one unit of the currency, as a decimal string. */
  rate: string;
  source: 'fixed' | string;
  /** Unix seconds when it was fetched (or now, for a fixed rate). */
  fetched_at: number;
}

/** Reads `a.b.0.c` out of a parsed JSON value. */
export function jsonPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * Turns the value found at the path into a decimal string. JSON numbers are accepted because
 * rate APIs send them; `String(n)` gives the shortest decimal that reads back as the same number,
 * which is the literal the API sent. Exponent forms are refused.
 */
export function rateText(value: unknown): string | null {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : null;
  return text !== null && DECIMAL.test(text) && !/^0(\.0*)?$/.test(text) ? text : null;
}

export class Rates {
  private readonly cache = new Map<string, Rate>();

  constructor(
    private readonly configs: RateConfig[],
    private readonly clock: () => number,
    private readonly log: Logger,
  ) {}

  currencies(): string[] {
    return this.configs.map((c) => c.currency);
  }

  /** Fetches the source now, whatever the cache holds (doctor, and refreshing). */
  async fetchSource(config: RateConfig): Promise<Rate> {
    const response = await fetch(config.url as string, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const found = jsonPath(await response.json(), config.path as string);
    const rate = rateText(found);
    if (rate === null) throw new Error(`no positive decimal at path ${config.path} (found ${JSON.stringify(found)})`);
    return { currency: config.currency, rate, source: config.url as string, fetched_at: this.clock() };
  }

  /** The rate to price a new invoice in `currency`, or a 4xx/5xx ApiError saying why not. */
  async rate(currency: string): Promise<Rate> {
    const config = this.configs.find((c) => c.currency === currency);
    if (!config) {
      throw invalid('currency', `no rate is configured for ${JSON.stringify(currency)} (configured: ${this.currencies().join(', ') || 'none'})`);
    }
    if (config.fixed) return { currency, rate: config.fixed, source: 'fixed', fetched_at: this.clock() };
    const cached = this.cache.get(currency);
    if (cached && this.clock() - cached.fetched_at <= config.maxAge) return cached;
    try {
      const fresh = await this.fetchSource(config);
      this.cache.set(currency, fresh);
      return fresh;
    } catch (error) {
      this.log.warn('rate source failed', { currency, error: (error as Error).message });
      const age = cached ? `the last rate is ${this.clock() - cached.fetched_at} s old` : 'no rate was ever fetched';
      throw new ApiError(
        503,
        'rate_unavailable',
        `the ${currency} rate source failed (${(error as Error).message}) and ${age}; the maximum age is ${config.maxAge} s`,
        'currency',
        30,
      );
    }
  }
}
