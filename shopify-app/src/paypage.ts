// The hosted pay page: a title, the <stablegate-checkout> widget pointed at the invoice's status
// document, and in demo mode a button that pays from the devnet's demo wallet. Every value put
// into the HTML goes through escapeHtml; the page loads only its own scripts (see PAY_PAGE_HEADERS).
import type { InvoiceRow } from './invoices';

/** Escapes the five characters that can end an HTML text or quoted attribute. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The widget's lines in <head>: the module, and a preload of its wasm so that the download (and,
 * with application/wasm, the streaming compilation) starts with the module's instead of after it
 * has run. `as="fetch"` with `crossorigin` matches the request the module makes (CORS mode,
 * same-origin credentials), so the browser uses the preloaded response instead of fetching twice.
 * The language file is not preloaded: the customer's browser picks it. Nor is the status
 * document: the widget fetches it with `cache: 'no-store'`, which a preload cannot serve.
 */
export const WIDGET_HEAD = `<link rel="preload" href="/widget/stablegate_wasm_bg.wasm" as="fetch" type="application/wasm" crossorigin>
<script type="module" src="/widget/stablegate-checkout.js"></script>`;

/** The providers' names as customers know them. */
const PROVIDER_NAMES: Record<string, string> = { binance: 'Binance Pay', nowpayments: 'NOWPayments' };

/**
 * The HTML of the pay page of `row`; without the widget's build it links the status document.
 * `providers`: the hosted providers offered (issue 16); `unavailable`: one that did not answer.
 */
/** What the pay page shows besides the invoice's widget. */
export interface PayPageOptions {
  /** Demo mode: the devnet's demo wallet can pay. */
  demo: boolean;
  /** The widget's build is on this server. */
  widgetPresent: boolean;
  /** The hosted providers offered (issue 16), and the one that did not answer, if any. */
  providers?: string[];
  unavailable?: string | null;
  /** A sandbox server (issue 18): the page says the money is test money. */
  sandbox?: boolean;
}

export function payPage(row: InvoiceRow, statusUrl: string, { demo, widgetPresent, providers = [], unavailable = null, sandbox = false }: PayPageOptions): string {
  // The customer's words: their order, never the invoice's internal id.
  const title = row.order_id ? `Pay for order ${row.order_id}` : 'Pay with USDT';
  // No lang on <html>: the widget then speaks the customer's browser language (en, zh-CN); only
  // the page's own heading is English.
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/pay.css">
${widgetPresent ? WIDGET_HEAD : ''}
</head>
<body>
<main>
${sandbox ? '<p class="sandbox" role="note" lang="en">Sandbox: this invoice is paid on a test network with test money, worth nothing.</p>' : ''}
<h1 lang="en">${escapeHtml(title)}</h1>
${
  widgetPresent
    ? `<stablegate-checkout status-url="${escapeHtml(statusUrl)}"></stablegate-checkout>`
    : `<p class="missing">The checkout widget is not built on this server (crates/wasm/pkg/widget is missing). Status: <a href="${escapeHtml(statusUrl)}">${escapeHtml(statusUrl)}</a></p>`
}
${
  // Hosted providers (issue 16): a plain form each, posting to this server, which creates the
  // provider's order and redirects there. No cookie or session is involved, so there is no
  // ambient authority for a cross-site form to abuse. The direct payment above stays available.
  providers.length > 0
    ? `<section class="providers"><p>Or pay through a provider:</p>${providers
        .map(
          (p) =>
            `<form method="post" action="/pay/${escapeHtml(encodeURIComponent(row.id))}/provider/${escapeHtml(p)}"><button type="submit">${escapeHtml(PROVIDER_NAMES[p] ?? p)}</button></form>`,
        )
        .join('')}${
        unavailable
          ? `<p class="provider-unavailable" role="status">${escapeHtml(PROVIDER_NAMES[unavailable] ?? 'The provider')} is not answering right now; you can still pay directly above.</p>`
          : ''
      }</section>`
    : ''
}
${
  demo
    ? `<section class="demo"><p>Demo mode: the devnet's unlocked demo wallet can pay this invoice for you.</p>
<button type="button" id="demo-pay" data-invoice="${escapeHtml(row.id)}">Pay from the demo wallet</button>
<p id="demo-result" role="status"></p>
<script type="module" src="/assets/demo-wallet.js"></script></section>`
    : ''
}
</main>
</body>
</html>`;
}

/**
 * The pay page's headers: scripts only from this server (the widget compiles its wasm, hence
 * 'wasm-unsafe-eval'), inline styles for the widget's shadow DOM, and no framing.
 */
export const PAY_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

/** The pay page's stylesheet, served at /assets/pay.css. */
export const PAY_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#111}main{max-width:34rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.2rem}.demo{margin-top:1.5rem;padding:1rem;border:1px dashed #999;border-radius:8px}button{font:inherit;padding:.5rem 1rem}
input{font:inherit;padding:.5rem;width:100%;max-width:20rem;box-sizing:border-box;margin-top:.3rem}.amount{font-size:1.4rem}
.sandbox{background:#fff3c4;color:#5a4300;padding:.5rem .8rem;border:1px solid #e0c060;border-radius:6px;font-weight:600}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}}`;

/** The demo button's script, served at /assets/demo-wallet.js in demo mode only. */
export const DEMO_WALLET_JS = `// Demo mode only: asks the server to pay this invoice from the devnet's demo wallet.
const button = document.getElementById('demo-pay');
const result = document.getElementById('demo-result');
button.addEventListener('click', async () => {
  button.disabled = true;
  result.textContent = 'Sending…';
  const response = await fetch('/demo/pay/' + encodeURIComponent(button.dataset.invoice), { method: 'POST' });
  const body = await response.json();
  result.textContent = response.ok ? 'Sent: ' + body.tx_hash : 'Failed: ' + body.error.message;
  button.disabled = response.ok;
});
`;
