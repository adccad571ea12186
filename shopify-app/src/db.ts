// Storage: SQLite (better-sqlite3) by default, PostgreSQL (pg) when a database URL is given.
// One small async interface over both; SQL is written once with `?` placeholders and the few
// dialect differences are named in the migrations. The unique constraints that keep money safe
// live here: one watched invoice per (network, token, recipient, amount), one ledger row per
// (network, tx hash, log index).
import BetterSqlite3 = require('better-sqlite3');
import pg = require('pg');

export type Row = Record<string, unknown>;

export interface Queryable {
  all<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: unknown[]): Promise<T | undefined>;
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface Db extends Queryable {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `fn` in one transaction; retried by callers on unique violations where that is safe. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Serialises concurrent allocations on `key` inside a transaction (PostgreSQL advisory lock). */
  lock(q: Queryable, key: string): Promise<void>;
  /**
   * SQL for the database's own clock in unix milliseconds: leases compare times on one clock,
   * whichever machine each process runs on.
   */
  readonly nowMs: string;
  /** Tells every process on this database (PostgreSQL NOTIFY; SQLite serves one process). */
  publish(channel: string, payload: string): Promise<void>;
  /**
   * Calls `fn` with each payload published on `channel` by any process, this one included
   * (PostgreSQL LISTEN on a connection of its own, reconnected after a failure).
   */
  subscribe(channel: string, fn: (payload: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** True when `error` is a unique-constraint violation of either database. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

// Versioned migrations: applied in order, each in its own transaction, recorded in
// schema_migrations. Never edit a shipped one; add the next version.
const MIGRATIONS: { version: number; name: string; sql: (kind: Db['kind']) => string[] }[] = [
  {
    version: 1,
    name: 'invoices, ledger, cursors, events, webhooks, api keys, idempotency',
    sql: () => [
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)`,
      `CREATE TABLE invoices (
        id TEXT PRIMARY KEY,
        order_id TEXT,
        state TEXT NOT NULL,
        exception TEXT,
        network TEXT, token TEXT, recipient TEXT, amount_due TEXT,
        watched INTEGER NOT NULL DEFAULT 0,
        base_amount TEXT NOT NULL,
        fiat_amount TEXT, currency TEXT, rate TEXT,
        accepted TEXT NOT NULL,
        redirect_url TEXT,
        metadata TEXT,
        created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, monitor_until BIGINT NOT NULL,
        record TEXT,
        updated_at BIGINT NOT NULL)`,
      // DESIGN §5: never two watched invoices on one amount at one address, under any concurrency.
      `CREATE UNIQUE INDEX invoices_watched_amount ON invoices (network, token, recipient, amount_due) WHERE watched = 1`,
      `CREATE INDEX invoices_created ON invoices (created_at, id)`,
      `CREATE INDEX invoices_open ON invoices (state, expires_at)`,
      `CREATE INDEX invoices_order ON invoices (order_id)`,
      // DESIGN §2: a transfer (network, tx hash, log index) credits at most one invoice, once.
      // Transfers to watched addresses that match nothing are kept with invoice_id NULL.
      `CREATE TABLE ledger (
        network TEXT NOT NULL, tx_hash TEXT NOT NULL, log_index BIGINT NOT NULL,
        token TEXT NOT NULL, recipient TEXT NOT NULL, sender TEXT NOT NULL, amount TEXT NOT NULL,
        block_number BIGINT NOT NULL, block_hash TEXT NOT NULL, block_time BIGINT NOT NULL,
        invoice_id TEXT REFERENCES invoices (id),
        matched_by TEXT, status TEXT NOT NULL, note TEXT, seen_at BIGINT NOT NULL,
        PRIMARY KEY (network, tx_hash, log_index))`,
      `CREATE INDEX ledger_invoice ON ledger (invoice_id)`,
      `CREATE INDEX ledger_pending ON ledger (network, token, status)`,
      `CREATE TABLE cursors (
        network TEXT NOT NULL, token TEXT NOT NULL, block BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (network, token))`,
      `CREATE TABLE events (
        id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)`,
      `CREATE INDEX events_invoice ON events (invoice_id)`,
      `CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY, event_id TEXT NOT NULL, endpoint TEXT NOT NULL, status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT, last_error TEXT, last_status INTEGER,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        UNIQUE (event_id, endpoint))`,
      `CREATE INDEX webhook_due ON webhook_deliveries (status, next_attempt_at)`,
      `CREATE TABLE idempotency_keys (
        api_key_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
        status INTEGER NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL,
        PRIMARY KEY (api_key_id, key))`,
    ],
  },
  {
    version: 2,
    name: 'invoices.amount_key: the amount zero-padded, so a price band is one index range',
    sql: (kind) => [
      `ALTER TABLE invoices ADD COLUMN amount_key TEXT`,
      kind === 'postgres'
        ? `UPDATE invoices SET amount_key = lpad(amount_due, 40, '0') WHERE amount_due IS NOT NULL`
        : `UPDATE invoices SET amount_key = substr('0000000000000000000000000000000000000000' || amount_due, -40) WHERE amount_due IS NOT NULL`,
      `CREATE INDEX invoices_watched_band ON invoices (network, token, recipient, amount_key) WHERE watched = 1`,
    ],
  },
  {
    version: 3,
    name: 'invoices.version (every write is versioned) and invoices.released (a reused reservation)',
    sql: () => [
      // DESIGN §5: every write to an invoice record is versioned, so no writer loses another's credit.
      `ALTER TABLE invoices ADD COLUMN version BIGINT NOT NULL DEFAULT 0`,
      // An expired unpaid invoice whose amount went to a newer one stays watched (a late payment
      // still finds it, for review) but no longer holds the amount: the unique index is over holders.
      `ALTER TABLE invoices ADD COLUMN released INTEGER NOT NULL DEFAULT 0`,
      `DROP INDEX invoices_watched_amount`,
      `CREATE UNIQUE INDEX invoices_reserved_amount ON invoices (network, token, recipient, amount_due) WHERE watched = 1 AND released = 0`,
      `DROP INDEX invoices_watched_band`,
      `CREATE INDEX invoices_reserved_band ON invoices (network, token, recipient, amount_key) WHERE watched = 1 AND released = 0`,
      `CREATE INDEX ledger_block ON ledger (network, token, block_number)`,
      // The cursor is now the core's final cursor (every block up to it searched after it was
      // final); a cursor saved before meant "searched up to". Going back 200 blocks once covers
      // every registry network's finality depth, so no block is left unsearched after it became
      // final; the blocks searched again credit nothing twice.
      `UPDATE cursors SET block = CASE WHEN block > 200 THEN block - 200 ELSE 0 END`,
    ],
  },
  {
    version: 4,
    name: 'several processes on one database: leases, claimed webhook deliveries, shared rate limits, chain heads',
    sql: () => [
      // One holder at a time per name (a network's watcher; SQLite's one server process). The
      // epoch grows with each new holder: a write fenced by (holder, epoch) fails once the lease
      // changed hands, so a process that paused past its lease cannot write over its successor.
      `CREATE TABLE leases (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, epoch BIGINT NOT NULL,
        expires_at BIGINT NOT NULL, acquired_at BIGINT NOT NULL)`,
      // The process that claimed a delivery's current attempt (claims are made one at a time).
      `ALTER TABLE webhook_deliveries ADD COLUMN claimed_by TEXT`,
      // Fixed windows of the rate limits, shared by every process.
      `CREATE TABLE rate_limits (key TEXT PRIMARY KEY, window_start BIGINT NOT NULL, count INTEGER NOT NULL)`,
      // The last head each network's watcher saw: confirmations in every process's answers.
      `CREATE TABLE chain_heads (network TEXT PRIMARY KEY, head BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 5,
    name: 'compatibility protocols (Epusdt, EPay): credentials, orders, callbacks',
    sql: () => [
      // src/compat/credentials.ts: the secrets are AES-256-GCM sealed, never stored in plaintext.
      `CREATE TABLE compat_credentials (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, protocol TEXT NOT NULL, pid BIGINT UNIQUE,
        secret_enc TEXT NOT NULL, secret_hash TEXT NOT NULL, allow_ips TEXT, allow_private INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)`,
      // One order per (credential, merchant order id): a repeat with other terms is refused.
      `CREATE TABLE compat_orders (
        invoice_id TEXT PRIMARY KEY REFERENCES invoices (id), credential_id TEXT NOT NULL REFERENCES compat_credentials (id),
        order_id TEXT NOT NULL, terms TEXT NOT NULL, created_at BIGINT NOT NULL,
        UNIQUE (credential_id, order_id))`,
      // At most one success callback per invoice, claimed by one process at a time (claimed_by).
      `CREATE TABLE compat_callbacks (
        id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL UNIQUE REFERENCES invoices (id), event_id TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL, claimed_by TEXT,
        last_error TEXT, last_status INTEGER, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`,
      `CREATE INDEX compat_callbacks_due ON compat_callbacks (status, next_attempt_at)`,
      // The callback queue looks for recent settled events.
      `CREATE INDEX events_type_created ON events (type, created_at)`,
    ],
  },
  {
    version: 6,
    name: 'shopify: shops, their orders linked to invoices, actions applied once per event, webhook deliveries seen',
    sql: () => [
      // One row per shop that installed the app: its offline token (encrypted, src/shopify/shops.ts),
      // the merchant's settings (JSON). An uninstalled shop keeps its settings and loses its token.
      `CREATE TABLE shopify_shops (
        shop TEXT PRIMARY KEY, access_token TEXT, scope TEXT, settings TEXT NOT NULL,
        installed_at BIGINT NOT NULL, uninstalled_at BIGINT, updated_at BIGINT NOT NULL)`,
      // An order's one invoice: the primary key is the per-order claim (with the invoice's
      // idempotency key, src/shopify/orders.ts).
      `CREATE TABLE shopify_orders (
        shop TEXT NOT NULL, order_id TEXT NOT NULL, order_name TEXT, invoice_id TEXT NOT NULL UNIQUE REFERENCES invoices (id),
        amount TEXT NOT NULL, currency TEXT NOT NULL, linked INTEGER NOT NULL DEFAULT 0, refunds TEXT,
        created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (shop, order_id))`,
      // What an invoice event makes the app do in Shopify, one row per (event, action): the row
      // exists once whatever the number of processes, and each attempt is claimed by one of them.
      `CREATE TABLE shopify_actions (
        id TEXT PRIMARY KEY, event_id TEXT NOT NULL, action TEXT NOT NULL, shop TEXT NOT NULL, order_id TEXT NOT NULL,
        invoice_id TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL,
        claimed_by TEXT, last_error TEXT, result TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        UNIQUE (event_id, action))`,
      `CREATE INDEX shopify_actions_due ON shopify_actions (status, next_attempt_at)`,
      // Incoming webhooks by X-Shopify-Webhook-Id: a redelivery is answered without doing it again.
      `CREATE TABLE shopify_webhooks (
        webhook_id TEXT PRIMARY KEY, shop TEXT NOT NULL, topic TEXT NOT NULL, status TEXT NOT NULL, received_at BIGINT NOT NULL)`,
      // customers/data_request: what Stablegate holds on the customer's orders, for the merchant.
      `CREATE TABLE shopify_data_requests (
        id TEXT PRIMARY KEY, shop TEXT NOT NULL, customer_id TEXT, export TEXT NOT NULL, created_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 7,
    name: 'invoices.pool: the receiving addresses an invoice allocates over (a Shopify shop\'s own); shopify_orders.customer_id',
    sql: () => [
      // JSON {"network": ["address", …]} in display form, fixed at creation: the customer may pick
      // the network later, and the shop may change its addresses meanwhile.
      `ALTER TABLE invoices ADD COLUMN pool TEXT`,
      // The watcher adds the recipients of watched invoices that have a pool to the server's addresses.
      `CREATE INDEX invoices_watched_pool ON invoices (network, recipient) WHERE watched = 1 AND pool IS NOT NULL`,
      // The order's customer (its GID, null for an order without one): a signed-in customer's
      // session token reads only that customer's orders (src/shopify/orders.ts).
      `ALTER TABLE shopify_orders ADD COLUMN customer_id TEXT`,
    ],
  },
  {
    version: 8,
    name: 'merchant console: the admin password, sessions, payment links, notifications sent',
    sql: () => [
      // One admin (id 1): the scrypt hash of the password set with `stablegate console
      // set-password`, and the optional TOTP secret (src/console/auth.ts).
      `CREATE TABLE console_admin (
        id INTEGER PRIMARY KEY, password_hash TEXT NOT NULL, totp_secret TEXT, updated_at BIGINT NOT NULL)`,
      // Signed-in sessions, by the SHA-256 of the cookie's value (a stolen database names no
      // live cookie); csrf is the token every form of the session carries.
      `CREATE TABLE console_sessions (
        id_hash TEXT PRIMARY KEY, csrf TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)`,
      `CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)`,
      // Payment links (src/console/links.ts): a fixed amount, or min..max typed by the customer;
      // a single-use link keeps its one invoice in current_invoice.
      `CREATE TABLE payment_links (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, amount TEXT, min_amount TEXT, max_amount TEXT,
        reusable INTEGER NOT NULL, redirect_url TEXT, current_invoice TEXT, active INTEGER NOT NULL DEFAULT 1,
        created_at BIGINT NOT NULL)`,
      // Each notification is sent once, whichever process sees its cause first.
      `CREATE TABLE notifications_sent (key TEXT PRIMARY KEY, created_at BIGINT NOT NULL)`,
    ],
  },
  {
    version: 9,
    name: 'hosted providers: checkouts per invoice, notifications applied once',
    sql: () => [
      // The provider checkout of an invoice (issue 16): one per (invoice, provider); `reference`
      // is what the provider's notifications carry (Binance merchantTradeNo, a hash of the invoice id; NOWPayments order_id).
      `CREATE TABLE provider_checkouts (
        provider TEXT NOT NULL, reference TEXT NOT NULL, invoice_id TEXT NOT NULL REFERENCES invoices (id),
        checkout_url TEXT NOT NULL, status TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        PRIMARY KEY (provider, reference), UNIQUE (invoice_id, provider))`,
      // Each verified notification, by its dedupe key (Binance timestamp:nonce; NOWPayments
      // payment_id:status:body hash): a replay finds its row and changes nothing.
      `CREATE TABLE provider_notifications (
        provider TEXT NOT NULL, dedupe_key TEXT NOT NULL, invoice_id TEXT NOT NULL, status TEXT NOT NULL,
        outcome TEXT NOT NULL, received_at BIGINT NOT NULL, PRIMARY KEY (provider, dedupe_key))`,
    ],
  },
  {
    version: 14,
    name: 'hosted providers: the amount a provider paid, counted by the status document',
    // Base units of the provider's 6-decimal USDT, what its settled notification reported (issue 16); the core's
    // status document counts it as paid (OpenChoice.provider_paid). NULL: nothing paid that way.
    sql: () => [`ALTER TABLE invoices ADD COLUMN provider_paid TEXT`],
  },
];

/** The sortable key of a base-unit amount: 40 digits (u128 has at most 39). */
export function amountKey(units: string | bigint): string {
  return String(units).padStart(40, '0');
}

async function migrate(db: Db): Promise<number[]> {
  // Under the lock too: processes starting at once on a new PostgreSQL database would otherwise
  // race on CREATE TABLE IF NOT EXISTS (which is not atomic there) and one would fail.
  await db.tx(async (q) => {
    await db.lock(q, 'stablegate:migrations');
    await q.run(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
  });
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const done = await db.tx(async (q) => {
      await db.lock(q, 'stablegate:migrations');
      if (await q.get(`SELECT version FROM schema_migrations WHERE version = ?`, [migration.version])) return false;
      for (const statement of migration.sql(db.kind)) await q.run(statement);
      await q.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, [
        migration.version,
        migration.name,
        Math.floor(Date.now() / 1000),
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}

class SqliteDb implements Db {
  readonly kind = 'sqlite' as const;
  private readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  // better-sqlite3 is synchronous and has one connection: a transaction that awaits must not let
  // other work interleave inside it, so every top-level operation takes this queue in turn.
  private queue: Promise<unknown> = Promise.resolve();
  private readonly direct: Queryable;

  constructor(file: string) {
    this.db = new BetterSqlite3(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    const prepare = (sql: string) => {
      let s = this.statements.get(sql);
      if (!s) {
        s = this.db.prepare(sql);
        this.statements.set(sql, s);
      }
      return s;
    };
    const bind = (params: unknown[]) => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
    this.direct = {
      all: async <T>(sql: string, params: unknown[] = []) => prepare(sql).all(...bind(params)) as T[],
      get: async <T>(sql: string, params: unknown[] = []) => prepare(sql).get(...bind(params)) as T | undefined,
      run: async (sql: string, params: unknown[] = []) => {
        const s = prepare(sql);
        if (!s.reader) return s.run(...bind(params)).changes;
        s.all(...bind(params));
        return 0;
      },
    };
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.queue.then(fn, fn);
    this.queue = result.catch(() => undefined);
    return result;
  }

  all<T = Row>(sql: string, params?: unknown[]) {
    return this.exclusive(() => this.direct.all<T>(sql, params));
  }
  get<T = Row>(sql: string, params?: unknown[]) {
    return this.exclusive(() => this.direct.get<T>(sql, params));
  }
  run(sql: string, params?: unknown[]) {
    return this.exclusive(() => this.direct.run(sql, params));
  }
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }
  async lock(): Promise<void> {
    // One connection, transactions already serialised.
  }
  readonly nowMs = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;
  private readonly channels = new Map<string, ((payload: string) => void)[]>();
  async publish(channel: string, payload: string): Promise<void> {
    for (const fn of this.channels.get(channel) ?? []) fn(payload);
  }
  async subscribe(channel: string, fn: (payload: string) => void): Promise<void> {
    this.channels.set(channel, [...(this.channels.get(channel) ?? []), fn]);
  }
  async close() {
    await this.exclusive(async () => this.db.close());
  }
}

/** Rewrites `?` placeholders as $1, $2… (our SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function pgQueryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    all: async <T>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows as T[],
    get: async <T>(sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rows[0] as T | undefined,
    run: async (sql: string, params: unknown[] = []) => (await client.query(numbered(sql), params)).rowCount ?? 0,
  };
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  readonly nowMs = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT`;
  private readonly pool: pg.Pool;
  private readonly direct: Queryable;
  private readonly channels = new Map<string, ((payload: string) => void)[]>();
  private listener: pg.Client | null = null;
  private closed = false;

  constructor(private readonly url: string) {
    // BIGINT columns hold unix seconds and block numbers: well inside 2^53. Money is TEXT.
    pg.types.setTypeParser(20, (v) => Number(v));
    this.pool = new pg.Pool({ connectionString: url, max: 10 });
    this.direct = pgQueryable(this.pool);
  }
  async publish(channel: string, payload: string): Promise<void> {
    await this.pool.query(`SELECT pg_notify($1, $2)`, [channel, payload]);
  }
  async subscribe(channel: string, fn: (payload: string) => void): Promise<void> {
    const known = this.channels.has(channel);
    this.channels.set(channel, [...(this.channels.get(channel) ?? []), fn]);
    if (!this.listener) await this.listen();
    else if (!known) await this.listener.query(`LISTEN "${channel}"`);
  }
  /** One connection LISTENs on every channel; when it fails, another one is opened after a pause. */
  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    this.listener = client;
    client.on('notification', (n) => {
      for (const fn of this.channels.get(n.channel) ?? []) fn(n.payload ?? '');
    });
    client.on('error', () => {
      if (this.listener !== client) return;
      this.listener = null;
      void client.end().catch(() => undefined);
      const retry = () => {
        if (this.closed || this.listener) return;
        this.listen().catch(() => setTimeout(retry, 1000).unref());
      };
      setTimeout(retry, 1000).unref();
    });
    try {
      await client.connect();
      for (const channel of this.channels.keys()) await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      if (this.listener === client) this.listener = null;
      await client.end().catch(() => undefined);
      throw error;
    }
  }
  all<T = Row>(sql: string, params?: unknown[]) {
    return this.direct.all<T>(sql, params);
  }
  get<T = Row>(sql: string, params?: unknown[]) {
    return this.direct.get<T>(sql, params);
  }
  run(sql: string, params?: unknown[]) {
    return this.direct.run(sql, params);
  }
  async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(pgQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  async lock(q: Queryable, key: string): Promise<void> {
    await q.run(`SELECT pg_advisory_xact_lock(hashtext(?))`, [key]);
  }
  async close() {
    this.closed = true;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}

/** Opens the database of the configuration and brings its schema up to date. */
export async function openDb(database: { sqlite?: string; url?: string }): Promise<{ db: Db; applied: number[] }> {
  const db: Db = database.url ? new PostgresDb(database.url) : new SqliteDb(database.sqlite ?? 'stablegate.db');
  try {
    const applied = await migrate(db);
    return { db, applied };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
