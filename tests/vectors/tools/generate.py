#!/usr/bin/env python3
"""Generates the conformance vectors under tests/vectors/ from an independent Python oracle.

The Rust core, its wasm build and the PHP plugin must all agree with these files. Expected
outputs are computed here, with Python's exact integers and the standard library only, never
copied from any implementation under test. Spec examples are also written in verbatim and the
oracle is asserted to reproduce them, so a wrong oracle fails loudly instead of writing a wrong
vector.

Each case states what the author meant (`ok` with an optional expected value, or `err` with an
error kind); the generator refuses to write a file when the oracle disagrees with that intent.

Usage:
    python3 tests/vectors/tools/generate.py          # rewrite the vector files
    python3 tests/vectors/tools/generate.py --check  # exit 1 if a file on disk is stale

Python 3.11 standard library only (hashlib, hmac, json, re, struct).
"""

import hashlib
import hmac
import json
import re
import struct
import sys
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1]
REPO = VECTORS.parents[1]
REGISTRY_PATH = REPO / "crates" / "core" / "data" / "networks.json"

U128_MAX = (1 << 128) - 1
AMOUNT_GAP_STEPS = 2  # DESIGN §5: no open invoice within two steps of another's amount
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"

EIP55 = "https://eips.ethereum.org/EIPS/eip-55"
EIP681 = "https://eips.ethereum.org/EIPS/eip-681"
EIP20 = "https://eips.ethereum.org/EIPS/eip-20"
EIP721 = "https://eips.ethereum.org/EIPS/eip-721"
ETH_GETLOGS = "https://ethereum.org/en/developers/docs/apis/json-rpc/#eth_getlogs"
TRON_JSONRPC = "https://tronprotocol.github.io/documentation-en/api/json-rpc/"
TRON_DEV = "https://developers.tron.network"
WALLET_CORE_TRON = "https://github.com/trustwallet/wallet-core/blob/master/tests/chains/Tron/AddressTests.cpp"
WALLET_CORE_TRON_SRC = "https://github.com/trustwallet/wallet-core/blob/master/src/Tron/Address.cpp"
BASE58 = "https://en.bitcoin.it/wiki/Base58Check_encoding"
HMAC_RFC = "https://www.rfc-editor.org/rfc/rfc2104"
RFC4231 = "https://www.rfc-editor.org/rfc/rfc4231"
REGISTRY_SRC = "crates/core/data/networks.json"
DESIGN_MONEY = "DESIGN.md §3 (Money)"
DESIGN_MATCHING = "DESIGN.md §5 (Invoices, matching and the ledger)"
DESIGN_WEBHOOKS = "DESIGN.md §10 (Outgoing webhooks)"


# --------------------------------------------------------------------------------------------
# Primitives: Keccak-256 (original padding 0x01, as Ethereum uses it), EIP-55, base58check.
# Keccak is the plain Keccak-f[1600] permutation, as in the verify.py that accompanies the
# standards reference (Appendix A), kept here so the generator runs from the repository alone.
# --------------------------------------------------------------------------------------------

_RC = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_ROT = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56],
        [27, 20, 39, 8, 14]]
_M64 = (1 << 64) - 1


def _rol(x, n):
    return ((x << n) | (x >> (64 - n))) & _M64 if n else x


def _keccak_f1600(a):
    for rc in _RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rol(a[x][y], _ROT[x][y])
        a = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)]
             for x in range(5)]
        a[0][0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    padded = bytearray(data)
    padded.append(0x01)
    while len(padded) % rate:
        padded.append(0)
    padded[-1] |= 0x80
    state = [[0] * 5 for _ in range(5)]
    for off in range(0, len(padded), rate):
        block = padded[off:off + rate]
        for i in range(rate // 8):
            state[i % 5][i // 5] ^= struct.unpack("<Q", block[8 * i:8 * i + 8])[0]
        state = _keccak_f1600(state)
    return b"".join(struct.pack("<Q", state[i % 5][i // 5]) for i in range(4))


def eip55(hex40: str) -> str:
    """Returns "0x" + the EIP-55 mixed-case form of 40 hex digits (any case, no prefix)."""
    lower = hex40.lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if ch in "abcdef" and int(digest[i], 16) >= 8 else ch
        for i, ch in enumerate(lower))


B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58_ALPHABET[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + B58_ALPHABET.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def dsha256_4(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()[:4]


def b58check(payload: bytes) -> str:
    return b58encode(payload + dsha256_4(payload))


def tron_base58(raw20: bytes) -> str:
    return b58check(b"\x41" + raw20)


def _selftest_primitives():
    assert keccak256(b"").hex() == \
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert "0x" + keccak256(b"Transfer(address,address,uint256)").hex() == TRANSFER_TOPIC
    # RFC 4231 test case 2 pins the HMAC-SHA256 construction the webhook vectors rely on.
    assert hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest() == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert tron_base58(bytes.fromhex("a614f803b6fd780986a42c78ec9c7f77e6ded13c")) == \
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

with open(REGISTRY_PATH, encoding="utf-8") as _f:
    REGISTRY = json.load(_f)
NETWORKS = {net["id"]: net for net in REGISTRY["networks"]}
NETWORK_IDS = ["tron", "ethereum", "bsc", "polygon", "arbitrum", "optimism", "avalanche", "base",
               "tron-nile", "sepolia", "bsc-testnet", "devnet", "devnet-tron"]
assert list(NETWORKS) == NETWORK_IDS, "registry network ids changed; review the vectors"


def family(network_id):
    return NETWORKS[network_id]["family"]


def contract_raw20(token) -> bytes:
    text = token["contract"]
    if text.startswith("0x"):
        return bytes.fromhex(text[2:])
    raw = b58decode(text)
    assert len(raw) == 25 and raw[0] == 0x41 and dsha256_4(raw[:21]) == raw[21:], text
    return raw[1:21]


# --------------------------------------------------------------------------------------------
# The oracle. Each function returns the expected output or raises Fail(kind).
# --------------------------------------------------------------------------------------------

class Fail(Exception):
    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


# fullmatch, not match + "$": "$" also matches before a trailing newline.
DECIMAL_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
DIGITS_RE = re.compile(r"[0-9]+")
HEX40_0X_RE = re.compile(r"0x[0-9a-fA-F]{40}")
HEX40_41_RE = re.compile(r"41[0-9a-fA-F]{40}")
HEX64_0X_RE = re.compile(r"0x[0-9a-fA-F]{64}")
QUANTITY_RE = re.compile(r"0x[0-9a-fA-F]+")
V1_RE = re.compile(r"[0-9a-fA-F]{64}")


def resolve(network, token=None):
    net = NETWORKS.get(network)
    if net is None:
        raise Fail("unknown_network")
    if token is None:
        return net, net["tokens"][0]
    for tok in net["tokens"]:
        if tok["id"] == token:
            return net, tok
    raise Fail("unknown_token")


def parse_decimal(text, kind):
    """Returns (digits as int, number of fractional digits) or raises Fail(kind)."""
    if not isinstance(text, str) or not DECIMAL_RE.fullmatch(text):
        raise Fail(kind)
    whole, _, frac = text.partition(".")
    return int(whole + frac), len(frac)


def decimal_to_units(text, decimals, bad_kind="invalid_amount", excess_kind="too_many_decimals"):
    digits, scale = parse_decimal(text, bad_kind)
    if scale > decimals:
        units, rest = divmod(digits, 10 ** (scale - decimals))
        if rest:
            raise Fail(excess_kind)
    else:
        units = digits * 10 ** (decimals - scale)
    if units > U128_MAX:
        raise Fail("amount_overflow")
    return units


def o_to_base_units(network, amount, token=None):
    _, tok = resolve(network, token)
    return str(decimal_to_units(amount, tok["decimals"]))


def o_format_amount(network, base_units, token=None):
    _, tok = resolve(network, token)
    if not isinstance(base_units, str) or not DIGITS_RE.fullmatch(base_units):
        raise Fail("invalid_amount")
    value = int(base_units)
    if value > U128_MAX:
        raise Fail("amount_overflow")
    decimals = tok["decimals"]
    whole, frac = divmod(value, 10 ** decimals)
    frac_text = str(frac).rjust(decimals, "0").rstrip("0") if decimals else ""
    return f"{whole}.{frac_text}" if frac_text else str(whole)


def o_fiat_to_usdt(network, fiat_amount, rate, precision, token=None):
    _, tok = resolve(network, token)
    decimals = tok["decimals"]
    fiat, fiat_scale = parse_decimal(fiat_amount, "invalid_amount")
    rate_digits, rate_scale = parse_decimal(rate, "invalid_rate")
    if rate_digits == 0:
        raise Fail("invalid_rate")
    # precision must be a positive whole number of base units
    step = decimal_to_units(precision, decimals, excess_kind="invalid_amount")
    if step == 0:
        raise Fail("invalid_amount")
    # fiat × rate in base units is fiat·rate·10^decimals / 10^(fiat_scale+rate_scale); take the
    # ceiling of that divided by step, exactly.
    numerator = fiat * rate_digits * 10 ** decimals
    denominator = 10 ** (fiat_scale + rate_scale) * step
    steps = -(-numerator // denominator)
    units = steps * step
    if units > U128_MAX:
        raise Fail("amount_overflow")
    return str(units)


def o_allocate_amount(base_units, step_units, max_slots, taken):
    for text in [base_units, step_units, max_slots, *taken]:
        if not isinstance(text, str) or not DIGITS_RE.fullmatch(text):
            raise Fail("invalid_amount")
    base, step, slots = int(base_units), int(step_units), int(max_slots)
    if step == 0:
        raise Fail("invalid_amount")
    taken_amounts = [int(t) for t in taken]
    reach = AMOUNT_GAP_STEPS * step
    for k in range(slots):
        amount = base + k * step
        if amount > U128_MAX:
            raise Fail("amount_overflow")  # not exercised by the vectors
        # Clear of every taken amount by more than the gap: a payment off by up to
        # AMOUNT_GAP_STEPS steps, either way, lands on no other invoice (DESIGN §5).
        if all(abs(amount - t) > reach for t in taken_amounts):
            return {"amount": str(amount), "slot": str(k)}
    raise Fail("amount_band_full")


def parse_evm(text):
    if not isinstance(text, str) or not HEX40_0X_RE.fullmatch(text):
        raise Fail("invalid_address")
    body = text[2:]
    checksummed = eip55(body)
    if body != body.lower() and body != body.upper() and text != checksummed:
        raise Fail("address_checksum")
    return {"address": checksummed, "hex": "0x" + body.lower()}


def tron_decode_base58(text):
    """Returns the 25 decoded bytes, or raises invalid_address for shape problems only."""
    if not isinstance(text, str) or len(text) != 34 or any(c not in B58_ALPHABET for c in text):
        raise Fail("invalid_address")
    raw = b58decode(text)
    if len(raw) != 25:
        raise Fail("invalid_address")
    return raw


def parse_tron(text):
    if isinstance(text, str) and (HEX40_0X_RE.fullmatch(text) or HEX40_41_RE.fullmatch(text)):
        raw20 = bytes.fromhex(text[2:])
    else:
        raw = tron_decode_base58(text)
        if raw[0] != 0x41:
            raise Fail("invalid_address")
        if dsha256_4(raw[:21]) != raw[21:]:
            raise Fail("address_checksum")
        raw20 = raw[1:21]
    return {"address": tron_base58(raw20), "hex": "0x" + raw20.hex()}


def o_parse_address(network, text):
    resolve(network)
    return parse_evm(text) if family(network) == "evm" else parse_tron(text)


def o_payment_uri(network, recipient, amount, token=None):
    net, tok = resolve(network, token)
    to = o_parse_address(network, recipient)
    units = decimal_to_units(amount, tok["decimals"])
    if units == 0:
        raise Fail("invalid_amount")
    if net["family"] == "tron":
        return to["address"]
    contract = eip55(tok["contract"][2:])
    assert contract == tok["contract"], "registry contract is not EIP-55: " + tok["contract"]
    return (f"ethereum:{contract}@{net['chain_id']}/transfer"
            f"?address={to['address']}&uint256={units}")


def display_address(network, raw20: bytes):
    return eip55(raw20.hex()) if family(network) == "evm" else tron_base58(raw20)


def o_decode_transfer_log(network, log):
    resolve(network)
    if not isinstance(log, dict):
        raise Fail("invalid_log")

    def hex_field(name, pattern):
        value = log.get(name)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise Fail("invalid_log")
        return value.lower()

    # Classification comes from the topics alone, so an ERC-721 Transfer (4 topics, empty data)
    # is reported as not_a_transfer rather than as a malformed ERC-20 log.
    topics = log.get("topics")
    if not isinstance(topics, list) or any(
            not isinstance(t, str) or not HEX64_0X_RE.fullmatch(t) for t in topics):
        raise Fail("invalid_log")
    topics = [t.lower() for t in topics]
    if len(topics) != 3 or topics[0] != TRANSFER_TOPIC:
        raise Fail("not_a_transfer")

    token = bytes.fromhex(hex_field("address", HEX40_0X_RE)[2:])
    parties = []
    for topic in topics[1:]:
        word = bytes.fromhex(topic[2:])
        if any(word[:12]):
            raise Fail("invalid_log")
        parties.append(word[12:])
    data = hex_field("data", HEX64_0X_RE)
    block_number = int(hex_field("blockNumber", QUANTITY_RE), 16)
    log_index = int(hex_field("logIndex", QUANTITY_RE), 16)
    block_hash = hex_field("blockHash", HEX64_0X_RE)
    tx_hash = hex_field("transactionHash", HEX64_0X_RE)
    removed = log.get("removed", False)
    if not isinstance(removed, bool):
        raise Fail("invalid_log")
    amount = int(data, 16)
    if amount > U128_MAX:
        raise Fail("amount_overflow")
    # Some nodes (Hardhat 3, newer geth) include the block's timestamp; it saves a block fetch.
    block_time = None
    if log.get("blockTimestamp") is not None:
        block_time = int(hex_field("blockTimestamp", QUANTITY_RE), 16)
    out = {
        "token": display_address(network, token),
        "from": display_address(network, parties[0]),
        "to": display_address(network, parties[1]),
        "amount": str(amount),
        "tx_hash": tx_hash if family(network) == "evm" else tx_hash[2:],
        "log_index": str(log_index),
        "block_number": str(block_number),
        "block_hash": block_hash,
        "removed": removed,
    }
    if block_time is not None:
        out["block_time"] = str(block_time)
    return out


def webhook_mac(secret, timestamp, body):
    return hmac.new(secret.encode("utf-8"), (timestamp + "." + body).encode("utf-8"),
                    hashlib.sha256).hexdigest()


def o_sign_webhook(secret, body, timestamp):
    return f"t={timestamp},v1={webhook_mac(secret, timestamp, body)}"


def o_verify_webhook(secret, header, body, now, tolerance="300"):
    stamps, signatures = [], []
    for pair in header.split(","):
        if "=" not in pair:
            raise Fail("invalid_signature_header")
        key, value = pair.split("=", 1)
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(stamps) != 1 or not DIGITS_RE.fullmatch(stamps[0]):
        raise Fail("invalid_signature_header")
    if not signatures or any(not V1_RE.fullmatch(v) for v in signatures):
        raise Fail("invalid_signature_header")
    if abs(int(now) - int(stamps[0])) > int(tolerance):
        raise Fail("timestamp_out_of_window")
    expected = webhook_mac(secret, stamps[0], body)
    if not any(hmac.compare_digest(expected, v.lower()) for v in signatures):
        raise Fail("signature_mismatch")
    return True


# --------------------------------------------------------------------------------------------
# Vector file builder
# --------------------------------------------------------------------------------------------

class VectorFile:
    def __init__(self, area, function, description, sources, oracle):
        self.area, self.function, self.oracle = area, function, oracle
        self.doc = {"area": area, "function": function, "description": description,
                    "sources": sources, "valid": [], "invalid": []}
        self.seen = set()

    def _claim(self, description):
        assert description not in self.seen, f"{self.function}: duplicate {description!r}"
        self.seen.add(description)

    def ok(self, description, inp, expect=None, source=None):
        self._claim(description)
        try:
            out = self.oracle(**inp)
        except Fail as e:
            raise AssertionError(f"{self.function}: {description!r} meant valid, got {e.kind}")
        if expect is not None:
            assert out == expect, f"{self.function}: {description!r}: {out!r} != {expect!r}"
        case = {"description": description, "input": inp, "output": out}
        if source:
            case["source"] = source
        self.doc["valid"].append(case)
        return out

    def err(self, description, inp, kind, source=None):
        self._claim(description)
        try:
            out = self.oracle(**inp)
        except Fail as e:
            assert e.kind == kind, f"{self.function}: {description!r}: {e.kind} != {kind}"
        else:
            raise AssertionError(f"{self.function}: {description!r} meant {kind}, got {out!r}")
        case = {"description": description, "input": inp, "error": kind}
        if source:
            case["source"] = source
        self.doc["invalid"].append(case)

    def path(self):
        return VECTORS / self.area / f"{self.function}.json"

    def render(self):
        return json.dumps(self.doc, indent=2, ensure_ascii=False) + "\n"


def amt(network, amount, token=None, key="amount"):
    inp = {"network": network}
    if token is not None:
        inp["token"] = token
    inp[key] = amount
    return inp


# --------------------------------------------------------------------------------------------
# amounts/to_base_units
# --------------------------------------------------------------------------------------------

def build_to_base_units():
    f = VectorFile("amounts", "to_base_units",
                   "Decimal token amount to an integer of base units, using the registry's decimals.",
                   [REGISTRY_SRC, DESIGN_MONEY, EIP681], o_to_base_units)
    for network in NETWORK_IDS:
        decimals = NETWORKS[network]["tokens"][0]["decimals"]
        f.ok(f"12.5 on {network} (default token, {decimals} dp)", amt(network, "12.5"),
             "12500000" if decimals == 6 else "12500000000000000000")
    f.ok("explicit token usdt on ethereum", amt("ethereum", "12.5", "usdt"), "12500000")
    f.ok("optimism usdt-bridged", amt("optimism", "7.25", "usdt-bridged"), "7250000")
    f.ok("avalanche usdt-e", amt("avalanche", "0.5", "usdt-e"), "500000")
    f.ok("devnet usdt18 uses 18 dp", amt("devnet", "12.5", "usdt18"), "12500000000000000000")
    f.ok("devnet default token usdt is 6 dp", amt("devnet", "12.5", "usdt"), "12500000")
    f.ok("bsc 1 is 10^18", amt("bsc", "1"), "1000000000000000000")
    f.ok("bsc 1000 is 10^21, above 2^64", amt("bsc", "1000"), "1000000000000000000000",
         source=EIP681)
    f.ok("bsc smallest unit", amt("bsc", "0.000000000000000001"), "1")
    f.ok("bsc 0.1", amt("bsc", "0.1"), "100000000000000000")
    f.ok("bsc-testnet 19.99", amt("bsc-testnet", "19.99"), "19990000000000000000")
    f.ok("ethereum 1", amt("ethereum", "1"), "1000000")
    f.ok("ethereum smallest unit", amt("ethereum", "0.000001"), "1")
    f.ok("ethereum 19.99", amt("ethereum", "19.99"), "19990000")
    f.ok("tron 1000000 (one million)", amt("tron", "1000000"), "1000000000000")
    f.ok("zero", amt("ethereum", "0"), "0")
    f.ok("zero with fraction", amt("ethereum", "0.000000"), "0")
    f.ok("zero on bsc", amt("bsc", "0.0"), "0")
    f.ok("leading zeros in integer part", amt("ethereum", "000012.5"), "12500000")
    f.ok("sixty leading zeros (length is not a proxy for size)", amt("ethereum", "0" * 60 + "1"),
         "1000000")
    f.ok("trailing zeros within decimals", amt("polygon", "12.500000"), "12500000")
    f.ok("extra fractional zeros beyond decimals are exact", amt("arbitrum", "12.5000000000"),
         "12500000")
    f.ok("seventh fractional digit zero on 6 dp", amt("ethereum", "0.0000010"), "1")
    f.ok("nineteenth fractional digit zero on 18 dp", amt("bsc", "0.0000000000000000010"), "1")
    f.ok("zero with more fractional zeros than decimals", amt("ethereum", "0.0000000"), "0")
    f.ok("u128 max exactly, 6 dp", amt("ethereum", "340282366920938463463374607431768.211455"),
         str(U128_MAX))
    f.ok("u128 max exactly, 18 dp", amt("bsc", "340282366920938463463.374607431768211455"),
         str(U128_MAX))
    f.ok("u128 max with trailing fractional zeros, 6 dp",
         amt("ethereum", "340282366920938463463374607431768.21145500000"), str(U128_MAX))
    f.ok("2^64 base units on 6 dp", amt("ethereum", "18446744073709.551616"),
         "18446744073709551616")
    f.ok("large everyday amount on bsc", amt("bsc", "123456789.123456789123456789"),
         "123456789123456789123456789")

    for text, why in [("", "empty"), (" 1", "leading space"), ("1 ", "trailing space"),
                      ("1\n", "trailing newline"), ("+1", "plus sign"), ("-1", "minus sign"),
                      ("-0", "negative zero"), (".5", "no integer digits"),
                      ("5.", "no fractional digits"), ("1e6", "exponent"),
                      ("1E6", "capital exponent"), ("1,5", "decimal comma"),
                      ("1,000", "thousands separator"), ("1_000", "underscore separator"),
                      ("0x10", "hex"), ("１", "full-width digit"), ("١", "arabic-indic digit"),
                      ("1.2.3", "two points"), (".", "lone point"), ("NaN", "NaN"),
                      ("Infinity", "Infinity")]:
        f.err(f"invalid: {why}", amt("ethereum", text), "invalid_amount")
    f.err("invalid: space between digits",
          amt("bsc", "1 000"), "invalid_amount")
    f.err("seventh fractional digit non-zero on 6 dp", amt("ethereum", "1.0000001"),
          "too_many_decimals")
    f.err("half a base unit on 6 dp", amt("tron", "0.0000005"), "too_many_decimals")
    f.err("many decimals on 6 dp", amt("polygon", "12.3456789"), "too_many_decimals")
    f.err("trailing non-zero after zeros on 6 dp", amt("ethereum", "12.5000001000"),
          "too_many_decimals")
    f.err("nineteenth fractional digit non-zero on 18 dp", amt("bsc", "0.0000000000000000001"),
          "too_many_decimals")
    f.err("7 dp fine on 18 dp token but not on 6 dp default of devnet",
          amt("devnet", "1.1234567"), "too_many_decimals")
    f.err("u128 max + 1 base unit, 6 dp",
          amt("ethereum", "340282366920938463463374607431768.211456"), "amount_overflow")
    f.err("u128 max + 1 base unit, 18 dp", amt("bsc", "340282366920938463463.374607431768211456"),
          "amount_overflow")
    f.err("u128 max as a whole-token amount, 6 dp", amt("ethereum", str(U128_MAX)),
          "amount_overflow")
    f.err("first whole number above the 18 dp range", amt("bsc", "340282366920938463464"),
          "amount_overflow")
    f.err("first whole number above the 6 dp range", amt("tron", "340282366920938463463374607431769"),
          "amount_overflow")
    f.err("a hundred-digit amount", amt("ethereum", "1" + "0" * 99), "amount_overflow")
    f.err("unknown network", amt("solana", "1"), "unknown_network")
    f.err("network id is case-sensitive", amt("Ethereum", "1"), "unknown_network")
    f.err("empty network id", amt("", "1"), "unknown_network")
    f.err("token id of another network", amt("ethereum", "1", "usdt18"), "unknown_token")
    f.err("usdt0 is not on ethereum", amt("ethereum", "1", "usdt0"), "unknown_token")
    f.err("token id is case-sensitive", amt("tron", "1", "USDT"), "unknown_token")
    f.err("empty token id", amt("bsc", "1", ""), "unknown_token")
    return f


# --------------------------------------------------------------------------------------------
# amounts/format_amount
# --------------------------------------------------------------------------------------------

def build_format_amount():
    f = VectorFile("amounts", "format_amount",
                   "Integer base units to the canonical decimal string (no trailing zeros, no lone point).",
                   [REGISTRY_SRC, DESIGN_MONEY], o_format_amount)
    fa = lambda network, units, token=None: amt(network, units, token, key="base_units")
    f.ok("12.5 on 6 dp", fa("ethereum", "12500000"), "12.5")
    f.ok("one base unit on 6 dp", fa("ethereum", "1"), "0.000001")
    f.ok("zero", fa("ethereum", "0"), "0")
    f.ok("whole amount has no point", fa("tron", "20000000"), "20")
    f.ok("19.99 on tron", fa("tron", "19990000"), "19.99")
    f.ok("below one on 6 dp", fa("polygon", "990000"), "0.99")
    f.ok("all six decimals used", fa("arbitrum", "123456789"), "123.456789")
    f.ok("inner zeros kept", fa("base", "100001"), "0.100001")
    f.ok("one on bsc", fa("bsc", "1000000000000000000"), "1")
    f.ok("one base unit on bsc", fa("bsc", "1"), "0.000000000000000001")
    f.ok("1000 on bsc", fa("bsc", "1000000000000000000000"), "1000")
    f.ok("10.84 on bsc-testnet", fa("bsc-testnet", "10840000000000000000"), "10.84")
    f.ok("devnet usdt18", fa("devnet", "12500000000000000000", "usdt18"), "12.5")
    f.ok("devnet default token 6 dp", fa("devnet", "12500000000000000000"), "12500000000000")
    f.ok("optimism usdt-bridged", fa("optimism", "7250000", "usdt-bridged"), "7.25")
    f.ok("avalanche usdt-e", fa("avalanche", "500000", "usdt-e"), "0.5")
    f.ok("leading zeros accepted", fa("ethereum", "0012500000"), "12.5")
    f.ok("all zeros", fa("ethereum", "0000"), "0")
    f.ok("fifty leading zeros (length is not a proxy for size)", fa("sepolia", "0" * 50 + "5"),
         "0.000005")
    f.ok("u128 max, 6 dp", fa("ethereum", str(U128_MAX)),
         "340282366920938463463374607431768.211455")
    f.ok("u128 max, 18 dp", fa("bsc", str(U128_MAX)), "340282366920938463463.374607431768211455")
    f.ok("2^64 on 6 dp", fa("tron-nile", "18446744073709551616"), "18446744073709.551616")
    f.ok("devnet-tron", fa("devnet-tron", "1500000"), "1.5")
    for text, why in [("", "empty"), (" 1", "leading space"), ("1 ", "trailing space"),
                      ("1\n", "trailing newline"), ("+1", "plus sign"), ("-1", "minus sign"),
                      ("1.5", "decimal point"), ("1e6", "exponent"), ("0x10", "hex"),
                      ("1,000", "thousands separator"), ("１", "full-width digit")]:
        f.err(f"invalid: {why}", fa("ethereum", text), "invalid_amount")
    f.err("u128 max + 1", fa("ethereum", str(U128_MAX + 1)), "amount_overflow")
    f.err("2^256 - 1", fa("bsc", str((1 << 256) - 1)), "amount_overflow")
    f.err("unknown network", fa("eth", "1"), "unknown_network")
    f.err("unknown token", fa("optimism", "1", "usdt"), "unknown_token")
    return f


# --------------------------------------------------------------------------------------------
# amounts/fiat_to_usdt
# --------------------------------------------------------------------------------------------

def build_fiat_to_usdt():
    f = VectorFile("amounts", "fiat_to_usdt",
                   "fiat_amount × rate (USDT per fiat unit), rounded up to a multiple of precision, in base units.",
                   [REGISTRY_SRC, DESIGN_MONEY], o_fiat_to_usdt)

    def fx(network, fiat, rate, precision, token=None):
        inp = {"network": network}
        if token is not None:
            inp["token"] = token
        inp.update({"fiat_amount": fiat, "rate": rate, "precision": precision})
        return inp

    f.ok("19.99 at rate 1, exact", fx("ethereum", "19.99", "1", "0.01"), "19990000")
    f.ok("10 at 1.0834 is 10.834, rounds up to 10.84", fx("ethereum", "10", "1.0834", "0.01"),
         "10840000")
    f.ok("same on bsc (18 dp)", fx("bsc", "10", "1.0834", "0.01"), "10840000000000000000")
    f.ok("same on devnet usdt18", fx("devnet", "10", "1.0834", "0.01", "usdt18"),
         "10840000000000000000")
    f.ok("exact multiple of 0.01 is not rounded", fx("tron", "25", "1.08", "0.01"), "27000000")
    f.ok("exact multiple, rate with trailing zeros", fx("tron", "25", "1.0800", "0.01"), "27000000")
    f.ok("one base unit above a step rounds up a whole step",
         fx("ethereum", "1", "10.000001", "0.01"), "10010000")
    f.ok("just below a step rounds up to it", fx("ethereum", "1", "10.009999", "0.01"), "10010000")
    f.ok("precision 0.001", fx("ethereum", "10", "1.0834", "0.001"), "10834000")
    f.ok("precision 0.0001", fx("ethereum", "10", "1.08345", "0.0001"), "10834500")
    f.ok("precision 0.0001 rounds up", fx("ethereum", "10", "1.083451", "0.0001"), "10834600")
    f.ok("precision one base unit", fx("polygon", "10", "1.08345671", "0.000001"), "10834568")
    f.ok("precision 1 (whole USDT)", fx("polygon", "10", "1.0834", "1"), "11000000")
    f.ok("precision 1 exact", fx("polygon", "10", "1.1", "1"), "11000000")
    f.ok("precision 0.05", fx("arbitrum", "10", "1.0834", "0.05"), "10850000")
    f.ok("precision written with extra zeros", fx("arbitrum", "10", "1.0834", "0.010"), "10840000")
    f.ok("precision with a zero 7th digit on 6 dp", fx("arbitrum", "10", "1.0834567", "0.0000010"),
         "10834567")
    f.ok("precision one base unit on 18 dp", fx("bsc", "3", "0.333333333333333333333", "0.000000000000000001"),
         "1000000000000000000")
    f.ok("zero fiat gives zero", fx("ethereum", "0", "1.0834", "0.01"), "0")
    f.ok("zero fiat with fraction gives zero", fx("bsc", "0.00", "1.0834", "0.01"), "0")
    f.ok("yen at 0.0067", fx("tron", "1500", "0.0067", "0.01"), "10050000")
    f.ok("tiny positive result rounds up to one step", fx("ethereum", "1", "0.00000001", "0.01"),
         "10000")
    f.ok("tiny rate with many digits", fx("ethereum", "1000000", "0.000000123456789012345678", "0.01"),
         "130000")
    f.ok("fiat with many decimals", fx("ethereum", "19.999999999", "1", "0.01"), "20000000")
    f.ok("one cent fiat", fx("ethereum", "0.01", "1.0834", "0.01"), "20000")
    f.ok("big amount on 6 dp", fx("tron", "1000000000", "1.0834", "0.01"), "1083400000000000")
    f.ok("big amount on 18 dp", fx("bsc", "1000000000", "1.0834", "0.01"),
         "1083400000000000000000000000")
    f.ok("intermediate product exceeds u128, result fits",
         fx("bsc", "123456789.123456789", "1.000000000000000001", "0.000000000000000001"),
         "123456789123456789123456790")
    f.ok("rate to 37 places: digit product exceeds u128, result small",
         fx("ethereum", "19.99", "0.9230201218386560827026029167435850101", "0.01"), "18460000")
    f.ok("leading zeros in all three", fx("base", "0010", "01.0834", "00.01"), "10840000")
    f.ok("sepolia", fx("sepolia", "99.95", "0.92", "0.01"), "91960000")
    f.ok("tron-nile", fx("tron-nile", "7", "0.1428571", "0.01"), "1000000")
    f.ok("devnet-tron", fx("devnet-tron", "7", "0.1428571", "0.001"), "1000000")
    f.ok("optimism usdt-bridged", fx("optimism", "5", "1", "0.01", "usdt-bridged"), "5000000")
    f.ok("avalanche usdt-e", fx("avalanche", "5", "1.33333", "0.01", "usdt-e"), "6670000")
    f.ok("result u128 max exactly", fx("ethereum", str(U128_MAX), "0.000001", "0.000001"),
         str(U128_MAX))

    for text, why in [("", "empty"), ("-1", "negative"), ("1e3", "exponent"), ("1,5", "decimal comma"),
                      (" 10", "leading space"), ("10\n", "trailing newline"), (".5", "no integer digits"),
                      ("１０", "full-width digits")]:
        f.err(f"fiat_amount invalid: {why}", fx("ethereum", text, "1", "0.01"), "invalid_amount")
    for text, why in [("", "empty"), ("-1.08", "negative"), ("abc", "letters"), ("1e0", "exponent"),
                      ("1,08", "decimal comma"), ("0", "zero"), ("0.0", "zero with fraction"),
                      ("000.000", "zero with leading and trailing zeros")]:
        f.err(f"rate invalid: {why}", fx("ethereum", "10", text, "0.01"), "invalid_rate")
    for text, why in [("0", "zero"), ("0.00", "zero with fraction"), ("", "empty"),
                      ("-0.01", "negative"), ("1e-2", "exponent"),
                      ("0.0000001", "finer than 6 dp"), ("0.0000015", "not a whole number of base units")]:
        f.err(f"precision invalid: {why}", fx("ethereum", "10", "1", text), "invalid_amount")
    f.err("precision finer than 18 dp", fx("bsc", "10", "1", "0.0000000000000000001"),
          "invalid_amount")
    f.err("result above u128 max", fx("ethereum", str(U128_MAX), "1", "0.01"), "amount_overflow")
    f.err("rounding up crosses u128 max", fx("ethereum", str(U128_MAX), "0.000001", "0.01"),
          "amount_overflow")
    f.err("unknown network", fx("tron-shasta", "10", "1", "0.01"), "unknown_network")
    f.err("unknown token", fx("base", "10", "1", "0.01", "usdt"), "unknown_token")
    return f


# --------------------------------------------------------------------------------------------
# amounts/allocate_amount
# --------------------------------------------------------------------------------------------

def build_allocate_amount():
    f = VectorFile("amounts", "allocate_amount",
                   "Smallest unique amount base + k×step, k in 0..max_slots-1, more than two steps from every amount already taken.",
                   [DESIGN_MATCHING], o_allocate_amount)

    def al(base, step, slots, taken):
        return {"base_units": base, "step_units": step, "max_slots": slots, "taken": taken}

    b = "19990000"
    f.ok("nothing taken gives slot 0", al(b, "10000", "100", []),
         {"amount": "19990000", "slot": "0"})
    f.ok("base taken: slots 1 and 2 are within two steps, slot 3 is clear", al(b, "10000", "100", ["19990000"]),
         {"amount": "20020000", "slot": "3"})
    f.ok("a gap of five free slots holds one amount",
         al(b, "10000", "100", ["19990000", "20050000"]), {"amount": "20020000", "slot": "3"})
    f.ok("a gap of four free slots holds none",
         al(b, "10000", "100", ["19990000", "20040000"]), {"amount": "20070000", "slot": "8"})
    f.ok("order of taken does not matter", al(b, "10000", "100", ["20050000", "19990000"]),
         {"amount": "20020000", "slot": "3"})
    f.ok("duplicates in taken", al(b, "10000", "100", ["19990000", "19990000", "20020000", "20020000"]),
         {"amount": "20050000", "slot": "6"})
    f.ok("amounts far from the band are ignored", al(b, "10000", "100", ["1", "5000000", "30000000"]),
         {"amount": "19990000", "slot": "0"})
    f.ok("an amount between slots blocks the slots within two steps",
         al(b, "10000", "100", ["19995000"]), {"amount": "20020000", "slot": "3"})
    f.ok("an amount three steps below base leaves base clear", al(b, "10000", "100", ["19960000"]),
         {"amount": "19990000", "slot": "0"})
    f.ok("an amount two steps below base blocks base (another price is a neighbour too)",
         al(b, "10000", "100", ["19970000"]), {"amount": "20000000", "slot": "1"})
    f.ok("an amount one step below base blocks slots 0 and 1", al(b, "10000", "100", ["19980000"]),
         {"amount": "20010000", "slot": "2"})
    f.ok("slots near two taken amounts are skipped",
         al(b, "10000", "100", ["20000000", "20050000"]), {"amount": "20080000", "slot": "9"})
    f.ok("base is reused once nothing is near it",
         al(b, "10000", "100", ["20030000", "20060000"]), {"amount": "19990000", "slot": "0"})
    f.ok("last slot is clear", al(b, "10000", "4", ["19990000"]),
         {"amount": "20020000", "slot": "3"})
    f.ok("single slot free", al(b, "10000", "1", []), {"amount": "19990000", "slot": "0"})
    f.ok("step 0.001 USDT", al("10840000", "1000", "10", ["10840000"]),
         {"amount": "10843000", "slot": "3"})
    f.ok("step 0.0001 USDT", al("10840000", "100", "10", ["10840000", "10840300"]),
         {"amount": "10840600", "slot": "6"})
    f.ok("step one base unit", al("10840000", "1", "10", ["10840000"]),
         {"amount": "10840003", "slot": "3"})
    f.ok("bsc 18 dp step 0.01", al("10840000000000000000", "10000000000000000", "100",
                                   ["10840000000000000000", "10870000000000000000"]),
         {"amount": "10900000000000000000", "slot": "6"})
    f.ok("zero base", al("0", "10000", "5", ["0"]), {"amount": "30000", "slot": "3"})
    f.ok("base u128 max, slot 0 free", al(str(U128_MAX), "1", "2", []),
         {"amount": str(U128_MAX), "slot": "0"})
    taken = [str(19990000 + 30000 * k) for k in range(250)]
    f.ok("250 taken three steps apart", al(b, "10000", "1000", taken),
         {"amount": "27490000", "slot": "750"})
    f.ok("large max_slots", al(b, "10000", "1000000", ["19990000"]),
         {"amount": "20020000", "slot": "3"})
    f.ok("leading zeros in inputs", al("0019990000", "010000", "0100", ["19990000"]),
         {"amount": "20020000", "slot": "3"})
    f.err("band full when every slot is within two steps of a taken amount",
          al(b, "10000", "3", ["20000000"]), "amount_band_full")
    f.err("band full", al(b, "10000", "3", ["19990000", "20000000", "20010000"]), "amount_band_full")
    f.err("band full: a taken amount two steps above the last slot blocks it",
          al(b, "10000", "1", ["20010000"]), "amount_band_full")
    f.err("band full with extra unrelated taken",
          al(b, "10000", "2", ["5", "19990000", "20000000", "20010000"]), "amount_band_full")
    f.err("single slot taken", al(b, "10000", "1", ["19990000"]), "amount_band_full")
    f.err("max_slots zero", al(b, "10000", "0", []), "amount_band_full")
    f.err("step zero", al(b, "0", "100", []), "invalid_amount")
    f.err("step zero with leading zeros", al(b, "000", "100", []), "invalid_amount")
    f.err("step negative", al(b, "-10000", "100", []), "invalid_amount")
    f.err("base is a decimal", al("19.99", "10000", "100", []), "invalid_amount")
    f.err("base empty", al("", "10000", "100", []), "invalid_amount")
    return f


# --------------------------------------------------------------------------------------------
# addresses/parse_address
# --------------------------------------------------------------------------------------------

EIP55_VECTORS = [
    ("all caps", "0x52908400098527886E0F7030069857D2E4169EE7"),
    ("all caps", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"),
    ("all lower", "0xde709f2102306220921060314715629080e2fb77"),
    ("all lower", "0x27b1fdb04752bbc536007a920d24acb045561c26"),
    ("normal", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    ("normal", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"),
    ("normal", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"),
    ("normal", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"),
]

# standards.md §2.1: (base58, 21-byte hex, source)
TRON_VECTORS = [
    ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
     "USDT mainnet contract", TRON_DEV),
    ("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", "410000000000000000000000000000000000000000",
     "zero address", TRON_DEV),
    ("TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC", "415cd0fb0ab3ce40f3051414c604b27756e69e43db",
     "wallet-core vector 1", WALLET_CORE_TRON),
    ("THRF3GuPnvvPzKoaT8pJex5XHmo8NNbCb3", "4151b5659b685047f35498f763dce619c4720d2aa7",
     "wallet-core vector 2", WALLET_CORE_TRON),
    ("TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf", "41eca9bc828a3005b9a3b909f2cc5c2a54794de05f",
     "Nile test USDT", TRON_DEV),
]


def flip_case(text, index):
    ch = text[index]
    return text[:index] + (ch.lower() if ch.isupper() else ch.upper()) + text[index + 1:]


def first_mixed_flip(address, from_end=False):
    """Index of a hex letter whose case flip leaves the body still mixed-case."""
    positions = range(len(address) - 1, 1, -1) if from_end else range(2, len(address))
    for i in positions:
        if address[i] in "abcdefABCDEF":
            body = flip_case(address, i)[2:]
            if body != body.lower() and body != body.upper():
                return i
    raise AssertionError(address)


def replace_char(text, index, ch):
    return text[:index] + ch + text[index + 1:]


def build_parse_address():
    f = VectorFile("addresses", "parse_address",
                   "Parses an address for a network; returns its display form and 20-byte lowercase hex.",
                   [EIP55, WALLET_CORE_TRON, WALLET_CORE_TRON_SRC, TRON_DEV, TRON_JSONRPC, BASE58,
                    REGISTRY_SRC],
                   o_parse_address)
    pa = lambda network, text: {"network": network, "text": text}

    # EIP-55 spec vectors, verbatim.
    for n, (kind, address) in enumerate(EIP55_VECTORS, 1):
        f.ok(f"EIP-55 spec vector {n} ({kind})", pa("ethereum", address),
             {"address": address, "hex": address.lower()}, source=EIP55)
    # Every USDT contract in the registry, on its own network.
    for network in NETWORK_IDS:
        for tok in NETWORKS[network]["tokens"]:
            raw20 = contract_raw20(tok)
            f.ok(f"registry contract {network}/{tok['id']}", pa(network, tok["contract"]),
                 {"address": tok["contract"], "hex": "0x" + raw20.hex()}, source=REGISTRY_SRC)
            if family(network) == "evm":
                f.ok(f"registry contract {network}/{tok['id']} all lowercase",
                     pa(network, tok["contract"].lower()),
                     {"address": tok["contract"], "hex": "0x" + raw20.hex()})
    f.ok("all-uppercase input is accepted and checksummed",
         pa("ethereum", "0x" + "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".upper()),
         {"address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "hex": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"})
    f.ok("all-lowercase input is accepted and checksummed",
         pa("base", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
         {"address": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
          "hex": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"})
    f.ok("zero address", pa("polygon", "0x" + "0" * 40),
         {"address": "0x" + "0" * 40, "hex": "0x" + "0" * 40})
    f.ok("digits only", pa("arbitrum", "0x" + "1234567890" * 4),
         {"address": "0x" + "1234567890" * 4, "hex": "0x" + "1234567890" * 4})
    f.ok("devnet deployer account", pa("devnet", "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"),
         {"address": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
          "hex": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"})

    # Single-letter case flips of checksummed addresses.
    flips = [("EIP-55 vector 5", "ethereum", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", False),
             ("EIP-55 vector 6", "ethereum", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", True),
             ("EIP-55 vector 7", "sepolia", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", False),
             ("EIP-55 vector 8", "avalanche", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", True),
             ("ethereum USDT", "ethereum", "0xdAC17F958D2ee523a2206206994597C13D831ec7", True),
             ("bsc USDT", "bsc", "0x55d398326f99059fF775485246999027B3197955", False),
             ("optimism USDT0", "optimism", "0x01bFF41798a0BcF287b996046Ca68b395DbC1071", True)]
    for label, network, address, from_end in flips:
        i = first_mixed_flip(address, from_end)
        where = "last" if from_end else "first"
        f.err(f"{label} with its {where} flippable letter case-flipped", pa(network, flip_case(address, i)),
              "address_checksum", source=EIP55)
    caps = EIP55_VECTORS[0][1]
    f.err("all-caps spec vector with one letter lowered", pa("ethereum", flip_case(caps, caps.index("E"))),
          "address_checksum")

    for text, why in [
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", "39 hex digits"),
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0", "41 hex digits"),
            ("0x", "prefix only"),
            ("", "empty"),
            ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "missing 0x prefix"),
            ("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "uppercase 0X prefix"),
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "non-hex letter g"),
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1Be-ed", "dash"),
            (" 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "leading space (not trimmed)"),
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed ", "trailing space (not trimmed)"),
            ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n", "trailing newline (not trimmed)"),
            ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae\u0064\u0301", "combining accent appended"),
            ("0x５aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "full-width digit"),
            ("0x0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", "doubled prefix"),
            ("0x000000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
             "32-byte padded topic form"),
            ("41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TRON 41-hex form on an EVM network"),
            ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TRON base58 address on ethereum"),
            ("vitalik.eth", "ENS name")]:
        f.err(f"EVM invalid: {why}", pa("ethereum", text), "invalid_address")

    # TRON family.
    for base58, hex21, label, source in TRON_VECTORS:
        f.ok(f"TRON spec vector: {label}", pa("tron", base58),
             {"address": base58, "hex": "0x" + hex21[2:]}, source=source)
    f.err("TRON spec vector: last character case changed", pa("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T"),
          "address_checksum", source=TRON_DEV)
    usdt = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    f.ok("TRON JSON-RPC 0x form", pa("tron", "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"),
         {"address": usdt, "hex": "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"}, source=TRON_JSONRPC)
    f.ok("TRON 0x form, uppercase hex", pa("tron", "0xA614F803B6FD780986A42C78EC9C7F77E6DED13C"),
         {"address": usdt, "hex": "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"})
    f.ok("TRON 41-prefixed hex form", pa("tron", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c"),
         {"address": usdt, "hex": "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"}, source=TRON_DEV)
    f.ok("TRON 41-prefixed hex form, uppercase hex", pa("tron", "41A614F803B6FD780986A42C78EC9C7F77E6DED13C"),
         {"address": usdt, "hex": "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"})
    f.ok("EVM EIP-55 address on tron becomes base58", pa("tron", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
         {"address": tron_base58(bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")),
          "hex": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"})
    bad_case = flip_case("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 3)
    f.ok("TRON 0x form is not EIP-55 checked", pa("tron", bad_case),
         {"address": tron_base58(bytes.fromhex("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")),
          "hex": "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"})
    f.ok("tron-nile USDT via 0x form", pa("tron-nile", "0xeca9bc828a3005b9a3b909f2cc5c2a54794de05f"),
         {"address": "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf", "hex": "0xeca9bc828a3005b9a3b909f2cc5c2a54794de05f"})
    f.ok("devnet-tron contract via 0x form (devnet EVM deployment)",
         pa("devnet-tron", "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"),
         {"address": "TQYe4HpR7kmzHQjxaK4rmVCZVWvP3xUW8N", "hex": "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0"})
    f.ok("TRON zero address from 0x form", pa("devnet-tron", "0x" + "0" * 40),
         {"address": "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", "hex": "0x" + "0" * 40})

    # Checksum failures: still 25 bytes with version 0x41, only the check bytes disagree.
    for label, text in [("middle character changed", replace_char(usdt, 17, "9")),
                        ("two characters swapped", usdt[:10] + usdt[11] + usdt[10] + usdt[12:]),
                        ("wallet-core vector with last character changed",
                         "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeD")]:
        raw = tron_decode_base58(text)
        assert raw[0] == 0x41 and dsha256_4(raw[:21]) != raw[21:], label
        f.err(f"TRON checksum: {label}", pa("tron", text), "address_checksum")

    # Wrong version byte with a valid checksum.
    btc = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    raw = tron_decode_base58(btc)
    assert raw[0] == 0x00 and dsha256_4(raw[:21]) == raw[21:]
    f.err("TRON: Bitcoin address (version 0x00, valid checksum)", pa("tron", btc), "invalid_address")
    v42 = b58check(b"\x42" + bytes.fromhex("a614f803b6fd780986a42c78ec9c7f77e6ded13c"))
    assert len(v42) == 34
    f.err("TRON: version byte 0x42 with valid checksum", pa("tron", v42), "invalid_address")
    v40 = b58check(b"\x40" + bytes.fromhex("a614f803b6fd780986a42c78ec9c7f77e6ded13c"))
    assert len(v40) == 34 and v40.startswith("T")
    f.err("TRON: starts with T but version byte 0x40", pa("tron", v40), "invalid_address")
    short = "1" * 33 + "2"
    assert len(b58decode(short)) == 34
    f.err("TRON: 34 characters decoding to 34 bytes", pa("tron", short), "invalid_address")

    for text, why in [
            (usdt[:-1], "33 characters"),
            (usdt + "1", "35 characters"),
            ("", "empty"),
            (replace_char(usdt, 5, "0"), "character 0 is not base58"),
            (replace_char(usdt, 5, "O"), "character O is not base58"),
            (replace_char(usdt, 5, "I"), "character I is not base58"),
            (replace_char(usdt, 5, "l"), "character l is not base58"),
            (" " + usdt, "leading space (not trimmed)"),
            (usdt + " ", "trailing space (not trimmed)"),
            (usdt + "\n", "trailing newline (not trimmed)"),
            ("0X" + "a614f803b6fd780986a42c78ec9c7f77e6ded13c", "uppercase 0X prefix"),
            ("0xa614f803b6fd780986a42c78ec9c7f77e6ded13", "0x form with 39 hex digits"),
            ("0x41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "0x followed by the 41-prefixed form"),
            ("42a614f803b6fd780986a42c78ec9c7f77e6ded13c", "42 hex digits starting 42"),
            ("41a614f803b6fd780986a42c78ec9c7f77e6ded13", "41 form with 39 hex digits"),
            ("0xa614f803b6fd780986a42c78ec9c7f77e6ded1zz", "0x form with non-hex")]:
        f.err(f"TRON invalid: {why}", pa("tron", text), "invalid_address")

    f.err("unknown network", pa("tron-shasta", usdt), "unknown_network")
    f.err("network id with trailing space", pa("tron ", usdt), "unknown_network")
    return f


# --------------------------------------------------------------------------------------------
# payment_uri/payment_uri
# --------------------------------------------------------------------------------------------

def build_payment_uri():
    f = VectorFile("payment_uri", "payment_uri",
                   "Payment request for the QR: EIP-681 token transfer on EVM networks, bare base58 address on TRON.",
                   [EIP681, EIP55, REGISTRY_SRC, "https://github.com/btcpayserver/btcpayserver-plugin-usdt"],
                   o_payment_uri)

    def pu(network, recipient, amount, token=None):
        inp = {"network": network}
        if token is not None:
            inp["token"] = token
        inp.update({"recipient": recipient, "amount": amount})
        return inp

    merchant = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
    merchant_cs = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    f.ok("12.5 USDT on ethereum (spec example)", pu("ethereum", merchant, "12.5"),
         "ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer"
         "?address=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed&uint256=12500000", source=EIP681)
    f.ok("1000 USDT on bsc, 18 dp (spec example)", pu("bsc", merchant_cs, "1000"),
         "ethereum:0x55d398326f99059fF775485246999027B3197955@56/transfer"
         "?address=0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed&uint256=1000000000000000000000",
         source=EIP681)
    for network in NETWORK_IDS:
        net = NETWORKS[network]
        for index, tok in enumerate(net["tokens"]):
            token_arg = None if index == 0 else tok["id"]
            label = f"{network}/{tok['id']}" + (" (default token)" if index == 0 else "")
            if net["family"] == "evm":
                units = 19990000 * 10 ** (tok["decimals"] - 6)
                want = (f"ethereum:{tok['contract']}"
                        f"@{net['chain_id']}/transfer?address={merchant_cs}&uint256={units}")
                f.ok(f"19.99 on {label}", pu(network, merchant, "19.99", token_arg), want)
            else:
                f.ok(f"19.99 on {label} is the bare address",
                     pu(network, "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC", "19.99", token_arg),
                     "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC")
    f.ok("explicit default token id", pu("optimism", merchant, "1", "usdt0"),
         f"ethereum:0x01bFF41798a0BcF287b996046Ca68b395DbC1071@10/transfer?address={merchant_cs}&uint256=1000000")
    f.ok("devnet usdt18, 18 dp", pu("devnet", "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "0.5", "usdt18"),
         "ethereum:0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512@31337/transfer"
         "?address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8&uint256=500000000000000000")
    f.ok("smallest unit on ethereum", pu("ethereum", merchant, "0.000001"),
         f"ethereum:0xdAC17F958D2ee523a2206206994597C13D831ec7@1/transfer?address={merchant_cs}&uint256=1")
    f.ok("large amount stays a plain integer", pu("bsc", merchant, "123456789.5"),
         f"ethereum:0x55d398326f99059fF775485246999027B3197955@56/transfer?address={merchant_cs}"
         "&uint256=123456789500000000000000000")
    f.ok("amount with leading zeros and trailing zeros", pu("arbitrum", merchant, "007.5000000"),
         f"ethereum:0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9@42161/transfer?address={merchant_cs}"
         "&uint256=7500000")
    f.ok("all-uppercase recipient is checksummed", pu("base", merchant.upper().replace("0X", "0x"), "2"),
         f"ethereum:0xfde4C96c8593536E31F229EA8f37b2ADa2699bb2@8453/transfer?address={merchant_cs}&uint256=2000000")
    f.ok("TRON recipient in 0x form becomes base58", pu("tron", "0x5cd0fb0ab3ce40f3051414c604b27756e69e43db", "5"),
         "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC")
    f.ok("TRON recipient in 41-hex form becomes base58",
         pu("tron-nile", "4151b5659b685047f35498f763dce619c4720d2aa7", "5"),
         "THRF3GuPnvvPzKoaT8pJex5XHmo8NNbCb3")

    f.err("zero amount", pu("ethereum", merchant, "0"), "invalid_amount")
    f.err("zero amount with fraction", pu("bsc", merchant, "0.00"), "invalid_amount")
    f.err("zero amount on tron", pu("tron", "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC", "0"), "invalid_amount")
    f.err("amount with exponent", pu("ethereum", merchant, "12.5e6"), "invalid_amount")
    f.err("negative amount", pu("ethereum", merchant, "-12.5"), "invalid_amount")
    f.err("empty amount", pu("polygon", merchant, ""), "invalid_amount")
    f.err("too many decimals", pu("ethereum", merchant, "12.5000001"), "too_many_decimals")
    f.err("too many decimals on tron", pu("tron", "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC", "1.0000001"),
          "too_many_decimals")
    f.err("amount overflow", pu("bsc", merchant, "340282366920938463463.374607431768211456"),
          "amount_overflow")
    f.err("recipient checksum wrong", pu("ethereum", flip_case(merchant_cs, 3), "12.5"), "address_checksum")
    f.err("recipient too short", pu("ethereum", merchant[:-1], "12.5"), "invalid_address")
    f.err("TRON recipient on ethereum", pu("ethereum", "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC", "12.5"),
          "invalid_address")
    f.err("TRON recipient checksum wrong", pu("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T", "12.5"),
          "address_checksum")
    f.err("TRON recipient with a non-base58 character", pu("tron", "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDe0", "12.5"),
          "invalid_address")
    f.err("unknown network", pu("solana", merchant, "12.5"), "unknown_network")
    f.err("unknown token", pu("avalanche", merchant, "12.5", "usdt0"), "unknown_token")
    return f


# --------------------------------------------------------------------------------------------
# logs/decode_transfer_log
# --------------------------------------------------------------------------------------------

def word(hex_address):
    return "0x" + "0" * 24 + hex_address.lower().removeprefix("0x")


def amount_word(value):
    return "0x" + format(value, "064x")


def fake_hash(label):
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


def build_decode_transfer_log():
    f = VectorFile("logs", "decode_transfer_log",
                   "Decodes one eth_getLogs result into an ERC-20 Transfer (token, from, to, amount, position).",
                   [EIP20, ETH_GETLOGS, TRON_JSONRPC, EIP721, EIP55], o_decode_transfer_log)

    usdt_eth = "0xdac17f958d2ee523a2206206994597c13d831ec7"
    payer = "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"
    merchant = "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"

    def log(address=usdt_eth, frm=payer, to=merchant, value=19990000, block=20000000,
            index=0x5a, label="eth-1", **extra):
        out = {
            "address": address,
            "topics": [TRANSFER_TOPIC, word(frm), word(to)],
            "data": amount_word(value),
            "blockNumber": hex(block),
            "blockHash": fake_hash(f"block {label}"),
            "transactionHash": fake_hash(f"tx {label}"),
            "transactionIndex": "0x3e",
            "logIndex": hex(index),
            "removed": False,
        }
        out.update(extra)
        return out

    def dl(network, lg):
        return {"network": network, "log": lg}

    def without(lg, key):
        return {k: v for k, v in lg.items() if k != key}

    base = log()
    out = f.ok("ethereum USDT 19.99 transfer", dl("ethereum", base), source=ETH_GETLOGS)
    assert out["token"] == "0xdAC17F958D2ee523a2206206994597C13D831ec7"
    assert out["from"] == "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
    assert out["to"] == "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    assert out["log_index"] == "90" and out["block_number"] == "20000000"

    tron_log = log(address="0xa614f803b6fd780986a42c78ec9c7f77e6ded13c",
                   frm="0x5cd0fb0ab3ce40f3051414c604b27756e69e43db",
                   to="0x51b5659b685047f35498f763dce619c4720d2aa7",
                   value=12500000, block=70000000, index=3, label="tron-1")
    out = f.ok("TRON JSON-RPC USDT log", dl("tron", tron_log), source=TRON_JSONRPC)
    assert out["token"] == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    assert out["from"] == "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC"
    assert out["to"] == "THRF3GuPnvvPzKoaT8pJex5XHmo8NNbCb3"
    assert not out["tx_hash"].startswith("0x") and len(out["tx_hash"]) == 64
    f.ok("tron-nile USDT log", dl("tron-nile", log(address="0xeca9bc828a3005b9a3b909f2cc5c2a54794de05f",
                                                  value=1, block=60000000, index=0, label="nile")),
         {"token": "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf",
          "from": tron_base58(bytes.fromhex(payer[2:])),
          "to": tron_base58(bytes.fromhex(merchant[2:])),
          "amount": "1", "tx_hash": fake_hash("tx nile")[2:], "log_index": "0",
          "block_number": "60000000", "block_hash": fake_hash("block nile"), "removed": False})
    out = f.ok("devnet-tron log", dl("devnet-tron", log(address="0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
                                                        block=12, index=1, label="devnet-tron")))
    assert out["token"] == "TQYe4HpR7kmzHQjxaK4rmVCZVWvP3xUW8N"
    f.ok("TRON mint from the zero address",
         dl("tron", log(address="0xa614f803b6fd780986a42c78ec9c7f77e6ded13c", frm="0x" + "0" * 40,
                        value=1000000, label="tron-mint")),
         )
    big = 123456789 * 10 ** 18 + 5
    assert big > 1 << 64
    out = f.ok("bsc 18 dp amount above 2^64",
               dl("bsc", log(address="0x55d398326f99059ff775485246999027b3197955", value=big,
                             block=45000000, index=0x1f4, label="bsc")))
    assert out["amount"] == "123456789000000000000000005"
    f.ok("removed: true (reorged away)", dl("ethereum", log(removed=True, label="reorg")))
    f.ok("removed absent means false", dl("ethereum", without(log(label="no-removed"), "removed")))
    f.ok("transactionIndex absent", dl("polygon", without(
        log(address="0xc2132d05d31c914a87c6611c10748aeb04b58e8f", label="poly"), "transactionIndex")))
    out = f.ok("mint from the zero address", dl("arbitrum", log(
        address="0xfd086bc7cd5c481dcc9c85ebe478a1c0b69fcbb9", frm="0x" + "0" * 40, label="mint")))
    assert out["from"] == "0x" + "0" * 40
    f.ok("burn to the zero address", dl("optimism", log(
        address="0x01bff41798a0bcf287b996046ca68b395dbc1071", to="0x" + "0" * 40, label="burn")))
    f.ok("fake token contract decodes (matching rejects it later)", dl("ethereum", log(
        address="0x1111111111111111111111111111111111111111", label="fake")))
    f.ok("zero-value transfer (address-poisoning spam) decodes", dl("ethereum", log(value=0, label="spam")))
    f.ok("amount u128 max", dl("bsc", log(address="0x55d398326f99059ff775485246999027b3197955",
                                         value=U128_MAX, label="max")))
    f.ok("block 0 and log index 0", dl("devnet", log(address="0x5fbdb2315678afecb367f032d93f642f64180aa3",
                                                     block=0, index=0, label="genesis")))
    upper = log(label="upper")
    upper = {k: (v.upper().replace("0X", "0x") if isinstance(v, str) else
                 [t.upper().replace("0X", "0x") for t in v] if isinstance(v, list) else v)
             for k, v in upper.items()}
    out = f.ok("uppercase hex everywhere", dl("ethereum", upper))
    assert out["tx_hash"] == fake_hash("tx upper") and out["block_hash"] == fake_hash("block upper")
    f.ok("blockTimestamp becomes block_time", dl("base", log(address="0xfde4c96c8593536e31f229ea8f37b2ada2699bb2",
                                                           label="extra", blockTimestamp="0x68d3c1a0")))
    f.ok("extra fields are ignored", dl("base", log(address="0xfde4c96c8593536e31f229ea8f37b2ada2699bb2",
                                                   label="extra2", chainId="0x2105", blockTimestamp=None)))
    f.err("malformed blockTimestamp", dl("base", log(address="0xfde4c96c8593536e31f229ea8f37b2ada2699bb2",
                                                     label="extra3", blockTimestamp="1758708128")), "invalid_log")
    f.ok("avalanche usdt-e log", dl("avalanche", log(address="0xc7198437980c041c805a1edcba50c1ce5db95118",
                                                     label="avax")))

    # not_a_transfer
    approval = "0x" + keccak256(b"Approval(address,address,uint256)").hex()
    assert approval == "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"
    f.err("Approval event", dl("ethereum", log(topics=[approval, word(payer), word(merchant)], label="appr")),
          "not_a_transfer", source=EIP20)
    f.err("ERC-721 Transfer has 4 topics and no data", dl("ethereum", log(
        topics=[TRANSFER_TOPIC, word(payer), word(merchant), amount_word(42)], data="0x", label="nft")),
          "not_a_transfer", source=EIP721)
    f.err("Transfer topic with only 2 topics", dl("ethereum", log(topics=[TRANSFER_TOPIC, word(payer)],
                                                                   label="two")), "not_a_transfer")
    f.err("anonymous event with no topics", dl("ethereum", log(topics=[], label="anon")), "not_a_transfer")
    f.err("topic0 differs in one nibble", dl("ethereum", log(
        topics=[TRANSFER_TOPIC[:-1] + "0", word(payer), word(merchant)], label="nibble")), "not_a_transfer")

    # invalid_log
    for key in ["address", "topics", "data", "blockNumber", "blockHash", "transactionHash", "logIndex"]:
        f.err(f"missing {key}", dl("ethereum", without(log(label=f"missing-{key}"), key)), "invalid_log")
    for label, kw in [
            ("address 19 bytes", {"address": usdt_eth[:-2]}),
            ("address 32-byte word", {"address": word(usdt_eth)}),
            ("address without 0x", {"address": usdt_eth[2:]}),
            ("address non-hex", {"address": usdt_eth[:-1] + "g"}),
            ("topics is a string", {"topics": TRANSFER_TOPIC}),
            ("topic 31 bytes", {"topics": [TRANSFER_TOPIC, word(payer)[:-2], word(merchant)]}),
            ("topic null", {"topics": [TRANSFER_TOPIC, None, word(merchant)]}),
            ("from topic with non-zero upper bytes",
             {"topics": [TRANSFER_TOPIC, "0x" + "0" * 23 + "1" + payer[2:], word(merchant)]}),
            ("to topic with non-zero upper bytes",
             {"topics": [TRANSFER_TOPIC, word(payer), "0xff" + "0" * 22 + merchant[2:]]}),
            ("data empty", {"data": "0x"}),
            ("data 31 bytes", {"data": amount_word(1)[:-2]}),
            ("data 33 bytes", {"data": amount_word(1) + "00"}),
            ("data 64 bytes", {"data": amount_word(1) + "0" * 64}),
            ("data without 0x", {"data": amount_word(1)[2:]}),
            ("blockNumber decimal", {"blockNumber": "20000000"}),
            ("blockNumber null (pending log)", {"blockNumber": None}),
            ("blockNumber empty quantity", {"blockNumber": "0x"}),
            ("logIndex non-hex", {"logIndex": "0xzz"}),
            ("blockHash 31 bytes", {"blockHash": fake_hash("short")[:-2]}),
            ("transactionHash without 0x", {"transactionHash": fake_hash("nox")[2:]}),
            ("transactionHash 33 bytes", {"transactionHash": fake_hash("long") + "00"}),
            ("removed is a string", {"removed": "true"})]:
        f.err(label, dl("ethereum", log(label=label, **kw)), "invalid_log")
    f.err("log is not an object", dl("ethereum", [TRANSFER_TOPIC]), "invalid_log")
    f.err("TRON log with 41-prefixed address", dl("tron", log(
        address="41a614f803b6fd780986a42c78ec9c7f77e6ded13c", label="tron-41")), "invalid_log")

    f.err("amount 2^128", dl("bsc", log(value=1 << 128, label="2^128")), "amount_overflow")
    f.err("amount 2^256 - 1", dl("ethereum", log(value=(1 << 256) - 1, label="2^256-1")), "amount_overflow")
    f.err("unknown network", dl("goerli", log(label="goerli")), "unknown_network")
    return f


# --------------------------------------------------------------------------------------------
# webhooks
# --------------------------------------------------------------------------------------------

SECRET = "whsec_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
OLD_SECRET = "whsec_old_rotated_out_0123456789abcdef"
BODY = ('{"event":"invoice.settled","event_id":"evt_01JD3K7Q2X","invoice":"inv_8f3a2c",'
        '"network":"tron","amount_paid":"19.99"}')
T0 = "1764072000"


def build_sign_webhook():
    f = VectorFile("webhooks", "sign_webhook",
                   "Stablegate-Signature header: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>.",
                   [DESIGN_WEBHOOKS, HMAC_RFC, RFC4231], o_sign_webhook)
    sw = lambda secret, body, timestamp: {"secret": secret, "body": body, "timestamp": timestamp}
    f.ok("JSON event body", sw(SECRET, BODY, T0))
    f.ok("empty body", sw(SECRET, "", T0))
    f.ok("unicode body (UTF-8 bytes are signed)", sw(SECRET, '{"note":"已付款 ✓ — café"}', T0))
    f.ok("emoji outside the BMP", sw(SECRET, '{"note":"💸"}', T0))
    f.ok("body with a trailing newline", sw(SECRET, BODY + "\n", T0))
    f.ok("long secret (longer than the 64-byte HMAC block)", sw("s" * 100 + "_long_secret", BODY, T0))
    f.ok("secret exactly 64 bytes", sw("k" * 64, BODY, T0))
    f.ok("unicode secret", sw("密钥-secret", BODY, T0))
    f.ok("timestamp 0", sw(SECRET, BODY, "0"))
    f.ok("body containing commas and equals signs", sw(SECRET, "a=1,b=2,t=3,v1=4", T0))
    return f


def build_verify_webhook():
    f = VectorFile("webhooks", "verify_webhook",
                   "Verifies a Stablegate-Signature header: parse, then the time window, then the HMAC (any v1 may match).",
                   [DESIGN_WEBHOOKS, HMAC_RFC], o_verify_webhook)

    def vw(header, body=BODY, now=T0, secret=SECRET, tolerance=None):
        inp = {"secret": secret, "header": header, "body": body, "now": now}
        if tolerance is not None:
            inp["tolerance"] = tolerance
        return inp

    sig = webhook_mac(SECRET, T0, BODY)
    good = f"t={T0},v1={sig}"
    t = int(T0)
    f.ok("valid, same second", vw(good), True)
    f.ok("valid, keys in the other order", vw(f"v1={sig},t={T0}"), True)
    f.ok("valid, 300 s old (boundary)", vw(good, now=str(t + 300)), True)
    f.ok("valid, 300 s in the future (boundary)", vw(good, now=str(t - 300)), True)
    f.ok("valid, 299 s old", vw(good, now=str(t + 299)), True)
    f.ok("valid, explicit tolerance 300", vw(good, now=str(t + 300), tolerance="300"), True)
    f.ok("valid, tolerance 600 allows 301 s", vw(good, now=str(t + 301), tolerance="600"), True)
    f.ok("valid, tolerance 0 and same second", vw(good, tolerance="0"), True)
    f.ok("valid, uppercase hex v1", vw(f"t={T0},v1={sig.upper()}"), True)
    f.ok("valid, two v1 and the second is right",
         vw(f"t={T0},v1={webhook_mac(OLD_SECRET, T0, BODY)},v1={sig}"), True)
    f.ok("valid, two v1 and the first is right",
         vw(f"t={T0},v1={sig},v1={webhook_mac(OLD_SECRET, T0, BODY)}"), True)
    f.ok("valid, rotation: header signed with old and new, verifier has the old secret",
         vw(f"t={T0},v1={webhook_mac(OLD_SECRET, T0, BODY)},v1={sig}", secret=OLD_SECRET), True)
    f.ok("valid, unknown keys ignored", vw(f"t={T0},v0=deadbeef,v1={sig},scheme=hmac-sha256"), True)
    f.ok("valid, unknown key with empty value", vw(f"t={T0},v1={sig},x="), True)
    f.ok("valid, empty body", vw(f"t={T0},v1={webhook_mac(SECRET, T0, '')}", body=""), True)
    ubody = '{"note":"已付款 ✓ — café 💸"}'
    f.ok("valid, unicode body", vw(f"t={T0},v1={webhook_mac(SECRET, T0, ubody)}", body=ubody), True)
    lsecret = "s" * 100 + "_long_secret"
    f.ok("valid, long secret", vw(f"t={T0},v1={webhook_mac(lsecret, T0, BODY)}", secret=lsecret), True)

    # header problems come first, whatever the clock or the body say
    for header, why in [
            ("", "empty header"),
            (f"t={T0}", "no v1"),
            (f"v1={sig}", "no t"),
            (f"t={T0},t={T0},v1={sig}", "duplicate t"),
            (f"t={T0},t={t + 1},v1={sig}", "two different t"),
            (f"t=abc,v1={sig}", "t not digits"),
            (f"t=,v1={sig}", "t empty"),
            (f"t=-{T0},v1={sig}", "t negative"),
            (f"t=+{T0},v1={sig}", "t with plus sign"),
            (f"t={T0}.5,v1={sig}", "t with fraction"),
            (f"t={T0},v1=", "v1 empty"),
            (f"t={T0},v1={sig[:-1]}", "v1 63 hex"),
            (f"t={T0},v1={sig}0", "v1 65 hex"),
            (f"t={T0},v1={sig[:-1]}g", "v1 non-hex"),
            (f"t={T0},v1={sig},v1=abc", "second v1 malformed though first is right"),
            (f"t={T0},v1={sig},garbage", "pair without ="),
            (f"t={T0};v1={sig}", "semicolon separator"),
            (f"T={T0},v1={sig}", "key T is not t"),
            (f"t={T0},V1={sig}", "key V1 is not v1")]:
        f.err(f"header: {why}", vw(header), "invalid_signature_header")
    f.err("header checked before the window", vw(f"t={T0},v1=zz", now=str(t + 100000)),
          "invalid_signature_header")

    f.err("301 s old", vw(good, now=str(t + 301)), "timestamp_out_of_window")
    f.err("301 s in the future", vw(good, now=str(t - 301)), "timestamp_out_of_window")
    f.err("one day old", vw(good, now=str(t + 86400)), "timestamp_out_of_window")
    f.err("tolerance 0 and one second off", vw(good, now=str(t + 1), tolerance="0"),
          "timestamp_out_of_window")
    f.err("explicit tolerance 60, 61 s old", vw(good, now=str(t + 61), tolerance="60"),
          "timestamp_out_of_window")
    f.err("window checked before the signature",
          vw(f"t={T0},v1={'0' * 64}", now=str(t + 301)), "timestamp_out_of_window")

    f.err("body changed by one byte", vw(good, body=BODY.replace("19.99", "19.98")), "signature_mismatch")
    f.err("body with a trailing newline added", vw(good, body=BODY + "\n"), "signature_mismatch")
    f.err("wrong secret", vw(good, secret=SECRET + "x"), "signature_mismatch")
    f.err("signature for another timestamp",
          vw(f"t={T0},v1={webhook_mac(SECRET, str(t - 1), BODY)}"), "signature_mismatch")
    f.err("timestamp replaced, signature kept", vw(f"t={t + 10},v1={sig}"), "signature_mismatch")
    f.err("two v1, neither right",
          vw(f"t={T0},v1={webhook_mac(OLD_SECRET, T0, BODY)},v1={'a' * 64}"), "signature_mismatch")
    f.err("signature without the point separator",
          vw(f"t={T0},v1={hmac.new(SECRET.encode(), (T0 + BODY).encode(), hashlib.sha256).hexdigest()}"),
          "signature_mismatch")
    f.err("signature over the body only",
          vw(f"t={T0},v1={hmac.new(SECRET.encode(), BODY.encode(), hashlib.sha256).hexdigest()}"),
          "signature_mismatch")
    f.err("SHA-512 truncated is not accepted",
          vw(f"t={T0},v1={hmac.new(SECRET.encode(), (T0 + '.' + BODY).encode(), hashlib.sha512).hexdigest()[:64]}"),
          "signature_mismatch")
    return f


# --------------------------------------------------------------------------------------------

BUILDERS = [build_to_base_units, build_format_amount, build_fiat_to_usdt, build_allocate_amount,
            build_parse_address, build_payment_uri, build_decode_transfer_log, build_sign_webhook,
            build_verify_webhook]


def main(argv):
    check_only = "--check" in argv[1:]
    _selftest_primitives()
    stale = []
    total = 0
    for build in BUILDERS:
        vf = build()
        text = vf.render()
        path = vf.path()
        n = len(vf.doc["valid"]) + len(vf.doc["invalid"])
        total += n
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            stale.append(path)
            if not check_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(VECTORS)}: {len(vf.doc['valid'])} valid, "
              f"{len(vf.doc['invalid'])} invalid")
    print(f"total: {total} cases")
    if check_only and stale:
        for path in stale:
            print(f"stale: {path.relative_to(VECTORS)} (run tools/generate.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
