#!/usr/bin/env bash
# Benchmarks of the Node server (DESIGN §13), each printed with its peer from the same run:
# RPC requests per poll with 1,000 open invoices (against 1 open invoice, and the budget of 3),
# payment block → processing and finality → settled (against the poll interval), and invoice
# creations per second on SQLite (against a bare HTTP endpoint, and the budget of 1,000/s). Then
# several real server processes (issue 14): invoice creations per second with 3 processes on one
# PostgreSQL against 1, and 1 on PostgreSQL against 1 on SQLite; RPC requests per poll of a
# cluster of 3 against 1 process; failover time in poll intervals against the lease's life. Its
# PostgreSQL is a private cluster it starts (postgresql-15, as scripts/test-server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f crates/wasm/pkg/node/stablegate_wasm.js ] || scripts/build-wasm.sh
(cd shopify-app && node_modules/.bin/tsc -p .)
node shopify-app/bench/server.bench.js
node shopify-app/bench/cluster.bench.js
