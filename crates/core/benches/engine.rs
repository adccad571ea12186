//! The engine's throughput: one watcher poll (`plan_poll` + `apply_poll`) applying N transfers
//! against W watched invoices, natively. `bench/engine.js` runs the same polls through the Node
//! build (after: one `applyPoll` crossing; before: the per-transfer calls the server made until
//! `applyPoll`), and `scripts/bench.sh` prints the ratios.
//!
//! The workload, generated the same way in `bench/engine.js` (no randomness; the outcomes are
//! compared): W invoices on the devnet (created and synced once, as a host stores them), one
//! receiving address, amounts 19.99 + 0.03 × k USDT (three steps apart, as the allocator leaves them); N transfers in one
//! poll over blocks 1000..1001 (the head is 1001, so none is final yet), transfer n paying invoice
//! n mod W exactly, except every fourth, which is one step (0.01) over it and so matches no invoice.
//!
//! Each (N, W) is timed over RUNS runs (each at least RUN_SECONDS, whole polls), median. Prints
//! `native N=…, W=…: T transfers/s` lines and, per (N, W), the outcome (`outcome N=…, W=…:
//! credited …, unmatched …, events …, changed …`) that the Node build must reproduce.

use std::hint::black_box;
use std::time::{Duration, Instant};

use stablegate_core::watch::{
    apply_poll, plan_poll, BlockHeader, PollInput, PollOutcome, PollPlanInput,
};
use stablegate_core::{network, Address, Amount, Family, Invoice, InvoiceTerms, Network, Transfer};

const SIZES: [(u64, u64); 6] = [
    (1, 1),
    (100, 1),
    (1_000, 1),
    (1, 1_000),
    (100, 1_000),
    (1_000, 1_000),
];
const RUNS: usize = 5;
const RUN_SECONDS: f64 = 0.2;
const RECIPIENT: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SENDER: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const BASE_AMOUNT: u128 = 19_990_000;
const STEP: u128 = 10_000;
const GAP: u128 = 3 * STEP;
const CREATED_AT: u64 = 1_700_000_000;
const FIRST_BLOCK: u64 = 1_000;
const HEAD: u64 = 1_001;

fn address(text: &str) -> Address {
    Address::parse(Family::Evm, text).expect("the bench's addresses are valid EIP-55")
}

fn invoices(devnet: &Network, watched: u64) -> Vec<Invoice> {
    (0..watched)
        .map(|k| {
            let terms = InvoiceTerms {
                id: format!("inv_{k}"),
                network: devnet.id.clone(),
                token: None,
                recipient: RECIPIENT.to_string(),
                amount_due: Amount::from_base_units(BASE_AMOUNT + u128::from(k) * GAP),
                tolerance: Amount::ZERO,
                created_at: CREATED_AT,
                expires_in: 900,
                monitoring: 86_400,
            };
            let mut invoice = Invoice::new(devnet, &terms).expect("the bench's terms are valid");
            // As a host stores it: synced once at creation (its `new` announced).
            invoice.sync(CREATED_AT);
            invoice
        })
        .collect()
}

fn block_hash(block: u64) -> String {
    format!("0x{:064x}", 0xb10c_0000 + block)
}

fn block_time(block: u64) -> u64 {
    CREATED_AT + 300 + (block - FIRST_BLOCK) * 12
}

fn transfers(devnet: &Network, count: u64, watched: u64) -> Vec<Transfer> {
    let usdt = devnet.tokens[0].contract;
    (0..count)
        .map(|n| {
            let due = BASE_AMOUNT + u128::from(n % watched) * GAP;
            let amount = if n % 4 == 3 { due + STEP } else { due };
            let block = FIRST_BLOCK + n * 2 / count;
            Transfer {
                token: usdt,
                from: address(SENDER),
                to: address(RECIPIENT),
                amount: Amount::from_base_units(amount),
                tx_hash: format!("0x{:064x}", n + 1),
                log_index: n,
                block_number: block,
                block_hash: block_hash(block),
                removed: false,
                block_time: Some(block_time(block)),
            }
        })
        .collect()
}

fn poll(devnet: &Network, plan: &PollPlanInput, input: &PollInput) -> PollOutcome {
    let planned = plan_poll(devnet, black_box(plan));
    black_box(planned);
    apply_poll(devnet, black_box(input)).expect("the bench's poll applies")
}

fn main() {
    let devnet = network("devnet").expect("devnet is in the built-in registry");
    let mut lines = Vec::new();
    for (count, watched) in SIZES {
        let plan: PollPlanInput = serde_json::from_value(serde_json::json!({
            "cursor": (FIRST_BLOCK - 1).to_string(),
            "head": HEAD.to_string(),
            "max_blocks": "1000",
        }))
        .expect("the bench's plan input is valid");
        let transfers = transfers(devnet, count, watched);
        let mut blocks: Vec<u64> = transfers.iter().map(|t| t.block_number).collect();
        blocks.dedup();
        // Built from JSON, as a host's input arrives: fields the core adds later with a default
        // keep this bench compiling.
        let input: PollInput = serde_json::from_value(serde_json::json!({
            "now": (CREATED_AT + 600).to_string(),
            "cursor": (FIRST_BLOCK - 1).to_string(),
            "head": HEAD.to_string(),
            "searched_to": HEAD.to_string(),
            "transfers": transfers,
            "blocks": blocks
                .into_iter()
                .map(|b| BlockHeader {
                    number: b,
                    hash: block_hash(b),
                    timestamp: block_time(b),
                })
                .collect::<Vec<_>>(),
            "invoices": invoices(devnet, watched),
        }))
        .expect("the bench's poll input is valid");

        let outcome = poll(devnet, &plan, &input);
        let credited = outcome
            .ledger
            .iter()
            .filter(|w| w.invoice.is_some())
            .count();
        println!(
            "outcome N={count}, W={watched}: credited {credited}, unmatched {}, events {}, changed {}",
            outcome.ledger.len() - credited,
            outcome.events.len(),
            outcome.invoices.len(),
        );

        let mut rates: Vec<f64> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                let mut polls = 0u64;
                while polls == 0 || start.elapsed() < Duration::from_secs_f64(RUN_SECONDS) {
                    black_box(poll(devnet, &plan, &input));
                    polls += 1;
                }
                (polls * count) as f64 / start.elapsed().as_secs_f64()
            })
            .collect();
        rates.sort_by(f64::total_cmp);
        lines.push(format!(
            "native N={count}, W={watched}: {:.0} transfers/s",
            rates[RUNS / 2]
        ));
    }
    for line in lines {
        println!("{line}");
    }
}
