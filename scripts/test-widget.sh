#!/usr/bin/env bash
# The checkout widget's browser suite: builds crates/wasm/pkg/widget when its sources changed, then
# runs the widget build's unit test and tests/e2e/widget/ (real Chromium through playwright-core; the wallet tests start their own
# devnet). Needs: /usr/bin/chromium, a CJK font for the zh-CN screenshots (Debian
# fonts-wqy-microhei), `npm ci` at the root. Screenshots land in tests/e2e/widget/.artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-wasm.sh
# The widget build's own registry table against the core's parse (cargo test --workspace builds
# only the default features, so it never runs this one).
cargo test --quiet -p stablegate-wasm --no-default-features
node --test --test-concurrency=1 tests/e2e/widget/
