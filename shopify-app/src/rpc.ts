// A JSON-RPC client over several URLs of one network: fails over to the next URL when one is
// down or rate-limits, remembers which are unhealthy (and why), and counts every HTTP request.
export class RpcError extends Error {
  constructor(readonly method: string, readonly code: number | undefined, message: string, readonly data?: unknown) {
    super(`${method}: ${message}`);
  }
}

/** Every URL failed (down, timing out or rate-limiting). */
export class RpcUnavailable extends Error {}

interface Endpoint {
  url: string;
  /** The chain id was checked once (or needs no check). */
  checked: boolean;
  /** Set when the URL serves another chain: never used again. */
  wrongChain: string | null;
  healthy: boolean;
  failures: number;
  lastError: string | null;
  retryAt: number;
  requests: number;
  errors: number;
}

export type Call = [method: string, params: unknown[]];

/** The origin of a URL only: provider URLs often carry an API key in the path or query. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid-url';
  }
}

export class RpcClient {
  readonly endpoints: Endpoint[];
  /** HTTP requests made (a batch counts once). */
  requests = 0;
  private id = 0;

  /**
   * `chainId`: when given, each URL is checked once before use and refused if it serves another
   * chain. `maxBatch`: the most calls one request may carry (a public endpoint's documented limit,
   * from the registry); a longer batch is sent as several requests.
   */
  constructor(urls: string[], private readonly timeoutMs = 10000, private readonly chainId: number | null = null, private readonly maxBatch: number | null = null) {
    this.endpoints = urls.map((url) => ({ url, checked: chainId === null, wrongChain: null, healthy: true, failures: 0, lastError: null, retryAt: 0, requests: 0, errors: 0 }));
  }

  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const [result] = await this.batch([[method, params]]);
    if (result instanceof RpcError) throw result;
    return result as T;
  }

  /** Sends calls as one JSON-RPC batch (one HTTP request); each result is a value or an RpcError. */
  async batch(calls: Call[]): Promise<unknown[]> {
    if (calls.length === 0) return [];
    if (this.maxBatch !== null && calls.length > this.maxBatch) {
      const results: unknown[] = [];
      for (let i = 0; i < calls.length; i += this.maxBatch) results.push(...(await this.batch(calls.slice(i, i + this.maxBatch))));
      return results;
    }
    const now = Date.now();
    // Healthy endpoints first, in configured order; then the unhealthy ones whose pause is over.
    const order = [...this.endpoints].sort((a, b) => Number(b.healthy) - Number(a.healthy));
    let lastError = 'no RPC URL configured';
    for (const endpoint of order) {
      if (endpoint.wrongChain) continue;
      if (!endpoint.healthy && endpoint.retryAt > now && order.some((e) => e.healthy)) continue;
      try {
        if (!endpoint.checked) {
          const [id] = await this.send(endpoint, [['eth_chainId', []]]);
          if (id instanceof RpcError) throw new Error(`eth_chainId failed: ${id.message}`);
          endpoint.checked = true;
          if (Number(id) !== this.chainId) {
            endpoint.wrongChain = `serves chain ${Number(id)}, not ${this.chainId}; never used`;
            endpoint.healthy = false;
            endpoint.lastError = endpoint.wrongChain;
            lastError = `${redactUrl(endpoint.url)}: ${endpoint.wrongChain}`;
            continue;
          }
        }
        const results = await this.send(endpoint, calls);
        endpoint.healthy = true;
        endpoint.failures = 0;
        endpoint.lastError = null;
        return results;
      } catch (error) {
        if (error instanceof RpcError) throw error;
        endpoint.errors++;
        endpoint.failures++;
        endpoint.healthy = false;
        endpoint.lastError = (error as Error).message;
        endpoint.retryAt = Date.now() + Math.min(60000, 1000 * 2 ** Math.min(endpoint.failures, 6));
        lastError = `${redactUrl(endpoint.url)}: ${endpoint.lastError}`;
      }
    }
    throw new RpcUnavailable(`every RPC URL failed (last: ${lastError})`);
  }

  private async send(endpoint: Endpoint, calls: Call[]): Promise<unknown[]> {
    const single = calls.length === 1;
    const body = calls.map(([method, params]) => ({ jsonrpc: '2.0', id: ++this.id, method, params }));
    this.requests++;
    endpoint.requests++;
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(single ? body[0] : body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (response.status === 429) throw new Error('rate-limited (HTTP 429)');
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const json = (await response.json()) as unknown;
    // TronGrid's rate limit is no JSON-RPC answer: HTTP 200 with {"Error": "… lack of computing
    // resources …"} (shared/reference/landscape-2026-12.md §3.1). Any reply outside the envelope
    // is this endpoint failing, so the next one is tried.
    if (typeof json !== 'object' || json === null || (!Array.isArray(json) && !('jsonrpc' in json) && !('result' in json) && !('error' in json))) {
      const said = (json as { Error?: unknown } | null)?.Error;
      throw new Error(typeof said === 'string' && /computing resources/i.test(said) ? `rate-limited: ${said}` : 'not a JSON-RPC answer');
    }
    const replies = (Array.isArray(json) ? json : [json]) as { id: number; result?: unknown; error?: { code?: number; message?: string; data?: unknown } }[];
    const byId = new Map(replies.map((r) => [r.id, r]));
    return body.map((request, i) => {
      const reply = byId.get(request.id) ?? (single ? replies[0] : undefined);
      if (!reply) throw new Error(`no reply to ${calls[i][0]} in the batch`);
      if (reply.error) {
        // A public endpoint over its allowance: this endpoint fails (the next is tried). EIP-1474's
        // -32005 "limit exceeded" is one; a range or result-size refusal is not (it is halved).
        if (reply.error.code === 429 || /rate.?limit|too many requests|^limit exceeded|request limit|quota/i.test(reply.error.message ?? '')) {
          throw new Error(`rate-limited: ${reply.error.message}`);
        }
        return new RpcError(calls[i][0], reply.error.code, reply.error.message ?? 'error', reply.error.data);
      }
      return reply.result;
    });
  }

  /** Health of each URL, redacted, for /health and the metrics. */
  health() {
    return this.endpoints.map((e) => ({
      url: redactUrl(e.url),
      healthy: e.healthy,
      last_error: e.lastError,
      requests: e.requests,
      errors: e.errors,
    }));
  }
}
