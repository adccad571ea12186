// The payment rules: every one of them comes from the Rust core's Node build. This module only
// loads it and adds lookups over its registry; it decides nothing itself.
import sg = require('../../crates/wasm/pkg/node/stablegate_wasm');

export = sg;
