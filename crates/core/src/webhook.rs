//! Signing and verifying outgoing webhooks: `Stablegate-Signature: t=<unix>,v1=<hex>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorKind, Result};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Stablegate-Signature";

/// The default window, in seconds, around the receiver's clock within which a timestamp is accepted.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

fn mac(secret: &str, timestamp: u64, body: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac
}

/// Returns the signature header value for `body` sent at `timestamp` (unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
///
/// ```
/// use stablegate_core::webhook::{sign, verify};
/// let header = sign("whsec", r#"{"id":"evt_1"}"#, 1_700_000_000);
/// assert!(header.starts_with("t=1700000000,v1="));
/// assert!(verify("whsec", &header, r#"{"id":"evt_1"}"#, 1_700_000_100, 300).is_ok());
/// ```
pub fn sign(secret: &str, body: &str, timestamp: u64) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Verifies a signature header for `body` at the receiver's time `now`, accepting a timestamp
/// within `tolerance` seconds either way. Several `v1` entries are allowed (secret rotation); one
/// matching is enough. Unknown keys are ignored. Comparison is constant-time.
///
/// # Errors
/// `invalid_signature_header` (checked first), `timestamp_out_of_window`, then `signature_mismatch`.
pub fn verify(secret: &str, header: &str, body: &str, now: u64, tolerance: u64) -> Result<()> {
    let malformed =
        |why: &str| Error::new(ErrorKind::InvalidSignatureHeader, header, why.to_string());
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for pair in header.split(',') {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| malformed("each part must be key=value"))?;
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed("more than one t"));
                }
                if value.is_empty()
                    || value.len() > 19
                    || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(malformed("t must be unix seconds"));
                }
                timestamp = Some(
                    value
                        .parse::<u64>()
                        .map_err(|_| malformed("t out of range"))?,
                );
            }
            "v1" => {
                let mut tag = [0u8; 32];
                hex::decode_to_slice(value, &mut tag)
                    .map_err(|_| malformed("v1 must be 64 hex digits"))?;
                signatures.push(tag);
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| malformed("no t"))?;
    if signatures.is_empty() {
        return Err(malformed("no v1"));
    }
    if now.abs_diff(timestamp) > tolerance {
        return Err(Error::new(
            ErrorKind::TimestampOutOfWindow,
            timestamp.to_string(),
            format!(
                "timestamp is {} s away from now, more than {tolerance} s",
                now.abs_diff(timestamp)
            ),
        ));
    }
    let expected = mac(secret, timestamp, body).finalize().into_bytes();
    let mut any = subtle::Choice::from(0);
    for tag in &signatures {
        any |= tag.ct_eq(expected.as_slice());
    }
    if bool::from(any) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::SignatureMismatch,
            header,
            "no v1 signature matches the body",
        ))
    }
}
