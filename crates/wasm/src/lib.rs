//! The JS API of the Stablegate core, for the browser (`pkg/web`, `pkg/widget`) and Node (`pkg/node`).
//!
//! Thin by design: each function converts its arguments, calls `stablegate-core`, and converts
//! the result. Amounts cross the boundary as strings (decimal strings where a person reads them,
//! base-unit integer strings in records), never as JS numbers. Every failure throws a JS `Error`
//! whose `code` is the core's stable error kind (the vectors' error kinds), or `invalid_input`
//! when an argument does not have the documented shape.
//!
//! This file holds what the checkout widget calls in the browser. The host-side functions
//! (invoices, matching, log decoding, webhooks, the status document) live in `server.rs`, behind
//! the default feature `server`: the widget's build leaves them out, and with them the serde
//! conversions of JS objects they need (`reference/toolchain.md` §4: the cost of a wasm build is
//! mostly deserialization code), so the page loads a fraction of the bytes.

use stablegate_core::{log, uri, Amount, Error, Network};
use wasm_bindgen::prelude::*;

mod qr;
mod registry;
#[cfg(feature = "server")]
mod server;
mod types;

type JsResult<T> = Result<T, JsValue>;

// The widget build (no `server` feature) takes the smaller allocator; see Cargo.toml.
#[cfg(all(target_arch = "wasm32", not(feature = "server")))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// Builds a JS `Error` with a `code` property.
fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

fn core_error(error: Error) -> JsValue {
    js_error(error.kind().code(), &message(&error))
}

/// The message of a core error: its full text in the server build. The widget build says
/// `<code>: <input>` instead, because the full text quotes the input with Rust's `{:?}`, which
/// links Unicode escaping tables (0.8 KB of the 45 KB gzip budget) for messages the widget never
/// shows: it speaks to customers in its own words, chosen by the error's `code`.
#[cfg(feature = "server")]
fn message(error: &Error) -> String {
    error.to_string()
}

#[cfg(not(feature = "server"))]
fn message(error: &Error) -> String {
    let mut text = String::from(error.kind().code());
    text.push_str(": ");
    text.push_str(error.input());
    text
}

fn network(id: &str) -> JsResult<&'static Network> {
    registry::builtin().network(id).map_err(core_error)
}

/// Converts a decimal string (`"12.5"`) to base units of the network's token (default token
/// when `token` is absent), as an integer string.
#[wasm_bindgen(js_name = toBaseUnits)]
pub fn to_base_units(network_id: &str, decimal: &str, token: Option<String>) -> JsResult<String> {
    let network = network(network_id)?;
    let token = network.token(token.as_deref()).map_err(core_error)?;
    Ok(Amount::from_decimal(decimal, token.decimals)
        .map_err(core_error)?
        .to_string())
}

/// Formats a decimal amount for a person: at least two fractional digits ("20.00"), every
/// significant digit kept (core `amount::display_amount`). The widget shows every amount this way.
#[wasm_bindgen(js_name = displayAmount)]
pub fn display_amount(decimal: &str) -> JsResult<String> {
    stablegate_core::amount::display_amount(decimal).map_err(core_error)
}

/// Formats base units (an integer string) as the canonical decimal string of the token. Server
/// build only: the widget shows the host's decimal strings and never formats base units.
#[cfg(feature = "server")]
#[wasm_bindgen(js_name = formatAmount)]
pub fn format_amount(
    network_id: &str,
    base_units: &str,
    token: Option<String>,
) -> JsResult<String> {
    let network = network(network_id)?;
    let token = network.token(token.as_deref()).map_err(core_error)?;
    Ok(Amount::from_base_units_str(base_units)
        .map_err(core_error)?
        .to_decimal(token.decimals))
}

fn base_units(text: &str) -> JsResult<Amount> {
    Amount::from_base_units_str(text).map_err(core_error)
}

/// Returns the calldata of ERC-20 `transfer(recipient, baseUnits)` for a browser wallet.
#[wasm_bindgen(js_name = transferCalldata)]
pub fn transfer_calldata(network_id: &str, recipient: &str, base_units: &str) -> JsResult<String> {
    let recipient = network(network_id)?
        .parse_address(recipient)
        .map_err(core_error)?;
    Ok(uri::transfer_calldata(
        &recipient,
        self::base_units(base_units)?,
    ))
}

/// Returns the calldata of ERC-20 `balanceOf(owner)`, to read a payer's balance with `eth_call`.
#[wasm_bindgen(js_name = balanceOfCalldata)]
pub fn balance_of_calldata(network_id: &str, owner: &str) -> JsResult<String> {
    let owner = network(network_id)?
        .parse_address(owner)
        .map_err(core_error)?;
    // An ABI-encoded address is the same 32-byte word as its log topic.
    let mut calldata = String::from("0x70a08231");
    calldata.push_str(&owner.to_topic()[2..]);
    Ok(calldata)
}

#[cfg(not(feature = "server"))]
#[wasm_bindgen]
extern "C" {
    /// The argument of `paymentUri`, read through its getters: `js_sys::Reflect` cost 0.5 KB more
    /// of the widget's 45 KB gzip budget (measured).
    pub type PaymentUriArgs;
    #[wasm_bindgen(method, getter)]
    fn network(this: &PaymentUriArgs) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn token(this: &PaymentUriArgs) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn recipient(this: &PaymentUriArgs) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn amount(this: &PaymentUriArgs) -> Option<String>;
}

/// Returns the QR payment request for `{ network, token?, recipient, amount }` (`amount` a
/// decimal string), as the server build's `paymentUri` (server.rs) does. The widget rebuilds the
/// host's `payment_uri` with it, so that its QR pays exactly the recipient, amount and token it
/// shows.
#[cfg(not(feature = "server"))]
#[wasm_bindgen(js_name = paymentUri)]
pub fn payment_uri(
    #[wasm_bindgen(unchecked_param_type = "PaymentUriArgs")] args: &PaymentUriArgs,
) -> JsResult<String> {
    let missing = || {
        js_error(
            "invalid_input",
            "paymentUri: network, recipient and amount must be strings",
        )
    };
    uri::payment_uri_from_text(
        network(&args.network().ok_or_else(missing)?)?,
        args.token().as_deref(),
        &args.recipient().ok_or_else(missing)?,
        &args.amount().ok_or_else(missing)?,
    )
    .map_err(core_error)
}

/// Returns an SVG of the QR code of `text` (byte mode, error correction M), drawn as one
/// compact path.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str) -> JsResult<String> {
    qr::svg(text).map_err(|e| js_error("invalid_input", e))
}

/// Checks a pasted transaction hash and returns it in the network's form.
#[wasm_bindgen(js_name = normalizeTxHash)]
pub fn normalize_tx_hash(network_id: &str, text: &str) -> JsResult<String> {
    log::normalize_tx_hash(network(network_id)?, text).map_err(core_error)
}
