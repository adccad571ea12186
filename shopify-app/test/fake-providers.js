// FAKES of the Binance Pay merchant API and of the NOWPayments API: neither can run here (and
// Binance has no merchant sandbox). Built from their documented payloads (reference/standards.md
// §6.1 and §6.3) and signing the way each provider signs, with Node's crypto only (independent
// of the Rust core under test): Binance checks every request's HMAC-SHA512 and signs webhooks
// with RSA-SHA256 using a key pair of the test's own; NOWPayments signs IPNs with HMAC-SHA512 over
// JSON.stringify(sortObject(body)), its documented Node example.
const crypto = require('node:crypto');
const http = require('node:http');

function listen(handler) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** FAKE Binance Pay. `apiKey`/`apiSecret`: the merchant's credentials it expects. */
async function fakeBinance({ apiKey, apiSecret }) {
  const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serial = crypto.createHash('md5').update(key.publicKey.export({ type: 'spki', format: 'pem' })).digest('hex');
  const state = { orders: new Map(), calls: [], certFetches: 0, down: false, badRequests: 0 };
  const server = await listen((req, res, body) => {
    const ts = req.headers['binancepay-timestamp'];
    const nonce = req.headers['binancepay-nonce'];
    const expected = crypto.createHmac('sha512', apiSecret).update(`${ts}\n${nonce}\n${body}\n`).digest('hex').toUpperCase();
    state.calls.push(req.url);
    if (state.down) return json(res, 503, { status: 'FAIL', code: '400000', errorMessage: 'service unavailable' });
    if (req.headers['binancepay-certificate-sn'] !== apiKey || req.headers['binancepay-signature'] !== expected || !/^[A-Za-z]{32}$/.test(nonce ?? '')) {
      state.badRequests++;
      return json(res, 400, { status: 'FAIL', code: '400002', errorMessage: 'Signature for this request is not valid.' });
    }
    const input = JSON.parse(body);
    if (req.url === '/binancepay/openapi/certificates') {
      state.certFetches++;
      return json(res, 200, { status: 'SUCCESS', code: '000000', data: [{ certSerial: serial, certPublic: key.publicKey.export({ type: 'spki', format: 'pem' }) }] });
    }
    if (req.url === '/binancepay/openapi/v3/order') {
      const prepayId = String(29383937493038367n + BigInt(state.orders.size));
      state.orders.set(input.merchantTradeNo, { ...input, prepayId, status: 'INITIAL' });
      return json(res, 200, {
        status: 'SUCCESS', code: '000000',
        data: { prepayId, terminalType: 'WEB', expireTime: Date.now() + 3600000, qrcodeLink: 'https://public.bnbstatic.com/qr.jpg', qrContent: 'https://app.binance.com/qr/x', checkoutUrl: `https://pay.binance.com/en/checkout/${prepayId}`, deeplink: 'bnc://app.binance.com/payment/secpay?x', universalUrl: 'https://app.binance.com/payment/secpay?x' },
      });
    }
    if (req.url === '/binancepay/openapi/v2/order/query') {
      const order = state.orders.get(input.merchantTradeNo);
      return order ? json(res, 200, { status: 'SUCCESS', code: '000000', data: { merchantTradeNo: input.merchantTradeNo, status: order.status } }) : json(res, 200, { status: 'FAIL', code: '400201', errorMessage: 'order not found' });
    }
    if (req.url === '/binancepay/openapi/order/close') {
      const order = state.orders.get(input.merchantTradeNo);
      if (order) order.status = 'CANCELED';
      return json(res, 200, { status: 'SUCCESS', code: '000000', data: true });
    }
    return json(res, 404, { status: 'FAIL', code: '404', errorMessage: 'not found' });
  });
  /** A webhook as Binance sends it: headers and body, RSA-SHA256 signed (optionally by `signer`). */
  function webhook(merchantTradeNo, bizStatus, { timestamp = Date.now(), signer = key.privateKey, certSerial = serial, totalFee } = {}) {
    const order = state.orders.get(merchantTradeNo);
    const data = { merchantTradeNo, productType: 'Food', productName: order?.description ?? 'x', transactTime: timestamp, tradeType: 'WEB', totalFee: totalFee ?? Number(order?.orderAmount ?? 0), currency: 'USDT', openUserId: '1211HS10K81f4273ac031', commission: 0 };
    const body = JSON.stringify({ bizType: bizStatus.startsWith('REFUND') ? 'PAY_REFUND' : 'PAY', bizId: 29383937493038367, bizIdStr: '29383937493038367', bizStatus, data: JSON.stringify(data) });
    const nonce = Array.from(crypto.randomBytes(32), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[b % 52]).join('');
    const signature = crypto.sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), signer).toString('base64');
    return { body, headers: { 'content-type': 'application/json', 'BinancePay-Timestamp': String(timestamp), 'BinancePay-Nonce': nonce, 'BinancePay-Signature': signature, 'BinancePay-Certificate-SN': certSerial } };
  }
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    webhook,
    otherKey: () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

function sortObject(obj) {
  return Object.keys(obj).sort().reduce((r, k) => {
    r[k] = obj[k] && typeof obj[k] === 'object' ? sortObject(obj[k]) : obj[k];
    return r;
  }, {});
}

/** FAKE NOWPayments (api base /v1). */
async function fakeNowPayments({ apiKey, ipnSecret }) {
  const state = { invoices: new Map(), payments: new Map(), calls: [] };
  const server = await listen((req, res, body) => {
    state.calls.push(`${req.method} ${req.url}`);
    if (req.headers['x-api-key'] !== apiKey) return json(res, 403, { statusCode: 403, code: 'INVALID_API_KEY', message: 'Invalid api key' });
    if (req.method === 'POST' && req.url === '/v1/invoice') {
      const input = JSON.parse(body);
      const id = String(4522625843 + state.invoices.size);
      state.invoices.set(id, input);
      return json(res, 200, { id, token_id: 'fakeToken', order_id: input.order_id, order_description: input.order_description, price_amount: String(input.price_amount), price_currency: input.price_currency, pay_currency: null, ipn_callback_url: input.ipn_callback_url, invoice_url: `https://nowpayments.io/payment/?iid=${id}`, success_url: input.success_url ?? null, cancel_url: input.cancel_url ?? null, created_at: new Date().toISOString(), updated_at: new Date().toISOString() });
    }
    const m = /^\/v1\/payment\/(\d+)$/.exec(req.url);
    if (req.method === 'GET' && m) {
      const p = state.payments.get(m[1]);
      return p ? json(res, 200, p) : json(res, 404, { statusCode: 404, message: 'payment not found' });
    }
    return json(res, 404, { statusCode: 404, message: 'not found' });
  });
  /** An IPN as NOWPayments sends it for `orderId`, the payment's state updated in the fake too. */
  function ipn(orderId, status, { paymentId = '5077125051', secret = ipnSecret } = {}) {
    const invoice = [...state.invoices.entries()].find(([, v]) => v.order_id === orderId);
    const [invoiceId, input] = invoice ?? ['0', { price_amount: 0, price_currency: 'usdttrc20' }];
    const payment = {
      payment_id: Number(paymentId), parent_payment_id: null, invoice_id: Number(invoiceId), payment_status: status,
      pay_address: 'TQ7Z3Ze3xTd1b9wUu3G8h7p8uH7fDj3kXy', payin_extra_id: null, price_amount: input.price_amount, price_currency: input.price_currency,
      pay_amount: input.price_amount, actually_paid: status === 'finished' ? input.price_amount : 0, actually_paid_at_fiat: 0, pay_currency: 'usdttrc20',
      order_id: orderId, order_description: input.order_description, purchase_id: '5837122679', outcome_amount: input.price_amount, outcome_currency: 'usdttrc20',
      payment_extra_ids: null, fee: { currency: 'usdttrc20', depositFee: 0, withdrawalFee: 0, serviceFee: 0 },
    };
    state.payments.set(String(paymentId), payment);
    const body = JSON.stringify(payment);
    const sig = crypto.createHmac('sha512', secret).update(JSON.stringify(sortObject(payment))).digest('hex');
    return { body, headers: { 'content-type': 'application/json', 'x-nowpayments-sig': sig } };
  }
  return {
    url: `http://127.0.0.1:${server.address().port}/v1`,
    state,
    ipn,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

module.exports = { fakeBinance, fakeNowPayments };
