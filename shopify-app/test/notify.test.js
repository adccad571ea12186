// The merchant's notifications on the devnet: Telegram (against test/fake-telegram.js, a fake
// built from the Bot API's documentation) and e-mail through a real SMTP server (the smtp-server
// library, listening locally). Each cause — settled, needs_review, unmatched transfer, watcher
// lag, dead-lettered webhook — is told once per channel; a failed send is tried again.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { SMTPServer } = require('smtp-server');
const { startStack } = require('./helpers');
const { fakeTelegram } = require('./fake-telegram');
const { parseConfig } = require('../dist/config');

const TOKEN = '123456:TEST-token_abc';
const CHAT = '-1001234567890';
let s;
let telegram;
let smtp;
const mails = [];

/** The text of a plain-text message as nodemailer writes it (quoted-printable when lines are long). */
function bodyOf(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const body = rest.join('\r\n\r\n');
  return /quoted-printable/i.test(head) ? Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16))), 'latin1').toString('utf8') : body;
}

before(async () => {
  telegram = await fakeTelegram({ token: TOKEN, chatId: CHAT });
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({ from: session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address), raw, body: bodyOf(raw) });
        callback();
      });
    },
  });
  await new Promise((r) => smtp.listen(0, '127.0.0.1', r));
  s = await startStack('notify', {
    // Two blocks per eth_getLogs: a burst of blocks keeps the watcher behind for a while.
    maxRange: 2,
    env: { SG_TEST_TELEGRAM: TOKEN },
    raw: {
      notifications: {
        telegram: { bot_token_env: 'SG_TEST_TELEGRAM', chat_id: CHAT, api_url: telegram.url },
        email: { host: '127.0.0.1', port: smtp.server.address().port, secure: false, from: 'stablegate@shop.example', to: ['owner@shop.example'] },
        watcher_lag_blocks: 20,
        check_ms: 100,
      },
    },
  });
});
after(async () => {
  await s?.stop();
  await telegram?.close();
  await new Promise((r) => (smtp ? smtp.close(r) : r()));
});

async function told(test, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = telegram.messages.filter((m) => test(m.text));
    const mailed = mails.filter((m) => test(m.body));
    if (found.length && mailed.length) return { found, mailed };
    if (Date.now() > until) throw new Error(`no notification on both channels; telegram: ${JSON.stringify(telegram.messages.map((m) => m.text))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('config: a notifications section is checked and names what is wrong', () => {
  const base = { listen: { host: '127.0.0.1', port: 0 }, networks: { devnet: { rpc: ['http://127.0.0.1:1'], addresses: ['0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc'] } } };
  const bad = (notifications, env = {}) => assert.throws(() => parseConfig({ ...base, notifications }, env), /config notifications/);
  bad({});
  bad({ telegram: { bot_token_env: 'T', chat_id: CHAT } }); // the variable is not set
  bad({ telegram: { bot_token_env: 'T', chat_id: 'not a chat' } }, { T: TOKEN });
  bad({ telegram: { bot_token_env: 'T', chat_id: CHAT } }, { T: 'no-colon' });
  bad({ email: { host: 'smtp.example', from: 'a@b', to: [] } });
  bad({ email: { host: 'smtp.example', from: 'a@b', to: ['c@d'] }, kinds: ['everything'] });
  const ok = parseConfig({ ...base, notifications: { telegram: { bot_token_env: 'T', chat_id: -42 } } }, { T: TOKEN });
  assert.deepEqual(ok.notifications.telegram, { botToken: TOKEN, chatId: '-42', apiUrl: 'https://api.telegram.org' });
});

test('settled, needs_review, unmatched, dead letter and watcher lag: each told once on Telegram and by e-mail', { timeout: 60000 }, async () => {
  // Settled.
  const paid = (await s.api('POST', '/api/v1/invoices', { amount: '15', networks: ['devnet'], order_id: 'notify-1' })).body;
  await s.pay(paid.recipient, paid.amount_due_units);
  await s.net.mine(3);
  await s.waitInvoice(paid.id, (i) => i.state === 'settled');
  const settled = await told((t) => t.startsWith('Paid:') && t.includes(paid.id));
  assert.match(settled.found[0].text, /\(notify-1\) settled, 15\.00 USDT on devnet\. http:\/\/127\.0\.0\.1:\d+\/console\/invoices\/inv_/);
  assert.deepEqual([settled.mailed[0].from, settled.mailed[0].to], ['stablegate@shop.example', ['owner@shop.example']]);
  assert.match(settled.mailed[0].raw, /^Subject: Stablegate: Paid$/m);

  // Needs review (marked by the merchant).
  const review = (await s.api('POST', '/api/v1/invoices', { amount: '16', networks: ['devnet'] })).body;
  s.receiver.fail((e) => e.data.invoice.id === review.id && e.type === 'invoice.needs_review', 3); // and that webhook dies
  await s.api('POST', `/api/v1/invoices/${review.id}/review`);
  await told((t) => t.startsWith('Review needed:') && t.includes(review.id));
  await told((t) => t.startsWith('Webhook gave up:') && t.includes(`${review.id}`));

  // Unmatched: an amount no invoice asks for.
  const odd = await s.pay(paid.recipient, '15550000');
  await told((t) => t.startsWith('Unmatched transfer:') && t.includes(odd.tx) && t.includes('15.55 USDT'));

  // Watcher lag: 200 new blocks at once, read two at a time, put the cursor far behind the head.
  await s.net.mine(200);
  const lag = await told((t) => t.startsWith('Watcher behind: devnet '));
  assert.match(lag.found[0].text, /is \d+ blocks behind the chain head/);

  // Once each, however many looks and changes since.
  await s.net.mine(2);
  await new Promise((r) => setTimeout(r, 600));
  for (const needle of [`Paid: invoice ${paid.id}`, `Review needed: invoice ${review.id}`, odd.tx]) {
    assert.equal(telegram.messages.filter((m) => m.text.includes(needle)).length, 1, needle);
    assert.equal(mails.filter((m) => m.body.includes(needle)).length, 1, needle);
  }
  const rows = await s.app.db.all(`SELECT key FROM notifications_sent WHERE key LIKE 'telegram:settled:%'`);
  assert.ok(rows.some((r) => r.key === `telegram:settled:${paid.id}`));
});

test('a failed Telegram send is tried again, and the token appears in no message', { timeout: 30000 }, async () => {
  telegram.failNext(2);
  const inv = (await s.api('POST', '/api/v1/invoices', { amount: '17', networks: ['devnet'], order_id: 'notify-retry' })).body;
  await s.pay(inv.recipient, inv.amount_due_units);
  await s.net.mine(3);
  await s.waitInvoice(inv.id, (i) => i.state === 'settled');
  const { found } = await told((t) => t.includes(inv.id) && t.startsWith('Paid:'));
  assert.equal(found.length, 1);
  assert.ok(telegram.messages.every((m) => !m.text.includes(TOKEN)));
  assert.ok(mails.every((m) => !m.raw.includes(TOKEN)));
});

test('the console\'s test message goes out on both channels', async () => {
  const before = [telegram.messages.length, mails.length];
  await s.app.notifier.test();
  assert.equal(telegram.messages.at(-1).text, 'Test message from the Stablegate console: notifications reach this chat.');
  assert.equal(telegram.messages.length, before[0] + 1);
  assert.equal(mails.length, before[1] + 1);
});
