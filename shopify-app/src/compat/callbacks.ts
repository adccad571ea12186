// The success callbacks of Epusdt and EPay orders: one per order, queued only once its invoice is
// settled (the `invoice.settled` event Invoices records: never for a waiting, expired, partial or
// in-review invoice, because several widely used panels complete an order on any correctly signed
// callback without reading its status), sent on the retry schedule until the panel answers what
// its protocol expects, then dead-lettered until someone resends it.
//
// Several server processes may share one PostgreSQL: a process claims due callbacks in one
// statement (FOR UPDATE SKIP LOCKED), pushing next_attempt_at past the send's timeout (a
// visibility timeout: a process that dies mid-send leaves the callback to be claimed again) and
// recording its claim id; the result is written only where that claim still holds.
import crypto = require('node:crypto');
import fs = require('node:fs');
import http = require('node:http');
import https = require('node:https');
import net = require('node:net');
import tls = require('node:tls');
import type { CompatConfig } from '../config';
import type { Db } from '../db';
import { ApiError } from '../errors';
import type { Invoices } from '../invoices';
import type { Logger } from '../log';
import { afterAttempt, guardedLookup, isPrivateAddress } from '../webhooks';
import type { Credentials } from './credentials';
import { epayCallback } from './epay';
import { epusdtCallback } from './epusdt';
import type { CompatOrders, OrderRow, Terms } from './orders';

export interface CallbackRow {
  id: string;
  invoice_id: string;
  event_id: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: number;
  claimed_by: string | null;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
  updated_at: number;
}

/** One request to a panel, and how its answer is judged. */
export interface Delivery {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: string | null;
  delivered: (status: number, text: string) => boolean;
}

/** How far back each poll looks for settled events; the first poll after start looks at all of them. */
const RECENT_SECONDS = 3600;
/** The most of a panel's answer that is read (the verdict needs a few bytes). */
const MAX_ANSWER = 65536;

/**
 * Sends `delivery` without following redirects, refusing private destinations unless allowed
 * (judged on the connection's own name resolution, as webhooks are); returns the status and text.
 */
function send(delivery: Delivery, options: { allowPrivate: boolean; timeoutMs: number; ca: string[] | undefined }): Promise<{ status: number; text: string }> {
  const url = new URL(delivery.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && net.isIP(host) && isPrivateAddress(host)) {
    return Promise.reject(new Error(`refused: ${host} is a loopback or private address`));
  }
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      {
        method: delivery.method,
        headers: { 'user-agent': 'stablegate-compat/1', ...delivery.headers, ...(delivery.body !== null ? { 'content-length': String(Buffer.byteLength(delivery.body)) } : {}) },
        lookup: options.allowPrivate ? undefined : guardedLookup,
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.ca && url.protocol === 'https:' ? { ca: options.ca } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', reject);
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER) }));
      },
    );
    request.on('error', reject);
    request.end(delivery.body ?? undefined);
  });
}

export class CompatCallbacks {
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopped = true;
  private scannedAll = false;
  private readonly ca: string[] | undefined;

  constructor(
    private readonly config: CompatConfig,
    private readonly db: Db,
    private readonly invoices: Invoices,
    private readonly orders: CompatOrders,
    private readonly credentials: Credentials,
    private readonly log: Logger,
  ) {
    // The system's roots and the configured extra CA (a panel behind a private CA; the tests' CA).
    this.ca = config.callbacks.caFile ? [...tls.rootCertificates, fs.readFileSync(config.callbacks.caFile, 'utf8')] : undefined;
  }

  start(): void {
    this.stopped = false;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  /** Looks for settled orders and due callbacks now (after an invoice changed), if the worker is waiting. */
  kick(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.queueSettled();
        await this.deliverDue();
      } catch (error) {
        this.log.error('compat callback worker failed', { error: (error as Error).message });
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.config.callbacks.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /**
   * Queues one callback per compat order whose invoice has an `invoice.settled` event: the recent
   * events each time, every one the first time (events recorded while no worker ran). Safe in any
   * number of processes at once: the invoice id is unique among callbacks.
   */
  async queueSettled(): Promise<number> {
    const now = this.invoices.clock();
    const since = this.scannedAll ? now - RECENT_SECONDS : 0;
    const queued = await this.db.run(
      `INSERT INTO compat_callbacks (id, invoice_id, event_id, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT 'cb_' || e.invoice_id, e.invoice_id, e.id, 'pending', 0, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
       FROM events e JOIN compat_orders o ON o.invoice_id = e.invoice_id
       WHERE e.type = 'invoice.settled' AND e.created_at >= ?
         AND NOT EXISTS (SELECT 1 FROM compat_callbacks c WHERE c.invoice_id = e.invoice_id)
       ON CONFLICT DO NOTHING`,
      [Date.now(), now, now, since],
    );
    this.scannedAll = true;
    return queued;
  }

  /** Claims the due callbacks (at most `limit`) for this process and sends them. */
  async deliverDue(limit = 20): Promise<number> {
    const claim = crypto.randomBytes(8).toString('hex');
    const now = Date.now();
    const lock = this.db.kind === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const due = await this.db.all<CallbackRow>(
      `UPDATE compat_callbacks SET claimed_by = ?, next_attempt_at = ?
       WHERE id IN (SELECT id FROM compat_callbacks WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?${lock})
       RETURNING *`,
      [claim, now + this.config.callbacks.timeoutMs + 5000, now, limit],
    );
    await Promise.all(due.map((row) => this.deliver(row, claim)));
    return due.length;
  }

  /** The request of callback `row`, built from its order, its invoice now and its credential. */
  private async build(row: CallbackRow): Promise<{ delivery: Delivery; allowPrivate: boolean }> {
    const order = (await this.orders.byInvoice(row.invoice_id)) as OrderRow;
    const invoice = await this.invoices.get(row.invoice_id);
    const credential = await this.credentials.byId(order.credential_id);
    if (!invoice || !credential) throw new Error('the order\'s invoice or credential is gone');
    const terms = JSON.parse(order.terms) as Terms;
    const delivery = terms.protocol === 'epusdt' ? epusdtCallback(order, this.orders.view(invoice, null), credential) : epayCallback(order, credential);
    return { delivery, allowPrivate: credential.allowPrivate };
  }

  private async deliver(row: CallbackRow, claim: string): Promise<void> {
    const attempts = row.attempts + 1;
    let error: string | null = null;
    let status: number | null = null;
    let final = false;
    try {
      const { delivery, allowPrivate } = await this.build(row);
      const answer = await send(delivery, { allowPrivate, timeoutMs: this.config.callbacks.timeoutMs, ca: this.ca });
      status = answer.status;
      if (!delivery.delivered(answer.status, answer.text)) error = `HTTP ${answer.status}: the answer is not the protocol's acknowledgement (${JSON.stringify(answer.text.slice(0, 80))})`;
    } catch (e) {
      error = (e as Error).message;
      if (error.startsWith('refused:') || error.includes('is gone')) final = true;
    }
    const schedule = this.config.callbacks.retrySchedule;
    const verdict = afterAttempt(schedule, attempts, error !== null, final);
    const state: CallbackRow['status'] = verdict.state;
    // next_attempt_at is never NULL here: a callback no longer pending keeps the time of its last try.
    const next = verdict.next ?? Date.now();
    const written = await this.db.run(
      `UPDATE compat_callbacks SET status = ?, attempts = ?, next_attempt_at = ?, claimed_by = NULL, last_error = ?, last_status = ?, updated_at = ?
       WHERE id = ? AND claimed_by = ?`,
      [state, attempts, next, error, status, this.invoices.clock(), row.id, claim],
    );
    const fields = { callback: row.id, invoice: row.invoice_id, attempt: attempts, status };
    if (written !== 1) this.log.warn('compat callback result dropped: another process claimed it meanwhile', fields);
    else if (state === 'delivered') this.log.info('compat callback delivered', fields);
    else if (state === 'dead') this.log.error('compat callback dead-lettered (resend with `stablegate compat callbacks resend`)', { ...fields, error });
    else this.log.warn('compat callback failed; will retry', { ...fields, error, retry_in_s: schedule[attempts - 1] });
  }

  deadLetters(): Promise<CallbackRow[]> {
    return this.db.all<CallbackRow>(`SELECT * FROM compat_callbacks WHERE status = 'dead' ORDER BY updated_at DESC LIMIT 500`);
  }

  get(id: string): Promise<CallbackRow | undefined> {
    return this.db.get<CallbackRow>(`SELECT * FROM compat_callbacks WHERE id = ?`, [id]);
  }

  /** Puts a dead (or delivered) callback back in the queue, attempts reset; a running server sends it. */
  async resend(id: string): Promise<CallbackRow> {
    const n = await this.db.run(
      `UPDATE compat_callbacks SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_by = NULL, updated_at = ? WHERE id = ?`,
      [Date.now(), Math.floor(Date.now() / 1000), id],
    );
    if (n !== 1) throw new ApiError('delivery_not_found', 'no compat callback has this id', 'id');
    this.kick();
    return (await this.get(id)) as CallbackRow;
  }
}
