// Invoices: creation with unique amounts, the customer's network choice, cancel/review, the
// status document, and applying what the chain says (credits, finality, claims). Every payment
// rule is the core's (createInvoice, allocateAmount, matchTransfer, claimTransfer,
// creditTransfer, setEntryStatus, syncInvoice, invoiceStatus, statusDocument); this module does
// the storage around them, in transactions, behind the database's unique constraints.
import crypto = require('node:crypto');
import { EventEmitter } from 'node:events';
import sg = require('./core');
import type { Invoice, StatusDocument, Transfer, InvoiceEvent } from '../../crates/wasm/pkg/node/stablegate_wasm';
import { DECIMAL } from './config';
import type { Config, NetworkConfig } from './config';
import { Db, Queryable, amountKey, isUniqueViolation } from './db';
import { ApiError, coreCode, invalid } from './errors';
import type { Logger } from './log';
import type { Rates } from './rates';
import { network as registryNetwork, token as registryToken } from './registry';

export interface InvoiceRow {
  id: string;
  order_id: string | null;
  state: string;
  exception: string | null;
  network: string | null;
  token: string | null;
  recipient: string | null;
  amount_due: string | null;
  watched: number;
  base_amount: string;
  fiat_amount: string | null;
  currency: string | null;
  rate: string | null;
  accepted: string;
  redirect_url: string | null;
  metadata: string | null;
  created_at: number;
  expires_at: number;
  monitor_until: number;
  record: string | null;
  updated_at: number;
}

export interface LedgerRow {
  network: string;
  tx_hash: string;
  log_index: number;
  token: string;
  recipient: string;
  sender: string;
  amount: string;
  block_number: number;
  block_hash: string;
  block_time: number;
  invoice_id: string | null;
  matched_by: string | null;
  status: string;
  note: string | null;
}

export interface Choice {
  network: string;
  token: string;
}

export interface CreateInput {
  amount?: string;
  fiat_amount?: string;
  currency?: string;
  order_id?: string;
  networks?: Choice[];
  redirect_url?: string;
  metadata?: Record<string, unknown>;
  expires_in?: number;
}

/** A finished request to replay for a repeated Idempotency-Key. */
export interface Replay {
  status: number;
  body: unknown;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An unguessable id: 128 random bits. The status URL is the id, so it must not be guessable. */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomBytes(16).toString('base64url')}`;
}

const CREATE_FIELDS = new Set(['amount', 'fiat_amount', 'currency', 'order_id', 'networks', 'redirect_url', 'metadata', 'expires_in']);
const U128_MAX = (1n << 128n) - 1n;

export class Invoices {
  /** Emits an invoice id after each committed change (SSE, webhooks). */
  readonly changes = new EventEmitter();
  /** Latest chain head per network, from the watcher (confirmations in status documents). */
  readonly heads = new Map<string, number>();
  private readonly forUpdate: string;

  /**
   * The base of every link the server hands out, in answers, webhook bodies and what it stores:
   * `public_url`, else the address the server listens on (startApp sets it once listening).
   * Never a request's Host header, which any caller chooses.
   */
  publicUrl: string;

  constructor(
    readonly db: Db,
    readonly config: Config,
    readonly clock: () => number,
    private readonly log: Logger,
    private readonly rates: Rates,
  ) {
    this.publicUrl = config.publicUrl ?? '';
    this.changes.setMaxListeners(0);
    this.forUpdate = db.kind === 'postgres' ? ' FOR UPDATE' : '';
  }

  networkConfig(id: string): NetworkConfig | undefined {
    return this.config.networks.find((n) => n.id === id);
  }

  /** Every (network, token) this server accepts, in configuration order. */
  allChoices(): Choice[] {
    return this.config.networks.flatMap((n) => n.tokens.map((token) => ({ network: n.id, token })));
  }

  // ---------------------------------------------------------------- creation

  /** Checks a create request completely before anything is written; throws a 4xx naming the field. */
  async validateCreate(body: unknown): Promise<{ input: CreateInput; accepted: Choice[]; base: string; rate: string | null }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiError(400, 'invalid_body', 'the request body must be a JSON object', 'body');
    }
    const raw = body as Record<string, unknown>;
    for (const key of Object.keys(raw)) {
      if (!CREATE_FIELDS.has(key)) throw new ApiError(422, 'unknown_field', `${key}: not a field of an invoice`, key);
    }
    const input: CreateInput = {};
    if (raw.order_id !== undefined) {
      if (typeof raw.order_id !== 'string' || raw.order_id.length === 0 || raw.order_id.length > 200) {
        throw invalid('order_id', 'must be a string of 1 to 200 characters');
      }
      input.order_id = raw.order_id;
    }
    let accepted = this.allChoices();
    if (raw.networks !== undefined) {
      if (!Array.isArray(raw.networks) || raw.networks.length === 0) {
        throw invalid('networks', 'must be a non-empty list like ["tron"] or [{"network": "bsc", "token": "usdt"}]');
      }
      accepted = raw.networks.map((n): Choice => {
        // "network" or "network:token", or {"network", "token"?}: nothing more, nothing else.
        const parts = typeof n === 'string' ? n.split(':') : null;
        const entry = typeof n === 'object' && n !== null && !Array.isArray(n) ? (n as Record<string, unknown>) : null;
        const wellFormed =
          (parts !== null && parts.length <= 2) ||
          (entry !== null && Object.keys(entry).every((k) => k === 'network' || k === 'token') && (entry.token === undefined || typeof entry.token === 'string'));
        if (!wellFormed) throw invalid('networks', `${JSON.stringify(n)} is not "network", "network:token" or {"network": …, "token": …}`);
        const [network, token]: [unknown, string | undefined] = parts ? [parts[0], parts[1]] : [entry!.network, entry!.token as string | undefined];
        const net = typeof network === 'string' ? this.networkConfig(network) : undefined;
        if (!net) throw invalid('networks', `${JSON.stringify(n)} is not a network this server accepts (${this.config.networks.map((x) => x.id).join(', ')})`);
        const tokenId = token ?? net.tokens[0];
        if (!net.tokens.includes(tokenId)) throw invalid('networks', `token ${JSON.stringify(tokenId)} is not accepted on ${net.id}`);
        return { network: net.id, token: tokenId };
      });
      const seen = new Set(accepted.map((c) => `${c.network}:${c.token}`));
      if (seen.size !== accepted.length) throw invalid('networks', 'lists the same network and token twice');
    }
    input.networks = accepted;
    if (raw.redirect_url !== undefined) {
      let ok = false;
      if (typeof raw.redirect_url === 'string' && raw.redirect_url.length <= 2000) {
        try {
          ok = ['http:', 'https:'].includes(new URL(raw.redirect_url).protocol);
        } catch {
          ok = false;
        }
      }
      if (!ok) throw invalid('redirect_url', 'must be an http(s) URL of at most 2000 characters');
      input.redirect_url = raw.redirect_url as string;
    }
    if (raw.metadata !== undefined) {
      if (typeof raw.metadata !== 'object' || raw.metadata === null || Array.isArray(raw.metadata) || JSON.stringify(raw.metadata).length > 4096) {
        throw invalid('metadata', 'must be a JSON object of at most 4 KB');
      }
      input.metadata = raw.metadata as Record<string, unknown>;
    }
    if (raw.expires_in !== undefined) {
      if (typeof raw.expires_in !== 'number' || !Number.isSafeInteger(raw.expires_in) || raw.expires_in < 1 || raw.expires_in > 604800) {
        throw invalid('expires_in', 'must be whole seconds from 1 to 604800');
      }
      input.expires_in = raw.expires_in;
    }
    const hasAmount = raw.amount !== undefined;
    const hasFiat = raw.fiat_amount !== undefined || raw.currency !== undefined;
    if (hasAmount === hasFiat) {
      throw invalid('amount', 'give either amount (in USDT) or fiat_amount with currency, not both and not neither');
    }
    const first = accepted[0];
    let base: string;
    let rate: string | null = null;
    if (hasAmount) {
      if (typeof raw.amount !== 'string' || !DECIMAL.test(raw.amount)) throw invalid('amount', 'must be a decimal string like "19.99" (never a JSON number)');
      for (const c of accepted) {
        let units: string;
        try {
          units = sg.toBaseUnits(c.network, raw.amount, c.token);
        } catch (error) {
          throw invalid('amount', `${(error as Error).message} (on ${c.network})`);
        }
        if (units === '0') throw invalid('amount', 'must be more than zero');
      }
      input.amount = raw.amount;
      base = sg.formatAmount(first.network, sg.toBaseUnits(first.network, raw.amount, first.token), first.token);
    } else {
      if (typeof raw.fiat_amount !== 'string' || !DECIMAL.test(raw.fiat_amount)) {
        throw invalid('fiat_amount', 'must be a decimal string like "19.99" (never a JSON number)');
      }
      if (typeof raw.currency !== 'string' || !/^[A-Z]{3}$/.test(raw.currency)) throw invalid('currency', 'must be a three-letter ISO 4217 code like "EUR"');
      input.fiat_amount = raw.fiat_amount;
      input.currency = raw.currency;
      rate = (await this.rates.rate(raw.currency)).rate;
      let units: string;
      try {
        units = sg.fiatToToken({ network: first.network, token: first.token, fiatAmount: raw.fiat_amount, rate, precision: this.config.invoice.precision });
      } catch (error) {
        throw invalid('fiat_amount', (error as Error).message);
      }
      if (units === '0') throw invalid('fiat_amount', 'must be more than zero');
      base = sg.formatAmount(first.network, units, first.token);
    }
    // The unique amounts above the base must fit too (u128 base units), on every network offered.
    const inv = this.config.invoice;
    for (const c of accepted) {
      const top = BigInt(sg.toBaseUnits(c.network, base, c.token)) + BigInt(sg.toBaseUnits(c.network, inv.step, c.token)) * BigInt(inv.maxSlots);
      if (top > U128_MAX) throw invalid(hasAmount ? 'amount' : 'fiat_amount', `is too large: its unique amounts on ${c.network} would not fit in 128 bits`);
    }
    return { input, accepted, base, rate };
  }

  /** Creates an invoice; with an Idempotency-Key, a repeat of the same request replays the answer. */
  async create(body: unknown, apiKeyId: string, idempotencyKey: string | null, baseUrl: string): Promise<Replay> {
    const requestHash = crypto.createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex');
    if (idempotencyKey !== null) {
      const replay = await this.replay(this.db, apiKeyId, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    const { input, accepted, base, rate } = await this.validateCreate(body);
    const now = this.clock();
    const expiresAt = now + (input.expires_in ?? this.config.invoice.expiresIn);
    const row: InvoiceRow = {
      id: newId('inv'),
      order_id: input.order_id ?? null,
      state: 'new',
      exception: null,
      network: null,
      token: null,
      recipient: null,
      amount_due: null,
      watched: 0,
      base_amount: base,
      fiat_amount: input.fiat_amount ?? null,
      currency: input.currency ?? null,
      rate,
      accepted: JSON.stringify(accepted),
      redirect_url: input.redirect_url ?? null,
      metadata: input.metadata ? JSON.stringify(input.metadata) : null,
      created_at: now,
      expires_at: expiresAt,
      monitor_until: expiresAt + this.config.invoice.monitoring,
      record: null,
      updated_at: now,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.db.tx(async (q) => {
          if (idempotencyKey !== null) {
            // Claims the key first: a concurrent twin blocks here (PostgreSQL) or fails on the
            // primary key, then replays what this one stored.
            await q.run(`INSERT INTO idempotency_keys (api_key_id, key, request_hash, status, body, created_at) VALUES (?, ?, ?, 0, '', ?)`, [
              apiKeyId,
              idempotencyKey,
              requestHash,
              now,
            ]);
          }
          await q.run(
            `INSERT INTO invoices (id, order_id, state, exception, network, token, recipient, amount_due, watched, base_amount, fiat_amount, currency, rate,
               accepted, redirect_url, metadata, created_at, expires_at, monitor_until, record, updated_at)
             VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
            [row.id, row.order_id, row.state, row.base_amount, row.fiat_amount, row.currency, row.rate, row.accepted, row.redirect_url, row.metadata,
              row.created_at, row.expires_at, row.monitor_until, row.updated_at],
          );
          let current = row;
          await this.event(q, current, null, { id: `${row.id}:created`, type: 'invoice.created' }, now, baseUrl);
          // With one possible network the amount is fixed now; with several, when the customer chooses.
          if (accepted.length === 1) current = await this.allocate(q, current, accepted[0], now, baseUrl);
          const response = { status: 201, body: this.view(current, now, baseUrl) };
          if (idempotencyKey !== null) {
            await q.run(`UPDATE idempotency_keys SET status = ?, body = ? WHERE api_key_id = ? AND key = ?`, [
              response.status,
              JSON.stringify(response.body),
              apiKeyId,
              idempotencyKey,
            ]);
          }
          return response;
        });
        this.changes.emit('change', row.id);
        this.log.info('invoice created', {
          invoice: row.id,
          order: row.order_id,
          amount: (result.body as { amount_due: string }).amount_due,
          network: (result.body as { network: string | null }).network ?? accepted.map((c) => c.network).join('|'),
        });
        return result;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (idempotencyKey !== null) {
          const replay = await this.replay(this.db, apiKeyId, idempotencyKey, requestHash);
          if (replay) return replay;
        }
        // Two creations raced for one amount (only possible across processes/connections): the
        // unique index refused the second; allocate again.
        if (attempt >= 20) throw new ApiError(503, 'amount_contention', 'too many concurrent invoices at this amount; retry', undefined, 1);
      }
    }
  }

  private async replay(q: Queryable, apiKeyId: string, key: string, requestHash: string): Promise<Replay | null> {
    const stored = await q.get<{ request_hash: string; status: number; body: string }>(
      `SELECT request_hash, status, body FROM idempotency_keys WHERE api_key_id = ? AND key = ?`,
      [apiKeyId, key],
    );
    if (!stored || stored.status === 0) return null;
    if (stored.request_hash !== requestHash) {
      throw new ApiError(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request body', 'Idempotency-Key');
    }
    return { status: stored.status, body: JSON.parse(stored.body) };
  }

  /**
   * Fixes the network of `row`: picks the smallest free unique amount on the first receiving
   * address of the pool that has one (allocateAmount), and creates the core's record. The
   * unique index on watched amounts makes a collision impossible even if two processes race.
   */
  private async allocate(q: Queryable, row: InvoiceRow, choice: Choice, now: number, baseUrl: string): Promise<InvoiceRow> {
    const net = this.networkConfig(choice.network) as NetworkConfig;
    const inv = this.config.invoice;
    await this.db.lock(q, `allocate:${choice.network}:${choice.token}`);
    const baseUnits = sg.toBaseUnits(choice.network, row.base_amount, choice.token);
    const stepUnits = sg.toBaseUnits(choice.network, inv.step, choice.token);
    for (const address of net.addresses) {
      const hex = sg.parseAddress(choice.network, address).hex;
      // Only the band the core may pick from matters: [base, base + step × slots).
      const taken = await q.all<{ amount_due: string }>(
        `SELECT amount_due FROM invoices WHERE network = ? AND token = ? AND recipient = ? AND watched = 1 AND amount_key >= ? AND amount_key < ?`,
        [choice.network, choice.token, hex, amountKey(baseUnits), amountKey(BigInt(baseUnits) + BigInt(stepUnits) * BigInt(inv.maxSlots))],
      );
      let amount: string;
      try {
        amount = sg.allocateAmount({ baseUnits, stepUnits, maxSlots: String(inv.maxSlots), taken: taken.map((t) => t.amount_due) }).amount;
      } catch (error) {
        if (coreCode(error) === 'amount_band_full') continue;
        throw error;
      }
      const record = sg.createInvoice({
        id: row.id,
        network: choice.network,
        token: choice.token,
        recipient: address,
        amount_due: amount,
        tolerance: sg.toBaseUnits(choice.network, inv.tolerance, choice.token),
        created_at: String(row.created_at),
        expires_in: String(Math.max(0, row.expires_at - row.created_at)),
        monitoring: String(row.monitor_until - row.expires_at),
      });
      const chosen: InvoiceRow = { ...row, network: choice.network, token: choice.token, recipient: hex, amount_due: amount, watched: 1 };
      // save() writes the chosen network and amount together with the record (one UPDATE).
      return this.save(q, chosen, record, now, baseUrl);
    }
    throw new ApiError(
      503,
      'amount_band_full',
      `every receiving address on ${choice.network} has ${inv.maxSlots} open invoices near ${row.base_amount} USDT; retry shortly or add an address`,
      undefined,
      30,
    );
  }

  /** Stores a changed record: derives state with the core, emits its event, keeps `watched` right. */
  private async save(q: Queryable, row: InvoiceRow, record: Invoice, now: number, baseUrl: string | null): Promise<InvoiceRow> {
    const synced = sg.syncInvoice(record, now);
    const status = sg.invoiceStatus(synced.invoice, now);
    const watched = now <= Number(synced.invoice.monitor_until) ? 1 : 0;
    const updated: InvoiceRow = { ...row, record: JSON.stringify(synced.invoice), state: status.state, exception: status.exception, watched, updated_at: now };
    await q.run(
      `UPDATE invoices SET record = ?, state = ?, exception = ?, watched = ?, updated_at = ?, network = ?, token = ?, recipient = ?, amount_due = ?, amount_key = ? WHERE id = ?`,
      [updated.record, updated.state, updated.exception, watched, now, row.network, row.token, row.recipient, row.amount_due, row.amount_due === null ? null : amountKey(row.amount_due), row.id],
    );
    if (synced.event) await this.event(q, updated, synced.event, { id: synced.event.id, type: synced.event.type }, now, baseUrl);
    return updated;
  }

  /** Records an event and queues one webhook delivery per endpoint, in the caller's transaction. */
  private async event(q: Queryable, row: InvoiceRow, core: InvoiceEvent | null, head: { id: string; type: string }, now: number, baseUrl: string | null) {
    const body = JSON.stringify({ id: head.id, type: head.type, created_at: iso(now), data: { invoice: this.view(row, now, baseUrl) } });
    await q.run(`INSERT INTO events (id, invoice_id, type, body, created_at) VALUES (?, ?, ?, ?, ?)`, [head.id, row.id, head.type, body, now]);
    for (const endpoint of this.config.webhooks.endpoints) {
      await q.run(
        `INSERT INTO webhook_deliveries (id, event_id, endpoint, status, attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)`,
        [newId('whd'), head.id, endpoint.name, Date.now(), now, now],
      );
    }
    this.log.info(`event ${head.type}`, { invoice: row.id, event: head.id, ...(core ? { paid: core.amount_paid } : {}) });
  }

  // ---------------------------------------------------------------- reads

  async get(id: string): Promise<InvoiceRow | undefined> {
    return this.db.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?`, [id]);
  }

  async require(id: string): Promise<InvoiceRow> {
    const row = typeof id === 'string' && /^inv_[A-Za-z0-9_-]{22}$/.test(id) ? await this.get(id) : undefined;
    if (!row) throw new ApiError(404, 'invoice_not_found', 'no invoice has this id', 'id');
    return row;
  }

  async list(params: { state?: string; order_id?: string; limit?: number; after?: string }, baseUrl: string) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (params.state) {
      where.push('state = ?');
      args.push(params.state);
    }
    if (params.order_id) {
      where.push('order_id = ?');
      args.push(params.order_id);
    }
    if (params.after) {
      const after = await this.get(params.after);
      if (!after) throw invalid('after', 'is not the id of an invoice');
      where.push('(created_at < ? OR (created_at = ? AND id < ?))');
      args.push(after.created_at, after.created_at, after.id);
    }
    const limit = params.limit ?? 50;
    const rows = await this.db.all<InvoiceRow>(
      `SELECT * FROM invoices ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`,
      [...args, limit + 1],
    );
    const now = this.clock();
    const page = rows.slice(0, limit);
    return { data: page.map((r) => this.view(r, now, baseUrl)), has_more: rows.length > limit, next_after: rows.length > limit ? page[page.length - 1].id : null };
  }

  /**
   * Transfers to the receiving addresses that credited no invoice (unmatched, ambiguous, early,
   * after the window…), newest first: kept in the ledger, and shown so that none is lost from view.
   */
  async unmatched(limit: number) {
    const rows = await this.db.all<LedgerRow & { seen_at: number }>(
      `SELECT * FROM ledger WHERE invoice_id IS NULL ORDER BY seen_at DESC, block_number DESC, log_index DESC LIMIT ?`,
      [limit],
    );
    return rows.map((r) => ({
      network: r.network,
      token: r.token,
      tx_hash: r.tx_hash,
      log_index: String(r.log_index),
      from: r.sender,
      recipient: sg.parseAddress(r.network, r.recipient).address,
      amount: sg.formatAmount(r.network, r.amount, r.token),
      amount_units: r.amount,
      block_number: String(r.block_number),
      block_time: iso(r.block_time),
      note: r.note,
      seen_at: iso(r.seen_at),
    }));
  }

  record(row: InvoiceRow): Invoice | null {
    return row.record ? (JSON.parse(row.record) as Invoice) : null;
  }

  /** The merchant's view of an invoice (the API's Invoice object). */
  view(row: InvoiceRow, now: number, baseUrl: string | null) {
    const record = this.record(row);
    const status = record ? sg.invoiceStatus(record, now) : null;
    const fmt = (units: string) => sg.formatAmount(row.network as string, units, row.token);
    const state = status ? status.state : row.state === 'new' && now >= row.expires_at ? 'expired' : row.state;
    const base = baseUrl ?? this.publicUrl;
    return {
      id: row.id,
      order_id: row.order_id,
      state,
      exception: status ? status.exception : null,
      network: row.network,
      token: row.token,
      recipient: record ? record.recipient : null,
      amount_due: record ? fmt(record.amount_due) : row.base_amount,
      amount_due_units: record ? record.amount_due : null,
      amount_paid: status ? fmt(status.amount_paid) : '0',
      amount_remaining: status ? fmt(status.amount_remaining) : row.base_amount,
      base_amount: row.base_amount,
      fiat_amount: row.fiat_amount,
      currency: row.currency,
      rate: row.rate,
      accepted: JSON.parse(row.accepted) as Choice[],
      redirect_url: row.redirect_url,
      metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
      created_at: iso(row.created_at),
      expires_at: iso(row.expires_at),
      monitor_until: iso(row.monitor_until),
      status_url: `${base}/api/v1/checkout/${row.id}`,
      pay_url: `${base}/pay/${row.id}`,
      transfers: record
        ? record.ledger.map((e) => ({
            tx_hash: e.tx_hash,
            log_index: e.log_index,
            from: e.from,
            amount: fmt(e.amount),
            amount_units: e.amount,
            block_number: e.block_number,
            status: e.status,
            matched_by: e.matched_by,
            review: e.review,
          }))
        : [],
    };
  }

  /** The status document (DESIGN §8) the widget renders. */
  statusDocument(row: InvoiceRow, baseUrl: string): StatusDocument {
    const now = this.clock();
    const record = this.record(row);
    const path = `${baseUrl}/api/v1/checkout/${row.id}`;
    const links = { choose: `${path}/choose`, claim: `${path}/claim`, events: `${path}/events`, new_invoice: null };
    const pollAfter = 3000;
    if (record) {
      const head = this.heads.get(record.network);
      const doc = sg.statusDocument(record, { now, head: head ?? null, return_url: row.redirect_url, poll_after_ms: pollAfter, links: { ...links, choose: null } });
      // A stricter min_confirmations of this server shows as the number to wait for; the core
      // capped `seen` at the registry's number, so it is taken again from the pending transfer.
      const min = this.networkConfig(record.network)?.minConfirmations ?? 0;
      if (doc.finality && min > doc.finality.required) {
        const pending = doc.transfers.filter((t) => t.status === 'processing').at(-1);
        doc.finality = { seen: Math.min(pending?.confirmations ?? doc.finality.seen, min), required: min };
      }
      return doc;
    }
    // Before the customer picks a network there is no core record yet: the document lists the
    // choices, each with the amount it would cost (the unique amount is allocated on choice).
    const state = row.state === 'new' && now >= row.expires_at ? 'expired' : (row.state as StatusDocument['state']);
    const open = state === 'new';
    const accepted = JSON.parse(row.accepted) as Choice[];
    return {
      invoice: row.id,
      state,
      exception: null,
      network: null,
      network_names: null,
      chain_id: null,
      token: null,
      recipient: null,
      amount_due: row.base_amount,
      amount_paid: '0',
      amount_remaining: open ? row.base_amount : '0',
      payment_uri: null,
      expires_at: iso(row.expires_at),
      finality: null,
      transfers: [],
      choices: open
        ? accepted.map((c) => {
            const tok = registryToken(c.network, c.token);
            return {
              network: c.network,
              token: c.token,
              names: registryNetwork(c.network)!.names,
              symbol: tok!.symbol,
              amount: sg.formatAmount(c.network, sg.toBaseUnits(c.network, row.base_amount, c.token), c.token),
            };
          })
        : [],
      return_url: row.redirect_url,
      poll_after_ms: open ? pollAfter : 0,
      links: open ? links : { ...links, choose: null, claim: null },
    };
  }

  // ---------------------------------------------------------------- changes by people

  /** The customer picks a network (and token) for an invoice created with several. */
  async choose(id: string, body: unknown, baseUrl: string): Promise<InvoiceRow> {
    const row0 = await this.require(id);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'invalid_body', 'the request body must be a JSON object', 'body');
    const { network, token } = body as Record<string, unknown>;
    if (typeof network !== 'string') throw invalid('network', 'must be a network id from the choices');
    const accepted = JSON.parse(row0.accepted) as Choice[];
    const wanted = accepted.find((c) => c.network === network && (token === undefined || c.token === token));
    if (!wanted) {
      const onNetwork = accepted.some((c) => c.network === network);
      if (onNetwork) throw invalid('token', `is not accepted for this invoice on ${network}`);
      throw invalid('network', `${JSON.stringify(network)} is not one of this invoice's choices`);
    }
    return this.underLock(id, async (q, current, now) => {
      if (current.network !== null) {
        if (current.network === wanted.network && current.token === wanted.token) return current;
        throw new ApiError(409, 'network_already_chosen', `the network of this invoice is already ${current.network}`, 'network');
      }
      if (current.state !== 'new' || now >= current.expires_at) throw new ApiError(409, 'invoice_not_open', 'this invoice no longer takes payments');
      return this.allocate(q, current, wanted, now, baseUrl);
    });
  }

  async cancel(id: string, baseUrl: string): Promise<InvoiceRow> {
    return this.underLock(id, async (q, current, now) => {
      const record = this.record(current);
      if (!record) {
        if (current.state !== 'new' || now >= current.expires_at) throw new ApiError(409, 'invoice_not_cancellable', `an invoice in state ${current.state} cannot be cancelled`);
        const updated = { ...current, state: 'invalid', updated_at: now };
        await q.run(`UPDATE invoices SET state = 'invalid', updated_at = ? WHERE id = ?`, [now, id]);
        await this.event(q, updated, null, { id: `${id}:cancelled`, type: 'invoice.invalid' }, now, baseUrl);
        return updated;
      }
      const status = sg.invoiceStatus(record, now);
      if (status.state !== 'new' || status.amount_paid !== '0' || record.cancelled) {
        throw new ApiError(409, 'invoice_not_cancellable', `an invoice in state ${status.state} with ${status.amount_paid} paid cannot be cancelled`);
      }
      // The amount stays reserved through the monitoring window: a payment that still arrives is
      // recorded against this invoice (as needs_review), never against a newer one.
      return this.save(q, current, { ...record, cancelled: true }, now, baseUrl);
    });
  }

  async markForReview(id: string, baseUrl: string): Promise<InvoiceRow> {
    return this.underLock(id, async (q, current, now) => {
      const record = this.record(current);
      if (!record) throw new ApiError(409, 'network_not_chosen', 'an invoice without a network has no payment to review');
      if (record.marked_for_review) return current;
      return this.save(q, current, { ...record, marked_for_review: true }, now, baseUrl);
    });
  }

  /** Runs `change` on invoice `id` read under a row lock, in one transaction, then announces it. */
  private async underLock(id: string, change: (q: Queryable, current: InvoiceRow, now: number) => Promise<InvoiceRow>): Promise<InvoiceRow> {
    await this.require(id);
    const now = this.clock();
    const row = await this.db.tx(async (q) =>
      change(q, (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [id])) as InvoiceRow, now),
    );
    this.changes.emit('change', id);
    return row;
  }

  // ---------------------------------------------------------------- the chain

  /**
   * Applies one Transfer log (decoded by the core, with its block time) seen by the watcher.
   * Every transfer to a watched address is kept in the ledger, credited or not.
   */
  async applyTransfer(networkId: string, tokenId: string, transfer: Transfer): Promise<string> {
    const now = this.clock();
    const recipient = sg.parseAddress(networkId, transfer.to).hex;
    let touched: string | null = null;
    const outcome = await this.db.tx(async (q) => {
      await this.db.lock(q, `recipient:${networkId}:${recipient}`);
      const existing = await q.get<LedgerRow>(`SELECT * FROM ledger WHERE network = ? AND tx_hash = ? AND log_index = ?`, [
        networkId,
        transfer.tx_hash,
        Number(transfer.log_index),
      ]);
      if (existing) {
        if (!existing.invoice_id || existing.status !== 'removed') return 'known';
        // Reorganised away earlier and now seen in a new block: the core reinstates it.
        const row = (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [existing.invoice_id])) as InvoiceRow;
        const credited = sg.creditTransfer(this.record(row) as Invoice, transfer, existing.matched_by === 'claim' ? 'claim' : 'amount', false);
        await q.run(`UPDATE ledger SET block_number = ?, block_hash = ?, block_time = ?, status = 'seen' WHERE network = ? AND tx_hash = ? AND log_index = ?`, [
          Number(transfer.block_number),
          transfer.block_hash,
          Number(transfer.block_time),
          networkId,
          transfer.tx_hash,
          Number(transfer.log_index),
        ]);
        await this.save(q, row, credited.invoice, now, null);
        touched = row.id;
        return 'reinstated';
      }
      const rows = await q.all<InvoiceRow>(`SELECT * FROM invoices WHERE network = ? AND token = ? AND recipient = ? AND watched = 1`, [
        networkId,
        tokenId,
        recipient,
      ]);
      const decision = sg.matchTransfer(networkId, rows.map((r) => this.record(r) as Invoice), transfer);
      const ledger = (invoiceId: string | null, matchedBy: string | null, note: string | null) =>
        q.run(
          `INSERT INTO ledger (network, tx_hash, log_index, token, recipient, sender, amount, block_number, block_hash, block_time, invoice_id, matched_by, status, note, seen_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'seen', ?, ?)`,
          [networkId, transfer.tx_hash, Number(transfer.log_index), tokenId, recipient, transfer.from, transfer.amount, Number(transfer.block_number),
            transfer.block_hash, Number(transfer.block_time), invoiceId, matchedBy, note, now],
        );
      if (decision.decision === 'credit') {
        // Re-read under a row lock: a cancel or review may have changed the record meanwhile.
        const row = (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [decision.invoice])) as InvoiceRow;
        await ledger(row.id, 'amount', null);
        const credited = sg.creditTransfer(this.record(row) as Invoice, transfer, 'amount', false);
        await this.save(q, row, credited.invoice, now, null);
        touched = row.id;
        return `credit ${row.id}`;
      }
      const note =
        decision.decision === 'ignored' ? `ignored: ${decision.reason}` : decision.decision === 'ambiguous' ? `ambiguous: ${decision.invoices.join(',')}` : decision.decision;
      await ledger(null, null, note);
      return note;
    });
    if (touched) this.changes.emit('change', touched);
    return outcome;
  }

  /** Ledger entries credited to invoices and not final yet, for the watcher's finality pass. */
  pendingEntries(networkId: string, tokenId: string) {
    return this.db.all<LedgerRow>(`SELECT * FROM ledger WHERE network = ? AND token = ? AND status = 'seen' AND invoice_id IS NOT NULL`, [networkId, tokenId]);
  }

  /** Marks an entry final (its block is final and canonical) or removed (it is not). */
  async settleEntry(entry: LedgerRow, status: 'final' | 'removed'): Promise<void> {
    const now = this.clock();
    await this.db.tx(async (q) => {
      const row = (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [entry.invoice_id])) as InvoiceRow;
      const changed = sg.setEntryStatus(this.record(row) as Invoice, entry.tx_hash, String(entry.log_index), status);
      await q.run(`UPDATE ledger SET status = ? WHERE network = ? AND tx_hash = ? AND log_index = ?`, [status, entry.network, entry.tx_hash, entry.log_index]);
      await this.save(q, row, changed.invoice, now, null);
    });
    this.changes.emit('change', entry.invoice_id);
  }

  /**
   * A customer's claim that transaction `txHash` paid invoice `id`. The transfers are fetched by
   * the server itself (`fetchTransfers`); the core judges the claim (DESIGN §2, §5).
   */
  async claim(id: string, body: unknown, fetchTransfers: (network: string, txHash: string) => Promise<Transfer[]>, baseUrl: string) {
    const row0 = await this.require(id);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'invalid_body', 'the request body must be a JSON object', 'body');
    const input = (body as Record<string, unknown>).tx_hash;
    const record0 = this.record(row0);
    if (!record0) throw new ApiError(409, 'network_not_chosen', 'choose a network before claiming a payment');
    let txHash: string;
    try {
      if (typeof input !== 'string') throw new Error('must be a string');
      txHash = sg.normalizeTxHash(record0.network, input);
    } catch (error) {
      throw invalid('tx_hash', `is not a ${record0.network} transaction hash: ${(error as Error).message}`);
    }
    const transfers = await fetchTransfers(record0.network, txHash);
    const tokenContract = sg.parseAddress(record0.network, registryToken(record0.network, record0.token)!.contract).hex;
    const ofToken = transfers.filter((t) => sg.parseAddress(record0.network, t.token).hex === tokenContract);
    if (ofToken.length === 0) throw new ApiError(422, 'wrong_token', `this transaction moved no ${record0.token.toUpperCase()} of the registry's contract`, 'tx_hash');
    const mine = ofToken.filter((t) => sg.parseAddress(record0.network, t.to).hex === row0.recipient);
    if (mine.length === 0) throw new ApiError(422, 'wrong_recipient', "this transaction paid another address, not this invoice's", 'tx_hash');
    const now = this.clock();
    const result = await this.db.tx(async (q) => {
      await this.db.lock(q, `recipient:${row0.network}:${row0.recipient}`);
      const row = (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [id])) as InvoiceRow;
      let record = this.record(row) as Invoice;
      const others = (
        await q.all<InvoiceRow>(`SELECT * FROM invoices WHERE network = ? AND token = ? AND recipient = ? AND watched = 1 AND id <> ?`, [
          row.network,
          row.token,
          row.recipient,
          id,
        ])
      ).map((r) => this.record(r) as Invoice);
      let credited = 0;
      let lastError: unknown = null;
      for (const transfer of mine) {
        const existing = await q.get<LedgerRow>(`SELECT * FROM ledger WHERE network = ? AND tx_hash = ? AND log_index = ?`, [
          row.network,
          transfer.tx_hash,
          Number(transfer.log_index),
        ]);
        if (existing?.invoice_id) {
          lastError = new ApiError(409, 'already_credited', `this transfer already credited an invoice${existing.invoice_id === id ? ' (this one)' : ''}`, 'tx_hash');
          continue;
        }
        let review: boolean;
        try {
          review = sg.claimTransfer(row.network as string, others, record, transfer).review;
        } catch (error) {
          lastError = new ApiError(422, coreCode(error) ?? 'claim_refused', (error as Error).message, 'tx_hash');
          continue;
        }
        if (existing) {
          // The block is the one just fetched: the stored one may since have been replaced.
          const n = await q.run(
            `UPDATE ledger SET invoice_id = ?, matched_by = 'claim', note = ?, block_number = ?, block_hash = ?, block_time = ?, status = 'seen'
             WHERE network = ? AND tx_hash = ? AND log_index = ? AND invoice_id IS NULL`,
            [id, review ? 'claim (review)' : 'claim', Number(transfer.block_number), transfer.block_hash, Number(transfer.block_time),
              row.network, transfer.tx_hash, Number(transfer.log_index)],
          );
          if (n !== 1) throw new ApiError(409, 'already_credited', 'this transfer already credited an invoice', 'tx_hash');
        } else {
          await q.run(
            `INSERT INTO ledger (network, tx_hash, log_index, token, recipient, sender, amount, block_number, block_hash, block_time, invoice_id, matched_by, status, note, seen_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'claim', 'seen', ?, ?)`,
            [row.network, transfer.tx_hash, Number(transfer.log_index), row.token, row.recipient, transfer.from, transfer.amount, Number(transfer.block_number),
              transfer.block_hash, Number(transfer.block_time), id, review ? 'claim (review)' : 'claim', now],
          );
        }
        record = sg.creditTransfer(record, transfer, 'claim', review).invoice;
        credited++;
      }
      if (credited === 0) throw lastError;
      return this.save(q, row, record, now, baseUrl);
    });
    this.changes.emit('change', id);
    this.log.info('claim credited', { invoice: id, tx: txHash });
    return result;
  }

  /** Time-driven changes: expiry, and the end of the monitoring window (the amount is freed). */
  async sweep(): Promise<number> {
    const now = this.clock();
    const due = await this.db.all<{ id: string }>(
      `SELECT id FROM invoices WHERE (state = 'new' AND expires_at <= ?) OR (watched = 1 AND monitor_until < ?) LIMIT 500`,
      [now, now],
    );
    for (const { id } of due) {
      await this.db.tx(async (q) => {
        const row = (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [id])) as InvoiceRow;
        const record = this.record(row);
        if (record) {
          await this.save(q, row, record, now, null);
        } else if (row.state === 'new' && row.expires_at <= now) {
          const updated = { ...row, state: 'expired', updated_at: now };
          await q.run(`UPDATE invoices SET state = 'expired', updated_at = ? WHERE id = ?`, [now, id]);
          await this.event(q, updated, null, { id: `${id}:expired`, type: 'invoice.expired' }, now, null);
        }
      });
      this.changes.emit('change', id);
    }
    return due.length;
  }
}
