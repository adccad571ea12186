#!/usr/bin/env bash
# `make demo`: builds what is needed, then runs the devnet, the Stablegate server (standalone,
# SQLite, demo mode) and a demo shop in one process tree; Ctrl-C stops all of it.
# Environment: STABLEGATE_DEMO_PORT (shop, default 3000; 0 = any free port),
# STABLEGATE_DEMO_SERVER_PORT (default 8080), STABLEGATE_DEMO_DIR (state, default shopify-app/.demo).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "demo: installing what is missing (scripts/setup.sh)"
STABLEGATE_SETUP=demo scripts/setup.sh
echo "demo: building the core's wasm packages (scripts/build-wasm.sh)"
scripts/build-wasm.sh
echo "demo: compiling the server (tsc)"
(cd shopify-app && node_modules/.bin/tsc -p .)

# exec: the demo process is this script's PID, so Ctrl-C (or a SIGINT to this PID) reaches it,
# and it stops the shop, the server and the devnet it started.
exec node shopify-app/dist/demo.js
