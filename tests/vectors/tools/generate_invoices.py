#!/usr/bin/env python3
"""Writes the invoice vectors: matching, claims, state derivation, events and status documents.

Every expected output below is written by hand from the rules of DESIGN.md §2, §5 and §8 (and
the comments say which rule decides); nothing is produced by running an implementation. The
script only builds the verbose invoice records and transfers from short helpers.

Usage: python3 tests/vectors/tools/generate_invoices.py
"""

import hashlib
import json
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1]
DESIGN_TRUST = "DESIGN.md §2 (Trust boundary)"
DESIGN_MATCHING = "DESIGN.md §5 (Invoices, matching and the ledger)"
DESIGN_STATUS = "DESIGN.md §8 (The status contract)"

# Hardhat's default accounts (EIP-55 forms) and the devnet tokens (tests/devnet/README.md).
R1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
R2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
PAYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
USDT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
USDT18 = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
FAKE = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
TRON_USDT = "TQYe4HpR7kmzHQjxaK4rmVCZVWvP3xUW8N"

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def tron(evm_address):
    """The base58check TRON form of a 20-byte address."""
    raw = bytes([0x41]) + bytes.fromhex(evm_address[2:])
    raw += hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n, out = int.from_bytes(raw, "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return out


T1, T2, TPAYER = tron(R1), tron(R2), tron(PAYER)
assert tron("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0") == TRON_USDT

U = 10**6  # base units of one 6-decimal USDT


def txh(n, tron_form=False):
    digits = f"{n:064x}"
    return digits if tron_form else "0x" + digits


def bh(n):
    return "0x" + f"{n + 0xB0000:064x}"


def invoice(id, due, recipient=R1, created=1000, expires_in=900, monitoring=86400, network="devnet",
            token="usdt", tolerance=0, ledger=(), **extra):
    record = {
        "id": id, "network": network, "token": token, "recipient": recipient,
        "amount_due": str(due), "tolerance": str(tolerance), "created_at": str(created),
        "expires_at": str(created + expires_in), "monitor_until": str(created + expires_in + monitoring),
    }
    if ledger:
        record["ledger"] = list(ledger)
    record.update(extra)
    return record


def transfer(amount, n=1, to=R1, token=USDT, time=1100, block=100, log_index=0, removed=False, sender=PAYER,
             tron_form=False):
    t = {
        "token": token, "from": sender, "to": to, "amount": str(amount), "tx_hash": txh(n, tron_form),
        "log_index": str(log_index), "block_number": str(block), "block_hash": bh(block), "removed": removed,
    }
    if time is not None:
        t["block_time"] = str(time)
    return t


def entry(amount, n=1, status="seen", block=100, time=1100, matched_by="amount", review=False, log_index=0):
    return {
        "tx_hash": txh(n), "log_index": str(log_index), "from": PAYER, "amount": str(amount),
        "block_number": str(block), "block_hash": bh(block), "block_time": str(time), "status": status,
        "matched_by": matched_by, "review": review,
    }


def credit(id):
    return {"decision": "credit", "invoice": id}


def ignored(reason):
    return {"decision": "ignored", "reason": reason}


def write(area, function, description, valid, invalid=(), sources=(DESIGN_MATCHING,)):
    doc = {"area": area, "function": function, "description": description, "sources": list(sources),
           "valid": valid, "invalid": list(invalid)}
    names = [c["description"] for c in valid + list(invalid)]
    assert len(names) == len(set(names)), f"duplicate description in {area}/{function}"
    path = VECTORS / area / f"{function}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"{path.relative_to(VECTORS)}: {len(valid)} valid, {len(invalid)} invalid")


def case(description, input, output):
    return {"description": description, "input": input, "output": output}


def error(description, input, kind):
    return {"description": description, "input": input, "error": kind}


# ---------------------------------------------------------------------------------------------
# match_transfer: {network, invoices, transfer} -> decision
# ---------------------------------------------------------------------------------------------
a = invoice("inv_a", 19_990_000)
b = invoice("inv_b", 20_000_000)
on_r2 = invoice("inv_r2", 19_990_000, recipient=R2)
m = lambda invoices, t, network="devnet": {"network": network, "invoices": invoices, "transfer": t}

match_valid = [
    case("exact amount credits its invoice", m([a, b], transfer(19_990_000)), credit("inv_a")),
    case("the other unique amount credits the other invoice", m([a, b], transfer(20_000_000)), credit("inv_b")),
    case("same amount on two recipients goes by recipient", m([a, on_r2], transfer(19_990_000, to=R2)),
         credit("inv_r2")),
    case("fake token with the USDT symbol is ignored", m([a], transfer(19_990_000, token=FAKE)),
         ignored("wrong_token")),
    case("transfer to an unwatched address is ignored", m([a], transfer(19_990_000, to=PAYER)),
         ignored("wrong_recipient")),
    case("transfer of another registry token to the address is ignored",
         m([a], transfer(19_990_000, token=USDT18)), ignored("wrong_recipient")),
    case("transfer more than 60 s before the invoice is ignored", m([a], transfer(19_990_000, time=939)),
         ignored("transfer_before_invoice")),
    case("transfer exactly 60 s before the invoice is within clock skew", m([a], transfer(19_990_000, time=940)),
         credit("inv_a")),
    case("transfer after the monitoring window is ignored", m([a], transfer(19_990_000, time=88_301)),
         ignored("transfer_after_window")),
    case("transfer at the last second of monitoring credits", m([a], transfer(19_990_000, time=88_300)),
         credit("inv_a")),
    case("transfer after expiry but within monitoring credits (paid late)",
         m([a], transfer(19_990_000, time=5_000)), credit("inv_a")),
    case("amount no invoice expects is unmatched", m([a, b], transfer(19_980_000)), {"decision": "unmatched"}),
    case("one base unit more is unmatched", m([a], transfer(19_990_001)), {"decision": "unmatched"}),
    case("a transfer already in a ledger is known",
         m([invoice("inv_a", 19_990_000, ledger=[entry(19_990_000, n=1)]), b], transfer(19_990_000, n=1)),
         {"decision": "known", "invoice": "inv_a"}),
    case("same tx hash with another log index is a new transfer",
         m([invoice("inv_a", 19_990_000, ledger=[entry(19_990_000, n=1)]), b],
           transfer(20_000_000, n=1, log_index=1)), credit("inv_b")),
    case("a removed log that was never credited is ignored", m([a], transfer(19_990_000, removed=True)),
         ignored("invalid_log")),
    case("a removed log that was credited is known, for the host to mark removed",
         m([invoice("inv_a", 19_990_000, ledger=[entry(19_990_000, n=1)])], transfer(19_990_000, removed=True)),
         {"decision": "known", "invoice": "inv_a"}),
    case("a transfer without block time cannot be matched", m([a], transfer(19_990_000, time=None)),
         ignored("missing_block_time")),
    case("underpayment within tolerance credits", m([invoice("inv_t", 10 * U, tolerance=10_000)],
                                                   transfer(9_990_000)), credit("inv_t")),
    case("underpayment beyond tolerance is unmatched", m([invoice("inv_t", 10 * U, tolerance=10_000)],
                                                        transfer(9_989_999)), {"decision": "unmatched"}),
    case("the remainder of a partial payment credits it",
         m([invoice("inv_p", 10 * U, ledger=[entry(4 * U, n=7, status="final")])], transfer(6 * U, n=8)),
         credit("inv_p")),
    case("the full amount again after a partial payment is unmatched",
         m([invoice("inv_p", 10 * U, ledger=[entry(4 * U, n=7)])], transfer(10 * U, n=8)),
         {"decision": "unmatched"}),
    # DESIGN §5, settled invoices: a transfer of a paid invoice's amount may be that customer's
    # duplicate or another customer's short payment; it is kept unmatched, visible and claimable.
    case("a transfer of a paid invoice's amount is not added to it (unmatched, claimable)",
         m([invoice("inv_d", 10 * U, ledger=[entry(10 * U, n=7, status="final")])], transfer(10 * U, n=8)),
         {"decision": "unmatched"}),
    case("another customer's short payment equal to a settled invoice's amount goes to nobody",
         m([invoice("inv_a", 19_990_000, ledger=[entry(19_990_000, n=7, status="final")]),
            invoice("inv_b", 20_020_000)], transfer(19_990_000, n=8)), {"decision": "unmatched"}),
    # DESIGN §5, reserved amounts: an expired unpaid invoice whose reservation went to a newer one.
    case("the holder of a reused amount is credited for review while the released one could own it",
         m([invoice("inv_old", 19_990_000, released=True), invoice("inv_new", 19_990_000, created=1500)],
           transfer(19_990_000, time=1600)), {"decision": "credit", "invoice": "inv_new", "review": True}),
    case("a released invoice alone expecting the amount is credited for review",
         m([invoice("inv_old", 19_990_000, released=True)], transfer(19_990_000, time=1600)),
         {"decision": "credit", "invoice": "inv_old", "review": True}),
    case("the holder of a reused amount is credited plainly once the released one is paid",
         m([invoice("inv_old", 19_990_000, released=True, ledger=[entry(19_990_000, n=7)]),
            invoice("inv_new", 19_990_000, created=1500)], transfer(19_990_000, n=8, time=1600)),
         credit("inv_new")),
    case("a remainder equal to another invoice's amount is ambiguous",
         m([invoice("inv_y", 10 * U), invoice("inv_x", 15 * U, ledger=[entry(5 * U, n=7)])],
           transfer(10 * U, n=8)), {"decision": "ambiguous", "invoices": ["inv_x", "inv_y"]}),
    case("invoices of another network are not candidates",
         m([invoice("inv_eth", 19_990_000, network="ethereum", token="usdt",
                    recipient=R1), a], transfer(19_990_000)), credit("inv_a")),
    case("a cancelled invoice still records its payment",
         m([invoice("inv_c", 19_990_000, cancelled=True)], transfer(19_990_000)), credit("inv_c")),
    case("a payment before one invoice but inside another's window goes to the latter",
         m([invoice("inv_old", 5 * U, created=1000), invoice("inv_new", 5 * U, created=100_000)],
           transfer(5 * U, time=1200)), credit("inv_old")),
    case("18-decimal token amounts above 64 bits match exactly",
         m([invoice("inv_18", 1000 * 10**18, token="usdt18")],
           transfer(1000 * 10**18, token=USDT18)), credit("inv_18")),
    case("TRON conventions: base58 recipient and token",
         m([invoice("inv_tron", 19_990_000, network="devnet-tron", recipient=T1)],
           transfer(19_990_000, to=T1, token=TRON_USDT, sender=TPAYER, tron_form=True), network="devnet-tron"),
         credit("inv_tron")),
    case("TRON conventions: the EVM-network token is not TRON's",
         m([invoice("inv_tron", 19_990_000, network="devnet-tron", recipient=T1)],
           transfer(19_990_000, to=T1, token=tron(USDT), sender=TPAYER, tron_form=True), network="devnet-tron"),
         ignored("wrong_token")),
]
write("matching", "match_transfer", "Which watched invoice a transfer pays, by unique amount.", match_valid,
      sources=(DESIGN_TRUST, DESIGN_MATCHING))

# ---------------------------------------------------------------------------------------------
# claim_transfer: {network, invoices, target, transfer} -> {review}
# ---------------------------------------------------------------------------------------------
c = lambda target, t, others=(), network="devnet": {"network": network, "invoices": list(others), "target": target,
                                                     "transfer": t}
odd = transfer(19_900_000)  # an exchange took 0.09 USDT
claim_valid = [
    # DESIGN §5, claim policy: a transaction hash proves nothing about who paid on a shared address.
    case("a short payment claimed needs review (nothing shows the claimer paid it)", c(a, odd, [b]),
         {"review": True}),
    case("an overpayment claimed needs review", c(a, transfer(25 * U), [b]), {"review": True}),
    case("the target's own exact amount claimed credits without review", c(a, transfer(19_990_000), [b]),
         {"review": False}),
    case("another invoice's amount on another recipient is the target's own amount",
         c(a, transfer(19_990_000), [on_r2]), {"review": False}),
    case("a late claim inside the monitoring window needs review", c(a, transfer(19_900_000, time=50_000)),
         {"review": True}),
    case("a claim within the merchant's auto-accept limit credits without review",
         dict(c(a, odd, [b]), policy={"auto_accept_up_to": str(20 * U)}), {"review": False}),
    case("a claim above the merchant's auto-accept limit needs review",
         dict(c(a, odd, [b]), policy={"auto_accept_up_to": str(10 * U)}), {"review": True}),
    case("a claim exactly at the auto-accept limit credits without review",
         dict(c(a, odd, [b]), policy={"auto_accept_up_to": str(19_900_000)}), {"review": False}),
    case("an auto-accept limit of zero accepts nothing", dict(c(a, odd, [b]), policy={"auto_accept_up_to": "0"}),
         {"review": True}),
    case("a settled invoice's amount claimed by another invoice needs review",
         c(a, transfer(20_000_000), [invoice("inv_b", 20_000_000, ledger=[entry(20_000_000, n=9, status="final")])]),
         {"review": True}),
    case("a remainder equal to another invoice's amount, claimed by the partly paid one, needs review",
         c(invoice("inv_x", 15 * U, ledger=[entry(5 * U, n=7)]), transfer(10 * U, n=8), [invoice("inv_y", 10 * U)]),
         {"review": True}),
    case("a released invoice's amount claimed by another invoice needs review",
         c(a, transfer(20_000_000), [invoice("inv_b", 20_000_000, released=True)]), {"review": True}),
]
claim_invalid = [
    error("a transfer of exactly another watched invoice's amount belongs to it, whatever is claimed",
          c(a, transfer(20_000_000), [b]), "reserved_for_another_invoice"),
    error("the auto-accept limit does not let a claim take another invoice's exact amount",
          dict(c(a, transfer(20_000_000), [b]), policy={"auto_accept_up_to": str(100 * U)}),
          "reserved_for_another_invoice"),
    error("a transfer already credited elsewhere cannot be claimed",
          c(a, transfer(20_000_000, n=5), [invoice("inv_b", 20_000_000, ledger=[entry(20_000_000, n=5)])]),
          "already_credited"),
    error("a transfer already credited to the target cannot be claimed again",
          c(invoice("inv_a", 19_990_000, ledger=[entry(19_990_000, n=5)]), transfer(19_990_000, n=5)),
          "already_credited"),
    error("a fake token cannot be claimed", c(a, transfer(19_990_000, token=FAKE)), "wrong_token"),
    error("a transfer to another address cannot be claimed", c(a, transfer(19_990_000, to=R2)), "wrong_recipient"),
    error("a transfer from before the invoice cannot be claimed", c(a, transfer(19_990_000, time=100)),
          "transfer_before_invoice"),
    error("a transfer after monitoring cannot be claimed", c(a, transfer(19_990_000, time=90_000)),
          "transfer_after_window"),
    error("a transfer without block time cannot be claimed", c(a, transfer(19_990_000, time=None)),
          "missing_block_time"),
    error("a claim checked on another network than the invoice's is refused",
          c(invoice("inv_eth", 19_990_000, network="ethereum"), transfer(19_990_000 * 10**12, token="0x55d398326f99059fF775485246999027B3197955"), network="bsc"),
          "wrong_token"),
    error("a removed log cannot be claimed", c(a, transfer(19_990_000, removed=True)), "invalid_log"),
]
write("matching", "claim_transfer", "Checks a customer's claim that a transaction pays an invoice.",
      claim_valid, claim_invalid, sources=(DESIGN_TRUST, DESIGN_MATCHING))


# ---------------------------------------------------------------------------------------------
# invoice_status: {invoice, now} -> {state, exception, amount_paid, amount_final, amount_remaining}
# ---------------------------------------------------------------------------------------------
def st(state, exception=None, paid=0, final=0, remaining=0):
    return {"state": state, "exception": exception, "amount_paid": str(paid), "amount_final": str(final),
            "amount_remaining": str(remaining)}


D = 10 * U
s = lambda inv, now: {"invoice": inv, "now": str(now)}
status_valid = [
    case("unpaid before expiry is new", s(invoice("i", D), 1000), st("new", remaining=D)),
    case("unpaid one second before expiry is new", s(invoice("i", D), 1899), st("new", remaining=D)),
    case("unpaid at expiry is expired", s(invoice("i", D), 1900), st("expired", remaining=D)),
    case("full payment seen is processing", s(invoice("i", D, ledger=[entry(D)]), 1200),
         st("processing", paid=D)),
    case("full payment final is settled", s(invoice("i", D, ledger=[entry(D, status="final")]), 1200),
         st("settled", paid=D, final=D)),
    case("processing stays processing after expiry", s(invoice("i", D, ledger=[entry(D)]), 5000),
         st("processing", paid=D)),
    case("partial payment before expiry is new and paid partial",
         s(invoice("i", D, ledger=[entry(4 * U, status="final")]), 1200),
         st("new", "paid_partial", paid=4 * U, final=4 * U, remaining=6 * U)),
    case("partial payment after expiry is expired and paid partial",
         s(invoice("i", D, ledger=[entry(4 * U, status="final")]), 2000),
         st("expired", "paid_partial", paid=4 * U, final=4 * U, remaining=6 * U)),
    case("partial then top-up, both final, is settled",
         s(invoice("i", D, ledger=[entry(4 * U, n=1, status="final"), entry(6 * U, n=2, status="final")]), 1500),
         st("settled", paid=D, final=D)),
    case("partial final and top-up seen is processing",
         s(invoice("i", D, ledger=[entry(4 * U, n=1, status="final"), entry(6 * U, n=2)]), 1500),
         st("processing", paid=D, final=4 * U)),
    case("overpayment final is settled and paid over",
         s(invoice("i", D, ledger=[entry(12 * U, status="final")]), 1500),
         st("settled", "paid_over", paid=12 * U, final=12 * U)),
    case("duplicate payment is settled and paid over",
         s(invoice("i", D, ledger=[entry(D, n=1, status="final"), entry(D, n=2)]), 1500),
         st("settled", "paid_over", paid=2 * D, final=D)),
    case("payment after expiry, final, is settled and paid late",
         s(invoice("i", D, ledger=[entry(D, status="final", time=3000)]), 3100),
         st("settled", "paid_late", paid=D, final=D)),
    case("payment after expiry, seen, is processing and paid late",
         s(invoice("i", D, ledger=[entry(D, time=3000)]), 3100), st("processing", "paid_late", paid=D)),
    case("partial in time and top-up after expiry is paid late",
         s(invoice("i", D, ledger=[entry(4 * U, n=1, status="final", time=1100),
                                   entry(6 * U, n=2, status="final", time=2500)]), 2600),
         st("settled", "paid_late", paid=D, final=D)),
    case("payment in the last second before expiry is not late",
         s(invoice("i", D, ledger=[entry(D, status="final", time=1900)]), 2600), st("settled", paid=D, final=D)),
    case("a payment removed by a reorganisation leaves the invoice invalid",
         s(invoice("i", D, ledger=[entry(D, status="removed")]), 1200), st("invalid", remaining=D)),
    case("a removed payment replaced by another is processing",
         s(invoice("i", D, ledger=[entry(D, n=1, status="removed"), entry(D, n=2)]), 1200),
         st("processing", paid=D)),
    case("underpayment within tolerance is settled with nothing remaining",
         s(invoice("i", D, tolerance=10_000, ledger=[entry(D - 10_000, status="final")]), 1200),
         st("settled", paid=D - 10_000, final=D - 10_000)),
    case("underpayment beyond tolerance is paid partial",
         s(invoice("i", D, tolerance=10_000, ledger=[entry(D - 10_001, status="final")]), 1200),
         st("new", "paid_partial", paid=D - 10_001, final=D - 10_001, remaining=10_001)),
    case("a claimed payment with review needs review",
         s(invoice("i", D, ledger=[entry(D, status="final", matched_by="claim", review=True)]), 1200),
         st("settled", "needs_review", paid=D, final=D)),
    case("a review flag on a removed entry no longer counts",
         s(invoice("i", D, ledger=[entry(D, n=1, status="removed", review=True), entry(D, n=2, status="final")]),
           1200), st("settled", paid=D, final=D)),
    case("marked for review by the merchant needs review",
         s(invoice("i", D, marked_for_review=True), 1200), st("new", "needs_review", remaining=D)),
    case("cancelled and unpaid is invalid", s(invoice("i", D, cancelled=True), 1200), st("invalid", remaining=D)),
    case("cancelled but paid needs review",
         s(invoice("i", D, cancelled=True, ledger=[entry(D, status="final")]), 1200),
         st("settled", "needs_review", paid=D, final=D)),
    case("18-decimal amounts above 64 bits",
         s(invoice("i", 1000 * 10**18, token="usdt18", ledger=[entry(999 * 10**18, status="final")]), 1200),
         st("new", "paid_partial", paid=999 * 10**18, final=999 * 10**18, remaining=10**18)),
]
write("state", "invoice_status", "An invoice's state, exception and totals derived from its ledger and the clock.",
      status_valid)


# ---------------------------------------------------------------------------------------------
# invoice_events: {invoice, steps} -> events; after each step the host syncs at the step's time.
# ---------------------------------------------------------------------------------------------
def ev(id, seq, kind, at, state, exception=None, paid=0, final=0, remaining=0):
    return {"id": f"{id}:{seq}", "type": kind, "invoice": id, **st(state, exception, paid, final, remaining),
            "at": str(at)}


sync = lambda now: {"now": str(now), "action": "sync"}
cr = lambda now, t, matched_by="amount", review=False: {"now": str(now), "action": "credit", "transfer": t,
                                                        "matched_by": matched_by, "review": review}
mark = lambda now, n, status: {"now": str(now), "action": "set_status", "tx_hash": txh(n), "log_index": "0",
                               "status": status}
e = lambda steps: {"invoice": invoice("inv", D), "steps": steps}
events_valid = [
    case("paid in time: new, processing, settled",
         e([sync(1000), cr(1100, transfer(D, time=1100)), mark(1200, 1, "final"), sync(1300)]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.processing", 1100, "processing", paid=D),
          ev("inv", 3, "invoice.settled", 1200, "settled", paid=D, final=D)]),
    case("crediting the same transfer twice emits nothing new",
         e([sync(1000), cr(1100, transfer(D)), cr(1150, transfer(D))]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.processing", 1100, "processing", paid=D)]),
    case("unpaid: new, then expired",
         e([sync(1000), sync(1899), sync(1900), sync(2000)]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.expired", 1900, "expired", remaining=D)]),
    case("paid late: expired, processing late, settled late",
         e([sync(1000), sync(2000), cr(3000, transfer(D, time=2990)), mark(3100, 1, "final")]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.expired", 2000, "expired", remaining=D),
          ev("inv", 3, "invoice.processing", 3000, "processing", "paid_late", paid=D),
          ev("inv", 4, "invoice.settled", 3100, "settled", "paid_late", paid=D, final=D)]),
    case("partial then top-up: paid partial, processing, settled",
         e([sync(1000), cr(1100, transfer(4 * U, n=1)), mark(1150, 1, "final"),
            cr(1200, transfer(6 * U, n=2, time=1190)), mark(1300, 2, "final")]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.paid_partial", 1100, "new", "paid_partial", paid=4 * U, remaining=6 * U),
          ev("inv", 3, "invoice.processing", 1200, "processing", paid=D, final=4 * U),
          ev("inv", 4, "invoice.settled", 1300, "settled", paid=D, final=D)]),
    case("reorganised away and back: processing, invalid, processing, settled",
         e([sync(1000), cr(1100, transfer(D, block=100)), mark(1110, 1, "removed"),
            cr(1120, transfer(D, block=101, time=1115)), mark(1200, 1, "final")]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.processing", 1100, "processing", paid=D),
          ev("inv", 3, "invoice.invalid", 1110, "invalid", remaining=D),
          ev("inv", 4, "invoice.processing", 1120, "processing", paid=D),
          ev("inv", 5, "invoice.settled", 1200, "settled", paid=D, final=D)]),
    case("a duplicate payment after settlement: paid over",
         e([sync(1000), cr(1100, transfer(D, n=1)), mark(1200, 1, "final"), cr(1300, transfer(D, n=2, time=1290))]),
         [ev("inv", 1, "invoice.new", 1000, "new", remaining=D),
          ev("inv", 2, "invoice.processing", 1100, "processing", paid=D),
          ev("inv", 3, "invoice.settled", 1200, "settled", paid=D, final=D),
          ev("inv", 4, "invoice.paid_over", 1300, "settled", "paid_over", paid=2 * D, final=D)]),
]
write("state", "invoice_events", "The events an invoice emits as transfers are credited, finalised or removed "
      "and as time passes.", events_valid)

# ---------------------------------------------------------------------------------------------
# status_document: {invoice, context} -> the document the host serves (numbers stay numbers
# where DESIGN §8 has them: decimals, chain_id, confirmations, finality, poll_after_ms).
# ---------------------------------------------------------------------------------------------
NAMES_DEVNET = {"en": "Local devnet", "zh-CN": "本地开发链"}
NAMES_TRON = {"en": "Local devnet, TRON conventions", "zh-CN": "本地开发链（波场格式）"}
TOKEN_DEVNET = {"id": "usdt", "symbol": "USDT", "contract": USDT, "decimals": 6, "official": False}
TOKEN_TRON = {"id": "usdt", "symbol": "USDT", "contract": TRON_USDT, "decimals": 6, "official": False}


def doc(**fields):
    base = {"invoice": "inv_doc", "state": "new", "exception": None, "network": "devnet",
            "network_names": NAMES_DEVNET, "chain_id": 31337, "token": TOKEN_DEVNET, "recipient": R1,
            "amount_due": "19.99", "amount_paid": "0", "amount_remaining": "19.99",
            "payment_uri": f"ethereum:{USDT}@31337/transfer?address={R1}&uint256=19990000",
            "expires_at": "2026-11-25T12:30:00Z", "finality": None, "transfers": [], "choices": [],
            "return_url": "https://shop.example/order/42", "poll_after_ms": 3000, "links": LINKS}
    base.update(fields)
    return base


LINKS = {"choose": None, "claim": "https://shop.example/stablegate/inv_doc/claim",
         "events": "https://shop.example/stablegate/inv_doc/events", "new_invoice": None}
# 2026-11-25T12:15:00Z = 1795608900; 15-minute expiry → 12:30:00Z.
T0 = 1_795_608_900
ctx = lambda now, head=None: {"now": str(now), "head": None if head is None else str(head),
                              "return_url": "https://shop.example/order/42", "poll_after_ms": "3000",
                              "links": LINKS}
dinv = lambda **kw: invoice("inv_doc", 19_990_000, created=T0, **kw)
sd = lambda inv, context: {"invoice": inv, "context": context}
doc_valid = [
    case("a new invoice shows its payment request",
         sd(dinv(), ctx(T0 + 10)), doc()),
    case("the order total the shop priced is passed through, for the widget to explain the amount",
         sd(dinv(), dict(ctx(T0 + 10), order_total={"amount": "19.98", "currency": "USD"})),
         doc(order_total={"amount": "19.98", "currency": "USD"})),
    case("a processing payment shows finality progress and stops offering the request",
         sd(dinv(ledger=[entry(19_990_000, block=100, time=T0 + 60)]), ctx(T0 + 70, head=101)),
         doc(state="processing", amount_paid="19.99", amount_remaining="0", payment_uri=None,
             finality={"seen": 2, "required": 3},
             transfers=[{"tx": txh(1), "amount": "19.99", "status": "processing", "confirmations": 2,
                         "explorer_url": None}])),
    case("a settled invoice tells the widget to stop polling",
         sd(dinv(ledger=[entry(19_990_000, status="final", block=100, time=T0 + 60)]), ctx(T0 + 90, head=110)),
         doc(state="settled", amount_paid="19.99", amount_remaining="0", payment_uri=None, poll_after_ms=0,
             transfers=[{"tx": txh(1), "amount": "19.99", "status": "settled", "confirmations": 11,
                         "explorer_url": None}])),
    case("a partial payment asks for the remainder",
         sd(dinv(ledger=[entry(9_990_000, status="final", block=100, time=T0 + 60)]), ctx(T0 + 90, head=110)),
         doc(exception="paid_partial", amount_paid="9.99", amount_remaining="10",
             payment_uri=f"ethereum:{USDT}@31337/transfer?address={R1}&uint256=10000000",
             transfers=[{"tx": txh(1), "amount": "9.99", "status": "settled", "confirmations": 11,
                         "explorer_url": None}])),
    case("an expired invoice offers no payment request but keeps watching",
         sd(dinv(), ctx(T0 + 900)), doc(state="expired", payment_uri=None)),
    case("past the monitoring window the document stops changing",
         sd(dinv(), ctx(T0 + 900 + 86_401)), doc(state="expired", payment_uri=None, poll_after_ms=0)),
    case("TRON conventions: the QR holds the bare address",
         sd(invoice("inv_doc", 19_990_000, created=T0, network="devnet-tron", recipient=T1), ctx(T0 + 10)),
         doc(network="devnet-tron", network_names=NAMES_TRON, token=TOKEN_TRON, recipient=T1, payment_uri=T1)),
    case("an ethereum invoice links its transfers to the explorer",
         sd(invoice("inv_doc", 19_990_000, created=T0, network="ethereum",
                    ledger=[entry(19_990_000, block=100, time=T0 + 60)]), ctx(T0 + 70, head=120)),
         doc(network="ethereum", network_names={"en": "Ethereum (ERC-20)", "zh-CN": "以太坊 (ERC-20)"},
             chain_id=1, token={"id": "usdt", "symbol": "USDT", "contract": "0xdAC17F958D2ee523a2206206994597C13D831ec7",
                                "decimals": 6, "official": True},
             state="processing", amount_paid="19.99", amount_remaining="0", payment_uri=None,
             finality={"seen": 21, "required": 64},
             transfers=[{"tx": txh(1), "amount": "19.99", "status": "processing", "confirmations": 21,
                         "explorer_url": "https://etherscan.io/tx/" + txh(1)}])),
]
write("status", "status_document", "The status document a host serves for an invoice (DESIGN §8).", doc_valid,
      sources=(DESIGN_STATUS,))
