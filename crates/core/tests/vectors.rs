//! Runs every conformance vector in `tests/vectors/` against the core.
//!
//! Each file names a `function`; this runner knows how to call each one. A file whose function
//! it does not know fails the run (no silent skip), and the run prints how many cases it ran.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use stablegate_core::amount::{allocate_amount, allocate_in_pool, fiat_to_token, PoolAddress};
use stablegate_core::invoice::InvoiceTerms;
use stablegate_core::invoice::{EntryStatus, MatchedBy};
use stablegate_core::matching::{claim_transfer, match_transfer, ClaimPolicy};
use stablegate_core::network::Registry;
use stablegate_core::status::rfc3339;
use stablegate_core::status::{InvoiceView, OpenChoice, StatusContext};
use stablegate_core::watch::required_confirmations;
use stablegate_core::watch::{
    apply_poll, is_final, plan_poll, watch_settings, PollInput, PollPlanInput, WatchRequest,
};
use stablegate_core::{
    log, network, provider, rate, uri, webhook, Amount, Error, ErrorKind, Invoice, StatusDocument,
    Transfer,
};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Collects `<area>/<function>.json` files, leaving out `schema/` and `tools/`.
fn vector_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for area in std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .flatten()
    {
        let name = area.file_name();
        if !area.path().is_dir() || name == "schema" || name == "tools" {
            continue;
        }
        for file in std::fs::read_dir(area.path())
            .expect("an area folder is readable")
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "json") {
                out.push(file.path());
            }
        }
    }
    out.sort();
    out
}

/// A failure of the function under test (an error kind), or of the harness (malformed input).
enum Failure {
    Kind(ErrorKind),
    Harness(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Kind(e.kind())
    }
}

type Outcome = Result<Value, Failure>;

fn text<'a>(input: &'a Value, key: &str) -> Result<&'a str, Failure> {
    input
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::Harness(format!("input.{key} is not a string")))
}

fn opt_text<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn int(input: &Value, key: &str) -> Result<u64, Failure> {
    text(input, key)?
        .parse()
        .map_err(|_| Failure::Harness(format!("input.{key} is not an integer string")))
}

fn from<T: serde::de::DeserializeOwned>(input: &Value, key: &str) -> Result<T, Failure> {
    serde_json::from_value(input.get(key).cloned().unwrap_or(Value::Null))
        .map_err(|e| Failure::Harness(format!("input.{key}: {e}")))
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("core types serialize to JSON")
}

/// The host's context of a status document, from `input.context`.
fn status_context(input: &Value) -> Result<StatusContext, Failure> {
    let context = input
        .get("context")
        .ok_or_else(|| Failure::Harness("input.context is missing".into()))?;
    Ok(StatusContext {
        now: int(context, "now")?,
        head: opt_text(context, "head")
            .map(|_| int(context, "head"))
            .transpose()?,
        return_url: opt_text(context, "return_url").map(str::to_string),
        poll_after_ms: int(context, "poll_after_ms")?,
        links: from(context, "links")?,
        min_confirmations: match opt_text(context, "min_confirmations") {
            Some(_) => int(context, "min_confirmations")?,
            None => 0,
        },
        order_total: from(context, "order_total")?,
    })
}

fn run(function: &str, input: &Value) -> Outcome {
    match function {
        "to_base_units" => {
            let token = network(text(input, "network")?)?.token(opt_text(input, "token"))?;
            Ok(json!(Amount::from_decimal(
                text(input, "amount")?,
                token.decimals
            )?
            .to_string()))
        }
        "format_amount" => {
            let token = network(text(input, "network")?)?.token(opt_text(input, "token"))?;
            Ok(json!(Amount::from_base_units_str(text(
                input,
                "base_units"
            )?)?
            .to_decimal(token.decimals)))
        }
        "fiat_to_usdt" => {
            let token = network(text(input, "network")?)?.token(opt_text(input, "token"))?;
            let amount = fiat_to_token(
                text(input, "fiat_amount")?,
                text(input, "rate")?,
                text(input, "precision")?,
                token.decimals,
            )?;
            Ok(json!(amount.to_string()))
        }
        "allocate_amount" => {
            let base = Amount::from_base_units_str(text(input, "base_units")?)?;
            let step = Amount::from_base_units_str(text(input, "step_units")?)?;
            let taken: Vec<Amount> = from(input, "taken")?;
            Ok(to_value(&allocate_amount(
                base,
                step,
                int(input, "max_slots")?,
                &taken,
            )?))
        }
        "parse_address" => {
            let address = network(text(input, "network")?)?.parse_address(text(input, "text")?)?;
            Ok(json!({ "address": address.to_string(), "hex": address.to_hex() }))
        }
        "payment_uri" => Ok(json!(uri::payment_uri_from_text(
            network(text(input, "network")?)?,
            opt_text(input, "token"),
            text(input, "recipient")?,
            text(input, "amount")?,
        )?)),
        "decode_transfer_log" => {
            let network = network(text(input, "network")?)?;
            let log_value = input
                .get("log")
                .ok_or_else(|| Failure::Harness("input.log is missing".into()))?;
            Ok(to_value(&log::decode_transfer_log(network, log_value)?))
        }
        "sign_webhook" => Ok(json!(webhook::sign(
            text(input, "secret")?,
            text(input, "body")?,
            int(input, "timestamp")?
        ))),
        "verify_webhook" => {
            let tolerance = match opt_text(input, "tolerance") {
                Some(_) => int(input, "tolerance")?,
                None => webhook::DEFAULT_TOLERANCE_SECS,
            };
            let (secret, header, body) = (
                text(input, "secret")?,
                text(input, "header")?,
                text(input, "body")?,
            );
            webhook::verify(secret, header, body, int(input, "now")?, tolerance)?;
            Ok(json!(true))
        }
        "binance_sign" => Ok(json!(provider::binance_sign(
            text(input, "secret")?,
            text(input, "timestamp")?,
            text(input, "nonce")?,
            text(input, "body")?,
        )?)),
        "binance_verify_webhook" => {
            let tolerance = match opt_text(input, "tolerance") {
                Some(_) => int(input, "tolerance")?,
                None => provider::BINANCE_WEBHOOK_TOLERANCE_MS,
            };
            provider::binance_verify_webhook(
                text(input, "public_key")?,
                text(input, "timestamp")?,
                text(input, "nonce")?,
                text(input, "body")?,
                text(input, "signature")?,
                int(input, "now")?,
                tolerance,
            )?;
            Ok(json!(true))
        }
        "nowpayments_canonical" => Ok(json!(provider::nowpayments_canonical(text(
            input, "body"
        )?)?)),
        "nowpayments_sign_ipn" => Ok(json!(provider::nowpayments_sign_ipn(
            text(input, "secret")?,
            text(input, "body")?,
        )?)),
        "nowpayments_verify_ipn" => {
            provider::nowpayments_verify_ipn(
                text(input, "secret")?,
                text(input, "body")?,
                text(input, "signature")?,
            )?;
            Ok(json!(true))
        }
        "provider_status" => Ok(to_value(&provider::provider_status(
            text(input, "provider")?,
            text(input, "status")?,
        )?)),
        "provider_amount" => {
            let decimals = u8::try_from(int(input, "decimals")?)
                .map_err(|_| Failure::Harness("decimals out of range".into()))?;
            Ok(json!(provider::provider_amount(
                text(input, "json")?,
                decimals
            )?
            .to_string()))
        }
        "match_transfer" => {
            let invoices: Vec<Invoice> = from(input, "invoices")?;
            let transfer: Transfer = from(input, "transfer")?;
            Ok(to_value(&match_transfer(
                network(text(input, "network")?)?,
                &invoices,
                &transfer,
            )))
        }
        "claim_transfer" => {
            let invoices: Vec<Invoice> = from(input, "invoices")?;
            let target: Invoice = from(input, "target")?;
            let transfer: Transfer = from(input, "transfer")?;
            let policy: ClaimPolicy = match input.get("policy") {
                Some(_) => from(input, "policy")?,
                None => ClaimPolicy::default(),
            };
            Ok(to_value(&claim_transfer(
                network(text(input, "network")?)?,
                &invoices,
                &target,
                &transfer,
                &policy,
            )?))
        }
        "invoice_status" => {
            let invoice: Invoice = from(input, "invoice")?;
            Ok(to_value(&invoice.status(int(input, "now")?)))
        }
        "invoice_events" => {
            let mut invoice: Invoice = from(input, "invoice")?;
            let steps = input.get("steps").and_then(Value::as_array);
            let steps =
                steps.ok_or_else(|| Failure::Harness("input.steps is not an array".into()))?;
            let mut events = Vec::new();
            for step in steps {
                let now = int(step, "now")?;
                match text(step, "action")? {
                    "sync" => {}
                    "credit" => {
                        let transfer: Transfer = from(step, "transfer")?;
                        let matched_by: MatchedBy = from(step, "matched_by")?;
                        let review = step.get("review").and_then(Value::as_bool).unwrap_or(false);
                        invoice.credit(&transfer, matched_by, review)?;
                    }
                    "set_status" => {
                        let status: EntryStatus = from(step, "status")?;
                        invoice.set_entry_status(
                            text(step, "tx_hash")?,
                            int(step, "log_index")?,
                            status,
                        );
                    }
                    "resolve" => {
                        let accept = step.get("accept").and_then(Value::as_bool).unwrap_or(false);
                        invoice.resolve_review(accept, text(step, "note")?, now)?;
                    }
                    other => {
                        return Err(Failure::Harness(format!("unknown step action {other:?}")))
                    }
                }
                events.extend(invoice.sync(now));
            }
            Ok(to_value(&events))
        }
        "status_document" => {
            let invoice: Invoice = from(input, "invoice")?;
            Ok(to_value(&StatusDocument::for_invoice(
                &invoice,
                network(&invoice.network)?,
                &status_context(input)?,
            )?))
        }
        "status_before_choice" => {
            let open: OpenChoice = from(input, "open")?;
            Ok(to_value(&StatusDocument::before_choice(
                &open,
                &status_context(input)?,
            )?))
        }
        "allocate_in_pool" => {
            let base = Amount::from_base_units_str(text(input, "base_units")?)?;
            let step = Amount::from_base_units_str(text(input, "step_units")?)?;
            let pool: Vec<PoolAddress> = from(input, "pool")?;
            Ok(to_value(&allocate_in_pool(
                base,
                step,
                int(input, "max_slots")?,
                &pool,
            )?))
        }
        "invoice_view" => {
            let invoice: Invoice = from(input, "invoice")?;
            let network = network(&invoice.network)?;
            Ok(to_value(&InvoiceView::of(
                &invoice,
                network,
                int(input, "now")?,
            )?))
        }
        "cancel_invoice" => {
            let mut invoice: Invoice = from(input, "invoice")?;
            let now = int(input, "now")?;
            invoice.cancel(now)?;
            Ok(json!({ "event": to_value(&invoice.sync(now)) }))
        }
        "resolve_review" => {
            let mut invoice: Invoice = from(input, "invoice")?;
            let accept = input
                .get("accept")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let now = int(input, "now")?;
            let returned = invoice.resolve_review(accept, text(input, "note")?, now)?;
            let event = invoice.sync(now);
            Ok(
                json!({ "returned": to_value(&returned), "invoice": to_value(&invoice), "event": to_value(&event) }),
            )
        }
        "is_final" => {
            let tagged = opt_text(input, "tagged")
                .map(|_| int(input, "tagged"))
                .transpose()?;
            Ok(json!(is_final(
                network(text(input, "network")?)?,
                int(input, "block")?,
                int(input, "head")?,
                tagged,
                int(input, "min_confirmations")?,
            )))
        }
        "plan_poll" => {
            let plan: PollPlanInput = from(input, "plan")?;
            Ok(to_value(&plan_poll(
                network(text(input, "network")?)?,
                &plan,
            )))
        }
        "display_amount" => Ok(json!(stablegate_core::amount::display_amount(text(
            input, "text"
        )?)?)),
        "watch_settings" => {
            let request: WatchRequest = from(input, "request")?;
            Ok(to_value(&watch_settings(
                network(text(input, "network")?)?,
                &request,
            )))
        }
        "apply_poll" => {
            let poll: PollInput = from(input, "poll")?;
            Ok(to_value(&apply_poll(
                network(text(input, "network")?)?,
                &poll,
            )?))
        }
        "read_rate" => {
            let invert = input
                .get("invert")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            Ok(json!(rate::read_rate(
                text(input, "json")?,
                text(input, "path")?,
                invert
            )?))
        }
        "normalize_tx_hash" => Ok(json!(log::normalize_tx_hash(
            network(text(input, "network")?)?,
            text(input, "text")?
        )?)),
        "transfer_calldata" => {
            let recipient =
                network(text(input, "network")?)?.parse_address(text(input, "recipient")?)?;
            let amount = Amount::from_base_units_str(text(input, "base_units")?)?;
            Ok(json!(uri::transfer_calldata(&recipient, amount)))
        }
        "balance_of_calldata" => {
            // The core has no balance_of_calldata: the JS binding (crates/wasm/src/lib.rs) builds it
            // from Address::to_topic, as this runner and the PHP one do.
            let owner = network(text(input, "network")?)?.parse_address(text(input, "owner")?)?;
            Ok(json!(format!("0x70a08231{}", &owner.to_topic()[2..])))
        }
        "required_confirmations" => Ok(json!(required_confirmations(
            network(text(input, "network")?)?,
            int(input, "min_confirmations")?
        )
        .to_string())),
        "rfc3339" => Ok(json!(rfc3339(int(input, "unix")?))),
        "create_invoice" => {
            let terms: InvoiceTerms = from(input, "terms")?;
            Ok(to_value(&Invoice::new(network(&terms.network)?, &terms)?))
        }
        "allocate_in_pool_from_invoices" => {
            #[derive(serde::Deserialize)]
            struct Address {
                recipient: String,
                invoices: Vec<Invoice>,
            }
            let now = int(input, "now")?;
            let pool: Vec<Address> = from(input, "pool")?;
            let pool: Vec<PoolAddress> = pool
                .into_iter()
                .map(|a| PoolAddress {
                    recipient: a.recipient,
                    reserved: a.invoices.iter().map(|i| i.reservation(now)).collect(),
                })
                .collect();
            Ok(to_value(&allocate_in_pool(
                Amount::from_base_units_str(text(input, "base_units")?)?,
                Amount::from_base_units_str(text(input, "step_units")?)?,
                int(input, "max_slots")?,
                &pool,
            )?))
        }
        "networks" => {
            let networks = &Registry::builtin().networks;
            match opt_text(input, "network") {
                None => Ok(json!(networks
                    .iter()
                    .map(|n| n.id.as_str())
                    .collect::<Vec<_>>())),
                Some(id) => {
                    let n = network(id)?;
                    let tokens: Vec<Value> = n
                        .tokens
                        .iter()
                        .map(|t| {
                            json!({ "id": t.id, "symbol": t.symbol, "contract": t.contract.to_string(),
                                "decimals": t.decimals.to_string(), "official": t.official })
                        })
                        .collect();
                    let limit = |v: Option<u64>| v.map(|n| n.to_string());
                    let rpc: Vec<Value> = n
                        .rpc
                        .iter()
                        .map(|e| {
                            json!({ "url": e.url, "operator": e.operator, "rps": limit(e.rps),
                                "per_day": limit(e.per_day), "max_range": limit(e.max_range),
                                "max_batch": limit(e.max_batch) })
                        })
                        .collect();
                    Ok(
                        json!({ "rpc": rpc, "faucets": n.faucets, "id": n.id, "family": to_value(&n.family), "chain_id": n.chain_id.to_string(),
                        "finality_tag": n.finality.tag,
                        "confirmations": n.finality.confirmations.to_string(), "qr": to_value(&n.qr),
                        "tokens": tokens }),
                    )
                }
            }
        }
        other => Err(Failure::Harness(format!(
            "this runner does not implement function {other:?}"
        ))),
    }
}

#[test]
fn conformance_vectors() {
    let paths = vector_files();
    assert!(
        !paths.is_empty(),
        "no vector files under {}",
        vectors_dir().display()
    );
    let (mut total, mut problems) = (0usize, Vec::new());
    for path in &paths {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let function = doc["function"]
            .as_str()
            .expect("each vector file names its function");
        let name = path
            .strip_prefix(vectors_dir())
            .unwrap_or(path)
            .display()
            .to_string();
        let none = Vec::new();
        let (valid, invalid) = (
            doc["valid"].as_array().unwrap_or(&none),
            doc["invalid"].as_array().unwrap_or(&none),
        );
        for case in valid {
            let what = format!("{name}: {}", case["description"]);
            match run(function, &case["input"]) {
                Ok(got) if got == case["output"] => {}
                Ok(got) => problems.push(format!("{what}: expected {}, got {got}", case["output"])),
                Err(Failure::Kind(kind)) => {
                    problems.push(format!("{what}: unexpected error {kind}"))
                }
                Err(Failure::Harness(why)) => problems.push(format!("{what}: {why}")),
            }
        }
        for case in invalid {
            let what = format!("{name}: {}", case["description"]);
            let expected = case["error"].as_str().unwrap_or("?");
            match run(function, &case["input"]) {
                Err(Failure::Kind(kind)) if kind.code() == expected => {}
                Err(Failure::Kind(kind)) => {
                    problems.push(format!("{what}: expected {expected}, got {kind}"))
                }
                Err(Failure::Harness(why)) => problems.push(format!("{what}: {why}")),
                Ok(got) => problems.push(format!("{what}: expected error {expected}, got {got}")),
            }
        }
        println!("vectors: {name}: {} cases", valid.len() + invalid.len());
        total += valid.len() + invalid.len();
    }
    println!(
        "vectors: {total} cases run from {} files, none skipped",
        paths.len()
    );
    assert!(
        problems.is_empty(),
        "{} of {total} vector cases failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
