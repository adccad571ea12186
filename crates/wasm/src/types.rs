//! TypeScript declarations of the shapes that cross the JS boundary.
//!
//! wasm-bindgen types every `JsValue` as `any`; the exported functions name these interfaces
//! instead (`unchecked_param_type` / `unchecked_return_type`), so TypeScript hosts get real types.
//! They describe what the serde conversions in `lib.rs` accept and produce: integers that can
//! exceed 2^53 (amounts, timestamps, block numbers in records) are decimal strings; small
//! counters of the registry and the status document are numbers.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A decimal integer string: base units, unix seconds, block numbers, log indexes. */
export type IntegerString = string;
/** A canonical decimal amount in token units ("12.5"). */
export type DecimalString = string;

export type Family = "evm" | "tron";
export type InvoiceState = "new" | "processing" | "settled" | "expired" | "invalid";
export type InvoiceException = "paid_partial" | "paid_over" | "paid_late" | "needs_review";
export type EntryStatus = "seen" | "final" | "removed";
export type MatchedBy = "amount" | "claim";

/** Display names in the widget's languages. */
export interface Names { en: string; "zh-CN": string }

/** A token of the registry. */
export interface RegistryToken {
  id: string;
  symbol: string;
  /** The contract in the network's display form (EIP-55, or TRON base58). */
  contract: string;
  decimals: number;
  official: boolean;
  names: Names;
}

/** A network of the registry. */
export interface RegistryNetwork {
  id: string;
  family: Family;
  chain_id: number;
  testnet: boolean;
  names: Names;
  /** Explorer URL of a transaction with `{tx}` in place of its hash. */
  explorer_tx: string | null;
  finality: { tag: string | null; confirmations: number };
  qr: "eip681" | "address";
  /** Public JSON-RPC endpoints in failover order (none in the widget's build). */
  rpc: RegistryEndpoint[];
  /** Faucet links of a test network (test token, fee coin); empty elsewhere and in the widget's build. */
  faucets: string[];
  /** The accepted tokens; the first one is the network's default. */
  tokens: RegistryToken[];
}

/** A public JSON-RPC endpoint of the registry, with the limits its operator documents. */
export interface RegistryEndpoint {
  url: string;
  operator: string;
  rps?: number;
  per_day?: number;
  max_range?: number;
  max_batch?: number;
}

/** How a host asks to watch a network (core `watch::WatchRequest`); integers as strings. */
export interface WatchRequest {
  /** The merchant's own JSON-RPC URLs; empty or absent for the registry's public endpoints. */
  rpc?: string[];
  poll_ms?: string | null;
  max_range?: string | null;
}

/** How a host watches a network (core `watch::WatchSettings`). */
export interface WatchSettings {
  rpc: string[];
  /** True when these are the registry's public endpoints. */
  public: boolean;
  poll_ms: string;
  max_range: string;
  max_batch: string | null;
  /** How a poll paces itself against public endpoints' limits; null with the merchant's own URLs. */
  pace: PollPace | null;
}

export interface PollPace {
  /** HTTP requests one poll may make. */
  requests: string;
  /** eth_getLogs requests per poll, each over at most max_range blocks. */
  log_requests: string;
  /** Batches of at most max_batch block headers per poll. */
  header_requests: string;
  /** The most blocks one poll searches past the cursor (pass as plan_poll's max_blocks, or less). */
  max_blocks: string;
}

export interface ParsedAddress {
  /** Display form: EIP-55, or TRON base58. */
  address: string;
  /** "0x" + 40 lower-case hex digits. */
  hex: string;
}

export interface FiatToTokenArgs {
  network: string;
  token?: string | null;
  fiatAmount: DecimalString;
  /** Tokens per one unit of fiat. */
  rate: DecimalString;
  /** Defaults to "0.01". */
  precision?: DecimalString | null;
}

export interface AllocateAmountArgs {
  baseUnits: IntegerString;
  stepUnits: IntegerString;
  maxSlots: IntegerString;
  taken: IntegerString[];
}

export interface Allocation { amount: IntegerString; slot: IntegerString }

export interface PaymentUriArgs {
  network: string;
  token?: string | null;
  recipient: string;
  amount: DecimalString;
}

/** One result object of `eth_getLogs` (hex quantities, as the node sends them). */
export interface EthLog {
  address: string;
  topics: string[];
  data: string;
  transactionHash: string;
  logIndex: string;
  blockNumber: string;
  blockHash: string;
  removed?: boolean;
  blockTimestamp?: string;
  [extra: string]: unknown;
}

/** A token transfer decoded from a log. */
export interface Transfer {
  token: string;
  from: string;
  to: string;
  amount: IntegerString;
  tx_hash: string;
  log_index: IntegerString;
  block_number: IntegerString;
  block_hash: string;
  removed: boolean;
  /** Unix seconds; absent until the host adds it from the block. */
  block_time?: IntegerString;
}

export interface InvoiceTerms {
  id: string;
  network: string;
  token?: string;
  recipient: string;
  amount_due: IntegerString;
  tolerance?: IntegerString;
  created_at: IntegerString;
  expires_in: IntegerString;
  monitoring: IntegerString;
}

export interface LedgerEntry {
  tx_hash: string;
  log_index: IntegerString;
  from: string;
  amount: IntegerString;
  block_number: IntegerString;
  block_hash: string;
  block_time: IntegerString;
  status: EntryStatus;
  matched_by: MatchedBy;
  review: boolean;
}

/** An invoice record; hosts store it as it is and pass it back unchanged. */
export interface Invoice {
  id: string;
  network: string;
  token: string;
  recipient: string;
  amount_due: IntegerString;
  tolerance: IntegerString;
  created_at: IntegerString;
  expires_at: IntegerString;
  monitor_until: IntegerString;
  cancelled: boolean;
  marked_for_review: boolean;
  /** Its unique amount went to a newer invoice (it expired unpaid and the band was full). */
  released?: boolean;
  /** The last review resolution, until an event announces it. */
  resolution?: Resolution;
  ledger: LedgerEntry[];
  last_event: [InvoiceState, InvoiceException | null] | null;
  event_seq: IntegerString;
}

export interface InvoiceStatus {
  state: InvoiceState;
  exception: InvoiceException | null;
  amount_paid: IntegerString;
  amount_final: IntegerString;
  amount_remaining: IntegerString;
}

/** A state change; `id` is `<invoice>:<sequence>`, `type` is `invoice.<state or exception>`. */
export interface InvoiceEvent extends InvoiceStatus {
  id: string;
  type: string;
  invoice: string;
  at: IntegerString;
  /** The review resolution this event announces, with the merchant's note. */
  resolution?: Resolution;
}

export interface Resolution { outcome: "accepted" | "rejected"; note: string }

/** An invoice rendered: its status and every amount as a decimal of its token (ledger order). */
export interface InvoiceView {
  status: InvoiceStatus;
  amount_due: DecimalString;
  amount_paid: DecimalString;
  amount_remaining: DecimalString;
  transfer_amounts: DecimalString[];
}

/** The merchant's claim policy: claims up to this amount (base units) credit without review. */
export interface ClaimPolicy { auto_accept_up_to?: IntegerString }

export interface Reservation { invoice: string; amount: IntegerString; expired_unpaid_at?: IntegerString | null }
/** An address of the pool with its reservations, or the watched invoices holding them (with `now`). */
export interface PoolAddress { recipient: string; reserved?: Reservation[]; invoices?: Invoice[] }
export interface AllocateInPoolArgs { baseUnits: IntegerString; stepUnits: IntegerString; maxSlots: IntegerString; pool: PoolAddress[]; now?: number }
export interface PoolAllocation { recipient: string; amount: IntegerString; slot: IntegerString; reuses: string | null }

export interface PendingEntry { tx_hash: string; log_index: IntegerString; block_number: IntegerString }
export interface PollPlanInput {
  cursor: IntegerString; head: IntegerString; tagged?: IntegerString | null;
  min_confirmations?: IntegerString; max_blocks: IntegerString; pending?: PendingEntry[];
}
export interface PollPlan { from: IntegerString; to: IntegerString; checks: PendingEntry[] }
export interface BlockHeader { number: IntegerString; hash: string; timestamp: IntegerString }
export interface PollInput {
  now: IntegerString; cursor: IntegerString; head: IntegerString; tagged?: IntegerString | null;
  min_confirmations?: IntegerString; searched_to: IntegerString;
  /** Decoded transfers with their block times, or `logs`: eth_getLogs result objects, decoded by the core. */
  transfers?: Transfer[]; logs?: EthLog[]; blocks?: BlockHeader[];
  checks?: { tx_hash: string; log_index: IntegerString; block: BlockHeader | null }[];
  invoices?: Invoice[]; unmatched?: { tx_hash: string; log_index: IntegerString }[];
}
export interface LedgerWrite {
  op: "insert" | "update"; transfer: Transfer; invoice: string | null; matched_by: MatchedBy | null;
  review: boolean; status: EntryStatus; note: string | null;
}
export interface PollOutcome { invoices: Invoice[]; ledger: LedgerWrite[]; events: InvoiceEvent[]; cursor: IntegerString; rewound: boolean }

export interface OpenChoice {
  invoice: string; state: InvoiceState; base_amount: DecimalString; expires_at: IntegerString;
  accepted: { network: string; token: string }[];
  /** Paid through a hosted provider (issue 16), base units of its 6-decimal USDT. */
  provider_paid?: IntegerString; exception?: InvoiceException | null;
}
export interface ReviewResolution { invoice: Invoice; returned: LedgerEntry[]; event: InvoiceEvent | null }

export type MatchDecision =
  | { decision: "credit"; invoice: string; review?: boolean }
  | { decision: "known"; invoice: string }
  | { decision: "ambiguous"; invoices: string[] }
  | { decision: "unmatched" }
  | { decision: "ignored"; reason: string };

export interface ClaimVerdict { review: boolean }

export interface InvoiceChange { invoice: Invoice; changed: boolean }

export interface InvoiceSync { invoice: Invoice; event: InvoiceEvent | null }

/** The host's endpoints for the customer's actions, named in the status document. */
export interface StatusLinks {
  /** POST {network, token} while `choices` is open. */
  choose: string | null;
  /** POST {tx_hash}. */
  claim: string | null;
  /** Server-sent events of the status document. */
  events: string | null;
  /** A fresh invoice after expiry. */
  new_invoice: string | null;
}

export interface StatusContext {
  /** Unix seconds. */
  now: number;
  /** The chain head, for confirmations; absent when unknown. */
  head?: number | null;
  return_url?: string | null;
  poll_after_ms: number;
  links?: Partial<StatusLinks>;
  /** The merchant's stricter confirmations (0 or absent: the registry's). */
  min_confirmations?: number;
  /** The order's total as the shop priced it, shown beside the amount to pay. */
  order_total?: OrderTotal | null;
}

/** An order's total as the shop priced it: a decimal string and its currency (ISO 4217, or USDT). */
export interface OrderTotal {
  amount: string;
  currency: string;
}

/** The status document (tests/vectors/schema/status.schema.json, DESIGN §8). */
export interface StatusDocument {
  invoice: string;
  state: InvoiceState;
  exception: InvoiceException | null;
  /** null while the customer still chooses among `choices`. */
  network: string | null;
  network_names: Names | null;
  chain_id: number | null;
  token: { id: string; symbol: string; contract: string; decimals: number; official: boolean } | null;
  recipient: string | null;
  amount_due: DecimalString;
  amount_paid: DecimalString;
  amount_remaining: DecimalString;
  /** QR content for what is left to pay, while the invoice is open. */
  payment_uri: string | null;
  /** RFC 3339 UTC, whole seconds. */
  expires_at: string;
  finality: { seen: number; required: number } | null;
  transfers: {
    tx: string;
    amount: DecimalString;
    status: "processing" | "settled" | "removed";
    confirmations: number;
    explorer_url: string | null;
  }[];
  choices: { network: string; token: string; names: Names; symbol: string; amount: DecimalString }[];
  return_url: string | null;
  /** 0: the document will not change by itself any more. */
  poll_after_ms: number;
  links: StatusLinks;
}

/** Every function throws a JS Error with a stable `code` (the vectors' error kinds). */
export interface StablegateError extends Error { code: string }
"#;
