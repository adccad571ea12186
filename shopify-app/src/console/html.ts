// The merchant console's HTML (server-only): the page frame, the small builders the pages use,
// the stylesheet and the one script. Every value reaches the HTML through `h` (escaped); the
// pages load only /console/assets/* (CSP below: no inline script, nothing from elsewhere).
import { escapeHtml } from '../paypage';
import { Lang, word, WordKey } from './i18n';

/** Escapes any value for an HTML text or a quoted attribute. */
export const h = (value: unknown) => escapeHtml(value === null || value === undefined ? '' : String(value));

/** The console's headers: its own scripts and styles only, no framing, never cached. */
export const CONSOLE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export interface Frame {
  lang: Lang;
  title: string;
  /** The signed-in session's CSRF token; null on the sign-in page (no navigation then). */
  csrf: string | null;
  /** `data-live` of the body: an invoice id, `*` for any change, or null for no live updates. */
  live?: string | null;
  /** The path of this page, for the language switch. */
  path: string;
  /** A message shown on top of the page (already a word of the user's language). */
  notice?: string | null;
  /** True on a sandbox server: every page says the money is test money. */
  sandbox?: boolean;
}

const NAV: [string, WordKey][] = [
  ['/console/invoices', 'nav_invoices'],
  ['/console/review', 'nav_review'],
  ['/console/links', 'nav_links'],
  ['/console/export', 'nav_export'],
  ['/console/keys', 'nav_keys'],
  ['/console/doctor', 'nav_doctor'],
];

/** A form that POSTs to `action` with the session's CSRF token. */
export function form(csrf: string, action: string, inner: string, attrs = ''): string {
  return `<form method="post" action="${h(action)}"${attrs ? ' ' + attrs : ''}><input type="hidden" name="csrf" value="${h(csrf)}">${inner}</form>`;
}

/** The whole page around `body`. */
export function page(frame: Frame, body: string): string {
  const t = (k: WordKey) => h(word(frame.lang, k));
  const other = frame.lang === 'en' ? 'zh-CN' : 'en';
  const nav = frame.csrf
    ? `<nav>${NAV.map(([href, key]) => `<a href="${href}"${frame.path.startsWith(href) ? ' aria-current="page"' : ''}>${t(key)}</a>`).join('')}
${form(frame.csrf, '/console/signout', `<button type="submit" class="link">${t('sign_out')}</button>`, 'class="signout"')}</nav>`
    : '';
  return `<!doctype html>
<html lang="${frame.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(frame.title)} · ${t('console')}</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body${frame.live ? ` data-live="${h(frame.live)}"` : ''}>
<header><strong>${t('console')}</strong> <a class="lang" href="/console/lang?to=${other}&amp;back=${encodeURIComponent(frame.path)}" hreflang="${other}">${t('language')}</a></header>
${frame.sandbox ? `<p class="sandbox" role="note">${t('sandbox_banner')}</p>` : ''}
${nav}
<main>
${frame.notice ? `<p class="notice" role="status">${h(frame.notice)}</p>` : ''}
<h1>${h(frame.title)}</h1>
${body}
</main>
</body>
</html>`;
}

/** A table; `rows` are already HTML. On a narrow screen each row becomes a card (the CSS). */
export function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${h(empty)}</p>`;
  return `<div class="table"><table><thead><tr>${headers.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((cell, i) => `<td data-label="${h(headers[i])}">${cell}</td>`).join('')}</tr>`).join('\n')}
</tbody></table></div>`;
}

/** A short form of a long hash or address, whole in its title. */
export const short = (text: string | null) => (text ? `<span class="mono" title="${h(text)}">${h(text.length > 18 ? `${text.slice(0, 10)}…${text.slice(-6)}` : text)}</span>` : '');

/** Unix seconds as `YYYY-MM-DD HH:MM:SS` UTC. */
export const when = (seconds: number | null | undefined) => (seconds ? new Date(Number(seconds) * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC') : '');

export const CONSOLE_CSS = `*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;background:#f6f7f9;color:#111;line-height:1.4}
header{display:flex;justify-content:space-between;align-items:center;padding:.6rem 1rem;background:#123;color:#fff}header a{color:#cde}
nav{display:flex;flex-wrap:wrap;gap:.2rem .9rem;align-items:center;padding:.5rem 1rem;background:#fff;border-bottom:1px solid #ddd}
nav a{color:#124;text-decoration:none;padding:.2rem 0}nav a[aria-current]{font-weight:600;border-bottom:2px solid #124}
nav .signout{margin-left:auto}main{max-width:72rem;margin:0 auto;padding:1rem}h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.table{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e3e3;vertical-align:top}
th{font-size:.85rem;color:#555;font-weight:600}.mono,pre,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:#fff;border:1px solid #ddd;padding:.6rem;overflow-x:auto;max-height:28rem}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.5rem;align-items:end;margin-bottom:1rem}
label{display:flex;flex-direction:column;font-size:.85rem;gap:.2rem}label.check{flex-direction:row;align-items:center;gap:.4rem}
input,select,textarea,button{font:inherit;padding:.4rem .5rem;border:1px solid #bbb;border-radius:4px;max-width:100%}
button{background:#124;color:#fff;border-color:#124;cursor:pointer}button.secondary{background:#fff;color:#124}button.danger{background:#a22;border-color:#a22}
button.link{background:none;border:0;color:#124;text-decoration:underline;padding:0}
.stack{display:flex;flex-direction:column;gap:.6rem;max-width:28rem}.inline{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center}
.sandbox{margin:0;padding:.4rem 1rem;background:#fff3c4;color:#5a4300;font-weight:600;border-bottom:1px solid #e0c060}
.notice{background:#e8f3ea;border:1px solid #9c9;padding:.5rem .8rem}.alert{background:#fbeaea;border:1px solid #d99;padding:.5rem .8rem}
.secret{word-break:break-all;background:#fff8dc;border:1px solid #cb9;padding:.5rem}.empty{color:#666}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;padding:.8rem;border:1px solid #ddd}dt{color:#555}dd{margin:0;word-break:break-all}
.ok{color:#164}.problem{color:#a22}.badge{display:inline-block;padding:0 .4rem;border-radius:3px;background:#e5e8ee;font-size:.85rem}
@media (max-width:640px){main{padding:.6rem}table,thead,tbody,tr,td{display:block}thead{display:none}tr{border:1px solid #ddd;margin-bottom:.6rem;background:#fff}
td{border:0;display:flex;gap:.5rem;justify-content:space-between;word-break:break-all}td::before{content:attr(data-label);color:#555;font-size:.8rem;flex:none}
dl{grid-template-columns:1fr}nav .signout{margin-left:0}}`;

/**
 * The console's script: live updates. A page whose body has data-live listens to
 * /console/events and reloads when its invoice (or, with "*", any invoice) changes, unless the
 * merchant is typing in one of its forms.
 */
export const CONSOLE_JS = `'use strict';
(function () {
  var live = document.body && document.body.getAttribute('data-live');
  if (!live || !window.EventSource) return;
  var source = new EventSource('/console/events');
  var timer = null;
  source.addEventListener('change', function (e) {
    if (live !== '*' && e.data !== live) return;
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active.value) return;
    clearTimeout(timer);
    timer = setTimeout(function () { location.reload(); }, 300);
  });
})();
`;
