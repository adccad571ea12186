// The load generator of the creation benchmark, in its own thread so that the client's HTTP
// work does not share the server's event loop: POSTs `total` invoices with `concurrency`
// keep-alive connections and reports the rate and the created invoices.
'use strict';
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');

const { url, total, concurrency, apiKey, prices } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const one = (i) =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify(prices ? { amount: String(prices.base + (i % prices.count) * (prices.spacing ?? 1)), networks: ['devnet'] } : {});
    const req = http.request(`${url}/api/v1/invoices`, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => (res.statusCode === 201 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode} ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });

(async () => {
  let next = 0;
  const created = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) created.push(await one(next++));
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  parentPort.postMessage({ perSecond: total / seconds, invoices: created.map((c) => ({ recipient: c.recipient, amount_due_units: c.amount_due_units })) });
})().catch((error) => parentPort.postMessage({ error: error.message }));
