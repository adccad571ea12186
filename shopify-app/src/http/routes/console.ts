// The merchant console under /console/ (issue 15): pages the server renders for a merchant who
// signs in with the admin password. Each handler checks the session (and on a POST the form's
// CSRF token) before anything else, then calls the same service the API calls (invoices,
// webhooks, doctor, apikeys) and renders the answer; no payment rule is decided here.
// Not Stablegate's API: served beside it, not listed in the OpenAPI document.
import http = require('node:http');
import { createApiKey, ENV_KEY_NAME, revokeApiKey } from '../../apikeys';
import type { Config } from '../../config';
import * as auth from '../../console/auth';
import { csvOfSettled } from '../../console/export';
import { CONSOLE_CSS, CONSOLE_HEADERS, CONSOLE_JS, Frame, form, h, page, short, table, when } from '../../console/html';
import { codeWord, Lang, pickLang, word, WordKey } from '../../console/i18n';
import sg = require('../../core');
import { PaymentLinks } from '../../console/links';
import { searchInvoices, SearchFilters } from '../../console/queries';
import { createTestInvoice, TEST_AMOUNT } from '../../testinvoice';
import type { Db } from '../../db';
import { doctor } from '../../doctor';
import { ApiError } from '../../errors';
import type { Invoices, InvoiceRow } from '../../invoices';
import type { Logger } from '../../log';
import type { Notifier } from '../../notify';
import { clientAddress, clientKey, RateLimiter } from '../../ratelimit';
import { network as registryNetwork } from '../../registry';
import type { Watcher } from '../../watcher';
import type { Webhooks } from '../../webhooks';
import { Asset, Ctx, httpError, readBody, Route } from '../router';

interface ConsoleServices {
  config: Config;
  db: Db;
  invoices: Invoices;
  watcher: Watcher;
  webhooks: Webhooks;
  notifier: Notifier | null;
  clock: () => number;
  log: Logger;
}

/** Sign-in attempts allowed per minute: per client address, and in all (a botnet's many addresses). */
export const SIGNIN_PER_CLIENT_PER_MINUTE = 5;
export const SIGNIN_PER_MINUTE = 30;

const LANG_COOKIE = 'sg_lang';
const STATES = ['new', 'processing', 'settled', 'expired', 'invalid'];
const EXCEPTIONS = ['paid_partial', 'paid_over', 'paid_late', 'needs_review'];

/** Something a console page refuses, as a page in the user's language with this status. */
class Refusal extends Error {
  constructor(readonly status: number, readonly key: WordKey) {
    super(key);
  }
}

interface Request {
  ctx: Ctx;
  lang: Lang;
  cookies: Record<string, string>;
  secure: boolean;
  session: auth.Session | null;
  form: URLSearchParams;
}

/** Reads an application/x-www-form-urlencoded body of at most 64 KB. */
const readForm = async (req: http.IncomingMessage) => new URLSearchParams(await readBody(req));

function send(ctx: Ctx, status: number, html: string, headers: Record<string, string | string[]> = {}) {
  ctx.res.writeHead(status, { ...CONSOLE_HEADERS, ...headers });
  ctx.res.end(html);
}

function redirect(ctx: Ctx, location: string, headers: Record<string, string | string[]> = {}) {
  ctx.res.writeHead(303, { location, 'cache-control': 'no-store', ...headers });
  ctx.res.end();
}

/** A path to go back to after a switch of language: only one of the console's own. */
const safeBack = (back: string | null) => (back && /^\/console\/[A-Za-z0-9/_.-]*$/.test(back) ? back : '/console/invoices');

export function consoleRoutes(services: ConsoleServices): { routes: Route[]; assets: Asset[] } {
  const { config, db, invoices, webhooks, watcher, notifier, clock, log } = services;
  const perClient = new RateLimiter(db, 'console-signin-client', SIGNIN_PER_CLIENT_PER_MINUTE);
  const perServer = new RateLimiter(db, 'console-signin', SIGNIN_PER_MINUTE);
  const links = new PaymentLinks(db, invoices);
  const wall = () => Math.floor(Date.now() / 1000);

  const refusalPage = (r: Request, status: number, message: string) => {
    const back = r.session ? `<p><a href="/console/invoices">${h(word(r.lang, 'back'))}</a></p>` : `<p><a href="/console/signin">${h(word(r.lang, 'sign_in'))}</a></p>`;
    send(r.ctx, status, page({ lang: r.lang, title: word(r.lang, 'error'), csrf: r.session?.csrf ?? null, path: '/console/', notice: null }, `<p class="alert" role="alert">${h(message)}</p>${back}`));
  };

  /**
   * A console route: `signedIn` routes refuse a request without a live session (a page sends the
   * browser to the sign-in page; a form is answered 401), and every POST needs the form's CSRF
   * token to be its session's (or, on the sign-in form, the pre-sign-in cookie's).
   */
  function route(method: 'GET' | 'POST', path: string, signedIn: boolean, handler: (r: Request) => Promise<void>): Route {
    return {
      method,
      path,
      auth: 'public',
      handler: async (ctx) => {
        const cookies = auth.readCookies(ctx.req);
        const lang = pickLang(ctx.req, cookies[LANG_COOKIE]);
        const secure = auth.overHttps(ctx.req, config.publicUrl, config.claims.trustedProxies);
        const session = await auth.findSession(db, cookies[auth.SESSION_COOKIE], wall());
        const r: Request = { ctx, lang, cookies, secure, session, form: new URLSearchParams() };
        try {
          if (signedIn && !session) {
            if (method === 'GET') return redirect(ctx, '/console/signin');
            throw new Refusal(401, 'signed_out_refused');
          }
          if (method === 'POST') {
            r.form = await readForm(ctx.req);
            const expected = signedIn ? session?.csrf : cookies[auth.PRE_COOKIE];
            if (!auth.sameToken(r.form.get('csrf') ?? undefined, expected)) throw new Refusal(403, 'csrf_refused');
          }
          await handler(r);
        } catch (error) {
          if (ctx.res.headersSent) throw error;
          if (error instanceof Refusal) return refusalPage(r, error.status, word(lang, error.key));
          const answer = httpError(error);
          if (!answer) throw error;
          // The merchant reads the service's own sentence (it names the field and the problem).
          refusalPage(r, answer.status, answer.message);
        }
      },
    };
  }

  const frame = (r: Request, title: WordKey, path: string, extra: Partial<Frame> = {}): Frame => ({
    lang: r.lang,
    title: word(r.lang, title),
    csrf: r.session?.csrf ?? null,
    path,
    notice: r.ctx.query.get('done') === '1' ? word(r.lang, 'done') : null,
    sandbox: config.sandbox,
    ...extra,
  });
  const t = (r: Request, key: WordKey, values?: Record<string, string | number>) => h(word(r.lang, key, values));
  const explorer = (networkId: string, tx: string) => {
    const template = registryNetwork(networkId)?.explorer_tx;
    return template ? `<a href="${h(template.replace('{tx}', tx))}" rel="noreferrer" target="_blank">${short(tx)}</a>` : short(tx);
  };
  const signInPage = (r: Request, status: number, notice: WordKey | null) => {
    const pre = auth.randomToken();
    const body = `${notice ? `<p class="alert" role="alert">${t(r, notice)}</p>` : ''}
<form method="post" action="/console/signin" class="stack"><input type="hidden" name="csrf" value="${h(pre)}">
<label>${t(r, 'password')}<input type="password" name="password" autocomplete="current-password" required autofocus></label>
<label>${t(r, 'totp_code')}<input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"></label>
<button type="submit">${t(r, 'sign_in')}</button></form>`;
    send(r.ctx, status, page({ lang: r.lang, title: word(r.lang, 'sign_in'), csrf: null, path: '/console/signin' }, body), {
      'set-cookie': auth.cookieHeader(auth.PRE_COOKIE, pre, r.secure, 3600),
    });
  };
  /** A state (and exception) as badges: the word for the merchant, the code in data-* for scripts and tests. */
  const badges = (r: Request, state: string, exception: string | null, ids = false) =>
    `<span class="badge" data-state="${h(state)}"${ids ? ' id="state"' : ''}>${h(codeWord(r.lang, 'state', state))}</span>${
      exception ? ` <span class="badge problem" data-exception="${h(exception)}"${ids ? ' id="exception"' : ''}>${h(codeWord(r.lang, 'exception', exception))}</span>` : ''
    }`;
  /** A decimal amount as people read it ("44.00"), through the core. */
  const amount = (decimal: string) => h(sg.displayAmount(decimal));
  const invoiceLink = (id: string) => `<a href="/console/invoices/${h(id)}" class="mono">${h(id)}</a>`;

  const routes: Route[] = [
    route('GET', '/console', false, async (r) => redirect(r.ctx, r.session ? '/console/invoices' : '/console/signin')),
    route('GET', '/console/', false, async (r) => redirect(r.ctx, r.session ? '/console/invoices' : '/console/signin')),
    route('GET', '/console/lang', false, async (r) => {
      const to = r.ctx.query.get('to') === 'zh-CN' ? 'zh-CN' : 'en';
      redirect(r.ctx, safeBack(r.ctx.query.get('back')), { 'set-cookie': auth.cookieHeader(LANG_COOKIE, to, r.secure, 365 * 86400) });
    }),

    // ---------------------------------------------------------------- sign-in
    route('GET', '/console/signin', false, async (r) => {
      if (r.session) return redirect(r.ctx, '/console/invoices');
      signInPage(r, 200, (await auth.getAdmin(db)) ? null : 'no_password');
    }),
    route('POST', '/console/signin', false, async (r) => {
      // Limited before the password is even hashed: a guess costs the guesser a slot, always.
      const client = clientKey(clientAddress(r.ctx.req.socket.remoteAddress, r.ctx.req.headers['x-forwarded-for'], config.claims.trustedProxies));
      const wait = Math.max(await perClient.take(client), await perServer.take('all'));
      if (wait > 0) {
        log.warn('console sign-in rate-limited', { client });
        return signInPage(r, 429, 'signin_limited');
      }
      const admin = await auth.getAdmin(db);
      if (!admin) return signInPage(r, 403, 'no_password');
      const passwordOk = await auth.verifyPassword(r.form.get('password') ?? '', admin.password_hash);
      const codeOk = admin.totp_secret === null || auth.verifyTotp(admin.totp_secret, r.form.get('code') ?? '', wall());
      if (!passwordOk || !codeOk) {
        log.warn('console sign-in failed', { client });
        return signInPage(r, 401, 'signin_failed');
      }
      // A new id whatever the browser brought (no session fixation); the old session, if any, ends.
      await auth.closeSession(db, r.cookies[auth.SESSION_COOKIE]);
      const { cookie } = await auth.openSession(db, wall());
      log.info('console signed in', { client });
      redirect(r.ctx, '/console/invoices', {
        'set-cookie': [auth.cookieHeader(auth.SESSION_COOKIE, cookie, r.secure, auth.SESSION_SECONDS), auth.cookieHeader(auth.PRE_COOKIE, '', r.secure, 0)],
      });
    }),
    route('POST', '/console/signout', true, async (r) => {
      await auth.closeSession(db, r.cookies[auth.SESSION_COOKIE]);
      redirect(r.ctx, '/console/signin', { 'set-cookie': auth.cookieHeader(auth.SESSION_COOKIE, '', r.secure, 0) });
    }),

    // ---------------------------------------------------------------- invoices
    route('GET', '/console/invoices', true, async (r) => {
      const q = r.ctx.query;
      const filters: SearchFilters = {
        state: STATES.includes(q.get('state') ?? '') ? (q.get('state') as string) : undefined,
        exception: EXCEPTIONS.includes(q.get('exception') ?? '') ? (q.get('exception') as string) : undefined,
        network: config.networks.some((n) => n.id === q.get('network')) ? (q.get('network') as string) : undefined,
        from: q.get('from') || undefined,
        to: q.get('to') || undefined,
        orderId: q.get('order_id') || undefined,
        search: q.get('q')?.trim() || undefined,
      };
      const limit = 100;
      const rows = await searchInvoices(invoices, filters, limit);
      const now = clock();
      const select = (name: string, values: string[], current: string | undefined) =>
        `<label>${t(r, name === 'state' ? 'state' : name === 'exception' ? 'exception' : 'network')}<select name="${name}"><option value="">${t(r, 'any')}</option>${values
          .map((v) => `<option value="${h(v)}"${v === current ? ' selected' : ''}>${h(name === 'network' ? v : codeWord(r.lang, name as 'state' | 'exception', v))}</option>`)
          .join('')}</select></label>`;
      const filterForm = `<form method="get" class="filters" action="/console/invoices">
${select('state', STATES, filters.state)}${select('exception', EXCEPTIONS, filters.exception)}${select('network', config.networks.map((n) => n.id), filters.network)}
<label>${t(r, 'from_date')}<input type="date" name="from" value="${h(filters.from)}"></label><label>${t(r, 'to_date')}<input type="date" name="to" value="${h(filters.to)}"></label>
<label>${t(r, 'order_id')}<input name="order_id" value="${h(filters.orderId)}"></label><label>${t(r, 'search')}<input name="q" value="${h(filters.search)}"></label>
<button type="submit">${t(r, 'filter')}</button></form>`;
      const body = table(
        [word(r.lang, 'invoice'), word(r.lang, 'order_id'), word(r.lang, 'state'), word(r.lang, 'network'), word(r.lang, 'amount_due'), word(r.lang, 'amount_paid'), word(r.lang, 'created')],
        rows.map((row) => {
          const v = invoices.view(row, now, null);
          return [invoiceLink(v.id), h(v.order_id), badges(r, v.state, v.exception), h(v.network ?? '—'), amount(v.amount_due), amount(v.amount_paid), h(when(row.created_at))];
        }),
        word(r.lang, 'no_invoices'),
      );
      const more = rows.length === limit ? `<p class="empty">${t(r, 'first_rows', { n: limit })}</p>` : '';
      // A live test on a mainnet must be deliberate: outside the sandbox the form asks for a tick.
      const liveBox = config.sandbox ? '' : `<label><input type="checkbox" name="live" value="1"> ${t(r, 'test_invoice_live')}</label>`;
      const testForm = form(
        r.session!.csrf,
        '/console/test-invoice',
        `<p class="empty">${t(r, 'test_invoice_help', { amount: TEST_AMOUNT })}</p>${liveBox}<button type="submit">${t(r, 'test_invoice')}</button>`,
        'class="test-invoice"',
      );
      send(r.ctx, 200, page(frame(r, 'nav_invoices', '/console/invoices', { live: '*' }), `${testForm}${filterForm}<p class="empty">${t(r, 'live')}</p>${body}${more}`));
    }),
    route('POST', '/console/test-invoice', true, async (r) => {
      // The production path (Invoices.create), so the merchant sees what an order produces.
      const made = await createTestInvoice(invoices, config, { live: r.form.get('live') === '1' }, 'console:test-invoice', invoices.publicUrl);
      redirect(r.ctx, `/pay/${encodeURIComponent(made.id)}`);
    }),
    route('GET', '/console/invoices/{id}', true, async (r) => {
      const row = await invoices.require(r.ctx.params.id);
      send(r.ctx, 200, page(frame(r, 'invoice', `/console/invoices/${row.id}`, { live: row.id, title: `${word(r.lang, 'invoice')} ${row.order_id ?? row.id}` }), await invoicePage(r, row)));
    }),
    route('POST', '/console/invoices/{id}/resolve', true, async (r) => {
      const decision = r.form.get('decision');
      // The API's own path: the core decides, an event and its webhook announce the decision.
      await invoices.resolveReview(r.ctx.params.id, { decision, note: r.form.get('note') ?? '' }, invoices.publicUrl);
      redirect(r.ctx, `/console/invoices/${encodeURIComponent(r.ctx.params.id)}?done=1`);
    }),
    route('POST', '/console/invoices/{id}/cancel', true, async (r) => {
      await invoices.cancel(r.ctx.params.id, invoices.publicUrl);
      redirect(r.ctx, `/console/invoices/${encodeURIComponent(r.ctx.params.id)}?done=1`);
    }),

    // ---------------------------------------------------------------- review queue
    route('GET', '/console/review', true, async (r) => {
      const csrf = r.session!.csrf;
      const waiting = await db.all<InvoiceRow>(`SELECT * FROM invoices WHERE exception = 'needs_review' ORDER BY updated_at DESC LIMIT 200`);
      const now = clock();
      const reviewRows = waiting.map((row) => {
        const v = invoices.view(row, now, null);
        return [invoiceLink(v.id), h(v.order_id), h(v.network), amount(v.amount_due), amount(v.amount_paid), resolveForm(r, csrf, v.id)];
      });
      const unmatched = await invoices.unmatched(200);
      const unmatchedRows = unmatched.map((u) => [
        h(u.network),
        explorer(u.network, u.tx_hash),
        short(u.from),
        amount(u.amount),
        h(u.note),
        form(csrf, '/console/transfers/attach',
          `<input type="hidden" name="network" value="${h(u.network)}"><input type="hidden" name="tx_hash" value="${h(u.tx_hash)}">
<input name="invoice" placeholder="inv_…" aria-label="${t(r, 'invoice_id')}" required pattern="inv_[\\w\\-]{22}"><button type="submit">${t(r, 'attach')}</button>`, 'class="inline"'),
      ]);
      const dead = await webhooks.deadLetters();
      const deadRows = dead.map((d) => [
        h(d.event_id),
        h(d.endpoint),
        h(d.attempts),
        h(d.last_error),
        form(csrf, `/console/deliveries/${encodeURIComponent(d.id)}/resend`, `<button type="submit">${t(r, 'resend')}</button>`),
      ]);
      const body = `<h2>${t(r, 'review_queue')}</h2>
${table([word(r.lang, 'invoice'), word(r.lang, 'order_id'), word(r.lang, 'network'), word(r.lang, 'amount_due'), word(r.lang, 'amount_paid'), word(r.lang, 'review')], reviewRows, word(r.lang, 'nothing_to_review'))}
<h2>${t(r, 'unmatched')}</h2>
${table([word(r.lang, 'network'), word(r.lang, 'tx_hash'), word(r.lang, 'sender'), word(r.lang, 'amount'), word(r.lang, 'note'), word(r.lang, 'attach')], unmatchedRows, word(r.lang, 'no_unmatched'))}
<h2>${t(r, 'dead_letters')}</h2>
${table([word(r.lang, 'event_type'), word(r.lang, 'endpoint'), word(r.lang, 'attempts'), word(r.lang, 'last_error'), word(r.lang, 'resend')], deadRows, word(r.lang, 'no_dead_letters'))}
<p><a href="/console/doctor">${t(r, 'doctor_findings')}</a></p>`;
      send(r.ctx, 200, page(frame(r, 'nav_review', '/console/review', { live: '*' }), body));
    }),
    route('POST', '/console/transfers/attach', true, async (r) => {
      const id = (r.form.get('invoice') ?? '').trim();
      // Attaching is the claim path the customer's "I paid" uses: the server fetches the
      // transaction itself and the core judges it (a claim the merchant cannot own may go to review).
      await invoices.claim(id, { tx_hash: r.form.get('tx_hash') ?? '' }, (network, tx) => watcher.transfersOf(network, tx), invoices.publicUrl);
      redirect(r.ctx, `/console/invoices/${encodeURIComponent(id)}?done=1`);
    }),
    route('POST', '/console/deliveries/{id}/resend', true, async (r) => {
      await webhooks.resend(r.ctx.params.id);
      redirect(r.ctx, '/console/review?done=1');
    }),
    route('GET', '/console/doctor', true, async (r) => {
      const findings = await doctor(config);
      const body = `<p>${t(r, 'doctor_intro')}</p><ul class="findings">${findings
        .map((f) => `<li class="${f.ok ? 'ok' : 'problem'}"><strong>${t(r, f.ok ? 'ok' : 'problem')}</strong> ${h(f.message)}</li>`)
        .join('')}</ul>`;
      const channels = [config.notifications?.telegram ? 'Telegram' : null, config.notifications?.email ? 'e-mail' : null].filter(Boolean).join(', ');
      const notifications = `<h2>${t(r, 'notifications')}</h2>${
        notifier ? `<p>${h(channels)}</p>${form(r.session!.csrf, '/console/notifications/test', `<button type="submit" class="secondary">${t(r, 'send_test')}</button>`)}` : `<p>${t(r, 'notifications_off')}</p>`
      }`;
      send(r.ctx, 200, page(frame(r, 'doctor_findings', '/console/doctor'), body + notifications));
    }),
    route('POST', '/console/notifications/test', true, async (r) => {
      if (!notifier) throw new Refusal(404, 'notifications_off');
      await notifier.test().catch((error: Error) => {
        throw new ApiError('notification_failed', error.message);
      });
      redirect(r.ctx, '/console/doctor?done=1');
    }),

    // ---------------------------------------------------------------- payment links
    route('GET', '/console/links', true, async (r) => {
      const csrf = r.session!.csrf;
      const all = await links.list();
      const rows = all.map((l) => [
        h(l.title),
        l.amount ? amount(l.amount) : `${amount(l.min_amount as string)} – ${amount(l.max_amount as string)}`,
        h(word(r.lang, Number(l.reusable) ? 'reusable_short' : 'single_use')),
        Number(l.active) ? `<a href="/l/${h(l.id)}" class="mono">${h(`${invoices.publicUrl}/l/${l.id}`)}</a>` : `<span class="badge">${t(r, 'disabled')}</span>`,
        Number(l.active) ? form(csrf, `/console/links/${encodeURIComponent(l.id)}/disable`, `<button type="submit" class="secondary">${t(r, 'disable')}</button>`) : '',
      ]);
      const create = form(csrf, '/console/links',
        `<label>${t(r, 'link_title')}<input name="title" required maxlength="200"></label>
<label>${t(r, 'fixed_amount')}<input name="amount" inputmode="decimal" placeholder="19.99"></label>
<div class="inline"><label>${t(r, 'min_amount')}<input name="min_amount" inputmode="decimal"></label><label>${t(r, 'max_amount')}<input name="max_amount" inputmode="decimal"></label></div>
<label class="check"><input type="checkbox" name="reusable" value="1"> ${t(r, 'reusable')}</label>
<label>${t(r, 'redirect')}<input name="redirect_url" type="url" maxlength="2000"></label>
<button type="submit">${t(r, 'create_link')}</button>`, 'class="stack"');
      const body = `${table([word(r.lang, 'link_title'), word(r.lang, 'amount'), word(r.lang, 'kind'), word(r.lang, 'link_url'), ''], rows, word(r.lang, 'no_links'))}<h2>${t(r, 'create_link')}</h2>${create}`;
      send(r.ctx, 200, page(frame(r, 'links', '/console/links'), body));
    }),
    route('POST', '/console/links', true, async (r) => {
      await links.create({
        title: r.form.get('title') ?? '',
        amount: r.form.get('amount') || null,
        min_amount: r.form.get('min_amount') || null,
        max_amount: r.form.get('max_amount') || null,
        reusable: r.form.get('reusable') === '1',
        redirect_url: r.form.get('redirect_url') || null,
      });
      redirect(r.ctx, '/console/links?done=1');
    }),
    route('POST', '/console/links/{id}/disable', true, async (r) => {
      await links.disable(r.ctx.params.id);
      redirect(r.ctx, '/console/links?done=1');
    }),

    // ---------------------------------------------------------------- export
    route('GET', '/console/export', true, async (r) => {
      const today = new Date(wall() * 1000).toISOString().slice(0, 10);
      const body = `<p>${t(r, 'export_intro')}</p><form method="get" action="/console/export.csv" class="stack">
<label>${t(r, 'from_date')}<input type="date" name="from" value="${h(today.slice(0, 8) + '01')}" required></label>
<label>${t(r, 'to_date')}<input type="date" name="to" value="${h(today)}" required></label>
<button type="submit">${t(r, 'download')}</button></form>`;
      send(r.ctx, 200, page(frame(r, 'export_title', '/console/export'), body));
    }),
    route('GET', '/console/export.csv', true, async (r) => {
      const from = r.ctx.query.get('from') ?? '';
      const to = r.ctx.query.get('to') ?? '';
      const csv = await csvOfSettled(invoices, from, to);
      r.ctx.res.writeHead(200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="stablegate-settled-${from}-${to}.csv"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      r.ctx.res.end(csv);
    }),

    // ---------------------------------------------------------------- API keys
    route('GET', '/console/keys', true, async (r) => send(r.ctx, 200, page(frame(r, 'keys', '/console/keys'), await keysPage(r, null)))),
    route('POST', '/console/keys', true, async (r) => {
      const name = (r.form.get('name') ?? '').trim();
      if (name === '' || name.length > 100) throw new ApiError('invalid_name', 'name: must be 1 to 100 characters', 'name');
      if (name === ENV_KEY_NAME) throw new ApiError('invalid_name', `name: "${ENV_KEY_NAME}" is the name of the keys from api_keys_env; choose another`, 'name');
      const made = await createApiKey(db, name);
      log.info('API key created in the console', { key: made.id });
      // Shown in this answer only (never stored, never in a URL): the page is not cached.
      send(r.ctx, 200, page(frame(r, 'keys', '/console/keys'), await keysPage(r, made)));
    }),
    route('POST', '/console/keys/{id}/revoke', true, async (r) => {
      if (!(await revokeApiKey(db, r.ctx.params.id))) throw new ApiError('key_not_found', 'no live API key has this id', 'id');
      log.info('API key revoked in the console', { key: r.ctx.params.id });
      redirect(r.ctx, '/console/keys?done=1');
    }),

    // ---------------------------------------------------------------- live updates
    route('GET', '/console/events', true, async (r) => {
      const { req, res } = r.ctx;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      // Every change of any invoice, from this process or (through NOTIFY) another one.
      const onChange = (id: string) => res.write(`event: change\ndata: ${id}\n\n`);
      invoices.changes.on('change', onChange);
      const timer = setInterval(() => res.write(': keep-alive\n\n'), 15000);
      const close = () => {
        clearInterval(timer);
        invoices.changes.off('change', onChange);
      };
      req.on('close', close);
      res.on('close', close);
      res.write(': connected\n\n');
    }),

    // ---------------------------------------------------------------- the customer's side of a link
    {
      method: 'GET',
      path: '/l/{id}',
      auth: 'public',
      handler: async (ctx) => links.servePage(ctx, pickLang(ctx.req, auth.readCookies(ctx.req)[LANG_COOKIE]), null),
    },
    {
      method: 'POST',
      path: '/l/{id}',
      auth: 'public',
      handler: async (ctx) => links.startPayment(ctx, pickLang(ctx.req, auth.readCookies(ctx.req)[LANG_COOKIE]), await readForm(ctx.req)),
    },
  ];

  function resolveForm(r: Request, csrf: string, id: string): string {
    return form(csrf, `/console/invoices/${encodeURIComponent(id)}/resolve`,
      `<label>${t(r, 'note')}<input name="note" required maxlength="1000"></label>
<div class="inline"><button type="submit" name="decision" value="accept">${t(r, 'approve')}</button><button type="submit" name="decision" value="reject" class="danger">${t(r, 'reject')}</button></div>`, 'class="stack"');
  }

  async function invoicePage(r: Request, row: InvoiceRow): Promise<string> {
    const csrf = r.session!.csrf;
    const v = invoices.view(row, clock(), null);
    const ledger = await db.all<{ network: string; tx_hash: string; log_index: number; sender: string; amount: string; token: string; block_number: number; block_time: number; status: string; matched_by: string | null; note: string | null }>(
      `SELECT * FROM ledger WHERE invoice_id = ? ORDER BY block_number, log_index`,
      [row.id],
    );
    const byTx = new Map(v.transfers.map((tr) => [`${tr.tx_hash}#${tr.log_index}`, tr]));
    const events = await db.all<{ id: string; type: string; created_at: number }>(`SELECT id, type, created_at FROM events WHERE invoice_id = ? ORDER BY created_at, id`, [row.id]);
    const deliveries = await db.all<{ id: string; event_id: string; endpoint: string; status: string; attempts: number; last_error: string | null; last_status: number | null; updated_at: number }>(
      `SELECT d.* FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE e.invoice_id = ? ORDER BY d.created_at, d.id`,
      [row.id],
    );
    const summary = `<dl>
<dt>${t(r, 'invoice')}</dt><dd class="mono">${h(v.id)}</dd>
<dt>${t(r, 'order_id')}</dt><dd>${h(v.order_id ?? '—')}</dd>
<dt>${t(r, 'state')}</dt><dd>${badges(r, v.state, v.exception, true)}</dd>
<dt>${t(r, 'network')}</dt><dd>${h(v.network ?? '—')} ${h(v.token ?? '')}</dd>
<dt>${t(r, 'amount_due')}</dt><dd>${amount(v.amount_due)} USDT${v.fiat_amount ? ` (${h(v.fiat_amount)} ${h(v.currency)} @ ${h(v.rate)})` : ''}</dd>
<dt>${t(r, 'amount_paid')}</dt><dd>${amount(v.amount_paid)} USDT</dd>
<dt>${t(r, 'created')}</dt><dd>${h(when(row.created_at))}</dd>
<dt>${t(r, 'pay_page')}</dt><dd><a href="/pay/${h(v.id)}">/pay/${h(v.id)}</a></dd>
</dl>`;
    const review = v.exception === 'needs_review' ? `<h2>${t(r, 'review')}</h2><p class="alert">${t(r, 'review_needed')}</p>${resolveForm(r, csrf, v.id)}` : '';
    const cancel = v.state === 'new' && v.amount_paid === '0'
      ? form(csrf, `/console/invoices/${encodeURIComponent(v.id)}/cancel`, `<button type="submit" class="secondary">${t(r, 'cancel_invoice')}</button>`)
      : '';
    const ledgerTable = table(
      [word(r.lang, 'tx_hash'), word(r.lang, 'sender'), word(r.lang, 'amount'), word(r.lang, 'block'), word(r.lang, 'status'), word(r.lang, 'matched')],
      ledger.map((e) => {
        const tr = byTx.get(`${e.tx_hash}#${e.log_index}`);
        return [explorer(e.network, e.tx_hash), short(e.sender), tr ? amount(tr.amount) : amount(sg.formatAmount(e.network, e.amount, e.token)), `${h(e.block_number)}<br>${h(when(e.block_time))}`, h(codeWord(r.lang, 'entry', tr?.status ?? e.status)),
          h([e.matched_by ? codeWord(r.lang, 'matched', e.matched_by) : null, tr?.review ? codeWord(r.lang, 'exception', 'needs_review') : null].filter(Boolean).join(' · '))];
      }),
      '—',
    );
    const eventTable = table([word(r.lang, 'event_type'), word(r.lang, 'created')], events.map((e) => [`<span class="mono">${h(e.type)}</span>`, h(when(e.created_at))]), '—');
    const hookTable = table(
      [word(r.lang, 'event_type'), word(r.lang, 'endpoint'), word(r.lang, 'status'), word(r.lang, 'attempts'), word(r.lang, 'last_error'), ''],
      deliveries.map((d) => [
        `<span class="mono">${h(events.find((e) => e.id === d.event_id)?.type ?? d.event_id)}</span>`,
        h(d.endpoint),
        `<span class="badge delivery-${h(d.status)}">${h(codeWord(r.lang, 'delivery', d.status))}${d.last_status ? ` (HTTP ${h(d.last_status)})` : ''}</span>`,
        h(d.attempts),
        h(d.last_error),
        d.status === 'dead' ? form(csrf, `/console/deliveries/${encodeURIComponent(d.id)}/resend`, `<button type="submit">${t(r, 'resend')}</button>`) : '',
      ]),
      '—',
    );
    const doc = JSON.stringify(invoices.statusDocument(row, invoices.publicUrl), null, 2);
    return `${summary}${review}${cancel}
<h2>${t(r, 'ledger')}</h2>${ledgerTable}
<h2>${t(r, 'events')}</h2>${eventTable}
<h2>${t(r, 'webhooks')}</h2>${hookTable}
<h2>${t(r, 'status_document')}</h2><pre>${h(doc)}</pre>`;
  }

  async function keysPage(r: Request, made: { id: string; key: string } | null): Promise<string> {
    const csrf = r.session!.csrf;
    const keys = await db.all<{ id: string; name: string; created_at: number; revoked: number }>(`SELECT id, name, created_at, revoked FROM api_keys ORDER BY created_at DESC, id`);
    const shown = made ? `<p>${t(r, 'key_created')}</p><p class="secret mono" id="new-key">${h(made.key)}</p>` : '';
    const rows = keys.map((k) => [
      `<span class="mono">${h(k.id)}</span>`,
      h(k.name),
      h(when(k.created_at)),
      Number(k.revoked) ? `<span class="badge">${t(r, 'revoked')}</span>` : form(csrf, `/console/keys/${encodeURIComponent(k.id)}/revoke`, `<button type="submit" class="danger">${t(r, 'revoke')}</button>`),
    ]);
    return `${shown}${table(['id', word(r.lang, 'key_name'), word(r.lang, 'created'), ''], rows, word(r.lang, 'no_keys'))}
<h2>${t(r, 'create_key')}</h2>${form(csrf, '/console/keys', `<label>${t(r, 'key_name')}<input name="name" required maxlength="100"></label><button type="submit">${t(r, 'create_key')}</button>`, 'class="inline"')}`;
  }

  const assets: Asset[] = [
    {
      path: '/console/assets/console.css',
      serve: (res) => {
        res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(CONSOLE_CSS);
      },
    },
    {
      path: '/console/assets/console.js',
      serve: (res) => {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
        res.end(CONSOLE_JS);
      },
    },
  ];
  return { routes, assets };
}
