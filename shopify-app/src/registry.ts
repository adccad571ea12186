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

/** Returns the JSON-RPC form of a transaction hash (TRON's have no 0x prefix in the core's form). */
export function rpcTxHash(hash: string): string {
  return hash.startsWith('0x') ? hash : `0x${hash}`;
}

/** Returns the 32-byte topic of an address given as 0x + 40 hex. */
export function addressTopic(hex: string): string {
  return `0x${hex.slice(2).toLowerCase().padStart(64, '0')}`;
}

export const TRANSFER_TOPIC = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
