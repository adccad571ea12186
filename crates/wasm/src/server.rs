//! The host-side half of the JS API: the registry, invoices, matching, log decoding, webhooks and
//! the status document. Built into `pkg/node` and `pkg/web` (feature `server`, on by default),
//! left out of the widget's build.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use stablegate_core::amount::{
    allocate_amount, allocate_in_pool, fiat_to_token, PoolAddress, Reservation,
};
use stablegate_core::invoice::{EntryStatus, LedgerEntry, MatchedBy};
use stablegate_core::matching::{claim_transfer, match_transfer, ClaimPolicy};
use stablegate_core::provider;
use stablegate_core::status::{InvoiceView, OpenChoice, StatusContext};
use stablegate_core::watch::{self, PollInput, PollPlanInput};
use stablegate_core::{
    log, rate, uri, webhook, Amount, Invoice, InvoiceTerms, StatusDocument, Transfer,
};
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
    uri::payment_uri_from_text(
        network(&args.network)?,
        args.token.as_deref(),
        &args.recipient,
        &args.amount,
    )
    .map_err(core_error)
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

/// Returns the `BinancePay-Signature` of a merchant request (uppercase hex HMAC-SHA512 over
/// `timestamp\nnonce\nbody\n`); throws `invalid_signature_header`.
#[wasm_bindgen(js_name = binanceSign)]
pub fn binance_sign(secret: &str, timestamp: &str, nonce: &str, body: &str) -> JsResult<String> {
    provider::binance_sign(secret, timestamp, nonce, body).map_err(core_error)
}

/// Verifies a Binance Pay webhook (RSA-SHA256, base64 signature) against `publicKey`, the
/// `certPublic` of the certificate named by `BinancePay-Certificate-SN`; returns true or throws
/// (`invalid_signature_header`, `invalid_public_key`, `timestamp_out_of_window`,
/// `signature_mismatch`). `nowMs` is unix milliseconds; `toleranceMs` defaults to 300000.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen(js_name = binanceVerifyWebhook)]
pub fn binance_verify_webhook(
    public_key: &str,
    timestamp: &str,
    nonce: &str,
    body: &str,
    signature: &str,
    now_ms: f64,
    tolerance_ms: Option<f64>,
) -> JsResult<bool> {
    let tolerance = match tolerance_ms {
        Some(t) => unix_seconds("toleranceMs", t)?,
        None => provider::BINANCE_WEBHOOK_TOLERANCE_MS,
    };
    provider::binance_verify_webhook(
        public_key,
        timestamp,
        nonce,
        body,
        signature,
        unix_seconds("nowMs", now_ms)?,
        tolerance,
    )
    .map_err(core_error)?;
    Ok(true)
}

/// Returns the text NOWPayments signs for an IPN body (recursively key-sorted, as its Node example).
#[wasm_bindgen(js_name = nowpaymentsCanonical)]
pub fn nowpayments_canonical(body: &str) -> JsResult<String> {
    provider::nowpayments_canonical(body).map_err(core_error)
}

/// Returns the `x-nowpayments-sig` of an IPN body (for tests that sign as NOWPayments does).
#[wasm_bindgen(js_name = nowpaymentsSignIpn)]
pub fn nowpayments_sign_ipn(secret: &str, body: &str) -> JsResult<String> {
    provider::nowpayments_sign_ipn(secret, body).map_err(core_error)
}

/// Verifies `x-nowpayments-sig`; returns true or throws (`invalid_signature_header`,
/// `invalid_provider_payload`, `signature_mismatch`).
#[wasm_bindgen(js_name = nowpaymentsVerifyIpn)]
pub fn nowpayments_verify_ipn(secret: &str, body: &str, signature: &str) -> JsResult<bool> {
    provider::nowpayments_verify_ipn(secret, body, signature).map_err(core_error)?;
    Ok(true)
}

/// Maps a provider's status to `{ state, exception }`; throws `invalid_provider_payload`.
#[wasm_bindgen(js_name = providerStatus)]
pub fn provider_status(provider_name: &str, status: &str) -> JsResult<JsValue> {
    to_js(&provider::provider_status(provider_name, status).map_err(core_error)?)
}

/// Reads a provider's amount (the JSON text of a number or string) as base units (a decimal string).
#[wasm_bindgen(js_name = providerAmount)]
pub fn provider_amount(json: &str, decimals: u8) -> JsResult<String> {
    Ok(provider::provider_amount(json, decimals)
        .map_err(core_error)?
        .to_string())
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

/// Returns true when a transfer in `block` is final on `network`, given the chain `head`, the
/// block number of the network's finality tag (`tagged`, or undefined when the node gave none)
/// and the merchant's stricter `minConfirmations` (0 or undefined: the registry's).
#[wasm_bindgen(js_name = isFinal)]
pub fn is_final(
    network_id: &str,
    block: f64,
    head: f64,
    tagged: Option<f64>,
    min_confirmations: Option<f64>,
) -> JsResult<bool> {
    let tagged = tagged.map(|t| unix_seconds("tagged", t)).transpose()?;
    let min = min_confirmations
        .map(|m| unix_seconds("minConfirmations", m))
        .transpose()?
        .unwrap_or(0);
    Ok(watch::is_final(
        network(network_id)?,
        unix_seconds("block", block)?,
        unix_seconds("head", head)?,
        tagged,
        min,
    ))
}

/// Plans one watcher poll of one (network, token): the block range to search and the pending
/// entries whose blocks to check (core `watch::plan_poll`).
#[wasm_bindgen(js_name = planPoll, unchecked_return_type = "PollPlan")]
pub fn plan_poll(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "PollPlanInput")] input: JsValue,
) -> JsResult<JsValue> {
    let input: PollPlanInput = from_js("plan", input)?;
    to_js(&watch::plan_poll(network(network_id)?, &input))
}

/// Decides how a host watches a network: the merchant's own RPC URLs with their settings, or the
/// registry's public endpoints with a poll interval, range and batch size within their limits
/// (core `watch::watch_settings`).
#[wasm_bindgen(js_name = watchSettings, unchecked_return_type = "WatchSettings")]
pub fn watch_settings(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "WatchRequest")] request: JsValue,
) -> JsResult<JsValue> {
    let request: watch::WatchRequest = from_js("request", request)?;
    to_js(&watch::watch_settings(network(network_id)?, &request))
}

/// Applies one watcher poll of one (network, token): every ledger write, changed invoice record,
/// event and the next cursor, for the host to store in one transaction (core `watch::apply_poll`).
#[wasm_bindgen(js_name = applyPoll, unchecked_return_type = "PollOutcome")]
pub fn apply_poll(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "PollInput")] input: JsValue,
) -> JsResult<JsValue> {
    let input: PollInput = from_js("poll", input)?;
    to_js(&watch::apply_poll(network(network_id)?, &input).map_err(core_error)?)
}

/// Chooses the receiving address and unique amount of a new invoice over the merchant's pool;
/// `reuses` names the expired unpaid invoice whose reservation it takes over, if any.
#[wasm_bindgen(js_name = allocateInPool, unchecked_return_type = "PoolAllocation")]
pub fn allocate_in_pool_js(
    #[wasm_bindgen(unchecked_param_type = "AllocateInPoolArgs")] args: JsValue,
) -> JsResult<JsValue> {
    /// An address of the pool with its reservations, or with the watched invoices holding them
    /// (and `now`), from which the core derives the reservations.
    #[derive(Deserialize)]
    struct Address {
        recipient: String,
        #[serde(default)]
        reserved: Vec<Reservation>,
        #[serde(default)]
        invoices: Vec<Invoice>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Args {
        base_units: String,
        step_units: String,
        max_slots: String,
        pool: Vec<Address>,
        #[serde(default)]
        now: u64,
    }
    let args: Args = from_js("allocateInPool", args)?;
    let pool: Vec<PoolAddress> = args
        .pool
        .into_iter()
        .map(|a| PoolAddress {
            recipient: a.recipient,
            reserved: a
                .reserved
                .into_iter()
                .chain(a.invoices.iter().map(|i| i.reservation(args.now)))
                .collect(),
        })
        .collect();
    let allocation = allocate_in_pool(
        base_units(&args.base_units)?,
        base_units(&args.step_units)?,
        parse_u64("maxSlots", &args.max_slots)?,
        &pool,
    );
    to_js(&allocation.map_err(core_error)?)
}

/// Resolves the merchant's review of an invoice in `needs_review` (`accept` or reject, with a
/// note); returns `{ invoice, returned, event }`: the transfers a rejection takes out of the
/// ledger (back to the unmatched list) and the event announcing the resolution.
#[wasm_bindgen(js_name = resolveReview, unchecked_return_type = "ReviewResolution")]
pub fn resolve_review(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    accept: bool,
    note: &str,
    now: f64,
) -> JsResult<JsValue> {
    #[derive(Serialize)]
    struct Resolved {
        invoice: Invoice,
        returned: Vec<LedgerEntry>,
        event: Option<stablegate_core::Event>,
    }
    let mut invoice: Invoice = from_js("invoice", invoice)?;
    let now = unix_seconds("now", now)?;
    let returned = invoice
        .resolve_review(accept, note, now)
        .map_err(core_error)?;
    let event = invoice.sync(now);
    to_js(&Resolved {
        invoice,
        returned,
        event,
    })
}

/// Cancels an open, unpaid invoice at `now`; returns `{ invoice, event }` with the event that
/// announces it. Throws `invoice_not_cancellable` otherwise.
#[wasm_bindgen(js_name = cancelInvoice, unchecked_return_type = "InvoiceSync")]
pub fn cancel_invoice(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    now: f64,
) -> JsResult<JsValue> {
    #[derive(Serialize)]
    struct Cancelled {
        invoice: Invoice,
        event: Option<stablegate_core::Event>,
    }
    let mut invoice: Invoice = from_js("invoice", invoice)?;
    let now = unix_seconds("now", now)?;
    invoice.cancel(now).map_err(core_error)?;
    let event = invoice.sync(now);
    to_js(&Cancelled { invoice, event })
}

/// Builds the status document of an invoice whose network is not chosen yet (`open`).
#[wasm_bindgen(js_name = statusBeforeChoice, unchecked_return_type = "StatusDocument")]
pub fn status_before_choice(
    #[wasm_bindgen(unchecked_param_type = "OpenChoice")] open: JsValue,
    #[wasm_bindgen(unchecked_param_type = "StatusContext")] context: JsValue,
) -> JsResult<JsValue> {
    let open: OpenChoice = from_js("open", open)?;
    let context: StatusContext = from_js("context", context)?;
    to_js(&StatusDocument::before_choice(&open, &context).map_err(core_error)?)
}

/// Reads the rate at `path` of a rate source's JSON answer, as the literal number (inverted
/// exactly when `invert`); throws `invalid_rate` naming the path.
#[wasm_bindgen(js_name = readRate)]
pub fn read_rate(json: &str, path: &str, invert: bool) -> JsResult<String> {
    rate::read_rate(json, path, invert).map_err(core_error)
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

/// Renders an invoice at `now` (unix seconds): `{ status, amount_due, amount_paid,
/// amount_remaining, transfer_amounts }`, every amount also as a decimal of its token, in one call.
#[wasm_bindgen(js_name = invoiceView, unchecked_return_type = "InvoiceView")]
pub fn invoice_view(
    #[wasm_bindgen(unchecked_param_type = "Invoice")] invoice: JsValue,
    now: f64,
) -> JsResult<JsValue> {
    let invoice: Invoice = from_js("invoice", invoice)?;
    let network = network(&invoice.network)?;
    to_js(&InvoiceView::of(&invoice, network, unix_seconds("now", now)?).map_err(core_error)?)
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

/// Checks a customer's claim that `transfer` pays `target` under the merchant's claim `policy`
/// (optional); returns `{ review }` or throws (`reserved_for_another_invoice` when another watched
/// invoice expects exactly this amount).
#[wasm_bindgen(js_name = claimTransfer, unchecked_return_type = "ClaimVerdict")]
pub fn claim_transfer_js(
    network_id: &str,
    #[wasm_bindgen(unchecked_param_type = "Invoice[]")] invoices: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Invoice")] target: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Transfer")] transfer: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ClaimPolicy | undefined")] policy: JsValue,
) -> JsResult<JsValue> {
    let invoices: Vec<Invoice> = from_js("invoices", invoices)?;
    let target: Invoice = from_js("target", target)?;
    let transfer: Transfer = from_js("transfer", transfer)?;
    let policy: ClaimPolicy = if policy.is_undefined() || policy.is_null() {
        ClaimPolicy::default()
    } else {
        from_js("policy", policy)?
    };
    to_js(
        &claim_transfer(network(network_id)?, &invoices, &target, &transfer, &policy)
            .map_err(core_error)?,
    )
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
