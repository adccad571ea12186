#!/usr/bin/env python3
"""Writes the engine vectors: pool allocation, finality, the watcher's plan/apply step, rate
reading, the status document before a network is chosen, and review resolution.

Every expected output is computed by the small oracle below, written from the rules of DESIGN.md
§5, §6 and §8 and the documented contracts of crates/core/src/watch.rs and rate.rs, never by
running an implementation and copying its output. Hand-written scenarios also assert, by hand,
the facts that decide them (event types, cursor, ledger ops), so the oracle cannot drift from
the rule it encodes. Python 3.11 standard library only.

Usage: python3 tests/vectors/tools/generate_engine.py
"""

import copy
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate as log_oracle  # noqa: E402  (the first oracle's decode_transfer_log, for raw logs)

VECTORS = Path(__file__).resolve().parents[1]
REGISTRY = json.loads((VECTORS.parents[1] / "crates" / "core" / "data" / "networks.json").read_text())
NETS = {n["id"]: n for n in REGISTRY["networks"]}

DESIGN_MATCHING = "DESIGN.md §5 (Invoices, matching and the ledger)"
DESIGN_DETECTION = "DESIGN.md §6 (Detection)"
DESIGN_STATUS = "DESIGN.md §8 (The status contract)"
DESIGN_MONEY = "DESIGN.md §3 (Money)"
WATCH_RS = "crates/core/src/watch.rs (the plan/apply contract)"
RATE_RS = "crates/core/src/rate.rs"

U128_MAX = (1 << 128) - 1
GAP = 2  # DESIGN §5: no open invoice within two steps of another's amount
CLOCK_SKEW = 60
U = 10**6

R1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
R2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
R3 = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
PAYER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
USDT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
USDT18 = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
FAKE = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"


class Fail(Exception):
    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def write(area, function, description, valid, invalid=(), sources=()):
    doc = {"area": area, "function": function, "description": description, "sources": list(sources),
           "valid": valid, "invalid": list(invalid)}
    names = [c["description"] for c in valid + list(invalid)]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate description in {area}/{function}: {sorted(dup)[:3]}"
    inputs = [json.dumps(c["input"], sort_keys=True) for c in valid + list(invalid)]
    assert len(inputs) == len(set(inputs)), f"two cases of {area}/{function} have the same input"
    path = VECTORS / area / f"{function}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"{path.relative_to(VECTORS)}: {len(valid)} valid, {len(invalid)} invalid")


def run_oracle(oracle, description, input, expect_error=None):
    """A case whose output the oracle computes; `expect_error` states the intent."""
    try:
        out = oracle(input)
    except Fail as f:
        assert expect_error == f.kind, f"{description}: oracle says {f.kind}, intent {expect_error}"
        return None, {"description": description, "input": input, "error": f.kind}
    assert expect_error is None, f"{description}: oracle gives {out}, intent {expect_error}"
    return {"description": description, "input": input, "output": out}, None


class Cases:
    def __init__(self, oracle):
        self.oracle, self.valid, self.invalid = oracle, [], []

    def add_grid(self, description, input):
        """A grid case: skipped when an earlier case has the same input (grids overlap at edges)."""
        key = json.dumps(input, sort_keys=True)
        if any(json.dumps(c["input"], sort_keys=True) == key for c in self.valid + self.invalid):
            return
        try:
            self.oracle(input)
            self.add(description, input)
        except Fail as f:
            self.add(description, input, error=f.kind)

    def add(self, description, input, error=None, check=None):
        ok, bad = run_oracle(self.oracle, description, input, error)
        if ok:
            if check is not None:
                assert check(ok["output"]), f"{description}: hand check failed on {ok['output']}"
            self.valid.append(ok)
        else:
            self.invalid.append(bad)


# =============================================================================================
# amounts / allocate_in_pool
# =============================================================================================
def clear_of(taken, amount, step):
    return all(abs(amount - t) > GAP * step for t in taken)


def o_allocate_in_pool(i):
    base, step, slots = int(i["base_units"]), int(i["step_units"]), int(i["max_slots"])
    pool = i["pool"]
    if step == 0 and pool:
        raise Fail("invalid_amount")
    # 1. pool order: the first address with a slot clear of every reservation on it.
    for address in pool:
        taken = [int(r["amount"]) for r in address.get("reserved", [])]
        for k in range(slots):
            amount = base + k * step
            if amount > U128_MAX:
                raise Fail("amount_overflow")
            if clear_of(taken, amount, step):
                return {"recipient": address["recipient"], "amount": str(amount), "slot": str(k), "reuses": None}
    # 2. every band full: the oldest expired, unpaid reservation inside the band (a slot of it)
    #    that is still clear of every other reservation on its address.
    best = None
    for address in pool:
        reserved = address.get("reserved", [])
        for r in reserved:
            at = r.get("expired_unpaid_at")
            if at is None:
                continue
            amount = int(r["amount"])
            if amount < base or (amount - base) % step or (amount - base) // step >= slots:
                continue
            others = [int(o["amount"]) for o in reserved if o["invoice"] != r["invoice"]]
            if not clear_of(others, amount, step):
                continue
            key = (int(at), r["invoice"])
            if best is None or key < best[0]:
                best = (key, address["recipient"], amount, r["invoice"])
    if best is None:
        raise Fail("amount_band_full")
    _, recipient, amount, invoice = best
    return {"recipient": recipient, "amount": str(amount), "slot": str((amount - base) // step), "reuses": invoice}


def res(invoice, amount, expired_at=None):
    r = {"invoice": invoice, "amount": str(amount)}
    if expired_at is not None:
        r["expired_unpaid_at"] = str(expired_at)
    return r


def build_allocate_in_pool():
    c = Cases(o_allocate_in_pool)
    B, S = 19_990_000, 10_000
    al = lambda pool, slots=100, base=B, step=S: {"base_units": str(base), "step_units": str(step),
                                                   "max_slots": str(slots), "pool": pool}
    addr = lambda r, reserved=(): {"recipient": r, "reserved": list(reserved)}
    band = lambda n, start=0, every=3, prefix="o", expired=None: [
        res(f"{prefix}{k}", B + (start + every * k) * S, None if expired is None else expired + k) for k in range(n)]

    c.add("empty pool address gives slot 0 on the first address", al([addr(R1), addr(R2)]),
          check=lambda o: o == {"recipient": R1, "amount": str(B), "slot": "0", "reuses": None})
    c.add("pool order: the first address wins even when the second is emptier",
          al([addr(R1, [res("a", B)]), addr(R2)]),
          check=lambda o: o["recipient"] == R1 and o["slot"] == "3")
    c.add("band full on the first address: the second address is used",
          al([addr(R1, [res("a", B)]), addr(R2)], slots=3), check=lambda o: o["recipient"] == R2 and o["slot"] == "0")
    c.add("band full on the first two addresses: the third is used",
          al([addr(R1, [res("a", B)]), addr(R2, [res("b", B + S)]), addr(R3)], slots=3),
          check=lambda o: o["recipient"] == R3)
    c.add("an address whose reservations are all far from the band is clear",
          al([addr(R1, [res("a", 5 * U), res("b", 50 * U)])]), check=lambda o: o["slot"] == "0")
    c.add("a reservation of another price one step below base is a neighbour",
          al([addr(R1, [res("a", B - S)])]), check=lambda o: o["slot"] == "2")
    c.add("expired unpaid reservations still hold their amounts while a slot is clear",
          al([addr(R1, [res("a", B, expired_at=5000)])], slots=10), check=lambda o: o["reuses"] is None)
    c.add("every band full: the oldest expired unpaid reservation is reused",
          al([addr(R1, [res("old", B, 3000), res("newer", B + 3 * S, 4000)])], slots=4),
          check=lambda o: o == {"recipient": R1, "amount": str(B), "slot": "0", "reuses": "old"})
    c.add("the oldest is found across addresses",
          al([addr(R1, [res("a", B, 5000)]), addr(R2, [res("b", B + 2 * S, 4000)])], slots=3),
          check=lambda o: o["recipient"] == R2 and o["reuses"] == "b")
    c.add("an open reservation is never reused",
          al([addr(R1, [res("open", B), res("old", B + 3 * S, 4000)])], slots=4),
          check=lambda o: o["reuses"] == "old")
    c.add("same expiry time: the smaller invoice id is reused",
          al([addr(R1, [res("inv_b", B, 4000), res("inv_a", B + 3 * S, 4000)])], slots=4),
          check=lambda o: o["reuses"] == "inv_a")
    c.add("reuse refused when a neighbour is within two steps; the next oldest is taken",
          al([addr(R1, [res("old", B, 3000), res("open", B + 2 * S), res("later", B + 5 * S, 4000)])], slots=6),
          check=lambda o: o["reuses"] == "later")
    c.add("a reservation outside the band (another price) is not reused",
          al([addr(R1, [res("cheap", B - 3 * S, 1000), res("x", B + S, 4000)])], slots=2),
          check=lambda o: o["reuses"] == "x")
    c.add("a reservation between slots is not reused",
          al([addr(R1, [res("mid", B + S // 2, 1000), res("x", B + 3 * S, 4000)])], slots=4),
          check=lambda o: o["reuses"] == "x")
    c.add("a reservation above the last slot is not reused",
          al([addr(R1, [res("a", B, 4000), res("above", B + 4 * S, 1000)])], slots=4),
          check=lambda o: o["reuses"] == "a")
    c.add("expiry time zero is the oldest", al([addr(R1, [res("z", B, 0), res("y", B + 3 * S, 1)])], slots=4),
          check=lambda o: o["reuses"] == "z")
    c.add("18-decimal amounts", al([addr(R1, [res("a", 10 * 10**18)])], base=10 * 10**18, step=10**16),
          check=lambda o: o["amount"] == str(10 * 10**18 + 3 * 10**16))
    c.add("base u128 max with slot 0 clear", al([addr(R1)], slots=2, base=U128_MAX, step=1))
    c.add("a reservation list absent means nothing reserved", al([{"recipient": R2}]))
    c.add("the recipient is returned as the host stored it", al([addr("T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb")]))
    # a grid: several addresses, bands of various fill, with and without expired reservations
    for n_addr in (1, 2, 3):
        for fill in (1, 2, 3, 4):
            for slots in (3, 6, 9, 12):
                for expired in (None, 7000):
                    pool = [addr([R1, R2, R3][a], band(fill, start=a % 2, prefix=f"{a}_",
                                                     expired=None if expired is None else expired - 100 * a))
                            for a in range(n_addr)]
                    d = f"grid: {n_addr} address(es), {fill} reservation(s) three steps apart from slot 0 or 1, " \
                        f"{slots} slots, {'expired unpaid' if expired else 'open'}"
                    try:
                        o_allocate_in_pool(al(pool, slots=slots))
                        c.add(d, al(pool, slots=slots))
                    except Fail as f:
                        c.add(d, al(pool, slots=slots), error=f.kind)
    for gap in range(0, 8):
        for slots in (4, 8):
            pool = [addr(R1, [res("lo", B, 1000), res("hi", B + gap * S, 2000)])]
            d = f"two reservations {gap} steps apart, {slots} slots"
            try:
                o_allocate_in_pool(al(pool, slots=slots))
                c.add(d, al(pool, slots=slots))
            except Fail as f:
                c.add(d, al(pool, slots=slots), error=f.kind)
    c.add("empty pool", al([]), error="amount_band_full")
    c.add("no slots at all, nothing to reuse", al([addr(R1)], slots=0), error="amount_band_full")
    c.add("no slots at all: an expired reservation at base is outside the band",
          al([addr(R1, [res("a", B, 1000)])], slots=0), error="amount_band_full")
    c.add("every band full and nothing expired", al([addr(R1, [res("a", B)]), addr(R2, [res("b", B)])], slots=3),
          error="amount_band_full")
    c.add("every band full and the only expired reservation has a neighbour",
          al([addr(R1, [res("a", B, 1000), res("b", B + S)])], slots=3), error="amount_band_full")
    c.add("zero step", al([addr(R1)], step=0), error="invalid_amount")
    c.add("the band runs past 128 bits before a clear slot",
          al([addr(R1, [res("a", U128_MAX - 1)])], slots=5, base=U128_MAX - 1, step=1), error="amount_overflow")
    write("amounts", "allocate_in_pool",
          "Receiving address and unique amount of a new invoice over the merchant's pool: pool order, then the "
          "oldest expired unpaid reservation (DESIGN §5).", c.valid, c.invalid, sources=(DESIGN_MATCHING,))


# =============================================================================================
# watch / is_final and plan_poll
# =============================================================================================
def confirmations(block, head):
    return head - block + 1 if head >= block else 0


def o_is_final_raw(network, block, head, tagged, min_conf):
    fin = NETS[network]["finality"]
    c = confirmations(block, head)
    if c < fin["confirmations"] or c < min_conf:
        return False
    if fin["tag"] is not None:
        return tagged is not None and block <= tagged
    return True


def o_is_final(i):
    if i["network"] not in NETS:
        raise Fail("unknown_network")
    tagged = int(i["tagged"]) if "tagged" in i else None
    return o_is_final_raw(i["network"], int(i["block"]), int(i["head"]), tagged, int(i["min_confirmations"]))


def build_is_final():
    c = Cases(o_is_final)
    for net in NETS:
        conf, tag = NETS[net]["finality"]["confirmations"], NETS[net]["finality"]["tag"]
        head = 1_000_000
        used = set()
        for depth_name, block in (("at the head", head), ("one short of the depth", head - conf + 2),
                                  ("exactly at the depth", head - conf + 1), ("deeper than the depth", head - conf - 50)):
            if block > head or block in used:
                continue
            used.add(block)
            taggeds = [None] if tag is None else list(dict.fromkeys([None, block - 1, block, head]))
            for t in taggeds:
                for mc in (0, conf + 10):
                    i = {"network": net, "block": str(block), "head": str(head), "min_confirmations": str(mc)}
                    if t is not None:
                        i["tagged"] = str(t)
                    tdesc = "" if tag is None else (" with no tag answer" if t is None else
                                                    f" with the tag {'below' if t < block else 'at' if t == block else 'above'} the block ({t})")
                    d = f"{net}: block {depth_name}{tdesc}, min_confirmations {mc}"
                    c.add(d, i)
    c.add("a block above the head has no confirmations",
          {"network": "devnet", "block": "11", "head": "10", "min_confirmations": "0"}, check=lambda o: o is False)
    c.add("a tag on a network without one is ignored",
          {"network": "devnet", "block": "8", "head": "10", "tagged": "0", "min_confirmations": "0"},
          check=lambda o: o is True)
    c.add("min_confirmations 1 on a one-confirmation network with the tag",
          {"network": "arbitrum", "block": "10", "head": "10", "tagged": "10", "min_confirmations": "1"},
          check=lambda o: o is True)
    c.add("block zero at head zero", {"network": "devnet", "block": "0", "head": "0", "min_confirmations": "0"},
          check=lambda o: o is False)
    c.add("unknown network", {"network": "solana", "block": "1", "head": "100", "min_confirmations": "0"},
          error="unknown_network")
    write("watch", "is_final",
          "Whether a transfer's block is final: the registry's tag and depth, and the merchant's stricter "
          "min_confirmations (DESIGN §6).", c.valid, c.invalid, sources=(DESIGN_DETECTION, WATCH_RS))


def last_final_block(network, head, tagged, min_conf):
    """The highest block final at `head`, or None (written from the is_final rule)."""
    fin = NETS[network]["finality"]
    depth = max(fin["confirmations"], min_conf, 1)
    if head + 1 < depth:
        return None
    by_depth = head + 1 - depth
    if fin["tag"] is None:
        return by_depth
    return None if tagged is None else min(tagged, by_depth)


def o_plan_poll(i):
    net = i["network"]
    if net not in NETS:
        raise Fail("unknown_network")
    p = i["plan"]
    head, cursor = int(p["head"]), int(p["cursor"])
    tagged = int(p["tagged"]) if p.get("tagged") is not None else None
    mc = int(p.get("min_confirmations", "0"))
    # The cursor is a final cursor (every block up to it was searched after it became final): the
    # range starts right past it, so a block not final yet is searched on every poll and every
    # block at least once after it became final. A cursor above the answering node's head searches
    # nothing past that head.
    cursor = min(cursor, head)
    frm = cursor + 1
    to = min(head, cursor + max(int(p["max_blocks"]), 1))
    checks = [e for e in p.get("pending", [])
              if o_is_final_raw(net, int(e["block_number"]), head, tagged, mc)]
    return {"from": str(frm), "to": str(to), "checks": checks}


def txh(n):
    return "0x" + f"{n:064x}"


def pend(n, block, log_index=0):
    return {"tx_hash": txh(n), "log_index": str(log_index), "block_number": str(block)}


def build_plan_poll():
    c = Cases(o_plan_poll)

    def pl(net, cursor, head, max_blocks=1000, tagged=None, mc=None, pending=()):
        p = {"cursor": str(cursor), "head": str(head), "max_blocks": str(max_blocks)}
        if tagged is not None:
            p["tagged"] = str(tagged)
        if mc is not None:
            p["min_confirmations"] = str(mc)
        if pending:
            p["pending"] = list(pending)
        return {"network": net, "plan": p}

    c.add("devnet: the range starts past the final cursor, up to the head",
          pl("devnet", 98, 100), check=lambda o: o["from"] == "99" and o["to"] == "100")
    c.add("devnet: a new block is searched with the blocks not final yet",
          pl("devnet", 98, 101), check=lambda o: o["from"] == "99" and o["to"] == "101")
    c.add("devnet: the cursor far behind searches from the cursor, at most max_blocks",
          pl("devnet", 100, 10_000, max_blocks=500), check=lambda o: o["from"] == "101" and o["to"] == "600")
    # The last poll searched up to head 100 and left its final cursor at 98 (the last final block
    # then); block 100 was replaced afterwards, and the host polls again only at head 200, when the
    # replacement block has long been final: it is still searched.
    c.add("devnet: a long gap between polls still searches the blocks past the final cursor",
          pl("devnet", 98, 200), check=lambda o: o["from"] == "99" and o["to"] == "200")
    c.add("devnet: a young chain is searched from past the cursor",
          pl("devnet", 0, 1), check=lambda o: o["from"] == "1" and o["to"] == "1")
    c.add("devnet: max_blocks 0 still moves by one block", pl("devnet", 100, 200, max_blocks=0),
          check=lambda o: o["from"] == "101" and o["to"] == "101")
    c.add("devnet: a cursor above the node's head searches nothing", pl("devnet", 150, 120),
          check=lambda o: o["from"] == "121" and o["to"] == "120")
    c.add("devnet: min_confirmations does not widen the range (a cursor at the head searches nothing)",
          pl("devnet", 100, 100, mc=20),
          check=lambda o: o["from"] == "101" and o["to"] == "100")
    c.add("ethereum: the range starts past the final cursor, whatever the tag",
          pl("ethereum", 20_000_010, 20_000_100, tagged=20_000_010),
          check=lambda o: o["from"] == "20000011" and o["to"] == "20000100")
    c.add("ethereum: no tag answer: the range still starts past the cursor, at most max_blocks",
          pl("ethereum", 20_000_010, 20_000_100, max_blocks=50),
          check=lambda o: o["from"] == "20000011" and o["to"] == "20000060")
    c.add("tron: the range starts past the final cursor",
          pl("tron", 69_999_980, 70_000_003, tagged=69_999_980),
          check=lambda o: o["from"] == "69999981" and o["to"] == "70000003")
    c.add("checks: only the entries final by now, in the host's order",
          pl("devnet", 100, 100, pending=[pend(1, 99), pend(2, 98), pend(3, 90), pend(4, 50, 3)]),
          check=lambda o: [e["tx_hash"] for e in o["checks"]] == [txh(2), txh(3), txh(4)])
    c.add("checks: an entry at the tagged block is checked, one above is not",
          pl("bsc", 1000, 1010, tagged=1005, pending=[pend(1, 1005), pend(2, 1006)]),
          check=lambda o: [e["tx_hash"] for e in o["checks"]] == [txh(1)])
    c.add("checks: min_confirmations holds back an entry the registry would check",
          pl("devnet", 100, 100, mc=10, pending=[pend(1, 98), pend(2, 91)]),
          check=lambda o: [e["tx_hash"] for e in o["checks"]] == [txh(2)])
    c.add("checks: an entry deep enough but above the tagged block is not checked",
          pl("polygon", 500, 600, tagged=99, pending=[pend(1, 100), pend(2, 99)]),
          check=lambda o: [e["tx_hash"] for e in o["checks"]] == [txh(2)])
    c.add("checks: an entry above the node's head is not checked",
          pl("devnet", 100, 100, pending=[pend(1, 105)]), check=lambda o: o["checks"] == [])
    # grid over networks, cursor positions, tags, min_confirmations and max_blocks
    # one network of each finality policy of the registry (the others share it)
    for net in ("devnet", "devnet-tron", "ethereum", "bsc", "tron", "polygon", "arbitrum"):
        conf, tag = NETS[net]["finality"]["confirmations"], NETS[net]["finality"]["tag"]
        head = 5_000
        for cname, cursor in (("at the head", head), ("just behind", head - 1), ("above the last final block", head - conf // 2),
                              ("at the depth", head - conf), ("far behind", head - 4_000), ("above the head", head + 7)):
            for mb in (1, 2_000):
                for tg in ([None] if tag is None else [None, head - conf - 20, head]):
                    for mc in (0, conf + 5):
                        pending = [pend(1, head - conf - 30), pend(2, head - conf + 1), pend(3, head), pend(4, head - 3)]
                        i = pl(net, cursor, head, max_blocks=mb, tagged=tg, mc=mc or None, pending=pending)
                        tdesc = "" if tag is None else ", no tag answer" if tg is None else f", tag at {tg}"
                        c.add_grid(f"{net}: cursor {cname}, max_blocks {mb}{tdesc}, min_confirmations {mc}", i)
    c.add("unknown network", pl("solana", 1, 2), error="unknown_network")
    write("watch", "plan_poll",
          "The block range one poll searches (past the final cursor, up to the head, at most max_blocks past the "
          "cursor) and the entries to check (DESIGN §6).",
          c.valid, c.invalid, sources=(DESIGN_DETECTION, WATCH_RS))


# =============================================================================================
# The invoice model (DESIGN §5), shared by apply_poll, resolve_review and invoice_events
# =============================================================================================
def token_contract(network, token):
    for t in NETS[network]["tokens"]:
        if t["id"] == token:
            return t["contract"]
    raise Fail("unknown_token")


def token_by_contract(network, contract):
    for t in NETS[network]["tokens"]:
        if t["contract"].lower() == contract.lower():
            return t
    return None


def invoice(id, due, recipient=R1, created=1000, expires_in=900, monitoring=86400, network="devnet",
            token="usdt", tolerance=0, ledger=(), cancelled=False, marked=False, released=False,
            last_event=None, seq=0):
    return {"id": id, "network": network, "token": token, "recipient": recipient, "amount_due": str(due),
            "tolerance": str(tolerance), "created_at": str(created), "expires_at": str(created + expires_in),
            "monitor_until": str(created + expires_in + monitoring), "cancelled": cancelled,
            "marked_for_review": marked, "released": released, "ledger": list(ledger),
            "last_event": last_event, "event_seq": str(seq)}


def bh(n, fork=0):
    return "0x" + f"{n + 0xB0000 + fork * 0x1000000:064x}"


def entry(amount, n=1, status="seen", block=100, time=1100, matched_by="amount", review=False, log_index=0, fork=0):
    return {"tx_hash": txh(n), "log_index": str(log_index), "from": PAYER, "amount": str(amount),
            "block_number": str(block), "block_hash": bh(block, fork), "block_time": str(time), "status": status,
            "matched_by": matched_by, "review": review}


def transfer(amount, n=1, to=R1, token=USDT, time=1100, block=100, log_index=0, removed=False, fork=0):
    t = {"token": token, "from": PAYER, "to": to, "amount": str(amount), "tx_hash": txh(n),
         "log_index": str(log_index), "block_number": str(block), "block_hash": bh(block, fork), "removed": removed}
    if time is not None:
        t["block_time"] = str(time)
    return t


def paid_sum(inv, pred):
    return sum(int(e["amount"]) for e in inv["ledger"] if pred(e))


def status(inv, now):
    due, tol = int(inv["amount_due"]), int(inv["tolerance"])
    paid = paid_sum(inv, lambda e: e["status"] != "removed")
    final = paid_sum(inv, lambda e: e["status"] == "final")
    covered = lambda a: a + tol >= due
    is_open = now < int(inv["expires_at"]) and not inv["cancelled"]
    exception = None
    if paid == 0:
        removed = any(e["status"] == "removed" for e in inv["ledger"])
        state = "invalid" if removed or inv["cancelled"] else "new" if is_open else "expired"
    elif not covered(paid):
        state, exception = ("new" if is_open else "expired"), "paid_partial"
    else:
        state = "settled" if covered(final) else "processing"
        # paid late: the entry that completed the payment came after expiry
        total, late = 0, False
        for e in inv["ledger"]:
            if e["status"] == "removed":
                continue
            total += int(e["amount"])
            if covered(total):
                late = int(e["block_time"]) > int(inv["expires_at"])
                break
        exception = "paid_late" if late else "paid_over" if paid > due else None
    if inv["marked_for_review"] or (inv["cancelled"] and paid) or any(
            e["review"] and e["status"] != "removed" for e in inv["ledger"]):
        exception = "needs_review"
    return {"state": state, "exception": exception, "amount_paid": str(paid), "amount_final": str(final),
            "amount_remaining": "0" if covered(paid) else str(due - paid)}


def sync(inv, now):
    """DESIGN §5: each change once; needs_review announced once, nothing while in review; no
    `processing` (or `new`) after `settled` unless a review resolution is being announced."""
    s = status(inv, now)
    current = [s["state"], s["exception"]]
    last = inv["last_event"]
    if last == current:
        return None
    was_review = last is not None and last[1] == "needs_review"
    if s["exception"] == "needs_review":
        if was_review:
            inv["last_event"] = current
            return None
        kind = "needs_review"
    else:
        if last is not None and last[0] == "settled" and s["state"] in ("new", "processing") \
                and inv.get("resolution") is None:
            return None
        if was_review:
            kind = s["state"]
        elif last is not None and last[0] == s["state"] and s["exception"]:
            kind = s["exception"]
        else:
            kind = s["state"]
    inv["last_event"] = current
    seq = int(inv["event_seq"]) + 1
    inv["event_seq"] = str(seq)
    event = {"id": f"{inv['id']}:{seq}", "type": f"invoice.{kind}", "invoice": inv["id"], **s, "at": str(now)}
    if inv.get("resolution") is not None:
        event["resolution"] = inv.pop("resolution")
    return event


def find_entry(inv, tx, li):
    return next((e for e in inv["ledger"] if e["tx_hash"] == tx and e["log_index"] == li), None)


def credit(inv, t, matched_by, review):
    if t["to"].lower() != inv["recipient"].lower():
        raise Fail("wrong_recipient")
    if t["removed"]:
        raise Fail("invalid_log")
    if "block_time" not in t:
        raise Fail("missing_block_time")
    e = find_entry(inv, t["tx_hash"], t["log_index"])
    if e is not None:
        if e["status"] != "removed":
            return False
        e.update(block_number=t["block_number"], block_hash=t["block_hash"], block_time=t["block_time"], status="seen")
        return True
    inv["ledger"].append({"tx_hash": t["tx_hash"], "log_index": t["log_index"], "from": t["from"],
                          "amount": t["amount"], "block_number": t["block_number"], "block_hash": t["block_hash"],
                          "block_time": t["block_time"], "status": "seen", "matched_by": matched_by,
                          "review": review})
    return True


def expects(inv, amount):
    due, tol = int(inv["amount_due"]), int(inv["tolerance"])
    paid = paid_sum(inv, lambda e: e["status"] != "removed")
    if paid == 0:
        target = due
    elif due - paid > tol:
        target = due - paid
    else:
        return False  # paid in full: a later transfer of its amount is ambiguous (DESIGN §5)
    return amount <= target <= amount + tol


def in_window(inv, t):
    return t + CLOCK_SKEW >= int(inv["created_at"]) and t <= int(inv["monitor_until"])


def match(network, invoices, t):
    mine = [i for i in invoices if i["network"] == network]
    for i in mine:
        if find_entry(i, t["tx_hash"], t["log_index"]):
            return {"decision": "known", "invoice": i["id"]}
    if t["removed"]:
        return {"decision": "ignored", "reason": "invalid_log"}
    tok = token_by_contract(network, t["token"])
    if tok is None:
        return {"decision": "ignored", "reason": "wrong_token"}
    to_addr = [i for i in mine if i["token"] == tok["id"] and i["recipient"].lower() == t["to"].lower()]
    if not to_addr:
        return {"decision": "ignored", "reason": "wrong_recipient"}
    if "block_time" not in t:
        return {"decision": "ignored", "reason": "missing_block_time"}
    bt = int(t["block_time"])
    in_time = [i for i in to_addr if in_window(i, bt)]
    if not in_time:
        early = any(bt + CLOCK_SKEW < int(i["created_at"]) for i in to_addr)
        return {"decision": "ignored", "reason": "transfer_before_invoice" if early else "transfer_after_window"}
    cand = [i for i in in_time if expects(i, int(t["amount"]))]
    holders = [i for i in cand if not i["released"]]
    released = [i for i in cand if i["released"]]
    if not cand:
        return {"decision": "unmatched"}
    if len(holders) == 1:
        return {"decision": "credit", "invoice": holders[0]["id"], "review": bool(released)}
    if not holders and len(released) == 1:
        return {"decision": "credit", "invoice": released[0]["id"], "review": True}
    return {"decision": "ambiguous", "invoices": sorted(i["id"] for i in cand)}


# =============================================================================================
# watch / apply_poll
# =============================================================================================
def o_apply_poll(i):
    net = i["network"]
    if net not in NETS:
        raise Fail("unknown_network")
    p = i["poll"]
    now, head, cursor, searched_to = int(p["now"]), int(p["head"]), int(p["cursor"]), int(p["searched_to"])
    tagged = int(p["tagged"]) if p.get("tagged") is not None else None
    mc = int(p.get("min_confirmations", "0"))
    invoices = copy.deepcopy(p.get("invoices", []))
    for inv in invoices:
        token_contract(net, inv["token"])  # unknown_token for an invoice whose token is not on the network
    touched = [False] * len(invoices)
    ledger, seen = [], set()
    blocks = p.get("blocks", [])
    unmatched = {(k["tx_hash"], k["log_index"]) for k in p.get("unmatched", [])}
    final_now = lambda b: o_is_final_raw(net, b, head, tagged, mc)
    canonical = lambda t: any(b["number"] == t["block_number"] and b["hash"].lower() == t["block_hash"].lower()
                              for b in blocks)

    def update_of(inv, e):
        return {"op": "update",
                "transfer": {"token": token_contract(net, inv["token"]), "from": e["from"], "to": inv["recipient"],
                             "amount": e["amount"], "tx_hash": e["tx_hash"], "log_index": e["log_index"],
                             "block_number": e["block_number"], "block_hash": e["block_hash"], "removed": False,
                             "block_time": e["block_time"]},
                "invoice": inv["id"], "matched_by": e["matched_by"], "review": e["review"], "status": e["status"],
                "note": None}

    # Raw eth_getLogs objects: decoded by the first oracle; the block time from blockTimestamp or
    # the headers; a log whose time is unknown waits (the final cursor stays below its block); a
    # log that does not decode is no payment.
    unplaced, decoded = None, []
    for log in p.get("logs", []):
        try:
            t = log_oracle.o_decode_transfer_log(net, log)
        except log_oracle.Fail:
            continue
        if "block_time" not in t:
            t.update({"block_time": b["timestamp"] for b in blocks if b["number"] == t["block_number"]})
        if "block_time" not in t:
            if not t["removed"]:
                block = int(t["block_number"])
                unplaced = block if unplaced is None else min(unplaced, block)
            continue
        decoded.append(t)
    ts = sorted((t for t in list(p.get("transfers", [])) + decoded if not t["removed"]),
                key=lambda t: (int(t["block_number"]), int(t["log_index"])))
    for t in ts:
        key = (t["tx_hash"], t["log_index"])
        if key in seen or key in unmatched:
            continue  # restart: stored already (or twice in one answer)
        seen.add(key)
        if int(t["amount"]) == 0:
            continue  # address-poisoning spam pays nothing and is not kept
        settle = final_now(int(t["block_number"])) and canonical(t)
        owner = next((k for k, inv in enumerate(invoices) if find_entry(inv, *key)), None)
        if owner is not None:
            inv = invoices[owner]
            e = find_entry(inv, *key)
            if e["status"] == "removed":
                credit(inv, t, "amount", False)  # reorganised away, mined again: reinstated
                if settle:
                    e["status"] = "final"
                touched[owner] = True
                w = update_of(inv, e)
                w["transfer"]["token"] = t["token"]
                ledger.append(w)
            elif e["status"] == "seen" and (e["block_number"], e["block_hash"].lower()) != \
                    (t["block_number"], t["block_hash"].lower()):
                # Seen again in another block (a reorganisation before finality): the node's own
                # logs show it canonical there, so its stored block is stale, not gone. It moves
                # with it (LedgerOp::Update: "or block (seen again after a reorganisation)");
                # marking it removed would announce a spurious invoice.invalid.
                e.update(block_number=t["block_number"], block_hash=t["block_hash"], block_time=t["block_time"])
                if settle:
                    e["status"] = "final"
                touched[owner] = True
                ledger.append(update_of(inv, e))
            continue  # seen again in the rescan window, same block: no change
        d = match(net, invoices, t)
        if d["decision"] == "credit":
            k = next(k for k, inv in enumerate(invoices) if inv["id"] == d["invoice"])
            credit(invoices[k], t, "amount", d["review"])
            st = "final" if settle else "seen"
            find_entry(invoices[k], *key)["status"] = st
            touched[k] = True
            ledger.append({"op": "insert", "transfer": t, "invoice": d["invoice"], "matched_by": "amount",
                           "review": d["review"], "status": st, "note": None})
        else:
            note = ("ignored: " + d["reason"] if d["decision"] == "ignored" else
                    "ambiguous: " + ",".join(d["invoices"]) if d["decision"] == "ambiguous" else "unmatched")
            ledger.append({"op": "insert", "transfer": t, "invoice": None, "matched_by": None, "review": False,
                           "status": "final" if settle else "seen", "note": note})
    rewind = None
    for ch in p.get("checks", []):
        key = (ch["tx_hash"], ch["log_index"])
        owner = next((k for k, inv in enumerate(invoices) if find_entry(inv, *key)), None)
        if owner is None:
            continue
        inv = invoices[owner]
        e = find_entry(inv, *key)
        if e["status"] != "seen" or not final_now(int(e["block_number"])):
            continue
        b = ch["block"]
        if b is None or b["number"] != e["block_number"]:
            continue  # a node that lacks the block proves nothing: look again next poll
        if b["hash"].lower() == e["block_hash"].lower():
            e["status"] = "final"
        else:
            e["status"] = "removed"
            back = max(int(e["block_number"]) - 1, 0)
            rewind = back if rewind is None else min(rewind, back)
        touched[owner] = True
        ledger.append(update_of(inv, e))
    events = []
    for k, inv in enumerate(invoices):
        ev = sync(inv, now)
        if ev:
            events.append(ev)
            touched[k] = True
    # The final cursor moves to the last block searched that is final by now (a block searched
    # before it was final is searched again by later polls); never back, except before a replaced
    # block. Nothing is known final without the tag's answer on a tagged network: it stays.
    lf = last_final_block(net, head, tagged, mc)
    new_cursor = max(cursor, min(searched_to, cursor if lf is None else lf))
    backs = [x for x in (rewind, None if unplaced is None else max(unplaced - 1, 0)) if x is not None]
    if backs:
        new_cursor = min(new_cursor, min(backs))
    return {"invoices": [inv for k, inv in enumerate(invoices) if touched[k]], "ledger": ledger, "events": events,
            "cursor": str(new_cursor), "rewound": rewind is not None}


def raw_log(amount, n=1, to=R1, token=USDT, block=100, log_index=0, fork=0, time=None):
    """A Transfer log as eth_getLogs returns it (topics and data as 32-byte words)."""
    log = {"address": token.lower(), "topics": [log_oracle.TRANSFER_TOPIC, log_oracle.word(PAYER), log_oracle.word(to)],
           "data": "0x" + f"{amount:064x}", "transactionHash": txh(n), "logIndex": hex(log_index),
           "blockNumber": hex(block), "blockHash": bh(block, fork), "removed": False}
    if time is not None:
        log["blockTimestamp"] = hex(time)
    return log


def header(block, fork=0, time=None):
    return {"number": str(block), "hash": bh(block, fork), "timestamp": str(time if time is not None else 1000 + block)}


def build_apply_poll():
    c = Cases(o_apply_poll)
    D = 19_990_000
    NEW = ["new", None]

    def poll(now=1200, cursor=97, head=100, searched_to=100, transfers=(), blocks=(), checks=(), invoices=(),
             unmatched=(), tagged=None, mc=None, network="devnet", logs=None):
        p = {"now": str(now), "cursor": str(cursor), "head": str(head), "searched_to": str(searched_to),
             "transfers": list(transfers), "blocks": list(blocks), "checks": list(checks),
             "invoices": list(invoices), "unmatched": list(unmatched)}
        if logs is not None:
            p["logs"] = list(logs)
        if tagged is not None:
            p["tagged"] = str(tagged)
        if mc is not None:
            p["min_confirmations"] = str(mc)
        return {"network": network, "poll": p}

    def chk(n, block, fork=0, log_index=0, missing=False):
        return {"tx_hash": txh(n), "log_index": str(log_index), "block": None if missing else header(block, fork)}

    types = lambda o: [e["type"] for e in o["events"]]
    ops = lambda o: [(w["op"], w["status"], w["invoice"]) for w in o["ledger"]]
    inv_new = lambda **kw: invoice("inv_a", D, **{"last_event": NEW, "seq": 1, **kw})

    c.add("first sight of an exact payment: processing",
          poll(transfers=[transfer(D, block=100)], blocks=[header(100)], invoices=[inv_new()]),
          check=lambda o: types(o) == ["invoice.processing"] and ops(o) == [("insert", "seen", "inv_a")]
          and o["cursor"] == "98" and not o["rewound"])
    c.add("seen again before it is final: no change",
          poll(cursor=98, head=101, searched_to=101, transfers=[transfer(D, block=100)], blocks=[header(100)],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: o["ledger"] == [] and o["events"] == [] and o["invoices"] == [] and o["cursor"] == "99")
    c.add("already final at first sight: settles in the same poll",
          poll(cursor=95, head=110, searched_to=110, transfers=[transfer(D, block=100)], blocks=[header(100)],
               invoices=[inv_new()]),
          check=lambda o: types(o) == ["invoice.settled"] and ops(o) == [("insert", "final", "inv_a")]
          and o["cursor"] == "108")
    c.add("final at first sight but the node gave no header: processing, checked later",
          poll(cursor=95, head=110, searched_to=110, transfers=[transfer(D, block=100)], invoices=[inv_new()]),
          check=lambda o: types(o) == ["invoice.processing"])
    c.add("final at first sight but the header's hash differs: processing, checked later",
          poll(cursor=95, head=110, searched_to=110, transfers=[transfer(D, block=100)], blocks=[header(100, fork=1)],
               invoices=[inv_new()]), check=lambda o: types(o) == ["invoice.processing"])
    c.add("min_confirmations holds back a transfer the registry would settle, and the final cursor",
          poll(cursor=89, head=110, searched_to=110, mc=20, transfers=[transfer(D, block=100)], blocks=[header(100)],
               invoices=[inv_new()]), check=lambda o: types(o) == ["invoice.processing"] and o["cursor"] == "91")
    c.add("a checked entry whose block is canonical and final settles",
          poll(cursor=98, head=102, searched_to=102, checks=[chk(1, 100)],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: types(o) == ["invoice.settled"] and ops(o) == [("update", "final", "inv_a")]
          and o["cursor"] == "100")
    c.add("reorg: a checked entry whose block hash changed is removed and the cursor rewinds",
          poll(cursor=98, head=102, searched_to=102, checks=[chk(1, 100, fork=1)],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: types(o) == ["invoice.invalid"] and ops(o) == [("update", "removed", "inv_a")]
          and o["cursor"] == "99" and o["rewound"])
    c.add("reorg of two entries: the cursor rewinds before the lower block, below where it was",
          poll(cursor=101, head=105, searched_to=105, checks=[chk(2, 102, fork=1), chk(1, 100, fork=1)],
               invoices=[inv_new(ledger=[entry(D, n=1, block=100)], last_event=["processing", None], seq=2),
                         invoice("inv_b", 20_020_000, last_event=["processing", None], seq=2,
                                 ledger=[entry(20_020_000, n=2, block=102)])]),
          check=lambda o: o["cursor"] == "99" and types(o) == ["invoice.invalid", "invoice.invalid"])
    c.add("the same transfer re-mined after a reorg is reinstated in its new block",
          poll(cursor=99, head=102, searched_to=102, transfers=[transfer(D, block=101, time=1150)],
               blocks=[header(101)],
               invoices=[inv_new(ledger=[entry(D, block=100, status="removed")], last_event=["invalid", None], seq=3)]),
          check=lambda o: types(o) == ["invoice.processing"] and ops(o) == [("update", "seen", "inv_a")]
          and o["ledger"][0]["transfer"]["block_number"] == "101" and o["cursor"] == "100")
    c.add("re-mined deep enough: reinstated and final in the same poll",
          poll(cursor=99, head=110, searched_to=110, transfers=[transfer(D, block=101, time=1150)],
               blocks=[header(101)],
               invoices=[inv_new(ledger=[entry(D, block=100, status="removed")], last_event=["invalid", None], seq=3)]),
          check=lambda o: types(o) == ["invoice.settled"] and ops(o) == [("update", "final", "inv_a")]
          and o["cursor"] == "108")
    c.add("a replacement block at an already-scanned height holding a new payment is credited",
          poll(cursor=98, head=101, searched_to=101, transfers=[transfer(D, n=5, block=100, fork=1)],
               blocks=[header(100, fork=1)], invoices=[inv_new()]),
          check=lambda o: types(o) == ["invoice.processing"] and o["cursor"] == "99")
    # The last poll searched block 100 at head 100 (final cursor left at 98); block 100 was then
    # replaced by one paying inv_a, and the host polls again only at head 200: the plan starts past
    # the final cursor, the replacement block is searched, final already, and settles at once.
    c.add("a long gap between polls: a replacement block that became final meanwhile is searched and settles",
          poll(cursor=98, head=200, searched_to=200, transfers=[transfer(D, n=5, block=100, fork=1)],
               blocks=[header(100, fork=1)], invoices=[inv_new()]),
          check=lambda o: types(o) == ["invoice.settled"] and ops(o) == [("insert", "final", "inv_a")]
          and o["cursor"] == "198" and not o["rewound"])
    c.add("the final cursor advances only to the last final block searched",
          poll(cursor=90, head=100, searched_to=100), check=lambda o: o["cursor"] == "98")
    c.add("the final cursor advances to the end of the range when it is final (max_blocks bound)",
          poll(cursor=90, head=10_000, searched_to=1090), check=lambda o: o["cursor"] == "1090")
    c.add("a young chain where nothing is final keeps the cursor",
          poll(cursor=0, head=1, searched_to=1), check=lambda o: o["cursor"] == "0")
    c.add("tagged network: the final cursor advances to the tagged block when the depth is past it",
          poll(network="ethereum", cursor=20_000_000, head=20_000_100, searched_to=20_000_100, tagged=20_000_010),
          check=lambda o: o["cursor"] == "20000010")
    c.add("tagged network: the final cursor advances to the depth when the tag is past it",
          poll(network="ethereum", cursor=20_000_000, head=20_000_100, searched_to=20_000_100, tagged=20_000_090),
          check=lambda o: o["cursor"] == "20000037")
    c.add("tagged network: no tag answer keeps the final cursor",
          poll(network="ethereum", cursor=20_000_000, head=20_000_100, searched_to=20_000_100),
          check=lambda o: o["cursor"] == "20000000" and not o["rewound"])
    c.add("tagged network: a tag below the final cursor keeps it",
          poll(network="tron", cursor=70_000_000, head=70_000_050, searched_to=70_000_050, tagged=69_999_990),
          check=lambda o: o["cursor"] == "70000000")
    c.add("lagging node: no block at the entry's height, wait",
          poll(cursor=98, head=102, searched_to=102, checks=[chk(1, 100, missing=True)],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: o["ledger"] == [] and o["events"] == [] and not o["rewound"] and o["cursor"] == "100")
    c.add("lagging node: a header of another height proves nothing",
          poll(cursor=98, head=102, searched_to=102, checks=[{"tx_hash": txh(1), "log_index": "0",
                                                                "block": header(90, fork=1)}],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: o["ledger"] == [] and not o["rewound"])
    c.add("lagging node: searched less than planned moves the cursor only to the last block searched",
          poll(cursor=100, head=110, searched_to=105), check=lambda o: o["cursor"] == "105")
    c.add("lagging node: searched to above the last final block moves the cursor to that block",
          poll(cursor=100, head=110, searched_to=109), check=lambda o: o["cursor"] == "108")
    c.add("lagging node: a head below the final cursor keeps it",
          poll(cursor=150, head=120, searched_to=120), check=lambda o: o["cursor"] == "150")
    c.add("nothing searched keeps the cursor", poll(cursor=100, head=110, searched_to=90),
          check=lambda o: o["cursor"] == "100" and o == {"invoices": [], "ledger": [], "events": [], "cursor": "100",
                                                         "rewound": False})
    c.add("restart: unmatched keys already stored are not written again",
          poll(transfers=[transfer(5 * U, n=7)], blocks=[header(100)], invoices=[inv_new()],
               unmatched=[{"tx_hash": txh(7), "log_index": "0"}]), check=lambda o: o["ledger"] == [])
    c.add("restart: the same transfer twice in one answer is written once",
          poll(transfers=[transfer(5 * U, n=7), transfer(5 * U, n=7)], invoices=[inv_new()]),
          check=lambda o: len(o["ledger"]) == 1)
    # The same polls with the node's raw logs: the core decodes them (one crossing per poll).
    c.add("raw logs: an exact payment is decoded, timed by its header and credited",
          poll(logs=[raw_log(D, block=100)], blocks=[header(100)], invoices=[inv_new()]),
          check=lambda o: types(o) == ["invoice.processing"] and o["ledger"][0]["transfer"]["block_time"] == "1100")
    c.add("raw logs: blockTimestamp in the log is used without a header",
          poll(logs=[raw_log(D, block=100, time=1111)], invoices=[inv_new()]),
          check=lambda o: o["ledger"][0]["transfer"]["block_time"] == "1111")
    c.add("raw logs: a log whose block the node lost waits, and the final cursor stays below it",
          poll(cursor=90, logs=[raw_log(D, block=95)], invoices=[inv_new()]),
          check=lambda o: o["ledger"] == [] and o["cursor"] == "94" and not o["rewound"])
    c.add("raw logs: a log that does not decode is no payment and holds nothing back",
          poll(cursor=90, logs=[dict(raw_log(D, block=95), data="0x12")], blocks=[header(95)], invoices=[inv_new()]),
          check=lambda o: o["ledger"] == [] and o["cursor"] == "98")
    c.add("raw logs and decoded transfers of the same poll are taken together, once each",
          poll(logs=[raw_log(D, block=100)], transfers=[transfer(D, block=100, time=1100)], blocks=[header(100)],
               invoices=[inv_new()]),
          check=lambda o: len(o["ledger"]) == 1)
    c.add("zero-amount transfers are dropped",
          poll(transfers=[transfer(0, n=8)], invoices=[inv_new()]), check=lambda o: o["ledger"] == [])
    c.add("a fake token is ignored (kept with its reason, credits nothing)",
          poll(transfers=[transfer(D, token=FAKE)], invoices=[inv_new()]),
          check=lambda o: o["ledger"][0]["note"] == "ignored: wrong_token" and o["events"] == [])
    c.add("a removed log in the answer is skipped",
          poll(transfers=[transfer(D, removed=True)], invoices=[inv_new()]), check=lambda o: o["ledger"] == [])
    c.add("an amount no invoice expects is unmatched",
          poll(transfers=[transfer(D - 10_000)], invoices=[inv_new()]),
          check=lambda o: o["ledger"][0]["note"] == "unmatched" and o["ledger"][0]["invoice"] is None)
    c.add("a remainder equal to another invoice's amount is ambiguous",
          poll(transfers=[transfer(10 * U, n=8)],
               invoices=[invoice("inv_y", 10 * U, last_event=NEW, seq=1),
                         invoice("inv_x", 15 * U, last_event=["new", "paid_partial"], seq=2,
                                 ledger=[entry(5 * U, n=7)])]),
          check=lambda o: o["ledger"][0]["note"] == "ambiguous: inv_x,inv_y")
    c.add("expiry events for watched invoices",
          poll(now=1900, invoices=[inv_new(), invoice("inv_b", 20_020_000, last_event=NEW, seq=1, created=1500)]),
          check=lambda o: types(o) == ["invoice.expired"] and [i["id"] for i in o["invoices"]] == ["inv_a"])
    c.add("settled invoice and a transfer of the same amount: unmatched",
          poll(transfers=[transfer(D, n=9, block=100)],
               invoices=[inv_new(ledger=[entry(D, n=1, block=50, status="final")], last_event=["settled", None],
                                 seq=3)]),
          check=lambda o: o["ledger"][0]["note"] == "unmatched" and o["events"] == [])
    c.add("a released reservation's amount credits the new holder for review",
          poll(now=1600, transfers=[transfer(D, n=3, time=1600)],
               invoices=[invoice("inv_old", D, created=0, released=True, last_event=["expired", None], seq=2),
                         invoice("inv_new", D, created=1500, last_event=NEW, seq=1)]),
          check=lambda o: types(o) == ["invoice.needs_review"] and o["ledger"][0]["review"] is True)
    c.add("a short payment is unmatched, kept for a claim",
          poll(transfers=[transfer(4 * U, n=1, block=99)], invoices=[invoice("inv_p", 10 * U, last_event=NEW, seq=1)]),
          check=lambda o: o["ledger"][0]["note"] == "unmatched" and o["events"] == [])
    c.add("the remainder after a partial payment credits it",
          poll(transfers=[transfer(6 * U, n=2, log_index=1, block=100)],
               invoices=[invoice("inv_p", 10 * U, last_event=["new", "paid_partial"], seq=2,
                                 ledger=[entry(4 * U, n=1, block=90, status="final", matched_by="claim")])]),
          check=lambda o: types(o) == ["invoice.processing"] and ops(o) == [("insert", "seen", "inv_p")])
    c.add("two invoices paid in one poll, in block order",
          poll(transfers=[transfer(20_020_000, n=2, block=100), transfer(D, n=1, block=99)],
               invoices=[inv_new(), invoice("inv_b", 20_020_000, last_event=NEW, seq=1)]),
          check=lambda o: [w["invoice"] for w in o["ledger"]] == ["inv_a", "inv_b"]
          and types(o) == ["invoice.processing", "invoice.processing"])
    c.add("a late payment inside the monitoring window",
          poll(now=5000, transfers=[transfer(D, time=4990)],
               invoices=[inv_new(last_event=["expired", None], seq=2)]),
          check=lambda o: o["events"][0]["exception"] == "paid_late")
    c.add("a payment to a cancelled invoice goes to review",
          poll(transfers=[transfer(D)], invoices=[inv_new(cancelled=True, last_event=["invalid", None], seq=2)]),
          check=lambda o: types(o) == ["invoice.needs_review"])
    c.add("tagged network: settles once the tag covers the block",
          poll(network="bsc", cursor=999, head=1002, searched_to=1002, tagged=1000, checks=[chk(1, 1000)],
               invoices=[invoice("inv_b", 19_990_000 * 10**12, network="bsc",
                                 last_event=["processing", None], seq=2,
                                 ledger=[entry(19_990_000 * 10**12, block=1000)])]),
          check=lambda o: types(o) == ["invoice.settled"] and o["cursor"] == "1000")
    c.add("tagged network: not checked before the tag reaches the block",
          poll(network="bsc", cursor=998, head=1002, searched_to=1002, tagged=999, checks=[chk(1, 1000)],
               invoices=[invoice("inv_b", 19_990_000 * 10**12, network="bsc",
                                 last_event=["processing", None], seq=2,
                                 ledger=[entry(19_990_000 * 10**12, block=1000)])]),
          check=lambda o: o["ledger"] == [] and o["cursor"] == "999")
    c.add("a check of an entry already final changes nothing",
          poll(cursor=108, head=110, searched_to=110, checks=[chk(1, 100)],
               invoices=[inv_new(ledger=[entry(D, block=100, status="final")], last_event=["settled", None], seq=3)]),
          check=lambda o: o["ledger"] == [] and o["cursor"] == "108")
    c.add("a check of an entry no invoice holds is skipped",
          poll(cursor=108, head=110, searched_to=110, checks=[chk(4, 100)], invoices=[inv_new()]),
          check=lambda o: o["ledger"] == [])
    # The node's own rescan shows a stored transfer in another block before its old block was
    # checked: it moved (a reorganisation before finality), it is not gone.
    c.add("a transfer seen again in a replacement block at the same height moves with it and settles",
          poll(cursor=99, head=102, searched_to=102, transfers=[transfer(D, block=100, fork=1)],
               blocks=[header(100, fork=1)], checks=[chk(1, 100, fork=1)],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: types(o) == ["invoice.settled"] and not o["rewound"]
          and ops(o) == [("update", "final", "inv_a")] and o["cursor"] == "100")
    c.add("a transfer seen again in a later block moves with it, no invalid in between",
          poll(cursor=99, head=102, searched_to=102, transfers=[transfer(D, block=101, time=1150, fork=1)],
               blocks=[header(101, fork=1)], checks=[chk(1, 100, fork=1)],
               invoices=[inv_new(ledger=[entry(D, block=100)], last_event=["processing", None], seq=2)]),
          check=lambda o: o["events"] == [] and not o["rewound"] and ops(o) == [("update", "seen", "inv_a")]
          and o["ledger"][0]["transfer"]["block_number"] == "101" and o["cursor"] == "100")
    c.add("invoice token not on the network", poll(invoices=[invoice("x", D, token="usdt0")]), error="unknown_token")
    c.add("unknown network", poll(network="solana"), error="unknown_network")
    write("watch", "apply_poll",
          "One watcher poll applied: new transfers matched and credited, reorganised ones reinstated, checked "
          "entries settled or removed, expiry, the next cursor (DESIGN §5, §6).", c.valid, c.invalid,
          sources=(DESIGN_MATCHING, DESIGN_DETECTION, WATCH_RS))


# =============================================================================================
# rates / read_rate
# =============================================================================================
NOT_JSON = object()


def positive_decimal(text):
    whole, dot, frac = text.partition(".")
    digits = lambda s: s != "" and all("0" <= ch <= "9" for ch in s)
    return digits(whole) and (not dot or digits(frac)) and any("1" <= ch <= "9" for ch in text)


def o_read_rate(i):
    try:
        # numbers keep their literal text: no float ever touches a rate
        value = json.loads(i["json"], parse_int=lambda s: ("num", s), parse_float=lambda s: ("num", s),
                           parse_constant=lambda s: ("num", s))
    except (json.JSONDecodeError, RecursionError):
        raise Fail("invalid_rate")
    for part in i["path"].split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and part.isascii() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise Fail("invalid_rate")
    if isinstance(value, tuple):
        literal = value[1]
    elif isinstance(value, str):
        literal = value.strip()
    else:
        raise Fail("invalid_rate")
    if not positive_decimal(literal):
        raise Fail("invalid_rate")
    if not i.get("invert", False):
        return literal
    whole, _, frac = literal.partition(".")
    frac = frac.rstrip("0")
    mantissa = int(whole + frac)
    # the documented limit of rate.rs: the price's digits and 10^(fraction + 18) fit 128 bits
    if mantissa > U128_MAX or len(frac) + 18 > 38:
        raise Fail("invalid_rate")
    units = 10 ** (len(frac) + 18) // mantissa  # exact inverse, truncated to 18 fractional digits
    if units == 0:
        raise Fail("invalid_rate")
    ip, fp = divmod(units, 10**18)
    fp = f"{fp:018d}".rstrip("0")
    return f"{ip}.{fp}" if fp else str(ip)


def build_read_rate():
    c = Cases(o_read_rate)
    rr = lambda j, path, invert=None: {"json": j, "path": path, **({} if invert is None else {"invert": invert})}
    c.add("a literal number is kept exactly, beyond a float's precision",
          rr('{"data":{"rate":0.30000000000000000001}}', "data.rate"), check=lambda o: o == "0.30000000000000000001")
    c.add("the documented inverse example", rr('{"price":"7.25"}', "price", True),
          check=lambda o: o == "0.13793103448275862")
    c.add("invert false is the default", rr('{"price":"7.25"}', "price", False), check=lambda o: o == "7.25")
    literals = ["1", "7.25", "0.1", "0.000001", "1.0", "1.50", "100", "0.138", "6.9123456789", "123456789.123456789",
                "0.30000000000000000001", "99999999999999999999999999999", "0.000000000000000000000001", "1.000000"]
    for lit in literals:
        c.add(f"number {lit} at the top level", rr(f'{{"rate":{lit}}}', "rate"), check=lambda o, lit=lit: o == lit)
        c.add(f"string \"{lit}\" at the top level", rr(f'{{"rate":"{lit}"}}', "rate"))
        c.add(f"number {lit} inverted", rr(f'{{"rate":{lit}}}', "rate", True),
              error=None if lit not in ("99999999999999999999999999999", "0.000000000000000000000001") else "invalid_rate")
    c.add("a string is trimmed", rr('{"rate":"  7.25 "}', "rate"), check=lambda o: o == "7.25")
    c.add("a string with leading zeros is kept as written", rr('{"rate":"07.25"}', "rate"), check=lambda o: o == "07.25")
    c.add("nested objects", rr('{"a":{"b":{"c":{"d":"1.5"}}}}', "a.b.c.d"))
    c.add("an array index", rr('{"rates":[{"v":1},{"v":2.5}]}', "rates.1.v"), check=lambda o: o == "2.5")
    c.add("an index at the top level", rr('[3.5, 4.5]', "1"), check=lambda o: o == "4.5")
    c.add("a numeric key of an object is a key", rr('{"7":{"x":"0.5"}}', "7.x"))
    c.add("keys with spaces and symbols", rr('{"USD/USDT":{"mid price":"1.0001"}}', "USD/USDT.mid price"))
    c.add("a CoinGecko-style answer", rr('{"tether":{"cny":7.25,"eur":0.92}}', "tether.cny", True))
    c.add("a Binance-style answer", rr('{"symbol":"USDTTRY","price":"34.12000000"}', "price", True),
          check=lambda o: o == "0.029308323563892145")
    c.add("other fields may be anything", rr('{"ok":true,"list":[null,{"x":[]}],"rate":"2"}', "rate"))
    c.add("an inverse with a whole part", rr('{"p":"0.5"}', "p", True), check=lambda o: o == "2")
    c.add("an inverse truncated to 18 digits", rr('{"p":"3"}', "p", True), check=lambda o: o == "0.333333333333333333")
    c.add("an inverse of one base unit of 18 digits", rr('{"p":"1000000000000000000"}', "p", True),
          check=lambda o: o == "0.000000000000000001")
    for p in ("1.1", "1.23", "9", "13", "0.07", "0.0123", "149.5", "7.2534", "1234.5678", "0.99999"):
        c.add(f"inverting {p}", rr(f'{{"p":{p}}}', "p", True))
        c.add(f"inverting the string {p} nested", rr(f'{{"a":[{{"p":"{p}"}}]}}', "a.0.p", True))
    bad = [
        ("not JSON", rr("<html>rate limited</html>", "rate")),
        ("an empty answer", rr("", "rate")),
        ("truncated JSON", rr('{"rate":7.2', "rate")),
        ("JSON with trailing garbage", rr('{"rate":7.25} x', "rate")),
        ("nothing at the path", rr('{"rate":7.25}', "price")),
        ("a path through a number", rr('{"rate":7.25}', "rate.x")),
        ("an index past the end", rr('{"r":[1]}', "r.1")),
        ("a key into an array", rr('{"r":[1]}', "r.x")),
        ("an index into an object whose key is absent", rr('{"r":{"a":1}}', "r.0")),
        ("keys are case-sensitive", rr('{"Rate":7.25}', "rate")),
        ("a negative number", rr('{"rate":-7.25}', "rate")),
        ("a negative string", rr('{"rate":"-7.25"}', "rate")),
        ("an exponent", rr('{"rate":7.25e0}', "rate")),
        ("an upper-case exponent", rr('{"rate":1E2}', "rate")),
        ("an exponent in a string", rr('{"rate":"7.25e0"}', "rate")),
        ("zero", rr('{"rate":0}', "rate")),
        ("zero with a fraction", rr('{"rate":"0.000"}', "rate")),
        ("negative zero", rr('{"rate":-0}', "rate")),
        ("null", rr('{"rate":null}', "rate")),
        ("a boolean", rr('{"rate":true}', "rate")),
        ("an object", rr('{"rate":{"v":1}}', "rate")),
        ("an array", rr('{"rate":[1]}', "rate")),
        ("an empty string", rr('{"rate":""}', "rate")),
        ("a string with a thousands separator", rr('{"rate":"1,000.5"}', "rate")),
        ("a string with a leading point", rr('{"rate":".5"}', "rate")),
        ("a string with a trailing point", rr('{"rate":"5."}', "rate")),
        ("a string with a plus sign", rr('{"rate":"+5"}', "rate")),
        ("a string with a currency", rr('{"rate":"7.25 CNY"}', "rate")),
        ("a string NaN", rr('{"rate":"NaN"}', "rate")),
        ("a string Infinity", rr('{"rate":"Infinity"}', "rate")),
        ("too large to invert (inverse below 18 digits)", rr('{"p":"1000000000000000001"}', "p", True)),
        ("too large to invert (a huge price)", rr('{"p":123456789012345678901234567890}', "p", True)),
        ("zero inverted", rr('{"p":"0"}', "p", True)),
        ("an exponent inverted", rr('{"p":1e3}', "p", True)),
    ]
    for d, i in bad:
        c.add(d, i, error="invalid_rate")
    write("rates", "read_rate",
          "The rate at a path of a rate source's JSON answer, as its literal decimal text; with invert, the exact "
          "inverse of a price, truncated to 18 fractional digits (DESIGN §3).", c.valid, c.invalid,
          sources=(DESIGN_MONEY, RATE_RS))


# =============================================================================================
# status / status_before_choice
# =============================================================================================
def rfc3339(unix):
    import datetime
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_units(text, decimals):
    whole, dot, frac = text.partition(".")
    ok = whole != "" and whole.isascii() and whole.isdigit() and (not dot or (frac.isascii() and frac.isdigit()))
    if not ok:
        raise Fail("invalid_amount")
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        raise Fail("too_many_decimals")
    v = int(whole) * 10**decimals + int((frac or "0").ljust(decimals, "0"))
    if v > U128_MAX:
        raise Fail("amount_overflow")
    return v


def canonical(units, decimals):
    ip, fp = divmod(units, 10**decimals)
    fp = f"{fp:0{decimals}d}".rstrip("0") if decimals else ""
    return f"{ip}.{fp}" if fp else str(ip)


def o_before_choice(i):
    o, ctx = i["open"], i["context"]
    now = int(ctx["now"])
    state = "expired" if o["state"] == "new" and now >= int(o["expires_at"]) else o["state"]
    payable = state == "new"
    choices = []
    amount_text = o["base_amount"]
    if payable:
        for k in o["accepted"]:
            if k["network"] not in NETS:
                raise Fail("unknown_network")
            net = NETS[k["network"]]
            tok = next((t for t in net["tokens"] if t["id"] == k["token"]), None)
            if tok is None:
                raise Fail("unknown_token")
            units = to_units(o["base_amount"], tok["decimals"])
            choices.append({"network": net["id"], "token": tok["id"], "names": net["names"], "symbol": tok["symbol"],
                            "amount": canonical(units, tok["decimals"])})
    # the amount is shown canonical (status.schema.json): the widest decimals read it exactly
    amount_due = canonical(to_units(amount_text, 36), 36)
    links = dict(ctx["links"])
    if not payable:
        links["choose"] = None
        links["claim"] = None
    # paid through a hosted provider (issue 16): counted as a direct payment's transfers are
    paid = o.get("provider_paid")
    if paid is not None:
        # base units of the providers' 6-decimal USDT
        if not (paid.isascii() and paid.isdigit()) or int(paid) > U128_MAX:
            raise Fail("invalid_amount")
        paid_units = int(paid) * 10**12
        amount_paid = canonical(paid_units, 18)
        amount_remaining = canonical(max(to_units(amount_text, 18) - paid_units, 0), 18)
    else:
        amount_paid, amount_remaining = "0", (amount_due if payable else "0")
    return {"invoice": o["invoice"], "state": state, "exception": o.get("exception"), "network": None, "network_names": None,
            "chain_id": None, "token": None, "recipient": None, "amount_due": amount_due, "amount_paid": amount_paid,
            "amount_remaining": amount_remaining, "payment_uri": None, "expires_at": rfc3339(int(o["expires_at"])),
            "finality": None, "transfers": [], "choices": choices, "return_url": ctx.get("return_url"),
            "poll_after_ms": int(ctx["poll_after_ms"]) if payable else 0, "links": links,
            # passed through when the host gives it (status.rs OrderTotal), absent otherwise
            **({"order_total": ctx["order_total"]} if ctx.get("order_total") is not None else {})}


def build_status_before_choice():
    c = Cases(o_before_choice)
    T0 = 1_795_608_900
    LINKS = {"choose": "https://shop.example/stablegate/inv_c/choose", "claim": "https://shop.example/stablegate/inv_c/claim",
             "events": None, "new_invoice": None}
    key = lambda n, t: {"network": n, "token": t}
    ALL = [key(n["id"], t["id"]) for n in REGISTRY["networks"] for t in n["tokens"]]

    def bc(accepted, amount="19.99", state="new", now=T0 + 10, expires=T0 + 900, return_url="https://shop.example/order/7",
           poll="3000", links=LINKS, mc=None, total=None, provider_paid=None, exception=None):
        ctx = {"now": str(now), "poll_after_ms": poll, "links": links}
        if total is not None:
            ctx["order_total"] = total
        if return_url is not None:
            ctx["return_url"] = return_url
        if mc is not None:
            ctx["min_confirmations"] = mc
        open_ = {"invoice": "inv_c", "state": state, "base_amount": amount, "expires_at": str(expires), "accepted": accepted}
        if provider_paid is not None:
            open_["provider_paid"] = provider_paid
        if exception is not None:
            open_["exception"] = exception
        return {"open": open_, "context": ctx}

    c.add("one choice", bc([key("tron", "usdt")]), check=lambda o: len(o["choices"]) == 1 and o["poll_after_ms"] == 3000)
    c.add("every registry choice, in the merchant's order", bc(ALL), check=lambda o: len(o["choices"]) == len(ALL))
    c.add("the merchant's order is kept", bc(list(reversed(ALL[:4]))))
    c.add("18-decimal tokens show the same amount", bc([key("bsc", "usdt"), key("devnet", "usdt18")]))
    c.add("a whole amount", bc([key("ethereum", "usdt")], amount="20"))
    c.add("a non-canonical amount is shown canonical", bc([key("ethereum", "usdt")], amount="19.90"),
          check=lambda o: o["amount_due"] == "19.9" and o["choices"][0]["amount"] == "19.9")
    c.add("no choices accepted", bc([]))
    c.add("one second before expiry it is still new", bc([key("tron", "usdt")], now=T0 + 899))
    c.add("at expiry it is expired: no choices, no polling", bc([key("tron", "usdt")], now=T0 + 900),
          check=lambda o: o["state"] == "expired" and o["choices"] == [] and o["links"]["choose"] is None)
    c.add("a cancelled invoice stays invalid", bc([key("tron", "usdt")], state="invalid"),
          check=lambda o: o["state"] == "invalid" and o["amount_remaining"] == "0")
    c.add("a stored expired state is kept", bc([key("tron", "usdt")], state="expired", now=T0))
    c.add("no return URL", bc([key("polygon", "usdt0")], return_url=None))
    c.add("the order total the shop priced is shown beside the choices",
          bc([key("tron", "usdt")], total={"amount": "19.99", "currency": "USD"}),
          check=lambda o: o["order_total"] == {"amount": "19.99", "currency": "USD"})
    c.add("other links are kept when not payable", bc([key("tron", "usdt")], state="invalid",
                                                       links=dict(LINKS, events="https://e", new_invoice="https://n")))
    c.add("min_confirmations changes nothing before a choice", bc([key("tron", "usdt")], mc="30"))
    # Paid through a hosted provider (issue 16): the same amounts as a direct payment's document.
    c.add("settled through a provider: paid in full, nothing remaining",
          bc([key("tron", "usdt")], state="settled", provider_paid="19990000"),
          check=lambda o: o["amount_paid"] == "19.99" and o["amount_remaining"] == "0" and o["choices"] == [])
    c.add("settled through a provider with more than due: nothing remaining",
          bc([key("tron", "usdt")], state="settled", provider_paid="20500000"),
          check=lambda o: o["amount_paid"] == "20.5" and o["amount_remaining"] == "0")
    c.add("settled through a provider after expiry: paid_late",
          bc([key("tron", "usdt")], state="settled", provider_paid="19990000", exception="paid_late", now=T0 + 1000),
          check=lambda o: o["state"] == "settled" and o["exception"] == "paid_late")
    c.add("a provider paid less: review, the rest remaining",
          bc([key("tron", "usdt")], state="processing", provider_paid="10000000", exception="needs_review"),
          check=lambda o: o["amount_paid"] == "10" and o["amount_remaining"] == "9.99" and o["exception"] == "needs_review")
    c.add("a provider's paid amount that is not base units", bc([key("tron", "usdt")], state="settled", provider_paid="19.99"),
          error="invalid_amount")
    for k in ALL:
        c.add(f"the choice {k['network']}/{k['token']}", bc([k], amount="123.456"))
    c.add("too many decimals for a 6-decimal token", bc([key("tron", "usdt")], amount="19.9999999"),
          error="too_many_decimals")
    c.add("an unknown network", bc([key("solana", "usdt")]), error="unknown_network")
    c.add("an unknown token", bc([key("tron", "usdc")]), error="unknown_token")
    write("status", "status_before_choice",
          "The status document of an invoice whose network the customer has not picked yet (DESIGN §8).",
          c.valid, c.invalid, sources=(DESIGN_STATUS,))


# =============================================================================================
# state / resolve_review
# =============================================================================================
def resolve(inv, accept, note, now):
    if status(inv, now)["exception"] != "needs_review":
        raise Fail("not_in_review")
    returned = []
    if accept:
        for e in inv["ledger"]:
            e["review"] = False
        inv["cancelled"] = False
    else:
        cancelled = inv["cancelled"]
        keep = []
        for e in inv["ledger"]:
            (returned if e["status"] != "removed" and (e["review"] or cancelled) else keep).append(e)
        inv["ledger"] = keep
    inv["marked_for_review"] = False
    inv["resolution"] = {"outcome": "accepted" if accept else "rejected", "note": note}
    return returned


def o_resolve_review(i):
    inv = copy.deepcopy(i["invoice"])
    now = int(i["now"])
    returned = resolve(inv, i.get("accept", False), i["note"], now)
    event = sync(inv, now)
    inv.pop("resolution", None)
    return {"returned": returned, "invoice": inv, "event": event}


def build_resolve_review():
    c = Cases(o_resolve_review)
    D = 10 * U
    REV = ["settled", "needs_review"]
    rv = lambda inv, accept, note="checked the bank statement", now=1500: {"invoice": inv, "accept": accept,
                                                                            "note": note, "now": str(now)}
    claimed = lambda **kw: invoice("inv", D, last_event=REV, seq=3, ledger=[
        entry(D, n=1, status="final", matched_by="claim", review=True)], **kw)
    c.add("accepting a claimed payment settles it with the note",
          rv(claimed(), True), check=lambda o: o["event"]["type"] == "invoice.settled"
          and o["event"]["resolution"] == {"outcome": "accepted", "note": "checked the bank statement"}
          and o["returned"] == [])
    c.add("rejecting a claimed payment returns it and reopens the invoice",
          rv(claimed(), False, "not this customer"), check=lambda o: o["event"]["type"] == "invoice.new"
          and len(o["returned"]) == 1 and o["invoice"]["ledger"] == [])
    c.add("rejecting after expiry leaves it expired", rv(claimed(), False, now=5000),
          check=lambda o: o["event"]["type"] == "invoice.expired")
    c.add("accepting a processing review announces processing",
          rv(invoice("inv", D, last_event=["processing", "needs_review"], seq=2,
                     ledger=[entry(D, n=1, matched_by="claim", review=True)]), True),
          check=lambda o: o["event"]["type"] == "invoice.processing")
    c.add("rejecting keeps the plain payments and returns only the reviewed one",
          rv(invoice("inv", D, last_event=REV, seq=4, ledger=[
              entry(D, n=1, status="final"), entry(3 * U, n=2, status="final", matched_by="claim", review=True)]),
             False), check=lambda o: o["event"]["type"] == "invoice.settled" and len(o["returned"]) == 1)
    c.add("accepting an overpaying claim announces settled with paid over",
          rv(invoice("inv", D, last_event=REV, seq=4, ledger=[
              entry(D, n=1, status="final"), entry(3 * U, n=2, status="final", matched_by="claim", review=True)]),
             True), check=lambda o: o["event"]["exception"] == "paid_over")
    c.add("accepting a payment to a cancelled invoice revives it",
          rv(invoice("inv", D, cancelled=True, last_event=REV, seq=3, ledger=[entry(D, status="final")]), True),
          check=lambda o: o["invoice"]["cancelled"] is False and o["event"]["type"] == "invoice.settled")
    c.add("rejecting a payment to a cancelled invoice returns every payment",
          rv(invoice("inv", D, cancelled=True, last_event=REV, seq=3,
                     ledger=[entry(D, n=1, status="final"), entry(1, n=2, status="removed")]), False),
          check=lambda o: o["event"]["type"] == "invoice.invalid" and len(o["returned"]) == 1)
    c.add("a merchant's mark is cleared by accepting",
          rv(invoice("inv", D, marked=True, last_event=["new", "needs_review"], seq=2), True),
          check=lambda o: o["event"]["type"] == "invoice.new" and o["invoice"]["marked_for_review"] is False)
    c.add("a merchant's mark is cleared by rejecting, returning nothing",
          rv(invoice("inv", D, marked=True, last_event=["new", "needs_review"], seq=2), False),
          check=lambda o: o["returned"] == [])
    c.add("a removed reviewed entry is not returned",
          rv(invoice("inv", D, marked=True, last_event=["invalid", "needs_review"], seq=2,
                     ledger=[entry(D, status="removed", review=True)]), False),
          check=lambda o: o["returned"] == [] and len(o["invoice"]["ledger"]) == 1)
    c.add("an empty note is kept", rv(claimed(), True, note=""))
    c.add("a note in any language is kept verbatim", rv(claimed(), True, note="已核对 ✓ \"ok\""))
    c.add("a released invoice credited for review, accepted",
          rv(invoice("inv", D, released=True, last_event=["processing", "needs_review"], seq=3,
                     ledger=[entry(D, review=True)]), True))
    c.add("not in review: a plain settled invoice", rv(invoice("inv", D, last_event=["settled", None], seq=3,
                                                               ledger=[entry(D, status="final")]), True),
          error="not_in_review")
    c.add("not in review: a new invoice", rv(invoice("inv", D, last_event=["new", None], seq=1), False),
          error="not_in_review")
    c.add("not in review any more: its only reviewed entry was reorganised away",
          rv(invoice("inv", D, last_event=REV, seq=3, ledger=[entry(D, status="removed", review=True)]), True),
          error="not_in_review")
    write("state", "resolve_review",
          "The merchant resolves an invoice in needs_review: accept (its payments) or reject (the reviewed "
          "transfers go back to the unmatched list); the next event carries the note (DESIGN §5).",
          c.valid, c.invalid, sources=(DESIGN_MATCHING,))


# =============================================================================================
# state / invoice_events: needs_review announcements (added to the file generate_invoices.py writes)
# =============================================================================================
def o_invoice_events(i):
    inv = copy.deepcopy(i["invoice"])
    events = []
    for step in i["steps"]:
        now = int(step["now"])
        a = step["action"]
        if a == "credit":
            credit(inv, step["transfer"], step["matched_by"], step.get("review", False))
        elif a == "set_status":
            e = find_entry(inv, step["tx_hash"], step["log_index"])
            if e:
                e["status"] = step["status"]
        elif a == "resolve":
            resolve(inv, step.get("accept", False), step["note"], now)
        ev = sync(inv, now)
        if ev:
            events.append(ev)
    return events


def review_event_cases():
    D = 10 * U
    c = Cases(o_invoice_events)
    sy = lambda now: {"now": str(now), "action": "sync"}
    cr = lambda now, t, matched_by="amount", review=False: {"now": str(now), "action": "credit", "transfer": t,
                                                            "matched_by": matched_by, "review": review}
    mark = lambda now, n, st: {"now": str(now), "action": "set_status", "tx_hash": txh(n), "log_index": "0",
                               "status": st}
    rs = lambda now, accept, note: {"now": str(now), "action": "resolve", "accept": accept, "note": note}
    e = lambda steps, **kw: {"invoice": invoice("inv", D, **kw), "steps": steps}
    types = lambda o: [x["type"] for x in o]
    c.add("review: a claim for review is announced once as needs_review, nothing while in review",
          e([sy(1000), cr(1100, transfer(D), "claim", True), mark(1200, 1, "final"), sy(1300)]),
          check=lambda o: types(o) == ["invoice.new", "invoice.needs_review"])
    c.add("review: accepted, announced as settled with the note",
          e([sy(1000), cr(1100, transfer(D), "claim", True), mark(1200, 1, "final"), rs(1300, True, "paid by card holder")]),
          check=lambda o: types(o) == ["invoice.new", "invoice.needs_review", "invoice.settled"]
          and o[-1]["resolution"] == {"outcome": "accepted", "note": "paid by card holder"})
    c.add("review: rejected, the invoice is new again with the note",
          e([sy(1000), cr(1100, transfer(D), "claim", True), rs(1300, False, "another customer's payment")]),
          check=lambda o: types(o) == ["invoice.new", "invoice.needs_review", "invoice.new"]
          and o[-1]["resolution"]["outcome"] == "rejected")
    c.add("review: accepted while processing, then settled plainly",
          e([sy(1000), cr(1100, transfer(D), "claim", True), rs(1150, True, "ok"), mark(1200, 1, "final")]),
          check=lambda o: types(o) == ["invoice.new", "invoice.needs_review", "invoice.processing", "invoice.settled"])
    c.add("review: a payment to a cancelled invoice is announced as needs_review, not processing",
          e([sy(1000), cr(1100, transfer(D)), mark(1200, 1, "final")], cancelled=True),
          check=lambda o: types(o) == ["invoice.invalid", "invoice.needs_review"])
    c.add("review: a released invoice credited for review, settled by acceptance only",
          e([sy(1000), sy(1900), cr(2000, transfer(D, time=1990), review=True), mark(2100, 1, "final"),
             rs(2200, True, "same customer")], released=True),
          check=lambda o: types(o) == ["invoice.new", "invoice.expired", "invoice.needs_review", "invoice.settled"])
    c.add("review: no processing after settled when a later entry is reorganised",
          e([sy(1000), cr(1100, transfer(D, n=1)), mark(1200, 1, "final"), cr(1300, transfer(D, n=2, time=1290)),
             mark(1400, 1, "removed")]),
          check=lambda o: types(o) == ["invoice.new", "invoice.processing", "invoice.settled", "invoice.paid_over"])
    c.add("review: a merchant's mark on a settled invoice, then acceptance",
          e([sy(1000), cr(1100, transfer(D)), mark(1200, 1, "final"), rs(1300, True, "fine")],
            marked=True),
          check=lambda o: types(o) == ["invoice.needs_review", "invoice.settled"])
    c.add("review: rejecting one of two payments leaves the plain one settled",
          e([sy(1000), cr(1100, transfer(D, n=1)), mark(1150, 1, "final"),
             cr(1200, transfer(3 * U, n=2, time=1190), "claim", True), rs(1300, False, "not ours")]),
          check=lambda o: types(o) == ["invoice.new", "invoice.processing", "invoice.settled",
                                       "invoice.needs_review", "invoice.settled"])
    c.add("review: the reviewed entry reorganised away ends the review",
          e([sy(1000), cr(1100, transfer(D), "claim", True), mark(1200, 1, "removed")]),
          check=lambda o: types(o) == ["invoice.new", "invoice.needs_review", "invoice.invalid"])
    return c.valid


def add_review_events():
    """Appends the needs_review cases to state/invoice_events.json (written by generate_invoices.py,
    which must run first); running this twice leaves the file as after once."""
    path = VECTORS / "state" / "invoice_events.json"
    doc = json.loads(path.read_text())
    doc["valid"] = [c for c in doc["valid"] if not c["description"].startswith("review: ")] + review_event_cases()
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"state/invoice_events.json: {len(doc['valid'])} valid (with the review cases)")


def main():
    build_allocate_in_pool()
    build_is_final()
    build_plan_poll()
    build_apply_poll()
    build_read_rate()
    build_status_before_choice()
    build_resolve_review()
    add_review_events()


if __name__ == "__main__":
    main()
