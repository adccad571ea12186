// Leases: one holder at a time per name, kept in the database so that every process sharing it
// agrees (DESIGN §6, several processes). A network's watcher polls only while its process holds
// `watch:<network>`; SQLite's one server process holds `process:sqlite`. A lease lapses when its
// holder stops renewing it (killed, paused, cut off), and another process takes it with a new
// epoch. Writes that matter are fenced: `fence` inside the write's transaction re-checks holder
// and epoch (and locks the row until commit), so a process that lost its lease while it worked
// writes nothing over its successor's state. Times are the database's clock, not the machines'.
import crypto = require('node:crypto');
import os = require('node:os');
import type { Db, Queryable } from './db';

export interface LeaseRow {
  name: string;
  holder: string;
  epoch: number;
  expires_at: number;
  acquired_at: number;
}

/** Another process holds the lease now: the work done under it must not be stored. */
export class LeaseLost extends Error {
  constructor(name: string) {
    super(`the lease ${name} passed to another process; this process's work under it is dropped`);
  }
}

/** The holder id of a process: its host and pid (to tell a dead holder on this host), then a random part. */
export function holderId(): string {
  return `${os.hostname()}/${process.pid}/${crypto.randomBytes(4).toString('hex')}`;
}

/** The host and pid a holder id names. */
export function holderProcess(holder: string): { host: string; pid: number } {
  const parts = holder.split('/');
  return { host: parts.slice(0, -2).join('/'), pid: Number(parts[parts.length - 2]) };
}

export class Leases {
  /** The epoch of each lease this process holds (as last acquired or renewed). */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly db: Db,
    readonly holder: string = holderId(),
  ) {}

  /**
   * Takes or renews `name` for `ttlMs`; returns its epoch while this process holds it, null
   * while another live process does.
   */
  async acquire(name: string, ttlMs: number): Promise<number | null> {
    const now = this.db.nowMs;
    const row = await this.db.get<{ epoch: number }>(
      `INSERT INTO leases (name, holder, epoch, expires_at, acquired_at) VALUES (?, ?, 1, ${now} + ?, ${now})
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
         acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END,
         holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at < ${now}
       RETURNING epoch`,
      [name, this.holder, ttlMs],
    );
    if (!row) {
      this.held.delete(name);
      return null;
    }
    this.held.set(name, Number(row.epoch));
    return Number(row.epoch);
  }

  /**
   * Takes `name` from `holder`, whatever its expiry: only for a holder known to be gone (a dead
   * process on this host). Returns the new epoch, or null when the lease changed meanwhile.
   */
  async takeOver(name: string, holder: string, ttlMs: number): Promise<number | null> {
    const now = this.db.nowMs;
    const row = await this.db.get<{ epoch: number }>(
      `UPDATE leases SET holder = ?, epoch = epoch + 1, expires_at = ${now} + ?, acquired_at = ${now} WHERE name = ? AND holder = ? RETURNING epoch`,
      [this.holder, ttlMs, name, holder],
    );
    if (row) this.held.set(name, Number(row.epoch));
    return row ? Number(row.epoch) : null;
  }

  /**
   * Extends `name` for `ttlMs` if this process still holds it at `epoch`; never takes it (a lease
   * that lapsed and passed to another stays lost, and one retaken later is a new epoch, so work
   * begun under the old one cannot be stored under the new). Returns whether it is still held.
   */
  async renew(name: string, epoch: number, ttlMs: number, q: Queryable = this.db): Promise<boolean> {
    const n = await q.run(`UPDATE leases SET expires_at = ${this.db.nowMs} + ? WHERE name = ? AND holder = ? AND epoch = ?`, [ttlMs, name, this.holder, epoch]);
    if (n !== 1 && this.held.get(name) === epoch) this.held.delete(name);
    return n === 1;
  }

  /**
   * Inside a write's transaction: fails with LeaseLost unless this process still holds `name` at
   * `epoch` (the one the work began under), and renews it. The row stays locked until the
   * transaction ends, so no process takes the lease between this check and the commit.
   */
  async fence(q: Queryable, name: string, epoch: number, ttlMs: number): Promise<void> {
    if (!(await this.renew(name, epoch, ttlMs, q))) throw new LeaseLost(name);
  }

  holds(name: string): boolean {
    return this.held.has(name);
  }

  get(name: string): Promise<LeaseRow | undefined> {
    return this.db.get<LeaseRow>(`SELECT * FROM leases WHERE name = ?`, [name]);
  }

  /** Gives `name` up (a clean stop): another process may take it at once. */
  async release(name: string): Promise<void> {
    this.held.delete(name);
    await this.db.run(`DELETE FROM leases WHERE name = ? AND holder = ?`, [name, this.holder]);
  }
}
