// The MD5 signatures of Epusdt and EPay, walked over the shared vectors (compat-vectors.json) with
// the server's code, and cross-checked by an independent implementation: Python's json (keeping
// each number's digits) and hashlib. No devnet, no database.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { parseJsonFields, parseFormFields, signingString, md5Sign, verifyMd5, shortestDecimal, jsonWithRawNumbers, RawNumber, WireParseError } = require('../dist/compat/sign');
const vectors = require('./compat-vectors.json');

/** 'verified', or the kind of refusal: 'signature' (does not verify) or 'parse' (cannot be read). */
function outcome(verify) {
  try {
    return verify() ? 'verified' : 'signature';
  } catch (error) {
    return error instanceof WireParseError ? 'parse' : `threw ${error.message}`;
  }
}

const EPUSDT_EXCLUDED = ['signature'];
const EPAY_EXCLUDED = ['sign', 'sign_type'];

test('the vectors include the Epusdt documentation example and a number printed as 42.0', () => {
  const doc = vectors.epusdt.valid.find((v) => v.signature === '1cd4b52df5587cfb1968b0c0c6e156cd');
  assert.ok(doc && doc.token === 'epusdt_password_xasddawqe');
  assert.ok(vectors.epusdt.valid.some((v) => v.body.includes('"amount":42.0') && v.shortest_signature === doc.signature));
});

test('Epusdt vectors: signing strings and signatures, as received and in shortest form; either verifies', () => {
  for (const v of vectors.epusdt.valid) {
    const fields = parseJsonFields(v.body);
    assert.equal(signingString(fields, EPUSDT_EXCLUDED, 'as-received'), v.signing_string, v.name);
    assert.equal(signingString(fields, EPUSDT_EXCLUDED, 'shortest'), v.shortest_signing_string, v.name);
    assert.equal(md5Sign(fields, EPUSDT_EXCLUDED, v.token, 'as-received'), v.signature, v.name);
    assert.equal(md5Sign(fields, EPUSDT_EXCLUDED, v.token, 'shortest'), v.shortest_signature, v.name);
    assert.ok(verifyMd5(fields, EPUSDT_EXCLUDED, v.token, v.signature), v.name);
    assert.ok(verifyMd5(fields, EPUSDT_EXCLUDED, v.token, v.shortest_signature.toUpperCase()), `${v.name} (upper-case hex)`);
  }
});

test('Epusdt refusals: by kind (parse, signature)', () => {
  for (const v of vectors.epusdt.refused) {
    assert.equal(outcome(() => verifyMd5(parseJsonFields(v.body), EPUSDT_EXCLUDED, v.token, v.signature)), v.error, v.name);
  }
});

test('EPay vectors and refusals', () => {
  for (const v of vectors.epay.valid) {
    const fields = parseFormFields(v.query);
    assert.equal(signingString(fields, EPAY_EXCLUDED), v.signing_string, v.name);
    assert.equal(md5Sign(fields, EPAY_EXCLUDED, v.key), v.signature, v.name);
    assert.ok(verifyMd5(fields, EPAY_EXCLUDED, v.key, v.signature), v.name);
  }
  for (const v of vectors.epay.refused) {
    assert.equal(outcome(() => verifyMd5(parseFormFields(v.query), EPAY_EXCLUDED, v.key, v.signature)), v.error, v.name);
  }
});

test('an independent implementation (Python json + hashlib) computes the same strings and signatures', () => {
  const script = String.raw`
import hashlib, json, sys
from decimal import Decimal
from urllib.parse import parse_qsl
v = json.load(open(sys.argv[1], encoding="utf-8"))
md5 = lambda s: hashlib.md5(s.encode("utf-8")).hexdigest()
def shortest(t):
    s = format(Decimal(t), "f")
    return (s.rstrip("0").rstrip(".") if "." in s else s) or "0"
def sign_string(pairs, excluded, short):
    parts = []
    for k, val in pairs:
        if k in excluded or val is None or "[" in k: continue
        if isinstance(val, tuple): val = shortest(val[1]) if short else val[1]
        if val == "": continue
        parts.append((k.encode("utf-8"), k + "=" + str(val)))
    return "&".join(p for _, p in sorted(parts))
number = lambda t: ("n", t)
bad = []
for e in v["epusdt"]["valid"]:
    pairs = json.loads(e["body"], object_pairs_hook=list, parse_float=number, parse_int=number)
    for short, s_key, sig_key in ((False, "signing_string", "signature"), (True, "shortest_signing_string", "shortest_signature")):
        s = sign_string(pairs, ("signature",), short)
        if s != e[s_key] or md5(s + e["token"]) != e[sig_key]: bad.append(e["name"])
for e in v["epay"]["valid"]:
    s = sign_string(parse_qsl(e["query"], keep_blank_values=True), ("sign", "sign_type"), False)
    if s != e["signing_string"] or md5(s + e["key"]) != e["signature"]: bad.append(e["name"])
print(json.dumps(bad))
`;
  const bad = JSON.parse(execFileSync('python3', ['-c', script, path.join(__dirname, 'compat-vectors.json')], { encoding: 'utf8' }));
  assert.deepEqual(bad, []);
});

test('shortest decimal form and raw JSON numbers', () => {
  for (const [text, shortest] of [['42', '42'], ['42.0', '42'], ['19.90', '19.9'], ['0.10', '0.1'], ['4.2e1', '42'], ['1E-2', '0.01'], ['007', '7'], ['-0.0', '0'], ['123.456000', '123.456']]) {
    assert.equal(shortestDecimal(text), shortest, text);
  }
  // 12345678901234567.89 does not survive a float; written as digits it does.
  const text = jsonWithRawNumbers({ amount: new RawNumber('12345678901234567.89'), name: '@raw:0', n: 2 });
  assert.equal(text, '{"amount":12345678901234567.89,"name":"@raw:0","n":2}');
  assert.deepEqual([...parseJsonFields('{"a": 1.50, "b": "x", "c": null, "d": [1, {"e": "}"}], "f": true}')].map(([k, v]) => [k, v.kind, v.text]), [
    ['a', 'number', '1.50'], ['b', 'string', 'x'], ['c', 'null', ''], ['d', 'object', '[1, {"e": "}"}]'], ['f', 'boolean', 'true'],
  ]);
});
