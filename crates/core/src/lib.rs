//! Stablegate's payment core: pure logic for taking USDT straight into a merchant's wallet.
//!
//! - [`amount`]: base-unit integers, decimal strings at the edges, fiat conversion, unique amounts;
//! - [`network`]: the network and token registry, as data;
//! - [`address`]: EIP-55 and TRON base58check addresses;
//! - [`uri`]: EIP-681 payment requests and transfer calldata;
//! - [`log`]: decoding `Transfer` logs from `eth_getLogs`;
//! - [`invoice`] and [`matching`]: invoices, their ledger and state, and which invoice a transfer pays;
//! - [`rate`]: reading an exchange rate from a rate source's JSON, exactly;
//! - [`webhook`]: signing and verifying webhooks;
//! - [`provider`] (feature `providers`): Binance Pay and NOWPayments signing, notification
//!   verification, status mapping and amounts;
//! - [`status`]: the status document the widget renders;
//! - [`watch`]: the watcher's poll as plan → apply, and finality with the merchant's confirmations.
//!
//! The core does no I/O, reads no clock and draws no randomness: callers pass the time (`now`,
//! unix seconds) and ids in. Every error carries a stable [`ErrorKind`] shared with the JS build
//! and the PHP plugin through the conformance vectors in `tests/vectors/`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod address;
pub mod amount;
pub mod error;
pub mod invoice;
pub mod log;
pub mod matching;
pub mod network;
#[cfg(feature = "providers")]
pub mod provider;
pub mod rate;
mod serde_int;
pub mod status;
pub mod uri;
pub mod watch;
pub mod webhook;

pub use address::Address;
pub use amount::Amount;
pub use error::{Error, ErrorKind, Result};
pub use invoice::{Event, Exception, Invoice, InvoiceTerms, State, Status};
pub use log::Transfer;
pub use network::{network, Family, Network, Registry, RpcEndpoint, Token};
pub use status::StatusDocument;
