// Merchant API keys: shown once, stored only as a SHA-256 hash (the keys are 256 random bits,
// so a fast hash is enough; nothing to stretch).
import crypto = require('node:crypto');
import type { Db } from './db';

export const hashKey = (key: string) => crypto.createHash('sha256').update(key).digest('hex');

/** Creates a key named `name`; returns the key itself (never stored) and its id. */
export async function createApiKey(db: Db, name: string, key = `sg_${crypto.randomBytes(32).toString('base64url')}`) {
  const id = `key_${crypto.randomBytes(8).toString('hex')}`;
  await db.run(`INSERT INTO api_keys (id, name, key_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key_hash) DO NOTHING`, [
    id,
    name,
    hashKey(key),
    Math.floor(Date.now() / 1000),
  ]);
  const row = await db.get<{ id: string }>(`SELECT id FROM api_keys WHERE key_hash = ?`, [hashKey(key)]);
  return { id: (row as { id: string }).id, key };
}

/** Revokes key `id` (a running server stops accepting it within its 30-second key cache); false when there is no such live key. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  return (await db.run(`UPDATE api_keys SET revoked = 1 WHERE id = ? AND revoked = 0`, [id])) === 1;
}

/** The name of the keys that come from `api_keys_env` (the CLI refuses it for its own keys). */
export const ENV_KEY_NAME = 'from environment';

// `revoked`: 0 live, 1 revoked with the CLI (for good), 2 withdrawn from api_keys_env (live again
// if the variable holds it again: an unset variable in one deployment must not kill keys for good).
const WITHDRAWN = 2;

/**
 * Makes the live keys of `api_keys_env` exactly the ones the variable holds now: stores new ones,
 * withdraws those no longer in it, and brings back withdrawn ones it holds again (never a key
 * revoked with the CLI). Returns the ids it withdrew.
 */
export async function syncEnvApiKeys(db: Db, keys: string[]): Promise<string[]> {
  for (const key of keys) await createApiKey(db, ENV_KEY_NAME, key);
  const current = new Set(keys.map(hashKey));
  const stored = await db.all<{ id: string; key_hash: string; revoked: number }>(`SELECT id, key_hash, revoked FROM api_keys WHERE name = ?`, [ENV_KEY_NAME]);
  const withdrawn: string[] = [];
  for (const key of stored) {
    const wanted = current.has(key.key_hash);
    if (!wanted && Number(key.revoked) === 0) {
      await db.run(`UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked = 0`, [WITHDRAWN, key.id]);
      withdrawn.push(key.id);
    } else if (wanted && Number(key.revoked) === WITHDRAWN) {
      await db.run(`UPDATE api_keys SET revoked = 0 WHERE id = ? AND revoked = ?`, [key.id, WITHDRAWN]);
    }
  }
  return withdrawn;
}

/** The id of the (unrevoked) key, or null. */
export async function findApiKey(db: Db, key: string): Promise<string | null> {
  const row = await db.get<{ id: string }>(`SELECT id FROM api_keys WHERE key_hash = ? AND revoked = 0`, [hashKey(key)]);
  return row ? row.id : null;
}
