#!/usr/bin/env bash
# Benchmarks, printed as ratios against peers measured in the same run (DESIGN §13). Run through
# `make bench`, or directly from any directory.
#
# Parts: matching (here), the widget (scripts/bench-widget.sh) and the server (scripts/bench-server.sh).
#
# Matching throughput: `match_transfer` natively (crates/core/benches/matching.rs, release) and
# through the Node build (bench/matching.js), on the same workload; each calls with the full set
# of 1,000 watched invoices and with the few an amount index returns.
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
echo "== widget: transfer size against the 45 KB budget, navigation to QR and QR throughput against npm qrcode"
scripts/bench-widget.sh

echo
echo "== server: RPC calls per poll with 1,000 open invoices, detection delays, invoice creations per second"
scripts/bench-server.sh
