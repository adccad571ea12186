// Exchange rates for pricing invoices in fiat: a fixed rate, or a source (URL + JSON path) with a
// maximum age. A stale or failing source refuses to price a new invoice; there is never a
// hard-coded fallback (gateways.md: Epusdt's silent 6.4 CNY).
import { DECIMAL } from './config';
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
 * Parses a source's JSON answer with every number kept as its literal text: JSON.parse would make
 * 0.30000000000000000001 the float 0.3. A JSON string is matched first, so digits inside strings
 * stay; the text is valid JSON (checked first), so every other match is a number. The plugin's
 * RateQuote::fromJson (plugin-php/src/Domain/RateQuote.php) does the same.
 */
export function parseKeepingNumbers(text: string): unknown {
  JSON.parse(text);
  return JSON.parse(text.replace(/"(?:[^"\\]+|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/g, (m) => (m[0] === '"' ? m : `"${m}"`)));
}

/** The decimal text found at the path, or null: negative numbers and exponent forms are refused. */
export function rateText(value: unknown): string | null {
  const text = typeof value === 'string' ? value.trim() : null;
  return text !== null && DECIMAL.test(text) && !/^0+(\.0*)?$/.test(text) ? text : null;
}

/** 1 / price, truncated to 18 fractional digits (so that one USDT's price buys exactly 1.00). */
export function invertRate(price: string): string | null {
  const [whole, fraction = ''] = price.split('.');
  const trimmed = fraction.replace(/0+$/, '');
  const mantissa = BigInt(whole + trimmed);
  if (mantissa === 0n) return null;
  const units = 10n ** BigInt(trimmed.length + 18) / mantissa;
  if (units === 0n) return null;
  const digits = units.toString().padStart(19, '0');
  const out = `${digits.slice(0, -18).replace(/^0+(?=\d)/, '')}.${digits.slice(-18)}`.replace(/\.?0+$/, '');
  return out;
}

/** Describes a value by its type and size, never its content. */
function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (value === undefined) return 'nothing';
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : typeof value;
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
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = parseKeepingNumbers(text);
    } catch {
      throw new Error(`the source did not answer JSON (${text.length} characters)`);
    }
    const found = jsonPath(parsed, config.path as string);
    const literal = rateText(found);
    if (literal === null) throw new Error(`no positive decimal at path ${config.path} (found ${describe(found)}; negative numbers and exponents are refused)`);
    const rate = config.invert ? invertRate(literal) : literal;
    if (rate === null) throw new Error(`the price ${literal} at path ${config.path} is too large to invert`);
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
