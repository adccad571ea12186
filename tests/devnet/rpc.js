"use strict";
// Tiny JSON-RPC 2.0 client over Node 20's global fetch, plus a few hex helpers.
// Every error names the RPC method and the URL so test failures are readable.

let nextId = 1;

class RpcError extends Error {
  /**
   * @param {string} method
   * @param {string} message
   * @param {{code?: number, data?: unknown, url?: string, cause?: unknown}} [extra]
   */
  constructor(method, message, extra = {}) {
    super(`${method}: ${message}`, extra.cause ? { cause: extra.cause } : undefined);
    this.name = "RpcError";
    this.method = method;
    this.code = extra.code;
    this.data = extra.data;
    this.url = extra.url;
  }
}

/**
 * One JSON-RPC call. Resolves with `result`, rejects with RpcError.
 * @param {string} url
 * @param {string} method
 * @param {unknown[]} [params]
 * @param {{timeoutMs?: number}} [opts]
 */
async function call(url, method, params = [], opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 30000;
  let res;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
      signal: AbortSignal.timeout(timeoutMs), // its timer is unref'd by Node
    });
  } catch (e) {
    const why = e && e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : describeFetchError(e);
    throw new RpcError(method, `request to ${url} failed: ${why}`, { url, cause: e });
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RpcError(method, `HTTP ${res.status} from ${url}, not JSON: ${text.slice(0, 200)}`, { url });
  }
  if (body && body.error) {
    const err = body.error;
    const msg = typeof err.message === "string" ? err.message : JSON.stringify(err);
    throw new RpcError(method, msg, { code: err.code, data: err.data, url });
  }
  if (!res.ok) throw new RpcError(method, `HTTP ${res.status} from ${url}`, { url });
  if (!body || !("result" in body)) {
    throw new RpcError(method, `malformed response from ${url}: ${text.slice(0, 200)}`, { url });
  }
  return body.result;
}

function describeFetchError(e) {
  // undici hides the useful part (ECONNREFUSED, ...) in e.cause
  const c = e && e.cause;
  if (c && (c.code || c.message)) return [c.code, c.message].filter(Boolean).join(" ");
  return (e && e.message) || String(e);
}

/**
 * Bind a URL: `const rpc = createRpc(url); await rpc("eth_blockNumber")`.
 * @param {string} url
 * @param {{timeoutMs?: number}} [opts]
 * @returns {((method: string, params?: unknown[]) => Promise<any>) & {url: string}}
 */
function createRpc(url, opts = {}) {
  const rpc = (method, params = []) => call(url, method, params, opts);
  rpc.url = url;
  return rpc;
}

/** bigint|number|decimal-string -> JSON-RPC quantity ("0x1a", no leading zeros). */
function toQuantity(n) {
  const v = toBigInt(n);
  if (v < 0n) throw new RangeError(`negative quantity: ${n}`);
  return "0x" + v.toString(16);
}

/** Hex quantity, decimal string, number or bigint -> bigint. Rejects floats. */
function toBigInt(v) {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
    return BigInt(v);
  }
  if (typeof v === "string" && /^(0x[0-9a-fA-F]+|\d+)$/.test(v)) return BigInt(v);
  throw new TypeError(`not an integer: ${JSON.stringify(v)}`);
}

/** Left-pad 20-byte address / hex value to a 32-byte word, no 0x. */
function padWord(hex) {
  const h = String(hex).replace(/^0x/i, "").toLowerCase();
  if (!/^[0-9a-f]*$/.test(h) || h.length > 64) throw new TypeError(`not a <=32-byte hex value: ${hex}`);
  return h.padStart(64, "0");
}

/** Address -> 32-byte log topic ("0x000…addr", lower case). */
function addressTopic(addr) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(addr)) throw new TypeError(`not an address: ${addr}`);
  return "0x" + padWord(addr);
}

module.exports = { call, createRpc, RpcError, toQuantity, toBigInt, padWord, addressTopic };

/**
 * Poll eth_getTransactionReceipt until the receipt exists (some nodes return
 * from eth_sendTransaction before it does).
 * @param {string} url
 * @param {string} txHash
 * @param {{timeoutMs?: number, pollMs?: number}} [opts]
 * @returns {Promise<object>} the receipt (status not checked here)
 */
async function waitForReceipt(url, txHash, opts = {}) {
  const timeoutMs = opts.timeoutMs ?? 20000;
  const pollMs = opts.pollMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call(url, "eth_getTransactionReceipt", [txHash]);
    if (r) return r;
    if (Date.now() >= deadline) {
      throw new RpcError("eth_getTransactionReceipt", `no receipt for ${txHash} after ${timeoutMs} ms (is automine off? mine a block)`, { url });
    }
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

module.exports.waitForReceipt = waitForReceipt;
