// Outgoing webhooks (DESIGN §10): every invoice event to every endpoint, signed
// (`Stablegate-Signature: t=…,v1=…`, by the core), retried on the backoff schedule, then
// dead-lettered until someone resends it. Loopback and private addresses are refused unless the
// endpoint says allow_private (SSRF: a webhook URL must not reach the server's own network); the
// check is made on the connection's own name resolution, and redirects are never followed.
// Several processes may share the database: each attempt is claimed by one of them in one
// statement (SKIP LOCKED on PostgreSQL), which also hides the delivery from the others until the
// attempt's time is up, so no attempt is made twice while its process lives.
import dns = require('node:dns');
import http = require('node:http');
import https = require('node:https');
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
  claimed_by: string | null;
  created_at: number;
  updated_at: number;
}

// The special-purpose ranges (IANA's IPv4 and IPv6 special-purpose registries) that a webhook must
// not reach: this host, private and shared networks, link-local, multicast, reserved. Node's
// BlockList compares addresses, not their spelling, and applies the IPv4 rules to IPv4-mapped
// IPv6 addresses (::ffff:7f00:1 is 127.0.0.1).
const BLOCKED = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b:1::', 48], ['2001::', 32], ['2002::', 16], // local NAT64, Teredo and 6to4 tunnel other addresses
  ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(prefix, bits, 'ipv6');
const NAT64 = new net.BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** True for loopback, private, link-local, shared, multicast and reserved addresses, however written. */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return BLOCKED.check(address, 'ipv4');
  if (family !== 6) return true; // not an address: refuse rather than guess
  if (BLOCKED.check(address, 'ipv6')) return true;
  // The well-known NAT64 prefix carries an IPv4 address in its last 32 bits: judge that one.
  if (NAT64.check(address, 'ipv6')) {
    const groups = new URL(`http://[${address}]/`).hostname.slice(1, -1).split(':');
    const [high, low] = groups.slice(-2).map((g) => parseInt(g || '0', 16));
    return isPrivateAddress([high >> 8, high & 255, low >> 8, low & 255].join('.'));
  }
  return false;
}

const refusal = (host: string, address: string) =>
  new Error(`refused: ${host} is a loopback or private address (${address}); set allow_private on the endpoint to allow it`);

/** Refuses a URL whose host is or resolves to a private address, unless the endpoint allows it. */
export async function checkDestination(endpoint: WebhookEndpoint): Promise<void> {
  if (endpoint.allowPrivate) return;
  const host = new URL(endpoint.url).hostname.replace(/^\[|\]$/g, '');
  const addresses = net.isIP(host) ? [host] : (await dns.promises.lookup(host, { all: true })).map((a) => a.address);
  const bad = addresses.find(isPrivateAddress);
  if (bad) throw refusal(host, bad);
}

/**
 * The name resolution of a webhook's own connection: it refuses private addresses there, so a
 * name that answers differently the second time (DNS rebinding) cannot pass a check made earlier.
 */
export const guardedLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(refusal(hostname, bad.address) as NodeJS.ErrnoException, '', 0);
    if ((options as dns.LookupOptions).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};

/** POSTs `body` to `endpoint` without following redirects; returns the HTTP status. */
function post(endpoint: WebhookEndpoint, headers: Record<string, string>, body: string, timeoutMs: number): Promise<number> {
  const url = new URL(endpoint.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // An address literal is connected to without a lookup: judge it here.
  if (!endpoint.allowPrivate && net.isIP(host) && isPrivateAddress(host)) return Promise.reject(refusal(host, host));
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: endpoint.allowPrivate ? undefined : guardedLookup,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        response.on('error', reject);
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * What follows attempt number `attempts` of a delivery on `schedule` (seconds before each retry):
 * delivered; or, when it failed, another attempt at the schedule's next time, or the dead letters
 * once the schedule is spent or the failure is final (a refused destination). The webhook worker
 * and the compatibility callbacks both decide by it.
 */
export function afterAttempt(
  schedule: number[],
  attempts: number,
  failed: boolean,
  final: boolean,
  now = Date.now(),
): { state: 'delivered' | 'pending' | 'dead'; next: number | null } {
  if (!failed) return { state: 'delivered', next: null };
  if (final || attempts > schedule.length) return { state: 'dead', next: null };
  return { state: 'pending', next: now + Math.round(schedule[attempts - 1] * 1000) };
}

export class Webhooks {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private stopped = true;
  private claims = 0;

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly log: Logger,
    /** This process's holder id (lease.ts): the prefix of its claims. */
    private readonly holder: string = 'stablegate',
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

  /**
   * Claims the due deliveries (at most 50) and makes one attempt of each. A claim counts the
   * attempt and moves it out of sight until the attempt's timeout has passed with a margin: a
   * process that dies mid-attempt leaves it to another process then.
   */
  async deliverDue(): Promise<number> {
    const now = Date.now();
    const claim = `${this.holder}#${++this.claims}`;
    const skipLocked = this.db.kind === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const due = await this.db.all<DeliveryRow>(
      `UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_by = ?, next_attempt_at = ?
       WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 50${skipLocked})
       RETURNING *`,
      [claim, now + this.config.webhooks.timeoutMs + 5000, now],
    );
    await Promise.all(due.map((d) => this.deliver(d)));
    return due.length;
  }

  private async deliver(delivery: DeliveryRow): Promise<void> {
    const endpoint = this.config.webhooks.endpoints.find((e) => e.name === delivery.endpoint);
    const event = await this.db.get<{ body: string; type: string; invoice_id: string }>(`SELECT body, type, invoice_id FROM events WHERE id = ?`, [delivery.event_id]);
    const attempts = delivery.attempts;
    let error: string | null = null;
    let status: number | null = null;
    let final = false;
    if (!endpoint || !event) {
      error = endpoint ? 'the event is gone' : `endpoint ${delivery.endpoint} is no longer configured`;
      final = true;
    } else {
      try {
        const timestamp = Math.floor(Date.now() / 1000);
        status = await post(
          endpoint,
          {
            'content-type': 'application/json',
            'user-agent': 'stablegate-webhooks/1',
            'stablegate-signature': sg.signWebhook(endpoint.secret, event.body, timestamp),
            'stablegate-event-id': delivery.event_id,
          },
          event.body,
          this.config.webhooks.timeoutMs,
        );
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = (e as Error).message;
        if (error.startsWith('refused:')) final = true;
      }
    }
    const schedule = this.config.webhooks.retrySchedule;
    const { state, next } = afterAttempt(schedule, attempts, error !== null, final);
    // Only the claim's own outcome: a resend meanwhile (claimed_by reset) is not overwritten.
    await this.db.run(
      `UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, last_error = ?, last_status = ?, updated_at = ? WHERE id = ? AND claimed_by = ?`,
      [state, next, error, status, Math.floor(Date.now() / 1000), delivery.id, delivery.claimed_by],
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
    const n = await this.db.run(`UPDATE webhook_deliveries SET status = 'pending', attempts = 0, claimed_by = NULL, next_attempt_at = ?, updated_at = ? WHERE id = ?`, [
      Date.now(),
      Math.floor(Date.now() / 1000),
      id,
    ]);
    if (n !== 1) throw new ApiError('delivery_not_found', 'no webhook delivery has this id', 'id');
    this.kick();
    return (await this.db.get<DeliveryRow>(`SELECT * FROM webhook_deliveries WHERE id = ?`, [id])) as DeliveryRow;
  }
}
