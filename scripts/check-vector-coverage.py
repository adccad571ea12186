#!/usr/bin/env python3
"""Fails when a public function of the core, or of its JS API, has no conformance vector.

It lists
  (a) every top-level `pub fn` of crates/core/src/*.rs (serde adapter modules left out, below);
  (b) every public method of the core's types that the JS API calls (a `pub fn`/`pub const fn`
      inside an `impl` of crates/core/src, called as `.name(` or `Type::name(` in
      crates/wasm/src/lib.rs or server.rs): what hosts reach through the Node build;
  (c) every JS export of crates/wasm/src/lib.rs and server.rs (`#[wasm_bindgen]` functions, named
      by their `js_name` when they have one),
and maps each to the vector file(s) under tests/vectors/ that exercise it, through COVERAGE below.
Anything unlisted, mapped to a missing file or to a file without cases, or exempted without a
reason fails the check, naming the function and what to do. A JS export must also be called by
the Node runner (tests/vectors/run.test.js, as `sg.<name>(`), unless it is exempted.

Python 3.11 standard library only. Usage: python3 scripts/check-vector-coverage.py
"""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE_SRC = REPO / "crates" / "core" / "src"
WASM_FILES = [REPO / "crates" / "wasm" / "src" / "lib.rs", REPO / "crates" / "wasm" / "src" / "server.rs"]
VECTORS = REPO / "tests" / "vectors"
NODE_RUNNER = VECTORS / "run.test.js"

# Core modules with no functions of their own to test: serde adapters used through `#[serde(with)]`.
SKIP_MODULES = {
    "serde_int": "serde adapter (u64 as a decimal string); exercised by every vector that carries an integer",
}

# What exercises each function: a list of vector files (area/function), or an exemption, a string
# beginning "exempt: " and giving the reason. Keys: "module::name" for top-level core functions,
# "Type::name" for core methods, "js:name" for JS exports.
COVERAGE = {
    # (a) top-level core functions
    "amount::fiat_to_token": ["amounts/fiat_to_usdt"],
    "amount::allocate_amount": ["amounts/allocate_amount"],
    "amount::display_amount": ["amounts/display_amount"],
    "amount::allocate_in_pool": ["amounts/allocate_in_pool", "amounts/allocate_in_pool_from_invoices"],
    "log::decode_transfer_log": ["logs/decode_transfer_log"],
    "log::normalize_tx_hash": ["logs/normalize_tx_hash"],
    "matching::match_transfer": ["matching/match_transfer"],
    "matching::claim_transfer": ["matching/claim_transfer"],
    "network::network": ["registry/networks", "addresses/parse_address"],
    "rate::read_rate": ["rates/read_rate"],
    "status::rfc3339": ["status/rfc3339"],
    "uri::payment_uri": ["payment_uri/payment_uri"],
    "uri::payment_uri_from_text": ["payment_uri/payment_uri"],
    "uri::transfer_calldata": ["payment_uri/transfer_calldata"],
    "watch::is_final": ["watch/is_final"],
    "watch::required_confirmations": ["watch/required_confirmations"],
    "watch::plan_poll": ["watch/plan_poll"],
    "watch::watch_settings": ["watch/watch_settings"],
    "watch::apply_poll": ["watch/apply_poll"],
    "webhook::sign": ["webhooks/sign_webhook"],
    "webhook::verify": ["webhooks/verify_webhook"],
    "provider::binance_sign": ["providers/binance_sign"],
    "provider::binance_verify_webhook": ["providers/binance_verify_webhook"],
    "provider::nowpayments_canonical": ["providers/nowpayments_canonical"],
    "provider::nowpayments_sign_ipn": ["providers/nowpayments_sign_ipn"],
    "provider::nowpayments_verify_ipn": ["providers/nowpayments_verify_ipn"],
    "provider::provider_status": ["providers/provider_status"],
    "provider::provider_amount": ["providers/provider_amount"],
    # (b) core methods the JS API calls
    "Amount::from_decimal": ["amounts/to_base_units", "payment_uri/payment_uri"],
    "Amount::from_base_units_str": ["amounts/format_amount", "amounts/allocate_amount"],
    "Amount::to_decimal": ["amounts/format_amount"],
    "Address::to_hex": ["addresses/parse_address"],
    "Address::to_topic": ["payment_uri/balance_of_calldata", "payment_uri/transfer_calldata"],
    "Network::token": ["amounts/to_base_units", "amounts/format_amount"],
    "Network::parse_address": ["addresses/parse_address"],
    "Registry::network": ["addresses/parse_address", "registry/networks"],
    "Error::kind": ["addresses/parse_address", "amounts/to_base_units"],
    "ErrorKind::code": ["addresses/parse_address", "amounts/to_base_units"],
    "Error::input": "exempt: message text of the widget build; vectors compare error kinds, never messages",
    "Invoice::new": ["state/create_invoice"],
    "Invoice::status": ["state/invoice_status"],
    "Invoice::credit": ["state/invoice_events"],
    "Invoice::set_entry_status": ["state/invoice_events"],
    "Invoice::sync": ["state/invoice_events", "state/resolve_review"],
    "Invoice::resolve_review": ["state/resolve_review", "state/invoice_events"],
    "Invoice::cancel": ["state/cancel_invoice"],
    "Invoice::reservation": ["amounts/allocate_in_pool_from_invoices"],
    "StatusDocument::before_choice": ["status/status_before_choice"],
    "InvoiceView::of": ["state/invoice_view"],
    "StatusDocument::for_invoice": ["status/status_document"],
    # (c) JS exports
    "js:toBaseUnits": ["amounts/to_base_units"],
    "js:formatAmount": ["amounts/format_amount"],
    "js:transferCalldata": ["payment_uri/transfer_calldata"],
    "js:balanceOfCalldata": ["payment_uri/balance_of_calldata"],
    "js:paymentUri": ["payment_uri/payment_uri"],  # the server build's; the widget build's below
    "js:normalizeTxHash": ["logs/normalize_tx_hash"],
    "js:networks": ["registry/networks"],
    "js:parseAddress": ["addresses/parse_address"],
    "js:fiatToToken": ["amounts/fiat_to_usdt"],
    "js:allocateAmount": ["amounts/allocate_amount"],
    "js:signWebhook": ["webhooks/sign_webhook"],
    "js:verifyWebhook": ["webhooks/verify_webhook"],
    "js:binanceSign": ["providers/binance_sign"],
    "js:binanceVerifyWebhook": ["providers/binance_verify_webhook"],
    "js:nowpaymentsCanonical": ["providers/nowpayments_canonical"],
    "js:nowpaymentsSignIpn": ["providers/nowpayments_sign_ipn"],
    "js:nowpaymentsVerifyIpn": ["providers/nowpayments_verify_ipn"],
    "js:providerStatus": ["providers/provider_status"],
    "js:providerAmount": ["providers/provider_amount"],
    "js:decodeTransferLog": ["logs/decode_transfer_log"],
    "js:isFinal": ["watch/is_final"],
    "js:planPoll": ["watch/plan_poll"],
    "js:watchSettings": ["watch/watch_settings"],
    "js:displayAmount": ["amounts/display_amount"],
    "js:applyPoll": ["watch/apply_poll"],
    "js:allocateInPool": ["amounts/allocate_in_pool", "amounts/allocate_in_pool_from_invoices"],
    "js:resolveReview": ["state/resolve_review"],
    "js:cancelInvoice": ["state/cancel_invoice"],
    "js:statusBeforeChoice": ["status/status_before_choice", "status/rfc3339"],
    "js:invoiceView": ["state/invoice_view"],
    "js:readRate": ["rates/read_rate"],
    "js:createInvoice": ["state/create_invoice"],
    "js:invoiceStatus": ["state/invoice_status"],
    "js:matchTransfer": ["matching/match_transfer"],
    "js:claimTransfer": ["matching/claim_transfer"],
    "js:creditTransfer": ["state/invoice_events"],
    "js:setEntryStatus": ["state/invoice_events"],
    "js:syncInvoice": ["state/invoice_events"],
    "js:statusDocument": ["status/status_document", "watch/required_confirmations"],
    # Widget-only helpers, tested where they run (scripts/test-widget.sh): the QR is decoded back
    # from a real Chromium screenshot, and the widget's paymentUri must rebuild the host's URI.
    "js:qrSvg": "exempt: widget-only QR drawing; tests/e2e/widget decode its QR with jsQR in Chromium",
    "js:paymentUri (widget build)": "exempt: widget build's copy of paymentUri, same core call; tests/e2e/widget/hostile.test.js",
}

# Exemptions whose reason names a test file: that file must exist.
EXEMPTION_TESTS = {
    "js:qrSvg": ["tests/e2e/widget/hostile.test.js", "tests/e2e/widget/browser.js"],
    "js:paymentUri (widget build)": ["tests/e2e/widget/hostile.test.js"],
}


def strip_comments(text):
    """Drops comments and the contents of string and char literals (their braces and quotes
    would otherwise count), in one pass over the Rust source."""
    out, i, n = [], 0, len(text)
    while i < n:
        two = text[i:i + 2]
        if two == "//":
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif two == "/*":
            i = text.find("*/", i + 2)
            i = n if i < 0 else i + 2
        elif text[i] == "r" and re.match(r'r#*"', text[i:i + 8]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            close = text.find('"' + hashes, i + len(hashes) + 2)
            out.append('""')
            i = n if close < 0 else close + 1 + len(hashes)
        elif text[i] == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            out.append('""')
            i += 1
        elif text[i] == "'" and (m := re.match(r"'(?:\\[^']{1,10}|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def top_level_and_methods(path):
    """Returns (top-level pub fns, {type: [(pub method, takes self)]}) of one core source file,
    leaving out nested modules (`#[cfg(test)] mod tests`, serde adapters) and trait impls."""
    text = strip_comments(path.read_text(encoding="utf-8"))
    # The block each `{` opens: ("impl", type), ("impl", None) for a trait impl, ("mod",), or
    # ("other",).
    openers = {}
    for m in re.finditer(r"^[ \t]*impl\b(?:<[^{]*?>)?\s+([^{]+?)\s*\{", text, re.M):
        head = m.group(1)
        inherent = re.fullmatch(r"(?:\w+::)*(\w+)(?:<.*>)?", head.strip(), re.S)
        typ = inherent.group(1) if inherent and not re.search(r"\bfor\b", head) else None
        openers[m.end() - 1] = ("impl", typ)
    for m in re.finditer(r"\bmod\s+\w+\s*\{", text):
        openers[m.end() - 1] = ("mod",)
    stack, depth_at = [], {}
    fns = {m.start(): m for m in re.finditer(
        r"\bpub\s+(?:const\s+)?fn\s+(\w+)\s*(?:<[^(]*>)?\s*\(\s*(&\s*(?:'\w+\s+)?(?:mut\s+)?)?(self\b)?", text)}
    top, methods = [], {}
    for i, ch in enumerate(text):
        if i in fns:
            m = fns[i]
            if any(block[0] == "mod" for block in stack):
                continue
            if not stack:
                top.append(m.group(1))
            elif len(stack) == 1 and stack[0][0] == "impl" and stack[0][1]:
                methods.setdefault(stack[0][1], []).append((m.group(1), m.group(3) is not None))
        if ch == "{":
            stack.append(openers.get(i, ("other",)))
        elif ch == "}":
            stack.pop()
    return top, methods


def js_exports(path):
    """Returns [(export name, feature note)] of one wasm source file."""
    text = path.read_text(encoding="utf-8")
    out = []
    pattern = re.compile(r'((?:#\[cfg\([^\]]*\)\]\s*)*)#\[wasm_bindgen(\((?:[^()"]|"[^"]*")*\))?\]\s*pub fn (\w+)', re.S)
    for m in pattern.finditer(text):
        cfg, args, name = m.group(1), m.group(2) or "", m.group(3)
        js = re.search(r"js_name\s*=\s*(\w+)", args)
        export = js.group(1) if js else name
        widget_only = "not(feature = \"server\")" in cfg
        out.append(f"{export} (widget build)" if widget_only and path.name == "lib.rs" and export == "paymentUri" else export)
    return out


def vector_cases(rel):
    path = VECTORS / f"{rel}.json"
    if not path.is_file():
        return None
    doc = json.loads(path.read_text(encoding="utf-8"))
    return len(doc.get("valid", [])) + len(doc.get("invalid", []))


def main():
    listed = []  # (key, where it was found)
    methods_by_type = {}
    for path in sorted(CORE_SRC.glob("*.rs")):
        module = path.stem
        if module in SKIP_MODULES:
            continue
        top, methods = top_level_and_methods(path)
        for name in top:
            listed.append((f"{module}::{name}", f"crates/core/src/{path.name}"))
        for typ, names in methods.items():
            methods_by_type.setdefault(typ, set()).update(names)
    wasm_text = "\n".join(strip_comments(p.read_text(encoding="utf-8")) for p in WASM_FILES)
    wasm_vars = {}  # JS-API calls of methods: `.name(` or `Type::name(`
    for typ, names in sorted(methods_by_type.items()):
        for name, takes_self in sorted(names):
            # An associated function is called as `Type::name(` (not `other::Type::name(`); a
            # method as `.name(`.
            called = (re.search(rf"\.{name}\s*\(", wasm_text) if takes_self
                      else re.search(rf"(?<![\w:]){typ}::{name}\s*\(", wasm_text))
            if called:
                wasm_vars[f"{typ}::{name}"] = True
    # A method name shared by several types (`network`, `is_final`, `token`) is listed for each
    # type that has it and that the bindings touch; the table names which ones are real.
    for key in sorted(wasm_vars):
        listed.append((key, "a core method the JS API calls"))
    for path in WASM_FILES:
        for export in js_exports(path):
            listed.append((f"js:{export}", f"crates/wasm/src/{path.name}"))

    node_runner = NODE_RUNNER.read_text(encoding="utf-8")
    problems, covered = [], []
    seen = set()
    for key, where in listed:
        if key in seen:
            continue
        seen.add(key)
        entry = COVERAGE.get(key)
        if entry is None:
            problems.append(f"{key} ({where}) has no vector: add tests/vectors/<area>/<function>.json for it "
                            f"(a generator in tests/vectors/tools/, and a call in all three runners), then map it in "
                            f"COVERAGE in scripts/check-vector-coverage.py; or exempt it there with a one-line reason")
            continue
        if isinstance(entry, str):
            reason = entry.removeprefix("exempt:").strip()
            if not entry.startswith("exempt:") or not reason:
                problems.append(f"{key}: an exemption is 'exempt: <one-line reason>', got {entry!r}")
            for test in EXEMPTION_TESTS.get(key, []):
                if not (REPO / test).is_file():
                    problems.append(f"{key}: exempted as tested by {test}, which does not exist")
            covered.append(f"{key}: exempt ({reason})")
            continue
        counts = []
        for rel in entry:
            n = vector_cases(rel)
            if n is None:
                problems.append(f"{key} is mapped to tests/vectors/{rel}.json, which does not exist: write it "
                                f"or fix the mapping in scripts/check-vector-coverage.py")
            elif n == 0:
                problems.append(f"{key} is mapped to tests/vectors/{rel}.json, which has no cases: add cases")
            else:
                counts.append(f"{rel} ({n})")
        if key.startswith("js:") and f"sg.{key[3:]}(" not in node_runner:
            problems.append(f"{key} is exported but tests/vectors/run.test.js never calls sg.{key[3:]}(): "
                            f"run its vectors through it")
        covered.append(f"{key}: {', '.join(counts)}")
    stale = sorted(set(COVERAGE) - seen)
    for key in stale:
        problems.append(f"{key} is in COVERAGE but no longer public (or no longer called by the JS API): "
                        f"remove it from scripts/check-vector-coverage.py")
    if "-v" in sys.argv[1:]:
        print("\n".join(covered))
    if problems:
        print(f"vector coverage: {len(problems)} problem(s)", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"vector coverage: {len(seen)} public functions, methods and JS exports, each with vectors "
          f"or a stated exemption")
    return 0


if __name__ == "__main__":
    sys.exit(main())
