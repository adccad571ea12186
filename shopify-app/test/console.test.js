// The merchant console (issue 15) on the real devnet: first its defences over plain HTTP (the
// CLI's password, CSRF, session fixation, brute force, every page and form signed out, TOTP with
// RFC 6238's vectors, cookies, escaping, CSV cells), then the merchant's work in real Chromium
// (sign in, filter, a paid invoice, attach an unmatched transfer, approve its review and see the
// webhook, resend a dead letter, a payment link paid on the devnet, the CSV export checked against
// the database, API keys, a zh-CN pass). Screenshots at 360 px go to STABLEGATE_SCREENSHOTS (a
// temp dir by default) for a person to look at.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startStack, API_KEY, sg } = require('./helpers');
const auth = require('../dist/console/auth');
const { csvCell, CSV_COLUMNS } = require('../dist/console/export');
const { WORDS } = require('../dist/console/i18n');
const { consoleRoutes, SIGNIN_PER_CLIENT_PER_MINUTE } = require('../dist/http/routes/console');
const { createLogger } = require('../dist/log');

const CHROMIUM = '/usr/bin/chromium';
let playwright = null;
try {
  playwright = require('playwright-core'); // the root package.json's devDependency
} catch {
  playwright = null;
}
const browserMissing = !playwright ? 'playwright-core is not installed at the repo root (npm ci)' : !fs.existsSync(CHROMIUM) ? `${CHROMIUM} is missing (apt-get install chromium)` : null;

const PASSWORD = 'correct horse battery staple';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
let s;
let browser;
const shots = process.env.STABLEGATE_SCREENSHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'sg-console-shots-'));

before(async () => {
  // The server trusts 127.0.0.1 as a proxy: the brute-force test then comes "from" its own address.
  s = await startStack('console', { raw: { claims: { per_invoice_per_minute: 5, per_client_per_minute: 1000, trusted_proxies: ['127.0.0.1'] } } });
  if (!browserMissing) {
    browser = await playwright.chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
});
after(async () => {
  await browser?.close();
  await s?.stop();
});

// ------------------------------------------------------------------ HTTP helpers

const cookieOf = (response, name) => response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
const valueOf = (setCookie) => setCookie.split(';')[0].split('=')[1];
const csrfIn = (html) => /name="csrf" value="([^"]+)"/.exec(html)[1];

async function get(urlPath, cookie, headers = {}) {
  const response = await fetch(s.app.url + urlPath, { headers: { ...(cookie ? { cookie } : {}), ...headers }, redirect: 'manual' });
  return { response, status: response.status, text: await response.text() };
}

async function post(urlPath, cookie, fields, headers = {}) {
  const response = await fetch(s.app.url + urlPath, { method: 'POST', headers: { ...FORM, ...(cookie ? { cookie } : {}), ...headers }, body: new URLSearchParams(fields), redirect: 'manual' });
  return { response, status: response.status, text: await response.text() };
}

let clients = 0;
/**
 * Signs in over HTTP; returns the session cookie (`name=value`) and its CSRF token. Each call
 * comes from its own address (X-Forwarded-For through the trusted 127.0.0.1) unless `headers`
 * names one, so that the suite's own sign-ins stay under the per-client limit.
 */
async function signIn({ password = PASSWORD, code, cookie = '', headers = { 'x-forwarded-for': `10.0.${++clients}.1` } } = {}) {
  const form = await get('/console/signin', '', headers);
  const pre = cookieOf(form.response, auth.PRE_COOKIE).split(';')[0];
  const answer = await post('/console/signin', [pre, cookie].filter(Boolean).join('; '), { csrf: csrfIn(form.text), password, ...(code ? { code } : {}) }, headers);
  const session = cookieOf(answer.response, auth.SESSION_COOKIE);
  if (answer.status !== 303 || !session) return { answer, cookie: null, csrf: null };
  const cookiePair = session.split(';')[0];
  const page = await get('/console/keys', cookiePair);
  return { answer, cookie: cookiePair, csrf: csrfIn(page.text), setCookie: session };
}

// ------------------------------------------------------------------ defences over HTTP

test('set-password from the CLI (stdin), a weak one refused; sign-in then works and sets a strict cookie', async () => {
  const file = path.join(s.dir, 'stablegate.config.json');
  fs.writeFileSync(file, JSON.stringify(s.raw));
  const cli = (input, ...args) =>
    spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'stablegate.js'), 'console', 'set-password', '--config', file, ...args], {
      input,
      env: { ...process.env, ...s.env },
      encoding: 'utf8',
    });
  const weak = cli('short\n');
  assert.equal(weak.status, 1);
  assert.match(weak.stderr, /at least 12 characters/);
  const set = cli(`${PASSWORD}\n`);
  assert.equal(set.status, 0, set.stderr);
  const stored = await auth.getAdmin(s.app.db);
  assert.match(stored.password_hash, /^scrypt\$32768\$8\$1\$/);
  assert.ok(!stored.password_hash.includes(PASSWORD));

  const { cookie, setCookie, answer } = await signIn();
  assert.ok(cookie, `signed in: ${answer.status}`);
  assert.match(setCookie, /; HttpOnly/);
  assert.match(setCookie, /; SameSite=Strict/);
  assert.doesNotMatch(setCookie, /Secure/, 'plain http: no Secure flag, or the browser would never send it back');
  // Behind a trusted proxy that says https, the cookie is Secure.
  const proxied = await signIn({ headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.1.0.1' } });
  assert.match(proxied.setCookie, /; Secure/);
  assert.equal(auth.overHttps({ socket: { remoteAddress: '10.9.9.9' }, headers: { 'x-forwarded-proto': 'https' } }, null, ['127.0.0.1']), false, 'X-Forwarded-Proto from an untrusted peer proves nothing');
  const wrong = await signIn({ password: 'not the password at all', headers: { 'x-forwarded-for': '10.1.0.2' } });
  assert.equal(wrong.answer.status, 401);
  assert.match(wrong.answer.text, /The password or code is wrong/);
});

test('every console page and form refuses a signed-out request', async () => {
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '3', networks: ['devnet'] })).body;
  const { routes } = consoleRoutes({ ...s.app, clock: () => 0, log: createLogger('silent') });
  const open = new Set(['/console', '/console/', '/console/lang', '/console/signin']);
  const guarded = routes.filter((r) => r.path.startsWith('/console') && !open.has(r.path));
  assert.ok(guarded.length >= 15, `${guarded.length} guarded routes`);
  for (const cookie of ['', `${auth.SESSION_COOKIE}=forged-value`]) {
    for (const route of guarded) {
      const p = route.path.replace('{id}', inv.id);
      if (route.method === 'GET') {
        const r = await get(p, cookie);
        assert.deepEqual([r.status, r.response.headers.get('location')], [303, '/console/signin'], `GET ${p}`);
      } else {
        const r = await post(p, cookie, { csrf: 'x', decision: 'accept', note: 'n', name: 'k', title: 't', amount: '1' });
        assert.equal(r.status, 401, `POST ${p}`);
        assert.match(r.text, /Sign in first/);
      }
    }
  }
  assert.equal((await s.api('GET', `/api/v1/invoices/${inv.id}`)).body.state, 'new', 'nothing was done');
});

test('CSRF: a form without the token, or with another session\'s, is refused and changes nothing', async () => {
  const a = await signIn();
  const b = await signIn();
  const keys = async () => (await s.app.db.all('SELECT id FROM api_keys')).length;
  const before = await keys();
  assert.equal((await post('/console/keys', a.cookie, { name: 'no token' })).status, 403);
  assert.equal((await post('/console/keys', a.cookie, { name: 'wrong token', csrf: 'x'.repeat(43) })).status, 403);
  const cross = await post('/console/keys', a.cookie, { name: 'other session', csrf: b.csrf });
  assert.equal(cross.status, 403);
  assert.match(cross.text, /did not come from this console/);
  assert.equal(await keys(), before);
  // The sign-in form needs its own token (its pre-sign-in cookie).
  assert.equal((await post('/console/signin', '', { password: PASSWORD })).status, 403);
  assert.equal((await post('/console/signin', `${auth.PRE_COOKIE}=abc`, { password: PASSWORD, csrf: 'abd' })).status, 403);
  // With the right token it works.
  assert.equal((await post('/console/keys', a.cookie, { name: 'with token', csrf: a.csrf })).status, 200);
  assert.equal(await keys(), before + 1);
});

test('session fixation: an id the browser brings is never promoted; signing in again ends the old session; sign-out ends it', async () => {
  const planted = `${auth.SESSION_COOKIE}=attacker-chosen-value-0123456789`;
  const fixed = await signIn({ cookie: planted });
  assert.ok(fixed.cookie);
  assert.notEqual(fixed.cookie, planted);
  assert.equal((await get('/console/invoices', planted)).status, 303, 'the planted id signs nobody in');
  const again = await signIn({ cookie: fixed.cookie });
  assert.notEqual(again.cookie, fixed.cookie, 'a new id at every sign-in');
  assert.equal((await get('/console/invoices', fixed.cookie)).status, 303, 'the session the browser had is closed');
  assert.equal((await get('/console/invoices', again.cookie)).status, 200);
  const out = await post('/console/signout', again.cookie, { csrf: again.csrf });
  assert.equal(out.status, 303);
  assert.match(cookieOf(out.response, auth.SESSION_COOKIE), /Max-Age=0/);
  assert.equal((await get('/console/invoices', again.cookie)).status, 303, 'signed out on the server, not only in the browser');
  // The database keeps a hash of the id, never the id.
  const rows = await s.app.db.all('SELECT id_hash FROM console_sessions');
  assert.ok(rows.every((r) => !r.id_hash.includes(valueOf(fixed.setCookie))));
});

test('brute force: sign-in is rate-limited per client, even for the right password', async () => {
  const attacker = { 'x-forwarded-for': '10.66.0.1' };
  for (let i = 0; i < SIGNIN_PER_CLIENT_PER_MINUTE; i++) assert.equal((await signIn({ password: `guess number ${i} !!`, headers: attacker })).answer.status, 401);
  const limited = await signIn({ headers: attacker });
  assert.equal(limited.answer.status, 429);
  assert.equal(limited.cookie, null);
  assert.match(limited.answer.text, /Too many sign-in attempts/);
  // Another client is not locked out by the attacker.
  assert.ok((await signIn({ headers: { 'x-forwarded-for': '10.66.0.2' } })).cookie);
});

test('TOTP: RFC 6238 appendix B vectors; with a secret set, the password alone is refused', async () => {
  // RFC 6238 appendix B: 8 digits, the ASCII seeds below, SHA-1 / SHA-256 / SHA-512.
  const seed = (n) => Buffer.from('1234567890'.repeat(7).slice(0, n));
  const vectors = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [time, sha1, sha256, sha512] of vectors) {
    assert.equal(auth.totp(seed(20), time, 8, 'sha1'), sha1);
    assert.equal(auth.totp(seed(32), time, 8, 'sha256'), sha256);
    assert.equal(auth.totp(seed(64), time, 8, 'sha512'), sha512);
  }
  assert.equal(auth.base32(Buffer.from('foobar')), 'MZXW6YTBOI'); // RFC 4648 §10
  assert.deepEqual(auth.fromBase32('MZXW6YTBOI'), Buffer.from('foobar'));

  const secret = auth.base32(Buffer.from('12345678901234567890'));
  await auth.setAdmin(s.app.db, PASSWORD, secret);
  const client = { 'x-forwarded-for': '10.77.0.1' };
  assert.equal((await signIn({ headers: client })).answer.status, 401, 'no code');
  assert.equal((await signIn({ code: '000000', headers: client })).answer.status, 401, 'a wrong code');
  const code = auth.totp(auth.fromBase32(secret), Math.floor(Date.now() / 1000));
  assert.ok((await signIn({ code, headers: client })).cookie, 'password and code');
  await auth.setAdmin(s.app.db, PASSWORD, null);
});

test('escaped HTML, CSV cells safe from formulas, words complete in both languages', async () => {
  const hostile = '<img src=x onerror=alert(1)>"\'';
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '4', networks: ['devnet'], order_id: hostile })).body;
  const { cookie } = await signIn();
  for (const p of ['/console/invoices', `/console/invoices/${inv.id}`, `/console/invoices?order_id=${encodeURIComponent(hostile)}`]) {
    const page = await get(p, cookie);
    assert.equal(page.status, 200);
    assert.ok(!page.text.includes('<img src=x'), p);
    assert.ok(page.text.includes('&#60;img src=x onerror=alert(1)&#62;&#34;&#39;'), p);
    assert.match(page.response.headers.get('content-security-policy'), /script-src 'self';/);
    for (const secret of [API_KEY, s.env.SG_TEST_WEBHOOK_SECRET]) assert.ok(!page.text.includes(secret));
  }
  // The doctor's findings, in the console.
  const doctor = await get('/console/doctor', cookie);
  assert.equal(doctor.status, 200);
  assert.match(doctor.text, /<li class="ok"><strong>ok<\/strong> devnet: the RPC at http:\/\/127\.0\.0\.1:\d+\/? answers on chain 31337/);
  assert.deepEqual(['=SUM(A1)', '+1', '-2', '@cmd', '\tx', 'a,b', 'say "hi"', 'plain', null].map(csvCell), ["'=SUM(A1)", "'+1", "'-2", "'@cmd", "'\tx", '"a,b"', '"say ""hi"""', 'plain', '']);
  assert.deepEqual(Object.keys(WORDS['zh-CN']).sort(), Object.keys(WORDS.en).sort());
  for (const [key, text] of Object.entries(WORDS['zh-CN'])) assert.ok(text.trim(), key);
});

test('invoice filters: exception, order id, date range, and a date that is not one', async () => {
  const a = (await s.api('POST', '/api/v1/invoices', { amount: '2.5', networks: ['devnet'], order_id: 'filter-a' })).body;
  const b = (await s.api('POST', '/api/v1/invoices', { amount: '2.6', networks: ['devnet-tron'], order_id: 'filter-b' })).body;
  await s.api('POST', `/api/v1/invoices/${b.id}/review`);
  const { cookie } = await signIn();
  const ids = async (query) => {
    const r = await get(`/console/invoices?${new URLSearchParams(query)}`, cookie);
    assert.equal(r.status, 200, r.text);
    return [...r.text.matchAll(/href="\/console\/invoices\/(inv_[\w-]{22})"/g)].map((m) => m[1]);
  };
  assert.deepEqual(await ids({ order_id: 'filter-a' }), [a.id]);
  assert.ok((await ids({ exception: 'needs_review' })).includes(b.id));
  assert.ok(!(await ids({ exception: 'needs_review' })).includes(a.id));
  assert.deepEqual(await ids({ network: 'devnet-tron', order_id: 'filter-b' }), [b.id]);
  assert.deepEqual(await ids({ network: 'devnet', order_id: 'filter-b' }), []);
  assert.deepEqual(await ids({ q: b.recipient }).then((x) => x.includes(b.id)), true, 'by its TRON receiving address');
  const today = new Date(Date.now()).toISOString().slice(0, 10);
  assert.ok((await ids({ from: today, to: today })).includes(a.id));
  assert.deepEqual(await ids({ from: '2001-01-01', to: '2001-12-31' }), []);
  const bad = await get('/console/invoices?from=2026-02-30', cookie);
  assert.equal(bad.status, 422);
  assert.match(bad.text, /from: must be a date like 2026-01-31/);
});

// ------------------------------------------------------------------ in Chromium

const seen = (problems) => (page) => {
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(m.text());
  });
};

async function browserSignIn(page, password = PASSWORD) {
  await page.goto(`${s.app.url}/console/`);
  await page.locator('input[name=password]').fill(password);
  await page.locator('form[action="/console/signin"] button').click();
  await page.waitForURL(/\/console\/invoices$/);
}

async function waitUntil(fn, what, timeoutMs = 20000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shoot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

test('in Chromium: sign in, filter, open a paid invoice, attach an unmatched transfer, approve its review, resend a dead letter', { skip: browserMissing ?? false, timeout: 90000 }, async () => {
  const problems = [];
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 360, height: 740 } });
  context.on('page', seen(problems));
  const page = await context.newPage();
  seen(problems)(page);
  await page.goto(`${s.app.url}/console/signin`);
  await shoot(page, 'en-signin');
  await browserSignIn(page);

  // A paid invoice on the devnet.
  const paid = (await s.api('POST', '/api/v1/invoices', { amount: '12.34', networks: ['devnet'], order_id: 'console-paid' })).body;
  const payment = await s.pay(paid.recipient, paid.amount_due_units);
  await s.net.mine(3);
  await s.waitInvoice(paid.id, (i) => i.state === 'settled');
  // Filter: settled on devnet, then by the transaction hash.
  await page.goto(`${s.app.url}/console/invoices`);
  await page.locator('select[name=state]').selectOption('settled');
  await page.locator('select[name=network]').selectOption('devnet');
  await page.locator('form.filters button').click();
  await page.waitForURL(/state=settled/);
  assert.ok(await page.locator(`a[href="/console/invoices/${paid.id}"]`).isVisible());
  assert.equal(await page.locator('td[data-label=State] .badge:not([data-state=settled])').count(), 0, 'only settled invoices listed');
  await shoot(page, 'en-invoices');
  await page.locator('input[name=q]').fill(payment.tx);
  await page.locator('select[name=state]').selectOption('');
  await page.locator('form.filters button').click();
  await page.waitForURL(/q=0x/);
  assert.equal(await page.locator('tbody tr').count(), 1);
  await page.locator(`a[href="/console/invoices/${paid.id}"]`).click();
  await page.waitForURL(new RegExp(paid.id));
  assert.equal(await page.locator('#state').getAttribute('data-state'), 'settled');
  assert.ok(await page.getByText(payment.tx.slice(0, 10)).first().isVisible(), 'the ledger shows the transaction');
  assert.ok(await page.locator('td', { hasText: 'invoice.settled' }).first().isVisible(), 'the events list it');
  await waitUntil(async () => {
    await page.reload();
    return (await page.locator('.delivery-delivered').count()) >= 3;
  }, 'the webhook attempts delivered');
  assert.match(await page.locator('pre').textContent(), /"state": "settled"/);
  await shoot(page, 'en-invoice');

  // An unmatched transfer (44.50 to a 44 invoice's address), attached from the review page; the
  // claim goes to review; approved, the invoice settles and its webhook carries the note.
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '44', networks: ['devnet'], order_id: 'console-review' })).body;
  const over = await s.pay(inv.recipient, '44500000');
  await waitUntil(async () => (await s.api('GET', '/api/v1/transfers/unmatched')).body.data.some((t) => t.tx_hash === over.tx), 'the transfer listed unmatched');
  await page.goto(`${s.app.url}/console/review`);
  const row = page.locator('tr', { has: page.locator(`input[name=tx_hash][value="${over.tx}"]`) });
  await row.locator('input[name=invoice]').fill(inv.id);
  await row.locator('button').click();
  await page.waitForURL(new RegExp(`/console/invoices/${inv.id}`));
  assert.equal(await page.locator('#exception').getAttribute('data-exception'), 'needs_review');
  await s.net.mine(3);
  await s.waitInvoice(inv.id, (i) => i.transfers[0]?.status === 'final');
  await page.goto(`${s.app.url}/console/review`);
  await shoot(page, 'en-review');
  const item = page.locator('tr', { has: page.locator(`a[href="/console/invoices/${inv.id}"]`) });
  await item.locator('input[name=note]').fill('customer sent 0.50 extra; keep it as a tip');
  await item.locator('button[value=accept]').click();
  await page.waitForURL(new RegExp(`/console/invoices/${inv.id}\\?done=1`));
  assert.equal(await page.locator('#state').getAttribute('data-state'), 'settled');
  const settled = await s.receiver.waitFor((e) => e.type === 'invoice.settled' && e.data.invoice.id === inv.id);
  assert.deepEqual(settled.data.resolution, { outcome: 'accepted', note: 'customer sent 0.50 extra; keep it as a tip' });

  // Live: an open invoice page follows the payment without anyone reloading it.
  const watched = (await s.api('POST', '/api/v1/invoices', { amount: '6.5', networks: ['devnet'], order_id: 'console-live' })).body;
  await page.goto(`${s.app.url}/console/invoices/${watched.id}`);
  assert.equal(await page.locator('#state').getAttribute('data-state'), 'new');
  await s.pay(watched.recipient, watched.amount_due_units);
  await s.net.mine(3);
  await page.locator('#state[data-state="settled"]').waitFor({ timeout: 20000 });

  // A dead letter, resent from the console.
  const hook = (await s.api('POST', '/api/v1/invoices', { amount: '8', networks: ['devnet'], order_id: 'console-hooks' })).body;
  await s.receiver.waitFor((e) => e.type === 'invoice.created' && e.data.invoice.id === hook.id);
  s.receiver.fail((e) => e.data.invoice.id === hook.id && e.type === 'invoice.invalid', 3);
  await s.api('POST', `/api/v1/invoices/${hook.id}/cancel`);
  const dead = await waitUntil(async () => (await s.app.webhooks.deadLetters()).find((d) => d.event_id.startsWith(hook.id)), 'a dead letter');
  await page.goto(`${s.app.url}/console/review`);
  await page.locator(`form[action="/console/deliveries/${dead.id}/resend"] button`).click();
  await page.waitForURL(/\/console\/review\?done=1/);
  const resent = await s.receiver.waitFor((e) => e.id === dead.event_id && e.type === 'invoice.invalid');
  assert.equal(resent.data.invoice.id, hook.id);
  await waitUntil(async () => (await s.app.db.get('SELECT status FROM webhook_deliveries WHERE id = ?', [dead.id])).status === 'delivered', 'the resent delivery delivered');
  assert.deepEqual(problems, []);
  await context.close();
});

test('in Chromium: payment links paid on the devnet, CSV export checked against the database, API keys', { skip: browserMissing ?? false, timeout: 90000 }, async () => {
  const problems = [];
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 360, height: 740 }, acceptDownloads: true });
  const page = await context.newPage();
  seen(problems)(page);
  await browserSignIn(page);

  // A single-use link for a fixed amount.
  await page.goto(`${s.app.url}/console/links`);
  await page.locator('input[name=title]').fill('Consulting hour');
  await page.locator('input[name=amount]').fill('25.5');
  await page.locator('input[name=redirect_url]').fill('https://merchant.example/thanks');
  await page.locator('form[action="/console/links"] button').click();
  await page.waitForURL(/\/console\/links\?done=1/);
  const href = await page.locator('td a[href^="/l/"]').first().getAttribute('href');
  await shoot(page, 'en-links');
  const customer = await context.newPage();
  seen(problems)(customer);
  await customer.goto(s.app.url + href);
  assert.equal(await customer.locator('h1').textContent(), 'Consulting hour');
  await customer.locator('button[type=submit]').click();
  await customer.waitForURL(/\/pay\/inv_/);
  const invoiceId = customer.url().split('/pay/')[1];
  // The existing pay page: the customer picks the network in the widget.
  await customer.locator('stablegate-checkout[data-state="new"]').waitFor({ timeout: 20000 });
  await customer.getByRole('button', { name: /Local devnet/ }).first().click();
  const made = await s.waitInvoice(invoiceId, (i) => i.network === 'devnet');
  assert.deepEqual([made.amount_due.startsWith('25.5'), made.redirect_url, made.metadata.payment_link], [true, 'https://merchant.example/thanks', href.slice(3)]);
  // Single use: visiting again while it is open leads to the same invoice.
  await customer.goto(s.app.url + href);
  await customer.locator('button[type=submit]').click();
  await customer.waitForURL(new RegExp(`/pay/${invoiceId}$`));
  await s.pay(made.recipient, made.amount_due_units);
  await s.net.mine(3);
  await s.waitInvoice(invoiceId, (i) => i.state === 'settled');
  await customer.goto(s.app.url + href);
  assert.match(await customer.locator('main').textContent(), /has been paid/);

  // A reusable link where the customer types the amount, within limits.
  await page.locator('input[name=title]').fill('Donation');
  await page.locator('input[name=min_amount]').fill('1');
  await page.locator('input[name=max_amount]').fill('100');
  await page.locator('input[name=reusable]').check();
  await page.locator('form[action="/console/links"] button').click();
  await page.waitForURL(/\/console\/links\?done=1/);
  const donation = await page.locator('tr', { hasText: 'Donation' }).locator('a[href^="/l/"]').getAttribute('href');
  await customer.goto(s.app.url + donation);
  for (const typed of ['250', '1e2', '-5', '0.5']) {
    await customer.locator('input[name=amount]').fill(typed);
    await customer.locator('button[type=submit]').click();
    assert.match(await customer.locator('[role=alert]').textContent(), /from 1\.00 to 100\.00 USDT/, typed);
  }
  await customer.locator('input[name=amount]').fill('7.25');
  await customer.locator('button[type=submit]').click();
  await customer.waitForURL(/\/pay\/inv_/);
  assert.ok((await s.api('GET', `/api/v1/invoices/${customer.url().split('/pay/')[1]}`)).body.amount_due.startsWith('7.25'));

  // The CSV export, row by row against the database.
  await page.goto(`${s.app.url}/console/export`);
  const today = new Date().toISOString().slice(0, 10);
  await page.locator('input[name=from]').fill('2020-01-01');
  await page.locator('input[name=to]').fill(today);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('form[action="/console/export.csv"] button').click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  const expected = await s.app.db.all(
    `SELECT i.id, i.order_id, l.tx_hash, l.sender, l.amount, l.block_time FROM invoices i JOIN ledger l ON l.invoice_id = i.id WHERE i.state = 'settled' ORDER BY i.id, l.tx_hash`,
  );
  assert.ok(expected.length >= 3, 'paid, reviewed and link invoices');
  const rows = lines.slice(1).map((line) => Object.fromEntries(line.split(',').map((cell, i) => [CSV_COLUMNS[i], cell])));
  assert.deepEqual(
    rows.map((r) => [r.invoice, r.order_id, r.tx_hash, r.sender, r.amount_usdt, r.block_time]).sort((a, b) => (a[0] + a[2]).localeCompare(b[0] + b[2])),
    expected
      .map((e) => [e.id, e.order_id ?? '', e.tx_hash, e.sender, sg.displayAmount(sg.formatAmount('devnet', e.amount, 'usdt')), new Date(Number(e.block_time) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')])
      .sort((a, b) => (a[0] + a[2]).localeCompare(b[0] + b[2])),
  );
  const tip = rows.find((r) => r.order_id === 'console-review');
  const due = (await s.app.db.get(`SELECT amount_due FROM invoices WHERE id = ?`, [tip.invoice])).amount_due;
  assert.deepEqual([tip.amount_usdt, tip.invoice_amount_usdt, tip.network], ['44.50', sg.displayAmount(sg.formatAmount('devnet', due, 'usdt')), 'devnet']);
  await shoot(page, 'en-export');

  // API keys: created (shown once, and it works), then revoked.
  await page.goto(`${s.app.url}/console/keys`);
  await page.locator('form[action="/console/keys"] input[name=name]').fill('accounting');
  await page.locator('form[action="/console/keys"] button').click();
  const key = (await page.locator('#new-key').textContent()).trim();
  assert.match(key, /^sg_/);
  const withKey = await fetch(`${s.app.url}/api/v1/invoices?limit=1`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(withKey.status, 200);
  await shoot(page, 'en-keys');
  await page.goto(`${s.app.url}/console/keys`);
  assert.equal(await page.locator('#new-key').count(), 0, 'shown once');
  const keyRow = page.locator('tr', { hasText: 'accounting' });
  await keyRow.locator('button').click();
  await page.waitForURL(/\/console\/keys\?done=1/);
  assert.equal(Number((await s.app.db.get(`SELECT revoked FROM api_keys WHERE name = 'accounting'`)).revoked), 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('in Chromium: the console in Simplified Chinese (Accept-Language), and the switch back to English', { skip: browserMissing ?? false, timeout: 60000 }, async () => {
  const problems = [];
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 } });
  const page = await context.newPage();
  seen(problems)(page);
  await page.goto(`${s.app.url}/console/`);
  assert.equal(await page.locator('h1').textContent(), '登录');
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  await shoot(page, 'zh-signin');
  await browserSignIn(page);
  assert.equal(await page.locator('nav a[aria-current]').textContent(), '账单');
  await shoot(page, 'zh-invoices');
  const paid = (await s.app.db.get(`SELECT id FROM invoices WHERE order_id = 'console-paid'`)).id;
  await page.goto(`${s.app.url}/console/invoices/${paid}`);
  assert.ok(await page.getByRole('heading', { name: '到账记录' }).isVisible());
  assert.equal(await page.locator('#state').textContent(), '已结算');
  await shoot(page, 'zh-invoice');
  // Something in the queue for the screenshot: an invoice the merchant marked for review.
  const marked = (await s.api('POST', '/api/v1/invoices', { amount: '9', networks: ['devnet'], order_id: 'zh-review' })).body;
  await s.api('POST', `/api/v1/invoices/${marked.id}/review`);
  const link = (await s.app.db.get(`SELECT id FROM payment_links WHERE reusable = 1`)).id;
  await page.goto(`${s.app.url}/l/${link}`);
  assert.match(await page.locator('label').textContent(), /付款金额（USDT，1\.00 至 100\.00）/);
  await shoot(page, 'zh-paylink');
  for (const [p, name] of [['/console/review', 'zh-review'], ['/console/links', 'zh-links'], ['/console/export', 'zh-export'], ['/console/keys', 'zh-keys']]) {
    await page.goto(s.app.url + p);
    await shoot(page, name);
  }
  // No English sentence left on a Chinese page (ids, codes and amounts aside).
  await page.goto(`${s.app.url}/console/review`);
  assert.ok((await page.locator('main').textContent()).includes('等待审核'));
  await page.locator('header a.lang').click();
  await page.waitForURL(/\/console\/review$/);
  assert.equal(await page.locator('h1').textContent(), 'Review');
  assert.deepEqual(problems, []);
  await context.close();
  console.log(`screenshots in ${shots}`);
});
