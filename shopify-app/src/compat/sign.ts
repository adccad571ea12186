// The MD5 signatures of the Epusdt and EPay V1 protocols, and the wire values they are computed
// over. Both protocols sign `k=v` pairs sorted by key, joined with `&`, with the secret appended,
// over the values as the other side sent them. A JSON number therefore keeps its text here: the
// request's own digits are signed (a Python client signs `42.0`), and so is the shortest form (a
// PHP panel writes `42.0` but signs `42`); numbers this server sends are in the shortest form.
// Reference: the project's shared reference compat.md (assimon/epusdt `sign.go`, zxh1220/epay `Pay.php`).
import crypto = require('node:crypto');

/** A value as received on the wire: its kind and its exact text (a number's digits, a string's characters). */
export interface WireValue {
  kind: 'string' | 'number' | 'boolean' | 'null' | 'object';
  text: string;
}

/** A request's fields in the order received, each key once. */
export type WireFields = Map<string, WireValue>;

/** A number written out by this server: its text goes into the JSON as digits, not as a string. */
export class RawNumber {
  constructor(readonly text: string) {}
}

/**
 * The shortest decimal form of a JSON number's text, as Go's `FormatFloat(v, 'f', -1, 64)` and
 * PHP's string conversion print an amount: no exponent, no trailing zeros, no trailing point
 * (`42.0` → `42`, `19.90` → `19.9`, `1e2` → `100`). Exact on the digits, never through a float.
 */
export function shortestDecimal(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new Error(`not a JSON number: ${JSON.stringify(text)}`);
  const [, sign, whole, fraction = '', exponent = '0'] = m;
  const shift = Number(exponent);
  // Far beyond any amount: no language prints it in fixed notation either; signed as received.
  if (!Number.isSafeInteger(shift) || Math.abs(shift) > 400) return text;
  let digits = whole + fraction;
  let point = whole.length + shift;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const intPart = digits.slice(0, point).replace(/^0+(?=\d)/, '') || '0';
  const fracPart = digits.slice(point).replace(/0+$/, '');
  const body = fracPart ? `${intPart}.${fracPart}` : intPart;
  return sign && body !== '0' ? `-${body}` : body;
}

/**
 * The string that is signed: `k=v` over the fields not in `excluded` and not empty, sorted by key
 * in byte order, joined with `&` (values not URL-encoded). `numbers` says how a number is written:
 * as received, or in its shortest form.
 */
export function signingString(fields: WireFields, excluded: readonly string[], numbers: 'as-received' | 'shortest' = 'as-received'): string {
  const parts: [string, string][] = [];
  for (const [key, value] of fields) {
    if (excluded.includes(key) || value.kind === 'null' || value.kind === 'object' || value.text === '') continue;
    parts.push([key, value.kind === 'number' && numbers === 'shortest' ? shortestDecimal(value.text) : value.text]);
  }
  parts.sort(([a], [b]) => (Buffer.from(a) < Buffer.from(b) ? -1 : Buffer.from(a) > Buffer.from(b) ? 1 : 0));
  return parts.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Lowercase hex MD5 of the signing string with `secret` appended. */
export function md5Sign(fields: WireFields, excluded: readonly string[], secret: string, numbers: 'as-received' | 'shortest' = 'as-received'): string {
  return crypto.createHash('md5').update(signingString(fields, excluded, numbers) + secret, 'utf8').digest('hex');
}

/** Compares two signatures in constant time (a length difference is not secret: both are 32 hex digits). */
export function sameSignature(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received.toLowerCase(), 'utf8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/**
 * True when `signature` signs `fields` with `secret`, with the numbers as received or in their
 * shortest form (the two forms clients sign; both say the same value, so accepting either gives
 * an attacker nothing). Both are compared, whatever the first answer, in constant time.
 */
export function verifyMd5(fields: WireFields, excluded: readonly string[], secret: string, signature: string): boolean {
  const asReceived = sameSignature(md5Sign(fields, excluded, secret, 'as-received'), signature);
  const shortest = sameSignature(md5Sign(fields, excluded, secret, 'shortest'), signature);
  return asReceived || shortest;
}

/** The fields of a flat object this server builds (strings, RawNumbers, integers), as wire values. */
export function wireFieldsOf(object: Record<string, string | number | RawNumber>): WireFields {
  const fields: WireFields = new Map();
  for (const [key, value] of Object.entries(object)) {
    fields.set(key, value instanceof RawNumber || typeof value === 'number' ? { kind: 'number', text: String(value instanceof RawNumber ? value.text : value) } : { kind: 'string', text: value });
  }
  return fields;
}

/**
 * JSON text of a flat object whose RawNumber values are written as their digits (JSON.stringify
 * would go through a float). The markers carry a random nonce, so no string value can forge one.
 */
export function jsonWithRawNumbers(object: Record<string, unknown>): string {
  const nonce = crypto.randomBytes(8).toString('hex');
  const raws: string[] = [];
  const text = JSON.stringify(object, (_key, value) => {
    if (!(value instanceof RawNumber)) return value;
    raws.push(value.text);
    return `@raw:${nonce}:${raws.length - 1}`;
  });
  return text.replace(new RegExp(`"@raw:${nonce}:(\\d+)"`, 'g'), (_m, i: string) => raws[Number(i)]);
}

export class WireParseError extends Error {}

const LITERAL = /true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses a JSON object, keeping each top-level value's text: a number's digits as written, a
 * string decoded, a nested value marked `object`. A duplicated key is refused: a signature checked
 * over one copy must not pass for a request read from the other.
 */
export function parseJsonFields(text: string): WireFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new WireParseError('the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new WireParseError('the body must be a JSON object');
  // JSON.parse validated the text: walk the top level only, reading each value's extent.
  const fields: WireFields = new Map();
  let i = text.indexOf('{') + 1;
  const skipSpace = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const readString = () => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  for (;;) {
    skipSpace();
    if (text[i] === '}') break;
    if (text[i] === ',') {
      i++;
      skipSpace();
    }
    const key = readString();
    skipSpace();
    i++; // the colon
    skipSpace();
    let value: WireValue;
    const c = text[i];
    if (c === '"') {
      value = { kind: 'string', text: readString() };
    } else if (c === '{' || c === '[') {
      const start = i;
      let depth = 0;
      do {
        if (text[i] === '"') {
          readString();
          continue;
        }
        if (text[i] === '{' || text[i] === '[') depth++;
        if (text[i] === '}' || text[i] === ']') depth--;
        i++;
      } while (depth > 0);
      value = { kind: 'object', text: text.slice(start, i) };
    } else {
      LITERAL.lastIndex = i;
      const m = LITERAL.exec(text) as RegExpExecArray;
      i += m[0].length;
      value = m[0] === 'null' ? { kind: 'null', text: '' } : m[0] === 'true' || m[0] === 'false' ? { kind: 'boolean', text: m[0] } : { kind: 'number', text: m[0] };
    }
    if (fields.has(key)) throw new WireParseError(`the field ${JSON.stringify(key)} appears twice`);
    fields.set(key, value);
  }
  return fields;
}

/**
 * Parses form fields (`a=1&b=2`, the query string or an urlencoded body) as strings. A repeated
 * key is refused for the reason parseJsonFields gives; keys with brackets (PHP arrays) are array
 * values, which EPay leaves out of its signature, and are marked `object`.
 */
export function parseFormFields(text: string): WireFields {
  const fields: WireFields = new Map();
  for (const [key, value] of new URLSearchParams(text)) {
    if (fields.has(key)) throw new WireParseError(`the field ${JSON.stringify(key)} appears twice`);
    fields.set(key, key.includes('[') ? { kind: 'object', text: value } : { kind: 'string', text: value });
  }
  return fields;
}
