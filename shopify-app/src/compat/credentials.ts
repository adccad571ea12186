// Compatibility credentials: an Epusdt token, or an EPay pid and key, per merchant integration
// (a panel), separate from API keys. Both protocols sign with MD5 over the secret itself, so the
// server must have the secret in plaintext to verify a request: it is stored encrypted
// (AES-256-GCM, the key derived from the environment variable `compat.encryption_key_env` names,
// the credential's id bound in as associated data); its SHA-256 is stored beside it for the one
// check that needs no plaintext (EPay's query API, which sends the key itself).
import crypto = require('node:crypto');
import net = require('node:net');
import { Db, isUniqueViolation } from '../db';

export type Protocol = 'epusdt' | 'epay';

export interface CredentialRow {
  id: string;
  name: string;
  protocol: Protocol;
  pid: number | null;
  secret_enc: string;
  secret_hash: string;
  /** JSON list of IP addresses and CIDR ranges allowed to call, or null for any. */
  allow_ips: string | null;
  /** 1: notify URLs may be loopback or private addresses (a panel on the same host or LAN). */
  allow_private: number;
  created_at: number;
  revoked: number;
}

/** A credential with its secret decrypted, for checking one request. */
export interface Credential {
  id: string;
  name: string;
  protocol: Protocol;
  pid: number | null;
  secret: string;
  allowPrivate: boolean;
  allows(address: string | undefined): boolean;
}

const sha256 = (text: string) => crypto.createHash('sha256').update(text, 'utf8').digest('hex');

/** AES-256-GCM over the secrets, keyed from the configured environment variable. */
export class SecretBox {
  private readonly key: Buffer;

  /** `material`: the variable's value, at least 32 characters (e.g. `openssl rand -hex 32`), stretched by HKDF-SHA256. */
  constructor(material: string) {
    if (material.length < 32) throw new Error('the compat encryption key must be at least 32 characters (e.g. `openssl rand -hex 32`)');
    this.key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(material, 'utf8'), Buffer.alloc(0), 'stablegate compat credentials v1', 32));
  }

  seal(id: string, plaintext: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), body.toString('base64'), cipher.getAuthTag().toString('base64')].join(':');
  }

  open(id: string, sealed: string): string {
    const [version, iv, body, tag] = sealed.split(':');
    if (version !== 'v1') throw new Error(`credential ${id}: unknown encryption format`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(`credential ${id}: cannot decrypt its secret (was compat.encryption_key_env changed?)`);
    }
  }
}

/** Parses an allow-list entry (`203.0.113.7`, `2001:db8::/32`); throws naming it when malformed. */
function addEntry(list: net.BlockList, entry: string) {
  const [address, bits] = entry.split('/');
  const family = net.isIP(address);
  if (!family) throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR range`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) return list.addAddress(address, type);
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new Error(`${JSON.stringify(entry)} has a bad prefix length`);
  list.addSubnet(address, prefix, type);
}

/** Checks and normalises an allow-list given on the command line (comma-separated). */
export function parseAllowList(text: string | undefined): string[] | null {
  if (text === undefined || text.trim() === '') return null;
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  for (const entry of entries) addEntry(new net.BlockList(), entry);
  return entries;
}

function allowsFn(allowIps: string | null): (address: string | undefined) => boolean {
  if (allowIps === null) return () => true;
  const list = new net.BlockList();
  for (const entry of JSON.parse(allowIps) as string[]) addEntry(list, entry);
  return (address) => {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const plain = mapped ? mapped[1] : address;
    return list.check(plain, net.isIPv4(plain) ? 'ipv4' : 'ipv6');
  };
}

export class Credentials {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
  ) {}

  private unseal(row: CredentialRow): Credential {
    return {
      id: row.id,
      name: row.name,
      protocol: row.protocol,
      pid: row.pid === null ? null : Number(row.pid),
      secret: this.box.open(row.id, row.secret_enc),
      allowPrivate: Number(row.allow_private) === 1,
      allows: allowsFn(row.allow_ips),
    };
  }

  /**
   * Creates a credential; returns it with its secret, which is shown once. An EPay credential gets
   * a numeric pid (clients insist on one); an Epusdt request names no merchant, so its token alone
   * tells credentials apart.
   */
  async create(input: { name: string; protocol: Protocol; allowIps?: string[] | null; allowPrivate?: boolean }): Promise<{ id: string; pid: number | null; secret: string }> {
    if (input.protocol !== 'epusdt' && input.protocol !== 'epay') throw new Error('the protocol is epusdt or epay');
    const id = `cc_${crypto.randomBytes(8).toString('hex')}`;
    // Hex: panels paste it into forms and config files; 128 bits (EPay keys are 32 characters).
    const secret = crypto.randomBytes(input.protocol === 'epay' ? 16 : 20).toString('hex');
    for (let attempt = 0; ; attempt++) {
      const pid = input.protocol === 'epay' ? crypto.randomInt(100000, 1000000) : null;
      try {
        await this.db.run(
          `INSERT INTO compat_credentials (id, name, protocol, pid, secret_enc, secret_hash, allow_ips, allow_private, created_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
          [id, input.name, input.protocol, pid, this.box.seal(id, secret), sha256(secret), input.allowIps ? JSON.stringify(input.allowIps) : null,
            input.allowPrivate ? 1 : 0, Math.floor(Date.now() / 1000)],
        );
        return { id, pid, secret };
      } catch (error) {
        // Another credential has this pid: draw again.
        if (attempt > 20 || !isUniqueViolation(error)) throw error;
      }
    }
  }

  /** Every credential without its secret, newest first. */
  async list(): Promise<Omit<CredentialRow, 'secret_enc' | 'secret_hash'>[]> {
    return this.db.all(`SELECT id, name, protocol, pid, allow_ips, allow_private, created_at, revoked FROM compat_credentials ORDER BY created_at DESC, id`);
  }

  /** Revokes credential `id` for good; false when there is no such live credential. */
  async revoke(id: string): Promise<boolean> {
    return (await this.db.run(`UPDATE compat_credentials SET revoked = 1 WHERE id = ? AND revoked = 0`, [id])) === 1;
  }

  /** The live Epusdt credentials, decrypted (a request is checked against each token). */
  async epusdt(): Promise<Credential[]> {
    const rows = await this.db.all<CredentialRow>(`SELECT * FROM compat_credentials WHERE protocol = 'epusdt' AND revoked = 0`);
    return rows.map((r) => this.unseal(r));
  }

  /** The live EPay credential of merchant `pid`, decrypted, or null. */
  async epay(pid: string): Promise<Credential | null> {
    if (!/^[1-9]\d{0,8}$/.test(pid)) return null;
    const row = await this.db.get<CredentialRow>(`SELECT * FROM compat_credentials WHERE protocol = 'epay' AND pid = ? AND revoked = 0`, [Number(pid)]);
    return row ? this.unseal(row) : null;
  }

  /** Any credential by id, decrypted, revoked or not (callbacks of orders made while it was live). */
  async byId(id: string): Promise<Credential | null> {
    const row = await this.db.get<CredentialRow>(`SELECT * FROM compat_credentials WHERE id = ?`, [id]);
    return row ? this.unseal(row) : null;
  }

  /** True when `key` is the key of live EPay credential `pid` (compared by hash, in constant time). */
  async epayKeyMatches(pid: string, key: string): Promise<boolean> {
    if (!/^[1-9]\d{0,8}$/.test(pid)) return false;
    const row = await this.db.get<{ secret_hash: string }>(`SELECT secret_hash FROM compat_credentials WHERE protocol = 'epay' AND pid = ? AND revoked = 0`, [Number(pid)]);
    const given = Buffer.from(sha256(key), 'hex');
    const stored = Buffer.from(row?.secret_hash ?? sha256(''), 'hex');
    return crypto.timingSafeEqual(given, stored) && row !== undefined;
  }
}
