// Who is calling a Shopify route: a session token (a JWT Shopify signs with the app's secret)
// verified by the library, and the shop it names. Every Shopify route acts on that shop only, so
// one shop's token can never read or move another shop's orders, invoices or settings.
// Two kinds of token reach us: the checkout and customer-account extensions' (any buyer of the
// shop holds one) and the embedded admin's (a staff member; `iss` is the shop's admin). Only the
// admin kind may change settings or install the shop.
import type http = require('node:http');
import { RequestedTokenType, Shopify } from '@shopify/shopify-api';
import { ApiError } from '../errors';
import type { Logger } from '../log';
import type { Shops } from './shops';

export interface Caller {
  shop: string;
  /** The token's `sub`: the staff user (admin), or the customer's GID (an extension, when signed in). */
  subject: string | null;
}

/** The JWT of `Authorization: Bearer <JWT>`. */
export function bearer(req: http.IncomingMessage): string | null {
  return /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

export class ShopifyAuth {
  constructor(
    private readonly shopify: Shopify,
    private readonly shops: Shops,
    private readonly log: Logger,
  ) {}

  /** The shop of a valid session token of either kind; 401 `invalid_session_token` otherwise. */
  async verify(token: string | null): Promise<Caller & { admin: boolean }> {
    if (token === null) throw new ApiError('invalid_session_token', 'send the Shopify session token as "Authorization: Bearer <token>"', 'authorization');
    let payload;
    try {
      payload = await this.shopify.session.decodeSessionToken(token);
    } catch (error) {
      // The library's message quotes the token: it is logged, never answered.
      this.log.warn('session token refused', { reason: (error as Error).message.replace(/'[^']*'/, "'…'") });
      throw new ApiError('invalid_session_token', 'the session token is not valid for this app (wrong signature or audience, or expired)', 'authorization');
    }
    // The admin's dest is "https://shop.myshopify.com"; an extension's may be the bare domain.
    const dest = String(payload.dest ?? '');
    const host = dest.startsWith('https://') ? new URL(dest).host : dest;
    const shop = this.shopify.utils.sanitizeShop(host);
    if (!shop) throw new ApiError('invalid_session_token', 'the session token names no shop (dest)', 'authorization');
    // Shopify writes the admin's iss as "https://shop.myshopify.com/admin" (its test helpers without the scheme).
    const admin = String(payload.iss ?? '').replace(/^https:\/\//, '') === `${shop}/admin`;
    return { shop, subject: payload.sub ? String(payload.sub) : null, admin };
  }

  /** An extension's caller (a checkout or customer-account session token). */
  async extension(req: http.IncomingMessage): Promise<Caller> {
    const { shop, subject } = await this.verify(bearer(req));
    return { shop, subject };
  }

  /**
   * A staff member in the embedded admin: the token must be the admin kind. The first time (or
   * after an uninstall, or a new app secret) the shop's offline token is obtained by token
   * exchange and stored: this is the install.
   */
  async admin(token: string | null): Promise<Caller> {
    const caller = await this.verify(token);
    if (!caller.admin) throw new ApiError('admin_token_required', "this needs the Shopify admin's session token (an extension's token cannot change a shop)", 'authorization');
    if ((await this.shops.token(caller.shop)) === null) {
      let session;
      try {
        ({ session } = await this.shopify.auth.tokenExchange({ shop: caller.shop, sessionToken: token as string, requestedTokenType: RequestedTokenType.OfflineAccessToken }));
      } catch (error) {
        this.log.error('token exchange failed', { shop: caller.shop, error: (error as Error).message });
        throw new ApiError('token_exchange_failed', `Shopify refused the token exchange for ${caller.shop}; reload the app in the admin`);
      }
      if (!session.accessToken) throw new ApiError('token_exchange_failed', 'Shopify answered the token exchange without an access token');
      await this.shops.install(caller.shop, session.accessToken, session.scope ?? '');
      this.log.info('shop installed', { shop: caller.shop, scope: session.scope });
    }
    return { shop: caller.shop, subject: caller.subject };
  }
}
