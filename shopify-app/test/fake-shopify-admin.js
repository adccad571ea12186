// A FAKE of what Shopify's admin gives an embedded app's page (Shopify's CDN cannot be reached
// here): the App Bridge script, whose `shopify.idToken()` resolves to the admin session token the
// test made with Shopify's own helpers (or null: no token), and a small stand-in for Polaris web
// components: <s-text-field>, <s-number-field>, <s-text-area>, <s-select>, <s-checkbox>,
// <s-button>, <s-banner>… with the documented properties the page uses (`value`, `checked`,
// `label`, `details`, `tone`, `hidden`, click). They draw plain inputs so that screenshots show
// the page; Polaris's real look only Shopify's admin shows. Served by Playwright's routing in
// place of cdn.shopify.com.
'use strict';
const { APP_BRIDGE_URL, POLARIS_URL } = require('../dist/shopify/page');

const appBridge = (token) => `// FAKE App Bridge (test/fake-shopify-admin.js)
window.shopify = { idToken: async () => ${JSON.stringify(token)} };
`;

const POLARIS = `// FAKE Polaris web components (test/fake-shopify-admin.js). Defined once the document is
// parsed, so that an element is drawn with its children (an <s-select>'s options).
document.addEventListener('DOMContentLoaded', () => {
  const css = document.createElement('style');
  css.textContent = 's-page{display:block;font:14px system-ui;max-width:640px;margin:16px}s-section{display:block;border:1px solid #ccc;border-radius:8px;padding:12px;margin:12px 0}'
    + 's-section::before{content:attr(heading);display:block;font-weight:600;margin-bottom:8px}s-paragraph,s-text{display:block;margin:4px 0;color:#333}'
    + 's-banner{display:block;padding:10px;border-radius:8px;margin:8px 0}s-banner[tone=critical]{background:#fde8e8;color:#8a1010}s-banner[tone=success]{background:#e5f6ea;color:#0c5a22}s-banner[hidden]{display:none}'
    + 's-stack{display:flex;flex-direction:column;gap:6px}s-button{display:inline-block;padding:6px 14px;border-radius:6px;background:#303030;color:#fff;cursor:pointer}'
    + 'label{display:block;margin:4px 0}label span{display:block;font-weight:500}small{color:#666}input,select,textarea{font:inherit;width:100%;box-sizing:border-box}';
  document.head.append(css);
  class Field extends HTMLElement {
    connectedCallback() {
      if (this.control) return;
      const label = document.createElement('label');
      const caption = document.createElement('span');
      caption.textContent = this.getAttribute('label') || '';
      this.control = this.make();
      label.append(caption, this.control);
      if (this.getAttribute('details')) { const d = document.createElement('small'); d.textContent = this.getAttribute('details'); label.append(d); }
      this.append(label);
      if (this.pending !== undefined) this.value = this.pending;
    }
    get value() { return this.control ? this.control.value : (this.pending ?? ''); }
    set value(v) { if (this.control) this.control.value = v; else this.pending = v; }
  }
  const field = (name, make) => customElements.define(name, class extends Field { make() { return make(this); } });
  field('s-text-field', () => document.createElement('input'));
  field('s-number-field', (el) => { const i = document.createElement('input'); i.type = 'number'; i.placeholder = el.getAttribute('placeholder') || ''; return i; });
  field('s-text-area', (el) => { const t = document.createElement('textarea'); t.rows = Number(el.getAttribute('rows') || 2); return t; });
  field('s-select', (el) => {
    const s = document.createElement('select');
    for (const o of el.querySelectorAll('s-option')) { const n = document.createElement('option'); n.value = o.getAttribute('value'); n.textContent = o.textContent; s.append(n); o.hidden = true; }
    return s;
  });
  customElements.define('s-checkbox', class extends HTMLElement {
    connectedCallback() {
      if (this.box) return;
      const label = document.createElement('label');
      this.box = document.createElement('input');
      this.box.type = 'checkbox';
      this.box.checked = this.hasAttribute('checked');
      label.append(this.box, ' ' + (this.getAttribute('label') || ''));
      this.append(label);
    }
    get checked() { return this.box ? this.box.checked : this.hasAttribute('checked'); }
    set checked(v) { if (this.box) this.box.checked = Boolean(v); else this.toggleAttribute('checked', Boolean(v)); }
  });
  customElements.define('s-banner', class extends HTMLElement {
    get tone() { return this.getAttribute('tone'); }
    set tone(v) { this.setAttribute('tone', v); }
  });
});
`;

/** Routes the page's App Bridge and Polaris scripts of `context` to these fakes; `token()` is asked per load. */
async function routeAdmin(context, token) {
  await context.route(APP_BRIDGE_URL, async (route) => route.fulfill({ contentType: 'text/javascript', body: appBridge(await token()) }));
  await context.route(POLARIS_URL, (route) => route.fulfill({ contentType: 'text/javascript', body: POLARIS }));
}

module.exports = { routeAdmin };
