// Invoices: creation with unique amounts, the customer's network choice, cancel, review and its
// resolution, the status document, claims, and storing what a watcher poll decided. Every payment
// rule is the core's (createInvoice, allocateInPool, claimTransfer, creditTransfer, applyPoll,
// resolveReview, syncInvoice, statusDocument, statusBeforeChoice); this module does the storage
// around them, in transactions, behind the database's unique constraints, and every write of an
// invoice row is versioned so that no writer loses another's credit.
import crypto = require('node:crypto');
import { EventEmitter } from 'node:events';
import sg = require('./core');
import type { Invoice, InvoiceEvent, OpenChoice, PollOutcome, PoolAllocation, StatusDocument, Transfer } from '../../crates/wasm/pkg/node/stablegate_wasm';
import { DECIMAL } from './config';
import type { Config, NetworkConfig } from './config';
import { Db, Queryable, amountKey, isUniqueViolation } from './db';
import { ApiError, coreCode, invalid } from './errors';
import type { Logger } from './log';
import type { Rates } from './rates';
import { hexOf, network as registryNetwork, token as registryToken } from './registry';

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
  /** Bumped by every write of the row: a writer whose version is stale loses (DESIGN §5). */
  version: number;
  /** 1 once its unique amount went to a newer invoice (it expired unpaid, its band was full). */
  released: number;
  /** JSON {network: [address, …]}: the receiving addresses it allocates over; null: the server's. */
  pool?: string | null;
  /** Decimal USDT a hosted provider reported paid (issue 16); null: nothing paid that way. */
  provider_paid?: string | null;
}

/** Receiving addresses by network (display form, checked by the core): an invoice's own pool. */
export type AddressPool = Record<string, string[]>;

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

/** Steps beyond the band whose invoices the allocation reads: more than the core's gap (2). */
const BAND_MARGIN_STEPS = 4n;

/** Another writer changed the invoice row since it was read; retry from a fresh read. */
export class WriteConflict extends ApiError {
  constructor(id: string) {
    super('write_conflict', `invoice ${id} changed meanwhile; retry`, undefined, 1);
  }
}

/** A poll's ledger write found the entry final or gone: the poll is dropped and runs again. */
export class LedgerConflict extends Error {
  constructor(network: string, txHash: string, logIndex: string) {
    super(`the ledger entry ${network} ${txHash}#${logIndex} is final or gone since the poll read it; the poll runs again`);
  }
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
      throw new ApiError('invalid_body', 'the request body must be a JSON object', 'body');
    }
    const raw = body as Record<string, unknown>;
    for (const key of Object.keys(raw)) {
      if (!CREATE_FIELDS.has(key)) throw new ApiError('unknown_field', `${key}: not a field of an invoice`, key);
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

  /**
   * Creates an invoice; with an Idempotency-Key, a repeat of the same request replays the answer.
   * `pool` (the Shopify app's, for a shop with its own addresses) replaces the server's receiving
   * addresses for this invoice: every network it offers must have addresses in it.
   */
  async create(body: unknown, apiKeyId: string, idempotencyKey: string | null, baseUrl: string, pool: AddressPool | null = null): Promise<Replay> {
    const requestHash = crypto.createHash('sha256').update(JSON.stringify(body ?? null)).digest('hex');
    if (idempotencyKey !== null) {
      const replay = await this.replay(this.db, apiKeyId, idempotencyKey, requestHash);
      if (replay) return replay;
    }
    const { input, accepted, base, rate } = await this.validateCreate(body);
    if (pool !== null) {
      for (const c of accepted) {
        const addresses = pool[c.network];
        if (!addresses || addresses.length === 0) throw invalid('networks', `${c.network} has no receiving address in this invoice's address pool`);
        for (const a of addresses) sg.parseAddress(c.network, a);
      }
    }
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
      version: 0,
      released: 0,
      pool: pool === null ? null : JSON.stringify(pool),
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
               accepted, redirect_url, metadata, created_at, expires_at, monitor_until, record, updated_at, pool)
             VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
            [row.id, row.order_id, row.state, row.base_amount, row.fiat_amount, row.currency, row.rate, row.accepted, row.redirect_url, row.metadata,
              row.created_at, row.expires_at, row.monitor_until, row.updated_at, row.pool],
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
        if (attempt >= 20) throw new ApiError('amount_contention', 'too many concurrent invoices at this amount; retry', undefined, 1);
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
      throw new ApiError('idempotency_key_reused', 'this Idempotency-Key was used with a different request body', 'Idempotency-Key');
    }
    return { status: stored.status, body: JSON.parse(stored.body) };
  }

  /**
   * Fixes the network of `row`: the core picks the receiving address and unique amount over the
   * merchant's pool (allocateInPool), given the watched invoices holding amounts near the band,
   * and may reuse an expired unpaid invoice's reservation, which is then marked released. The
   * unique index on held amounts makes a collision impossible even if two processes race.
   */
  private async allocate(q: Queryable, row: InvoiceRow, choice: Choice, now: number, baseUrl: string | null): Promise<InvoiceRow> {
    const net = this.networkConfig(choice.network) as NetworkConfig;
    const inv = this.config.invoice;
    await this.db.lock(q, `allocate:${choice.network}:${choice.token}`);
    const baseUnits = sg.toBaseUnits(choice.network, row.base_amount, choice.token);
    const stepUnits = sg.toBaseUnits(choice.network, inv.step, choice.token);
    // The invoices whose amounts can matter: the band, widened by more steps than the core's gap
    // (a query bound only; the core decides which amounts are clear).
    const margin = BigInt(stepUnits) * BAND_MARGIN_STEPS;
    const low = BigInt(baseUnits) > margin ? BigInt(baseUnits) - margin : 0n;
    const high = BigInt(baseUnits) + BigInt(stepUnits) * BigInt(inv.maxSlots) + margin;
    const pool = [];
    // The invoice's own pool (a Shopify shop's addresses) when it has one, else the server's.
    const own = row.pool ? (JSON.parse(row.pool) as AddressPool)[choice.network] : undefined;
    for (const address of own ?? net.addresses) {
      const holders = await q.all<InvoiceRow>(
        `SELECT * FROM invoices WHERE network = ? AND token = ? AND recipient = ? AND watched = 1 AND released = 0 AND amount_key >= ? AND amount_key < ?`,
        [choice.network, choice.token, hexOf(choice.network, address), amountKey(low), amountKey(high)],
      );
      pool.push({ recipient: address, invoices: holders.map((h) => this.record(h) as Invoice) });
    }
    let allocation: PoolAllocation;
    try {
      allocation = sg.allocateInPool({ baseUnits, stepUnits, maxSlots: String(inv.maxSlots), pool, now });
    } catch (error) {
      if (coreCode(error) !== 'amount_band_full') throw error;
      throw new ApiError('amount_band_full',
        `every receiving address on ${choice.network} has its ${inv.maxSlots} amounts near ${row.base_amount} USDT held by open invoices; retry shortly or add an address`,
        undefined,
        30,
      );
    }
    if (allocation.reuses !== null) {
      const old = (await q.get<InvoiceRow>(`SELECT * FROM invoices WHERE id = ?${this.forUpdate}`, [allocation.reuses])) as InvoiceRow;
      await this.write(q, { ...old, released: 1 }, { ...(this.record(old) as Invoice), released: true }, now);
      this.log.info('amount reused from an expired unpaid invoice', { invoice: row.id, released: old.id, amount: allocation.amount });
    }
    const record = sg.createInvoice({
      id: row.id,
      network: choice.network,
      token: choice.token,
      recipient: allocation.recipient,
      amount_due: allocation.amount,
      tolerance: sg.toBaseUnits(choice.network, inv.tolerance, choice.token),
      created_at: String(row.created_at),
      expires_in: String(Math.max(0, row.expires_at - row.created_at)),
      monitoring: String(row.monitor_until - row.expires_at),
    });
    const hex = hexOf(choice.network, allocation.recipient);
    const chosen: InvoiceRow = { ...row, network: choice.network, token: choice.token, recipient: hex, amount_due: allocation.amount, watched: 1 };
    // save() writes the chosen network and amount together with the record (one UPDATE).
    return this.save(q, chosen, record, now, baseUrl);
  }

  /** Stores a changed record after the core's sync, and announces its event if it has one. */
  private async save(q: Queryable, row: InvoiceRow, record: Invoice, now: number, baseUrl: string | null): Promise<InvoiceRow> {
    const synced = sg.syncInvoice(record, now);
    const updated = await this.write(q, row, synced.invoice, now);
    if (synced.event) await this.announce(q, updated, synced.event, now, baseUrl);
    return updated;
  }

  /**
   * Writes `record` over the row read as `row`, if nobody wrote the row since (its version): a
   * stale writer fails with a retryable 409 instead of erasing another's credit. The state
   * columns are the last announced ones (`last_event`), so listing needs no core call.
   */
  private async write(q: Queryable, row: InvoiceRow, record: Invoice, now: number): Promise<InvoiceRow> {
    const [state, exception] = record.last_event ?? ['new', null];
    const watched = now <= Number(record.monitor_until) ? 1 : 0;
    const released = record.released ? 1 : 0;
    const updated: InvoiceRow = { ...row, record: JSON.stringify(record), state, exception, watched, released, updated_at: now, version: row.version + 1 };
    const changed = await q.run(
      `UPDATE invoices SET record = ?, state = ?, exception = ?, watched = ?, released = ?, updated_at = ?, network = ?, token = ?, recipient = ?,
         amount_due = ?, amount_key = ?, version = ? WHERE id = ? AND version = ?`,
      [updated.record, state, exception, watched, released, now, row.network, row.token, row.recipient, row.amount_due,
        row.amount_due === null ? null : amountKey(row.amount_due), updated.version, row.id, row.version],
    );
    if (changed !== 1) throw new WriteConflict(row.id);
    return updated;
  }

  /** Records the core's event `core` of `row` and queues its webhook deliveries. */
  private announce(q: Queryable, row: InvoiceRow, core: InvoiceEvent, now: number, baseUrl: string | null) {
    return this.event(q, row, core, { id: core.id, type: core.type }, now, baseUrl);
  }

  /** Records an event and queues one webhook delivery per endpoint, in the caller's transaction. */
  private async event(q: Queryable, row: InvoiceRow, core: InvoiceEvent | null, head: { id: string; type: string }, now: number, baseUrl: string | null) {
    // A review resolution travels with its event: the merchant's decision and note.
    const resolution = core?.resolution ? { resolution: core.resolution } : {};
    const body = JSON.stringify({ id: head.id, type: head.type, created_at: iso(now), data: { invoice: this.view(row, now, baseUrl), ...resolution } });
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
    if (!row) throw new ApiError('invoice_not_found', 'no invoice has this id', 'id');
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
    // One call into the core renders the record: its status and every amount as a decimal.
    const rendered = record ? sg.invoiceView(record, now) : null;
    const status = rendered ? rendered.status : null;
    const state = status ? status.state : row.state === 'new' && now >= row.expires_at ? 'expired' : row.state;
    const base = baseUrl ?? this.publicUrl;
    // Paid through a hosted provider: the core's status document counts it (paid, remaining).
    const provider = !record && row.provider_paid ? this.statusDocument(row, base) : null;
    return {
      id: row.id,
      order_id: row.order_id,
      state,
      exception: status ? status.exception : row.exception,
      network: row.network,
      token: row.token,
      recipient: record ? record.recipient : null,
      amount_due: rendered ? rendered.amount_due : row.base_amount,
      amount_due_units: record ? record.amount_due : null,
      amount_paid: rendered ? rendered.amount_paid : provider ? provider.amount_paid : '0',
      amount_remaining: rendered ? rendered.amount_remaining : provider ? provider.amount_remaining : row.base_amount,
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
      transfers: record && rendered
        ? record.ledger.map((e, i) => ({
            tx_hash: e.tx_hash,
            log_index: e.log_index,
            from: e.from,
            amount: rendered.transfer_amounts[i],
            amount_units: e.amount,
            block_number: e.block_number,
            status: e.status,
            matched_by: e.matched_by,
            review: e.review,
          }))
        : [],
    };
  }

  /** The status document (DESIGN §8) the widget renders, built by the core. */
  statusDocument(row: InvoiceRow, baseUrl: string): StatusDocument {
    const now = this.clock();
    const record = this.record(row);
    const path = `${baseUrl}/api/v1/checkout/${row.id}`;
    const links = { choose: `${path}/choose`, claim: `${path}/claim`, events: `${path}/events`, new_invoice: null };
    // The order's total as the shop priced it (its currency, or USDT before the unique digits):
    // the widget says in one sentence why the amount to pay differs from it.
    const order_total = row.fiat_amount && row.currency ? { amount: row.fiat_amount, currency: row.currency } : { amount: row.base_amount, currency: 'USDT' };
    const context = { now, return_url: row.redirect_url, poll_after_ms: 3000, order_total };
    if (record) {
      return sg.statusDocument(record, {
        ...context,
        head: this.heads.get(record.network) ?? null,
        min_confirmations: this.networkConfig(record.network)?.minConfirmations ?? 0,
        links: { ...links, choose: null },
      });
    }
    // Before the customer picks a network there is no core record yet: the core lists the choices.
    // Its stored state: new, expired, invalid once cancelled, or processing/settled once paid
    // through a hosted provider (applyProvider).
    const state = row.state as OpenChoice['state'];
    // A provider's payment is counted by the core as a direct one is (paid, remaining, exception).
    const open: OpenChoice = {
      invoice: row.id, state, base_amount: row.base_amount, expires_at: String(row.expires_at), accepted: JSON.parse(row.accepted) as Choice[],
      ...(row.provider_paid ? { provider_paid: row.provider_paid } : {}),
      exception: (row.exception as OpenChoice['exception']) ?? null,
    };
    return sg.statusBeforeChoice(open, { ...context, links });
  }

  // ---------------------------------------------------------------- changes by people

  /** The customer picks a network (and token) for an invoice created with several. */
  async choose(id: string, body: unknown, baseUrl: string): Promise<InvoiceRow> {
    const row0 = await this.require(id);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('invalid_body', 'the request body must be a JSON object', 'body');
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
        throw new ApiError('network_already_chosen', `the network of this invoice is already ${current.network}`, 'network');
      }
      if (current.state !== 'new' || now >= current.expires_at) throw new ApiError('invoice_not_open', 'this invoice no longer takes payments');
      return this.allocate(q, current, wanted, now, baseUrl);
    });
  }

  /**
   * Run once an invoice is cancelled, after its transaction (issue 16: the providers close the
   * invoice's open provider orders). Set by the app; its failure does not undo the cancel.
   */
  afterCancel: ((id: string) => Promise<void>) | null = null;

  async cancel(id: string, baseUrl: string): Promise<InvoiceRow> {
    const cancelled = await this.cancelRow(id, baseUrl);
    if (this.afterCancel) await this.afterCancel(id);
    return cancelled;
  }

  private async cancelRow(id: string, baseUrl: string): Promise<InvoiceRow> {
    return this.underLock(id, async (q, current, now) => {
      const record = this.record(current);
      if (!record) {
        if (current.state !== 'new' || now >= current.expires_at) throw new ApiError('invoice_not_cancellable', `an invoice in state ${current.state} cannot be cancelled`);
        const updated = { ...current, state: 'invalid', updated_at: now };
        await q.run(`UPDATE invoices SET state = 'invalid', updated_at = ?, version = version + 1 WHERE id = ?`, [now, id]);
        await this.event(q, updated, null, { id: `${id}:cancelled`, type: 'invoice.invalid' }, now, baseUrl);
        return updated;
      }
      // The core decides (only an open, unpaid invoice; invoice_not_cancellable otherwise, a 409
      // through the router's table); its amount stays reserved through the monitoring window.
      const cancelled = sg.cancelInvoice(record, now);
      const updated = await this.write(q, current, cancelled.invoice, now);
      if (cancelled.event) await this.announce(q, updated, cancelled.event, now, baseUrl);
      return updated;
    });
  }

  async markForReview(id: string, baseUrl: string): Promise<InvoiceRow> {
    return this.underLock(id, async (q, current, now) => {
      const record = this.record(current);
      if (!record) throw new ApiError('network_not_chosen', 'an invoice without a network has no payment to review');
      if (record.marked_for_review) return current;
      return this.save(q, current, { ...record, marked_for_review: true }, now, baseUrl);
    });
  }

  /**
   * Applies a hosted provider's verified status (issue 16) to invoice `id`, under its row lock, so
   * that it completes once whatever the number of notifications: the core maps the status
   * (providerStatus) and reads the amounts (providerAmount); this writes the state and its one
   * event (`<id>:provider:<state>`, unique in `events`), whose webhooks and review queue are those
   * of a direct payment. An invoice whose customer chose a direct network (it has a record) is
   * never settled by a provider: a provider payment there goes to the merchant's review.
   * Returns what was done: `settled`, `processing`, `review`, or `unchanged`.
   */
  async applyProvider(id: string, provider: string, status: string, paidUnits: string | null, baseUrl: string): Promise<string> {
    const outcome = sg.providerStatus(provider, status) as { state: string; exception: string | null };
    let done = 'unchanged';
    await this.underLock(id, async (q, current, now) => {
      const record = this.record(current);
      if (record) {
        if ((outcome.state !== 'settled' && !outcome.exception) || record.marked_for_review) return current;
        done = 'review';
        return this.save(q, current, { ...record, marked_for_review: true }, now, baseUrl);
      }
      // The provider's paid amount (base units of its 6-decimal USDT) is stored with a settled
      // status, so that the core's status document counts it (OpenChoice.provider_paid).
      const setState = async (state: string, exception: string | null, kind: string, paid: string | null = current.provider_paid ?? null) => {
        const updated = { ...current, state, exception, provider_paid: paid, updated_at: now, version: current.version + 1 };
        await q.run(`UPDATE invoices SET state = ?, exception = ?, provider_paid = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`, [
          state, exception, paid, now, id, current.version,
        ]);
        await this.event(q, updated, null, { id: `${id}:provider:${kind}`, type: `invoice.${kind}` }, now, baseUrl);
        return updated;
      };
      if (outcome.state === 'settled') {
        if (current.state === 'settled') {
          // Already complete: a refund (an exception on a settled status) goes to review, once.
          if (outcome.exception === 'needs_review' && current.exception !== 'needs_review') {
            done = 'review';
            return setState('settled', 'needs_review', 'needs_review');
          }
          return current;
        }
        if (current.state === 'invalid') {
          done = 'review';
          return current.exception === 'needs_review' ? current : setState('invalid', 'needs_review', 'needs_review');
        }
        const due = BigInt(sg.providerAmount(JSON.stringify(current.base_amount), 6));
        if (paidUnits === null || BigInt(paidUnits) < due) {
          done = 'review';
          return current.exception === 'needs_review' ? current : setState(current.state, 'needs_review', 'needs_review');
        }
        done = 'settled';
        return setState('settled', now >= current.expires_at ? 'paid_late' : null, 'settled', paidUnits);
      }
      if (outcome.state === 'processing' && current.state === 'new') {
        done = 'processing';
        return setState('processing', null, 'processing');
      }
      if (outcome.exception === 'needs_review' && current.state === 'processing') {
        done = 'review';
        return setState('processing', 'needs_review', 'needs_review');
      }
      // new, expired, invalid at the provider: the invoice stays open for a direct payment.
      return current;
    });
    return done;
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
   * The receiving addresses (hex) of watched invoices with their own pool on `networkId`: watched
   * while any of their invoices may still be paid, even when their shop has gone (a payment in flight
   * is still recorded).
   */
  async poolRecipients(networkId: string): Promise<string[]> {
    const rows = await this.db.all<{ recipient: string }>(
      `SELECT DISTINCT recipient FROM invoices WHERE network = ? AND watched = 1 AND pool IS NOT NULL AND recipient IS NOT NULL`,
      [networkId],
    );
    return rows.map((r) => r.recipient);
  }

  /** The credited entries of (network, token) not final yet (the plan checks them), with their invoice. */
  async pendingEntries(networkId: string, tokenId: string) {
    const rows = await this.db.all<{ tx_hash: string; log_index: number; block_number: number; invoice_id: string }>(
      `SELECT tx_hash, log_index, block_number, invoice_id FROM ledger WHERE network = ? AND token = ? AND status = 'seen' AND invoice_id IS NOT NULL`,
      [networkId, tokenId],
    );
    return rows.map((r) => ({ tx_hash: r.tx_hash, log_index: String(r.log_index), block_number: String(r.block_number), invoice: r.invoice_id }));
  }

  /**
   * What a poll of (network, token) needs besides the chain: the watched invoices, the invoices
   * owning any of the fetched transactions' transfers or an entry being checked, and which fetched transfers are
   * already stored unmatched (a rescan, or the same transaction mined again in another block, must
   * not store them twice). Looked up by key, whatever block they were stored with.
   */
  async pollState(networkId: string, tokenId: string, txHashes: string[], checked: string[]) {
    const rows = await this.db.all<InvoiceRow>(`SELECT * FROM invoices WHERE network = ? AND token = ? AND watched = 1`, [networkId, tokenId]);
    // Looked up in both forms the ledger may hold them in (TRON's are stored without 0x).
    const hashes = [...new Set(txHashes.flatMap((h) => [h.toLowerCase(), h.toLowerCase().replace(/^0x/, '')]))];
    const known: { tx_hash: string; log_index: number; invoice_id: string | null }[] = [];
    for (let i = 0; i < hashes.length; i += 500) {
      const chunk = hashes.slice(i, i + 500);
      known.push(
        ...(await this.db.all<{ tx_hash: string; log_index: number; invoice_id: string | null }>(
          `SELECT tx_hash, log_index, invoice_id FROM ledger WHERE network = ? AND tx_hash IN (${chunk.map(() => '?').join(',')})`,
          [networkId, ...chunk],
        )),
      );
    }
    const ids = new Set(rows.map((r) => r.id));
    const owners = [...new Set([...known.map((k) => k.invoice_id), ...checked])].filter((id): id is string => id !== null && !ids.has(id));
    if (owners.length) {
      rows.push(...(await this.db.all<InvoiceRow>(`SELECT * FROM invoices WHERE id IN (${owners.map(() => '?').join(',')})`, owners)));
    }
    const unmatched = known.filter((k) => k.invoice_id === null).map((k) => ({ tx_hash: k.tx_hash, log_index: String(k.log_index) }));
    return { rows, unmatched };
  }

  /**
   * Stores what the core decided for one poll (applyPoll), in one transaction: first the cursor
   * (`saveCursor`, which checks the watcher still holds its lease: a process that lost it stores
   * nothing), then the ledger writes, each changed invoice (versioned against the rows the poll
   * read: a claim, a review or a sweep that wrote meanwhile makes the whole poll fail and run
   * again from the same cursor), and the events.
   */
  async storePoll(networkId: string, tokenId: string, rows: InvoiceRow[], outcome: PollOutcome, saveCursor: (q: Queryable) => Promise<void>): Promise<void> {
    const now = this.clock();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const stored = new Map<string, InvoiceRow>();
    await this.db.tx(async (q) => {
      await saveCursor(q);
      for (const record of outcome.invoices) {
        const row = byId.get(record.id) as InvoiceRow;
        stored.set(record.id, await this.write(q, row, record, now));
      }
      for (const w of outcome.ledger) {
        const t = w.transfer;
        if (w.op === 'insert') {
          // A claim may have stored this transfer since the poll read the ledger: the poll runs again.
          await q
            .run(
              `INSERT INTO ledger (network, tx_hash, log_index, token, recipient, sender, amount, block_number, block_hash, block_time, invoice_id, matched_by, status, note, seen_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              [networkId, t.tx_hash, Number(t.log_index), tokenId, hexOf(networkId, t.to), t.from, t.amount, Number(t.block_number),
                t.block_hash, Number(t.block_time), w.invoice, w.matched_by, w.status, w.review ? 'review' : w.note, now],
            )
            .catch((error: unknown) => {
              throw isUniqueViolation(error) ? new LedgerConflict(networkId, t.tx_hash, t.log_index) : error;
            });
        } else {
          // Re-checked against the stored entry: a final entry is never changed again, whatever
          // a node that lags says (the core never asks it; a writer whose reads are stale might).
          const n = await q.run(
            `UPDATE ledger SET block_number = ?, block_hash = ?, block_time = ?, status = ? WHERE network = ? AND tx_hash = ? AND log_index = ? AND status <> 'final'`,
            [Number(t.block_number), t.block_hash, Number(t.block_time), w.status, networkId, t.tx_hash, Number(t.log_index)],
          );
          if (n !== 1) throw new LedgerConflict(networkId, t.tx_hash, t.log_index);
        }
      }
      for (const event of outcome.events) await this.announce(q, stored.get(event.invoice) as InvoiceRow, event, now, null);
    });
    for (const id of stored.keys()) this.changes.emit('change', id);
  }

  /**
   * A customer's claim that transaction `txHash` paid invoice `id`. The transfers are fetched by
   * the server itself (`fetchTransfers`); the core judges the claim (DESIGN §2, §5).
   */
  async claim(id: string, body: unknown, fetchTransfers: (network: string, txHash: string) => Promise<Transfer[]>, baseUrl: string) {
    const row0 = await this.require(id);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('invalid_body', 'the request body must be a JSON object', 'body');
    const input = (body as Record<string, unknown>).tx_hash;
    const record0 = this.record(row0);
    if (!record0) throw new ApiError('network_not_chosen', 'choose a network before claiming a payment');
    let txHash: string;
    try {
      if (typeof input !== 'string') throw new Error('must be a string');
      txHash = sg.normalizeTxHash(record0.network, input);
    } catch (error) {
      throw invalid('tx_hash', `is not a ${record0.network} transaction hash: ${(error as Error).message}`);
    }
    const transfers = await fetchTransfers(record0.network, txHash);
    const tokenContract = hexOf(record0.network, registryToken(record0.network, record0.token)!.contract);
    const ofToken = transfers.filter((t) => hexOf(record0.network, t.token) === tokenContract);
    if (ofToken.length === 0) throw new ApiError('wrong_token', `this transaction moved no ${record0.token.toUpperCase()} of the registry's contract`, 'tx_hash');
    const mine = ofToken.filter((t) => hexOf(record0.network, t.to) === row0.recipient);
    if (mine.length === 0) throw new ApiError('wrong_recipient', "this transaction paid another address, not this invoice's", 'tx_hash');
    const now = this.clock();
    // The watcher may store the same transfer (unmatched) between this claim's read and its
    // write: the claim then runs again and finds the stored entry (PostgreSQL; SQLite serialises).
    const result = await this.retryOnUnique(() =>
      this.db.tx(async (q) => {
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
            lastError = new ApiError('already_credited', `this transfer already credited an invoice${existing.invoice_id === id ? ' (this one)' : ''}`, 'tx_hash');
            continue;
          }
          let review: boolean;
          try {
            review = sg.claimTransfer(row.network as string, others, record, transfer, this.claimPolicy(row.network as string, row.token as string)).review;
          } catch (error) {
            // The core's kind is the answer's code (reserved_for_another_invoice: the exact amount
            // of another invoice is that invoice's; the watcher credits it there).
            lastError = new ApiError(coreCode(error) ?? 'claim_refused', (error as Error).message, 'tx_hash');
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
            if (n !== 1) throw new ApiError('already_credited', 'this transfer already credited an invoice', 'tx_hash');
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
        return this.save(q, row, record, now, baseUrl);
      }),
    );
    this.changes.emit('change', id);
    this.log.info(result.exception === 'needs_review' ? 'claim credited for the merchant\'s review' : 'claim credited', { invoice: id, tx: txHash });
    return result;
  }

  /** Runs `work` again (at most twice more) when a concurrent writer took one of its unique keys first. */
  private async retryOnUnique<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= 2) throw error;
      }
    }
  }

  /** The merchant's claim policy on (network, token), in base units (config claims.auto_accept_up_to). */
  private claimPolicy(network: string, token: string) {
    return { auto_accept_up_to: sg.toBaseUnits(network, this.config.claims.autoAcceptUpTo, token) };
  }

  /**
   * The merchant resolves the review of an invoice in needs_review: `accept` takes its payments
   * as this invoice's; a rejection puts the transfers that caused the review back on the
   * unmatched list. Either way an event announces the resolution with the merchant's note.
   */
  async resolveReview(id: string, body: unknown, baseUrl: string): Promise<InvoiceRow> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('invalid_body', 'the request body must be a JSON object', 'body');
    const { decision, note } = body as Record<string, unknown>;
    if (decision !== 'accept' && decision !== 'reject') throw invalid('decision', 'must be "accept" or "reject"');
    if (typeof note !== 'string' || note.trim() === '' || note.length > 1000) throw invalid('note', 'must be a note of 1 to 1000 characters saying why');
    const row = await this.underLock(id, async (q, current, now) => {
      const record = this.record(current);
      if (!record) throw new ApiError('not_in_review', 'an invoice without a network has no payment to review');
      let resolved;
      try {
        resolved = sg.resolveReview(record, decision === 'accept', note, now);
      } catch (error) {
        if (coreCode(error) === 'not_in_review') throw new ApiError('not_in_review', 'this invoice is not waiting for a review');
        throw error;
      }
      for (const entry of resolved.returned) {
        // Back on the unmatched list, visible and claimable again.
        await q.run(`UPDATE ledger SET invoice_id = NULL, matched_by = NULL, note = ? WHERE network = ? AND tx_hash = ? AND log_index = ? AND invoice_id = ?`, [
          `returned by review of ${id}`,
          current.network,
          entry.tx_hash,
          Number(entry.log_index),
          id,
        ]);
      }
      const updated = await this.write(q, current, resolved.invoice, now);
      if (resolved.event) await this.announce(q, updated, resolved.event, now, baseUrl);
      return updated;
    });
    this.log.info('review resolved', { invoice: id, decision, state: row.state });
    return row;
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
          await q.run(`UPDATE invoices SET state = 'expired', updated_at = ?, version = version + 1 WHERE id = ?`, [now, id]);
          await this.event(q, updated, null, { id: `${id}:expired`, type: 'invoice.expired' }, now, null);
        }
      });
      this.changes.emit('change', id);
    }
    return due.length;
  }
}
