// The merchant's API (an API key on every route): invoices, the transfers that credited none, and
// the webhook deliveries that gave up. Each handler checks its query, makes one call, answers JSON.
import { ApiError, invalid } from '../../errors';
import type { Invoices, InvoiceRow } from '../../invoices';
import type { Webhooks } from '../../webhooks';
import { Ctx, Route, send } from '../router';

const STATES = ['new', 'processing', 'settled', 'expired', 'invalid'];

/** The `limit` query parameter of a list: 1 to 200, 50 when absent. */
function limitParam(query: URLSearchParams): number {
  const text = query.get('limit');
  const limit = text === null ? 50 : Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw invalid('limit', 'must be a whole number from 1 to 200');
  return limit;
}

export function merchantRoutes({ invoices, webhooks, clock }: { invoices: Invoices; webhooks: Webhooks; clock: () => number }): Route[] {
  const invoiceResponse = (ctx: Ctx, row: InvoiceRow) => send(ctx.res, 200, invoices.view(row, clock(), ctx.baseUrl));
  return [
    {
      method: 'POST',
      path: '/api/v1/invoices',
      auth: 'merchant',
      handler: async (ctx) => {
        const key = ctx.req.headers['idempotency-key'];
        if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) {
          throw new ApiError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 200 characters', 'Idempotency-Key');
        }
        const result = await invoices.create(await ctx.body(), ctx.apiKeyId as string, (key as string | undefined) ?? null, ctx.baseUrl);
        send(ctx.res, result.status, result.body);
      },
    },
    {
      method: 'GET',
      path: '/api/v1/invoices',
      auth: 'merchant',
      handler: async (ctx) => {
        const state = ctx.query.get('state') ?? undefined;
        if (state !== undefined && !STATES.includes(state)) throw invalid('state', 'must be new, processing, settled, expired or invalid');
        const limit = limitParam(ctx.query);
        send(ctx.res, 200, await invoices.list({ state, order_id: ctx.query.get('order_id') ?? undefined, limit, after: ctx.query.get('after') ?? undefined }, ctx.baseUrl));
      },
    },
    {
      method: 'GET',
      path: '/api/v1/invoices/{id}',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.require(ctx.params.id)),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/{id}/cancel',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.cancel(ctx.params.id, ctx.baseUrl)),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/{id}/review',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.markForReview(ctx.params.id, ctx.baseUrl)),
    },
    {
      method: 'POST',
      path: '/api/v1/invoices/{id}/review/resolve',
      auth: 'merchant',
      handler: async (ctx) => invoiceResponse(ctx, await invoices.resolveReview(ctx.params.id, await ctx.body(), ctx.baseUrl)),
    },
    {
      method: 'GET',
      path: '/api/v1/transfers/unmatched',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, { data: await invoices.unmatched(limitParam(ctx.query)) }),
    },
    {
      method: 'GET',
      path: '/api/v1/webhooks/dead-letters',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, { data: await webhooks.deadLetters() }),
    },
    {
      method: 'POST',
      path: '/api/v1/webhooks/deliveries/{id}/resend',
      auth: 'merchant',
      handler: async (ctx) => send(ctx.res, 200, await webhooks.resend(ctx.params.id)),
    },
  ];
}
