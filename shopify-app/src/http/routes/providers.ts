// Hosted providers' routes (issue 16): the pay page's form that opens a provider's checkout, and
// one notification endpoint per provider. Served beside the API, not in its OpenAPI list (like the
// compatibility endpoints): callers are browsers and the providers, not API clients.
import { ApiError } from '../../errors';
import type { Providers } from '../../providers/service';
import { readRawBody, Route, send } from '../router';

/** Notifications are small JSON documents; anything larger is refused before it is read whole. */
const NOTIFICATION_MAX_BYTES = 64 * 1024;

export function providerRoutes(providers: Providers): Route[] {
  return [
    {
      method: 'POST',
      path: '/pay/{id}/provider/{provider}',
      auth: 'public',
      handler: async (ctx) => {
        const back = `${ctx.baseUrl}/pay/${encodeURIComponent(ctx.params.id)}`;
        try {
          const { checkout_url } = await providers.checkout(ctx.params.id, ctx.params.provider, ctx.baseUrl);
          ctx.res.writeHead(303, { location: checkout_url, 'cache-control': 'no-store' });
          ctx.res.end();
        } catch (error) {
          if (!(error instanceof ApiError) || !['provider_unavailable', 'provider_checkout_closed'].includes(error.code)) throw error;
          // Back to the pay page, where the direct payment is still offered.
          const query = error.code === 'provider_unavailable' ? `?provider_unavailable=${encodeURIComponent(ctx.params.provider)}` : '';
          ctx.res.writeHead(303, { location: back + query, 'cache-control': 'no-store' });
          ctx.res.end();
        }
      },
    },
    {
      method: 'POST',
      path: '/providers/{provider}/notify',
      auth: 'public',
      handler: async (ctx) => {
        const rawBody = await readRawBody(ctx.req, NOTIFICATION_MAX_BYTES, 'the notification body');
        const ack = await providers.notify(ctx.params.provider, ctx.req.headers, rawBody, ctx.baseUrl);
        send(ctx.res, 200, ack);
      },
    },
  ];
}
