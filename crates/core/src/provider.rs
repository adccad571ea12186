//! Hosted providers: Binance Pay and NOWPayments, as pure functions.
//!
//! - Binance Pay signs each merchant request with `UPPERCASE(HEX(HMAC-SHA512(apiSecret,
//!   timestamp + "\n" + nonce + "\n" + body + "\n")))` ([`binance_sign`]) and signs its webhooks with
//!   RSA-SHA256 (PKCS#1 v1.5) over the same payload, base64 in `BinancePay-Signature`, with the key
//!   of the certificate whose serial is `BinancePay-Certificate-SN` ([`binance_verify_webhook`]).
//!   Binance has no merchant sandbox; the signing example of its FAQ does not reproduce with the
//!   documented algorithm and is not used as a vector.
//! - NOWPayments signs its IPN with `hex(HMAC-SHA512(ipnSecret, JSON.stringify(sortObject(body))))`
//!   in `x-nowpayments-sig` ([`nowpayments_verify_ipn`], [`nowpayments_canonical`]).
//! - [`provider_status`] maps each provider's statuses to an invoice state and exception, and
//!   [`provider_amount`] reads a provider's amount (a JSON number or string) as base units.
//!
//! Like the rest of the core this reads no clock: the caller passes `now` (Binance: milliseconds).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorKind, Result};
use crate::invoice::{Exception, State};
use crate::Amount;

/// The default window, in milliseconds, around the receiver's clock within which a Binance Pay
/// webhook's `BinancePay-Timestamp` is accepted (Binance documents none for webhooks; five minutes
/// covers delivery delays and is short enough that a replay needs a fresh timestamp).
pub const BINANCE_WEBHOOK_TOLERANCE_MS: u64 = 300_000;

/// The smallest RSA modulus accepted for a provider's webhook key.
pub const MIN_RSA_BITS: usize = 2048;

fn header_error(input: &str, why: &str) -> Error {
    Error::new(ErrorKind::InvalidSignatureHeader, input, why.to_string())
}

fn payload_error(input: &str, why: &str) -> Error {
    Error::new(ErrorKind::InvalidProviderPayload, input, why.to_string())
}

/// Checks a Binance timestamp header (unix milliseconds, digits only) and returns it.
fn binance_timestamp(timestamp: &str) -> Result<u64> {
    if timestamp.is_empty()
        || timestamp.len() > 19
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(header_error(
            timestamp,
            "BinancePay-Timestamp must be unix milliseconds",
        ));
    }
    timestamp
        .parse()
        .map_err(|_| header_error(timestamp, "BinancePay-Timestamp out of range"))
}

/// Checks a Binance nonce: 1 to 32 ASCII letters or digits (Binance sends 32 letters).
fn binance_nonce(nonce: &str) -> Result<()> {
    if nonce.is_empty() || nonce.len() > 32 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(header_error(
            nonce,
            "BinancePay-Nonce must be 1 to 32 ASCII letters or digits",
        ));
    }
    Ok(())
}

fn binance_payload(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// Returns the `BinancePay-Signature` of a merchant request: uppercase hex of
/// HMAC-SHA512(`secret`, `timestamp + "\n" + nonce + "\n" + body + "\n"`), where `body` is the exact
/// JSON text sent and `timestamp` the `BinancePay-Timestamp` header (unix milliseconds).
///
/// # Errors
/// `invalid_signature_header` when the timestamp is not digits or the nonce not 1 to 32 letters or digits.
pub fn binance_sign(secret: &str, timestamp: &str, nonce: &str, body: &str) -> Result<String> {
    binance_timestamp(timestamp)?;
    binance_nonce(nonce)?;
    let mut mac =
        Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(binance_payload(timestamp, nonce, body).as_bytes());
    Ok(hex::encode_upper(mac.finalize().into_bytes()))
}

/// Reads an RSA public key given as a PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`) or as
/// the bare base64 of its DER, as the certificates endpoint's `certPublic` may be.
fn rsa_public_key(text: &str) -> Result<RsaPublicKey> {
    let bad = |why: &str| Error::new(ErrorKind::InvalidPublicKey, text, why.to_string());
    let body: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| bad("not a PEM or base64 public key"))?;
    let key = RsaPublicKey::from_public_key_der(&der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
        .map_err(|_| bad("not an RSA public key (SubjectPublicKeyInfo or PKCS#1)"))?;
    if key.size() * 8 < MIN_RSA_BITS {
        return Err(bad("RSA key shorter than 2048 bits"));
    }
    Ok(key)
}

/// Verifies a Binance Pay webhook: `signature` (the `BinancePay-Signature` header, base64) must be
/// an RSA-SHA256 PKCS#1 v1.5 signature, by `public_key` (the `certPublic` whose `certSerial` is the
/// `BinancePay-Certificate-SN` header), of `timestamp + "\n" + nonce + "\n" + body + "\n"`, with
/// `body` the raw request body. `timestamp` must be within `tolerance_ms` of `now_ms`.
///
/// # Errors
/// In this order: `invalid_signature_header` (timestamp, nonce or base64 malformed),
/// `invalid_public_key`, `timestamp_out_of_window`, `signature_mismatch`.
pub fn binance_verify_webhook(
    public_key: &str,
    timestamp: &str,
    nonce: &str,
    body: &str,
    signature: &str,
    now_ms: u64,
    tolerance_ms: u64,
) -> Result<()> {
    let sent = binance_timestamp(timestamp)?;
    binance_nonce(nonce)?;
    let signature_bytes = base64::engine::general_purpose::STANDARD
        .decode(signature.trim().as_bytes())
        .map_err(|_| header_error(signature, "BinancePay-Signature must be base64"))?;
    let key = rsa_public_key(public_key)?;
    if sent.abs_diff(now_ms) > tolerance_ms {
        return Err(Error::new(
            ErrorKind::TimestampOutOfWindow,
            timestamp,
            format!("more than {tolerance_ms} ms from now ({now_ms})"),
        ));
    }
    let digest = Sha256::digest(binance_payload(timestamp, nonce, body).as_bytes());
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature_bytes)
        .map_err(|_| {
            Error::new(
                ErrorKind::SignatureMismatch,
                signature,
                "the RSA-SHA256 signature does not match the payload and key",
            )
        })
}

/// How the nested arrays of an IPN body are canonicalised.
#[derive(Clone, Copy)]
enum Arrays {
    /// As NOWPayments' Node example does: `sortObject` turns an array into an object keyed "0", "1"…
    AsObjects,
    /// As its PHP and Python examples do: arrays stay arrays (their objects sorted).
    Kept,
}

/// True when `key` is an ECMAScript array index ("0", or no leading zero, below 2^32 - 1): such
/// keys come first in a JS object, in numeric order, whatever order they were inserted in.
fn array_index(key: &str) -> Option<u32> {
    if key.is_empty() || key.len() > 10 || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    key.parse::<u32>().ok().filter(|&n| n != u32::MAX)
}

/// Formats a number as JavaScript's `Number.prototype.toString` (and so `JSON.stringify`) does.
fn js_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    // `{:e}` gives the shortest round-trip digits: "d.ddde-7", "1e21".
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i64;
    let n = exp.parse::<i64>().expect("{:e} exponent is an integer") + 1;
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e < 0 { "-" } else { "+" };
        let mantissa = if k == 1 {
            digits.clone()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        format!("{mantissa}e{e_sign}{}", e.abs())
    };
    format!("{sign}{body}")
}

fn write_string(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON.stringify does for well-formed strings: `"`, `\`,
    // \b \f \n \r \t, other controls as lowercase \u00xx, nothing else (no `/`, no non-ASCII).
    out.push_str(&serde_json::to_string(s).expect("a string serialises"));
}

fn write_object<'a>(
    out: &mut String,
    entries: impl Iterator<Item = (String, &'a Value)>,
    arrays: Arrays,
) {
    let mut entries: Vec<(String, &Value)> = entries.collect();
    // Object.keys(obj).sort() compares UTF-16 code units; the object rebuilt from the sorted keys
    // then lists its array-index keys first, in numeric order.
    entries.sort_by(|(a, _), (b, _)| match (array_index(a), array_index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => core::cmp::Ordering::Less,
        (None, Some(_)) => core::cmp::Ordering::Greater,
        (None, None) => a.encode_utf16().cmp(b.encode_utf16()),
    });
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, &key);
        out.push(':');
        write_value(out, value, arrays);
    }
    out.push('}');
}

fn write_value(out: &mut String, value: &Value, arrays: Arrays) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&js_number(n.as_f64().expect("a JSON number is finite"))),
        Value::String(s) => write_string(out, s),
        Value::Object(map) => write_object(out, map.iter().map(|(k, v)| (k.clone(), v)), arrays),
        Value::Array(items) => match arrays {
            Arrays::AsObjects => write_object(
                out,
                items.iter().enumerate().map(|(i, v)| (i.to_string(), v)),
                arrays,
            ),
            Arrays::Kept => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_value(out, item, arrays);
                }
                out.push(']');
            }
        },
    }
}

fn ipn_object(body: &str) -> Result<Value> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| payload_error(body, &format!("the IPN body is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(payload_error(body, "the IPN body must be a JSON object"));
    }
    Ok(value)
}

fn canonical(value: &Value, arrays: Arrays) -> String {
    let mut out = String::new();
    write_value(&mut out, value, arrays);
    out
}

/// Returns the text NOWPayments signs for an IPN body: `JSON.stringify(sortObject(JSON.parse(body)))`
/// of its documented Node example, where `sortObject` sorts keys recursively (and, being applied
/// to every `typeof "object"` value, turns arrays into objects keyed "0", "1"…). Numbers are
/// formatted as JavaScript does (`15`, `0.1`, `1e+21`), strings escaped as `JSON.stringify` does.
///
/// # Errors
/// `invalid_provider_payload` when `body` is not a JSON object.
pub fn nowpayments_canonical(body: &str) -> Result<String> {
    Ok(canonical(&ipn_object(body)?, Arrays::AsObjects))
}

fn hmac_sha512_hex(secret: &str, message: &str) -> [u8; 64] {
    let mut mac =
        Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Returns the `x-nowpayments-sig` of an IPN body: lowercase hex HMAC-SHA512(`secret`,
/// [`nowpayments_canonical`]`(body)`). Used by hosts' tests to sign as NOWPayments does.
///
/// # Errors
/// `invalid_provider_payload` when `body` is not a JSON object.
pub fn nowpayments_sign_ipn(secret: &str, body: &str) -> Result<String> {
    Ok(hex::encode(hmac_sha512_hex(
        secret,
        &nowpayments_canonical(body)?,
    )))
}

/// Verifies a NOWPayments IPN: `signature` (`x-nowpayments-sig`, 128 hex digits) must be the
/// HMAC-SHA512 of the key-sorted body under `secret`. The Node form ([`nowpayments_canonical`]) is
/// tried, then the form of the PHP and Python examples (arrays kept as arrays), which differs only
/// when the body holds an array; both are functions of the body, so accepting either admits no
/// forgery. Comparison is constant-time. The IPN carries no timestamp: hosts dedupe on
/// (payment_id, payment_status) and confirm by querying the payment.
///
/// # Errors
/// In this order: `invalid_signature_header`, `invalid_provider_payload`, `signature_mismatch`.
pub fn nowpayments_verify_ipn(secret: &str, body: &str, signature: &str) -> Result<()> {
    let mut tag = [0u8; 64];
    hex::decode_to_slice(signature.trim(), &mut tag)
        .map_err(|_| header_error(signature, "x-nowpayments-sig must be 128 hex digits"))?;
    let value = ipn_object(body)?;
    let mut ok = subtle::Choice::from(0);
    for arrays in [Arrays::AsObjects, Arrays::Kept] {
        ok |= hmac_sha512_hex(secret, &canonical(&value, arrays)).ct_eq(&tag);
    }
    if bool::from(ok) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::SignatureMismatch,
            signature,
            "the HMAC-SHA512 of the sorted body does not match",
        ))
    }
}

/// What a provider's status means for the Stablegate invoice it pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProviderStatus {
    /// The invoice state the status leads to.
    pub state: State,
    /// The exception it raises, if any (a refund or provider error needs a person).
    pub exception: Option<Exception>,
}

/// Maps a provider's status to the invoice's state and exception. `provider` is `binance` (query
/// statuses, and the webhook `bizStatus` values `PAY_SUCCESS`, `PAY_CLOSED`, `REFUND_SUCCESS`,
/// `REFUND_REJECTED`) or `nowpayments` (payment statuses). A paid-then-refunded order stays
/// settled with `needs_review`: a refund never un-completes an order by itself.
///
/// # Errors
/// `invalid_provider_payload` for an unknown provider or status.
pub fn provider_status(provider: &str, status: &str) -> Result<ProviderStatus> {
    use Exception::{NeedsReview, PaidPartial};
    use State::{Expired, Invalid, New, Processing, Settled};
    let (state, exception) = match (provider, status) {
        ("binance", "INITIAL" | "PENDING") => (New, None),
        ("binance", "PAID" | "PAY_SUCCESS" | "REFUND_REJECTED") => (Settled, None),
        ("binance", "EXPIRED" | "PAY_CLOSED") => (Expired, None),
        ("binance", "CANCELED") => (Invalid, None),
        ("binance", "ERROR") => (Invalid, Some(NeedsReview)),
        ("binance", "REFUNDING" | "REFUNDED" | "FULL_REFUNDED" | "REFUND_SUCCESS") => {
            (Settled, Some(NeedsReview))
        }
        ("nowpayments", "waiting") => (New, None),
        ("nowpayments", "confirming" | "confirmed" | "sending") => (Processing, None),
        ("nowpayments", "finished") => (Settled, None),
        ("nowpayments", "partially_paid") => (New, Some(PaidPartial)),
        ("nowpayments", "expired") => (Expired, None),
        ("nowpayments", "failed" | "refunded") => (Invalid, Some(NeedsReview)),
        ("binance" | "nowpayments", _) => {
            return Err(payload_error(status, &format!("unknown {provider} status")))
        }
        _ => {
            return Err(payload_error(
                provider,
                "unknown provider (binance or nowpayments)",
            ))
        }
    };
    Ok(ProviderStatus { state, exception })
}

/// Reads a provider's amount, the JSON text of a field's value (`12.5` as NOWPayments sends
/// numbers, or `"12.50"` as Binance sends strings), as base units of a token of `decimals`.
/// A number is read as JavaScript prints it, so `12.5` is exactly 12.5.
///
/// # Errors
/// `invalid_amount` (not a JSON number or decimal string, negative, or an exponent form),
/// `too_many_decimals`, `amount_overflow`.
pub fn provider_amount(json: &str, decimals: u8) -> Result<Amount> {
    let bad = || {
        Error::new(
            ErrorKind::InvalidAmount,
            json,
            "not a JSON number or decimal string",
        )
    };
    let text = match serde_json::from_str::<Value>(json).map_err(|_| bad())? {
        Value::String(s) => s,
        Value::Number(n) => js_number(n.as_f64().ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    Amount::from_decimal(&text, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_numbers_match_ecmascript() {
        for (x, s) in [
            (15.0, "15"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
        ] {
            assert_eq!(js_number(x), s, "{x}");
        }
    }
}
