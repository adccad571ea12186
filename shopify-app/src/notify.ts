// The merchant's notifications (issue 15): a short message per cause — an invoice settled, one
// waiting for review, an unmatched transfer, a watcher lagging behind its chain, a webhook dead-
// lettered — to a Telegram chat (Bot API sendMessage) and/or by e-mail (SMTP, nodemailer).
// Causes are looked for every `check_ms` and at once after each change; each (channel, cause)
// is claimed in notifications_sent first, so that several processes on one database send it once.
// A send that fails gives its claim back and is tried again at the next look, for causes of the
// last hour (older ones are left: a notification days late helps nobody).
import nodemailer = require('nodemailer');
import sg = require('./core');
import type { NotificationKind, NotificationsConfig } from './config';
import { word, WordKey } from './console/i18n';
import type { Db } from './db';
import type { InvoiceRow, Invoices } from './invoices';
import type { Logger } from './log';
import type { Watcher } from './watcher';

/** Causes older than this are not notified (nor retried). */
const WINDOW_SECONDS = 3600;

/**
 * Sends `text` with the Telegram Bot API's sendMessage (https://core.telegram.org/bots/api#sendmessage):
 * POST {api}/bot{token}/sendMessage with JSON {chat_id, text}; the answer is {ok: true, result}
 * or {ok: false, error_code, description}. The error names neither the token nor the URL.
 */
export async function sendTelegram(telegram: NonNullable<NotificationsConfig['telegram']>, text: string, timeoutMs = 10000): Promise<void> {
  const response = await fetch(`${telegram.apiUrl}/bot${telegram.botToken}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: telegram.chatId, text: text.slice(0, 4096), disable_web_page_preview: true }),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  }).catch((error: Error) => {
    throw new Error(`telegram: the Bot API cannot be reached (${error.name === 'TimeoutError' ? 'timeout' : error.message.replace(telegram.botToken, '…')})`);
  });
  const body = (await response.json().catch(() => null)) as { ok?: boolean; error_code?: number; description?: string } | null;
  if (!body?.ok) throw new Error(`telegram: sendMessage failed (HTTP ${response.status}${body?.description ? `: ${body.description}` : ''})`);
}

interface Channel {
  name: 'telegram' | 'email';
  send(subject: string, text: string): Promise<void>;
}

export class Notifier {
  private readonly channels: Channel[] = [];
  private timer: NodeJS.Timeout | null = null;
  private kickTimer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly onChange = () => this.kick();

  constructor(
    private readonly config: NotificationsConfig,
    private readonly db: Db,
    private readonly invoices: Invoices,
    private readonly watcher: Watcher,
    private readonly log: Logger,
  ) {
    if (config.telegram) {
      const telegram = config.telegram;
      this.channels.push({ name: 'telegram', send: (_subject, text) => sendTelegram(telegram, text) });
    }
    if (config.email) {
      const email = config.email;
      const transport = nodemailer.createTransport({
        host: email.host,
        port: email.port,
        secure: email.secure,
        auth: email.user ? { user: email.user, pass: email.password ?? '' } : undefined,
        connectionTimeout: 10000,
        greetingTimeout: 10000,
        socketTimeout: 20000,
      });
      this.channels.push({
        name: 'email',
        send: async (subject, text) => {
          await transport.sendMail({ from: email.from, to: email.to, subject, text });
        },
      });
    }
  }

  start(): void {
    this.invoices.changes.on('change', this.onChange);
    this.timer = setInterval(() => this.kick(), this.config.checkMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.invoices.changes.off('change', this.onChange);
    if (this.timer) clearInterval(this.timer);
    if (this.kickTimer) clearTimeout(this.kickTimer);
    await this.running;
  }

  /** Looks for causes soon (changes come in bursts: one look for the burst). */
  kick(): void {
    if (this.stopped || this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = null;
      if (this.running) return this.kick();
      this.running = this.check()
        .catch((error) => this.log.warn('notifications check failed', { error: (error as Error).message }))
        .finally(() => {
          this.running = null;
        });
    }, 200);
  }

  /** Sends `text` on every channel, as the merchant's test from the console; throws the first failure. */
  async test(): Promise<void> {
    for (const channel of this.channels) await channel.send('Stablegate', word(this.config.language, 'notify_test'));
  }

  /** One look: every cause of the last hour not yet notified on a channel is sent there. */
  async check(): Promise<void> {
    const now = this.invoices.clock();
    const since = now - WINDOW_SECONDS;
    const base = this.invoices.publicUrl;
    const order = (row: InvoiceRow) => (row.order_id ? ` (${row.order_id})` : '');
    const display = (row: InvoiceRow) => this.invoices.view(row, now, null);
    if (this.wants('settled')) {
      for (const row of await this.db.all<InvoiceRow>(`SELECT * FROM invoices WHERE state = 'settled' AND updated_at >= ? ORDER BY updated_at LIMIT 50`, [since])) {
        const v = display(row);
        await this.notify(`settled:${row.id}`, 'notify_settled', { invoice: row.id, order: order(row), amount: sg.displayAmount(v.amount_paid), network: row.network ?? '', link: `${base}/console/invoices/${row.id}` });
      }
    }
    if (this.wants('needs_review')) {
      for (const row of await this.db.all<InvoiceRow>(`SELECT * FROM invoices WHERE exception = 'needs_review' AND updated_at >= ? ORDER BY updated_at LIMIT 50`, [since])) {
        const v = display(row);
        await this.notify(`needs_review:${row.id}`, 'notify_needs_review', {
          invoice: row.id, order: order(row), paid: sg.displayAmount(v.amount_paid), due: sg.displayAmount(v.amount_due), link: `${base}/console/invoices/${row.id}`,
        });
      }
    }
    if (this.wants('unmatched')) {
      const rows = await this.db.all<{ network: string; token: string; tx_hash: string; log_index: number; sender: string; amount: string }>(
        `SELECT network, token, tx_hash, log_index, sender, amount FROM ledger WHERE invoice_id IS NULL AND seen_at >= ? ORDER BY seen_at LIMIT 50`,
        [since],
      );
      for (const r of rows) {
        await this.notify(`unmatched:${r.network}:${r.tx_hash}:${r.log_index}`, 'notify_unmatched', {
          amount: sg.displayAmount(sg.formatAmount(r.network, r.amount, r.token)), network: r.network, from: r.sender, tx: r.tx_hash, link: `${base}/console/review`,
        });
      }
    }
    if (this.wants('dead_letter')) {
      const dead = await this.db.all<{ id: string; event_id: string; endpoint: string; attempts: number; last_error: string | null; updated_at: number }>(
        `SELECT id, event_id, endpoint, attempts, last_error, updated_at FROM webhook_deliveries WHERE status = 'dead' AND updated_at >= ? ORDER BY updated_at LIMIT 50`,
        [since],
      );
      for (const d of dead) {
        // Keyed by the time it died too: resent and dead again, it is told again.
        await this.notify(`dead_letter:${d.id}:${d.updated_at}`, 'notify_dead_letter', {
          event: d.event_id, endpoint: d.endpoint, attempts: d.attempts, error: d.last_error ?? '', link: `${base}/console/review`,
        });
      }
    }
    if (this.wants('watcher_lag')) {
      for (const state of this.watcher.states.values()) {
        // Only the process polling the network knows its lag (a standby's cursors are not its own).
        if (state.role !== 'active') continue;
        const cursors = Object.values(state.cursors);
        if (state.head === null || cursors.length === 0) continue;
        const lag = state.head - Math.min(...cursors);
        // At most once an hour per network while it lags.
        if (lag > this.config.watcherLagBlocks) await this.notify(`watcher_lag:${state.network}:${Math.floor(now / 3600)}`, 'notify_watcher_lag', { network: state.network, lag });
      }
    }
  }

  private wants(kind: NotificationKind): boolean {
    return this.config.kinds.includes(kind);
  }

  private async notify(cause: string, key: WordKey, values: Record<string, string | number>): Promise<void> {
    const text = word(this.config.language, key, values);
    const subject = `Stablegate: ${text.split(/[:：]/)[0]}`;
    for (const channel of this.channels) {
      const claim = `${channel.name}:${cause}`;
      const claimed = await this.db.run(`INSERT INTO notifications_sent (key, created_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, [claim, this.invoices.clock()]);
      if (claimed !== 1) continue;
      try {
        await channel.send(subject, text);
        this.log.info('notification sent', { channel: channel.name, cause });
      } catch (error) {
        // Given back: the next look tries again.
        await this.db.run(`DELETE FROM notifications_sent WHERE key = ?`, [claim]);
        this.log.warn('notification not sent; will retry', { channel: channel.name, cause, error: (error as Error).message });
      }
    }
  }
}
