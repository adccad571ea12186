// The providers the merchant enabled, behind one service: a checkout per (invoice, provider), and
// notifications verified (the core), deduplicated (provider_notifications) and applied to the
// invoice once (Invoices.applyProvider). A provider that does not answer is a 503 on its checkout
// only: the invoice and its direct payment are untouched.
import type { Config } from '../config';
import type { Db } from '../db';
import { isUniqueViolation } from '../db';
import { ApiError } from '../errors';
import type { Invoices } from '../invoices';
import type { Logger } from '../log';
import { Binance } from './binance';
import { NowPayments } from './nowpayments';
import { ProviderAdapter, ProviderError } from './provider';

/** Core error kinds of a notification's verification, answered as a refusal (401). */
const SIGNATURE_CODES = new Set(['invalid_signature_header', 'signature_mismatch', 'timestamp_out_of_window', 'invalid_public_key']);

export class Providers {
  readonly adapters = new Map<string, ProviderAdapter>();

  constructor(
    config: Config,
    private readonly db: Db,
    private readonly invoices: Invoices,
    private readonly log: Logger,
    private readonly clockMs: () => number = Date.now,
  ) {
    if (config.providers.binance) this.adapters.set('binance', new Binance(config.providers.binance, clockMs));
    if (config.providers.nowpayments) this.adapters.set('nowpayments', new NowPayments(config.providers.nowpayments));
  }

  enabled(): string[] {
    return [...this.adapters.keys()];
  }

  private adapter(name: string): ProviderAdapter {
    const adapter = this.adapters.get(name);
    if (!adapter) throw new ApiError('provider_not_enabled', `provider ${JSON.stringify(name)} is not enabled on this server`, 'provider');
    return adapter;
  }

  /** The provider's checkout of an open invoice whose customer has not chosen a network yet. */
  async checkout(invoiceId: string, name: string, baseUrl: string): Promise<{ provider: string; checkout_url: string }> {
    const adapter = this.adapter(name);
    const row = await this.invoices.require(invoiceId);
    const now = this.invoices.clock();
    if (row.record || row.state !== 'new' || now >= row.expires_at) {
      throw new ApiError('provider_checkout_closed', 'a provider checkout is offered only for an open invoice before a network is chosen');
    }
    const existing = await this.db.get<{ checkout_url: string }>(`SELECT checkout_url FROM provider_checkouts WHERE invoice_id = ? AND provider = ?`, [invoiceId, name]);
    if (existing) return { provider: name, checkout_url: existing.checkout_url };
    let created;
    try {
      created = await adapter.create({
        invoiceId,
        amount: row.base_amount,
        description: row.order_id ? `Order ${row.order_id}` : `Invoice ${invoiceId}`,
        notifyUrl: `${baseUrl}/providers/${name}/notify`,
        returnUrl: row.redirect_url,
      });
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      this.log.warn('provider checkout failed', { provider: name, invoice: invoiceId, error: error.message });
      throw new ApiError('provider_unavailable', `${name} did not create the checkout; pay directly instead`);
    }
    try {
      await this.db.run(
        `INSERT INTO provider_checkouts (provider, reference, invoice_id, checkout_url, status, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)`,
        [name, created.reference, invoiceId, created.checkoutUrl, now, now],
      );
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const raced = await this.db.get<{ checkout_url: string }>(`SELECT checkout_url FROM provider_checkouts WHERE invoice_id = ? AND provider = ?`, [invoiceId, name]);
      if (raced) return { provider: name, checkout_url: raced.checkout_url };
      throw error;
    }
    return { provider: name, checkout_url: created.checkoutUrl };
  }

  /**
   * Closes the provider orders of a cancelled invoice (Binance: order/close; NOWPayments has no
   * such call, its invoice expires on its own), so that the customer cannot pay it there any more.
   * A provider that does not answer is logged: the cancel stands, and a payment made there
   * anyway goes to the merchant's review (applyProvider on an invalid invoice).
   */
  async close(invoiceId: string): Promise<void> {
    const rows = await this.db.all<{ provider: string; reference: string }>(`SELECT provider, reference FROM provider_checkouts WHERE invoice_id = ?`, [invoiceId]);
    for (const row of rows) {
      const adapter = this.adapters.get(row.provider);
      if (!adapter) continue;
      try {
        await adapter.cancel(row.reference);
        await this.db.run(`UPDATE provider_checkouts SET status = 'closed', updated_at = ? WHERE provider = ? AND reference = ?`, [this.invoices.clock(), row.provider, row.reference]);
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        this.log.warn('provider order not closed', { provider: row.provider, invoice: invoiceId, error: error.message });
      }
    }
  }

  /**
   * Takes a notification: verify (signature, window, certificate), find its invoice, refuse a
   * replay, apply once. Every refusal happens before anything is written.
   */
  async notify(name: string, headers: Record<string, string | string[] | undefined>, rawBody: string, baseUrl: string): Promise<unknown> {
    const adapter = this.adapter(name);
    let note;
    try {
      note = await adapter.verify({ headers, rawBody, nowMs: this.clockMs() });
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      this.log.warn('provider notification refused', { provider: name, code, error: (error as Error).message });
      if (error instanceof ProviderError) throw new ApiError('provider_unavailable', error.message);
      if (code === 'unknown_certificate') throw new ApiError('unknown_certificate', (error as Error).message);
      if (SIGNATURE_CODES.has(code)) throw new ApiError('provider_signature_refused', `${name}: ${(error as Error).message}`);
      if (code === 'invalid_provider_payload' || error instanceof SyntaxError) throw new ApiError('invalid_body', `${name}: ${(error as Error).message}`);
      throw error;
    }
    const checkout = await this.db.get<{ invoice_id: string }>(`SELECT invoice_id FROM provider_checkouts WHERE provider = ? AND reference = ?`, [name, note.reference]);
    if (!checkout) throw new ApiError('unknown_provider_reference', `${name}: no checkout ${JSON.stringify(note.reference)} on this server`);
    const seen = await this.db.get(`SELECT outcome FROM provider_notifications WHERE provider = ? AND dedupe_key = ?`, [name, note.dedupeKey]);
    if (seen) throw new ApiError('replayed_notification', `${name}: this notification was already taken`);
    const outcome = await this.invoices.applyProvider(checkout.invoice_id, name, note.status, note.paidUnits, baseUrl);
    const now = this.invoices.clock();
    try {
      await this.db.run(
        `INSERT INTO provider_notifications (provider, dedupe_key, invoice_id, status, outcome, received_at) VALUES (?, ?, ?, ?, ?, ?)`,
        [name, note.dedupeKey, checkout.invoice_id, note.status, outcome, now],
      );
    } catch (error) {
      // Two deliveries of one notification at once: applyProvider took it once under the row lock.
      if (!isUniqueViolation(error)) throw error;
    }
    await this.db.run(`UPDATE provider_checkouts SET status = ?, updated_at = ? WHERE provider = ? AND reference = ?`, [note.status, now, name, note.reference]);
    this.log.info('provider notification', { provider: name, invoice: checkout.invoice_id, status: note.status, outcome });
    return adapter.acknowledgement();
  }
}
