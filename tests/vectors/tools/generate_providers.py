#!/usr/bin/env python3
"""Writes tests/vectors/providers/*.json: Binance Pay and NOWPayments signing and verification,
provider status mapping and provider amounts (reference/standards.md §6).

An independent oracle: every expected output is computed here, never copied from an
implementation under test.
  * Binance request signatures: Python's hmac/hashlib (HMAC-SHA512, uppercase hex) over
    timestamp + "\\n" + nonce + "\\n" + body + "\\n".
  * Binance webhook signatures: the `cryptography` package (RSA PKCS#1 v1.5 with SHA-256, base64),
    with the test's own key pairs in tools/provider_keys/ (made here once, test keys only; Binance
    has no merchant sandbox and its FAQ signing example does not reproduce, so it is not a vector).
  * NOWPayments canonical text: Node itself runs the documented example,
    JSON.stringify(sortObject(JSON.parse(body))); the HMAC is Python's. The "arrays kept" form is
    Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False), as in the
    documented Python example.
Needs Python 3.11 with `cryptography`, and `node` on PATH. Usage: generate_providers.py [--check]
"""

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

VECTORS = Path(__file__).resolve().parents[1]
OUT = VECTORS / "providers"
KEYS = Path(__file__).resolve().parent / "provider_keys"
SOURCES_BINANCE = [
    "reference/standards.md §6.1",
    "https://developers.binance.com/docs/binance-pay/api-common",
    "https://developers.binance.com/docs/binance-pay/webhook-common",
]
SOURCES_NOW = [
    "reference/standards.md §6.3",
    "https://documenter.getpostman.com/view/7907941/2s93JusNJt",
]


def key(name, bits):
    path = KEYS / f"{name}.pem"
    if not path.exists():
        KEYS.mkdir(exist_ok=True)
        k = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        path.write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_pem(k):
    return k.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def public_pkcs1(k):
    return k.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode()


def payload(ts, nonce, body):
    return f"{ts}\n{nonce}\n{body}\n".encode()


def binance_hmac(secret, ts, nonce, body):
    return hmac.new(secret.encode(), payload(ts, nonce, body), hashlib.sha512).hexdigest().upper()


def rsa_sign(k, ts, nonce, body):
    sig = k.sign(payload(ts, nonce, body), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(sig).decode()


def node_canonical(body):
    script = (
        "const sortObject=(o)=>Object.keys(o).sort().reduce((r,k)=>{"
        "r[k]=(o[k]&&typeof o[k]==='object')?sortObject(o[k]):o[k];return r;},{});"
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>"
        "process.stdout.write(JSON.stringify(sortObject(JSON.parse(s)))));"
    )
    return subprocess.run(
        ["node", "-e", script], input=body.encode(), capture_output=True, check=True
    ).stdout.decode()


def now_sig(secret, text):
    return hmac.new(secret.encode(), text.encode(), hashlib.sha512).hexdigest()


def doc(function, description, sources, valid, invalid):
    return {
        "area": "providers",
        "function": function,
        "description": description,
        "sources": sources,
        "valid": valid,
        "invalid": invalid,
    }


SECRET = "bps_test_9wQdX2kL7mN4pR8sT1vY5zA3cE6gJ0hU"
TS = "1765152000123"
NONCE = "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEf"
ORDER = json.dumps(
    {
        "env": {"terminalType": "WEB"},
        "merchantTradeNo": "sg9f3a2c4b1d",
        "orderAmount": "19.99",
        "currency": "USDT",
        "description": "Order #1001",
        "goodsDetails": [{"goodsType": "02", "goodsCategory": "Z000", "referenceGoodsId": "1001", "goodsName": "Order #1001"}],
        "webhookUrl": "https://shop.example/providers/binance/notify",
    },
    separators=(",", ":"),
)


def binance_sign_file():
    cases = [
        ("v3 order create body", SECRET, TS, NONCE, ORDER),
        ("empty JSON body (certificates)", SECRET, TS, NONCE, "{}"),
        ("query body", SECRET, "1765152000999", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", '{"merchantTradeNo":"sg9f3a2c4b1d"}'),
        ("unicode body, UTF-8 bytes signed", SECRET, TS, NONCE, '{"description":"已付款 — café"}'),
        ("body with spaces is signed as sent", "k", TS, NONCE, '{ "a" : 1 }'),
    ]
    valid = [
        {"description": d, "input": {"secret": s, "timestamp": t, "nonce": n, "body": b}, "output": binance_hmac(s, t, n, b)}
        for d, s, t, n, b in cases
    ]
    invalid = [
        {"description": "timestamp not digits", "input": {"secret": SECRET, "timestamp": "1765152000.5", "nonce": NONCE, "body": "{}"}, "error": "invalid_signature_header"},
        {"description": "empty timestamp", "input": {"secret": SECRET, "timestamp": "", "nonce": NONCE, "body": "{}"}, "error": "invalid_signature_header"},
        {"description": "nonce longer than 32", "input": {"secret": SECRET, "timestamp": TS, "nonce": NONCE + "x", "body": "{}"}, "error": "invalid_signature_header"},
        {"description": "nonce with a newline (would shift the payload)", "input": {"secret": SECRET, "timestamp": TS, "nonce": "abc\ndef", "body": "{}"}, "error": "invalid_signature_header"},
    ]
    return doc("binance_sign", "BinancePay-Signature of a merchant request: UPPERCASE(HEX(HMAC-SHA512(secret, timestamp\\nnonce\\nbody\\n))).", SOURCES_BINANCE, valid, invalid)


WEBHOOK_BODY = json.dumps(
    {
        "bizType": "PAY",
        "bizId": 29383937493038367,
        "bizIdStr": "29383937493038367",
        "bizStatus": "PAY_SUCCESS",
        "data": json.dumps(
            {"merchantTradeNo": "sg9f3a2c4b1d", "productType": "Food", "productName": "Order #1001", "transactTime": 1765152001000, "tradeType": "WEB", "totalFee": 19.99, "currency": "USDT", "openUserId": "1211HS10K81f4273ac031", "commission": 0},
            separators=(",", ":"),
        ),
    },
    separators=(",", ":"),
)


def binance_verify_file():
    good, other = key("binance_test_rsa2048", 2048), key("other_rsa2048", 2048)
    small = key("weak_rsa1024", 1024)
    now = str(int(TS) + 2000)
    sig = rsa_sign(good, TS, NONCE, WEBHOOK_BODY)
    base = {"public_key": public_pem(good), "timestamp": TS, "nonce": NONCE, "body": WEBHOOK_BODY, "signature": sig, "now": now}

    def case(desc, **changes):
        return {"description": desc, "input": {**base, **changes}}

    bare = "".join(l for l in public_pem(good).splitlines() if not l.startswith("-----"))
    refund = WEBHOOK_BODY.replace('"PAY"', '"PAY_REFUND"').replace("PAY_SUCCESS", "REFUND_SUCCESS")
    valid = [
        {**case("PAY_SUCCESS notification"), "output": True},
        {**case("PKCS#1 public key"), "output": True} | {"input": {**base, "public_key": public_pkcs1(good)}},
        {**case("bare base64 certPublic"), "output": True} | {"input": {**base, "public_key": bare}},
        {**case("refund notification", body=refund, signature=rsa_sign(good, TS, NONCE, refund)), "output": True},
        {**case("at the edge of a custom window", now=str(int(TS) + 60000), tolerance="60000"), "output": True},
        {**case("receiver clock behind the sender", now=str(int(TS) - 299000)), "output": True},
    ]
    tampered = WEBHOOK_BODY.replace("19.99", "1999.00")
    invalid = [
        {**case("tampered body"), "error": "signature_mismatch"} | {"input": {**base, "body": tampered}},
        {**case("signed by another key (unknown certificate)"), "error": "signature_mismatch"} | {"input": {**base, "signature": rsa_sign(other, TS, NONCE, WEBHOOK_BODY)}},
        {**case("another nonce (payload changed)"), "error": "signature_mismatch"} | {"input": {**base, "nonce": "B" + NONCE[1:]}},
        {**case("HMAC signature instead of RSA (the community plugins' mistake)"), "error": "signature_mismatch"} | {"input": {**base, "signature": binance_hmac(SECRET, TS, NONCE, WEBHOOK_BODY)}},
        {**case("stale: over five minutes old"), "error": "timestamp_out_of_window"} | {"input": {**base, "now": str(int(TS) + 300001)}},
        {**case("from the future beyond the window"), "error": "timestamp_out_of_window"} | {"input": {**base, "now": str(int(TS) - 300001)}},
        {**case("signature not base64"), "error": "invalid_signature_header"} | {"input": {**base, "signature": "not base64!"}},
        {**case("timestamp in seconds with a fraction"), "error": "invalid_signature_header"} | {"input": {**base, "timestamp": "1765152000.1"}},
        {**case("public key is not a key"), "error": "invalid_public_key"} | {"input": {**base, "public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"}},
        {**case("1024-bit key refused"), "error": "invalid_public_key"} | {"input": {**base, "public_key": public_pem(small), "signature": rsa_sign(small, TS, NONCE, WEBHOOK_BODY)}},
    ]
    return doc("binance_verify_webhook", "Binance Pay webhook: RSA-SHA256 PKCS#1 v1.5, base64 signature over timestamp\\nnonce\\nbody\\n; timestamp (ms) within the window (default 300000 ms).", SOURCES_BINANCE, valid, invalid)


IPN = (
    '{"payment_id":5077125051,"payment_status":"finished","pay_address":"TQ7Z3Ze3xTd1b9wUu3G8h7p8uH7fDj3kXy",'
    '"price_amount":19.99,"price_currency":"usd","pay_amount":19.99,"actually_paid":19.99,'
    '"actually_paid_at_fiat":0,"pay_currency":"usdttrc20","order_id":"inv_8f3a2c","order_description":"Order #1001",'
    '"purchase_id":"5837122679","created_at":"2026-12-08T00:00:00.000Z","updated_at":"2026-12-08T00:05:00.000Z",'
    '"outcome_amount":19.8,"outcome_currency":"usdttrc20","parent_payment_id":null,"payin_extra_id":null,'
    '"invoice_id":4522625843,"fee":{"currency":"usdttrc20","depositFee":0,"withdrawalFee":0.09853637216235617,"serviceFee":0}}'
)
IPN_SECRET = "ipn_test_Zk4dX9pQ2rT7vW1yB5nM8cF3hJ6"
CANONICAL_CASES = [
    ("documented IPN fields", IPN),
    ("nested keys sorted, numbers as JavaScript prints them", '{"b":{"z":1.0,"a":1e2,"m":-0},"a":1.50,"c":1e21,"d":0.0000001}'),
    ("arrays become objects keyed 0, 1, … (Node example)", '{"ids":[{"b":2,"a":1},"x",[]],"a":null}'),
    ("array-index keys first, in numeric order", '{"b":1,"10":2,"9":3,"a":4,"01":5}'),
    ("strings escaped as JSON.stringify: no unicode or slash escapes", '{"note":"caf\\u00e9 ✓ 𝄞 / \\u0001 \\"q\\"\\n\\t"}'),
    ("big integer read as a double", '{"n":12345678901234567890}'),
    ("falsy values kept", '{"z":false,"y":0,"x":"","w":{}}'),
]


def canonical_file():
    valid = [{"description": d, "input": {"body": b}, "output": node_canonical(b)} for d, b in CANONICAL_CASES]
    invalid = [
        {"description": "not JSON", "input": {"body": "payment_id=1"}, "error": "invalid_provider_payload"},
        {"description": "a JSON array, not an object", "input": {"body": "[1,2]"}, "error": "invalid_provider_payload"},
        {"description": "empty body", "input": {"body": ""}, "error": "invalid_provider_payload"},
    ]
    return doc("nowpayments_canonical", "The text NOWPayments signs: JSON.stringify(sortObject(JSON.parse(body))) of its Node example, computed by Node.", SOURCES_NOW, valid, invalid)


def sign_ipn_file():
    valid = [
        {"description": d, "input": {"secret": IPN_SECRET, "body": b}, "output": now_sig(IPN_SECRET, node_canonical(b))}
        for d, b in CANONICAL_CASES[:3]
    ]
    invalid = [{"description": "not a JSON object", "input": {"secret": IPN_SECRET, "body": "null"}, "error": "invalid_provider_payload"}]
    return doc("nowpayments_sign_ipn", "x-nowpayments-sig: lowercase hex HMAC-SHA512(ipn secret, canonical body).", SOURCES_NOW, valid, invalid)


def verify_ipn_file():
    sig = now_sig(IPN_SECRET, node_canonical(IPN))
    arrays = '{"payment_id":7,"payment_extra_ids":[9,8],"payment_status":"finished","fee":{"b":1,"a":2}}'
    python_form = json.dumps(json.loads(arrays), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    assert python_form != node_canonical(arrays)
    reordered = json.dumps(dict(reversed(list(json.loads(IPN).items()))), separators=(",", ":"))
    valid = [
        {"description": "documented IPN", "input": {"secret": IPN_SECRET, "body": IPN, "signature": sig}, "output": True},
        {"description": "uppercase hex signature", "input": {"secret": IPN_SECRET, "body": IPN, "signature": sig.upper()}, "output": True},
        {"description": "same fields in another order and spacing", "input": {"secret": IPN_SECRET, "body": reordered.replace(",", ", "), "signature": sig}, "output": True},
        {"description": "array signed in the Node form", "input": {"secret": IPN_SECRET, "body": arrays, "signature": now_sig(IPN_SECRET, node_canonical(arrays))}, "output": True},
        {"description": "array signed in the PHP/Python form", "input": {"secret": IPN_SECRET, "body": arrays, "signature": now_sig(IPN_SECRET, python_form)}, "output": True},
    ]
    tampered = IPN.replace('"actually_paid":19.99', '"actually_paid":199.9')
    invalid = [
        {"description": "tampered amount", "input": {"secret": IPN_SECRET, "body": tampered, "signature": sig}, "error": "signature_mismatch"},
        {"description": "tampered status", "input": {"secret": IPN_SECRET, "body": IPN.replace("finished", "confirmed"), "signature": sig}, "error": "signature_mismatch"},
        {"description": "wrong secret", "input": {"secret": IPN_SECRET + "x", "body": IPN, "signature": sig}, "error": "signature_mismatch"},
        {"description": "signature of the unsorted body", "input": {"secret": IPN_SECRET, "body": IPN, "signature": now_sig(IPN_SECRET, IPN)}, "error": "signature_mismatch"},
        {"description": "signature truncated", "input": {"secret": IPN_SECRET, "body": IPN, "signature": sig[:64]}, "error": "invalid_signature_header"},
        {"description": "signature missing", "input": {"secret": IPN_SECRET, "body": IPN, "signature": ""}, "error": "invalid_signature_header"},
        {"description": "body not JSON", "input": {"secret": IPN_SECRET, "body": "{", "signature": sig}, "error": "invalid_provider_payload"},
    ]
    return doc("nowpayments_verify_ipn", "Verifies x-nowpayments-sig over the key-sorted IPN body (Node form, or arrays kept as in the PHP/Python examples); constant-time.", SOURCES_NOW, valid, invalid)


STATUS = [
    ("binance", "INITIAL", "new", None), ("binance", "PENDING", "new", None),
    ("binance", "PAID", "settled", None), ("binance", "PAY_SUCCESS", "settled", None),
    ("binance", "PAY_CLOSED", "expired", None), ("binance", "EXPIRED", "expired", None),
    ("binance", "CANCELED", "invalid", None), ("binance", "ERROR", "invalid", "needs_review"),
    ("binance", "REFUNDING", "settled", "needs_review"), ("binance", "REFUNDED", "settled", "needs_review"),
    ("binance", "FULL_REFUNDED", "settled", "needs_review"), ("binance", "REFUND_SUCCESS", "settled", "needs_review"),
    ("binance", "REFUND_REJECTED", "settled", None),
    ("nowpayments", "waiting", "new", None), ("nowpayments", "confirming", "processing", None),
    ("nowpayments", "confirmed", "processing", None), ("nowpayments", "sending", "processing", None),
    ("nowpayments", "finished", "settled", None), ("nowpayments", "partially_paid", "new", "paid_partial"),
    ("nowpayments", "expired", "expired", None), ("nowpayments", "failed", "invalid", "needs_review"),
    ("nowpayments", "refunded", "invalid", "needs_review"),
]


def status_file():
    valid = [
        {"description": f"{p} {s}", "input": {"provider": p, "status": s}, "output": {"state": st, "exception": ex}}
        for p, s, st, ex in STATUS
    ]
    invalid = [
        {"description": "binance status in lower case", "input": {"provider": "binance", "status": "paid"}, "error": "invalid_provider_payload"},
        {"description": "nowpayments status in upper case", "input": {"provider": "nowpayments", "status": "FINISHED"}, "error": "invalid_provider_payload"},
        {"description": "unknown provider", "input": {"provider": "coinbase", "status": "COMPLETED"}, "error": "invalid_provider_payload"},
    ]
    return doc("provider_status", "Maps a provider's status to the invoice state and exception; refunds of a paid order stay settled with needs_review.", SOURCES_BINANCE[:1] + SOURCES_NOW[:1], valid, invalid)


def amount_file():
    cases = [
        ("JSON number", "19.99", "6", "19990000"),
        ("decimal string", '"19.99"', "6", "19990000"),
        ("integer number", "15", "6", "15000000"),
        ("number with trailing zero", "1.50", "6", "1500000"),
        ("18 decimals (BSC)", '"0.000000000000000001"', "18", "1"),
        ("double that prints exactly", "0.1", "18", "100000000000000000"),
    ]
    valid = [{"description": d, "input": {"json": j, "decimals": dec}, "output": out} for d, j, dec, out in cases]
    invalid = [
        {"description": "more decimals than the token", "input": {"json": "0.09853637216235617", "decimals": "6"}, "error": "too_many_decimals"},
        {"description": "negative", "input": {"json": "-1", "decimals": "6"}, "error": "invalid_amount"},
        {"description": "exponent form", "input": {"json": "1e-7", "decimals": "18"}, "error": "invalid_amount"},
        {"description": "null", "input": {"json": "null", "decimals": "6"}, "error": "invalid_amount"},
        {"description": "not JSON", "input": {"json": "19,99", "decimals": "6"}, "error": "invalid_amount"},
    ]
    return doc("provider_amount", "A provider's amount (JSON number as JavaScript prints it, or decimal string) in base units.", SOURCES_BINANCE[:1] + SOURCES_NOW[:1], valid, invalid)


def main():
    check = "--check" in sys.argv
    OUT.mkdir(exist_ok=True)
    bad = False
    for make in (binance_sign_file, binance_verify_file, canonical_file, sign_ipn_file, verify_ipn_file, status_file, amount_file):
        data = make()
        path = OUT / f"{data['function']}.json"
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        if check:
            if not path.exists() or path.read_text() != text:
                print(f"out of date: {path}")
                bad = True
        else:
            path.write_text(text)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
