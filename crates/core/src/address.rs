//! Addresses: 20 bytes, shown as EIP-55 hex on EVM networks and as base58check on TRON.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use sha3::Keccak256;

use crate::error::{Error, ErrorKind, Result};
use crate::network::Family;

/// The version byte of TRON mainnet addresses.
const TRON_PREFIX: u8 = 0x41;

/// An account or contract address of an EVM network or of TRON.
///
/// Both families share the same 20 bytes (TRON's raw address is `0x41` followed by them), so
/// matching compares [`Address::bytes`]. `Display` shows the family's form: EIP-55 checksummed hex
/// for EVM, base58check for TRON. `{:#}` shows the shortened form used in messages (`0x5aAe…eAed`).
///
/// ```
/// use stablegate_core::{Address, Family};
/// let usdt = Address::parse(Family::Tron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t").unwrap();
/// assert_eq!(usdt.to_hex(), "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c");
/// let evm = Address::parse(Family::Evm, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").unwrap();
/// assert_eq!(evm.to_string(), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    family: Family,
    bytes: [u8; 20],
}

impl Address {
    /// Creates an address of `family` from its 20 bytes.
    pub const fn from_bytes(family: Family, bytes: [u8; 20]) -> Self {
        Self { family, bytes }
    }

    /// Returns the 20 bytes (without TRON's `0x41` prefix).
    pub const fn bytes(&self) -> &[u8; 20] {
        &self.bytes
    }

    /// Returns the family whose form `Display` uses.
    pub const fn family(&self) -> Family {
        self.family
    }

    /// Returns the same bytes shown in another family's form.
    pub const fn with_family(self, family: Family) -> Self {
        Self {
            family,
            bytes: self.bytes,
        }
    }

    /// Returns `0x` and the 40 lower-case hex digits (the form of logs and JSON-RPC, both families).
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.bytes))
    }

    /// Returns the 32-byte log topic of this address: 12 zero bytes, then the address, as hex.
    pub fn to_topic(&self) -> String {
        format!("0x{}{}", "0".repeat(24), hex::encode(self.bytes))
    }

    /// Parses `text` as an address of `family`.
    ///
    /// EVM: `0x` and 40 hex digits; all-lower and all-upper case carry no checksum and are
    /// accepted, mixed case must be the EIP-55 checksum. TRON: base58check with version byte
    /// `0x41`, or the hex forms that TRON's APIs use (`41` + 40 hex, or `0x` + 40 hex).
    /// Surrounding spaces are rejected, not trimmed: a pasted address must be exactly right.
    ///
    /// # Errors
    /// `invalid_address` for a wrong length, character or version byte; `address_checksum` when
    /// the checksum does not match.
    pub fn parse(family: Family, text: &str) -> Result<Self> {
        match family {
            Family::Evm => Self::parse_evm(text),
            Family::Tron => Self::parse_tron(text),
        }
    }

    /// Parses an EVM address (see [`Address::parse`]).
    pub fn parse_evm(text: &str) -> Result<Self> {
        let bytes = parse_hex20(text)?;
        let digits = &text[2..];
        let has_lower = digits.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = digits.bytes().any(|b| b.is_ascii_uppercase());
        let address = Self {
            family: Family::Evm,
            bytes,
        };
        if has_lower && has_upper && address.to_string() != text {
            return Err(Error::new(
                ErrorKind::AddressChecksum,
                text,
                format!("mixed-case address fails its EIP-55 checksum; did you mean {address}?"),
            ));
        }
        Ok(address)
    }

    /// Parses a TRON address (see [`Address::parse`]).
    pub fn parse_tron(text: &str) -> Result<Self> {
        if text.starts_with("0x") {
            return Ok(Self {
                family: Family::Tron,
                bytes: parse_hex20(text)?,
            });
        }
        if text.len() == 42 && text.starts_with("41") && text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Ok(Self {
                family: Family::Tron,
                bytes: parse_hex20(&format!("0x{}", &text[2..]))?,
            });
        }
        let invalid = |why: &str| Error::new(ErrorKind::InvalidAddress, text, why.to_string());
        if text.len() != 34 || !text.starts_with('T') {
            return Err(invalid("a TRON address is 34 characters starting with T"));
        }
        let raw = bs58::decode(text)
            .into_vec()
            .map_err(|_| invalid("not base58 (0, O, I and l are not used)"))?;
        if raw.len() != 25 {
            return Err(invalid("base58 payload is not 25 bytes"));
        }
        if raw[0] != TRON_PREFIX {
            return Err(invalid("version byte is not 0x41"));
        }
        let check = Sha256::digest(Sha256::digest(&raw[..21]));
        if raw[21..] != check[..4] {
            return Err(Error::new(
                ErrorKind::AddressChecksum,
                text,
                "base58check checksum does not match",
            ));
        }
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&raw[1..21]);
        Ok(Self {
            family: Family::Tron,
            bytes,
        })
    }

    /// Parses any form this type prints (base58 `T…` as TRON, `0x…` as EVM), as records store them.
    pub fn parse_any(text: &str) -> Result<Self> {
        if text.starts_with('T') {
            Self::parse_tron(text)
        } else {
            Self::parse_evm(text)
        }
    }

    fn fmt_evm(&self) -> String {
        let lower = hex::encode(self.bytes);
        let hash = Keccak256::digest(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            out.push(if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        out
    }

    fn fmt_tron(&self) -> String {
        let mut raw = Vec::with_capacity(25);
        raw.push(TRON_PREFIX);
        raw.extend_from_slice(&self.bytes);
        let check = Sha256::digest(Sha256::digest(&raw));
        raw.extend_from_slice(&check[..4]);
        bs58::encode(raw).into_string()
    }
}

/// Parses `0x` followed by exactly 40 hex digits of any case.
fn parse_hex20(text: &str) -> Result<[u8; 20]> {
    let digits = text.strip_prefix("0x").ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidAddress,
            text,
            "an EVM address starts with 0x",
        )
    })?;
    if digits.len() != 40 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::new(
            ErrorKind::InvalidAddress,
            text,
            "expected 0x and 40 hex digits",
        ));
    }
    let mut bytes = [0u8; 20];
    // Checked above, so this cannot fail; an error rather than `expect`, whose message would
    // link `hex::FromHexError`'s Debug (and with it Unicode tables) into the widget's wasm.
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidAddress,
            text,
            "expected 0x and 40 hex digits",
        )
    })?;
    Ok(bytes)
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = match self.family {
            Family::Evm => self.fmt_evm(),
            Family::Tron => self.fmt_tron(),
        };
        if f.alternate() {
            write!(f, "{}…{}", &full[..6], &full[full.len() - 4..])
        } else {
            f.write_str(&full)
        }
    }
}

impl core::str::FromStr for Address {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        Self::parse_any(text)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_any(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test cases of EIP-55, verbatim. <https://eips.ethereum.org/EIPS/eip-55>
    #[test]
    fn eip55_spec_vectors() {
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            assert_eq!(Address::parse_evm(text).unwrap().to_string(), text);
        }
        for text in [
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "0xde709f2102306220921060314715629080e2fb77",
        ] {
            assert!(Address::parse_evm(text).is_ok());
        }
        let flipped = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert_eq!(
            Address::parse_evm(flipped).unwrap_err().kind(),
            ErrorKind::AddressChecksum
        );
    }

    /// TRON vectors from trustwallet/wallet-core `tests/chains/Tron/AddressTests.cpp`.
    #[test]
    fn tron_base58check_vectors() {
        let a = Address::parse_tron("TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC").unwrap();
        assert_eq!(a.to_hex(), "0x5cd0fb0ab3ce40f3051414c604b27756e69e43db");
        assert_eq!(a.to_string(), "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC");
        let bad = Address::parse_tron("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6T").unwrap_err();
        assert_eq!(bad.kind(), ErrorKind::AddressChecksum);
        assert_eq!(format!("{a:#}"), "TJRyWw…tDeC");
    }
}
