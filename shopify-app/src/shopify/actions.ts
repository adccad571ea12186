// What the invoices' events make the app do in Shopify, exactly once per event: capture what was
// paid, note a review, cancel (or leave) an order whose invoice expired unpaid. Every event of an
// invoice linked to an order gets one row per action in `shopify_actions` (a unique key on
// (event, action): a restart, a redelivered change or a second process adds none); each attempt
// is claimed by one process in one statement (SKIP LOCKED on PostgreSQL), as the webhook worker
// claims deliveries. A capture is also safe to run twice: it takes only what Shopify shows as not
// yet captured on the pending sale.
import type { Shopify } from '@shopify/shopify-api';
import type { Db } from '../db';
import type { Invoices } from '../invoices';
import type { Logger } from '../log';
import { afterAttempt } from '../webhooks';
import { Admin, ShopifyOrder } from './admin';
import { formatMinor, minorDigits, scaled, usdtToMinor } from './money';
import { pendingSale, ShopifyOrderRow } from './orders';
import type { Shops } from './shops';

export type Action = 'capture' | 'review' | 'expire' | 'none';

interface EventView {
  state: string;
  exception: string | null;
  amount_paid: string;
  rate: string | null;
  network: string | null;
  transfers: { tx_hash: string; status: string }[];
}

export interface ActionRow {
  id: string;
  event_id: string;
  action: Action;
  shop: string;
  order_id: string;
  invoice_id: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  claimed_by: string | null;
  last_error: string | null;
  result: string | null;
}

/**
 * The action an event calls for, from the invoice as the event announced it. A review is never
 * captured on its own: the merchant resolves it in Stablegate, and the event that follows decides.
 */
export function actionOf(view: EventView): Action {
  const paid = /[1-9]/.test(view.amount_paid);
  if (view.exception === 'needs_review') return 'review';
  if (view.state === 'settled') return 'capture';
  if (view.state === 'expired') return paid ? 'capture' : 'expire';
  return 'none';
}

/** Seconds before attempt n+1 of a failed action; then it is left `failed`, in the log and the list. */
const RETRY_S = [5, 30, 120, 600, 1800, 7200, 21600];
/** How long a claimed attempt is hidden from the other processes. */
const CLAIM_MS = 5 * 60 * 1000;

export class ShopifyActions {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private claims = 0;

  constructor(
    private readonly s: { db: Db; invoices: Invoices; shops: Shops; shopify: Shopify; log: Logger },
    private readonly process: string,
    private readonly pollMs = 1000,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
  }

  /** An invoice changed: look for new events now. */
  kick(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delay = this.pollMs) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.busy = this.runOnce()
        .catch((error) => this.s.log.error('shopify actions failed', { error: (error as Error).message }))
        .finally(() => {
          this.busy = null;
          const now = this.again;
          this.again = false;
          this.schedule(now ? 0 : this.pollMs);
        });
    }, delay);
  }

  /** One turn: record the actions of new events, then make the due attempts. */
  async runOnce(): Promise<void> {
    await this.record();
    await this.runDue();
  }

  /** Adds one row per (event, action) for the events of linked invoices that have none yet. */
  async record(): Promise<number> {
    const events = await this.s.db.all<{ id: string; body: string; shop: string; order_id: string; invoice_id: string }>(
      `SELECT e.id, e.body, o.shop, o.order_id, o.invoice_id FROM events e JOIN shopify_orders o ON o.invoice_id = e.invoice_id
       WHERE NOT EXISTS (SELECT 1 FROM shopify_actions a WHERE a.event_id = e.id) ORDER BY e.created_at LIMIT 500`,
    );
    const now = Date.now();
    for (const e of events) {
      const view = (JSON.parse(e.body) as { data: { invoice: EventView } }).data.invoice;
      const action = actionOf(view);
      await this.s.db.run(
        `INSERT INTO shopify_actions (id, event_id, action, shop, order_id, invoice_id, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [`${e.id}/${action}`, e.id, action, e.shop, e.order_id, e.invoice_id, action === 'none' ? 'done' : 'pending', now, Math.floor(now / 1000), Math.floor(now / 1000)],
      );
    }
    return events.length;
  }

  /** Claims the due attempts (at most 20) and makes each, one after the other. */
  async runDue(): Promise<number> {
    const now = Date.now();
    const claim = `${this.process}#${++this.claims}`;
    const skipLocked = this.s.db.kind === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const due = await this.s.db.all<ActionRow>(
      `UPDATE shopify_actions SET attempts = attempts + 1, claimed_by = ?, next_attempt_at = ?
       WHERE id IN (SELECT id FROM shopify_actions WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT 20${skipLocked})
       RETURNING *`,
      [claim, now + CLAIM_MS, now],
    );
    for (const row of due.sort((a, b) => a.event_id.localeCompare(b.event_id, 'en', { numeric: true }))) await this.attempt(row);
    return due.length;
  }

  private async attempt(row: ActionRow): Promise<void> {
    let status = 'done';
    let result: string | null = null;
    let error: string | null = null;
    let next = row.next_attempt_at;
    try {
      result = await this.perform(row);
      if (result === 'shop_not_installed') status = 'skipped';
    } catch (e) {
      error = (e as Error).message;
      // The webhook worker's rule (retry on the schedule, then give up); a given-up action is 'failed'.
      const verdict = afterAttempt(RETRY_S, row.attempts, true, false);
      status = verdict.state === 'dead' ? 'failed' : 'pending';
      next = verdict.next ?? next;
    }
    await this.s.db.run(
      `UPDATE shopify_actions SET status = ?, result = ?, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND claimed_by = ?`,
      [status, result, error, next, Math.floor(Date.now() / 1000), row.id, row.claimed_by],
    );
    const fields = { action: row.action, event: row.event_id, shop: row.shop, order: row.order_id, attempt: row.attempts, result, error };
    if (status === 'failed') this.s.log.error('shopify action failed for good', fields);
    else if (error) this.s.log.warn('shopify action failed; will retry', fields);
    else this.s.log.info(`shopify ${row.action}`, fields);
  }

  /** Does the action in Shopify; returns what happened (stored as the row's result). */
  private async perform(row: ActionRow): Promise<string> {
    if ((await this.s.shops.token(row.shop)) === null) return 'shop_not_installed';
    const admin = await Admin.of(this.s.shopify, this.s.shops, row.shop);
    const link = (await this.s.db.get<ShopifyOrderRow>(`SELECT * FROM shopify_orders WHERE shop = ? AND order_id = ?`, [row.shop, row.order_id])) as ShopifyOrderRow;
    const event = (await this.s.db.get<{ body: string }>(`SELECT body FROM events WHERE id = ?`, [row.event_id])) as { body: string };
    const view = (JSON.parse(event.body) as { data: { invoice: EventView } }).data.invoice;
    const order = await admin.order(row.order_id);
    if (!order) return 'order_gone';
    const marker = `[stablegate ${row.event_id}]`;
    const note = (text: string) => (order.note ?? '').includes(marker) ? Promise.resolve() : admin.updateOrder({ id: order.id, note: [order.note, `${marker} ${text}`].filter(Boolean).join('\n') });
    const invoice = `Stablegate invoice ${row.invoice_id}`;

    if (row.action === 'review') {
      await note(`${invoice}: a USDT payment needs your review in Stablegate before this order is marked paid (nothing was captured).`);
      return 'noted';
    }
    if (row.action === 'expire') {
      if (order.cancelledAt !== null) return 'already_cancelled';
      const settings = await this.s.shops.settings(row.shop);
      if (settings.on_expiry === 'leave') {
        await note(`${invoice} expired unpaid; the order is left pending (setting on_expiry = leave).`);
        return 'left_pending';
      }
      await admin.cancel(order.id, true, `${invoice} expired unpaid.`);
      return 'cancelled';
    }
    // capture
    const txs = view.transfers.map((t) => t.tx_hash).join(', ');
    if (order.cancelledAt !== null) {
      this.s.log.warn('USDT paid for a cancelled order: refund it or re-open it by hand', { shop: row.shop, order: order.name, invoice: row.invoice_id });
      await note(`${invoice}: ${view.amount_paid} USDT was paid on ${view.network} (tx ${txs}) after the order was cancelled; nothing was captured.`);
      return 'paid_after_cancel';
    }
    const amount = captureAmount(link, view);
    const sale = pendingSale(order) ?? order.transactions.find((t) => t.kind === 'SALE' && t.manualPaymentGateway);
    if (!sale) throw new Error(`order ${order.name} has no manual sale to capture`);
    const digits = minorDigits(link.currency);
    const remaining = amount - captured(order, sale.id, digits);
    if (remaining <= 0n) return 'already_captured';
    const tx = await admin.capture({ id: order.id, parentTransactionId: sale.id, amount: formatMinor(remaining, digits), currency: link.currency });
    await note(`${invoice}: captured ${formatMinor(remaining, digits)} ${link.currency} for ${view.amount_paid} USDT on ${view.network} (tx ${txs}); Shopify transaction ${tx.id}.`);
    return `captured ${formatMinor(remaining, digits)} ${link.currency}`;
  }
}

/**
 * What the order's capture should total after this event, in minor units: the whole outstanding
 * amount the invoice was made for once paid in full (its unique amount's extra cents, an
 * overpayment: never more than the sale), else what was paid at the invoice's locked rate.
 */
export function captureAmount(link: ShopifyOrderRow, view: EventView): bigint {
  const digits = minorDigits(link.currency);
  const full = scaled(link.amount, digits);
  if (view.state === 'settled') return full;
  const worth = usdtToMinor(view.amount_paid, view.rate ?? '0', digits);
  return worth < full ? worth : full;
}

/** The minor units already captured from sale `saleId` (successful captures of it). */
function captured(order: ShopifyOrder, saleId: string, digits: number): bigint {
  return order.transactions
    .filter((t) => t.kind === 'CAPTURE' && t.status === 'SUCCESS' && t.parentTransaction?.id === saleId)
    .reduce((sum, t) => sum + scaled(t.amountSet.presentmentMoney.amount, digits), 0n);
}
