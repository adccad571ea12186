// Lookups over the core's network registry (data compiled into the core).
import sg = require('./core');
import type { RegistryNetwork, RegistryToken } from '../../crates/wasm/pkg/node/stablegate_wasm';

const byId = new Map<string, RegistryNetwork>(sg.networks().map((n) => [n.id, n]));

/** Returns the registry entry of `id`, or undefined. */
export function network(id: string): RegistryNetwork | undefined {
  return byId.get(id);
}

/** Returns the token `tokenId` of network `networkId` (its default token when absent), or undefined. */
export function token(networkId: string, tokenId?: string | null): RegistryToken | undefined {
  const net = byId.get(networkId);
  if (!net) return undefined;
  return tokenId ? net.tokens.find((t) => t.id === tokenId) : net.tokens[0];
}

const hexes = new Map<string, string>();

/**
 * The 0x-hex form of an address the server knows (its receiving addresses, the registry's token
 * contracts, the addresses the core hands back), parsed by the core once and remembered, so a
 * poll or a write does not cross into the core once per transfer to read an address it has seen.
 */
export function hexOf(networkId: string, address: string): string {
  const key = `${networkId} ${address}`;
  let hex = hexes.get(key);
  if (hex === undefined) {
    hex = sg.parseAddress(networkId, address).hex;
    if (hexes.size >= 10000) hexes.clear(); // addresses from claims are anyone's: keep it bounded
    hexes.set(key, hex);
  }
  return hex;
}

/** Returns the JSON-RPC form of a transaction hash (TRON's have no 0x prefix in the core's form). */
export function rpcTxHash(hash: string): string {
  return hash.startsWith('0x') ? hash : `0x${hash}`;
}

/** Returns the 32-byte topic of an address given as 0x + 40 hex. */
export function addressTopic(hex: string): string {
  return `0x${hex.slice(2).toLowerCase().padStart(64, '0')}`;
}

export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
