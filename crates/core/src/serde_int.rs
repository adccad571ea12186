//! Serde adapter that writes `u64` as a decimal string, since JSON numbers lose precision in JS.

use serde::{Deserialize, Deserializer, Serializer};

/// Serializes a `u64` as a decimal string.
pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Deserializes a `u64` from a decimal string.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(serde::de::Error::custom(format!(
            "expected a decimal integer string, got {text:?}"
        )));
    }
    text.parse().map_err(serde::de::Error::custom)
}
