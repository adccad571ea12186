// The merchant console's sign-in (server-only): the admin password's slow hash, the optional TOTP
// second factor (RFC 6238), sessions kept in the database, and the CSRF token of each session.
// The cookie holds 256 random bits; the database holds only their SHA-256, so a copy of the
// database signs nobody in. A new session id is made at every sign-in (no fixation: an id the
// browser brought is never promoted), and sign-out deletes the row.
import crypto = require('node:crypto');
import type http = require('node:http');
import type { Db } from '../db';

/**
 * scrypt's cost parameters (RFC 7914): N = 2^15, r = 8, p = 1 costs 32 MiB and about 0.1 s per
 * guess on one core, OWASP's recommended minimum for scrypt. They are stored with each hash, so
 * raising them later leaves the old hash readable.
 */
export const SCRYPT = { N: 32768, r: 8, p: 1, keylen: 32 } as const;

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(password, salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Hashes `password` as `scrypt$N$r$p$salt$hash` (base64url salt and hash). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** True when `password` matches `stored` (a hashPassword result); compared in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), keylen: expected.length });
  return crypto.timingSafeEqual(key, expected);
}

/** A password the CLI accepts: 12 to 1024 characters (long enough to resist offline guessing). */
export function checkPasswordStrength(password: string): string | null {
  if (password.length < 12) return 'the password must have at least 12 characters';
  if (password.length > 1024) return 'the password must have at most 1024 characters';
  return null;
}

// ------------------------------------------------------------------ TOTP (RFC 6238, RFC 4226)

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (the form authenticator apps read from otpauth:// URIs). */
export function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function fromBase32(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of clean) {
    const v = BASE32.indexOf(c);
    if (v < 0) throw new Error(`the TOTP secret is not base32 (the character ${JSON.stringify(c)})`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code of `secret` at unix time `seconds` (30-second steps, HMAC-SHA1 by default). */
export function totp(secret: Buffer, seconds: number, digits = 6, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = crypto.createHmac(algorithm, secret).update(counter).digest();
  // RFC 4226 §5.3, dynamic truncation.
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return String(code).padStart(digits, '0');
}

/** True when `code` is the TOTP of `secret` now or one step either side (clock drift). */
export function verifyTotp(secretBase32: string, code: string, seconds: number): boolean {
  if (!/^[0-9]{6}$/.test(code)) return false;
  const secret = fromBase32(secretBase32);
  return [-30, 0, 30].some((d) => crypto.timingSafeEqual(Buffer.from(totp(secret, seconds + d)), Buffer.from(code)));
}

/** The otpauth:// URI an authenticator app reads (as text or a QR code). */
export function otpauthUri(secretBase32: string, label = 'Stablegate console'): string {
  return `otpauth://totp/${encodeURIComponent(label)}?secret=${secretBase32}&issuer=Stablegate&algorithm=SHA1&digits=6&period=30`;
}

// ------------------------------------------------------------------ the admin and sessions

export interface Admin {
  password_hash: string;
  totp_secret: string | null;
}

export async function getAdmin(db: Db): Promise<Admin | undefined> {
  return db.get<Admin>(`SELECT password_hash, totp_secret FROM console_admin WHERE id = 1`);
}

/**
 * Sets the admin password (and the TOTP secret: a new one, null to turn TOTP off, undefined to
 * keep it), and signs every session out: a changed password ends every session it opened.
 */
export async function setAdmin(db: Db, password: string, totpSecret?: string | null): Promise<void> {
  const hash = await hashPassword(password);
  const now = Math.floor(Date.now() / 1000);
  await db.tx(async (q) => {
    const current = await q.get<Admin>(`SELECT password_hash, totp_secret FROM console_admin WHERE id = 1`);
    const secret = totpSecret === undefined ? current?.totp_secret ?? null : totpSecret;
    if (current) await q.run(`UPDATE console_admin SET password_hash = ?, totp_secret = ?, updated_at = ? WHERE id = 1`, [hash, secret, now]);
    else await q.run(`INSERT INTO console_admin (id, password_hash, totp_secret, updated_at) VALUES (1, ?, ?, ?)`, [hash, secret, now]);
    await q.run(`DELETE FROM console_sessions`);
  });
}

/** A session lasts 12 hours from sign-in, then the merchant signs in again. */
export const SESSION_SECONDS = 12 * 3600;
export const SESSION_COOKIE = 'sg_console';
/** The sign-in form's CSRF cookie (double submit: before sign-in there is no session row). */
export const PRE_COOKIE = 'sg_console_pre';

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
export const randomToken = () => crypto.randomBytes(32).toString('base64url');

export interface Session {
  idHash: string;
  csrf: string;
}

/** Opens a new session (a fresh id, never one the browser brought); returns the cookie value. */
export async function openSession(db: Db, now: number): Promise<{ cookie: string; session: Session }> {
  const cookie = randomToken();
  const session = { idHash: sha256(cookie), csrf: randomToken() };
  await db.run(`DELETE FROM console_sessions WHERE expires_at <= ?`, [now]);
  await db.run(`INSERT INTO console_sessions (id_hash, csrf, created_at, expires_at) VALUES (?, ?, ?, ?)`, [session.idHash, session.csrf, now, now + SESSION_SECONDS]);
  return { cookie, session };
}

/** The live session of cookie value `cookie`, or null. */
export async function findSession(db: Db, cookie: string | undefined, now: number): Promise<Session | null> {
  if (!cookie || cookie.length > 100) return null;
  const row = await db.get<{ id_hash: string; csrf: string }>(`SELECT id_hash, csrf FROM console_sessions WHERE id_hash = ? AND expires_at > ?`, [sha256(cookie), now]);
  return row ? { idHash: row.id_hash, csrf: row.csrf } : null;
}

export async function closeSession(db: Db, cookie: string | undefined): Promise<void> {
  if (cookie) await db.run(`DELETE FROM console_sessions WHERE id_hash = ?`, [sha256(cookie)]);
}

/** True when the two tokens are equal (constant time); false when either is missing. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

// ------------------------------------------------------------------ cookies

export function readCookies(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    // The first occurrence wins (the most specific path comes first, RFC 6265 §5.4).
    if (!(name in out)) out[name] = part.slice(i + 1).trim();
  }
  return out;
}

/**
 * A Set-Cookie header for the console: HttpOnly, SameSite=Strict, path /, and Secure when the
 * browser reached the server over https (`secure`). `maxAge` 0 deletes the cookie.
 */
export function cookieHeader(name: string, value: string, secure: boolean, maxAge: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

/**
 * True when the browser reached the server over https: a TLS socket, a public_url on https, or
 * X-Forwarded-Proto: https set by one of the trusted proxies (from any other peer it proves nothing).
 */
export function overHttps(req: http.IncomingMessage, publicUrl: string | null, trustedProxies: string[]): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (publicUrl?.startsWith('https:')) return true;
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const proto = req.headers['x-forwarded-proto'];
  return trustedProxies.includes(remote) && typeof proto === 'string' && proto.split(',')[0].trim() === 'https';
}
