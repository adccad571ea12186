//! The host-side half of the JS API: the registry, invoices, matching, log decoding, webhooks and
//! the status document. Built into `pkg/node` and `pkg/web` (feature `server`, on by default),
//! left out of the widget's build.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use stablegate_core::amount::{allocate_amount, fiat_to_token};
use stablegate_core::invoice::{EntryStatus, MatchedBy};
use stablegate_core::matching::{claim_transfer, match_transfer};
use stablegate_core::status::StatusContext;
use stablegate_core::{log, uri, webhook, Amount, Invoice, InvoiceTerms, StatusDocument, Transfer};
use wasm_bindgen::prelude::*;

use crate::{base_units, core_error, js_error, network, JsResult};

fn from_js<T: DeserializeOwned>(what: &str, value: JsValue) -> JsResult<T> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| js_error("invalid_input", &format!("{what}: {e}")))
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsResult<JsValue> {
    // json_compatible: plain objects, not Maps, and u64 as numbers only where they fit.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error("invalid_input", &e.to_string()))
}

fn parse_u64(what: &str, text: &str) -> JsResult<u64> {
    text.parse().map_err(|_| {
        js_error(
            "invalid_input",
            &format!("{what} must be a decimal integer string, got {text:?}"),
        )
    })
}

/// Returns the built-in network registry: an array of networks with their tokens.
#[wasm_bindgen(unchecked_return_type = "RegistryNetwork[]")]
pub fn networks() -> JsResult<JsValue> {
    to_js(&crate::registry::builtin().networks)
}

/// Parses `text` as an address of `network`; returns `{ address, hex }` (display form, and
/// `0x` + 40 lower-case hex).
#[wasm_bindgen(js_name = parseAddress, unchecked_return_type = "ParsedAddress")]
pub fn parse_address(network_id: &str, text: &str) -> JsResult<JsValue> {
    #[derive(Serialize)]
    struct Parsed {
        address: String,
        hex: String,
    }
    let address = network(network_id)?
        .parse_address(text)
        .map_err(core_error)?;
    to_js(&Parsed {
        address: address.to_string(),
        hex: address.to_hex(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FiatArgs {
    network: String,
    token: Option<String>,
    fiat_amount: String,
    rate: String,
    precision: Option<String>,
}

/// Converts `{ network, token?, fiatAmount, rate, precision? }` (decimal strings; `rate` in
/// tokens per unit of fiat; `precision` defaults to `"0.01"`) to base units, rounded up.
#[wasm_bindgen(js_name = fiatToToken)]
pub fn fiat_to_token_js(
    #[wasm_bindgen(unchecked_param_type = "FiatToTokenArgs")] args: JsValue,
) -> JsResult<String> {
    let args: FiatArgs = from_js("fiatToToken", args)?;
    let token = network(&args.network)?
        .token(args.token.as_deref())
        .map_err(core_error)?;
    let precision = args.precision.as_deref().unwrap_or("0.01");
    Ok(
        fiat_to_token(&args.fiat_amount, &args.rate, precision, token.decimals)
            .map_err(core_error)?
            .to_string(),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllocateArgs {
    base_units: String,
    step_units: String,
    max_slots: String,
    taken: Vec<String>,
}

/// Picks the smallest free amount `baseUnits + k × stepUnits` (k < maxSlots) not in `taken`
/// (all base-unit integer strings); returns `{ amount, slot }` (strings). Throws
/// `amount_band_full` when none is free.
#[wasm_bindgen(js_name = allocateAmount, unchecked_return_type = "Allocation")]
pub fn allocate_amount_js(
    #[wasm_bindgen(unchecked_param_type = "AllocateAmountArgs")] args: JsValue,
) -> JsResult<JsValue> {
    let args: AllocateArgs = from_js("allocateAmount", args)?;
    let max_slots = parse_u64("maxSlots", &args.max_slots)?;
    let taken = args
        .taken
        .iter()
        .map(|t| base_units(t))
        .collect::<JsResult<Vec<Amount>>>()?;
    let allocation = allocate_amount(
        base_units(&args.base_units)?,
        base_units(&args.step_units)?,
        max_slots,
        &taken,
    );
    to_js(&allocation.map_err(core_error)?)
}

#[derive(Deserialize)]
struct UriArgs {
    network: String,
    token: Option<String>,
    recipient: String,
    amount: String,
}

/// Returns the QR payment request for `{ network, token?, recipient, amount }` (`amount` a
/// decimal string): EIP-681 on EVM networks, the bare address on TRON.
#[wasm_bindgen(js_name = paymentUri)]
pub fn payment_uri(
    #[wasm_bindgen(unchecked_param_type = "PaymentUriArgs")] args: JsValue,
) -> JsResult<String> {
    let args: UriArgs = from_js("paymentUri", args)?;
    let network = network(&args.network)?;
    let token = network.token(args.token.as_deref()).map_err(core_error)?;
    let recipient = network.parse_address(&args.recipient).map_err(core_error)?;
    let amount = Amount::from_decimal(&args.amount, token.decimals).map_err(core_error)?;
    uri::payment_uri(network, token, &recipient, amount).map_err(core_error)
}

/// Returns the `Stablegate-Signature` header value for `body` sent at `timestamp` (unix seconds).
#[wasm_bindgen(js_name = signWebhook)]
pub fn sign_webhook(secret: &str, body: &str, timestamp: f64) -> JsResult<String> {
    Ok(webhook::sign(
        secret,
        body,
        unix_seconds("timestamp", timestamp)?,
    ))
}

/// Verifies a `Stablegate-Signature` header; returns true or throws (`invalid_signature_header`,
/// `timestamp_out_of_window`, `signature_mismatch`). `tolerance` defaults to 300 seconds.
#[wasm_bindgen(js_name = verifyWebhook)]
pub fn verify_webhook(
    secret: &str,
    header: &str,
    body: &str,
    now: f64,
    tolerance: Option<f64>,
) -> JsResult<bool> {
    let tolerance = match tolerance {
        Some(t) => unix_seconds("tolerance", t)?,
        None => webhook::DEFAULT_TOLERANCE_SECS,
    };
    webhook::verify(secret, header, body, unix_seconds("now", now)?, tolerance)
        .map_err(core_error)?;
    Ok(true)
}

/// Accepts unix seconds as a JS number only when it is a non-negative integer.
fn unix_seconds(what: &str, value: f64) -> JsResult<u64> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= 9_007_199_254_740_991.0
    {
        Ok(value as u64)
    } else {
        Err(js_error(
            "invalid_input",
            &format!("{what} must be whole unix seconds, got {value}"),
        ))
    }
}

/// Decodes an `eth_getLogs` result object of `network` into a transfer
/// `{ token, from, to, amount, tx_hash, log_index, block_number, block_hash, removed, block_time? }`.
#[wasm_bindgen(js_name = decodeTransferLog, unchecked_return_type = "Transfer")]
pub fn decode_transfer_log(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "EthLog")] log_object: JsValue,
) -> JsResult<JsValue> {
    let value: serde_json::Value = from_js("log", log_object)?;
    to_js(&log::decode_transfer_log(network(network_id)?, &value).map_err(core_error)?)
}

/// Returns true when a transfer in `block` is final on `network`, given the chain `head` and the
/// block number of the network's finality tag (`tagged`, or undefined when the node gave none).
#[wasm_bindgen(js_name = isFinal)]
pub fn is_final(network_id: &str, block: f64, head: f64, tagged: Option<f64>) -> JsResult<bool> {
    let tagged = tagged.map(|t| unix_seconds("tagged", t)).transpose()?;
    Ok(network(network_id)?.finality.is_final(
        unix_seconds("block", block)?,
        unix_seconds("head", head)?,
        tagged,
    ))
}

/// Creates an invoice record from terms `{ id, network, token?, recipient, amount_due,
/// tolerance?, created_at, expires_in, monitoring }` (integers as strings).
#[wasm_bindgen(js_name = createInvoice, unchecked_return_type = "Invoice")]
pub fn create_invoice(
    #[wasm_bindgen(unchecked_param_type = "InvoiceTerms")] terms: JsValue,
) -> JsResult<JsValue> {
    let terms: InvoiceTerms = from_js("terms", terms)?;
    to_js(&Invoice::new(network(&terms.network)?, &terms).map_err(core_error)?)
}

/// Returns `{ state, exception, amount_paid, amount_final, amount_remaining }` of an invoice at
/// `now` (unix seconds).
#[wasm_bindgen(js_name = invoiceStatus, unchecked_return_type = "InvoiceStatus")]
pub fn invoice_status(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    now: f64,
) -> JsResult<JsValue> {
    let invoice: Invoice = from_js("invoice", invoice)?;
    to_js(&invoice.status(unix_seconds("now", now)?))
}

/// Decides which of `invoices` a transfer pays: `{ decision: "credit" | "known" | "ambiguous" |
/// "unmatched" | "ignored", invoice?, invoices?, reason? }`.
#[wasm_bindgen(js_name = matchTransfer, unchecked_return_type = "MatchDecision")]
pub fn match_transfer_js(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "Invoice[]")] invoices: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Transfer")] transfer: JsValue,
) -> JsResult<JsValue> {
    let invoices: Vec<Invoice> = from_js("invoices", invoices)?;
    let transfer: Transfer = from_js("transfer", transfer)?;
    to_js(&match_transfer(network(network_id)?, &invoices, &transfer))
}

/// Checks a customer's claim that `transfer` pays `target`; returns `{ review }` or throws.
#[wasm_bindgen(js_name = claimTransfer, unchecked_return_type = "ClaimVerdict")]
pub fn claim_transfer_js(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "Invoice[]")] invoices: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Invoice")] target: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Transfer")] transfer: JsValue,
) -> JsResult<JsValue> {
    let invoices: Vec<Invoice> = from_js("invoices", invoices)?;
    let target: Invoice = from_js("target", target)?;
    let transfer: Transfer = from_js("transfer", transfer)?;
    to_js(&claim_transfer(network(network_id)?, &invoices, &target, &transfer).map_err(core_error)?)
}

#[derive(Serialize)]
struct Changed {
    invoice: Invoice,
    changed: bool,
}

/// Credits `transfer` to `invoice` (`matchedBy` is `"amount"` or `"claim"`); returns
/// `{ invoice, changed }` with the updated record.
#[wasm_bindgen(js_name = creditTransfer, unchecked_return_type = "InvoiceChange")]
pub fn credit_transfer(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Transfer")] transfer: JsValue,
    #[wasm_bindgen(unchecked_param_type = "MatchedBy")] matched_by: &str,
    review: bool,
) -> JsResult<JsValue> {
    let mut invoice: Invoice = from_js("invoice", invoice)?;
    let transfer: Transfer = from_js("transfer", transfer)?;
    let matched_by: MatchedBy = from_js("matchedBy", matched_by.into())?;
    let changed = invoice
        .credit(&transfer, matched_by, review)
        .map_err(core_error)?;
    to_js(&Changed { invoice, changed })
}

/// Sets a ledger entry's status (`"seen"`, `"final"`, `"removed"`); returns `{ invoice, changed }`.
#[wasm_bindgen(js_name = setEntryStatus, unchecked_return_type = "InvoiceChange")]
pub fn set_entry_status(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    tx_hash: &str,
    log_index: &str,
    #[wasm_bindgen(unchecked_param_type = "EntryStatus")] status: &str,
) -> JsResult<JsValue> {
    let mut invoice: Invoice = from_js("invoice", invoice)?;
    let status: EntryStatus = from_js("status", status.into())?;
    let changed = invoice.set_entry_status(tx_hash, parse_u64("logIndex", log_index)?, status);
    to_js(&Changed { invoice, changed })
}

/// Emits the invoice's next event, if its status changed: returns `{ invoice, event }` with
/// `event` null when nothing changed.
#[wasm_bindgen(js_name = syncInvoice, unchecked_return_type = "InvoiceSync")]
pub fn sync_invoice(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    now: f64,
) -> JsResult<JsValue> {
    #[derive(Serialize)]
    struct Synced {
        invoice: Invoice,
        event: Option<stablegate_core::Event>,
    }
    let mut invoice: Invoice = from_js("invoice", invoice)?;
    let event = invoice.sync(unix_seconds("now", now)?);
    to_js(&Synced { invoice, event })
}

/// Builds the status document of `invoice` with `context` `{ now, head?, return_url?,
/// poll_after_ms }` (numbers).
#[wasm_bindgen(js_name = statusDocument, unchecked_return_type = "StatusDocument")]
pub fn status_document(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    #[wasm_bindgen(unchecked_param_type = "StatusContext")] context: JsValue,
) -> JsResult<JsValue> {
    let invoice: Invoice = from_js("invoice", invoice)?;
    let context: StatusContext = from_js("context", context)?;
    to_js(
        &StatusDocument::for_invoice(&invoice, network(&invoice.network)?, &context)
            .map_err(core_error)?,
    )
}
