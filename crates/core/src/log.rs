//! Decoding ERC-20 `Transfer` logs as `eth_getLogs` returns them (EVM and TRON JSON-RPC alike).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::address::Address;
use crate::amount::Amount;
use crate::error::{Error, ErrorKind, Result};
use crate::network::{Family, Network};

/// `keccak256("Transfer(address,address,uint256)")`, topic 0 of every ERC-20 transfer.
pub const TRANSFER_TOPIC: &str =
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

/// A token transfer read from a log, with the block facts matching needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// The contract that emitted the log (not necessarily a registry token).
    pub token: Address,
    /// The sender.
    pub from: Address,
    /// The recipient.
    pub to: Address,
    /// The amount the recipient received, in base units.
    pub amount: Amount,
    /// The transaction hash: `0x` + 64 hex on EVM, 64 hex without `0x` on TRON (its explorers'
    /// form); lower case.
    pub tx_hash: String,
    /// The log's index in its block.
    #[serde(with = "crate::serde_int")]
    pub log_index: u64,
    /// The block number.
    #[serde(with = "crate::serde_int")]
    pub block_number: u64,
    /// The block hash, `0x` + 64 lower-case hex.
    pub block_hash: String,
    /// True when the node reports the log as removed by a reorganisation.
    pub removed: bool,
    /// The block's timestamp in unix seconds; logs do not always carry it, so the host adds it
    /// from `eth_getBlockByNumber` before matching.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::serde_int::option"
    )]
    pub block_time: Option<u64>,
}

/// Decodes one `eth_getLogs` result object of `network` into a [`Transfer`].
///
/// Decoding does not judge the token: a fake "USDT" decodes like the real one, and matching
/// rejects it by contract address. `blockTimestamp`, when the node includes it, fills
/// [`Transfer::block_time`].
///
/// # Errors
/// `not_a_transfer` when topic 0 is not [`TRANSFER_TOPIC`] or there are not exactly 3 topics
/// (ERC-721 transfers have 4); `invalid_log` for a missing or malformed field;
/// `amount_overflow` for an amount above 128 bits.
pub fn decode_transfer_log(network: &Network, log: &Value) -> Result<Transfer> {
    let field = |name: &str| -> Result<&str> {
        log.get(name).and_then(Value::as_str).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidLog,
                name,
                format!("the log has no string field {name}"),
            )
        })
    };
    let topics = log.get("topics").and_then(Value::as_array).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidLog,
            "topics",
            "the log has no topics array",
        )
    })?;
    let topics: Vec<&str> = topics
        .iter()
        .map(|t| {
            t.as_str().ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidLog,
                    t.to_string(),
                    "a topic is not a string",
                )
            })
        })
        .collect::<Result<_>>()?;
    let topic0 = topics.first().copied().unwrap_or("");
    if !topic0.eq_ignore_ascii_case(TRANSFER_TOPIC) || topics.len() != 3 {
        return Err(Error::new(
            ErrorKind::NotATransfer,
            topic0,
            format!(
                "not an ERC-20 Transfer event (topic 0 and exactly 3 topics; got {})",
                topics.len()
            ),
        ));
    }
    let family = network.family;
    let token = Address::parse_tron_or_evm_hex(field("address")?, family)?;
    let from = address_topic(topics[1], family)?;
    let to = address_topic(topics[2], family)?;
    let amount = amount_word(field("data")?)?;
    let tx_hash = hash32(field("transactionHash")?)?;
    let tx_hash = match family {
        Family::Evm => tx_hash,
        Family::Tron => tx_hash[2..].to_string(),
    };
    let removed = match log.get("removed") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(Error::new(
                ErrorKind::InvalidLog,
                other.to_string(),
                "removed is not a boolean",
            ))
        }
    };
    let block_time = match log.get("blockTimestamp") {
        None | Some(Value::Null) => None,
        Some(_) => Some(quantity(field("blockTimestamp")?)?),
    };
    Ok(Transfer {
        token,
        from,
        to,
        amount,
        tx_hash,
        log_index: quantity(field("logIndex")?)?,
        block_number: quantity(field("blockNumber")?)?,
        block_hash: hash32(field("blockHash")?)?,
        removed,
        block_time,
    })
}

impl Address {
    /// Parses the `0x` + 40 hex form of logs (no checksum rule applies there) as `family`.
    fn parse_tron_or_evm_hex(text: &str, family: Family) -> Result<Address> {
        let word = hex_bytes(text, 20)?;
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&word);
        Ok(Address::from_bytes(family, bytes))
    }
}

/// Decodes `0x`-prefixed hex of exactly `len` bytes, in any case.
fn hex_bytes(text: &str, len: usize) -> Result<Vec<u8>> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or("\u{0}");
    if digits.len() != len * 2 {
        return Err(Error::new(
            ErrorKind::InvalidLog,
            text,
            format!("expected 0x and {} hex digits", len * 2),
        ));
    }
    hex::decode(digits).map_err(|_| Error::new(ErrorKind::InvalidLog, text, "not hex"))
}

fn address_topic(topic: &str, family: Family) -> Result<Address> {
    let word = hex_bytes(topic, 32)?;
    if word[..12].iter().any(|&b| b != 0) {
        return Err(Error::new(
            ErrorKind::InvalidLog,
            topic,
            "an address topic starts with 12 zero bytes",
        ));
    }
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&word[12..]);
    Ok(Address::from_bytes(family, bytes))
}

fn amount_word(data: &str) -> Result<Amount> {
    let word = hex_bytes(data, 32)?;
    if word[..16].iter().any(|&b| b != 0) {
        return Err(Error::new(
            ErrorKind::AmountOverflow,
            data,
            "the amount does not fit in 128 bits",
        ));
    }
    let mut low = [0u8; 16];
    low.copy_from_slice(&word[16..]);
    Ok(Amount::from_base_units(u128::from_be_bytes(low)))
}

fn hash32(text: &str) -> Result<String> {
    Ok(format!("0x{}", hex::encode(hex_bytes(text, 32)?)))
}

/// Parses a JSON-RPC quantity (`0x` + 1 to 16 hex digits).
fn quantity(text: &str) -> Result<u64> {
    let digits = text.strip_prefix("0x").unwrap_or("");
    if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::new(
            ErrorKind::InvalidLog,
            text,
            "expected a 0x-hex quantity",
        ));
    }
    u64::from_str_radix(digits, 16)
        .map_err(|_| Error::new(ErrorKind::InvalidLog, text, "quantity out of range"))
}

/// Checks a transaction hash as a customer pastes it (`0x` + 64 hex, or 64 hex for TRON) and
/// returns it in the form [`Transfer::tx_hash`] uses on `network`.
///
/// # Errors
/// `invalid_tx_hash`.
pub fn normalize_tx_hash(network: &Network, text: &str) -> Result<String> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::new(
            ErrorKind::InvalidTxHash,
            text,
            "a transaction hash is 64 hex digits",
        ));
    }
    let digits = digits.to_ascii_lowercase();
    Ok(match network.family {
        Family::Evm => format!("0x{digits}"),
        Family::Tron => digits,
    })
}
