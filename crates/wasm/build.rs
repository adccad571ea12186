//! Compiles the core's registry (`crates/core/data/networks.json`) into Rust code.
//!
//! The core parses that JSON at run time with serde_json, which links a JSON parser (with its
//! float code) into every wasm build: about a third of the checkout widget's bytes. Here the same
//! file becomes a static table of literals (`src/registry.rs` turns it into the same `Registry`
//! value), so the browser carries data, not a parser. `registry::tests` checks both are equal.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

fn main() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/data/networks.json");
    println!("cargo:rerun-if-changed={}", source.display());
    let text =
        std::fs::read_to_string(&source).expect("crates/core/data/networks.json is readable");
    let json: Value = serde_json::from_str(&text).expect("the registry is valid JSON");
    // Without the `server` feature (the widget's build) nothing reads the display names, explorer
    // URLs or finality tags: the status document carries what the widget shows. Leaving them out
    // saves about 1.5 KB of the widget's gzip budget; the server build keeps the full registry.
    let full = std::env::var_os("CARGO_FEATURE_SERVER").is_some();
    let mut code = String::from("&[\n");
    for network in json["networks"]
        .as_array()
        .expect("registry.networks is an array")
    {
        let family = match str_field(network, "family") {
            "evm" => "Family::Evm",
            "tron" => "Family::Tron",
            other => panic!("unknown family {other}"),
        };
        let qr = match str_field(network, "qr") {
            "eip681" => "QrStyle::Eip681",
            "address" => "QrStyle::Address",
            other => panic!("unknown qr style {other}"),
        };
        let finality = &network["finality"];
        write!(
            code,
            "NetworkData {{ id: {:?}, family: {family}, chain_id: {}, testnet: {}, names: {}, \
             explorer_tx: {}, finality_tag: {}, confirmations: {}, qr: {qr}, {}{}tokens: &[",
            str_field(network, "id"),
            network["chain_id"]
                .as_u64()
                .expect("chain_id is an integer"),
            network["testnet"].as_bool().expect("testnet is a boolean"),
            names(&network["names"], full),
            opt_string(&network["explorer_tx"], full),
            opt_string(&finality["tag"], full),
            finality["confirmations"]
                .as_u64()
                .expect("confirmations is an integer"),
            rpc(&network["rpc"], full),
            faucets(&network["faucets"], full),
        )
        .expect("writing to a String cannot fail");
        for token in network["tokens"].as_array().expect("tokens is an array") {
            write!(
                code,
                "TokenData {{ id: {:?}, symbol: {:?}, contract: {:?}, decimals: {}, official: {}, names: {} }},",
                str_field(token, "id"),
                str_field(token, "symbol"),
                contract_bytes(str_field(token, "contract")),
                token["decimals"].as_u64().expect("decimals is an integer"),
                token["official"].as_bool().expect("official is a boolean"),
                names(&token["names"], full),
            )
            .expect("writing to a String cannot fail");
        }
        code.push_str("] },\n");
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("registry.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

fn str_field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is a string in {value}"))
}

fn opt_string(value: &Value, keep: bool) -> String {
    match value.as_str() {
        Some(text) if keep => format!("Some({text:?})"),
        _ => "None".into(),
    }
}

/// The public RPC endpoints: only the server build watches a chain, so the widget's table has no
/// such field at all (not even empty: its conversion code alone costs the widget bytes).
fn rpc(value: &Value, keep: bool) -> String {
    if !keep {
        return String::new();
    }
    let mut code = String::from("rpc: &[");
    for endpoint in value.as_array().expect("rpc is an array") {
        let limit = |name: &str| match endpoint.get(name) {
            Some(v) => format!("Some({})", v.as_u64().expect("an RPC limit is an integer")),
            None => "None".into(),
        };
        write!(
            code,
            "RpcData {{ url: {:?}, operator: {:?}, rps: {}, per_day: {}, max_range: {}, max_batch: {} }},",
            str_field(endpoint, "url"),
            str_field(endpoint, "operator"),
            limit("rps"),
            limit("per_day"),
            limit("max_range"),
            limit("max_batch"),
        )
        .expect("writing to a String cannot fail");
    }
    code.push_str("], ");
    code
}

/// The faucet links of a test network: the server's sandbox prints them; the widget never does.
fn faucets(value: &Value, keep: bool) -> String {
    if !keep {
        return String::new();
    }
    let urls: Vec<String> = value
        .as_array()
        .map(|list| {
            list.iter()
                .map(|url| format!("{:?}", url.as_str().expect("a faucet is a URL string")))
                .collect()
        })
        .unwrap_or_default();
    format!("faucets: &[{}], ", urls.join(", "))
}

fn names(value: &Value, keep: bool) -> String {
    if !keep {
        return "[\"\", \"\"]".into();
    }
    format!(
        "[{:?}, {:?}]",
        str_field(value, "en"),
        str_field(value, "zh-CN")
    )
}

/// The 20 address bytes of an EVM (`0x` + hex) or TRON (base58check, `0x41` prefix) contract.
/// Checksums are not verified here: the test against the core's own parse covers them.
fn contract_bytes(text: &str) -> [u8; 20] {
    let bytes = match text.strip_prefix("0x") {
        Some(hex_digits) => hex::decode(hex_digits).expect("an EVM contract is hex"),
        None => {
            let raw = bs58::decode(text)
                .into_vec()
                .expect("a TRON contract is base58");
            raw[1..21].to_vec()
        }
    };
    bytes.try_into().expect("a contract address has 20 bytes")
}
