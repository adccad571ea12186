#!/usr/bin/env bash
# Benchmarks, printed as ratios against peers measured in the same run (DESIGN §13). Run through
# `make bench`, or directly from any directory.
#
# Parts: matching and the engine (here), the widget (scripts/bench-widget.sh) and the server
# (scripts/bench-server.sh).
#
# Matching throughput: `match_transfer` natively (crates/core/benches/matching.rs, release) and
# through the Node build (bench/matching.js), on the same workload; each calls with the full set
# of 1,000 watched invoices and with the few an amount index returns.
#
# Engine throughput: one watcher poll applying N transfers against W watched invoices, natively
# (crates/core/benches/engine.rs: plan_poll + apply_poll) and through the Node build
# (bench/engine.js): after, planPoll + applyPoll once per poll; before, the server's per-transfer
# matchTransfer / creditTransfer / syncInvoice until applyPoll, with the wasm crossings per poll
# of each, counted.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/build-wasm.sh
echo "== native: cargo bench -p stablegate-core --bench matching"
native=$(cargo bench --quiet -p stablegate-core --bench matching)
printf '%s\n' "$native"
echo "== node: node bench/matching.js"
node=$(node bench/matching.js)
printf '%s\n' "$node"

# figure OUTPUT LABEL: the number after "LABEL: " in OUTPUT; fails when the line is missing.
figure() {
  local value
  value=$(printf '%s\n' "$1" | awk -F': ' -v label="$2" '$1 == label { print $2; exit }')
  if [ -z "$value" ]; then
    echo "bench: no \"$2\" line in the output above" >&2
    return 1
  fi
  printf '%s\n' "$value"
}

# Both sides generate the stream themselves; the ratios mean something only if it is the same.
if [ "$(figure "$native" workload)" != "$(figure "$node" workload)" ]; then
  echo "bench: the native and node workloads differ (see the workload lines above)" >&2
  exit 1
fi

native_full=$(figure "$native" "native matches/s")
native_indexed=$(figure "$native" "native indexed matches/s")
node_full=$(figure "$node" "node matches/s")
node_indexed=$(figure "$node" "node indexed matches/s")

echo
echo "matching throughput, match_transfer calls per second (same workload, same run)"
awk -v nf="$native_full" -v jf="$node_full" -v ni="$native_indexed" -v ji="$node_indexed" 'BEGIN {
  printf "%-28s %12s %12s %12s\n", "invoices passed per call", "native", "node", "native/node"
  printf "%-28s %12d %12d %11.1fx\n", "full set (1,000)", nf, jf, nf / jf
  printf "%-28s %12d %12d %11.1fx\n", "indexed (0 or 1)", ni, ji, ni / ji
}'

echo
echo "== native: cargo bench -p stablegate-core --bench engine"
native_engine=$(cargo bench --quiet -p stablegate-core --bench engine)
printf '%s\n' "$native_engine"
echo "== node: node bench/engine.js"
node_engine=$(node bench/engine.js)
printf '%s\n' "$node_engine"

echo
echo "engine throughput, transfers per second through one poll (plan + apply) of N transfers against"
echo "W watched invoices (same workload, same run; node after = applyPoll once a poll, node before ="
echo "matchTransfer + creditTransfer + syncInvoice per transfer, as the server did until applyPoll)"
printf "%-14s %10s %12s %12s %12s %12s %22s\n" "N, W" "native" "node after" "node before" "node/native" "after/before" "crossings before→after"
for size in "1, W=1" "100, W=1" "1000, W=1" "1, W=1000" "100, W=1000" "1000, W=1000"; do
  label="N=$size"
  # Both sides must have decided the same poll.
  if [ "$(figure "$native_engine" "outcome $label")" != "$(figure "$node_engine" "outcome $label")" ]; then
    echo "bench: the native and node outcomes of $label differ (see the outcome lines above)" >&2
    exit 1
  fi
  crossings=$(figure "$node_engine" "crossings $label")
  awk -v label="$label" -v n="$(figure "$native_engine" "native $label")" -v a="$(figure "$node_engine" "node after $label")" \
    -v b="$(figure "$node_engine" "node before $label")" -v c="$crossings" 'BEGIN {
    split(c, w, " "); # "before B (...), after A (...)"
    after_crossings = substr(c, index(c, "after ") + 6) + 0
    sub(/^N=/, "", label); sub(/, W=/, ", ", label)
    printf "%-14s %10d %12d %12d %12.3f %11.1fx %22s\n", label, n, a, b, a / n, a / b, w[2] " → " after_crossings
  }'
done

echo
echo "== widget: transfer size against the 45 KB budget, navigation to QR and QR throughput against npm qrcode"
scripts/bench-widget.sh

echo
echo "== server: RPC calls and calls into the core per poll (1 and 1,000 open invoices), detection delays, calls into the core per request, invoice creations per second"
scripts/bench-server.sh
