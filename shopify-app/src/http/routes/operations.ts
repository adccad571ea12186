// Operations, without a key: health (200 or 503; /health/ready for a load balancer), Prometheus
// metrics, and the OpenAPI document. They read counts and the watcher's state; they change nothing.
// Each process answers for itself: which networks it watches (holds the lease of) and which it
// stands by for.
import fs = require('node:fs');
import path = require('node:path');
import type { Config } from '../../config';
import type { Db } from '../../db';
import type { Leases } from '../../lease';
import type { RpcClient } from '../../rpc';
import type { Watcher } from '../../watcher';
import { CORS, Route, send } from '../router';

/** shopify-app/openapi.json (this file runs from shopify-app/dist/http/routes). */
export const OPENAPI_FILE = path.resolve(__dirname, '..', '..', '..', 'openapi.json');

type Sample = [Record<string, string | number>, number];

export function operationsRoutes({ config, db, watcher, leases }: { config: Config; db: Db; watcher: Watcher; leases: Leases }): Route[] {
  const dbAnswers = () =>
    db.get(`SELECT 1 AS ok`).then(
      () => true,
      () => false,
    );
  return [
    {
      method: 'GET',
      path: '/health',
      auth: 'public',
      handler: async (ctx) => {
        const dbOk = await dbAnswers();
        const networks = Object.fromEntries(
          [...watcher.states.values()].map((s) => [
            s.network,
            {
              watcher: s.role,
              holder: s.holder,
              head: s.head,
              cursors: s.cursors,
              lag: s.head === null ? null : Math.max(0, ...Object.values(s.cursors).map((c) => s.head! - c)),
              last_poll_at: s.lastPollAt ? new Date(s.lastPollAt).toISOString() : null,
              last_error: s.lastError,
              rpc: s.rpc.health(),
            },
          ]),
        );
        const healthy = dbOk && [...watcher.states.values()].every((s) => s.lastError === null);
        send(ctx.res, dbOk ? 200 : 503, {
          status: dbOk ? (healthy ? 'ok' : 'degraded') : 'down',
          // A sandbox's payments are test money: a monitor (and a person) reading this can tell.
          ...(config.sandbox ? { sandbox: true, money: 'test' } : {}),
          process: { id: leases.holder, pid: process.pid },
          database: { kind: db.kind, ok: dbOk },
          networks,
        });
      },
    },
    {
      // For a load balancer: this process can answer requests (its database answers). A process
      // standing by for the watchers answers requests as well as the one polling.
      method: 'GET',
      path: '/health/ready',
      auth: 'public',
      handler: async (ctx) => {
        const ok = await dbAnswers();
        send(ctx.res, ok ? 200 : 503, { ready: ok });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: 'public',
      handler: async (ctx) => {
        const lines: string[] = [];
        const metric = (name: string, help: string, type: string, samples: Sample[]) => {
          lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
          for (const [labels, value] of samples) {
            const l = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, '_')}"`).join(',');
            lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
          }
        };
        const byState = await db.all<{ state: string; n: number }>(`SELECT state, COUNT(*) AS n FROM invoices GROUP BY state`);
        metric('stablegate_invoices', 'Invoices by state.', 'gauge', ['new', 'processing', 'settled', 'expired', 'invalid'].map((s) => [{ state: s }, Number(byState.find((r) => r.state === s)?.n ?? 0)]));
        const states = [...watcher.states.values()];
        metric('stablegate_watcher_lag_blocks', 'Blocks between the chain head and the saved cursor.', 'gauge',
          states.flatMap((s) => Object.entries(s.cursors).map(([token, c]): Sample => [{ network: s.network, token }, s.head === null ? 0 : s.head - c])));
        metric('stablegate_watcher_head', 'Last chain head seen.', 'gauge', states.map((s) => [{ network: s.network }, s.head ?? 0]));
        metric('stablegate_watcher_polls_total', 'Completed polls.', 'counter', states.map((s) => [{ network: s.network }, s.polls]));
        // One sample per RPC URL of each network, labelled by its position and its redacted URL.
        const perRpc = (value: (h: ReturnType<RpcClient['health']>[number]) => number) =>
          states.flatMap((s) => s.rpc.health().map((h, i): Sample => [{ network: s.network, url: `${i}:${h.url}` }, value(h)]));
        metric('stablegate_rpc_requests_total', 'JSON-RPC HTTP requests (a batch counts once).', 'counter', perRpc((h) => h.requests));
        metric('stablegate_rpc_errors_total', 'JSON-RPC transport errors (down, timeout, rate-limited).', 'counter', perRpc((h) => h.errors));
        metric('stablegate_rpc_healthy', '1 when the RPC URL answered its last request.', 'gauge', perRpc((h) => (h.healthy ? 1 : 0)));
        const backlog = await db.all<{ status: string; n: number }>(`SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered' GROUP BY status`);
        metric('stablegate_webhook_backlog', 'Webhook deliveries waiting (pending) or dead-lettered (dead).', 'gauge',
          ['pending', 'dead'].map((s) => [{ status: s }, Number(backlog.find((r) => r.status === s)?.n ?? 0)]));
        const unmatched = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ledger WHERE invoice_id IS NULL`);
        metric('stablegate_unmatched_transfers', 'Transfers to the receiving addresses that credited no invoice (GET /api/v1/transfers/unmatched).', 'gauge', [[{}, Number(unmatched?.n ?? 0)]]);
        ctx.res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        ctx.res.end(lines.join('\n') + '\n');
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      auth: 'public',
      handler: async (ctx) => {
        ctx.res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...CORS });
        ctx.res.end(fs.readFileSync(OPENAPI_FILE));
      },
    },
  ];
}
