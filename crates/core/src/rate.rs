//! Reading an exchange rate out of a rate source's JSON answer (DESIGN §3).
//!
//! The rate is the number's literal text, never a float: `0.30000000000000000001` stays exactly
//! that. A price (fiat per USDT) is inverted exactly, truncated to 18 fractional digits.

use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};

/// The most fractional digits an inverted price keeps.
pub const INVERTED_DIGITS: u32 = 18;

fn invalid(path: &str, detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidRate, path, detail)
}

/// Describes a JSON value by its type and size, never its content (it may be anything).
fn describe(raw: &str) -> String {
    match raw.as_bytes().first() {
        Some(b'"') => format!("a string of {} characters", raw.len().saturating_sub(2)),
        Some(b'{') => "an object".into(),
        Some(b'[') => "an array".into(),
        Some(b'n') => "null".into(),
        Some(b't' | b'f') => "a boolean".into(),
        _ => "a number that is not a plain positive decimal".into(),
    }
}

/// True for `digits[.digits]` with something above zero.
fn positive_decimal(text: &str) -> bool {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    !whole.is_empty()
        && digits(whole)
        && (!text.contains('.') || (!fraction.is_empty() && digits(fraction)))
        && text.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// Reads the rate at `path` (`a.b.0.c`: object keys and array indexes) of the source's answer
/// `json`, as USDT per one unit of the currency; with `invert`, the source gives a price (units of
/// the currency per USDT) and the rate is its exact inverse, truncated to 18 fractional digits.
///
/// A JSON number or a JSON string holding a plain decimal is accepted; negative numbers,
/// exponents and zero are refused.
///
/// ```
/// use stablegate_core::rate::read_rate;
/// assert_eq!(read_rate(r#"{"data":{"rate":0.30000000000000000001}}"#, "data.rate", false).unwrap(),
///            "0.30000000000000000001");
/// assert_eq!(read_rate(r#"{"price":"7.25"}"#, "price", true).unwrap(), "0.13793103448275862");
/// ```
///
/// # Errors
/// `invalid_rate` naming the path: the answer is not JSON, nothing is at the path, or what is
/// there is not a positive plain decimal (or inverts to zero).
pub fn read_rate(json: &str, path: &str, invert: bool) -> Result<String> {
    let mut current: Box<RawValue> = serde_json::from_str(json).map_err(|_| {
        invalid(
            path,
            format!("the source did not answer JSON ({} characters)", json.len()),
        )
    })?;
    for part in path.split('.') {
        let raw = current.get();
        let next: Option<Box<RawValue>> = match raw.as_bytes().first() {
            Some(b'{') => {
                serde_json::from_str::<std::collections::BTreeMap<String, Box<RawValue>>>(raw)
                    .ok()
                    .and_then(|mut map| map.remove(part))
            }
            Some(b'[') => part.parse::<usize>().ok().and_then(|i| {
                serde_json::from_str::<Vec<Box<RawValue>>>(raw)
                    .ok()
                    .and_then(|mut items| (i < items.len()).then(|| items.swap_remove(i)))
            }),
            _ => None,
        };
        current = next.ok_or_else(|| invalid(path, format!("nothing at path {path}")))?;
    }
    let raw = current.get();
    let literal = match serde_json::from_str::<String>(raw) {
        Ok(text) => text.trim().to_string(),
        Err(_) => raw.to_string(),
    };
    if !positive_decimal(&literal) {
        return Err(invalid(
            path,
            format!("no positive decimal at path {path} (found {}; negative numbers and exponents are refused)", describe(raw)),
        ));
    }
    if !invert {
        return Ok(literal);
    }
    invert_price(&literal).ok_or_else(|| {
        invalid(
            path,
            format!("the price at path {path} is too large to invert"),
        )
    })
}

/// 1 / `price`, truncated to [`INVERTED_DIGITS`] fractional digits; `None` when that is zero or
/// the price has too many digits to invert in 128 bits.
fn invert_price(price: &str) -> Option<String> {
    let (whole, fraction) = price.split_once('.').unwrap_or((price, ""));
    let fraction = fraction.trim_end_matches('0');
    let mantissa: u128 = format!("{whole}{fraction}").parse().ok()?;
    if mantissa == 0 {
        return None;
    }
    let scale = u32::try_from(fraction.len())
        .ok()?
        .checked_add(INVERTED_DIGITS)?;
    let numerator = 10u128.checked_pow(scale)?;
    let units = numerator / mantissa;
    if units == 0 {
        return None;
    }
    let digits = format!("{units:0>19}");
    let (int_part, frac_part) = digits.split_at(digits.len() - INVERTED_DIGITS as usize);
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let frac_part = frac_part.trim_end_matches('0');
    Some(if frac_part.is_empty() {
        int_part.to_string()
    } else {
        format!("{int_part}.{frac_part}")
    })
}
