//! Matching throughput: how many `match_transfer` calls per second, natively.
//!
//! The workload, shared with `bench/matching.js` (same generator, same seed, so both sides see
//! the same stream): 1,000 invoices watched on the devnet, one receiving address, distinct amounts
//! 19.99 + k × 0.01 USDT; 100,000 transfers inside their window, of which 50% pay an invoice's
//! amount, 25% pay an amount no invoice expects, and 25% are of a fake token.
//!
//! Two ways of calling, each timed over the whole stream, several runs, median:
//! - `full set`: every watched invoice on every call, as in the simplest host;
//! - `indexed`: only the invoices a host's amount index returns (see [`Candidates`]); the
//!   decisions are checked to be the same as with the full set.
//!
//! Prints `native matches/s: N` and `native indexed matches/s: N` for `scripts/bench.sh`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use stablegate_core::matching::{match_transfer, Decision};
use stablegate_core::{network, Address, Amount, Family, Invoice, InvoiceTerms, Network, Transfer};

const INVOICES: u32 = 1_000;
const TRANSFERS: u32 = 100_000;
const RUNS: usize = 5;
const SEED: u32 = 0x57ab_1e6a;
const RECIPIENT: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SENDER: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
/// A contract that emits `Transfer` events but is not the registry's USDT.
const FAKE_TOKEN: &str = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const BASE_AMOUNT: u128 = 19_990_000;
const STEP: u128 = 10_000;
const CREATED_AT: u64 = 1_700_000_000;

/// mulberry32: a tiny generator that JS reproduces bit for bit with `Math.imul`.
struct Mulberry32(u32);

impl Mulberry32 {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let mut t = self.0;
        t = (t ^ (t >> 15)).wrapping_mul(t | 1);
        t ^= t.wrapping_add((t ^ (t >> 7)).wrapping_mul(t | 61));
        t ^ (t >> 14)
    }

    fn below(&mut self, bound: u32) -> u32 {
        self.next() % bound
    }
}

/// What a transfer of the stream is, and so which decision it must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pays(u32),
    UnmatchedAmount,
    WrongToken,
}

fn address(text: &str) -> Address {
    Address::parse(Family::Evm, text).expect("the bench's addresses are valid EIP-55")
}

fn invoices(devnet: &Network) -> Vec<Invoice> {
    (0..INVOICES)
        .map(|k| {
            let terms = InvoiceTerms {
                id: format!("inv_{k}"),
                network: devnet.id.clone(),
                token: None,
                recipient: RECIPIENT.to_string(),
                amount_due: Amount::from_base_units(BASE_AMOUNT + u128::from(k) * STEP),
                tolerance: Amount::ZERO,
                created_at: CREATED_AT,
                expires_in: 900,
                monitoring: 86_400,
            };
            Invoice::new(devnet, &terms).expect("the bench's terms are valid")
        })
        .collect()
}

fn transfers(devnet: &Network) -> Vec<(Kind, Transfer)> {
    let mut random = Mulberry32(SEED);
    let usdt = devnet.tokens[0].contract;
    (0..TRANSFERS)
        .map(|n| {
            let (kind, amount) = match random.below(4) {
                0 | 1 => {
                    let k = random.below(INVOICES);
                    (Kind::Pays(k), BASE_AMOUNT + u128::from(k) * STEP)
                }
                2 => {
                    let k = random.below(INVOICES);
                    let between = 1 + u128::from(random.below(STEP as u32 - 1));
                    (
                        Kind::UnmatchedAmount,
                        BASE_AMOUNT + u128::from(k) * STEP + between,
                    )
                }
                _ => {
                    let k = random.below(INVOICES);
                    (Kind::WrongToken, BASE_AMOUNT + u128::from(k) * STEP)
                }
            };
            let transfer = Transfer {
                token: if kind == Kind::WrongToken {
                    address(FAKE_TOKEN)
                } else {
                    usdt
                },
                from: address(SENDER),
                to: address(RECIPIENT),
                amount: Amount::from_base_units(amount),
                tx_hash: format!("0x{:064x}", n + 1),
                log_index: u64::from(n % 4),
                block_number: 1_000 + u64::from(n),
                block_hash: format!("0x{:064x}", 0xb10c_0000 + n),
                removed: false,
                block_time: Some(CREATED_AT + 300 + u64::from(n % 500)),
            };
            (kind, transfer)
        })
        .collect()
}

/// What a host with an index on (token, recipient, amount due) passes: the invoices due that
/// amount, or, when none is, one watched invoice of the address, so that the core still tells
/// an unmatched payment (kept for a claim) from one to an address nobody watches. A fake token
/// finds no invoice at all.
struct Candidates {
    token: Address,
    by_amount: HashMap<Amount, Vec<Invoice>>,
    any_of_address: Vec<Invoice>,
}

impl Candidates {
    fn new(devnet: &Network, invoices: &[Invoice]) -> Candidates {
        let mut by_amount: HashMap<Amount, Vec<Invoice>> = HashMap::new();
        for invoice in invoices {
            by_amount
                .entry(invoice.amount_due)
                .or_default()
                .push(invoice.clone());
        }
        Candidates {
            token: devnet.tokens[0].contract,
            by_amount,
            any_of_address: invoices[..1].to_vec(),
        }
    }

    fn for_transfer(&self, transfer: &Transfer) -> &[Invoice] {
        if transfer.token.bytes() != self.token.bytes() {
            return &[];
        }
        self.by_amount
            .get(&transfer.amount)
            .unwrap_or(&self.any_of_address)
    }
}

/// Checks that every transfer gets the decision its kind calls for, with both ways of calling.
fn check_decisions(
    devnet: &Network,
    invoices: &[Invoice],
    candidates: &Candidates,
    stream: &[(Kind, Transfer)],
) {
    for (kind, transfer) in stream {
        let expected = match kind {
            Kind::Pays(k) => Decision::Credit {
                invoice: format!("inv_{k}"),
                review: false,
            },
            Kind::UnmatchedAmount => Decision::Unmatched,
            Kind::WrongToken => Decision::Ignored {
                reason: "wrong_token".to_string(),
            },
        };
        assert_eq!(
            match_transfer(devnet, invoices, transfer),
            expected,
            "{transfer:?}"
        );
        assert_eq!(
            match_transfer(devnet, candidates.for_transfer(transfer), transfer),
            expected,
            "indexed: {transfer:?}"
        );
    }
}

/// Runs `call` over the stream `RUNS` times (after one warm-up pass) and returns the median
/// calls per second.
fn median_rate(stream: &[(Kind, Transfer)], mut call: impl FnMut(&Transfer) -> Decision) -> f64 {
    for (_, transfer) in stream.iter().take(10_000) {
        black_box(call(black_box(transfer)));
    }
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            for (_, transfer) in stream {
                black_box(call(black_box(transfer)));
            }
            stream.len() as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[RUNS / 2]
}

fn main() {
    let devnet = network("devnet").expect("devnet is in the built-in registry");
    let invoices = invoices(devnet);
    let stream = transfers(devnet);
    let candidates = Candidates::new(devnet, &invoices);
    check_decisions(devnet, &invoices, &candidates, &stream);

    let amount_sum: u128 = stream.iter().map(|(_, t)| t.amount.base_units()).sum();
    let count = |wanted: fn(&Kind) -> bool| stream.iter().filter(|(k, _)| wanted(k)).count();
    println!(
        "workload: {INVOICES} invoices, {} transfers ({} paying, {} unmatched amount, {} wrong token), amount sum {amount_sum}",
        stream.len(),
        count(|k| matches!(k, Kind::Pays(_))),
        count(|k| *k == Kind::UnmatchedAmount),
        count(|k| *k == Kind::WrongToken),
    );

    let full = median_rate(&stream, |t| match_transfer(devnet, black_box(&invoices), t));
    println!("native matches/s: {full:.0}");
    let indexed = median_rate(&stream, |t| {
        match_transfer(devnet, black_box(candidates.for_transfer(t)), t)
    });
    println!("native indexed matches/s: {indexed:.0}");
}
