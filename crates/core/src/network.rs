//! The network and token registry: data compiled in from `data/networks.json`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::error::{Error, ErrorKind, Result};

/// The address and transaction conventions a network follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// Ethereum-compatible: EIP-55 hex addresses, EIP-681 payment URIs.
    Evm,
    /// TRON: base58check addresses; its JSON-RPC speaks `eth_getLogs` with 20-byte hex.
    Tron,
}

/// What the QR code of a payment request holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QrStyle {
    /// An EIP-681 `ethereum:` transfer request.
    Eip681,
    /// The bare recipient address (TRON wallets reject `tron:` URIs).
    Address,
}

/// Display names in the languages the widget ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    /// English.
    pub en: String,
    /// Simplified Chinese.
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
}

/// When a transfer counts as final on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finality {
    /// The block tag whose block must include the transfer (`finalized` or `safe`), if any.
    pub tag: Option<String>,
    /// The confirmations (the transfer's block counts as one) that must also be reached, and
    /// that the widget shows as progress.
    pub confirmations: u64,
}

impl Finality {
    /// Returns how many confirmations a transfer in `block` has when the chain head is `head`.
    pub fn confirmations_at(block: u64, head: u64) -> u64 {
        if head >= block {
            head - block + 1
        } else {
            0
        }
    }

    /// Returns true when a transfer in `block` is final, given the `head` and the block number of
    /// the policy's tag (`tagged`, ignored when the policy has no tag; `None` means the node did
    /// not answer for the tag, which is never final).
    pub fn is_final(&self, block: u64, head: u64, tagged: Option<u64>) -> bool {
        let deep_enough = Self::confirmations_at(block, head) >= self.confirmations;
        match &self.tag {
            None => deep_enough,
            Some(_) => deep_enough && tagged.is_some_and(|t| block <= t),
        }
    }
}

/// A token accepted on a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The id merchants configure (`usdt`, `usdt0`, `usdt-e`, …), unique within the network.
    pub id: String,
    /// The symbol shown to customers.
    pub symbol: String,
    /// The token contract; transfers of any other contract are ignored, whatever their symbol.
    pub contract: Address,
    /// The token's decimals (6 for USDT, 18 on BNB Smart Chain).
    pub decimals: u8,
    /// True when Tether issues this token (USDT or USDT0), false for bridged or pegged tokens.
    pub official: bool,
    /// Display names.
    pub names: Names,
}

/// A public JSON-RPC endpoint of a network, with the limits its operator documents (`None` where
/// it documents none). Hosts use the registry's endpoints when the merchant names none of their
/// own; where each comes from is in `crates/core/data/README.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcEndpoint {
    /// The JSON-RPC URL (TRON's: the `/jsonrpc` path of a full node).
    pub url: String,
    /// Who runs it, as the settings show it.
    pub operator: String,
    /// The requests per second it allows one client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<u64>,
    /// The requests per day it allows one client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u64>,
    /// The most blocks one `eth_getLogs` may span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_range: Option<u64>,
    /// The most calls one JSON-RPC batch may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch: Option<u64>,
}

/// A network and its tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// The stable id (`tron`, `ethereum`, `bsc`, …).
    pub id: String,
    /// Address and transaction conventions.
    pub family: Family,
    /// The chain id `eth_chainId` answers (TRON too, through its JSON-RPC).
    pub chain_id: u64,
    /// True for test networks and the local devnet.
    pub testnet: bool,
    /// Display names.
    pub names: Names,
    /// The explorer URL of a transaction, with `{tx}` in place of its hash; none for the devnet.
    pub explorer_tx: Option<String>,
    /// When a transfer is final.
    pub finality: Finality,
    /// What the QR code holds.
    pub qr: QrStyle,
    /// Public JSON-RPC endpoints, in the order to try them (failover); empty for none.
    #[serde(default)]
    pub rpc: Vec<RpcEndpoint>,
    /// Where a merchant gets the test token and the coin that pays the network fee, for a test
    /// network with public faucets (empty otherwise); sources in `crates/core/data/README.md`.
    #[serde(default)]
    pub faucets: Vec<String>,
    /// The accepted tokens; the first one is the default.
    pub tokens: Vec<Token>,
}

impl Network {
    /// Returns the token with id `token`, or the network's default (first) token for `None`.
    ///
    /// # Errors
    /// `unknown_token` when the network has no such token.
    pub fn token(&self, token: Option<&str>) -> Result<&Token> {
        match token {
            None => self.tokens.first(),
            Some(id) => self.tokens.iter().find(|t| t.id == id),
        }
        .ok_or_else(|| {
            let known: Vec<&str> = self.tokens.iter().map(|t| t.id.as_str()).collect();
            Error::new(
                ErrorKind::UnknownToken,
                token.unwrap_or(""),
                format!("network {} has tokens {}", self.id, known.join(", ")),
            )
        })
    }

    /// Returns the registry token whose contract is `contract`, if any.
    pub fn token_by_contract(&self, contract: &Address) -> Option<&Token> {
        self.tokens
            .iter()
            .find(|t| t.contract.bytes() == contract.bytes())
    }

    /// Returns the explorer URL of transaction `tx`, if the network has an explorer.
    pub fn explorer_url(&self, tx: &str) -> Option<String> {
        self.explorer_tx
            .as_ref()
            .map(|template| template.replace("{tx}", tx))
    }

    /// Parses `text` as an address of this network.
    pub fn parse_address(&self, text: &str) -> Result<Address> {
        Address::parse(self.family, text)
    }
}

/// A set of networks: the built-in one, or one a host loads from its own JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// The networks, in display order.
    pub networks: Vec<Network>,
}

impl Registry {
    /// Returns the registry compiled into the core (`crates/core/data/networks.json`).
    pub fn builtin() -> &'static Registry {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Registry::from_json(include_str!("../data/networks.json"))
                .expect("the built-in registry is checked by the unit tests")
        })
    }

    /// Parses a registry from JSON of the same shape as `data/networks.json`.
    ///
    /// Token contracts are shown in their network's form, whatever form the JSON used.
    ///
    /// # Errors
    /// `invalid_address` or `address_checksum` for a bad contract, `unknown_network` for a
    /// malformed document.
    pub fn from_json(json: &str) -> Result<Registry> {
        let mut registry: Registry = serde_json::from_str(json).map_err(|e| {
            Error::new(ErrorKind::UnknownNetwork, "", format!("registry JSON: {e}"))
        })?;
        for network in &mut registry.networks {
            for token in &mut network.tokens {
                token.contract = token.contract.with_family(network.family);
            }
        }
        Ok(registry)
    }

    /// Returns the network with id `id`.
    ///
    /// # Errors
    /// `unknown_network` when there is none.
    pub fn network(&self, id: &str) -> Result<&Network> {
        self.networks.iter().find(|n| n.id == id).ok_or_else(|| {
            Error::new(
                ErrorKind::UnknownNetwork,
                id,
                "not a network of the registry",
            )
        })
    }
}

/// Returns the network `id` of the built-in registry.
///
/// # Errors
/// `unknown_network`.
pub fn network(id: &str) -> Result<&'static Network> {
    Registry::builtin().network(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_matches_the_reference() {
        let registry = Registry::builtin();
        let bsc = registry.network("bsc").unwrap();
        assert_eq!(bsc.token(None).unwrap().decimals, 18);
        assert_eq!(registry.network("optimism").unwrap().tokens.len(), 2);
        assert_eq!(registry.network("avalanche").unwrap().tokens.len(), 2);
        assert!(!registry.network("base").unwrap().tokens[0].official);
        let tron = registry.network("tron").unwrap();
        assert_eq!(
            tron.tokens[0].contract.to_hex(),
            "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c"
        );
        assert_eq!(tron.chain_id, 0x2b66_53dc);
        // Every network a merchant can choose has public endpoints to start from.
        for network in &registry.networks {
            assert!(!network.rpc.is_empty(), "{} has no public RPC", network.id);
            for endpoint in &network.rpc {
                assert!(endpoint.url.starts_with("http"), "{}", endpoint.url);
            }
        }
        // Faucets are https links, and only test networks have them: a mainnet has no free money.
        for network in &registry.networks {
            for url in &network.faucets {
                assert!(network.testnet, "{} is a mainnet with a faucet", network.id);
                assert!(url.starts_with("https://"), "{url}");
            }
        }
        for id in ["tron-nile", "sepolia", "bsc-testnet"] {
            assert!(!registry.network(id).unwrap().faucets.is_empty(), "{id}");
        }
        for network in &registry.networks {
            for token in &network.tokens {
                assert_eq!(token.contract.family(), network.family, "{}", network.id);
            }
        }
        assert_eq!(
            registry.network("solana").unwrap_err().kind(),
            ErrorKind::UnknownNetwork
        );
    }

    #[test]
    fn finality_needs_tag_and_depth() {
        let f = Finality {
            tag: Some("finalized".into()),
            confirmations: 3,
        };
        assert!(!f.is_final(10, 11, Some(10)));
        assert!(f.is_final(10, 12, Some(10)));
        assert!(!f.is_final(10, 20, Some(9)));
        assert!(!f.is_final(10, 20, None));
    }
}
