// The console's invoice search (server-only): the API's list filters (state, order id) and more
// (exception, network, dates, a transaction hash or an address). Reads only; the rows are
// rendered by Invoices.view like the API's.
import sg = require('../core');
import { invalid } from '../errors';
import type { InvoiceRow, Invoices } from '../invoices';

export interface SearchFilters {
  state?: string;
  exception?: string;
  network?: string;
  /** `YYYY-MM-DD`, UTC, inclusive. */
  from?: string;
  to?: string;
  orderId?: string;
  /** An invoice id, a transaction hash, or an address (receiving or paying) on any configured network. */
  search?: string;
}

/** Unix seconds of the start of UTC day `text` (`YYYY-MM-DD`); a 422 naming `field` otherwise. */
export function dayStart(text: string, field: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) throw invalid(field, 'must be a date like 2026-01-31');
  return ms / 1000;
}

/** The newest `limit` invoices that pass every filter given. */
export async function searchInvoices(invoices: Invoices, f: SearchFilters, limit: number): Promise<InvoiceRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    args.push(...values);
  };
  if (f.state) add('state = ?', f.state);
  if (f.exception) add('exception = ?', f.exception);
  if (f.network) add('network = ?', f.network);
  if (f.orderId) add('order_id = ?', f.orderId);
  if (f.from) add('created_at >= ?', dayStart(f.from, 'from'));
  if (f.to) add('created_at < ?', dayStart(f.to, 'to') + 86400);
  if (f.search) {
    // Each configured network reads the text its own way (0x… or TRON's forms); what none can
    // read matches only as an invoice id.
    const hashes = new Set<string>();
    const addresses = new Set<string>();
    for (const net of invoices.config.networks) {
      try {
        hashes.add(sg.normalizeTxHash(net.id, f.search));
      } catch {
        // not a hash on this network
      }
      try {
        const parsed = sg.parseAddress(net.id, f.search);
        addresses.add(parsed.hex);
        addresses.add(parsed.address);
      } catch {
        // not an address on this network
      }
    }
    const list = (values: Set<string>) => (values.size ? [...values].map(() => '?').join(', ') : 'NULL');
    add(
      `(id = ? OR recipient IN (${list(addresses)}) OR id IN (SELECT invoice_id FROM ledger WHERE tx_hash IN (${list(hashes)}) OR sender IN (${list(addresses)})))`,
      f.search,
      ...addresses,
      ...hashes,
      ...addresses,
    );
  }
  return invoices.db.all<InvoiceRow>(
    `SELECT * FROM invoices ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`,
    [...args, limit],
  );
}
