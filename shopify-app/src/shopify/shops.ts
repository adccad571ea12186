// The shops that installed the app: each one's offline access token and its merchant's settings.
// Tokens are encrypted at rest (AES-256-GCM, key derived by HKDF from the app's secret): a copy of
// the database alone does not let anyone act on the shops. The cost: a new app secret makes the
// stored tokens unreadable, and each shop gets a new one by token exchange the next time the
// merchant opens the app (until then its orders are answered `shop_not_installed`).
import crypto = require('node:crypto');
import type { Config, ShopifyConfig } from '../config';
import type { Db, Queryable } from '../db';
import sg = require('../core');
import { ApiError, invalid } from '../errors';

export interface ShopSettings {
  /** The manual payment method's name, exactly as the merchant typed it in Shopify. */
  payment_method: string;
  /** An order whose invoice expired unpaid: cancelled (restocked), or left pending for the merchant. */
  on_expiry: 'cancel' | 'leave';
  /** The networks its invoices offer ("network" or "network:token"); null: every one the server accepts. */
  networks: string[] | null;
  /** Seconds a customer has to pay; null: the server's `invoice.expires_in`. */
  expires_in: number | null;
  /**
   * The shop's own receiving addresses by network (display form, each checked by the core); null:
   * the server's. With its own addresses a shop's invoices offer only the networks it has
   * addresses on, and are paid to those addresses alone: never to the server's or another shop's.
   */
  addresses: Record<string, string[]> | null;
}

/** What the server offers every shop: its networks, their tokens and receiving addresses (config, checked by the core at start). */
export interface ServerOffer {
  networks: { id: string; tokens: string[]; addresses: string[] }[];
  expires_in: number;
}

export interface ShopRow {
  shop: string;
  access_token: string | null;
  scope: string | null;
  settings: string;
  installed_at: number;
  uninstalled_at: number | null;
  updated_at: number;
}

const SETTINGS_FIELDS = new Set(['payment_method', 'on_expiry', 'networks', 'expires_in', 'addresses']);
/** At most this many receiving addresses per network and shop (the core allocates over them in turn). */
const MAX_ADDRESSES = 20;
/** A shop's time to pay: a minute to a week (Shopify itself expires pending payments after about a week). */
const EXPIRES_IN = { min: 60, max: 604800 };

export class Shops {
  private readonly key: Buffer;

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly shopify: ShopifyConfig,
    private readonly clock: () => number,
  ) {
    this.key = Buffer.from(crypto.hkdfSync('sha256', shopify.apiSecret, 'stablegate', 'shopify offline access tokens', 32));
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, base64url; the shop is authenticated data (a token cannot move to another shop's row). */
  seal(shop: string, token: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(shop));
    const body = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
  }

  /** The token sealed for `shop`, or null when it cannot be read (another app secret). */
  open(shop: string, sealed: string): string | null {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || body === undefined) return null;
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(shop));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  get(shop: string, q: Queryable = this.db): Promise<ShopRow | undefined> {
    return q.get<ShopRow>(`SELECT * FROM shopify_shops WHERE shop = ?`, [shop]);
  }

  /** The offline token of an installed shop, or null (never installed, uninstalled, unreadable). */
  async token(shop: string): Promise<string | null> {
    const row = await this.get(shop);
    if (!row || row.access_token === null || row.uninstalled_at !== null) return null;
    return this.open(shop, row.access_token);
  }

  /** Stores the token from a token exchange: installs the shop, or reinstalls it with its old settings. */
  async install(shop: string, token: string, scope: string): Promise<void> {
    const now = this.clock();
    const sealed = this.seal(shop, token);
    await this.db.run(
      `INSERT INTO shopify_shops (shop, access_token, scope, settings, installed_at, uninstalled_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?)
       ON CONFLICT (shop) DO UPDATE SET access_token = excluded.access_token, scope = excluded.scope, uninstalled_at = NULL,
         installed_at = CASE WHEN shopify_shops.uninstalled_at IS NULL THEN shopify_shops.installed_at ELSE excluded.installed_at END,
         updated_at = excluded.updated_at`,
      [shop, sealed, scope, JSON.stringify(this.defaults()), now, now],
    );
  }

  /** app/uninstalled: the token is dropped (Shopify revoked it anyway); the settings stay for a reinstall. */
  async uninstall(shop: string): Promise<void> {
    const now = this.clock();
    await this.db.run(`UPDATE shopify_shops SET access_token = NULL, uninstalled_at = ?, updated_at = ? WHERE shop = ?`, [now, now, shop]);
  }

  defaults(): ShopSettings {
    return { payment_method: this.shopify.defaults.paymentMethod, on_expiry: this.shopify.defaults.onExpiry, networks: null, expires_in: null, addresses: null };
  }

  /**
   * The receiving addresses of every installed shop on `network` (the watcher adds them to the
   * server's). An uninstalled shop's are not among them: its invoices were cancelled, and those
   * still watched are watched by their own recipient (Invoices.poolRecipients).
   */
  async receiving(network: string): Promise<string[]> {
    const rows = await this.db.all<{ settings: string }>(`SELECT settings FROM shopify_shops WHERE access_token IS NOT NULL AND uninstalled_at IS NULL`);
    return rows.flatMap((r) => (JSON.parse(r.settings) as Partial<ShopSettings>).addresses?.[network] ?? []);
  }

  /**
   * What a shop's invoice is created with: the networks it offers (null: every one of the server)
   * and its address pool (null: the server's). A shop with its own addresses offers only the
   * networks (and chosen tokens) it has addresses on.
   */
  invoiceTerms(settings: ShopSettings): { networks: string[] | null; pool: Record<string, string[]> | null } {
    const pool = settings.addresses;
    if (!pool) return { networks: settings.networks, pool: null };
    const all = this.config.networks.filter((n) => pool[n.id]?.length).flatMap((n) => n.tokens.map((t) => `${n.id}:${t}`));
    const networks = settings.networks ? settings.networks.filter((n) => pool[n.split(':')[0]]?.length) : all;
    return { networks, pool };
  }

  /** The networks and addresses the settings choose among, and the default time to pay. */
  offer(): ServerOffer {
    return {
      networks: this.config.networks.map((n) => ({ id: n.id, tokens: n.tokens, addresses: n.addresses })),
      expires_in: this.config.invoice.expiresIn,
    };
  }

  settingsOf(row: ShopRow | undefined): ShopSettings {
    return row ? { ...this.defaults(), ...(JSON.parse(row.settings) as Partial<ShopSettings>) } : this.defaults();
  }

  async settings(shop: string): Promise<ShopSettings> {
    return this.settingsOf(await this.get(shop));
  }

  /** Checks a settings change completely (a 4xx naming the field), then stores it. */
  async updateSettings(shop: string, body: unknown): Promise<ShopSettings> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('invalid_body', 'the request body must be a JSON object', 'body');
    const raw = body as Record<string, unknown>;
    for (const key of Object.keys(raw)) if (!SETTINGS_FIELDS.has(key)) throw new ApiError('unknown_field', `${key}: not a setting (${[...SETTINGS_FIELDS].join(', ')})`, key);
    const row = await this.get(shop);
    if (!row) throw new ApiError('shop_not_installed', `${shop} has not installed the app: open it from the Shopify admin first`);
    const next = this.settingsOf(row);
    if (raw.payment_method !== undefined) {
      if (typeof raw.payment_method !== 'string' || raw.payment_method.trim() === '' || raw.payment_method.length > 100) {
        throw invalid('payment_method', "must be the manual payment method's name as typed in Shopify (1 to 100 characters)");
      }
      next.payment_method = raw.payment_method;
    }
    if (raw.on_expiry !== undefined) {
      if (raw.on_expiry !== 'cancel' && raw.on_expiry !== 'leave') throw invalid('on_expiry', 'must be "cancel" or "leave"');
      next.on_expiry = raw.on_expiry;
    }
    if (raw.networks !== undefined) {
      if (raw.networks !== null && (!Array.isArray(raw.networks) || raw.networks.length === 0)) throw invalid('networks', 'must be null (every network) or a non-empty list like ["tron"]');
      if (Array.isArray(raw.networks)) {
        const accepted = this.config.networks.flatMap((n) => [n.id, ...n.tokens.map((t) => `${n.id}:${t}`)]);
        for (const n of raw.networks) {
          if (typeof n !== 'string' || !accepted.includes(n)) throw invalid('networks', `${JSON.stringify(n)} is not a network this server accepts (${this.config.networks.map((x) => x.id).join(', ')})`);
        }
      }
      next.networks = raw.networks as string[] | null;
    }
    if (raw.expires_in !== undefined) {
      const e = raw.expires_in;
      if (e !== null && (typeof e !== 'number' || !Number.isSafeInteger(e) || e < EXPIRES_IN.min || e > EXPIRES_IN.max)) {
        throw invalid('expires_in', `must be null (the server's ${this.config.invoice.expiresIn} s) or whole seconds from ${EXPIRES_IN.min} to ${EXPIRES_IN.max}`);
      }
      next.expires_in = e as number | null;
    }
    if (raw.addresses !== undefined) next.addresses = this.checkAddresses(raw.addresses);
    if (next.addresses && this.invoiceTerms(next).networks?.length === 0) {
      throw invalid('networks', `none of the chosen networks (${(next.networks ?? []).join(', ')}) has one of your receiving addresses (${Object.keys(next.addresses).join(', ')})`);
    }
    await this.db.run(`UPDATE shopify_shops SET settings = ?, updated_at = ? WHERE shop = ?`, [JSON.stringify(next), this.clock(), shop]);
    return next;
  }

  /** A shop's addresses, each checked by the core on its network; stored in the core's display form. */
  private checkAddresses(raw: unknown): Record<string, string[]> | null {
    if (raw === null) return null;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid('addresses', 'must be null (the server\'s addresses) or an object like {"tron": ["T…"]}');
    const out: Record<string, string[]> = {};
    for (const [network, list] of Object.entries(raw as Record<string, unknown>)) {
      if (!this.config.networks.some((n) => n.id === network)) {
        throw invalid('addresses', `${JSON.stringify(network)} is not a network this server accepts (${this.config.networks.map((x) => x.id).join(', ')})`);
      }
      if (!Array.isArray(list)) throw invalid('addresses', `${network}: must be a list of addresses`);
      if (list.length > MAX_ADDRESSES) throw invalid('addresses', `${network}: at most ${MAX_ADDRESSES} addresses`);
      const parsed: string[] = [];
      list.forEach((a, i) => {
        let display: string;
        try {
          display = sg.parseAddress(network, String(typeof a === 'string' ? a.trim() : a)).address;
        } catch (error) {
          throw invalid('addresses', `${network}[${i}]: ${JSON.stringify(a)} is not a ${network} address (${(error as Error).message})`);
        }
        if (parsed.includes(display)) throw invalid('addresses', `${network}[${i}]: ${display} is listed twice`);
        parsed.push(display);
      });
      if (parsed.length) out[network] = parsed;
    }
    return Object.keys(out).length ? out : null;
  }
}
