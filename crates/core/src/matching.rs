//! Which invoice a transfer belongs to, by unique amount or by a claimed transaction hash.
//!
//! The rules (DESIGN §2): a transfer credits an invoice only if its token contract is the
//! registry's for the invoice's token, its recipient is the invoice's address, its block time is
//! not before the invoice's creation (less [`CLOCK_SKEW_SECS`]) nor after the monitoring window,
//! and it has not credited any invoice before. Hosts back the last rule with a unique index on
//! (network, tx hash, log index).

use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::error::{Error, ErrorKind, Result};
use crate::invoice::{Invoice, CLOCK_SKEW_SECS};
use crate::log::Transfer;
use crate::network::Network;

/// What to do with a transfer seen on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Credit it to this invoice (into `needs_review` when `review`: another invoice, whose
    /// reservation of this amount was released to it, could own it too).
    Credit {
        /// The invoice id.
        invoice: String,
        /// True when the credit needs the merchant's review.
        #[serde(default, skip_serializing_if = "core::ops::Not::not")]
        review: bool,
    },
    /// It is already in this invoice's ledger; crediting again changes nothing (a reorganised
    /// transfer seen again in a new block is reinstated by [`Invoice::credit`]).
    Known {
        /// The invoice id.
        invoice: String,
    },
    /// Several watched invoices expect this amount; credit none and keep it for review.
    Ambiguous {
        /// The candidate invoice ids.
        invoices: Vec<String>,
    },
    /// A valid transfer to a watched address that no invoice expects (wrong amount); keep it,
    /// the customer may claim it by transaction hash.
    Unmatched,
    /// Not a payment to any watched invoice.
    Ignored {
        /// Why, as an error kind: `wrong_token`, `wrong_recipient`, `transfer_before_invoice`,
        /// `transfer_after_window`, `missing_block_time`, or `invalid_log` for a removed log.
        reason: String,
    },
}

fn ignored(kind: ErrorKind) -> Decision {
    Decision::Ignored {
        reason: kind.code().to_string(),
    }
}

/// Returns true when `block_time` is inside `invoice`'s window.
fn in_window(invoice: &Invoice, block_time: u64) -> bool {
    block_time.saturating_add(CLOCK_SKEW_SECS) >= invoice.created_at
        && block_time <= invoice.monitor_until
}

/// Decides which of `invoices` (the host's watched invoices on `network`; others are skipped)
/// `transfer` pays, by its unique amount.
///
/// ```
/// use stablegate_core::{network, Amount, Invoice, InvoiceTerms, matching::{match_transfer, Decision}};
/// # use stablegate_core::{Address, Family, Transfer};
/// let devnet = network("devnet").unwrap();
/// let terms = InvoiceTerms { id: "inv_1".into(), network: "devnet".into(), token: None,
///     recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8".into(),
///     amount_due: Amount::from_base_units(19_990_000), tolerance: Amount::ZERO,
///     created_at: 1_000, expires_in: 900, monitoring: 86_400 };
/// let invoice = Invoice::new(devnet, &terms).unwrap();
/// let transfer = Transfer { token: devnet.tokens[0].contract, from: invoice.recipient,
///     to: invoice.recipient, amount: Amount::from_base_units(19_990_000),
///     tx_hash: format!("0x{}", "ab".repeat(32)), log_index: 0, block_number: 5,
///     block_hash: format!("0x{}", "cd".repeat(32)), removed: false, block_time: Some(1_100) };
/// assert_eq!(match_transfer(devnet, &[invoice], &transfer), Decision::Credit { invoice: "inv_1".into(), review: false });
/// ```
pub fn match_transfer(network: &Network, invoices: &[Invoice], transfer: &Transfer) -> Decision {
    let on_network = || invoices.iter().filter(|i| i.network == network.id);
    if let Some(owner) =
        on_network().find(|i| i.entry(&transfer.tx_hash, transfer.log_index).is_some())
    {
        return Decision::Known {
            invoice: owner.id.clone(),
        };
    }
    if transfer.removed {
        return ignored(ErrorKind::InvalidLog);
    }
    let Some(token) = network.token_by_contract(&transfer.token) else {
        return ignored(ErrorKind::WrongToken);
    };
    let to_address: Vec<&Invoice> = on_network()
        .filter(|i| i.token == token.id && i.recipient.bytes() == transfer.to.bytes())
        .collect();
    if to_address.is_empty() {
        return ignored(ErrorKind::WrongRecipient);
    }
    let Some(block_time) = transfer.block_time else {
        return ignored(ErrorKind::MissingBlockTime);
    };
    let in_time: Vec<&Invoice> = to_address
        .iter()
        .copied()
        .filter(|i| in_window(i, block_time))
        .collect();
    if in_time.is_empty() {
        let early = to_address
            .iter()
            .any(|i| block_time.saturating_add(CLOCK_SKEW_SECS) < i.created_at);
        return ignored(if early {
            ErrorKind::TransferBeforeInvoice
        } else {
            ErrorKind::TransferAfterWindow
        });
    }
    let (released, holders): (Vec<&Invoice>, Vec<&Invoice>) = in_time
        .iter()
        .copied()
        .filter(|i| i.expects(transfer.amount))
        .partition(|i| i.released);
    // The invoice that holds the amount's reservation owns it; an older one whose reservation was
    // released to it could own it too, and then the merchant decides (DESIGN §5, reserved amounts).
    match (holders.as_slice(), released.as_slice()) {
        ([], []) => Decision::Unmatched,
        ([holder], others) | ([], others @ [holder]) => Decision::Credit {
            invoice: holder.id.clone(),
            review: !others.is_empty() || holder.released,
        },
        _ => {
            let mut invoices: Vec<String> = holders
                .iter()
                .chain(&released)
                .map(|i| i.id.clone())
                .collect();
            invoices.sort();
            Decision::Ambiguous { invoices }
        }
    }
}

/// The merchant's claim policy (DESIGN §5, claim by transaction hash).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimPolicy {
    /// Claims of transfers up to this amount credit without review; zero (the default) sends
    /// every claim the claimer cannot be shown to own to the merchant's review.
    #[serde(default)]
    pub auto_accept_up_to: Amount,
}

/// The verdict on a customer's claim that a transfer pays an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimVerdict {
    /// True when the credit puts the invoice into `needs_review`: nothing shows that the claimer
    /// owns the transfer, so no order ships on it until the merchant accepts it.
    pub review: bool,
}

/// Checks a claim that `transfer` (fetched by the server itself, from a successful transaction)
/// pays `target`, with the rules of DESIGN §2, against all watched `invoices` of the network, and
/// applies the claim policy of DESIGN §5.
///
/// On a shared address a transaction hash proves nothing about who paid. So: a transfer of exactly
/// the amount another watched invoice expects belongs to that invoice, whatever is claimed
/// (`reserved_for_another_invoice`), unless the target expects it too (then it credits for
/// review); a transfer of the amount the target alone expects credits it plainly (the watcher
/// would have); any other claimed transfer credits the target for review,
/// unless the merchant's `policy` auto-accepts claims of that size.
///
/// # Errors
/// `already_credited`, `invalid_log` for a removed log, `wrong_token`, `wrong_recipient`,
/// `missing_block_time`, `transfer_before_invoice`, `transfer_after_window`,
/// `reserved_for_another_invoice`.
pub fn claim_transfer(
    network: &Network,
    invoices: &[Invoice],
    target: &Invoice,
    transfer: &Transfer,
    policy: &ClaimPolicy,
) -> Result<ClaimVerdict> {
    let err = |kind: ErrorKind, detail: &str| {
        Err(Error::new(kind, &transfer.tx_hash, detail.to_string()))
    };
    let everyone = invoices.iter().chain(core::iter::once(target));
    if let Some(owner) = everyone
        .clone()
        .find(|i| i.entry(&transfer.tx_hash, transfer.log_index).is_some())
    {
        // The message may reach the claiming customer: it never names another invoice.
        let which = if owner.id == target.id {
            "this invoice"
        } else {
            "another invoice"
        };
        return err(
            ErrorKind::AlreadyCredited,
            &format!("this transfer already credited {which}"),
        );
    }
    if target.network != network.id {
        return err(
            ErrorKind::WrongToken,
            &format!(
                "the invoice is on {}, not on {}",
                target.network, network.id
            ),
        );
    }
    if transfer.removed {
        return err(
            ErrorKind::InvalidLog,
            "the log was removed by a reorganisation",
        );
    }
    let token = network.token(Some(&target.token))?;
    if token.contract.bytes() != transfer.token.bytes() {
        return err(
            ErrorKind::WrongToken,
            &format!(
                "the transfer is not of the {} contract {}",
                token.symbol, token.contract
            ),
        );
    }
    if target.recipient.bytes() != transfer.to.bytes() {
        return err(
            ErrorKind::WrongRecipient,
            "the transfer went to another address",
        );
    }
    let Some(block_time) = transfer.block_time else {
        return err(
            ErrorKind::MissingBlockTime,
            "the transfer has no block time",
        );
    };
    if block_time.saturating_add(CLOCK_SKEW_SECS) < target.created_at {
        return err(
            ErrorKind::TransferBeforeInvoice,
            "the transfer happened before the invoice was created",
        );
    }
    if block_time > target.monitor_until {
        return err(
            ErrorKind::TransferAfterWindow,
            "the transfer happened after the invoice's monitoring window",
        );
    }
    let another_owns = everyone
        .filter(|i| i.id != target.id && i.network == network.id && !i.released)
        .any(|i| {
            i.token == target.token
                && i.recipient.bytes() == transfer.to.bytes()
                && in_window(i, block_time)
                && i.expects(transfer.amount)
        });
    let own_amount = target.expects(transfer.amount) && !target.released;
    if another_owns {
        if own_amount {
            // Both expect it (the target's remainder equals the other's amount): the watcher
            // credited neither; the claim may credit the target, for the merchant to decide.
            return Ok(ClaimVerdict { review: true });
        }
        return err(
            ErrorKind::ReservedForAnotherInvoice,
            "this is exactly the amount another open invoice expects; it is that invoice's payment",
        );
    }
    let auto_accepted =
        !policy.auto_accept_up_to.is_zero() && transfer.amount <= policy.auto_accept_up_to;
    Ok(ClaimVerdict {
        review: !(own_amount || auto_accepted),
    })
}
