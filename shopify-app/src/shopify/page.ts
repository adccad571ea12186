// The embedded settings page (server-only HTML): Shopify admin loads it in an iframe from the
// app's URL. App Bridge comes from Shopify's CDN as the first script (Shopify requires that
// script tag for embedded apps; it reads the `shopify-api-key` meta, which is the app's public
// client id, never its secret) and gives `shopify.idToken()`, the admin session token the page
// sends to /shopify/api/*. Polaris web components (<s-page>, <s-section>, …) come from the CDN
// too. The page holds no data of its own: it reads and writes through the settings and reviews
// routes, which verify the token and act on its shop only.

/** Shopify's App Bridge and Polaris web components, as Shopify serves them to embedded apps. */
export const APP_BRIDGE_URL = 'https://cdn.shopify.com/shopifycloud/app-bridge.js';
export const POLARIS_URL = 'https://cdn.shopify.com/shopifycloud/polaris.js';

const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/**
 * The Content-Security-Policy of the page: only the shop's admin may frame it (Shopify's
 * requirement for embedded apps). `shop` comes from the query Shopify adds; anything that is not
 * a shop domain leaves just the unified admin.
 */
export function frameAncestors(shop: string | null): string {
  const origins = ['https://admin.shopify.com'];
  if (shop && SHOP_DOMAIN.test(shop)) origins.unshift(`https://${shop}`);
  return `frame-ancestors ${origins.join(' ')};`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page; `apiBase` is where its script finds /shopify/api (the server's public URL). */
export function settingsPage(apiKey: string, apiBase: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="shopify-api-key" content="${escapeHtml(apiKey)}">
<script src="${APP_BRIDGE_URL}"></script>
<script src="${POLARIS_URL}"></script>
<title>Stablegate USDT</title>
</head>
<body data-api="${escapeHtml(apiBase)}/shopify/api">
<s-page heading="Stablegate USDT">
  <s-banner id="status" tone="info" hidden></s-banner>
  <s-section heading="Payment method">
    <s-paragraph>Your customers pick this manual payment method at checkout. Type its name exactly as you created it in Settings → Payments → Manual payment methods.</s-paragraph>
    <s-text-field id="payment_method" label="Manual payment method name" required></s-text-field>
  </s-section>
  <s-section heading="Networks">
    <s-paragraph>The networks your invoices offer. Choose none to offer every network.</s-paragraph>
    <s-stack id="networks" direction="block" gap="small"></s-stack>
  </s-section>
  <s-section heading="Your receiving addresses">
    <s-paragraph>Where your customers' USDT goes: your own wallet addresses, one a line, on each network you want to be paid on. Each is checked when you save. With addresses here, your invoices offer only the networks you gave addresses for, and never use the server's. Leave every box empty to be paid to the server's addresses.</s-paragraph>
    <s-stack id="addresses" direction="block" gap="base"></s-stack>
  </s-section>
  <s-section heading="Expiry">
    <s-number-field id="expires_in" label="Minutes to pay" min="1" max="10080" step="1" details="Leave empty for the server's default."></s-number-field>
    <s-select id="on_expiry" label="When an invoice expires unpaid">
      <s-option value="cancel">Cancel the order and restock</s-option>
      <s-option value="leave">Leave the order pending</s-option>
    </s-select>
  </s-section>
  <s-button id="save" variant="primary">Save</s-button>
  <s-section heading="Payments to review">
    <s-paragraph>A payment that did not match its invoice exactly (claimed by the customer, sent short or too much, or paid for a cancelled order) waits here. The order is marked paid only after you accept it.</s-paragraph>
    <s-stack id="reviews" direction="block" gap="base"></s-stack>
  </s-section>
</s-page>
<script>
(() => {
  const API = document.body.dataset.api;
  const $ = (id) => document.getElementById(id);
  async function api(method, path, body) {
    const token = await shopify.idToken();
    const response = await fetch(API + path, {
      method,
      headers: Object.assign({ authorization: 'Bearer ' + token }, body ? { 'content-type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((json.error && json.error.message) || 'the server answered ' + response.status);
    return json;
  }
  function say(tone, text) {
    const banner = $('status');
    banner.tone = tone;
    banner.textContent = text;
    banner.hidden = false;
  }
  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes)) if (v !== false && v !== undefined) node.setAttribute(k, v === true ? '' : v);
    if (text) node.textContent = text;
    return node;
  }
  function show({ settings, server }) {
    $('payment_method').value = settings.payment_method;
    $('on_expiry').value = settings.on_expiry;
    $('expires_in').value = settings.expires_in ? String(settings.expires_in / 60) : '';
    $('expires_in').setAttribute('placeholder', String(server.expires_in / 60));
    const list = $('networks');
    list.replaceChildren(...server.networks.map((n) => element('s-checkbox', {
      'data-network': n.id,
      label: n.id + ' (' + n.tokens.join(', ') + ')',
      checked: Boolean(settings.networks && settings.networks.includes(n.id)),
    })));
    const own = settings.addresses || {};
    $('addresses').replaceChildren(...server.networks.map((n) => {
      const area = element('s-text-area', {
        'data-addresses': n.id,
        label: 'On ' + n.id,
        rows: '2',
        details: settings.addresses
          ? 'One address a line. Empty: your invoices do not offer ' + n.id + '.'
          : "One address a line. Until you give yours, invoices are paid to the server's: " + n.addresses.join(', '),
      });
      area.value = (own[n.id] || []).join('\\n');
      return area;
    }));
  }
  function collect() {
    const minutes = String($('expires_in').value || '').trim();
    const chosen = [...document.querySelectorAll('#networks [data-network]')].filter((c) => c.checked).map((c) => c.dataset.network);
    const addresses = {};
    for (const area of document.querySelectorAll('#addresses [data-addresses]')) {
      const lines = String(area.value || '').split(/\\s+/).filter(Boolean);
      if (lines.length) addresses[area.dataset.addresses] = lines;
    }
    return {
      addresses: Object.keys(addresses).length ? addresses : null,
      payment_method: $('payment_method').value,
      on_expiry: $('on_expiry').value,
      expires_in: minutes === '' ? null : Math.round(Number(minutes) * 60),
      networks: chosen.length ? chosen : null,
    };
  }
  async function reviews() {
    const { data } = await api('GET', '/reviews');
    const list = $('reviews');
    if (!data.length) {
      list.replaceChildren(element('s-text', {}, 'Nothing to review.'));
      return;
    }
    list.replaceChildren(...data.map((r) => {
      const row = element('s-stack', { direction: 'inline', gap: 'base', 'data-invoice': r.invoice_id });
      row.append(element('s-text', {}, (r.order_name || r.order_id) + ': ' + r.amount_paid + ' of ' + r.amount_due + ' USDT received'));
      row.append(element('s-link', { href: r.pay_url, target: '_blank' }, 'Invoice'));
      for (const decision of ['accept', 'reject']) {
        const button = element('s-button', { 'data-decision': decision }, decision === 'accept' ? 'Accept' : 'Reject');
        button.addEventListener('click', async () => {
          try {
            await api('POST', '/reviews/resolve', { invoice_id: r.invoice_id, decision, note: 'resolved in Shopify admin' });
            say('success', (decision === 'accept' ? 'Accepted' : 'Rejected') + ' the payment for ' + (r.order_name || r.order_id) + '.');
            await reviews();
          } catch (error) {
            say('critical', error.message);
          }
        });
        row.append(button);
      }
      return row;
    }));
  }
  $('save').addEventListener('click', async () => {
    try {
      show(await api('POST', '/settings', collect()));
      say('success', 'Settings saved.');
    } catch (error) {
      say('critical', error.message);
    }
  });
  api('GET', '/settings').then(show).then(reviews).catch((error) => say('critical', error.message));
})();
</script>
</body>
</html>
`;
}
