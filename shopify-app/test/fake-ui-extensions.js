// A FAKE of what Shopify gives a checkout / customer-account UI extension at run time (Shopify's
// extension host cannot run here), shaped after @shopify/ui-extensions' documented API: the
// `shopify` global with `sessionToken.get()`, `extension.target`, `settings`, `i18n`, and per
// target `orderConfirmation` + `checkoutToken` + `selectedPaymentOptions` (purchase.thank-you.block.render) or
// `order` (customer-account.order-status.block.render), each a signal (`value`, `subscribe`);
// `setSignals(Signal)` turns them into @preact/signals signals as Shopify's host does for
// '@shopify/ui-extensions/preact'. The components (<s-text>, <s-qr-code>, <s-button>…) are
// Shopify's remote components; here they are plain unknown elements, and <s-qr-code> draws its
// `content` with the `qrcode` package so that a screenshot's QR can be decoded.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

/** The script that installs the fake `shopify` global in the page (run before the bundle is imported). */
function fakeShopifyGlobal({ target, token, orderId, checkoutToken, paymentTypes = [], cancelled = false }) {
  const data = { target, token, orderId, checkoutToken, paymentTypes, cancelled };
  return `(() => {
  // FAKE shopify global (test/fake-ui-extensions.js)
  const d = ${JSON.stringify(data)};
  const signal = (value) => ({ value, get current() { return this.value; }, subscribe(fn) { fn(this.value); return () => {}; } });
  const values = d.target === 'purchase.thank-you.block.render'
    ? { orderConfirmation: { order: { id: d.orderId }, number: 'ABC123', isFirstOrder: true },
        checkoutToken: d.checkoutToken,
        selectedPaymentOptions: d.paymentTypes.map((type, i) => ({ handle: 'option-' + i, type })) }
    : { order: d.orderId ? { id: d.orderId, name: '#1001', cancelledAt: d.cancelled ? new Date().toISOString() : undefined } : undefined };
  window.shopify = {
    extension: { target: d.target, apiVersion: '2026-07' },
    sessionToken: { get: async () => { window.__tokensGiven = (window.__tokensGiven || 0) + 1; return d.token; } },
    settings: signal({}),
    i18n: { translate: (key) => key, formatNumber: (n) => String(n), formatCurrency: (n) => String(n) },
    ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, signal(v)])),
    setSignals(Signal) {
      for (const k of Object.keys(values).concat('settings')) this[k] = new Signal(this[k].value);
    },
  };
})();`;
}

/** Stand-ins for Shopify's components: <s-qr-code> draws its content (the others are plain unknown elements). */
const COMPONENTS = `
const css = document.createElement('style');
css.textContent = 's-stack{display:flex;flex-direction:column;gap:8px;align-items:flex-start}s-stack[direction=inline]{flex-direction:row}'
  + 's-heading{display:block;font-weight:600;font-size:18px}s-text{display:block}s-text[type=strong]{font-weight:700;font-size:20px}'
  + 's-button{display:inline-block;padding:8px 16px;border-radius:6px;background:#1773b0;color:#fff}'
  + 's-banner{display:block;padding:12px;border-radius:8px;background:#fff4e5}s-banner::before{content:attr(heading);display:block;font-weight:600}';
document.head.append(css);
customElements.define('s-qr-code', class extends HTMLElement {
  connectedCallback() { this.draw(); }
  static get observedAttributes() { return ['content']; }
  attributeChangedCallback() { this.draw(); }
  draw() {
    const content = this.getAttribute('content') ?? this.content;
    if (!content || !this.isConnected) return;
    const canvas = document.createElement('canvas');
    window.QR.toCanvas(canvas, content, { margin: 2, scale: 4 });
    this.replaceChildren(canvas);
  }
});
`;

/** The browser build of `qrcode` plus the stand-in components, as one script. */
async function componentsScript() {
  const qr = await esbuild.build({
    stdin: { contents: "import QR from 'qrcode'; window.QR = QR;", resolveDir: path.join(__dirname, '..', '..'), loader: 'js' },
    bundle: true, write: false, platform: 'browser', format: 'iife', logLevel: 'silent',
  });
  return `${qr.outputFiles[0].text}\n${COMPONENTS}`;
}

module.exports = { fakeShopifyGlobal, componentsScript };
