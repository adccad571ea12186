//! Invoices, their ledger of transfers, and the state that follows from it.
//!
//! The state is never stored on its own: [`Invoice::status`] derives it from the ledger and the
//! clock, so a host cannot let the two drift apart. Hosts persist the [`Invoice`] record (its JSON
//! form) and apply the [`Event`]s that [`Invoice::sync`] returns, idempotently by event id.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::amount::{Amount, Reservation};
use crate::error::{Error, ErrorKind, Result};
use crate::log::Transfer;
use crate::network::Network;

/// Seconds of clock skew allowed between a block's time and the invoice's creation.
pub const CLOCK_SKEW_SECS: u64 = 60;

/// How the merchant resolved a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The payments are this invoice's.
    Accepted,
    /// The payments that caused the review are not this invoice's; they went back to unmatched.
    Rejected,
}

/// A review resolution, announced with the event that follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Accepted or rejected.
    pub outcome: ReviewOutcome,
    /// The merchant's note.
    pub note: String,
}

/// The state of an invoice (BTCPay's model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Awaiting payment.
    New,
    /// Paid in full, but not yet final on chain.
    Processing,
    /// Paid in full and final.
    Settled,
    /// The payment window passed without a full payment.
    Expired,
    /// The payment that was seen is gone (reorganised away), or the merchant cancelled.
    Invalid,
}

impl State {
    /// Returns the snake_case name used in JSON and event types.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Processing => "processing",
            Self::Settled => "settled",
            Self::Expired => "expired",
            Self::Invalid => "invalid",
        }
    }
}

/// Something about the payment that the merchant may need to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exception {
    /// Less than the amount due (beyond the tolerance) has been paid.
    PaidPartial,
    /// More than the amount due has been paid (an extra or duplicate transfer).
    PaidOver,
    /// The payment completed after the invoice expired, within the monitoring window.
    PaidLate,
    /// A person must look: an ambiguous claim, a payment to a cancelled invoice, or a manual mark.
    NeedsReview,
}

impl Exception {
    /// Returns the snake_case name used in JSON and event types.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PaidPartial => "paid_partial",
            Self::PaidOver => "paid_over",
            Self::PaidLate => "paid_late",
            Self::NeedsReview => "needs_review",
        }
    }
}

/// Where a ledger entry stands on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Seen in a block that is not final yet.
    Seen,
    /// Final, and its block was checked to be canonical.
    Final,
    /// Gone from the canonical chain; kept for the record, credits nothing.
    Removed,
}

/// How a transfer found its invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// By its unique amount.
    Amount,
    /// By a transaction hash the customer pasted.
    Claim,
}

/// One transfer credited to an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The transaction hash, in the network's form.
    pub tx_hash: String,
    /// The log index; with the network and tx hash, the transfer's identity.
    #[serde(with = "crate::serde_int")]
    pub log_index: u64,
    /// The sender.
    pub from: Address,
    /// The amount received.
    pub amount: Amount,
    /// The block number.
    #[serde(with = "crate::serde_int")]
    pub block_number: u64,
    /// The block hash, to check later that the block is still canonical.
    pub block_hash: String,
    /// The block's timestamp (unix seconds).
    #[serde(with = "crate::serde_int")]
    pub block_time: u64,
    /// Where the entry stands on chain.
    pub status: EntryStatus,
    /// How it was matched.
    pub matched_by: MatchedBy,
    /// True when another watched invoice could also own this transfer.
    pub review: bool,
}

/// An invoice: what is due, where, until when, and the transfers credited to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// The invoice id (the host chooses it; unguessable where customers see it).
    pub id: String,
    /// The network id.
    pub network: String,
    /// The token id within the network.
    pub token: String,
    /// The receiving address.
    pub recipient: Address,
    /// The unique amount due, in base units.
    pub amount_due: Amount,
    /// How much less than `amount_due` is still accepted as full payment (default zero).
    pub tolerance: Amount,
    /// Creation time, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub created_at: u64,
    /// End of the payment window, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub expires_at: u64,
    /// End of the monitoring window (late payments are still recorded until then), unix seconds.
    #[serde(with = "crate::serde_int")]
    pub monitor_until: u64,
    /// True once the merchant cancelled it.
    #[serde(default)]
    pub cancelled: bool,
    /// True once the merchant marked it for review.
    #[serde(default)]
    pub marked_for_review: bool,
    /// True once the invoice's unique amount was given to a newer invoice (it expired unpaid and
    /// its band was full): a transfer of that amount it could still own goes to review.
    #[serde(default)]
    pub released: bool,
    /// The merchant's note of the last review resolution, announced with the next event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The transfers credited to it, in the order they were seen.
    #[serde(default)]
    pub ledger: Vec<LedgerEntry>,
    /// The state and exception of the last event emitted, to emit each change once.
    #[serde(default)]
    pub last_event: Option<(State, Option<Exception>)>,
    /// How many events have been emitted.
    #[serde(default, with = "crate::serde_int")]
    pub event_seq: u64,
}

/// The terms of a new invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceTerms {
    /// The invoice id.
    pub id: String,
    /// The network id.
    pub network: String,
    /// The token id; the network's default token when absent.
    #[serde(default)]
    pub token: Option<String>,
    /// The receiving address, in any form the network accepts.
    pub recipient: String,
    /// The amount due in base units (already made unique by [`crate::amount::allocate_amount`]).
    pub amount_due: Amount,
    /// The accepted underpayment, in base units (zero when absent).
    #[serde(default)]
    pub tolerance: Amount,
    /// Creation time, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub created_at: u64,
    /// Seconds the customer has to pay.
    #[serde(with = "crate::serde_int")]
    pub expires_in: u64,
    /// Seconds after expiry during which late payments are still recorded.
    #[serde(with = "crate::serde_int")]
    pub monitoring: u64,
}

/// An invoice's derived state and totals at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The state.
    pub state: State,
    /// The exception, if any.
    pub exception: Option<Exception>,
    /// The sum of credited transfers that are not removed.
    pub amount_paid: Amount,
    /// The sum of final transfers.
    pub amount_final: Amount,
    /// What is left to pay (zero once paid within the tolerance).
    pub amount_remaining: Amount,
}

/// A state change, for webhooks and host bookkeeping; hosts apply events idempotently by `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The review resolution this event announces, with the merchant's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// `<invoice id>:<sequence>`, unique and stable.
    pub id: String,
    /// `invoice.<state>` when the state changed, else `invoice.<exception>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The invoice id.
    pub invoice: String,
    /// The status after the change.
    #[serde(flatten)]
    pub status: Status,
    /// When the change was observed, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub at: u64,
}

impl Invoice {
    /// Creates an invoice from its terms, checking them against `network`.
    ///
    /// # Errors
    /// `unknown_token`, `invalid_address`/`address_checksum` for the recipient, `invalid_amount`
    /// for a zero amount, `invalid_invoice` for windows that overflow.
    pub fn new(network: &Network, terms: &InvoiceTerms) -> Result<Invoice> {
        let token = network.token(terms.token.as_deref())?;
        let recipient = network.parse_address(&terms.recipient)?;
        if terms.amount_due.is_zero() {
            return Err(Error::new(
                ErrorKind::InvalidAmount,
                "0",
                "an invoice needs an amount above zero",
            ));
        }
        let expires_at = terms.created_at.checked_add(terms.expires_in);
        let monitor_until = expires_at.and_then(|e| e.checked_add(terms.monitoring));
        let (Some(expires_at), Some(monitor_until)) = (expires_at, monitor_until) else {
            return Err(Error::new(
                ErrorKind::InvalidInvoice,
                &terms.id,
                "the invoice windows overflow",
            ));
        };
        Ok(Invoice {
            id: terms.id.clone(),
            network: network.id.clone(),
            token: token.id.clone(),
            recipient,
            amount_due: terms.amount_due,
            tolerance: terms.tolerance,
            created_at: terms.created_at,
            expires_at,
            monitor_until,
            cancelled: false,
            marked_for_review: false,
            released: false,
            resolution: None,
            ledger: Vec::new(),
            last_event: None,
            event_seq: 0,
        })
    }

    /// Returns true while transfers to this invoice are still looked for (and its amount stays
    /// reserved): until the end of the monitoring window, even when settled, so that a
    /// duplicate payment is recorded against it rather than against a newer invoice.
    pub fn is_watched(&self, now: u64) -> bool {
        now <= self.monitor_until
    }

    /// Returns the sum of credited transfers that are not removed.
    pub fn amount_paid(&self) -> Amount {
        self.sum(|e| e.status != EntryStatus::Removed)
    }

    fn sum(&self, include: impl Fn(&LedgerEntry) -> bool) -> Amount {
        self.ledger
            .iter()
            .filter(|e| include(e))
            .fold(Amount::ZERO, |total, e| {
                total
                    .checked_add(e.amount)
                    .unwrap_or(Amount::from_base_units(u128::MAX))
            })
    }

    /// Returns true when `amount` is what this invoice expects next: the amount due (less the
    /// tolerance) when unpaid, or the remainder after a partial payment. Once paid in full it
    /// expects nothing: a later transfer of its amount may be that customer's duplicate or another
    /// customer's short payment, so it is kept unmatched and claimable, never silently added
    /// (DESIGN §5, settled invoices).
    pub fn expects(&self, amount: Amount) -> bool {
        let paid = self.amount_paid();
        let target = match self.amount_due.checked_sub(paid) {
            _ if paid.is_zero() => self.amount_due,
            Some(rest) if rest > self.tolerance => rest,
            _ => return false,
        };
        amount <= target
            && amount
                .checked_add(self.tolerance)
                .is_some_and(|a| a >= target)
    }

    /// Returns the ledger entry of transfer (`tx_hash`, `log_index`), if credited here.
    pub fn entry(&self, tx_hash: &str, log_index: u64) -> Option<&LedgerEntry> {
        self.ledger
            .iter()
            .find(|e| e.tx_hash == tx_hash && e.log_index == log_index)
    }

    /// Credits `transfer` to this invoice. Crediting the same transfer again changes nothing and
    /// returns false; a transfer that was removed by a reorganisation and is seen again (in a new
    /// block) is reinstated with its new block.
    ///
    /// The caller has already decided that the transfer belongs here ([`crate::matching`]).
    ///
    /// # Errors
    /// `wrong_recipient`, `missing_block_time`, `invalid_log` for a removed log.
    pub fn credit(
        &mut self,
        transfer: &Transfer,
        matched_by: MatchedBy,
        review: bool,
    ) -> Result<bool> {
        if transfer.to.bytes() != self.recipient.bytes() {
            return Err(Error::new(
                ErrorKind::WrongRecipient,
                transfer.to.to_string(),
                "not this invoice's recipient",
            ));
        }
        if transfer.removed {
            return Err(Error::new(
                ErrorKind::InvalidLog,
                &transfer.tx_hash,
                "a removed log credits nothing",
            ));
        }
        let block_time = transfer.block_time.ok_or_else(|| {
            Error::new(
                ErrorKind::MissingBlockTime,
                &transfer.tx_hash,
                "add the block time first",
            )
        })?;
        if let Some(entry) = self
            .ledger
            .iter_mut()
            .find(|e| e.tx_hash == transfer.tx_hash && e.log_index == transfer.log_index)
        {
            // A seen entry found again in another block (a reorganisation before finality moved
            // it) follows its transfer; a removed one is reinstated; anything else is known.
            let moved = entry.status == EntryStatus::Seen
                && !entry.block_hash.eq_ignore_ascii_case(&transfer.block_hash);
            if entry.status != EntryStatus::Removed && !moved {
                return Ok(false);
            }
            entry.block_number = transfer.block_number;
            entry.block_hash.clone_from(&transfer.block_hash);
            entry.block_time = block_time;
            entry.status = EntryStatus::Seen;
            return Ok(true);
        }
        self.ledger.push(LedgerEntry {
            tx_hash: transfer.tx_hash.clone(),
            log_index: transfer.log_index,
            from: transfer.from,
            amount: transfer.amount,
            block_number: transfer.block_number,
            block_hash: transfer.block_hash.clone(),
            block_time,
            status: EntryStatus::Seen,
            matched_by,
            review,
        });
        Ok(true)
    }

    /// Sets the status of entry (`tx_hash`, `log_index`); returns false when there is no such
    /// entry or it already had that status. Hosts set [`EntryStatus::Final`] after checking that
    /// the block is final and still canonical, and [`EntryStatus::Removed`] when it is not.
    pub fn set_entry_status(&mut self, tx_hash: &str, log_index: u64, status: EntryStatus) -> bool {
        match self
            .ledger
            .iter_mut()
            .find(|e| e.tx_hash == tx_hash && e.log_index == log_index)
        {
            Some(entry) if entry.status != status => {
                entry.status = status;
                true
            }
            _ => false,
        }
    }

    /// Derives the state, exception and totals at time `now` (unix seconds).
    pub fn status(&self, now: u64) -> Status {
        let paid = self.amount_paid();
        let final_paid = self.sum(|e| e.status == EntryStatus::Final);
        let remaining = self.amount_due.saturating_sub(paid);
        let covered = |amount: Amount| {
            amount
                .checked_add(self.tolerance)
                .is_some_and(|a| a >= self.amount_due)
        };
        let open = now < self.expires_at && !self.cancelled;
        let (state, mut exception) = if paid.is_zero() {
            let removed = self.ledger.iter().any(|e| e.status == EntryStatus::Removed);
            let state = if removed || self.cancelled {
                State::Invalid
            } else if open {
                State::New
            } else {
                State::Expired
            };
            (state, None)
        } else if !covered(paid) {
            (
                if open { State::New } else { State::Expired },
                Some(Exception::PaidPartial),
            )
        } else {
            let state = if covered(final_paid) {
                State::Settled
            } else {
                State::Processing
            };
            let exception = if self.completed_late() {
                Some(Exception::PaidLate)
            } else if paid > self.amount_due {
                Some(Exception::PaidOver)
            } else {
                None
            };
            (state, exception)
        };
        let paid_while_cancelled = self.cancelled && !paid.is_zero();
        if self.marked_for_review
            || paid_while_cancelled
            || self
                .ledger
                .iter()
                .any(|e| e.review && e.status != EntryStatus::Removed)
        {
            exception = Some(Exception::NeedsReview);
        }
        Status {
            state,
            exception,
            amount_paid: paid,
            amount_final: final_paid,
            amount_remaining: if covered(paid) {
                Amount::ZERO
            } else {
                remaining
            },
        }
    }

    /// True when the transfer that brought the paid total to the amount due came after expiry.
    fn completed_late(&self) -> bool {
        let mut total = Amount::ZERO;
        for entry in self
            .ledger
            .iter()
            .filter(|e| e.status != EntryStatus::Removed)
        {
            total = total
                .checked_add(entry.amount)
                .unwrap_or(Amount::from_base_units(u128::MAX));
            if total
                .checked_add(self.tolerance)
                .is_some_and(|t| t >= self.amount_due)
            {
                return entry.block_time > self.expires_at;
            }
        }
        false
    }

    /// Emits an event when the status at `now` differs from the last event's, and records it.
    /// The first call (at creation) emits `invoice.new`.
    pub fn sync(&mut self, now: u64) -> Option<Event> {
        let status = self.status(now);
        let current = (status.state, status.exception);
        if self.last_event == Some(current) {
            return None;
        }
        let in_review = status.exception == Some(Exception::NeedsReview);
        let was_in_review = self
            .last_event
            .is_some_and(|(_, e)| e == Some(Exception::NeedsReview));
        let kind = if in_review {
            if was_in_review {
                // Still in review: the merchant has been told; nothing else is announced until
                // they resolve it (a plain `settled` would ship the goods).
                self.last_event = Some(current);
                return None;
            }
            Exception::NeedsReview.as_str()
        } else {
            let last_state = self.last_event.map(|(state, _)| state);
            if last_state == Some(State::Settled)
                && matches!(status.state, State::New | State::Processing)
                && self.resolution.is_none()
            {
                // Events never go back: no `processing` after `settled`.
                return None;
            }
            match (self.last_event, status.exception) {
                _ if was_in_review => status.state.as_str(),
                (Some((state, _)), Some(exception)) if state == status.state => exception.as_str(),
                _ => status.state.as_str(),
            }
        };
        self.last_event = Some(current);
        self.event_seq += 1;
        Some(Event {
            id: format!("{}:{}", self.id, self.event_seq),
            kind: format!("invoice.{kind}"),
            invoice: self.id.clone(),
            status,
            at: now,
            resolution: self.resolution.take(),
        })
    }

    /// The reservation of its unique amount, for [`crate::amount::allocate_in_pool`]: reusable by
    /// a newer invoice once the invoice expired with nothing paid.
    pub fn reservation(&self, now: u64) -> Reservation {
        let unpaid = self.amount_paid().is_zero();
        Reservation {
            invoice: self.id.clone(),
            amount: self.amount_due,
            expired_unpaid_at: (unpaid && now >= self.expires_at).then_some(self.expires_at),
        }
    }

    /// Cancels the invoice at `now`. Its amount stays reserved through the monitoring window, so a
    /// payment that still arrives is recorded against it (in `needs_review`), never against a
    /// newer invoice.
    ///
    /// # Errors
    /// `invoice_not_cancellable` unless the invoice is open (`new`, before its expiry, not
    /// cancelled) with nothing paid.
    pub fn cancel(&mut self, now: u64) -> Result<()> {
        let status = self.status(now);
        if status.state != State::New || !status.amount_paid.is_zero() || self.cancelled {
            return Err(Error::new(
                ErrorKind::NotCancellable,
                &self.id,
                format!(
                    "an invoice in state {} with {} paid cannot be cancelled",
                    status.state.as_str(),
                    status.amount_paid
                ),
            ));
        }
        self.cancelled = true;
        Ok(())
    }

    /// Returns true when the invoice waits for the merchant's review.
    pub fn in_review(&self, now: u64) -> bool {
        self.status(now).exception == Some(Exception::NeedsReview)
    }

    /// Resolves the merchant's review of an invoice in `needs_review`.
    ///
    /// Accepting takes every payment in its ledger as this invoice's (a cancelled invoice that was
    /// paid becomes a live, paid one). Rejecting takes the transfers that caused the review (those
    /// credited for review, or all of them on a cancelled invoice) out of the ledger and returns
    /// them, for the host to put back on the unmatched list. Either way the next [`Invoice::sync`]
    /// announces the resulting state with the resolution and the merchant's `note`.
    ///
    /// # Errors
    /// `not_in_review` when the invoice is not in review at `now`.
    pub fn resolve_review(
        &mut self,
        accept: bool,
        note: &str,
        now: u64,
    ) -> Result<Vec<LedgerEntry>> {
        if !self.in_review(now) {
            return Err(Error::new(
                ErrorKind::NotInReview,
                &self.id,
                "the invoice is not waiting for a review",
            ));
        }
        let cancelled = self.cancelled;
        let mut returned = Vec::new();
        if accept {
            for entry in &mut self.ledger {
                entry.review = false;
            }
            self.cancelled = false;
        } else {
            let (back, kept): (Vec<LedgerEntry>, Vec<LedgerEntry>) = self
                .ledger
                .drain(..)
                .partition(|e| e.status != EntryStatus::Removed && (e.review || cancelled));
            self.ledger = kept;
            returned = back;
        }
        self.marked_for_review = false;
        self.resolution = Some(Resolution {
            outcome: if accept {
                ReviewOutcome::Accepted
            } else {
                ReviewOutcome::Rejected
            },
            note: note.to_string(),
        });
        Ok(returned)
    }
}
