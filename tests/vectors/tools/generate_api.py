#!/usr/bin/env python3
"""Writes the vectors of the small public functions hosts call around the engine: creating an
invoice from its terms, the reservations an invoice holds in the address pool, pasted transaction
hashes, wallet calldata, the merchant's confirmations, RFC 3339 times and the network registry.

Like generate.py, an independent oracle: every expected output is computed here in Python (its
addresses through generate.py's own EIP-55 and base58check, times through `datetime`, the pool
through generate_engine.py's allocation model), from the rules stated in the doc comments of
crates/core/src (invoice.rs, log.rs, uri.rs, watch.rs, status.rs, network.rs) and DESIGN.md, never
by running an implementation. Each case states its intent (valid, or the error kind expected), and
the generator refuses to write a file when the oracle disagrees. Python 3.11 standard library only.

Usage: python3 tests/vectors/tools/generate_api.py [--check]
"""

import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as oracle  # noqa: E402  (the primitives and the registry of the first oracle)
import generate_engine as engine  # noqa: E402  (the pool allocation model)

VECTORS = oracle.VECTORS
Fail = oracle.Fail
U64_MAX = (1 << 64) - 1
U128_MAX = (1 << 128) - 1

INVOICE_RS = "crates/core/src/invoice.rs (Invoice::new, Invoice::reservation)"
LOG_RS = "crates/core/src/log.rs (normalize_tx_hash)"
URI_RS = "crates/core/src/uri.rs (transfer_calldata)"
WASM_LIB = "crates/wasm/src/lib.rs (balanceOfCalldata)"
WATCH_RS = "crates/core/src/watch.rs (required_confirmations)"
STATUS_RS = "crates/core/src/status.rs (rfc3339)"
RFC3339 = "https://www.rfc-editor.org/rfc/rfc3339"
EIP20 = oracle.EIP20
ABI = "https://docs.soliditylang.org/en/latest/abi-spec.html"

EVM_TO = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own example
TRON_TO = "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW"  # wallet-core's Tron test address
CHECKSUM_BROKEN = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # last letter's case flipped


def case(oracle_fn, description, input, expect_error=None, source=None):
    """A case whose output `oracle_fn` computes; `expect_error` states the intent."""
    try:
        output, error = oracle_fn(input), None
    except (Fail, engine.Fail) as fail:
        output, error = None, fail.kind
    if error != expect_error:
        raise SystemExit(f"{description}: the oracle gives {error or output!r}, the case expects "
                         f"{expect_error or 'a value'}")
    out = {"description": description, "input": input}
    if error is None:
        out["output"] = output
    else:
        out["error"] = error
    if source:
        out["source"] = source
    return out


def document(area, function, description, sources, cases):
    valid = [c for c in cases if "output" in c]
    invalid = [c for c in cases if "error" in c]
    names = [c["description"] for c in cases]
    assert len(names) == len(set(names)), f"duplicate description in {area}/{function}"
    inputs = [json.dumps(c["input"], sort_keys=True) for c in cases]
    assert len(inputs) == len(set(inputs)), f"two cases of {area}/{function} have the same input"
    return area, function, {"area": area, "function": function, "description": description,
                            "sources": sources, "valid": valid, "invalid": invalid}


def network_of(network_id):
    net = oracle.NETWORKS.get(network_id)
    if net is None:
        raise Fail("unknown_network")
    return net


def base_units(text):
    """Amount::from_base_units_str: ^[0-9]+$ (leading zeros fine), at most u128."""
    if not oracle.DIGITS_RE.fullmatch(text):
        raise Fail("invalid_amount")
    value = int(text)
    if value > U128_MAX:
        raise Fail("amount_overflow")
    return value


def u64(text):
    assert oracle.DIGITS_RE.fullmatch(text) and int(text) <= U64_MAX, text
    return int(text)


# --------------------------------------------------------------------------------------------
# logs / normalize_tx_hash
# --------------------------------------------------------------------------------------------
def o_normalize_tx_hash(i):
    net = network_of(i["network"])
    text = i["text"]
    digits = text[2:] if text.startswith("0x") else text
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise Fail("invalid_tx_hash")
    digits = digits.lower()
    return digits if net["family"] == "tron" else "0x" + digits


def build_normalize_tx_hash():
    h = "5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
    mixed = "5C504ed432CB51138bcf09aa5E8a410dd4a1e204EF84bfed1be16dfba1b22060"
    cases = []
    for net in ("ethereum", "bsc", "devnet", "tron", "tron-nile", "devnet-tron"):
        cases += [
            case(o_normalize_tx_hash, f"{net}: 0x + lower hex", {"network": net, "text": "0x" + h}),
            case(o_normalize_tx_hash, f"{net}: bare lower hex", {"network": net, "text": h}),
            case(o_normalize_tx_hash, f"{net}: mixed case is lowered", {"network": net, "text": "0x" + mixed}),
            case(o_normalize_tx_hash, f"{net}: upper case without 0x", {"network": net, "text": h.upper()}),
        ]
    bad = [
        ("63 digits", "0x" + h[:-1]),
        ("65 digits", "0x" + h + "0"),
        ("63 digits without 0x", h[:-1]),
        ("empty", ""),
        ("0x alone", "0x"),
        ("a non-hex letter", "0x" + h[:-1] + "g"),
        ("upper-case 0X prefix", "0X" + h),
        ("a leading space", " 0x" + h),
        ("a trailing newline", "0x" + h + "\n"),
        ("a doubled 0x prefix", "0x0x" + h[:-2]),
        ("a full-width digit", "0x" + h[:-1] + "\uff10"),
        ("a 20-byte address instead", "0x" + h[:40]),
    ]
    for what, text in bad:
        for net in ("ethereum", "tron"):
            cases.append(case(o_normalize_tx_hash, f"{net}: {what}", {"network": net, "text": text}, "invalid_tx_hash"))
    cases.append(case(o_normalize_tx_hash, "unknown network", {"network": "solana", "text": "0x" + h}, "unknown_network"))
    cases.append(case(o_normalize_tx_hash, "network ids are case-sensitive", {"network": "Tron", "text": h}, "unknown_network"))
    return document("logs", "normalize_tx_hash",
                    "A transaction hash as a customer pastes it, in the form Transfer.tx_hash uses on the network "
                    "(0x + 64 lower hex on EVM, 64 lower hex on TRON).",
                    [LOG_RS, oracle.ETH_GETLOGS, oracle.TRON_JSONRPC], cases)


# --------------------------------------------------------------------------------------------
# payment_uri / transfer_calldata and balance_of_calldata
# --------------------------------------------------------------------------------------------
def word_of_address(network, text):
    return "0" * 24 + oracle.o_parse_address(network, text)["hex"][2:]


def o_transfer_calldata(i):
    network_of(i["network"])
    recipient = word_of_address(i["network"], i["recipient"])
    return "0xa9059cbb" + recipient + f"{base_units(i['base_units']):064x}"


def o_balance_of_calldata(i):
    network_of(i["network"])
    return "0x70a08231" + word_of_address(i["network"], i["owner"])


def build_transfer_calldata():
    cases = [case(o_transfer_calldata, "12.5 USDT to EIP-55's example address (uri.rs's reference example)",
                  {"network": "ethereum", "recipient": EVM_TO.lower(), "base_units": "12500000"})]
    amounts = [("zero", "0"), ("one base unit", "1"), ("19.99 USDT", "19990000"),
               ("leading zeros", "00012500000"), ("u64 max", str(U64_MAX)), ("2^64", str(1 << 64)),
               ("u128 max", str(U128_MAX)), ("1 USDT of 18 decimals", str(10**18))]
    for what, amount in amounts:
        cases.append(case(o_transfer_calldata, f"ethereum: {what}",
                          {"network": "ethereum", "recipient": EVM_TO, "base_units": amount}))
    for net in ("bsc", "polygon", "devnet", "tron", "devnet-tron"):
        to = TRON_TO if oracle.family(net) == "tron" else EVM_TO
        cases.append(case(o_transfer_calldata, f"{net}: display-form recipient",
                          {"network": net, "recipient": to, "base_units": "20010000"}))
    cases += [
        case(o_transfer_calldata, "tron: a 0x hex recipient", {"network": "tron", "recipient": EVM_TO.lower(), "base_units": "1"}),
        case(o_transfer_calldata, "tron: a 41 hex recipient", {"network": "tron", "recipient": "41" + EVM_TO[2:].upper(), "base_units": "1"}),
        case(o_transfer_calldata, "ethereum: all upper-case hex recipient", {"network": "ethereum", "recipient": "0x" + EVM_TO[2:].upper(), "base_units": "1"}),
        case(o_transfer_calldata, "unknown network", {"network": "solana", "recipient": EVM_TO, "base_units": "1"}, "unknown_network"),
        case(o_transfer_calldata, "ethereum: a TRON recipient", {"network": "ethereum", "recipient": TRON_TO, "base_units": "1"}, "invalid_address"),
        case(o_transfer_calldata, "tron: a 39-digit hex recipient", {"network": "tron", "recipient": EVM_TO[:-1], "base_units": "1"}, "invalid_address"),
        case(o_transfer_calldata, "ethereum: a broken EIP-55 checksum", {"network": "ethereum", "recipient": CHECKSUM_BROKEN, "base_units": "1"}, "address_checksum"),
        case(o_transfer_calldata, "ethereum: a decimal amount", {"network": "ethereum", "recipient": EVM_TO, "base_units": "12.5"}, "invalid_amount"),
        case(o_transfer_calldata, "ethereum: an empty amount", {"network": "ethereum", "recipient": EVM_TO, "base_units": ""}, "invalid_amount"),
        case(o_transfer_calldata, "ethereum: a negative amount", {"network": "ethereum", "recipient": EVM_TO, "base_units": "-1"}, "invalid_amount"),
        case(o_transfer_calldata, "ethereum: a hex amount", {"network": "ethereum", "recipient": EVM_TO, "base_units": "0x10"}, "invalid_amount"),
        case(o_transfer_calldata, "ethereum: u128 max + 1", {"network": "ethereum", "recipient": EVM_TO, "base_units": str(U128_MAX + 1)}, "amount_overflow"),
    ]
    return document("payment_uri", "transfer_calldata",
                    "Calldata of ERC-20 transfer(recipient, amount) for a browser wallet: selector a9059cbb, "
                    "the recipient's 20 bytes and the amount in base units, each a 32-byte word.",
                    [URI_RS, EIP20, ABI], cases)


def build_balance_of_calldata():
    cases = []
    for net in ("ethereum", "bsc", "arbitrum", "devnet", "sepolia"):
        cases.append(case(o_balance_of_calldata, f"{net}: display-form owner", {"network": net, "owner": EVM_TO}))
    for net in ("tron", "tron-nile", "devnet-tron"):
        cases.append(case(o_balance_of_calldata, f"{net}: base58 owner", {"network": net, "owner": TRON_TO}))
    cases += [
        case(o_balance_of_calldata, "ethereum: lower-case owner", {"network": "ethereum", "owner": EVM_TO.lower()}),
        case(o_balance_of_calldata, "ethereum: the zero address", {"network": "ethereum", "owner": "0x" + "0" * 40}),
        case(o_balance_of_calldata, "tron: a 41 hex owner", {"network": "tron", "owner": "41" + EVM_TO[2:].lower()}),
        case(o_balance_of_calldata, "unknown network", {"network": "solana", "owner": EVM_TO}, "unknown_network"),
        case(o_balance_of_calldata, "ethereum: no 0x prefix", {"network": "ethereum", "owner": EVM_TO[2:]}, "invalid_address"),
        case(o_balance_of_calldata, "tron: a base58 character outside the alphabet", {"network": "tron", "owner": TRON_TO[:-1] + "0"}, "invalid_address"),
        case(o_balance_of_calldata, "ethereum: a broken EIP-55 checksum", {"network": "ethereum", "owner": CHECKSUM_BROKEN}, "address_checksum"),
    ]
    return document("payment_uri", "balance_of_calldata",
                    "Calldata of ERC-20 balanceOf(owner), to read a payer's balance with eth_call: selector "
                    "70a08231 and the owner's 20 bytes as a 32-byte word.",
                    [WASM_LIB, EIP20, ABI], cases)


# --------------------------------------------------------------------------------------------
# watch / required_confirmations
# --------------------------------------------------------------------------------------------
def o_required_confirmations(i):
    net = network_of(i["network"])
    return str(max(net["finality"]["confirmations"], u64(i["min_confirmations"])))


def build_required_confirmations():
    cases = []
    for net_id in oracle.NETWORK_IDS:
        registry = oracle.NETWORKS[net_id]["finality"]["confirmations"]
        for m in sorted({0, 1, registry - 1, registry, registry + 1, 100}):
            if m < 0:
                continue
            cases.append(case(o_required_confirmations, f"{net_id}: merchant asks {m}",
                              {"network": net_id, "min_confirmations": str(m)}))
    cases.append(case(o_required_confirmations, "unknown network", {"network": "solana", "min_confirmations": "0"}, "unknown_network"))
    return document("watch", "required_confirmations",
                    "The confirmations a payment waits for: the registry's, or the merchant's stricter "
                    "min_confirmations (it can only add to the registry's policy).",
                    [WATCH_RS, oracle.REGISTRY_SRC], cases)


# --------------------------------------------------------------------------------------------
# status / rfc3339
# --------------------------------------------------------------------------------------------
def o_rfc3339(i):
    moment = datetime.datetime.fromtimestamp(u64(i["unix"]), datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ").rjust(20, "0")


def build_rfc3339():
    utc = datetime.timezone.utc
    named = [
        ("the epoch", 0, "status.rs's unit test"),
        ("2000-02-29, a leap day of a 400-year century", 951_782_400, "status.rs's unit test"),
        ("2026-11-25T12:30:00Z, DESIGN's example expiry", 1_795_609_800, "status.rs's unit test"),
        ("one second before the first day ends", 86_399, None),
        ("the second day", 86_400, None),
        ("the last second of 1999", 946_684_799, None),
        ("2^31 - 1 (the 32-bit signed limit)", 2**31 - 1, None),
        ("2^31", 2**31, None),
        ("2^32", 2**32, None),
        ("9999-12-31T23:59:59Z, the last four-digit year", 253_402_300_799, None),
    ]
    cases = []
    for what, unix, source in named:
        c = case(o_rfc3339, what, {"unix": str(unix)})
        if source:
            c["source"] = source
        cases.append(c)
    expected = {0: "1970-01-01T00:00:00Z", 951_782_400: "2000-02-29T00:00:00Z",
                1_795_609_800: "2026-11-25T12:30:00Z"}
    for c in cases:
        if int(c["input"]["unix"]) in expected:
            assert c["output"] == expected[int(c["input"]["unix"])], c
    # Month and leap-year edges: the last second of each month and the first of the next, in a
    # common year, a leap year, a century that is not leap (2100) and one that is (2400).
    for year in (2025, 2028, 2100, 2400):
        for month in range(1, 13):
            first = datetime.datetime(year, month, 1, tzinfo=utc)
            unix = int(first.timestamp())
            cases.append(case(o_rfc3339, f"{year}-{month:02}-01 at midnight", {"unix": str(unix)}))
            cases.append(case(o_rfc3339, f"the second before {year}-{month:02}-01", {"unix": str(unix - 1)}))
    cases.append(case(o_rfc3339, "leading zeros in the input", {"unix": "0001795609800"}))
    return document("status", "rfc3339",
                    "Unix seconds as RFC 3339 UTC (YYYY-MM-DDTHH:MM:SSZ), as the status document's expires_at.",
                    [STATUS_RS, RFC3339], cases)


# --------------------------------------------------------------------------------------------
# state / create_invoice
# --------------------------------------------------------------------------------------------
def o_create_invoice(i):
    terms = i["terms"]
    net = network_of(terms["network"])
    _, token = oracle.resolve(terms["network"], terms.get("token"))
    recipient = oracle.o_parse_address(terms["network"], terms["recipient"])["address"]
    due = base_units(terms["amount_due"])
    if due == 0:
        raise Fail("invalid_amount")
    tolerance = base_units(terms.get("tolerance", "0"))
    created, expires_in, monitoring = (u64(terms[k]) for k in ("created_at", "expires_in", "monitoring"))
    expires_at = created + expires_in
    monitor_until = expires_at + monitoring
    if expires_at > U64_MAX or monitor_until > U64_MAX:
        raise Fail("invalid_invoice")
    return {"id": terms["id"], "network": net["id"], "token": token["id"], "recipient": recipient,
            "amount_due": str(due), "tolerance": str(tolerance), "created_at": str(created),
            "expires_at": str(expires_at), "monitor_until": str(monitor_until), "cancelled": False,
            "marked_for_review": False, "released": False, "ledger": [], "last_event": None,
            "event_seq": "0"}


def terms(network="devnet", recipient=engine.R1, amount_due="19990000", created_at="1795608900",
          expires_in="900", monitoring="86400", id="inv_8f3a2c", **extra):
    t = {"id": id, "network": network, "recipient": recipient, "amount_due": amount_due,
         "created_at": created_at, "expires_in": expires_in, "monitoring": monitoring}
    t.update(extra)
    return {"terms": t}


def build_create_invoice():
    C = o_create_invoice
    cases = [
        case(C, "devnet, default token", terms()),
        case(C, "devnet, token usdt18", terms(token="usdt18", amount_due="19990000000000000000")),
        case(C, "devnet, explicit default token", terms(token="usdt")),
        case(C, "a tolerance", terms(tolerance="10000")),
        case(C, "a tolerance above the amount is kept as given", terms(tolerance="20000000")),
        case(C, "lower-case recipient shows in EIP-55", terms(recipient=engine.R1.lower())),
        case(C, "ethereum", terms(network="ethereum", recipient=EVM_TO)),
        case(C, "bsc (18 decimals)", terms(network="bsc", recipient=EVM_TO, amount_due="19990000000000000000")),
        case(C, "optimism, second token", terms(network="optimism", recipient=EVM_TO, token="usdt-bridged")),
        case(C, "avalanche, bridged token", terms(network="avalanche", recipient=EVM_TO, token="usdt-e")),
        case(C, "tron, base58 recipient", terms(network="tron", recipient=TRON_TO)),
        case(C, "tron, 0x hex recipient shows in base58", terms(network="tron", recipient=EVM_TO.lower())),
        case(C, "devnet-tron, 41 hex recipient shows in base58", terms(network="devnet-tron", recipient="41" + EVM_TO[2:])),
        case(C, "one base unit", terms(amount_due="1")),
        case(C, "u128 max amount", terms(amount_due=str(U128_MAX))),
        case(C, "leading zeros in the amount", terms(amount_due="00019990000")),
        case(C, "no monitoring window", terms(monitoring="0")),
        case(C, "no payment window", terms(expires_in="0")),
        case(C, "created at the epoch", terms(created_at="0")),
        case(C, "windows that end exactly at u64 max", terms(created_at=str(U64_MAX - 1000), expires_in="900", monitoring="100")),
        case(C, "an empty id is the host's choice", terms(id="")),
        case(C, "a non-ASCII id", terms(id="facture-\u00e9t\u00e9-\u4e00")),
        case(C, "unknown network", terms(network="solana"), "unknown_network"),
        case(C, "network ids are case-sensitive", terms(network="Devnet"), "unknown_network"),
        case(C, "unknown token", terms(token="usdc"), "unknown_token"),
        case(C, "a token of another network", terms(token="usdt0"), "unknown_token"),
        case(C, "token ids are case-sensitive", terms(token="USDT"), "unknown_token"),
        case(C, "a TRON recipient on an EVM network", terms(recipient=TRON_TO), "invalid_address"),
        case(C, "an EVM recipient without 0x", terms(recipient=engine.R1[2:]), "invalid_address"),
        case(C, "a tron recipient with a bad base58 character", terms(network="tron", recipient=TRON_TO[:-1] + "l"), "invalid_address"),
        case(C, "a broken EIP-55 checksum", terms(recipient=CHECKSUM_BROKEN), "address_checksum"),
        case(C, "a zero amount", terms(amount_due="0"), "invalid_amount"),
        case(C, "a zero amount with leading zeros", terms(amount_due="000"), "invalid_amount"),
        case(C, "a payment window past u64 max", terms(created_at=str(U64_MAX), expires_in="1"), "invalid_invoice"),
        case(C, "a monitoring window past u64 max", terms(created_at=str(U64_MAX - 900), monitoring="1"), "invalid_invoice"),
        case(C, "both windows at u64 max", terms(created_at=str(U64_MAX), expires_in=str(U64_MAX), monitoring=str(U64_MAX)), "invalid_invoice"),
    ]
    return document("state", "create_invoice",
                    "An invoice record from its terms (Invoice::new): the recipient in the network's display form, "
                    "the default token filled in, the windows as absolute times, nothing credited yet.",
                    [INVOICE_RS, oracle.DESIGN_MATCHING], cases)


# --------------------------------------------------------------------------------------------
# amounts / allocate_in_pool_from_invoices (Invoice::reservation feeding allocate_in_pool)
# --------------------------------------------------------------------------------------------
def reservation(inv, now):
    """Invoice::reservation: reusable once the invoice expired (now >= expires_at) unpaid."""
    paid = sum(int(e["amount"]) for e in inv["ledger"] if e["status"] != "removed")
    r = {"invoice": inv["id"], "amount": inv["amount_due"]}
    if paid == 0 and now >= int(inv["expires_at"]):
        r["expired_unpaid_at"] = inv["expires_at"]
    return r


def o_allocate_from_invoices(i):
    now = u64(i["now"])
    pool = [{"recipient": a["recipient"], "reserved": [reservation(inv, now) for inv in a["invoices"]]}
            for a in i["pool"]]
    return engine.o_allocate_in_pool({"base_units": i["base_units"], "step_units": i["step_units"],
                                      "max_slots": i["max_slots"], "pool": pool})


def build_allocate_in_pool_from_invoices():
    inv, entry = engine.invoice, engine.entry
    base, step = 19_990_000, 10_000
    expires = 1900  # engine.invoice: created 1000, expires_in 900

    def args(now, pool, max_slots="1"):
        return {"base_units": str(base), "step_units": str(step), "max_slots": max_slots, "now": str(now),
                "pool": [{"recipient": r, "invoices": invoices} for r, invoices in pool]}

    A = o_allocate_from_invoices
    open_a = inv("inv_a", base)
    cases = [
        case(A, "an empty address gives slot 0", args(1000, [(engine.R1, [])], "100")),
        case(A, "an open invoice at the base keeps the next two steps clear", args(1000, [(engine.R1, [open_a])], "100")),
        case(A, "an expired unpaid invoice is reused when the band is full", args(expires, [(engine.R1, [open_a])])),
        case(A, "expired long ago, still reusable", args(expires + 86_400, [(engine.R1, [open_a])])),
        case(A, "an unpaid invoice whose payment was reorganised away is reusable",
             args(expires, [(engine.R1, [inv("inv_a", base, ledger=[entry(base, status="removed")])])])),
        case(A, "of two expired unpaid invoices, the one that expired first is reused",
             args(3000, [(engine.R1, [inv("inv_b", base, created=1100)]),
                         (engine.R2, [inv("inv_c", base, created=1050)])])),
        case(A, "a full first address gives way to a free second one",
             args(1000, [(engine.R1, [open_a]), (engine.R2, [])])),
        case(A, "an amount off the band is not reused, the free slot is taken",
             args(expires, [(engine.R1, [inv("inv_a", base + 7 * step)])], "3")),
        case(A, "a band full of open invoices", args(expires - 1, [(engine.R1, [open_a])]), "amount_band_full"),
        case(A, "a paid invoice that expired is never reused",
             args(expires, [(engine.R1, [inv("inv_a", base, ledger=[entry(5_000_000)])])]), "amount_band_full"),
        case(A, "a settled invoice is never reused",
             args(5000, [(engine.R1, [inv("inv_a", base, ledger=[entry(base, status="final")])])]), "amount_band_full"),
        case(A, "an empty pool", args(1000, []), "amount_band_full"),
    ]
    # The facts that decide the scenarios, asserted by hand so the oracle cannot drift from them.
    by = {c["description"]: c for c in cases}
    assert by["an open invoice at the base keeps the next two steps clear"]["output"]["slot"] == "3"
    assert by["an expired unpaid invoice is reused when the band is full"]["output"]["reuses"] == "inv_a"
    assert by["of two expired unpaid invoices, the one that expired first is reused"]["output"]["reuses"] == "inv_c"
    assert by["an amount off the band is not reused, the free slot is taken"]["output"]["reuses"] is None
    return document("amounts", "allocate_in_pool_from_invoices",
                    "allocate_in_pool over addresses given with their watched invoices and the time: each invoice's "
                    "reservation (Invoice::reservation) is reusable once it expired with nothing paid.",
                    [INVOICE_RS, oracle.DESIGN_MATCHING], cases)


# --------------------------------------------------------------------------------------------
# registry / networks
# --------------------------------------------------------------------------------------------
def o_rpc(endpoint):
    limit = lambda name: None if endpoint.get(name) is None else str(endpoint[name])
    return {"url": endpoint["url"], "operator": endpoint["operator"], "rps": limit("rps"), "per_day": limit("per_day"),
            "max_range": limit("max_range"), "max_batch": limit("max_batch")}


def o_networks(i):
    if "network" not in i:
        return list(oracle.NETWORK_IDS)
    net = network_of(i["network"])
    return {
        "rpc": [o_rpc(e) for e in net["rpc"]],
        "faucets": list(net.get("faucets", [])),
        "id": net["id"], "family": net["family"], "chain_id": str(net["chain_id"]),
        "finality_tag": net["finality"]["tag"],
        "confirmations": str(net["finality"]["confirmations"]), "qr": net["qr"],
        "tokens": [{"id": t["id"], "symbol": t["symbol"],
                    "contract": oracle.display_address(net["id"], oracle.contract_raw20(t)),
                    "decimals": str(t["decimals"]), "official": t["official"]} for t in net["tokens"]],
    }


def build_networks():
    cases = [case(o_networks, "the network ids, in display order", {})]
    for net_id in oracle.NETWORK_IDS:
        cases.append(case(o_networks, f"{net_id}", {"network": net_id}))
    return document("registry", "networks",
                    "The built-in registry as hosts list it: per network its family, chain id, finality policy, QR "
                    "style, public JSON-RPC endpoints with their documented limits (null where none is documented), "
                    "faucet links (test networks with public faucets; empty elsewhere) and tokens (contract in the network's display form, EIP-55 or base58).",
                    [oracle.REGISTRY_SRC, oracle.EIP55],
                    cases)


# --------------------------------------------------------------------------------------------
# watch / watch_settings
# --------------------------------------------------------------------------------------------
# The rule of crates/core/src/watch.rs (watch_settings), restated: the merchant's own URLs keep
# the merchant's settings; the registry's public endpoints bound them, each endpoint carrying the
# whole watcher alone (3 requests per poll within half of its documented allowance).
DEFAULT_POLL_MS, DEFAULT_MAX_RANGE, REQUESTS_PER_POLL, PUBLIC_SHARE = 3000, 2000, 3, 2


def o_watch_settings(i):
    net = network_of(i["network"])
    request = i["request"]
    poll = int(request["poll_ms"]) if request.get("poll_ms") is not None else DEFAULT_POLL_MS
    widest = max(1, int(request["max_range"]) if request.get("max_range") is not None else DEFAULT_MAX_RANGE)
    own = request.get("rpc") or []
    if own:
        return {"rpc": own, "public": False, "poll_ms": str(poll), "max_range": str(widest), "max_batch": None, "pace": None}
    budget = REQUESTS_PER_POLL * PUBLIC_SHARE
    floors = [0]
    for e in net["rpc"]:
        if e.get("rps"):
            floors.append(-(-budget * 1000 // e["rps"]))
        if e.get("per_day"):
            floors.append(-(-budget * 86_400_000 // e["per_day"]))
    ranges = [e["max_range"] for e in net["rpc"] if e.get("max_range")]
    batches = [e["max_batch"] for e in net["rpc"] if e.get("max_batch")]
    poll = max(poll, max(floors))
    widest = max(1, min([widest] + ranges))
    batch = min(batches) if batches else None
    # The pace: the requests every endpoint allows per poll (half its documented requests per
    # second, and of its daily allowance over the day's polls; 3 for one that documents none),
    # spent as one head request, headers (1 plus a quarter of the rest past 3) and eth_getLogs
    # requests (the rest), each of max_range blocks.
    allowed = []
    for e in net["rpc"]:
        own_limits = [e["rps"]] if e.get("rps") else []  # a poll's requests go out within a second
        own_limits += [e["per_day"] * poll // 86_400_000] if e.get("per_day") else []
        allowed.append(min(own_limits) // PUBLIC_SHARE if own_limits else REQUESTS_PER_POLL)
    requests = max(REQUESTS_PER_POLL, min(allowed) if allowed else REQUESTS_PER_POLL)
    cost = (lambda calls: -(-calls // max(1, batch))) if batch else (lambda calls: 1)
    head = cost(2 if net["finality"]["tag"] else 1)
    headers = 1 + (requests - REQUESTS_PER_POLL) // 4
    logs = max(1, (requests - head - headers) // cost(2))
    pace = {"requests": str(requests), "log_requests": str(logs), "header_requests": str(headers),
            "max_blocks": str(logs * widest)}
    return {"rpc": [e["url"] for e in net["rpc"]], "public": True, "poll_ms": str(poll),
            "max_range": str(widest), "max_batch": str(batch) if batch is not None else None, "pace": pace}


def build_watch_settings():
    cases = []
    for net_id in oracle.NETWORK_IDS:
        cases.append(case(o_watch_settings, f"{net_id}: only an address, the registry's endpoints", {"network": net_id, "request": {}}))
    mine = ["https://rpc.example/key", "https://backup.example"]
    cases += [
        case(o_watch_settings, "tron: the merchant's own URLs keep the merchant's settings",
             {"network": "tron", "request": {"rpc": mine, "poll_ms": "1000", "max_range": "10000"}}),
        case(o_watch_settings, "ethereum: own URLs, nothing else set", {"network": "ethereum", "request": {"rpc": mine[:1]}}),
        case(o_watch_settings, "tron: public endpoints raise a poll faster than TronGrid's daily allowance",
             {"network": "tron", "request": {"poll_ms": "1000"}}),
        case(o_watch_settings, "tron: a slower poll than the floor stands",
             {"network": "tron", "request": {"poll_ms": "30000"}}),
        case(o_watch_settings, "tron: a range wider than java-tron's 5000 is narrowed",
             {"network": "tron", "request": {"max_range": "10000"}}),
        case(o_watch_settings, "tron: a narrower range stands", {"network": "tron", "request": {"max_range": "100"}}),
        case(o_watch_settings, "ethereum: a poll faster than dRPC's allowance is raised",
             {"network": "ethereum", "request": {"poll_ms": "50"}}),
        case(o_watch_settings, "base: no documented limits, the merchant's poll stands",
             {"network": "base", "request": {"poll_ms": "50", "max_range": "500"}}),
        case(o_watch_settings, "a range of 0 counts as 1", {"network": "base", "request": {"max_range": "0"}}),
        case(o_watch_settings, "tron-nile: a slower poll lets a catch-up spend more requests per poll (its daily allowance at 60 s)",
             {"network": "tron-nile", "request": {"poll_ms": "60000"}}),
        case(o_watch_settings, "bsc-testnet: catch-up paced at the narrowest range the merchant sets",
             {"network": "bsc-testnet", "request": {"max_range": "50"}}),
        case(o_watch_settings, "an empty list of own URLs means the registry's",
             {"network": "bsc-testnet", "request": {"rpc": [], "poll_ms": None, "max_range": None}}),
        case(o_watch_settings, "unknown network", {"network": "solana", "request": {}}, "unknown_network"),
    ]
    return document("watch", "watch_settings",
                    "How a host watches a network: the merchant's own JSON-RPC URLs with their poll interval and "
                    "eth_getLogs range, or the registry's public endpoints, with the poll slowed and the range and "
                    "batch narrowed to what every endpoint documents it allows (3 requests per poll within half "
                    "of each endpoint's requests per second and per day).",
                    ["crates/core/src/watch.rs (watch_settings)", oracle.REGISTRY_SRC, "crates/core/data/README.md"], cases)


# --------------------------------------------------------------------------------------------
# amounts / display_amount
# --------------------------------------------------------------------------------------------
def o_display_amount(i):
    """The rule of amount::display_amount: the canonical digits, at least two fractional digits,
    every significant digit kept (DESIGN §3: decimal strings at the edges, no float)."""
    text = i["text"]
    whole, dot, fraction = text.partition(".")
    if not whole or not all(c in "0123456789" for c in whole) or (dot and (not fraction or not all(c in "0123456789" for c in fraction))):
        raise Fail("invalid_amount")
    fraction = fraction.rstrip("0")
    return f"{whole.lstrip('0') or '0'}.{fraction.ljust(2, '0')}"


def build_display_amount():
    valid = [("a whole amount shows two decimals", "20"), ("one decimal becomes two", "19.5"),
             ("two decimals stay", "19.99"), ("three decimals stay (a unique amount of 0.001 steps)", "19.991"),
             ("BSC's 18 decimals stay", "20.000000000000000001"), ("zero", "0"), ("a dust amount", "0.000001"),
             ("trailing zeros beyond two go", "20.100000"), ("leading zeros go", "0020.5"),
             ("a large amount", "123456789012345678901234567890"), ("exactly two trailing zeros", "7.00")]
    invalid = [("empty", ""), ("a sign", "-1"), ("a plus sign", "+1"), ("a bare dot", "."), ("no fraction after the dot", "1."),
               ("no whole part", ".5"), ("an exponent", "1e3"), ("a comma", "1,5"), ("a space", "1 "),
               ("full-width digits", "２０"), ("two dots", "1.2.3")]
    cases = [case(o_display_amount, d, {"text": t}) for d, t in valid]
    cases += [case(o_display_amount, d, {"text": t}, "invalid_amount") for d, t in invalid]
    return document("amounts", "display_amount",
                    "An amount as a person reads it: at least two fractional digits (\"20.00\", never \"20\"), every "
                    "significant digit kept, so what the customer reads is exactly what to send.",
                    ["crates/core/src/amount.rs (display_amount)", "DESIGN.md §3 (Money)"], cases)


def o_cancel_invoice(i):
    """Only an open invoice (new, before expiry, not cancelled) with nothing paid is cancelled;
    the event that announces it follows (DESIGN §5)."""
    inv = json.loads(json.dumps(i["invoice"]))
    now = int(i["now"])
    s = engine.status(inv, now)
    if s["state"] != "new" or s["amount_paid"] != "0" or inv["cancelled"]:
        raise Fail("invoice_not_cancellable")
    inv["cancelled"] = True
    return {"event": engine.sync(inv, now)}


def build_cancel_invoice():
    C = o_cancel_invoice
    inv, entry = engine.invoice, engine.entry
    announced_new = {"last_event": ["new", None], "seq": 1}
    cases = [
        case(C, "an open unpaid invoice is cancelled: announced invalid", {"invoice": inv("inv_a", 19_990_000, **announced_new), "now": "1500"}),
        case(C, "cancelled before its first event: announced invalid", {"invoice": inv("inv_a", 19_990_000), "now": "1001"}),
        case(C, "a second before expiry is still open", {"invoice": inv("inv_a", 19_990_000, **announced_new), "now": "1899"}),
        case(C, "a removed (reorganised) payment left nothing paid, but the invoice is invalid already",
             {"invoice": inv("inv_a", 19_990_000, ledger=[entry(19_990_000, status="removed")]), "now": "1500"},
             "invoice_not_cancellable"),
        case(C, "expired: not cancellable", {"invoice": inv("inv_a", 19_990_000, **announced_new), "now": "1900"}, "invoice_not_cancellable"),
        case(C, "paid, not final: not cancellable", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(19_990_000)]), "now": "1500"},
             "invoice_not_cancellable"),
        case(C, "partly paid: not cancellable", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(9_000_000)]), "now": "1500"},
             "invoice_not_cancellable"),
        case(C, "settled: not cancellable", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(19_990_000, status="final")]), "now": "1500"},
             "invoice_not_cancellable"),
        case(C, "cancelled twice: not cancellable", {"invoice": inv("inv_a", 19_990_000, cancelled=True), "now": "1500"},
             "invoice_not_cancellable"),
        case(C, "marked for review, unpaid: cancellable", {"invoice": inv("inv_a", 19_990_000, marked=True), "now": "1500"}),
    ]
    return document("state", "cancel_invoice", "Cancels an open, unpaid invoice and announces it.",
                    ["DESIGN.md §5 (Invoices, matching and the ledger)"], cases)


def o_invoice_view(i):
    """The status at `now` and every amount as a canonical decimal of the invoice's token."""
    inv = i["invoice"]
    _, token = oracle.resolve(inv["network"], inv["token"])
    d = token["decimals"]
    s = engine.status(inv, int(i["now"]))
    dec = lambda units: engine.canonical(int(units), d)
    return {"status": s, "amount_due": dec(inv["amount_due"]), "amount_paid": dec(s["amount_paid"]),
            "amount_remaining": dec(s["amount_remaining"]), "transfer_amounts": [dec(e["amount"]) for e in inv["ledger"]]}


def build_invoice_view():
    V = o_invoice_view
    inv, entry = engine.invoice, engine.entry
    cases = [
        case(V, "a new invoice: nothing paid, all of it remaining", {"invoice": inv("inv_a", 19_990_000), "now": "1500"}),
        case(V, "whole amounts show without decimals", {"invoice": inv("inv_a", 20_000_000), "now": "1500"}),
        case(V, "a partial payment", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(9_000_000)]), "now": "1500"}),
        case(V, "paid, not final", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(19_990_000)]), "now": "1500"}),
        case(V, "settled with an overpayment", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(20_000_000, status="final")]), "now": "1500"}),
        case(V, "two transfers in ledger order, one removed", {"invoice": inv("inv_a", 19_990_000, ledger=[
            entry(10_000_000, n=1, status="removed"), entry(19_990_000, n=2, status="final")]), "now": "1500"}),
        case(V, "expired unpaid", {"invoice": inv("inv_a", 19_990_000), "now": "1900"}),
        case(V, "in review", {"invoice": inv("inv_a", 19_990_000, ledger=[entry(19_000_000, matched_by="claim", review=True)]), "now": "1500"}),
        case(V, "18 decimals (usdt18)", {"invoice": inv("inv_a", 19_990_000_000_000_000_000, token="usdt18",
                                                           ledger=[entry(1_000_000_000_000_000)]), "now": "1500"}),
        case(V, "a token not on the invoice's network", {"invoice": inv("inv_a", 19_990_000, token="usdt-e"), "now": "1500"},
             "unknown_token"),
        case(V, "an unknown network", {"invoice": inv("inv_a", 19_990_000, network="nowhere"), "now": "1500"}, "unknown_network"),
    ]
    return document("state", "invoice_view", "An invoice rendered: its status and every amount as a decimal of its token.",
                    ["DESIGN.md §3 (Money)", "DESIGN.md §5 (Invoices, matching and the ledger)"], cases)


BUILDERS = [build_normalize_tx_hash, build_transfer_calldata, build_balance_of_calldata,
            build_required_confirmations, build_rfc3339, build_create_invoice,
            build_allocate_in_pool_from_invoices, build_networks, build_cancel_invoice, build_invoice_view,
            build_watch_settings, build_display_amount]


def main(argv):
    check_only = "--check" in argv[1:]
    stale, total = [], 0
    for build in BUILDERS:
        area, function, doc = build()
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path = VECTORS / area / f"{function}.json"
        n = len(doc["valid"]) + len(doc["invalid"])
        total += n
        if (path.read_text(encoding="utf-8") if path.exists() else None) != text:
            stale.append(path)
            if not check_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(VECTORS)}: {len(doc['valid'])} valid, {len(doc['invalid'])} invalid")
    print(f"total: {total} cases")
    if check_only and stale:
        for path in stale:
            print(f"stale: {path.relative_to(VECTORS)} (run tools/generate_api.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
