#!/usr/bin/env bash
# The checkout widget's budgets (DESIGN §13), as ratios measured in one run (bench/widget/bench.js):
# transfer size (wasm + module + one language, gzip -9) against 45 KB with its breakdown;
# navigation start → QR in headless Chromium against the same page drawn with npm qrcode;
# QR encode + SVG throughput of the widget's wasm against npm qrcode in one Node process.
# RUNS (navigations, default 15) and ITERS (QR encodes, default 1000) change the counts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-wasm.sh
node bench/widget/bench.js
