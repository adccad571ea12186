// The chain watcher (DESIGN §6): transport only. Each poll of a network asks the core for a plan
// per token (planPoll: the range past its final cursor up to the head, and the entries whose
// blocks to check), asks the node for the Transfer logs of every token contract to any of the
// merchant's receiving addresses over the union of those ranges (one eth_getLogs, topic 2 as an
// array) and for one batch of block headers, then hands each token's share to the core once
// (applyPoll) and stores the outcome in one transaction with its cursor, so a restart or an
// outage never skips a block. Ranges split by themselves when a provider caps them. HTTP requests
// per poll: the head (and the finality tag), the logs (batched with the answering node's head),
// the headers — 3, whatever the number of tokens and of open invoices. With public endpoints a
// catch-up after downtime is paced by the core (watch_settings' PollPace): at most its blocks per
// poll, its eth_getLogs requests of maxRange blocks and its batches of maxBatch headers, so the
// requests per poll stay within what the endpoints allow and the rest waits for the next polls.
//
// Several processes may share the database: a network is polled only by the process holding its
// lease (`watch:<network>`, lease.ts); the others stand by, read the head it saw, and take over
// when it stops renewing. Everything a poll stores is fenced by that lease in the same
// transaction, so a process that lost it meanwhile stores nothing and never moves a cursor back.
import sg = require('./core');
import type { EthLog, Invoice, PollPlan, Transfer } from '../../crates/wasm/pkg/node/stablegate_wasm';
import type { Config, NetworkConfig } from './config';
import type { Db, Queryable } from './db';
import { ApiError, coreCode } from './errors';
import { LedgerConflict, WriteConflict } from './invoices';
import type { Invoices } from './invoices';
import { LeaseLost, Leases } from './lease';
import type { Logger } from './log';
import { addressTopic, hexOf, network as registryNetwork, rpcTxHash, token as registryToken, TRANSFER_TOPIC } from './registry';
import { RpcClient, RpcError, RpcUnavailable } from './rpc';

interface Block {
  number: string;
  hash: string;
  timestamp: string;
}

interface Receipt {
  status: string;
  blockHash: string;
  blockNumber: string;
  logs: EthLog[];
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The lease of a network's watcher. */
const lease = (net: NetworkConfig) => `watch:${net.id}`;

/** One token's share of a poll: its final cursor, its credited entries not final yet, its plan. */
interface TokenPlan {
  tokenId: string;
  contract: string;
  cursor: number;
  pending: Awaited<ReturnType<Invoices['pendingEntries']>>;
  plan: PollPlan;
  from: number;
  to: number;
}

export interface NetworkState {
  network: string;
  head: number | null;
  cursors: Record<string, number>;
  polls: number;
  failures: number;
  lastError: string | null;
  lastPollAt: number | null;
  maxRange: number;
  rpc: RpcClient;
  /** The most HTTP requests one poll has made (the design's budget is 3 per network). */
  maxRequestsPerPoll: number;
  /** Whether this process polls the network (it holds the lease) or stands by; null before the first try. */
  role: 'active' | 'standby' | null;
  /** The process holding the network's lease, as last seen. */
  holder: string | null;
  epoch: number | null;
}

/** How long a watcher's lease lasts unless renewed: a few poll intervals, at least a second. */
export function leaseTtl(net: NetworkConfig): number {
  return Math.max(3 * net.pollMs, 1000);
}

/** More receiving addresses to watch on a network (display form or hex), asked at every poll. */
export type AddressSource = (network: string) => Promise<string[]>;

export class Watcher {
  readonly states = new Map<string, NetworkState>();
  private readonly sources: AddressSource[] = [];
  private timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private active = new Set<Promise<unknown>>();
  /** Per (network, token): the search for where a bounded backfill starts (done when lo = hi). */
  private bounds = new Map<string, { t: number | null; lo: number; hi: number }>();

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly invoices: Invoices,
    private readonly log: Logger,
    private readonly leases: Leases,
  ) {
    for (const net of config.networks) {
      this.states.set(net.id, {
        network: net.id,
        head: null,
        cursors: {},
        polls: 0,
        failures: 0,
        lastError: null,
        lastPollAt: null,
        maxRange: net.maxRange,
        rpc: new RpcClient(net.rpc, 10000, registryNetwork(net.id)!.chain_id, net.maxBatch),
        maxRequestsPerPoll: 0,
        role: null,
        holder: null,
        epoch: null,
      });
    }
  }

  rpc(network: string): RpcClient {
    const state = this.states.get(network);
    if (!state) throw new Error(`network ${network} is not configured`);
    return state.rpc;
  }

  start(): void {
    this.running = true;
    for (const net of this.config.networks) this.schedule(net, 0);
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.active]);
    // Handed over at once rather than when the lease lapses.
    for (const net of this.config.networks) if (this.leases.holds(lease(net))) await this.leases.release(lease(net)).catch(() => undefined);
  }

  private schedule(net: NetworkConfig, delay: number) {
    if (!this.running) return;
    const timer = setTimeout(() => {
      const run = this.poll(net).then(
        () => {
          const state = this.states.get(net.id) as NetworkState;
          state.failures = 0;
          this.schedule(net, net.pollMs);
        },
        (error) => {
          const state = this.states.get(net.id) as NetworkState;
          if (error instanceof LeaseLost) {
            // Not a failure: another process polls this network now.
            this.log.warn('watcher lease lost; standing by', { network: net.id });
            state.role = 'standby';
            this.schedule(net, net.pollMs);
            return;
          }
          if (error instanceof WriteConflict || error instanceof LedgerConflict) {
            // Not a failure either: a claim, a review or a sweep wrote meanwhile; the poll runs
            // again from the same cursor at the next interval (nothing of this one was stored).
            this.log.info('watcher poll dropped: the store changed meanwhile; polling again', { network: net.id, reason: (error as Error).message });
            this.schedule(net, net.pollMs);
            return;
          }
          state.failures++;
          state.lastError = (error as Error).message;
          // Backoff with jitter, capped at a minute, while the RPC fails or rate-limits.
          const backoff = Math.min(60000, net.pollMs * 2 ** Math.min(state.failures, 8));
          const delay = Math.round(backoff / 2 + (Math.random() * backoff) / 2);
          this.log.warn('watcher poll failed', { network: net.id, error: state.lastError, retry_ms: delay, rpc: state.rpc.health() });
          this.schedule(net, delay);
        },
      );
      this.active.add(run);
      void run.finally(() => this.active.delete(run));
    }, delay);
    this.timers.set(net.id, timer);
  }

  /**
   * One poll of one network, when this process holds its lease: every token's logs since its
   * cursor, then finality. Returns false when another process holds the lease (nothing polled).
   */
  async poll(net: NetworkConfig): Promise<boolean> {
    const state = this.states.get(net.id) as NetworkState;
    const epoch = await this.leases.acquire(lease(net), leaseTtl(net));
    if (epoch === null) {
      state.role = 'standby';
      state.holder = (await this.leases.get(lease(net)))?.holder ?? null;
      const seen = await this.db.get<{ head: number }>(`SELECT head FROM chain_heads WHERE network = ?`, [net.id]);
      if (seen) {
        state.head = Number(seen.head);
        this.invoices.heads.set(net.id, state.head);
      }
      return false;
    }
    if (state.epoch !== epoch) this.log.info('watcher lease taken', { network: net.id, epoch });
    state.role = 'active';
    state.holder = this.leases.holder;
    state.epoch = epoch;
    // Renewed while the poll runs, however slow the provider: a live holder keeps its lease (a
    // process that stops running stops renewing, and loses it as before).
    const ttl = leaseTtl(net);
    const renewal = setInterval(() => void this.leases.renew(lease(net), epoch, ttl).catch(() => undefined), Math.floor(ttl / 3));
    try {
      await this.pollHeld(net, state, epoch);
    } finally {
      clearInterval(renewal);
    }
    return true;
  }

  /** The poll itself, while this process holds the network's lease. */
  private async pollHeld(net: NetworkConfig, state: NetworkState, epoch: number): Promise<void> {
    const registry = registryNetwork(net.id)!;
    const rpc = state.rpc;
    const requestsBefore = rpc.requests;
    const tag = registry.finality.tag;
    const calls: [string, unknown[]][] = [['eth_blockNumber', []]];
    if (tag) calls.push(['eth_getBlockByNumber', [tag, false]]);
    const first = await rpc.batch(calls);
    for (const r of first) if (r instanceof RpcError) throw r;
    const head = Number(first[0] as string);
    const tagged = tag && first[1] ? Number((first[1] as Block).number) : undefined;
    state.head = head;
    this.invoices.heads.set(net.id, head);
    const receiving = await this.receiving(net);
    const topics = [TRANSFER_TOPIC, null, receiving.map(addressTopic)];
    const ours = new Set(receiving.map(addressTopic));

    // The core plans each token: the range past its final cursor (so a replacement block at an
    // already-scanned height is searched again) and the entries whose blocks to check.
    const plans: TokenPlan[] = [];
    for (const tokenId of net.tokens) {
      const contract = hexOf(net.id, registryToken(net.id, tokenId)!.contract);
      let cursor = await this.cursor(net, epoch, tokenId, head, rpc);
      // Past the merchant's max_blocks_per_poll (not the paced catch-up, which only spreads the
      // search over several polls) the blocks before the oldest watched invoice are skipped.
      if (head - cursor > net.backfillBlocks) {
        // Paced (public endpoints): the search for where to start takes what is left of this
        // poll's requests; unfinished, or with too few requests left to scan, it goes on (or the
        // scan starts, from the saved cursor) next poll, and this one scans nothing.
        const steps = net.requestsPerPoll === null ? null : net.requestsPerPoll - (rpc.requests - requestsBefore);
        const bounded = await this.boundBackfill(net, epoch, tokenId, cursor, head, rpc, steps);
        const left = net.requestsPerPoll === null ? Infinity : net.requestsPerPoll - (rpc.requests - requestsBefore);
        if (bounded === null || left < (net.logRequests ?? 0) + (net.headerRequests ?? 0)) {
          state.maxRequestsPerPoll = Math.max(state.maxRequestsPerPoll, rpc.requests - requestsBefore);
          state.lastError = null;
          state.lastPollAt = Date.now();
          return;
        }
        cursor = bounded;
      }
      const pending = await this.invoices.pendingEntries(net.id, tokenId);
      const plan = sg.planPoll(net.id, {
        cursor: String(cursor),
        head: String(head),
        tagged: tagged === undefined ? null : String(tagged),
        min_confirmations: String(net.minConfirmations),
        max_blocks: String(net.maxBlocksPerPoll),
        pending: pending.map(({ tx_hash, log_index, block_number }) => ({ tx_hash, log_index, block_number })),
      });
      plans.push({ tokenId, contract, cursor, pending, plan, from: Number(plan.from), to: Number(plan.to) });
    }
    // One eth_getLogs over the union of the ranges, for every token contract at once (DESIGN §13:
    // at most 3 requests per network per poll, whatever the number of tokens and invoices).
    const searching = plans.filter((p) => p.from <= p.to);
    const from = Math.min(...searching.map((p) => p.from));
    const to = Math.max(...searching.map((p) => p.to));
    // A range within the remembered limit is one request whatever the limit: forget a limit
    // that a transient error may have set (a real cap is learnt again, in a few refused
    // calls, when a wide range is next needed).
    if (searching.length && to - from + 1 <= state.maxRange) state.maxRange = net.maxRange;
    const contracts = searching.map((p) => p.contract);
    const scanned = searching.length
      ? await this.getLogs(state, contracts.length === 1 ? contracts[0] : contracts, topics, from, to, net.logRequests)
      : { logs: [], to: head };
    // The filter is the provider's; this check is ours. A log of another contract (a fake
    // "USDT"), to another address, or outside its token's own range is not that token's.
    const valid = scanned.logs.filter((l) => !l.removed && l.topics[0]?.toLowerCase() === TRANSFER_TOPIC && ours.has(String(l.topics[2]).toLowerCase()));
    const logsOf = (p: TokenPlan) =>
      valid.filter((l) => l.address.toLowerCase() === p.contract && Number(l.blockNumber) >= p.from && Number(l.blockNumber) <= p.to);
    // One batch of headers for every token: the blocks of the logs (their times, and whether a log
    // in a block already final is canonical) and the blocks at the heights of the entries to check.
    // Paced (the core's PollPace, public endpoints): at most headerRequests batches of maxBatch
    // headers, the entries to check first, then the blocks of the logs from the lowest. A check
    // left unasked is looked at next poll; a log left without its header is placed by its own
    // blockTimestamp or held by the core for a later poll (the cursor stays below it).
    const allChecks = plans.flatMap((p) => p.plan.checks.map((c) => Number(c.block_number)));
    const allBlocks = [...new Set(plans.flatMap((p) => logsOf(p).map((l) => Number(l.blockNumber))))].sort((a, b) => a - b);
    const room = net.headerRequests !== null && net.maxBatch !== null ? net.headerRequests * net.maxBatch : Infinity;
    const checkNumbers = allChecks.slice(0, room);
    const blockNumbers = allBlocks.slice(0, Math.max(0, room - checkNumbers.length));
    const fetched = blockNumbers.length + checkNumbers.length
      ? await rpc.batch([...blockNumbers, ...checkNumbers].map((b): [string, unknown[]] => ['eth_getBlockByNumber', [hex(b), false]]))
      : [];
    for (const r of fetched) if (r instanceof RpcError) throw r;
    const headers = [...fetched, ...allChecks.slice(checkNumbers.length).map(() => null)];
    const header = (b: unknown) => {
      const block = b as Block | null;
      return block ? { number: String(Number(block.number)), hash: block.hash.toLowerCase(), timestamp: String(Number(block.timestamp)) } : null;
    };
    const blocks = headers.slice(0, blockNumbers.length).map(header).filter((b) => b !== null);
    let checkAt = blockNumbers.length;

    for (const token of plans) {
      const { tokenId, cursor, pending, plan, to: planTo } = token;
      const logs = logsOf(token);
      const checks = plan.checks.map((c) => ({ tx_hash: c.tx_hash, log_index: c.log_index, block: header(headers[checkAt++]) }));
      const searchedTo = Math.min(scanned.to, planTo);
      const owners = new Set(pending.filter((p) => plan.checks.some((c) => c.tx_hash === p.tx_hash && c.log_index === p.log_index)).map((p) => p.invoice));
      const { rows, unmatched } = await this.invoices.pollState(net.id, tokenId, logs.map((l) => l.transactionHash), [...owners]);
      const outcome = sg.applyPoll(net.id, {
        now: String(this.invoices.clock()),
        cursor: String(cursor),
        head: String(head),
        tagged: tagged === undefined ? null : String(tagged),
        min_confirmations: String(net.minConfirmations),
        searched_to: String(searchedTo),
        // The raw logs: the core decodes them and takes their times from the headers, in this
        // one crossing (a log whose block the node lost meanwhile waits for a later poll).
        logs,
        blocks,
        checks,
        invoices: rows.map((r) => this.invoices.record(r) as Invoice),
        unmatched,
      });
      // The stored cursor is the core's final cursor (the blocks past it are searched again until
      // final); health and metrics show how far the chain has been searched.
      const next = Number(outcome.cursor);
      await this.invoices.storePoll(net.id, tokenId, rows, outcome, async (q) => {
        await this.saveCursor(net, epoch, tokenId, next, q);
        await q.run(
          `INSERT INTO chain_heads (network, head, updated_at) VALUES (?, ?, ?) ON CONFLICT (network) DO UPDATE SET head = excluded.head, updated_at = excluded.updated_at`,
          [net.id, head, Math.floor(Date.now() / 1000)],
        );
      });
      if (outcome.rewound) this.log.warn('cursor rewound', { network: net.id, token: tokenId, from: cursor, to: next });
      state.cursors[tokenId] = outcome.rewound ? next : Math.max(next, searchedTo);
      for (const w of outcome.ledger) {
        // Base units: a log line is no reason to cross into the core once per transfer.
        const fields = { network: net.id, token: tokenId, tx: w.transfer.tx_hash, amount_units: w.transfer.amount, block: Number(w.transfer.block_number) };
        if (w.op === 'insert') this.log.info(w.invoice ? 'transfer seen and credited' : 'transfer seen', { ...fields, invoice: w.invoice, status: w.status, outcome: w.note ?? (w.review ? 'review' : 'credit') });
        else if (w.status === 'removed') this.log.warn('transfer removed: its block is no longer canonical', { ...fields, invoice: w.invoice });
        else this.log.info(w.status === 'final' ? 'transfer final' : 'transfer seen again in a new block', { ...fields, invoice: w.invoice, confirmations: head - Number(w.transfer.block_number) + 1 });
      }
    }
    state.polls++;
    state.maxRequestsPerPoll = Math.max(state.maxRequestsPerPoll, rpc.requests - requestsBefore);
    state.lastError = null;
    state.lastPollAt = Date.now();
    await this.invoices.sweep();
  }

  /** Adds a source of receiving addresses (the Shopify app's installed shops). */
  addAddressSource(source: AddressSource): void {
    this.sources.push(source);
  }

  /**
   * The addresses a poll of `net` asks the node about (hex, each once): the server's own, every
   * source's (each installed Shopify shop's), and the recipients of watched invoices with their
   * own pool (a shop that uninstalled: until its last invoice stops being watched).
   */
  async receiving(net: NetworkConfig): Promise<string[]> {
    const all = net.addresses.map((a) => hexOf(net.id, a));
    for (const source of this.sources) for (const a of await source(net.id)) all.push(hexOf(net.id, a));
    all.push(...(await this.invoices.poolRecipients(net.id)));
    return [...new Set(all.map((a) => a.toLowerCase()))];
  }

  private async cursor(net: NetworkConfig, epoch: number, token: string, head: number, rpc: RpcClient): Promise<number> {
    const network = net.id;
    const row = await this.db.get<{ block: number }>(`SELECT block FROM cursors WHERE network = ? AND token = ?`, [network, token]);
    if (row) return Number(row.block);
    // First scan of this network and token: start just before the oldest watched invoice (less
    // the clock skew the core allows), found by block time; with none, at the head.
    const oldest = await this.db.get<{ t: number | null }>(`SELECT MIN(created_at) AS t FROM invoices WHERE network = ? AND token = ? AND watched = 1`, [
      network,
      token,
    ]);
    // A one-time setup cost of about log2(head) calls, not paced (the first scan of a token).
    const start = oldest?.t ? (await this.searchSteps(rpc, { lo: 0, hi: head }, Number(oldest.t) - 60, null)).lo : head;
    await this.db.tx((q) => this.saveCursor(net, epoch, token, start, q));
    return start;
  }

  /**
   * After long downtime, skips the blocks that cannot hold a payment for any watched invoice:
   * those before the oldest watched invoice was created (less the allowed clock skew), whose
   * transfers the core would refuse anyway. Payments from then on are all still scanned.
   */
  private async boundBackfill(net: NetworkConfig, epoch: number, token: string, cursor: number, head: number, rpc: RpcClient, steps: number | null): Promise<number | null> {
    const network = net.id;
    const oldest = await this.db.get<{ t: number | null }>(`SELECT MIN(created_at) AS t FROM invoices WHERE network = ? AND token = ? AND watched = 1`, [
      network,
      token,
    ]);
    const key = `${network}:${token}`;
    const t = oldest?.t ? Number(oldest.t) : null;
    // The search costs about log2(head − cursor) calls: done once per oldest invoice, not every
    // poll, and (paced) spread over polls. The blocks up to the cursor were searched already.
    let bound = this.bounds.get(key);
    if (bound?.t !== t) {
      bound = t === null ? { t, lo: head, hi: head } : { t, lo: cursor, hi: head };
      this.bounds.set(key, bound);
    }
    if (t !== null) Object.assign(bound, await this.searchSteps(rpc, bound, t - 60, steps));
    if (bound.lo < bound.hi) return null;
    const start = bound.lo;
    if (start <= cursor) return cursor;
    this.log.info('backfill bounded: skipping blocks before the oldest watched invoice', { network, token, from: cursor + 1, to: start });
    await this.db.tx((q) => this.saveCursor(net, epoch, token, start, q));
    return start;
  }

  /**
   * Binary search for the last block whose time is before `time`, within [lo, hi]: at most
   * `steps` calls (null: to the end). Returns the bounds it reached.
   */
  private async searchSteps(rpc: RpcClient, bound: { lo: number; hi: number }, time: number, steps: number | null): Promise<{ lo: number; hi: number }> {
    let { lo, hi } = bound;
    for (let n = 0; lo < hi && (steps === null || n < steps); n++) {
      const mid = Math.ceil((lo + hi) / 2);
      const block = await rpc.call<Block | null>('eth_getBlockByNumber', [hex(mid), false]);
      if (block && Number(block.timestamp) < time) lo = mid;
      else hi = mid - 1;
    }
    return { lo, hi };
  }

  /** Saves a cursor inside a transaction fenced by the network's lease at `epoch`: a stale process saves nothing. */
  private async saveCursor(net: NetworkConfig, epoch: number, token: string, block: number, q: Queryable) {
    await this.leases.fence(q, lease(net), epoch, leaseTtl(net));
    await q.run(
      `INSERT INTO cursors (network, token, block, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (network, token) DO UPDATE SET block = excluded.block, updated_at = excluded.updated_at`,
      [net.id, token, block, Math.floor(Date.now() / 1000)],
    );
  }

  /**
   * eth_getLogs over [from, to], split in halves (and remembered) when the provider refuses a
   * range. Returns the logs and the last block searched: each eth_getLogs goes in one batch with
   * the answering node's own head, so a node behind the head this poll started from (a
   * load-balanced provider's backends are not in step) is searched only up to the blocks it has,
   * and the cursor stops there instead of passing blocks that nobody searched. At most
   * `maxRequests` requests (the core's pace; null for no limit), refused ones included.
   */
  private async getLogs(state: NetworkState, contract: string | string[], topics: unknown[], from: number, to: number, maxRequests: number | null): Promise<{ logs: EthLog[]; to: number }> {
    const out: EthLog[] = [];
    let start = from;
    let requests = 0;
    while (start <= to) {
      // Paced (public endpoints): the rest of the range waits for the next poll, from the cursor.
      if (maxRequests !== null && requests++ >= maxRequests) return { logs: out, to: start - 1 };
      const end = Math.min(to, start + state.maxRange - 1);
      const [logs, nodeHead] = await state.rpc.batch([
        ['eth_getLogs', [{ fromBlock: hex(start), toBlock: hex(end), address: contract, topics }]],
        ['eth_blockNumber', []],
      ]);
      if (logs instanceof RpcError) {
        if (end === start) throw logs;
        state.maxRange = Math.max(1, Math.floor((end - start + 1) / 2));
        this.log.warn('eth_getLogs range refused; splitting', { network: state.network, range: end - start + 1, now: state.maxRange, error: logs.message });
        continue;
      }
      if (nodeHead instanceof RpcError) throw nodeHead;
      const searched = Math.min(end, Number(nodeHead));
      out.push(...(logs as EthLog[]).filter((l) => Number(l.blockNumber) <= searched));
      if (searched < end) {
        this.log.warn('the RPC node is behind; scanning the rest next poll', { network: state.network, node_head: Number(nodeHead), wanted: end });
        return { logs: out, to: Math.max(start - 1, searched) };
      }
      start = end + 1;
    }
    return { logs: out, to };
  }

  /** The Transfer logs of a transaction, fetched by the server itself (claims). */
  async transfersOf(network: string, txHash: string): Promise<Transfer[]> {
    const rpc = this.rpc(network);
    // Without the chain a claim cannot be judged: say so as a retryable answer.
    const call = <T>(method: string, params: unknown[]) =>
      rpc.call<T>(method, params).catch((error: unknown) => {
        if (error instanceof RpcUnavailable) throw new ApiError('rpc_unavailable', `no ${network} RPC answered; try again shortly`, undefined, 10);
        throw error;
      });
    const receipt = await call<Receipt | null>('eth_getTransactionReceipt', [rpcTxHash(txHash)]);
    if (!receipt) throw new ApiError('transaction_not_found', `no such transaction on ${network} (yet)`, 'tx_hash');
    if (receipt.status !== '0x1') throw new ApiError('transaction_failed', 'the transaction failed on chain; it moved nothing', 'tx_hash');
    const block = await call<Block | null>('eth_getBlockByNumber', [receipt.blockNumber, false]);
    if (!block) throw new ApiError('transaction_not_found', `the block of this transaction is not on ${network} now (reorganised?)`, 'tx_hash');
    // Only the registry's token contracts can pay an invoice (the claim keeps its own token's):
    // a log of any other contract is not decoded at all, so however malformed, it fails nothing.
    const contracts = new Set((registryNetwork(network)?.tokens ?? []).map((t) => hexOf(network, t.contract)));
    return receipt.logs
      .filter((l) => l.topics[0]?.toLowerCase() === TRANSFER_TOPIC && l.topics.length === 3 && contracts.has(l.address.toLowerCase()))
      .map((l) => {
        let t: Transfer;
        try {
          t = sg.decodeTransferLog(network, { ...l, removed: false });
        } catch (error) {
          throw new ApiError(coreCode(error) ?? 'invalid_log', `log ${Number(l.logIndex)} of the token contract ${l.address} cannot be read as a Transfer: ${(error as Error).message}`, 'tx_hash');
        }
        t.block_time = String(Number(block.timestamp));
        return t;
      });
  }
}
