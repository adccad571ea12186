// A JSON-RPC proxy in front of the devnet, for tests and benchmarks: it forwards every request,
// counts them (HTTP requests and JSON-RPC methods), and on demand drops the connection (an RPC
// outage) or refuses eth_getLogs over more than `maxRange` blocks the way hosted providers do, or
// answers every batch that holds an eth_getLogs, a receipt or a numbered block from a node `lag` blocks behind the
// head that the other requests report (a load-balanced provider whose backends are not in step),
// or fails the next `failLogs` eth_getLogs (of contract `failLogsOf`) with a transient error, or
// (`ignoreFilter`) answers eth_getLogs as a faulty provider that ignores the address and topics,
// or (`limited`) refuses every request the way a public endpoint over its rate limit does: 'http'
// answers HTTP 429 with Retry-After, 'rpc' a JSON-RPC error -32005 "limit exceeded". It records the
// widest eth_getLogs range and the longest batch it was sent (`widestLogs`, `longestBatch`).
'use strict';
const http = require('node:http');

/** The contract addresses an eth_getLogs call filters on, lower-cased. */
function addressesOf(call) {
  const address = call.params[0]?.address;
  return (Array.isArray(address) ? address : [address]).map((a) => String(a).toLowerCase());
}

async function startProxy(target, { maxRange = Infinity, chainId = null } = {}) {
  const state = { down: false, maxRange, lag: 0, failLogs: 0, failLogsOf: null, ignoreFilter: false, limited: null, requests: 0, methods: {}, refusedRanges: 0, logsByAddress: {}, widestLogs: 0, longestBatch: 0 };
  const tooWide = (call) => {
    if (call.method !== 'eth_getLogs') return false;
    const { fromBlock, toBlock } = call.params[0] ?? {};
    if (typeof fromBlock !== 'string' || typeof toBlock !== 'string' || !toBlock.startsWith('0x')) return false;
    return Number(toBlock) - Number(fromBlock) + 1 > state.maxRange;
  };
  const rpc = async (method, params) => {
    const r = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    return (await r.json()).result;
  };
  // What a node `state.lag` blocks behind answers: its own head, no logs, blocks or receipts past it.
  const lagging = async (calls, batch) => {
    const behind = Number(await rpc('eth_blockNumber', [])) - state.lag;
    const answers = [];
    for (const c of calls) {
      let result;
      if (c.method === 'eth_blockNumber') {
        result = `0x${behind.toString(16)}`;
      } else if (c.method === 'eth_getLogs') {
        const filter = { ...c.params[0] };
        const to = Math.min(Number(filter.toBlock), behind);
        result = Number(filter.fromBlock) > to ? [] : await rpc('eth_getLogs', [{ ...filter, toBlock: `0x${to.toString(16)}` }]);
      } else if (c.method === 'eth_getBlockByNumber' && /^0x/.test(c.params[0]) && Number(c.params[0]) > behind) {
        result = null;
      } else if (c.method === 'eth_getTransactionReceipt') {
        result = await rpc(c.method, c.params);
        if (result && Number(result.blockNumber) > behind) result = null;
      } else {
        result = await rpc(c.method, c.params);
      }
      answers.push({ jsonrpc: '2.0', id: c.id, result });
    }
    return batch ? answers : answers[0];
  };
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (state.down) {
        req.socket.destroy(); // as a dead provider: the connection drops
        return;
      }
      state.requests++;
      const text = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        res.writeHead(400).end();
        return;
      }
      const calls = Array.isArray(body) ? body : [body];
      state.longestBatch = Math.max(state.longestBatch, calls.length);
      if (state.limited === 'http') {
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '60' }).end('Too Many Requests');
        return;
      }
      if (state.limited === 'rpc') {
        const errors = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code: -32005, message: 'limit exceeded' } }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
        return;
      }
      for (const c of calls) {
        state.methods[c.method] = (state.methods[c.method] ?? 0) + 1;
        if (c.method === 'eth_getLogs' && /^0x/.test(c.params[0]?.toBlock ?? '')) {
          state.widestLogs = Math.max(state.widestLogs, Number(c.params[0].toBlock) - Number(c.params[0].fromBlock) + 1);
        }
        // A filter names one contract or several (the server asks for every token at once).
        if (c.method === 'eth_getLogs') for (const address of addressesOf(c)) state.logsByAddress[address] = (state.logsByAddress[address] ?? 0) + 1;
      }
      if (chainId !== null && calls.some((c) => c.method === 'eth_chainId')) {
        // Poses as a node of another chain (a misconfigured RPC URL).
        const answers = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, result: c.method === 'eth_chainId' ? `0x${chainId.toString(16)}` : null }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(body) ? answers : answers[0]));
        return;
      }
      if (state.failLogs > 0 && calls.some((c) => c.method === 'eth_getLogs' && addressesOf(c).includes(state.failLogsOf))) {
        state.failLogs--;
        const errors = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code: -32000, message: 'header not found' } }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
        return;
      }
      if (state.ignoreFilter) {
        for (const c of calls) if (c.method === 'eth_getLogs') c.params = [{ fromBlock: c.params[0].fromBlock, toBlock: c.params[0].toBlock }];
      }
      const refused = calls.filter(tooWide);
      if (refused.length) {
        state.refusedRanges += refused.length;
        const errors = calls.map((c) => ({ jsonrpc: '2.0', id: c.id, error: { code: -32005, message: `query exceeds max block range ${state.maxRange}` } }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.isArray(body) ? errors : errors[0]));
        return;
      }
      try {
        // The watcher's own batches (logs with their node's head; the headers of numbered blocks)
        // land on the lagging backend; its head query (eth_blockNumber, the finality tag) does not.
        const lagged = (c) => c.method === 'eth_getLogs' || c.method === 'eth_getTransactionReceipt' || (c.method === 'eth_getBlockByNumber' && /^0x/.test(c.params[0]));
        if (state.lag > 0 && calls.some(lagged)) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(await lagging(calls, Array.isArray(body))));
          return;
        }
        const upstream = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    reset() {
      state.requests = 0;
      state.methods = {};
      state.refusedRanges = 0;
      state.logsByAddress = {};
      state.widestLogs = 0;
      state.longestBatch = 0;
    },
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    }),
  };
}

module.exports = { startProxy };
