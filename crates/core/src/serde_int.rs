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

/// The same adapter for `Option<u64>`: `null` (or an absent field, with `#[serde(default)]`) is `None`.
pub mod option {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes `Some(n)` as a decimal string and `None` as `null`.
    pub fn serialize<S: Serializer>(value: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(n) => serializer.collect_str(n),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes `null` or a decimal integer string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => {
                super::deserialize(serde::de::value::StringDeserializer::new(text)).map(Some)
            }
        }
    }
}
