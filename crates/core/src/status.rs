//! The status document (DESIGN §8) that every host serves and the widget renders.

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::amount::Amount;
use crate::error::Result;
use crate::invoice::{EntryStatus, Exception, Invoice, State};
use crate::network::{Finality, Names, Network};
use crate::uri::payment_uri;
use crate::watch::required_confirmations;

/// The token as the widget shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The token id.
    pub id: String,
    /// The symbol.
    pub symbol: String,
    /// The contract, in the network's form.
    pub contract: Address,
    /// Decimals.
    pub decimals: u8,
    /// True when Tether issues it.
    pub official: bool,
}

/// Finality progress of the newest transfer that is not final yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalityProgress {
    /// Confirmations so far.
    pub seen: u64,
    /// Confirmations the network's policy shows as needed.
    pub required: u64,
}

/// One transfer as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferView {
    /// Transaction hash.
    pub tx: String,
    /// Amount, as a decimal string.
    pub amount: String,
    /// `processing`, `settled` or `removed`.
    pub status: String,
    /// Confirmations so far.
    pub confirmations: u64,
    /// Explorer link, if the network has an explorer.
    pub explorer_url: Option<String>,
}

/// A network the customer may still choose, before the invoice has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Network id.
    pub network: String,
    /// Token id.
    pub token: String,
    /// Display names of the network.
    pub names: Names,
    /// Token symbol.
    pub symbol: String,
    /// Amount due on that network, as a decimal string.
    pub amount: String,
}

/// Where the widget sends the customer's actions; each host names its own endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Links {
    /// POST `{ "network": id, "token": id }` here to choose a network while `choices` is open.
    #[serde(default)]
    pub choose: Option<String>,
    /// POST `{ "tx_hash": hash }` here to claim a payment by its transaction hash.
    #[serde(default)]
    pub claim: Option<String>,
    /// Server-sent events carrying this document, where the host offers them.
    #[serde(default)]
    pub events: Option<String>,
    /// Where a customer gets a fresh invoice after this one expired, where the host allows it.
    #[serde(default)]
    pub new_invoice: Option<String>,
}

/// The status document. Amounts are decimal strings; the JSON Schema is
/// `tests/vectors/schema/status.schema.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDocument {
    /// Invoice id.
    pub invoice: String,
    /// State.
    pub state: State,
    /// Exception, if any.
    pub exception: Option<Exception>,
    /// Network id, `null` while the customer still chooses.
    pub network: Option<String>,
    /// Network display names.
    pub network_names: Option<Names>,
    /// Chain id, for wallets.
    pub chain_id: Option<u64>,
    /// The token.
    pub token: Option<TokenInfo>,
    /// Receiving address, in the network's form.
    pub recipient: Option<Address>,
    /// Amount due (decimal).
    pub amount_due: String,
    /// Amount paid so far (decimal).
    pub amount_paid: String,
    /// Amount left to pay (decimal).
    pub amount_remaining: String,
    /// The QR content for what is left to pay, while the invoice is open.
    pub payment_uri: Option<String>,
    /// End of the payment window, RFC 3339 UTC.
    pub expires_at: String,
    /// Finality progress of the newest pending transfer, if any.
    pub finality: Option<FinalityProgress>,
    /// Transfers credited to the invoice.
    pub transfers: Vec<TransferView>,
    /// Networks still open to choose (empty once chosen).
    pub choices: Vec<Choice>,
    /// Where to send the customer once settled.
    pub return_url: Option<String>,
    /// When to poll again; 0 means the document will not change by itself any more.
    pub poll_after_ms: u64,
    /// The host's endpoints for the customer's actions.
    pub links: Links,
    /// The order's total as the shop priced it (absent when the host does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_total: Option<OrderTotal>,
}

/// The order's total as the shop priced it ("19.99" USD), shown beside the amount to pay so that a
/// customer sees why it differs (the rate, and the unique last digits that identify the payment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTotal {
    /// The total, a decimal string.
    pub amount: String,
    /// Its currency: an ISO 4217 code, or the token's symbol for a price in USDT.
    pub currency: String,
}

/// What the host adds to a status document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusContext {
    /// The current time, unix seconds.
    pub now: u64,
    /// The chain head of the invoice's network, for confirmations; `None` when unknown.
    pub head: Option<u64>,
    /// The return URL.
    pub return_url: Option<String>,
    /// The polling interval while the document can still change.
    pub poll_after_ms: u64,
    /// The host's endpoints for the customer's actions.
    #[serde(default)]
    pub links: Links,
    /// The merchant's stricter confirmations (0: the registry's), shown as the number to wait for.
    #[serde(default, deserialize_with = "zero_when_null")]
    pub min_confirmations: u64,
    /// The order's total as the shop priced it, where the host knows it.
    #[serde(default)]
    pub order_total: Option<OrderTotal>,
}

/// The most decimals a base amount (USDT, before a network is chosen) may have: BSC USDT's 18.
const BASE_AMOUNT_DECIMALS: u8 = 18;

/// Reads an absent, `null` or `undefined` count as 0.
fn zero_when_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> core::result::Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(deserializer)?.unwrap_or(0))
}

/// An invoice as the merchant's API shows it: its status, and every amount also as a decimal
/// string of its token, so a host renders an invoice with one call into the core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    /// The status at the time asked (amounts in base units).
    pub status: crate::invoice::Status,
    /// The amount due, as a decimal.
    pub amount_due: String,
    /// What was paid (transfers not removed), as a decimal.
    pub amount_paid: String,
    /// What is left to pay, as a decimal.
    pub amount_remaining: String,
    /// The ledger entries' amounts as decimals, in ledger order.
    pub transfer_amounts: Vec<String>,
}

impl InvoiceView {
    /// Renders `invoice` of `network` at `now`.
    ///
    /// # Errors
    /// `unknown_token` when the invoice's token is not on `network`.
    pub fn of(invoice: &Invoice, network: &Network, now: u64) -> Result<InvoiceView> {
        let decimals = network.token(Some(&invoice.token))?.decimals;
        let status = invoice.status(now);
        Ok(InvoiceView {
            amount_due: invoice.amount_due.to_decimal(decimals),
            amount_paid: status.amount_paid.to_decimal(decimals),
            amount_remaining: status.amount_remaining.to_decimal(decimals),
            transfer_amounts: invoice
                .ledger
                .iter()
                .map(|e| e.amount.to_decimal(decimals))
                .collect(),
            status,
        })
    }
}

/// The decimals of the USDT amounts hosted providers report (Binance Pay, NOWPayments).
pub const PROVIDER_DECIMALS: u8 = 6;

/// An invoice before the customer picked a network: what the host stores of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenChoice {
    /// The invoice id.
    pub invoice: String,
    /// `new` while it takes payments, or the state the host stored (`invalid` once cancelled).
    pub state: State,
    /// The amount due before the unique tag, as a decimal string of USDT.
    pub base_amount: String,
    /// When the payment window closes, unix seconds.
    #[serde(with = "crate::serde_int")]
    pub expires_at: u64,
    /// The (network, token) pairs the customer may pick, in the merchant's order.
    pub accepted: Vec<ChoiceKey>,
    /// What a hosted provider reported paid for it (issue 16), in base units of its USDT
    /// ([`PROVIDER_DECIMALS`]): the document counts it as paid, as a direct payment's transfers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_paid: Option<String>,
    /// The exception the host stored with a provider's status (`paid_late`, `needs_review`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Exception>,
}

/// A (network, token) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceKey {
    /// Network id.
    pub network: String,
    /// Token id.
    pub token: String,
}

/// Formats unix seconds as RFC 3339 UTC (`2026-11-25T12:30:00Z`).
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), valid for all dates after 1970.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    )
}

impl StatusDocument {
    /// Builds the document of an invoice whose network the customer has not picked yet: the
    /// choices, each with the amount it would cost (the unique amount is allocated on choice).
    ///
    /// # Errors
    /// `unknown_network`, `unknown_token`, or an amount error for a choice the registry refuses.
    pub fn before_choice(open: &OpenChoice, context: &StatusContext) -> Result<StatusDocument> {
        let state = if open.state == State::New && context.now >= open.expires_at {
            State::Expired
        } else {
            open.state
        };
        let payable = state == State::New;
        // The base amount in its canonical form ("19.90" shows as "19.9"), like every amount.
        let due = Amount::from_decimal(&open.base_amount, BASE_AMOUNT_DECIMALS)?;
        let base = due.to_decimal(BASE_AMOUNT_DECIMALS);
        // Paid through a hosted provider: paid and remaining as for a direct payment.
        let paid = match &open.provider_paid {
            Some(units) => Some(Amount::from_decimal(
                &Amount::from_base_units_str(units)?.to_decimal(PROVIDER_DECIMALS),
                BASE_AMOUNT_DECIMALS,
            )?),
            None => None,
        };
        let mut choices = Vec::new();
        if payable {
            for key in &open.accepted {
                let network = crate::network::network(&key.network)?;
                let token = network.token(Some(&key.token))?;
                let amount = Amount::from_decimal(&open.base_amount, token.decimals)?;
                choices.push(Choice {
                    network: network.id.clone(),
                    token: token.id.clone(),
                    names: network.names.clone(),
                    symbol: token.symbol.clone(),
                    amount: amount.to_decimal(token.decimals),
                });
            }
        }
        let mut links = context.links.clone();
        if !payable {
            links.choose = None;
            links.claim = None;
        }
        Ok(StatusDocument {
            invoice: open.invoice.clone(),
            state,
            exception: open.exception,
            network: None,
            network_names: None,
            chain_id: None,
            token: None,
            recipient: None,
            amount_due: base.clone(),
            amount_paid: paid
                .map_or_else(|| "0".to_string(), |p| p.to_decimal(BASE_AMOUNT_DECIMALS)),
            amount_remaining: match paid {
                Some(p) => due.saturating_sub(p).to_decimal(BASE_AMOUNT_DECIMALS),
                None if payable => base,
                None => "0".to_string(),
            },
            payment_uri: None,
            expires_at: rfc3339(open.expires_at),
            finality: None,
            transfers: Vec::new(),
            choices,
            return_url: context.return_url.clone(),
            poll_after_ms: if payable { context.poll_after_ms } else { 0 },
            links,
            order_total: context.order_total.clone(),
        })
    }

    /// Builds the document of `invoice` on `network`.
    ///
    /// # Errors
    /// `unknown_token` when the invoice's token is not on `network`.
    pub fn for_invoice(
        invoice: &Invoice,
        network: &Network,
        context: &StatusContext,
    ) -> Result<StatusDocument> {
        let token = network.token(Some(&invoice.token))?;
        let status = invoice.status(context.now);
        let decimal = |amount: Amount| amount.to_decimal(token.decimals);
        let confirmations = |block: u64| {
            context
                .head
                .map_or(0, |head| Finality::confirmations_at(block, head))
        };
        let transfers = invoice
            .ledger
            .iter()
            .map(|entry| TransferView {
                tx: entry.tx_hash.clone(),
                amount: decimal(entry.amount),
                status: match entry.status {
                    EntryStatus::Seen => "processing",
                    EntryStatus::Final => "settled",
                    EntryStatus::Removed => "removed",
                }
                .to_string(),
                confirmations: confirmations(entry.block_number),
                explorer_url: network.explorer_url(&entry.tx_hash),
            })
            .collect();
        let finality = invoice
            .ledger
            .iter()
            .rev()
            .find(|e| e.status == EntryStatus::Seen)
            .map(|e| {
                let required = required_confirmations(network, context.min_confirmations);
                FinalityProgress {
                    seen: confirmations(e.block_number).min(required),
                    required,
                }
            });
        let payable = status.state == State::New && !status.amount_remaining.is_zero();
        let payment_uri = if payable {
            Some(payment_uri(
                network,
                token,
                &invoice.recipient,
                status.amount_remaining,
            )?)
        } else {
            None
        };
        let done = matches!(status.state, State::Settled | State::Invalid)
            || !invoice.is_watched(context.now);
        Ok(StatusDocument {
            invoice: invoice.id.clone(),
            state: status.state,
            exception: status.exception,
            network: Some(network.id.clone()),
            network_names: Some(network.names.clone()),
            chain_id: Some(network.chain_id),
            token: Some(TokenInfo {
                id: token.id.clone(),
                symbol: token.symbol.clone(),
                contract: token.contract,
                decimals: token.decimals,
                official: token.official,
            }),
            recipient: Some(invoice.recipient.with_family(network.family)),
            amount_due: decimal(invoice.amount_due),
            amount_paid: decimal(status.amount_paid),
            amount_remaining: decimal(status.amount_remaining),
            payment_uri,
            expires_at: rfc3339(invoice.expires_at),
            finality,
            transfers,
            choices: Vec::new(),
            return_url: context.return_url.clone(),
            poll_after_ms: if done { 0 } else { context.poll_after_ms },
            links: context.links.clone(),
            order_total: context.order_total.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_609_800), "2026-11-25T12:30:00Z");
    }
}
