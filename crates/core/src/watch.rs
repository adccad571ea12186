//! The watcher's poll as plan → apply: everything a poll decides, as functions of data.
//!
//! A host polls one (network, token) like this (DESIGN §6, "the engine's plan/apply contract"):
//!
//! 1. It reads the chain head (and the finality tag's block where the network has one), loads
//!    its cursor and the credited entries not final yet, and calls [`plan_poll`]: the block range
//!    to search and the entries whose blocks to look at.
//! 2. It asks its node for the Transfer logs to its receiving addresses over that range (with the
//!    answering node's own head), and for the headers of the blocks of the logs and of the
//!    entries to check: a fixed number of RPC calls, whatever the number of open invoices.
//! 3. It calls [`apply_poll`] once with the logs, the headers, its watched invoices and the keys
//!    of the unmatched transfers it already stored, and writes what comes back (changed invoice
//!    records, ledger writes, events, the next cursor) in one transaction, versioned against
//!    concurrent writers.
//!
//! Completeness does not rest on the head: the host's cursor is a *final* cursor (every block up
//! to it was searched after it became final), so the blocks not yet final are searched again on
//! every poll and a payment in a block that replaced one already scanned is still seen. A transfer first seen in a block that is already final (and whose
//! header the node confirms) settles in the same poll. A node that lacks a block proves no
//! reorganisation: the entry is looked at again next poll.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::invoice::{EntryStatus, Event, Invoice, MatchedBy};
use crate::log::{decode_transfer_log, Transfer};
use crate::matching::{match_transfer, Decision};
use crate::network::{Finality, Network};

/// The poll interval a watcher starts from when the merchant sets none.
pub const DEFAULT_POLL_MS: u64 = 3000;
/// The widest `eth_getLogs` range a watcher asks for when nothing narrower is known.
pub const DEFAULT_MAX_RANGE: u64 = 2000;
/// The HTTP requests one poll of a network makes (DESIGN §13: the head, the logs, the headers).
pub const REQUESTS_PER_POLL: u64 = 3;
/// A public endpoint's allowance is shared with everyone behind the same address and with the
/// host's other calls (claims, `doctor`): a watcher plans to use at most 1/`PUBLIC_SHARE` of it.
pub const PUBLIC_SHARE: u64 = 2;

/// How a host asks to watch a network: its own RPC URLs (none: the registry's public endpoints)
/// and the merchant's poll interval and `eth_getLogs` range, where set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchRequest {
    /// The merchant's own JSON-RPC URLs, in failover order; empty for the registry's.
    #[serde(default)]
    pub rpc: Vec<String>,
    /// The merchant's poll interval in milliseconds, if set.
    #[serde(default, with = "crate::serde_int::option")]
    pub poll_ms: Option<u64>,
    /// The merchant's widest `eth_getLogs` range, if set.
    #[serde(default, with = "crate::serde_int::option")]
    pub max_range: Option<u64>,
}

/// How a host watches a network: where, how often, and how much per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchSettings {
    /// The JSON-RPC URLs, in failover order.
    pub rpc: Vec<String>,
    /// True when they are the registry's public endpoints (the merchant named none).
    pub public: bool,
    /// Milliseconds between polls.
    #[serde(with = "crate::serde_int")]
    pub poll_ms: u64,
    /// The widest `eth_getLogs` range to ask for.
    #[serde(with = "crate::serde_int")]
    pub max_range: u64,
    /// The most calls to put in one JSON-RPC batch, where an endpoint limits it.
    #[serde(with = "crate::serde_int::option")]
    pub max_batch: Option<u64>,
    /// How a poll paces itself against the public endpoints' limits (`None` with the merchant's
    /// own URLs, whose limits are theirs to know).
    pub pace: Option<PollPace>,
}

/// The requests one poll of a network may make through public endpoints, and how it spends them:
/// after downtime the watcher catches up over several polls, never in a burst.
///
/// A poll makes one request for the head (with the finality tag), `log_requests` `eth_getLogs`
/// requests (each with the answering node's head, over at most `max_range` blocks) and
/// `header_requests` batches of at most `max_batch` block headers. The host passes `max_blocks`
/// to [`plan_poll`] (or less), stops asking for logs after `log_requests` requests (a range the
/// provider refuses and the host halves counts too), and fetches at most
/// `header_requests × max_batch` headers: the entries to check first, then the blocks of the
/// logs from the lowest. A log left without its header is placed by its own `blockTimestamp` or
/// held for a later poll by [`apply_poll`] (the final cursor stays below it): none is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollPace {
    /// HTTP requests one poll may make: within 1/[`PUBLIC_SHARE`] of every endpoint's documented
    /// requests per second (a poll's requests go out within about a second) and of its requests
    /// per day spread over the day's polls; [`REQUESTS_PER_POLL`] for one that documents neither.
    #[serde(with = "crate::serde_int")]
    pub requests: u64,
    /// `eth_getLogs` requests per poll.
    #[serde(with = "crate::serde_int")]
    pub log_requests: u64,
    /// Batches of block headers per poll.
    #[serde(with = "crate::serde_int")]
    pub header_requests: u64,
    /// The most blocks one poll searches past the cursor: `log_requests × max_range`.
    #[serde(with = "crate::serde_int")]
    pub max_blocks: u64,
}

/// Spends a poll's `requests` (at least [`REQUESTS_PER_POLL`]): one for the head, a quarter of
/// what is left past the minimum for headers (payments are rare among blocks), the rest for logs.
/// Under a batch limit below 2 the head with its tag and each `eth_getLogs` with its node's head
/// take two requests each; a poll still makes at least one of each.
fn poll_pace(requests: u64, max_range: u64, max_batch: Option<u64>, tagged: bool) -> PollPace {
    let requests = requests.max(REQUESTS_PER_POLL);
    let cost = |calls: u64| calls.div_ceil(max_batch.unwrap_or(calls).max(1));
    let head = cost(if tagged { 2 } else { 1 });
    let header_requests = 1 + (requests - REQUESTS_PER_POLL) / 4;
    let log_requests = (requests.saturating_sub(head + header_requests) / cost(2)).max(1);
    PollPace {
        requests,
        log_requests,
        header_requests,
        max_blocks: log_requests.saturating_mul(max_range),
    }
}

/// Decides how a host watches `network`.
///
/// With the merchant's own URLs, their settings stand (their limits are theirs to know). With the
/// registry's public endpoints, every endpoint must be able to carry the whole watcher alone (a
/// failover moves all of it to the next): the poll interval is at least what keeps
/// [`REQUESTS_PER_POLL`] within 1/[`PUBLIC_SHARE`] of each endpoint's documented requests per
/// second and per day, the range at most the narrowest documented `eth_getLogs` range, a batch at
/// most the smallest documented batch, and each poll paced (see [`PollPace`]) within the
/// requests every endpoint allows at that interval.
pub fn watch_settings(network: &Network, request: &WatchRequest) -> WatchSettings {
    let poll_ms = request.poll_ms.unwrap_or(DEFAULT_POLL_MS);
    let max_range = request.max_range.unwrap_or(DEFAULT_MAX_RANGE).max(1);
    if !request.rpc.is_empty() {
        return WatchSettings {
            rpc: request.rpc.clone(),
            public: false,
            poll_ms,
            max_range,
            max_batch: None,
            pace: None,
        };
    }
    let endpoints = &network.rpc;
    let budget = REQUESTS_PER_POLL * PUBLIC_SHARE;
    let floor = endpoints
        .iter()
        .flat_map(|e| {
            let per_second = e.rps.map(|rps| (budget * 1000).div_ceil(rps.max(1)));
            let per_day = e
                .per_day
                .map(|day| (budget * 86_400_000).div_ceil(day.max(1)));
            [per_second, per_day]
        })
        .flatten()
        .max()
        .unwrap_or(0);
    let poll_ms = poll_ms.max(floor);
    let max_range = endpoints
        .iter()
        .filter_map(|e| e.max_range)
        .fold(max_range, u64::min)
        .max(1);
    let max_batch = endpoints.iter().filter_map(|e| e.max_batch).min();
    // What each endpoint allows per poll at this interval; every one must carry the poll alone.
    // A poll's requests go out within about a second, so its per-second allowance bounds them
    // whatever the interval; its daily allowance is spread over the day's polls.
    let requests = endpoints
        .iter()
        .map(|e| {
            let per_second = e.rps;
            let per_day = e
                .per_day
                .map(|day| day.saturating_mul(poll_ms) / 86_400_000);
            match per_second.into_iter().chain(per_day).min() {
                Some(allowed) => allowed / PUBLIC_SHARE,
                None => REQUESTS_PER_POLL,
            }
        })
        .min()
        .unwrap_or(REQUESTS_PER_POLL);
    let pace = poll_pace(
        requests,
        max_range,
        max_batch,
        network.finality.tag.is_some(),
    );
    WatchSettings {
        rpc: endpoints.iter().map(|e| e.url.clone()).collect(),
        public: true,
        poll_ms,
        max_range,
        max_batch,
        pace: Some(pace),
    }
}

/// Returns true when a transfer in `block` is final on `network` with the chain at `head` (and
/// the finality tag's block at `tagged`), and has at least the merchant's `min_confirmations`,
/// which can only add to the registry's policy.
pub fn is_final(
    network: &Network,
    block: u64,
    head: u64,
    tagged: Option<u64>,
    min_confirmations: u64,
) -> bool {
    network.finality.is_final(block, head, tagged)
        && Finality::confirmations_at(block, head) >= min_confirmations
}

/// The confirmations a payment waits for on `network`: the registry's, or the merchant's
/// stricter `min_confirmations`.
pub fn required_confirmations(network: &Network, min_confirmations: u64) -> u64 {
    network.finality.confirmations.max(min_confirmations)
}

/// The highest block that is final with the chain at `head` (`None` when none is yet).
fn final_block(
    network: &Network,
    head: u64,
    tagged: Option<u64>,
    min_confirmations: u64,
) -> Option<u64> {
    let depth = required_confirmations(network, min_confirmations);
    let by_depth = (head + 1).checked_sub(depth.max(1))?;
    match (&network.finality.tag, tagged) {
        (None, _) => Some(by_depth),
        // Without the tag's answer nothing is known final: the final cursor stays (the range
        // searched grows with the head, bounded by `max_blocks`).
        (Some(_), None) => None,
        (Some(_), Some(t)) => Some(t.min(by_depth)),
    }
}

/// A ledger entry the host holds, credited and not final yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEntry {
    /// The transaction hash.
    pub tx_hash: String,
    /// The log index.
    #[serde(with = "crate::serde_int")]
    pub log_index: u64,
    /// The block it was seen in.
    #[serde(with = "crate::serde_int")]
    pub block_number: u64,
}

/// What the host knows before a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollPlanInput {
    /// The final cursor: every block up to it was searched after it became final.
    #[serde(with = "crate::serde_int")]
    pub cursor: u64,
    /// The chain head.
    #[serde(with = "crate::serde_int")]
    pub head: u64,
    /// The block of the network's finality tag, where it has one.
    #[serde(default, with = "crate::serde_int::option")]
    pub tagged: Option<u64>,
    /// The merchant's stricter confirmations (0: the registry's).
    #[serde(default, with = "crate::serde_int")]
    pub min_confirmations: u64,
    /// The most new blocks (past the cursor) one poll searches.
    #[serde(with = "crate::serde_int")]
    pub max_blocks: u64,
    /// The credited entries not final yet.
    #[serde(default)]
    pub pending: Vec<PendingEntry>,
}

/// What one poll asks of the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollPlan {
    /// The first block to search (inclusive); nothing to search when `from > to`.
    #[serde(with = "crate::serde_int")]
    pub from: u64,
    /// The last block to search (inclusive).
    #[serde(with = "crate::serde_int")]
    pub to: u64,
    /// The entries whose block headers to fetch: those final by now, to check they are canonical.
    pub checks: Vec<PendingEntry>,
}

/// Plans one poll of one (network, token).
///
/// The range runs from past the final cursor (the last block searched after it was final) to the
/// head, at most `max_blocks` blocks: so every block not yet final is searched on every poll, and
/// every block is searched at least once after it became final — a payment in a block that
/// replaced one already scanned is seen however long the host went between polls.
pub fn plan_poll(network: &Network, input: &PollPlanInput) -> PollPlan {
    let cursor = input.cursor.min(input.head);
    let from = cursor.saturating_add(1);
    let to = input
        .head
        .min(cursor.saturating_add(input.max_blocks.max(1)));
    let checks = input
        .pending
        .iter()
        .filter(|e| {
            is_final(
                network,
                e.block_number,
                input.head,
                input.tagged,
                input.min_confirmations,
            )
        })
        .cloned()
        .collect();
    PollPlan { from, to, checks }
}

/// A block header as the node returned it (`None` in [`BlockCheck`] when it has no such block).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockHeader {
    /// Its number.
    #[serde(with = "crate::serde_int")]
    pub number: u64,
    /// Its hash, `0x` + 64 hex.
    pub hash: String,
    /// Its time, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub timestamp: u64,
}

/// The answer about one entry the plan asked to check: the header at its block's height.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockCheck {
    /// The entry's transaction hash.
    pub tx_hash: String,
    /// The entry's log index.
    #[serde(with = "crate::serde_int")]
    pub log_index: u64,
    /// The node's block at the entry's height, or `None` when the node does not have it.
    pub block: Option<BlockHeader>,
}

/// A transfer the host already stored without an invoice (its unmatched list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerKey {
    /// The transaction hash.
    pub tx_hash: String,
    /// The log index.
    #[serde(with = "crate::serde_int")]
    pub log_index: u64,
}

/// What one poll returned, for [`apply_poll`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollInput {
    /// The time of the poll, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub now: u64,
    /// The final cursor before the poll (see [`PollPlanInput::cursor`]).
    #[serde(with = "crate::serde_int")]
    pub cursor: u64,
    /// The chain head the plan was made with.
    #[serde(with = "crate::serde_int")]
    pub head: u64,
    /// The finality tag's block, where the network has one.
    #[serde(default, with = "crate::serde_int::option")]
    pub tagged: Option<u64>,
    /// The merchant's stricter confirmations (0: the registry's).
    #[serde(default, with = "crate::serde_int")]
    pub min_confirmations: u64,
    /// The last block actually searched (the plan's `to`, or less when the answering node was
    /// behind); below the plan's `from` when nothing was searched.
    #[serde(with = "crate::serde_int")]
    pub searched_to: u64,
    /// The Transfer logs the node returned for the range, decoded, each with its block time.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Or the same logs as the node returned them (`eth_getLogs` result objects): the core
    /// decodes them and takes each one's time from its `blockTimestamp` or from `blocks`, so a
    /// host crosses into the core once per poll, not once per log. A log that does not decode (no
    /// registry token emits one) or whose block time is unknown is left out (the final cursor then
    /// stays below its block).
    #[serde(default)]
    pub logs: Vec<serde_json::Value>,
    /// The headers of the blocks holding those logs, as the node returned them.
    #[serde(default)]
    pub blocks: Vec<BlockHeader>,
    /// The answers for the plan's checks.
    #[serde(default)]
    pub checks: Vec<BlockCheck>,
    /// The host's watched invoices on this (network, token), and any invoice owning an entry
    /// being checked.
    #[serde(default)]
    pub invoices: Vec<Invoice>,
    /// The transfers already stored without an invoice.
    #[serde(default)]
    pub unmatched: Vec<LedgerKey>,
}

/// What a ledger write does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerOp {
    /// A transfer seen for the first time: insert it.
    Insert,
    /// A stored entry changed status (final, removed) or block (seen again after a
    /// reorganisation): update it.
    Update,
}

/// One write to the host's ledger table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerWrite {
    /// Insert or update.
    pub op: LedgerOp,
    /// The transfer (for an update: its current block).
    pub transfer: Transfer,
    /// The invoice it credits, or `None` for an unmatched transfer.
    pub invoice: Option<String>,
    /// How it was matched, for a credited transfer.
    pub matched_by: Option<MatchedBy>,
    /// True when it credited its invoice for review.
    pub review: bool,
    /// Its status now.
    pub status: EntryStatus,
    /// Why it credited nothing (`unmatched`, `ambiguous: …`, `ignored: …`), for the unmatched list.
    pub note: Option<String>,
}

/// Everything one poll changes, for the host to write in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOutcome {
    /// The invoice records that changed (ledger, or announced state), to store.
    pub invoices: Vec<Invoice>,
    /// The ledger writes, in order.
    pub ledger: Vec<LedgerWrite>,
    /// The events to announce, in order.
    pub events: Vec<Event>,
    /// The final cursor to save: the last block searched that was final when searched (or before
    /// a replaced block, after a rewind).
    #[serde(with = "crate::serde_int")]
    pub cursor: u64,
    /// True when a credited transfer's block was replaced: the cursor went back to before it.
    pub rewound: bool,
}

/// The update of a stored entry of `invoice`, as it is now.
fn update_of(
    network: &Network,
    invoice: &Invoice,
    tx_hash: &str,
    log_index: u64,
) -> Result<LedgerWrite> {
    let entry = invoice.entry(tx_hash, log_index).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInvoice,
            tx_hash,
            "the entry is not in the invoice's ledger",
        )
    })?;
    Ok(LedgerWrite {
        op: LedgerOp::Update,
        transfer: Transfer {
            token: network.token(Some(&invoice.token))?.contract,
            from: entry.from,
            to: invoice.recipient,
            amount: entry.amount,
            tx_hash: entry.tx_hash.clone(),
            log_index: entry.log_index,
            block_number: entry.block_number,
            block_hash: entry.block_hash.clone(),
            removed: false,
            block_time: Some(entry.block_time),
        },
        invoice: Some(invoice.id.clone()),
        matched_by: Some(entry.matched_by),
        review: entry.review,
        status: entry.status,
        note: None,
    })
}

/// Applies one poll of one (network, token): matches and credits the new transfers, moves or reinstates
/// reorganised ones seen again, settles or removes the entries checked, expires what is due, and
/// returns every write and event with the next cursor.
///
/// # Errors
/// `unknown_token` when an invoice's token is not on `network`.
pub fn apply_poll(network: &Network, input: &PollInput) -> Result<PollOutcome> {
    for invoice in &input.invoices {
        network.token(Some(&invoice.token))?;
    }
    let mut invoices = input.invoices.clone();
    let mut touched = vec![false; invoices.len()];
    let mut ledger: Vec<LedgerWrite> = Vec::new();
    // Keys and blocks by lookup, not by scanning: a poll may carry thousands of logs.
    let mut seen: BTreeSet<(&str, u64)> = BTreeSet::new();
    let unmatched: BTreeSet<(&str, u64)> = input
        .unmatched
        .iter()
        .map(|k| (k.tx_hash.as_str(), k.log_index))
        .collect();
    let blocks: BTreeMap<u64, &BlockHeader> = input.blocks.iter().map(|b| (b.number, b)).collect();
    let is_final_now = |block: u64| {
        is_final(
            network,
            block,
            input.head,
            input.tagged,
            input.min_confirmations,
        )
    };
    let canonical = |transfer: &Transfer| {
        blocks
            .get(&transfer.block_number)
            .is_some_and(|b| b.hash.eq_ignore_ascii_case(&transfer.block_hash))
    };

    // A log whose block time is unknown (the node lost the block meanwhile) is left for a later
    // poll: the final cursor stays below its block.
    let mut unplaced: Option<u64> = None;
    let decoded: Vec<Transfer> = input
        .logs
        .iter()
        .filter_map(|log| decode_transfer_log(network, log).ok())
        .filter_map(|mut transfer| {
            if transfer.block_time.is_none() {
                transfer.block_time = blocks.get(&transfer.block_number).map(|b| b.timestamp);
            }
            if transfer.block_time.is_none() && !transfer.removed {
                let block = transfer.block_number;
                unplaced = Some(unplaced.map_or(block, |u: u64| u.min(block)));
            }
            transfer.block_time.is_some().then_some(transfer)
        })
        .collect();
    let mut transfers: Vec<&Transfer> = input
        .transfers
        .iter()
        .chain(&decoded)
        .filter(|t| !t.removed)
        .collect();
    transfers.sort_by_key(|t| (t.block_number, t.log_index));
    for transfer in transfers {
        let key = (transfer.tx_hash.as_str(), transfer.log_index);
        if unmatched.contains(&key) || !seen.insert(key) {
            continue;
        }
        // Address-poisoning spam moves zero tokens: it pays nothing and is not kept.
        if transfer.amount.is_zero() {
            continue;
        }
        let settle_now = is_final_now(transfer.block_number) && canonical(transfer);
        // What a transfer stored now is: final at once when its block is final and canonical.
        let first_status = if settle_now {
            EntryStatus::Final
        } else {
            EntryStatus::Seen
        };
        let owner = invoices
            .iter()
            .position(|i| i.entry(&transfer.tx_hash, transfer.log_index).is_some());
        if let Some(index) = owner {
            let invoice = &mut invoices[index];
            let was = invoice
                .entry(&transfer.tx_hash, transfer.log_index)
                .map(|e| e.status);
            let entry_final = was == Some(EntryStatus::Final);
            // Reorganised away earlier and mined again, or moved to another block before it was
            // final: the core reinstates it in its new block (`credit` changes nothing otherwise).
            let moved = invoice.credit(transfer, MatchedBy::Amount, false)?;
            let settles = settle_now && !entry_final;
            if moved || settles {
                if settle_now {
                    invoice.set_entry_status(
                        &transfer.tx_hash,
                        transfer.log_index,
                        EntryStatus::Final,
                    );
                }
                touched[index] = true;
                let mut write = update_of(network, invoice, &transfer.tx_hash, transfer.log_index)?;
                write.transfer.token = transfer.token;
                ledger.push(write);
            }
            continue;
        }
        match match_transfer(network, &invoices, transfer) {
            Decision::Credit {
                invoice: id,
                review,
            } => {
                let index = invoices
                    .iter()
                    .position(|i| i.id == id)
                    .expect("the decision names one of the invoices");
                let invoice = &mut invoices[index];
                invoice.credit(transfer, MatchedBy::Amount, review)?;
                invoice.set_entry_status(&transfer.tx_hash, transfer.log_index, first_status);
                touched[index] = true;
                ledger.push(LedgerWrite {
                    op: LedgerOp::Insert,
                    transfer: transfer.clone(),
                    invoice: Some(id),
                    matched_by: Some(MatchedBy::Amount),
                    review,
                    status: first_status,
                    note: None,
                });
            }
            Decision::Known { .. } => {}
            other => {
                let note = match other {
                    Decision::Ignored { reason } => format!("ignored: {reason}"),
                    Decision::Ambiguous { invoices } => {
                        format!("ambiguous: {}", invoices.join(","))
                    }
                    _ => "unmatched".to_string(),
                };
                ledger.push(LedgerWrite {
                    op: LedgerOp::Insert,
                    transfer: transfer.clone(),
                    invoice: None,
                    matched_by: None,
                    review: false,
                    status: first_status,
                    note: Some(note),
                });
            }
        }
    }

    let mut rewind: Option<u64> = None;
    for check in &input.checks {
        let Some(index) = invoices
            .iter()
            .position(|i| i.entry(&check.tx_hash, check.log_index).is_some())
        else {
            continue;
        };
        let invoice = &mut invoices[index];
        let Some(entry) = invoice.entry(&check.tx_hash, check.log_index).cloned() else {
            continue;
        };
        if entry.status != EntryStatus::Seen || !is_final_now(entry.block_number) {
            continue;
        }
        let verdict = match &check.block {
            // The node lacks the block: it is behind (a load-balanced provider), which proves no
            // reorganisation. Look again next poll.
            None => continue,
            Some(block) if block.number != entry.block_number => continue,
            Some(block) if block.hash.eq_ignore_ascii_case(&entry.block_hash) => EntryStatus::Final,
            Some(_) => EntryStatus::Removed,
        };
        invoice.set_entry_status(&check.tx_hash, check.log_index, verdict);
        if verdict == EntryStatus::Removed {
            // Its block was replaced: rescan from there, so that the same transfer mined again
            // elsewhere is found and reinstated.
            let back = entry.block_number.saturating_sub(1);
            rewind = Some(rewind.map_or(back, |r| r.min(back)));
        }
        touched[index] = true;
        ledger.push(update_of(
            network,
            invoice,
            &check.tx_hash,
            check.log_index,
        )?);
    }

    let mut events = Vec::new();
    for (index, invoice) in invoices.iter_mut().enumerate() {
        if let Some(event) = invoice.sync(input.now) {
            events.push(event);
            touched[index] = true;
        }
    }
    // The final cursor moves to the last block searched that was final when searched (a block
    // searched before it was final is searched again by later polls).
    let last_final = final_block(network, input.head, input.tagged, input.min_confirmations);
    let advanced = input
        .cursor
        .max(input.searched_to.min(last_final.unwrap_or(input.cursor)));
    let held = unplaced.map(|block| block.saturating_sub(1));
    let cursor = match rewind.into_iter().chain(held).min() {
        Some(back) => advanced.min(back),
        None => advanced,
    };
    let invoices = invoices
        .into_iter()
        .zip(touched)
        .filter_map(|(invoice, t)| t.then_some(invoice))
        .collect();
    Ok(PollOutcome {
        invoices,
        ledger,
        events,
        cursor,
        rewound: rewind.is_some(),
    })
}
