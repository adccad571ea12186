// <stablegate-checkout status-url="…">: the customer's side of a Stablegate payment.
//
// It renders the host's status document (tests/vectors/schema/status.schema.json, DESIGN §8) and
// follows it, by server-sent events when the document names them (links.events), else by polling
// at poll_after_ms (0 = stop). It shows; it never decides: every state comes from the host.
// The WebAssembly build of the core (crates/wasm without its `server` feature; the build script
// points 'stablegate-wasm-widget' at its glue) draws the QR code, checks pasted transaction hashes
// and builds wallet calldata. Strings come from i18n/<lang>.json next
// to this module. Nothing is fetched from any origin but the page's own.
//
// Attributes: status-url (required), lang (else the page's, else the browser's), theme
// ("light" | "dark"; default: the system's). Reflected: data-state, data-exception.
// CSS custom properties (--sg-*) theme it; see stablegate-checkout.css.

import init, {
  balanceOfCalldata,
  displayAmount,
  normalizeTxHash,
  paymentUri,
  qrSvg,
  toBaseUnits,
  transferCalldata,
} from 'stablegate-wasm-widget';
import css from './stablegate-checkout.css';

// The build (scripts/build-wasm.sh) replaces this with the names of the files in i18n/.
const LANGUAGES = __SG_LANGUAGES__;
const BASE = import.meta.url;
const MAX_BACKOFF_MS = 30000;

let wasmReady;
const loadWasm = () => (wasmReady ??= init({ module_or_path: new URL('stablegate_wasm_bg.wasm', BASE) }));
const catalogs = new Map();
const loadCatalog = (lang) => {
  if (!catalogs.has(lang)) {
    catalogs.set(lang, fetch(new URL(`i18n/${lang}.json`, BASE)).then((r) => {
      if (!r.ok) throw new Error(`i18n/${lang}.json: HTTP ${r.status}`);
      return r.json();
    }));
  }
  return catalogs.get(lang);
};

/** Picks the best language we ship for a list of BCP 47 tags, in order of preference. */
export function pickLanguage(tags) {
  for (const tag of tags) {
    if (!tag) continue;
    // POSIX locales (zh_CN, as some CMSs print them) mean the same as BCP 47 tags.
    const lower = tag.toLowerCase().replace(/_/g, '-');
    const exact = LANGUAGES.find((l) => l.toLowerCase() === lower);
    if (exact) return exact;
    const base = lower.split('-')[0];
    // zh-TW/zh-HK readers are better served by Simplified Chinese than by English.
    const sameBase = LANGUAGES.find((l) => l.toLowerCase().split('-')[0] === base);
    if (sameBase) return sameBase;
  }
  return 'en';
}

/** Parses a URL from the document against the page's; null when it does not parse. */
const parseUrl = (url) => {
  try {
    return new URL(url, location.href);
  } catch {
    return null;
  }
};
const sameOrigin = (url) => parseUrl(url)?.origin === location.origin;
/** Whether a document asks for a payment now: it has what the QR and the wallets need. */
const payable = (doc) => (doc.state === 'new' || doc.state === 'processing') && Boolean(doc.payment_uri && doc.recipient && doc.token);
/** Only http(s) URLs become links: never javascript:, data: or anything else a document holds. */
const httpUrl = (url) => /^https?:$/.test(parseUrl(url)?.protocol);

/** Creates an element: h('p', {class: 'x'}, 'text', child). Text is always set as text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Reads an EIP-1193 error's code, including MetaMask Mobile's nested one. */
const errorCode = (e) => e?.code ?? e?.data?.originalError?.code;

class WalletError extends Error {
  constructor(key, vars) {
    super(key);
    this.key = key;
    this.vars = vars;
  }
}

export class StablegateCheckout extends HTMLElement {
  static observedAttributes = ['status-url', 'lang'];

  #root;
  #main;
  #live;
  #conn;
  #doc = null;
  #docText = '';
  #strings = null;
  #lang = 'en';
  #formats = null;
  #timer = 0;
  #tick = 0;
  #failures = 0;
  #events = null;
  #eventFailures = 0;
  // Counts #stop calls: a fetch that returns after a stop (hidden, removed, new status-url)
  // belongs to a run that is over, and must neither render nor stream nor schedule.
  #run = 0;
  #ready = false; // the wasm and the strings are loaded
  #connected = false;
  #wallets = new Map();
  #notes = { wallet: null, claim: null, choose: null };
  #busy = false;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    const style = h('style');
    style.textContent = css;
    this.#live = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
    this.#conn = h('p', { class: 'conn', role: 'status', hidden: true });
    this.#main = h('div', { class: 'main', 'aria-busy': 'true' });
    this.#root.append(style, h('div', { class: 'sg', part: 'root' }, this.#live, this.#conn, this.#main));
  }

  connectedCallback() {
    this.#connected = true;
    document.addEventListener('visibilitychange', this.#onVisibility);
    window.addEventListener('eip6963:announceProvider', this.#onAnnounce);
    window.dispatchEvent(new Event('eip6963:requestProvider'));
    this.#start();
  }

  disconnectedCallback() {
    this.#connected = false;
    document.removeEventListener('visibilitychange', this.#onVisibility);
    window.removeEventListener('eip6963:announceProvider', this.#onAnnounce);
    this.#stop();
    clearInterval(this.#tick);
  }

  attributeChangedCallback(name, before, after) {
    if (!this.#connected || before === after) return;
    // A language file that fails to load leaves the current language in place.
    if (name === 'lang') this.#loadStrings().then(() => this.#render(), () => {});
    else {
      this.#doc = null;
      this.#docText = '';
      this.#stop();
      this.#start();
    }
  }

  /** EIP-6963: each wallet that announces itself gets a pay button. */
  #onAnnounce = (event) => {
    const { info, provider } = event.detail || {};
    if (!info?.uuid || !provider?.request) return;
    this.#wallets.set(info.uuid, { name: String(info.name || ''), icon: info.icon, provider });
    if (this.#doc) this.#render();
  };

  /** A hidden tab neither polls nor holds a stream open; it catches up when shown again. */
  #onVisibility = () => {
    if (document.hidden) this.#stop();
    // Shown before the files had loaded (the stop ended that start): start again, not follow.
    else if (!this.#ready) this.#start();
    else if (!this.#finished()) this.#follow();
  };

  get #statusUrl() {
    return this.getAttribute('status-url');
  }

  async #start() {
    const run = this.#run;
    const url = this.#statusUrl;
    if (!url || !sameOrigin(url)) {
      this.#main.textContent = url ? 'stablegate-checkout: status-url must be on this site' : '';
      return;
    }
    this.#main.textContent = '';
    // The document is fetched while the wasm and the strings load, not after.
    const first = this.#fetchDocument();
    first.catch(() => {}); // A failure is handled where #follow awaits it, or dropped with it.
    try {
      await Promise.all([loadWasm(), this.#loadStrings()]);
    } catch {
      if (run !== this.#run) return;
      // Without the wasm or the strings nothing sensible can show; forget them and retry.
      wasmReady = undefined;
      catalogs.clear();
      this.#main.textContent = 'stablegate-checkout: could not load its files';
      this.#failures += 1;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#start(), this.#backoff());
      return;
    }
    if (run !== this.#run) return;
    this.#ready = true;
    this.#main.textContent = this.#t('loading');
    this.#follow(first);
  }

  async #fetchDocument() {
    const response = await fetch(this.#statusUrl, { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.json();
  }

  async #loadStrings() {
    const tags = [this.getAttribute('lang'), this.closest('[lang]')?.getAttribute('lang'), ...(navigator.languages || [navigator.language])];
    const lang = pickLanguage(tags);
    // The build checks that every catalogue has every key of en.json, so no fallback is fetched.
    this.#strings = await loadCatalog(lang);
    this.#lang = lang;
    // Made once per language: building Intl formatters costs more than using them.
    this.#formats = {
      amount: new Intl.NumberFormat(lang, { minimumFractionDigits: 1 }),
      twoDigits: new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false }),
      time: new Intl.DateTimeFormat(lang, { hour: 'numeric', minute: '2-digit' }),
    };
  }

  #t(key, vars = {}) {
    // Keys can come from the document (its exception, a transfer's status): own keys only.
    const text = this.#strings && Object.hasOwn(this.#strings, key) ? this.#strings[key] : key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
  }

  /**
   * Formats a decimal string exactly as a person reads it: the core's display form (at least two
   * decimals, "20.00", every significant digit kept), grouped by the language's rules (no float).
   */
  #amount(decimal) {
    const [whole, fraction] = displayAmount(String(decimal)).split('.');
    const parts = this.#formats.amount.formatToParts(BigInt(whole));
    const separator = parts.find((p) => p.type === 'decimal')?.value ?? '.';
    const grouped = parts.filter((p) => p.type === 'integer' || p.type === 'group').map((p) => p.value).join('');
    return fraction ? grouped + separator + fraction : grouped;
  }

  // ---------------------------------------------------------------- following the document

  #finished() {
    return this.#doc !== null && this.#doc.poll_after_ms === 0;
  }

  #stop() {
    this.#run += 1;
    clearTimeout(this.#timer);
    this.#timer = 0;
    if (this.#events) {
      this.#events.close();
      this.#events = null;
    }
  }

  #schedule(ms) {
    clearTimeout(this.#timer);
    if (!this.#connected || document.hidden) return;
    this.#timer = setTimeout(() => this.#follow(), ms);
  }

  /** Exponential backoff with jitter: between half and all of min(30 s, 1 s × 2^failures). */
  #backoff() {
    const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.#failures, 5));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** Fetches the document (or takes `pending`, already under way), then streams or schedules the next poll. */
  async #follow(pending) {
    if (!this.#connected || document.hidden) return;
    if (this.#events) return;
    const run = this.#run;
    try {
      const doc = await (pending ?? this.#fetchDocument());
      if (run !== this.#run) return;
      this.#accept(doc);
      this.#failures = 0;
      this.#conn.hidden = true;
    } catch {
      if (run !== this.#run) return;
      this.#failures += 1;
      this.#conn.textContent = this.#t(this.#doc ? 'reconnecting' : 'load_failed');
      this.#conn.hidden = false;
      this.#schedule(this.#backoff());
      return;
    }
    const doc = this.#doc;
    if (doc.poll_after_ms === 0) return;
    const events = doc.links?.events;
    // Another #follow (a tab shown again, a choice made) may have opened the stream meanwhile.
    if (this.#events) return;
    if (events && sameOrigin(events) && this.#eventFailures < 3 && typeof EventSource === 'function') {
      this.#stream(events);
    } else {
      // ±10 % jitter so that many open checkouts do not poll in step.
      this.#schedule(doc.poll_after_ms * (0.9 + Math.random() * 0.2));
    }
  }

  #stream(url) {
    const source = new EventSource(url);
    this.#events = source;
    const onDocument = (event) => {
      try {
        this.#accept(JSON.parse(event.data));
      } catch {
        return;
      }
      this.#eventFailures = 0;
      this.#conn.hidden = true;
      if (this.#finished()) this.#stop();
    };
    source.addEventListener('status', onDocument);
    source.addEventListener('message', onDocument);
    source.addEventListener('open', () => {
      this.#conn.hidden = true;
    });
    source.addEventListener('error', () => {
      // EventSource reconnects by itself; after three failures in a row, poll instead.
      this.#eventFailures += 1;
      this.#conn.textContent = this.#t('reconnecting');
      this.#conn.hidden = false;
      if (this.#eventFailures >= 3 || source.readyState === EventSource.CLOSED) {
        source.close();
        this.#events = null;
        this.#schedule(this.#backoff());
      }
    });
  }

  #accept(doc) {
    if (!doc || typeof doc.state !== 'string' || !doc.links) throw new Error('not a status document');
    const text = JSON.stringify(doc);
    if (text === this.#docText) return;
    const before = this.#doc;
    // A wallet's note belongs to the state it was written in, unless a wallet flow is still under
    // way (it writes the note for the new state itself).
    if (before && before.state !== doc.state && !this.#busy) this.#notes.wallet = null;
    this.#doc = doc;
    this.#docText = text;
    this.dataset.state = doc.state;
    if (doc.exception) this.dataset.exception = doc.exception;
    else delete this.dataset.exception;
    this.#render();
    if (!before || before.state !== doc.state || before.exception !== doc.exception || before.finality?.seen !== doc.finality?.seen) {
      this.#announce(this.#headline(doc));
    }
    this.dispatchEvent(new CustomEvent('stablegate:status', { detail: doc, bubbles: true }));
  }

  #announce(text) {
    // Clearing first makes screen readers announce a repeated message too.
    this.#live.textContent = '';
    setTimeout(() => {
      this.#live.textContent = text;
    }, 50);
  }

  // ---------------------------------------------------------------- rendering

  #symbol(doc) {
    return doc.token?.symbol ?? doc.choices?.[0]?.symbol ?? 'USDT';
  }

  #networkName(names) {
    return names?.[this.#lang] ?? names?.en ?? '';
  }

  #headline(doc) {
    const symbol = this.#symbol(doc);
    const vars = {
      symbol,
      paid: this.#amount(doc.amount_paid),
      due: this.#amount(doc.amount_due),
      remaining: this.#amount(doc.amount_remaining),
    };
    if (doc.exception) return this.#t(doc.exception, vars);
    if (doc.state === 'processing' && doc.finality) {
      return `${this.#t('state_processing')} ${this.#t('finality', doc.finality)}`;
    }
    if (doc.state === 'new' && !doc.network && doc.choices?.length) return this.#t('choose_heading');
    return this.#t(`state_${doc.state}`, vars);
  }

  #render() {
    const doc = this.#doc;
    if (!doc || !this.#strings) return;
    // Keep focus and a half-typed hash across re-renders.
    const active = this.#root.activeElement?.dataset?.key;
    const typed = this.#root.querySelector('input[name="tx_hash"]')?.value ?? '';
    const open = this.#root.querySelector('details')?.open ?? false;
    clearInterval(this.#tick);
    this.#main.removeAttribute('aria-busy');
    const symbol = this.#symbol(doc);
    const asking = payable(doc);
    const state = doc.exception || doc.state;
    const tone = { settled: 'ok', paid_over: 'ok', processing: 'info', new: 'info' }[state] ?? 'warn';
    const sections = [h('h2', { class: 'title' }, this.#t('title')), h('p', { class: `status ${tone}`, id: 'sg-status' }, this.#headline(doc))];

    if (doc.state === 'new' && !doc.network && doc.choices?.length) sections.push(this.#choices(doc));
    if (doc.state === 'processing' && doc.finality) {
      sections.push(h('progress', { max: String(doc.finality.required), value: String(Math.min(doc.finality.seen, doc.finality.required)), 'aria-label': this.#t('finality', doc.finality) }));
    }
    if (asking) sections.push(...this.#payment(doc, symbol));
    // A wallet's last word stays while the payment is under way, after its section has gone
    // ("sent", or that nothing was sent because a payment arrived meanwhile).
    else if (doc.state === 'processing') sections.push(this.#note('wallet'));
    if (doc.state === 'settled' && doc.return_url && httpUrl(doc.return_url)) {
      sections.push(h('a', { class: 'button primary', href: doc.return_url, 'data-key': 'return' }, this.#t('return')));
    }
    if (doc.state === 'expired' && doc.links.new_invoice && sameOrigin(doc.links.new_invoice)) {
      sections.push(h('a', { class: 'button primary', href: doc.links.new_invoice, 'data-key': 'new_invoice' }, this.#t('new_invoice')));
    }
    if (doc.transfers?.length) sections.push(this.#transfers(doc, symbol));
    if (doc.links.claim && doc.network && sameOrigin(doc.links.claim) && doc.state !== 'settled' && doc.state !== 'invalid') {
      sections.push(this.#claim(doc, typed, open));
    }
    this.#main.replaceChildren(...sections.filter(Boolean));
    if (active) this.#root.querySelector(`[data-key="${CSS.escape(active)}"]`)?.focus();
    if (asking) this.#countdown(doc);
  }

  #note(which) {
    const note = this.#notes[which];
    return note ? h('p', { class: `note ${note.tone}`, role: note.tone === 'bad' ? 'alert' : null }, note.text) : null;
  }

  #setNote(which, tone, text) {
    this.#notes[which] = text ? { tone, text } : null;
    this.#render();
    if (text && tone !== 'bad') this.#announce(text);
  }

  #choices(doc) {
    const list = h('div', { class: 'choices', role: 'group', 'aria-labelledby': 'sg-status' });
    for (const choice of doc.choices) {
      const key = `choose:${choice.network}:${choice.token}`;
      list.append(h('button', { type: 'button', class: 'choice', 'data-key': key, disabled: this.#busy || !doc.links.choose, onclick: () => this.#choose(choice) },
        this.#t('choose_option', { network: this.#networkName(choice.names), amount: this.#amount(choice.amount), symbol: choice.symbol })));
    }
    return h('section', {}, h('p', { class: 'muted' }, this.#t('choose_hint', { symbol: this.#symbol(doc) })), list, this.#note('choose'));
  }

  async #choose(choice) {
    const problem = await this.#post(this.#doc.links.choose, { network: choice.network, token: choice.token });
    this.#setNote('choose', 'bad', problem);
    if (!problem) this.#follow();
  }

  /**
   * The customer's sentence for a host's error code: what happened and what to do next, in the
   * customer's language. Never the host's message: it is English, and may name internals.
   */
  #errorText(code) {
    const key = `error_${code}`;
    return this.#t(typeof code === 'string' && Object.hasOwn(this.#strings, key) ? key : 'error_generic');
  }

  /** POSTs JSON to a link of the document; renders the document it answers with. Returns the customer's sentence for a failure, or null. */
  async #post(url, body) {
    if (!url || !sameOrigin(url)) return this.#errorText(null);
    this.#busy = true;
    this.#render();
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin' });
      const answer = await response.json().catch(() => null);
      // The Node server answers {error: {code}}; WordPress's REST API {code: "stablegate_<code>"}.
      const code = answer?.error?.code ?? String(answer?.code ?? '').replace(/^stablegate_/, '');
      if (!response.ok) return this.#errorText(code || (response.status === 429 ? 'rate_limited' : null));
      if (answer?.state && answer.links) this.#accept(answer);
      return null;
    } catch {
      return this.#t('error_offline');
    } finally {
      this.#busy = false;
      this.#render();
    }
  }

  #row(label, value, copyText, key) {
    const button = h('button', { type: 'button', class: 'copy', 'data-key': `copy:${key}`, 'aria-label': this.#t('copy_label', { what: label.toLowerCase() }), onclick: () => this.#copy(copyText, label) }, this.#t('copy'));
    return h('div', { class: `row ${key}` }, h('dt', {}, label), h('dd', {}, h('span', { class: 'value', 'data-field': key }, value), button));
  }

  async #copy(text, label) {
    try {
      await navigator.clipboard.writeText(text);
      this.#announce(this.#t('copied', { what: label }));
    } catch {
      this.#announce(this.#t('copy_failed'));
    }
  }

  #payment(doc, symbol) {
    const amount = this.#amount(doc.amount_remaining);
    const network = this.#networkName(doc.network_names);
    const recipient = doc.recipient;
    // The first and last characters are what poisoned look-alike addresses get wrong: emphasise them.
    const head = recipient.startsWith('0x') ? 6 : 5;
    const shown = h('span', { class: 'address' }, h('b', {}, recipient.slice(0, head)), recipient.slice(head, -5), h('b', {}, recipient.slice(-5)));
    let qr;
    try {
      // The QR must pay what is shown: the core rebuilds the request from the recipient, amount
      // and token, and a document whose payment_uri differs gets no QR.
      if (paymentUri({ network: doc.network, token: doc.token.id, recipient, amount: doc.amount_remaining }) !== doc.payment_uri) {
        qr = h('p', { class: 'warning', role: 'alert' }, this.#t('qr_mismatch'));
      } else {
        qr = h('div', { class: 'qr', role: 'img', 'aria-label': this.#t('qr_label', { amount, symbol, address: recipient }) });
        // qrSvg returns fixed markup built from module coordinates only (no text from the document).
        qr.innerHTML = qrSvg(doc.payment_uri);
      }
    } catch {
      qr = null;
    }
    const details = h('dl', { class: 'details' },
      this.#row(this.#t('amount'), h('span', {}, h('strong', { class: 'big' }, amount), ` ${symbol}`), doc.amount_remaining, 'amount'),
      this.#row(this.#t('address'), shown, recipient, 'address'),
      this.#row(this.#t('network'), network, network, 'network'),
      this.#row(this.#t('contract'), h('span', { class: 'mono' }, doc.token.contract), doc.token.contract, 'contract'));
    const timer = h('p', { class: 'timer', 'data-timer': '' });
    return [
      h('div', { class: 'pay' }, qr, h('div', { class: 'facts' }, details, timer)),
      this.#uniqueAmount(doc, amount, symbol),
      h('p', { class: 'advice' }, this.#t('exact_amount', { amount, symbol })),
      h('p', { class: 'warning' }, this.#t('network_warning', { symbol, network }), doc.token.official ? '' : ` ${this.#t('unofficial', { symbol })}`),
      this.#walletButtons(doc, symbol),
      this.#note('wallet'),
    ];
  }

  /**
   * One sentence on why the amount to pay differs from the order's total (the rate, and the
   * unique last digits that tell this payment from every other), where the host gives the total
   * and the two differ. Only for the first payment: a remainder is explained by its own headline.
   */
  #uniqueAmount(doc, amount, symbol) {
    const total = doc.order_total;
    if (!total?.amount || !total.currency || doc.exception === 'paid_partial') return null;
    let shown;
    try {
      shown = this.#amount(total.amount);
    } catch {
      return null;
    }
    if (total.currency === symbol && shown === amount) return null;
    return h('p', { class: 'explain', 'data-field': 'unique' }, this.#t('unique_amount', { total: `${shown} ${total.currency}`, amount, symbol }));
  }

  #countdown(doc) {
    const timer = this.#root.querySelector('[data-timer]');
    const end = Date.parse(doc.expires_at);
    const number = this.#formats.twoDigits;
    const when = this.#formats.time.format(end);
    const update = () => {
      const left = Math.max(0, Math.floor((end - Date.now()) / 1000));
      if (left === 0) {
        timer.textContent = this.#t('time_up');
        clearInterval(this.#tick);
        return;
      }
      const hours = Math.floor(left / 3600);
      const clock = `${hours ? `${hours}:` : ''}${number.format(Math.floor((left % 3600) / 60))}:${number.format(left % 60)}`;
      timer.textContent = `${this.#t('time_left', { time: clock })} · ${this.#t('pay_by', { time: when })}`;
    };
    update();
    this.#tick = setInterval(update, 1000);
  }

  #transfers(doc, symbol) {
    const list = h('ul', { class: 'transfers' });
    for (const transfer of doc.transfers) {
      const short = `${transfer.tx.slice(0, 10)}…${transfer.tx.slice(-6)}`;
      const link = transfer.explorer_url && httpUrl(transfer.explorer_url)
        ? h('a', { href: transfer.explorer_url, target: '_blank', rel: 'noopener noreferrer' }, this.#t('explorer', { tx: short }))
        : h('span', { class: 'mono' }, short);
      list.append(h('li', {}, h('strong', {}, `${this.#amount(transfer.amount)} ${symbol}`), ` · ${this.#t(`transfer_${transfer.status}`)} · `, link));
    }
    return h('section', {}, h('h3', {}, this.#t('transfers')), list);
  }

  #claim(doc, typed, open) {
    const input = h('input', { name: 'tx_hash', id: 'sg-tx', 'data-key': 'tx_hash', autocomplete: 'off', spellcheck: 'false', class: 'mono', 'aria-describedby': 'sg-claim-note' });
    input.value = typed;
    const form = h('form', { class: 'claim', onsubmit: (e) => { e.preventDefault(); this.#submitClaim(input.value); } },
      h('label', { for: 'sg-tx' }, this.#t('claim_label')), input,
      h('button', { type: 'submit', 'data-key': 'claim', disabled: this.#busy }, this.#t('claim_submit')));
    const note = this.#note('claim');
    if (note) note.id = 'sg-claim-note';
    return h('details', { open: open || !!this.#notes.claim }, h('summary', { 'data-key': 'claim_summary' }, this.#t('claim_summary')), form, note);
  }

  async #submitClaim(text) {
    let txHash;
    try {
      txHash = normalizeTxHash(this.#doc.network, text.trim());
    } catch {
      this.#setNote('claim', 'bad', this.#t('claim_invalid'));
      return;
    }
    const problem = await this.#post(this.#doc.links.claim, { tx_hash: txHash });
    if (problem) this.#setNote('claim', 'bad', problem);
    else this.#setNote('claim', 'ok', this.#t('claim_sent'));
  }

  // ---------------------------------------------------------------- wallets

  #walletButtons(doc, symbol) {
    const buttons = [];
    if (doc.recipient.startsWith('0x')) {
      const found = [...this.#wallets.values()];
      if (!found.length && window.ethereum?.request) found.push({ name: '', provider: window.ethereum });
      for (const wallet of found) {
        const name = wallet.name || this.#t('wallet_generic');
        const icon = typeof wallet.icon === 'string' && wallet.icon.startsWith('data:image/') ? h('img', { src: wallet.icon, alt: '', width: '20', height: '20' }) : null;
        buttons.push(h('button', { type: 'button', class: 'button primary wallet', 'data-key': `wallet:${name}`, disabled: this.#busy, onclick: () => this.#payEvm(wallet.provider, symbol) }, icon, this.#t('wallet_pay', { wallet: name })));
      }
    } else if (window.tron?.request || window.tronLink?.request) {
      buttons.push(h('button', { type: 'button', class: 'button primary wallet', 'data-key': 'wallet:tronlink', disabled: this.#busy, onclick: () => this.#payTron(symbol) }, this.#t('wallet_pay', { wallet: 'TronLink' })));
    }
    return buttons.length ? h('div', { class: 'wallets' }, buttons) : null;
  }

  /**
   * Runs a wallet payment: `connect` asks for the account and returns {balance(), send(units)};
   * then the balance is checked before anything is sent. Errors become one sentence.
   */
  async #pay(symbol, connect) {
    const doc = this.#doc;
    this.#busy = true;
    this.#setNote('wallet', 'info', this.#t('wallet_waiting'));
    try {
      const wallet = await connect(doc);
      const balance = await wallet.balance();
      // The customer may take minutes in the wallet, and the document follows the chain meanwhile:
      // pay what is left now (a payment may have arrived), and nothing once the invoice is no
      // longer open or asks for another recipient, token or network.
      const now = this.#doc;
      if (!payable(now) || now.network !== doc.network || now.recipient !== doc.recipient || now.token.contract !== doc.token.contract) {
        throw new WalletError('wallet_not_open');
      }
      const units = toBaseUnits(now.network, now.amount_remaining, now.token.id);
      if (balance < BigInt(units)) {
        throw new WalletError('wallet_low_balance', { amount: this.#amount(now.amount_remaining), symbol });
      }
      await wallet.send(units);
      this.#busy = false;
      this.#setNote('wallet', 'ok', this.#t('wallet_sent'));
      this.#follow();
    } catch (e) {
      this.#busy = false;
      this.#setNote('wallet', 'bad', this.#walletMessage(e));
    }
  }

  #payEvm(provider, symbol) {
    return this.#pay(symbol, async (doc) => {
      const network = this.#networkName(doc.network_names);
      const request = (method, params) => provider.request({ method, params });
      const [from] = await request('eth_requestAccounts');
      const chainId = `0x${doc.chain_id.toString(16)}`;
      const onChain = async () => Number(await request('eth_chainId')) === doc.chain_id;
      if (!(await onChain())) {
        try {
          await request('wallet_switchEthereumChain', [{ chainId }]);
        } catch (e) {
          if (errorCode(e) === 4001) throw e;
          // 4902 (unknown chain) and the -32603 some wallets send instead: we cannot add the chain
          // for them (no public RPC URL is ours to pick), so say which network is needed.
          throw new WalletError('wallet_wrong_chain', { network });
        }
        // Some wallets answer the switch without switching, or the customer switches back: the
        // transaction goes to the wallet's chain, so check it again rather than send elsewhere.
        if (!(await onChain())) throw new WalletError('wallet_wrong_chain', { network });
      }
      return {
        balance: async () => {
          const word = await request('eth_call', [{ to: doc.token.contract, data: balanceOfCalldata(doc.network, from) }, 'latest']);
          // "0x" (no contract there on the wallet's chain) or anything else that is not a uint256.
          if (typeof word !== 'string' || !/^0x[0-9a-f]{1,64}$/i.test(word)) throw new WalletError('wallet_no_balance', { symbol, network });
          return BigInt(word);
        },
        send: (units) => request('eth_sendTransaction', [{ from, to: doc.token.contract, data: transferCalldata(doc.network, doc.recipient, units), value: '0x0' }]),
      };
    });
  }

  #payTron(symbol) {
    return this.#pay(symbol, async (doc) => {
      // TIP-1102 first (window.tron), then TronLink's own request; both answer with the account.
      let accounts;
      if (window.tron?.request) accounts = await window.tron.request({ method: 'eth_requestAccounts' });
      else {
        const answer = await window.tronLink.request({ method: 'tron_requestAccounts' });
        if (answer?.code === 4001) throw { code: 4001 };
        if (answer?.code === 4000) throw { code: -32002 };
      }
      const tronWeb = window.tron?.tronWeb || window.tronLink?.tronWeb;
      // A locked TronLink answers without an account (defaultAddress.base58 is false until login).
      const from = accounts?.[0] || tronWeb?.defaultAddress?.base58;
      if (!from || !tronWeb) throw new WalletError('wallet_locked', { wallet: 'TronLink' });
      const contract = await tronWeb.contract().at(doc.token.contract);
      return {
        balance: async () => BigInt((await contract.balanceOf(from).call()).toString()),
        // TRON USDT's transfer returns false even on success: the host judges by the chain, not this.
        send: (units) => contract.transfer(doc.recipient, units).send({ feeLimit: 100_000_000 }),
      };
    });
  }

  #walletMessage(e) {
    if (e instanceof WalletError) return this.#t(e.key, e.vars);
    const code = errorCode(e);
    if (code === 4001 || code === 4100) return this.#t('wallet_rejected');
    if (code === -32002) return this.#t('wallet_pending');
    const text = String(e?.message ?? e ?? '');
    if (/insufficient funds/i.test(text)) return this.#t('wallet_no_gas');
    // The wallet's own text is in its language and may be a code: the customer gets ours.
    return this.#t('wallet_failed');
  }
}

if (!customElements.get('stablegate-checkout')) {
  // Start the wasm download now, before any element upgrades: pages load this module only to
  // show the element, and the QR waits for nothing else.
  loadWasm().catch(() => {});
  customElements.define('stablegate-checkout', StablegateCheckout);
}
