// Outgoing webhooks (DESIGN §10): every invoice event to every endpoint, signed
// (`Stablegate-Signature: t=…,v1=…`, by the core), retried on the backoff schedule, then
// dead-lettered until someone resends it. Loopback and private addresses are refused unless the
// endpoint says allow_private (SSRF: a webhook URL must not reach the server's own network).
import dns = require('node:dns/promises');
import net = require('node:net');
import sg = require('./core');
import type { Config, WebhookEndpoint } from './config';
import type { Db } from './db';
import { ApiError } from './errors';
import type { Logger } from './log';

export interface DeliveryRow {
  id: string;
  event_id: string;
  endpoint: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
  updated_at: number;
}

/** True for loopback, private, link-local, CGNAT, unspecified and unique-local addresses. */
export function isPrivateAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:')) return isPrivateAddress(lower.slice(7));
  return lower === '::' || lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80');
}

/** Refuses a URL whose host is or resolves to a private address, unless the endpoint allows it. */
export async function checkDestination(endpoint: WebhookEndpoint): Promise<void> {
  if (endpoint.allowPrivate) return;
  const host = new URL(endpoint.url).hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw new Error(`refused: ${host} is a loopback or private address (${bad}); set allow_private on the endpoint to allow it`);
}

export class Webhooks {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  /** Looks for due deliveries now (after an event was recorded). */
  kick(): void {
    if (this.stopped || this.busy) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delay = this.config.webhooks.pollMs) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.busy = this.deliverDue()
        .then(() => undefined)
        .catch((error) => this.log.error('webhook worker failed', { error: (error as Error).message }))
        .finally(() => {
          this.busy = null;
          this.schedule();
        });
    }, delay);
  }

  async deliverDue(): Promise<number> {
    const due = await this.db.all<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 50`,
      [Date.now()],
    );
    await Promise.all(due.map((d) => this.deliver(d)));
    return due.length;
  }

  private async deliver(delivery: DeliveryRow): Promise<void> {
    const endpoint = this.config.webhooks.endpoints.find((e) => e.name === delivery.endpoint);
    const event = await this.db.get<{ body: string; type: string; invoice_id: string }>(`SELECT body, type, invoice_id FROM events WHERE id = ?`, [delivery.event_id]);
    const attempts = delivery.attempts + 1;
    let error: string | null = null;
    let status: number | null = null;
    let final = false;
    if (!endpoint || !event) {
      error = endpoint ? 'the event is gone' : `endpoint ${delivery.endpoint} is no longer configured`;
      final = true;
    } else {
      try {
        await checkDestination(endpoint);
        const timestamp = Math.floor(Date.now() / 1000);
        const response = await fetch(endpoint.url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'stablegate-webhooks/1',
            'stablegate-signature': sg.signWebhook(endpoint.secret, event.body, timestamp),
            'stablegate-event-id': delivery.event_id,
          },
          body: event.body,
          signal: AbortSignal.timeout(this.config.webhooks.timeoutMs),
        });
        status = response.status;
        await response.arrayBuffer().catch(() => undefined);
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = (e as Error).message;
        if (error.startsWith('refused:')) final = true;
      }
    }
    const schedule = this.config.webhooks.retrySchedule;
    let next: number | null = null;
    let state = 'delivered';
    if (error !== null) {
      if (final || attempts > schedule.length) {
        state = 'dead';
      } else {
        state = 'pending';
        next = Date.now() + Math.round(schedule[attempts - 1] * 1000);
      }
    }
    await this.db.run(
      `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ? WHERE id = ?`,
      [state, attempts, next, error, status, Math.floor(Date.now() / 1000), delivery.id],
    );
    const fields = { event: delivery.event_id, type: event?.type, endpoint: delivery.endpoint, attempt: attempts, status };
    if (state === 'delivered') this.log.info('webhook delivered', fields);
    else if (state === 'dead') this.log.error('webhook dead-lettered (resend with `stablegate webhooks resend`)', { ...fields, delivery: delivery.id, error });
    else this.log.warn('webhook failed; will retry', { ...fields, error, retry_in_s: schedule[attempts - 1] });
  }

  deadLetters(): Promise<DeliveryRow[]> {
    return this.db.all<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE status = 'dead' ORDER BY updated_at DESC LIMIT 500`);
  }

  /** Puts a dead (or delivered) delivery back in the queue, attempts reset. */
  async resend(id: string): Promise<DeliveryRow> {
    const n = await this.db.run(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?`, [
      Date.now(),
      Math.floor(Date.now() / 1000),
      id,
    ]);
    if (n !== 1) throw new ApiError(404, 'delivery_not_found', 'no webhook delivery has this id', 'id');
    this.kick();
    return (await this.db.get<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ?`, [id])) as DeliveryRow;
  }
}
