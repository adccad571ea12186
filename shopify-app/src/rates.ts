// Exchange rates for pricing invoices in fiat: a fixed rate, or a source (URL + JSON path) with a
// maximum age. A stale or failing source refuses to price a new invoice; there is never a
// hard-coded fallback (gateways.md: Epusdt's silent 6.4 CNY).
import sg = require('./core');
import type { RateConfig } from './config';
import { ApiError, invalid } from './errors';
import type { Logger } from './log';
import { redactUrl } from './rpc';

export interface Rate {
  currency: string;
  /** USDT per one unit of the currency, as a decimal string. */
  rate: string;
  source: 'fixed' | string;
  /** Unix seconds when it was fetched (or now, for a fixed rate). */
  fetched_at: number;
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
    const url = config.url as string;
    // Never followed: a redirect could lead from the https source to plain http, or to any host
    // at all, and the rate read there would price invoices.
    const response = await fetch(url, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' }, redirect: 'manual' });
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      // Relative locations resolve against the source; redactUrl says "invalid-url" for the rest.
      const target = location === null ? 'nowhere' : redactUrl(URL.canParse(location, url) ? new URL(location, url).href : location);
      throw new Error(`the source ${redactUrl(url)} answered HTTP ${response.status}, a redirect to ${target}; a rate is read only from the configured URL: set it to the final one`);
    }
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    // The core reads the literal number at the path (never a float) and inverts it exactly.
    let rate: string;
    try {
      rate = sg.readRate(await response.text(), config.path as string, config.invert === true);
    } catch (error) {
      // The core's sentence, without its "invalid_rate: " code and its echo of the path.
      throw new Error((error as Error).message.replace(/^[a-z_]+: /, '').replace(/ \(input "[^"]*"\)$/, ''));
    }
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
    // A rate from the future (a clock that stepped back) is not fresh.
    const age = cached ? this.clock() - cached.fetched_at : -1;
    if (cached && age >= 0 && age <= config.maxAge) return cached;
    try {
      const fresh = await this.fetchSource(config);
      this.cache.set(currency, fresh);
      return fresh;
    } catch (error) {
      this.log.warn('rate source failed', { currency, error: (error as Error).message });
      const age = cached ? `the last rate is ${this.clock() - cached.fetched_at} s old` : 'no rate was ever fetched';
      throw new ApiError('rate_unavailable',
        `the ${currency} rate source failed (${(error as Error).message}) and ${age}; the maximum age is ${config.maxAge} s`,
        'currency',
        30,
      );
    }
  }
}
