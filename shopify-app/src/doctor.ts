// `stablegate doctor`: checks a configuration against the world — addresses valid, each RPC
// reachable and on the right chain, eth_getLogs range limits, rate sources fresh, webhook URLs
// allowed, the database reachable — and says each problem in one plain sentence.
import sg = require('./core');
import type { Config } from './config';
import { openDb } from './db';
import { createLogger } from './log';
import { Rates } from './rates';
import { network as registryNetwork, token as registryToken, TRANSFER_TOPIC } from './registry';
import { RpcClient, RpcUnavailable, redactUrl } from './rpc';
import { checkDestination } from './webhooks';

export interface Finding {
  ok: boolean;
  message: string;
}

const RANGES = [100000, 10000, 5000, 2000, 1000, 500, 100, 10];

/**
 * One sentence for an RPC that did not answer: rate-limiting (HTTP 429, a JSON-RPC limit error)
 * or unreachable, and for the registry's public endpoints what that means and what to do.
 */
function rpcTrouble(network: string, name: string, message: string, publicRpc: boolean): string {
  const detail = message.replace(/^every RPC URL failed \(last: [^:]+(?::\/\/[^:]+)?(?::\d+)?: /, '').replace(/\)$/, '');
  if (/rate-limited/.test(message)) {
    return publicRpc
      ? `${network}: the public endpoint ${name} is limiting how often it may be asked (${detail}). Public endpoints are shared with everyone: the watcher waits and fails over to the next one, so payments are seen later, not lost; for a busy shop add your own under networks.${network}.rpc.`
      : `${network}: the RPC at ${name} is limiting how often it may be asked (${detail}); payments are seen later while it does. Raise your plan with the provider, add another URL, or raise poll_ms.`;
  }
  return publicRpc
    ? `${network}: the public endpoint ${name} cannot be reached (${detail}). This server may have no internet access, or the endpoint may be down or blocked here; the watcher fails over to the next one, and if none answers add your own under networks.${network}.rpc.`
    : `${network}: the RPC at ${name} cannot be reached: ${detail}.`;
}

export async function doctor(config: Config): Promise<Finding[]> {
  const findings: Finding[] = [];
  const ok = (message: string) => findings.push({ ok: true, message });
  const problem = (message: string) => findings.push({ ok: false, message });

  try {
    const { db } = await openDb(config.database);
    await db.close();
    ok(`The ${config.database.url ? 'PostgreSQL' : 'SQLite'} database opens and its schema is current.`);
  } catch (error) {
    problem(`The database cannot be opened: ${(error as Error).message}.`);
  }

  for (const net of config.networks) {
    const registry = registryNetwork(net.id)!;
    if (net.publicRpc) {
      const operators = [...new Set(registry.rpc.map((e) => e.operator))].join(', ');
      ok(
        `${net.id}: no RPC of your own is configured, so the registry's public endpoints are in use (${operators}), polled every ${(net.pollMs / 1000).toFixed(1)} s within their published limits. ` +
          `They are shared with everyone: fine for a first payment and a quiet shop; for a busy one add your own under networks.${net.id}.rpc (a provider key or your node).`,
      );
    }
    for (const address of net.addresses) {
      try {
        sg.parseAddress(net.id, address);
        ok(`${net.id}: receiving address ${address} is valid.`);
      } catch (error) {
        problem(`${net.id}: receiving address ${address} is not valid (${(error as Error).message}).`);
      }
    }
    for (const url of net.rpc) {
      const name = redactUrl(url);
      const rpc = new RpcClient([url], 8000);
      try {
        const chainId = Number(await rpc.call<string>('eth_chainId'));
        if (chainId !== registry.chain_id) {
          problem(`${net.id}: the RPC at ${name} is on chain ${chainId}, but ${net.id} is chain ${registry.chain_id}.`);
          continue;
        }
        const head = Number(await rpc.call<string>('eth_blockNumber'));
        ok(`${net.id}: the RPC at ${name} answers on chain ${chainId}, head block ${head}.`);
        if (registry.finality.tag) {
          const tagged = await rpc.call<{ number: string } | null>('eth_getBlockByNumber', [registry.finality.tag, false]).catch(() => null);
          if (!tagged) problem(`${net.id}: the RPC at ${name} does not answer the "${registry.finality.tag}" block tag, which finality on ${net.id} needs.`);
        }
        const contracts = net.tokens.map((t) => sg.parseAddress(net.id, registryToken(net.id, t)!.contract).hex);
        let accepted = 0;
        for (const range of RANGES) {
          if (range > net.maxRange && range !== RANGES[RANGES.length - 1] && accepted === 0 && range > head) continue;
          const from = Math.max(0, head - range + 1);
          try {
            await rpc.call('eth_getLogs', [{ fromBlock: `0x${from.toString(16)}`, toBlock: `0x${head.toString(16)}`, address: contracts, topics: [TRANSFER_TOPIC] }]);
            accepted = range;
            break;
          } catch (error) {
            // A rate limit or an outage is no range limit: said as such below.
            if (error instanceof RpcUnavailable) throw error;
            // try the next, smaller range
          }
        }
        if (accepted === 0) problem(`${net.id}: the RPC at ${name} refuses eth_getLogs even over 10 blocks.`);
        else if (accepted < net.maxRange) problem(`${net.id}: the RPC at ${name} accepts eth_getLogs over ${accepted} blocks at most; set max_range to ${accepted} or less (it is ${net.maxRange}).`);
        else ok(`${net.id}: the RPC at ${name} accepts eth_getLogs over ${accepted} blocks.`);
      } catch (error) {
        problem(rpcTrouble(net.id, name, (error as Error).message, net.publicRpc));
      }
    }
  }

  const rates = new Rates(config.rates, () => Math.floor(Date.now() / 1000), createLogger('silent'));
  for (const rate of config.rates) {
    if (rate.fixed) {
      ok(`Rate ${rate.currency}: fixed at ${rate.fixed} USDT.`);
      continue;
    }
    try {
      const fetched = await rates.fetchSource(rate);
      ok(`Rate ${rate.currency}: the source answers ${fetched.rate} USDT.`);
    } catch (error) {
      problem(`Rate ${rate.currency}: the source ${redactUrl(rate.url as string)} gives no usable rate (${(error as Error).message}), so invoices in ${rate.currency} will be refused.`);
    }
  }

  for (const endpoint of config.webhooks.endpoints) {
    try {
      await checkDestination(endpoint);
      ok(`Webhook ${endpoint.name}: ${redactUrl(endpoint.url)} is an allowed destination.`);
    } catch (error) {
      problem(`Webhook ${endpoint.name}: ${(error as Error).message}.`);
    }
  }
  if (config.webhooks.endpoints.length === 0) problem('No webhook endpoint is configured, so your systems will not hear of payments (poll the API instead, or add webhooks.endpoints).');
  return findings;
}
