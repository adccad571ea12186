// The console's CSV export of settled payments (server-only), for the merchant's accounts: one
// row per transfer credited to an invoice settled in the date range. Amounts come from the stored
// base-unit integers through the core (formatAmount, displayAmount), never through a float.
import sg = require('../core');
import type { InvoiceRow, Invoices } from '../invoices';
import { dayStart } from './queries';

export const CSV_COLUMNS = [
  'invoice', 'order_id', 'settled_at', 'fiat_amount', 'currency', 'rate', 'invoice_amount_usdt',
  'amount_usdt', 'network', 'token', 'tx_hash', 'sender', 'block_number', 'block_time',
] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A cell that a
 * spreadsheet would read as a formula (it starts with = + - @, a tab or a carriage return) is
 * prefixed with ' (OWASP's advice on CSV injection): a sender or order id is the payer's text.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The CSV (header row first, CRLF line ends) of the payments settled from day `from` to day `to`, UTC, inclusive. */
export async function csvOfSettled(invoices: Invoices, from: string, to: string): Promise<string> {
  const start = dayStart(from, 'from');
  const end = dayStart(to, 'to') + 86400;
  const settled = await invoices.db.all<InvoiceRow & { settled_at: number }>(
    `SELECT i.*, s.settled_at FROM invoices i
       JOIN (SELECT invoice_id, MIN(created_at) AS settled_at FROM events WHERE type = 'invoice.settled' GROUP BY invoice_id) s ON s.invoice_id = i.id
     WHERE i.state = 'settled' AND s.settled_at >= ? AND s.settled_at < ? ORDER BY s.settled_at, i.id`,
    [start, end],
  );
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of settled) {
    const entries = await invoices.db.all<{ network: string; token: string; tx_hash: string; sender: string; amount: string; block_number: number; block_time: number }>(
      `SELECT network, token, tx_hash, sender, amount, block_number, block_time FROM ledger WHERE invoice_id = ? AND status <> 'removed' ORDER BY block_number, log_index`,
      [row.id],
    );
    const due = row.network && row.amount_due ? sg.displayAmount(sg.formatAmount(row.network, row.amount_due, row.token)) : '';
    for (const e of entries) {
      lines.push(
        [
          row.id, row.order_id, iso(row.settled_at), row.fiat_amount, row.currency, row.rate, due,
          sg.displayAmount(sg.formatAmount(e.network, e.amount, e.token)), e.network, e.token, e.tx_hash, e.sender, e.block_number, iso(Number(e.block_time)),
        ].map(csvCell).join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}
