// Payment links (server-only): a merchant without a shop makes a link in the console, for a fixed
// amount or an amount the customer types within limits, single-use or reusable, with a title and
// a redirect. The customer's visit makes an invoice through Invoices.create (the API's own path,
// the same checks) and goes on to the existing pay page. A single-use link keeps its one invoice:
// while that is open the link leads back to it, once it settled the link says it is paid, and
// only an invoice that expired or was cancelled unpaid is replaced by a new one.
import crypto = require('node:crypto');
import sg = require('../core');
import { DECIMAL } from '../config';
import type { Db } from '../db';
import { ApiError, invalid } from '../errors';
import { Ctx } from '../http/router';
import type { Invoices } from '../invoices';
import { PAY_PAGE_HEADERS } from '../paypage';
import { clientAddress, clientKey, RateLimiter } from '../ratelimit';
import { h } from './html';
import { Lang, word } from './i18n';
import { randomToken, readCookies, sameToken, cookieHeader, overHttps } from './auth';

export interface PaymentLink {
  id: string;
  title: string;
  amount: string | null;
  min_amount: string | null;
  max_amount: string | null;
  reusable: number;
  redirect_url: string | null;
  current_invoice: string | null;
  active: number;
  created_at: number;
}

export interface LinkInput {
  title: string;
  amount: string | null;
  min_amount: string | null;
  max_amount: string | null;
  reusable: boolean;
  redirect_url: string | null;
}

/** The customer's form's CSRF cookie (double submit: the customer has no session). */
const LINK_COOKIE = 'sg_link_csrf';
/** Invoices a client may start from links per minute. */
const STARTS_PER_CLIENT_PER_MINUTE = 20;

export class PaymentLinks {
  private readonly starts: RateLimiter;

  constructor(
    private readonly db: Db,
    private readonly invoices: Invoices,
  ) {
    this.starts = new RateLimiter(db, 'link-start-client', STARTS_PER_CLIENT_PER_MINUTE);
  }

  /** Base units of `amount` on the first accepted network: what limits are compared in. */
  private units(amount: string): bigint {
    const first = this.invoices.allChoices()[0];
    return BigInt(sg.toBaseUnits(first.network, amount, first.token));
  }

  /** Checks `input` completely (amounts as an invoice's, through Invoices.validateCreate), then stores the link. */
  async create(input: LinkInput): Promise<PaymentLink> {
    const title = input.title.trim();
    if (title === '' || title.length > 200) throw invalid('title', 'must be 1 to 200 characters');
    const redirect = input.redirect_url ? { redirect_url: input.redirect_url } : {};
    if (input.amount !== null) {
      if (input.min_amount !== null || input.max_amount !== null) throw invalid('amount', 'give a fixed amount or a minimum and maximum, not both');
      await this.invoices.validateCreate({ amount: input.amount, ...redirect });
    } else {
      if (input.min_amount === null || input.max_amount === null) throw invalid('amount', 'give a fixed amount, or both a minimum and a maximum');
      for (const [field, value] of [['min_amount', input.min_amount], ['max_amount', input.max_amount]] as const) {
        try {
          await this.invoices.validateCreate({ amount: value, ...redirect });
        } catch (error) {
          throw invalid(field, (error as Error).message.replace(/^amount: /, ''));
        }
      }
      if (this.units(input.min_amount) > this.units(input.max_amount)) throw invalid('max_amount', 'must not be less than the minimum');
    }
    const link: PaymentLink = {
      id: `pl_${crypto.randomBytes(12).toString('base64url')}`,
      title,
      amount: input.amount,
      min_amount: input.min_amount,
      max_amount: input.max_amount,
      reusable: input.reusable ? 1 : 0,
      redirect_url: input.redirect_url,
      current_invoice: null,
      active: 1,
      created_at: Math.floor(Date.now() / 1000),
    };
    await this.db.run(
      `INSERT INTO payment_links (id, title, amount, min_amount, max_amount, reusable, redirect_url, current_invoice, active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 1, ?)`,
      [link.id, link.title, link.amount, link.min_amount, link.max_amount, link.reusable, link.redirect_url, link.created_at],
    );
    return link;
  }

  list(): Promise<PaymentLink[]> {
    return this.db.all<PaymentLink>(`SELECT * FROM payment_links ORDER BY created_at DESC, id`);
  }

  async get(id: string): Promise<PaymentLink | undefined> {
    return this.db.get<PaymentLink>(`SELECT * FROM payment_links WHERE id = ?`, [id]);
  }

  async disable(id: string): Promise<void> {
    if ((await this.db.run(`UPDATE payment_links SET active = 0 WHERE id = ? AND active = 1`, [id])) !== 1) {
      throw new ApiError('link_not_found', 'no active payment link has this id', 'id');
    }
  }

  /** The customer's page of link `id`: its title, and the amount or a field to type it in. */
  async servePage(ctx: Ctx, lang: Lang, problem: string | null, status = 200): Promise<void> {
    const link = await this.get(ctx.params.id);
    const t = (k: Parameters<typeof word>[1], v?: Record<string, string>) => h(word(lang, k, v));
    let body: string;
    const csrf = randomToken();
    if (!link || !Number(link.active)) {
      status = 404;
      body = `<h1>${t('pay_title')}</h1><p>${t('link_gone')}</p>`;
    } else if (!Number(link.reusable) && (await this.currentState(link)) === 'settled') {
      status = 410;
      body = `<h1>${h(link.title)}</h1><p>${t('link_paid')}</p>`;
    } else {
      const field = link.amount
        ? `<p class="amount"><strong>${h(sg.displayAmount(link.amount))} USDT</strong></p>`
        : `<p><label>${t('pay_amount', { min: sg.displayAmount(link.min_amount as string), max: sg.displayAmount(link.max_amount as string) })}<br><input name="amount" inputmode="decimal" required></label></p>`;
      body = `<h1>${h(link.title)}</h1>${problem ? `<p role="alert">${h(problem)}</p>` : ''}
<form method="post" action="/l/${h(link.id)}"><input type="hidden" name="csrf" value="${h(csrf)}">${field}<button type="submit">${t('pay_continue')}</button></form>`;
    }
    const secure = overHttps(ctx.req, this.invoices.config.publicUrl, this.invoices.config.claims.trustedProxies);
    ctx.res.writeHead(status, { ...PAY_PAGE_HEADERS, 'set-cookie': cookieHeader(LINK_COOKIE, csrf, secure, 3600) });
    ctx.res.end(`<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(link?.title ?? word(lang, 'pay_title'))}</title><link rel="stylesheet" href="/assets/pay.css"></head>
<body><main>${body}</main></body></html>`);
  }

  /** The state of a single-use link's invoice, or null when it has none. */
  private async currentState(link: PaymentLink): Promise<string | null> {
    if (!link.current_invoice) return null;
    const row = await this.invoices.get(link.current_invoice);
    return row ? this.invoices.view(row, this.invoices.clock(), null).state : null;
  }

  /** The customer's "continue": makes the invoice (or finds a single-use link's open one) and goes to its pay page. */
  async startPayment(ctx: Ctx, lang: Lang, form: URLSearchParams): Promise<void> {
    if (!sameToken(form.get('csrf') ?? undefined, readCookies(ctx.req)[LINK_COOKIE])) {
      return this.servePage(ctx, lang, word(lang, 'link_reload'), 403);
    }
    const config = this.invoices.config;
    const wait = await this.starts.take(clientKey(clientAddress(ctx.req.socket.remoteAddress, ctx.req.headers['x-forwarded-for'], config.claims.trustedProxies)));
    if (wait > 0) throw new ApiError('rate_limited', `too many payments started; try again in ${wait} s`, undefined, wait);
    const link = await this.get(ctx.params.id);
    if (!link || !Number(link.active)) return this.servePage(ctx, lang, null);
    let amount = link.amount;
    if (amount === null) {
      const typed = (form.get('amount') ?? '').trim();
      let within = false;
      try {
        if (!DECIMAL.test(typed)) throw new Error('not a decimal');
        const units = this.units(typed);
        within = units >= this.units(link.min_amount as string) && units <= this.units(link.max_amount as string);
      } catch {
        within = false;
      }
      if (!within) {
        const limits = { min: sg.displayAmount(link.min_amount as string), max: sg.displayAmount(link.max_amount as string) };
        return this.servePage(ctx, lang, word(lang, 'amount_out_of_range', limits), 422);
      }
      amount = typed;
    }
    if (!Number(link.reusable)) {
      const state = await this.currentState(link);
      if (state === 'settled') return this.servePage(ctx, lang, null);
      if (state === 'new' || state === 'processing') return this.goPay(ctx, link.current_invoice as string);
    }
    const created = await this.invoices.create(
      { amount, metadata: { payment_link: link.id }, ...(link.redirect_url ? { redirect_url: link.redirect_url } : {}) },
      `link:${link.id}`,
      null,
      this.invoices.publicUrl,
    );
    const id = (created.body as { id: string }).id;
    if (!Number(link.reusable)) {
      // Only over the invoice this request saw: a concurrent start that won keeps its invoice.
      const n = link.current_invoice === null
        ? await this.db.run(`UPDATE payment_links SET current_invoice = ? WHERE id = ? AND current_invoice IS NULL`, [id, link.id])
        : await this.db.run(`UPDATE payment_links SET current_invoice = ? WHERE id = ? AND current_invoice = ?`, [id, link.id, link.current_invoice]);
      if (n !== 1) {
        await this.invoices.cancel(id, this.invoices.publicUrl).catch(() => undefined);
        const winner = await this.get(link.id);
        return this.goPay(ctx, winner?.current_invoice ?? id);
      }
    }
    this.goPay(ctx, id);
  }

  private goPay(ctx: Ctx, invoiceId: string): void {
    ctx.res.writeHead(303, { location: `/pay/${invoiceId}`, 'cache-control': 'no-store' });
    ctx.res.end();
  }
}
