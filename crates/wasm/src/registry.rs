//! The built-in registry, compiled from `crates/core/data/networks.json` by `build.rs` into a
//! static table, instead of parsed from JSON at run time (that parser, with its float code, was
//! about a third of the widget's wasm).

use std::sync::OnceLock;

use stablegate_core::network::{Finality, Names, QrStyle};
use stablegate_core::{Address, Family, Network, Registry, Token};

/// One network as `build.rs` writes it: borrowed literals, so the table is plain data.
struct NetworkData {
    id: &'static str,
    family: Family,
    chain_id: u64,
    testnet: bool,
    names: [&'static str; 2],
    explorer_tx: Option<&'static str>,
    finality_tag: Option<&'static str>,
    confirmations: u64,
    qr: QrStyle,
    #[cfg(feature = "server")]
    rpc: &'static [RpcData],
    #[cfg(feature = "server")]
    faucets: &'static [&'static str],
    tokens: &'static [TokenData],
}

#[cfg(feature = "server")]
struct RpcData {
    url: &'static str,
    operator: &'static str,
    rps: Option<u64>,
    per_day: Option<u64>,
    max_range: Option<u64>,
    max_batch: Option<u64>,
}

struct TokenData {
    id: &'static str,
    symbol: &'static str,
    contract: [u8; 20],
    decimals: u8,
    official: bool,
    names: [&'static str; 2],
}

static NETWORKS: &[NetworkData] = include!(concat!(env!("OUT_DIR"), "/registry.rs"));

fn names([en, zh_cn]: [&str; 2]) -> Names {
    Names {
        en: en.into(),
        zh_cn: zh_cn.into(),
    }
}

#[cfg(feature = "server")]
fn rpc(n: &NetworkData) -> Vec<stablegate_core::RpcEndpoint> {
    n.rpc
        .iter()
        .map(|e| stablegate_core::RpcEndpoint {
            url: e.url.into(),
            operator: e.operator.into(),
            rps: e.rps,
            per_day: e.per_day,
            max_range: e.max_range,
            max_batch: e.max_batch,
        })
        .collect()
}

/// The widget never watches a chain.
#[cfg(not(feature = "server"))]
fn rpc(_: &NetworkData) -> Vec<stablegate_core::RpcEndpoint> {
    Vec::new()
}

#[cfg(feature = "server")]
fn faucets(n: &NetworkData) -> Vec<String> {
    n.faucets.iter().map(|&url| url.into()).collect()
}

/// The widget never sends a merchant to a faucet.
#[cfg(not(feature = "server"))]
fn faucets(_: &NetworkData) -> Vec<String> {
    Vec::new()
}

/// Returns the registry: equal to `stablegate_core::Registry::builtin()` in the server build; the
/// widget build's has no display names, explorer URLs, finality tags, RPC endpoints or faucets (see
/// `build.rs`).
pub fn builtin() -> &'static Registry {
    static BUILTIN: OnceLock<Registry> = OnceLock::new();
    BUILTIN.get_or_init(|| Registry {
        networks: NETWORKS
            .iter()
            .map(|n| Network {
                id: n.id.into(),
                family: n.family,
                chain_id: n.chain_id,
                testnet: n.testnet,
                names: names(n.names),
                explorer_tx: n.explorer_tx.map(Into::into),
                finality: Finality {
                    tag: n.finality_tag.map(Into::into),
                    confirmations: n.confirmations,
                },
                qr: n.qr,
                rpc: rpc(n),
                faucets: faucets(n),
                tokens: n
                    .tokens
                    .iter()
                    .map(|t| Token {
                        id: t.id.into(),
                        symbol: t.symbol.into(),
                        contract: Address::from_bytes(n.family, t.contract),
                        decimals: t.decimals,
                        official: t.official,
                        names: names(t.names),
                    })
                    .collect(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use stablegate_core::Registry;

    /// The server build carries the whole registry: it equals the core's own parse of the JSON.
    #[cfg(feature = "server")]
    #[test]
    fn compiled_registry_equals_the_cores_parse() {
        assert_eq!(super::builtin(), Registry::builtin());
    }

    /// The widget build leaves out names, explorer URLs and finality tags; the rest is equal.
    #[cfg(not(feature = "server"))]
    #[test]
    fn compiled_registry_has_what_the_widget_reads() {
        let ours = &super::builtin().networks;
        let core = &Registry::builtin().networks;
        assert_eq!(ours.len(), core.len());
        for (ours, core) in ours.iter().zip(core) {
            let facts = |n: &stablegate_core::Network| {
                (
                    n.id.clone(),
                    n.family,
                    n.chain_id,
                    n.testnet,
                    n.qr,
                    n.finality.confirmations,
                )
            };
            assert_eq!(facts(ours), facts(core));
            let tokens = |n: &stablegate_core::Network| -> Vec<_> {
                n.tokens
                    .iter()
                    .map(|t| {
                        (
                            t.id.clone(),
                            t.symbol.clone(),
                            t.contract,
                            t.decimals,
                            t.official,
                        )
                    })
                    .collect()
            };
            assert_eq!(tokens(ours), tokens(core));
        }
    }
}
