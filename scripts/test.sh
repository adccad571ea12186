#!/usr/bin/env bash
# Runs every test: Rust (lint, unit, doc, vectors, properties), the wasm build, then the Node
# suites (vectors through the JS API, the devnet). Run through `make test`, which installs first.
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$SECONDS
step() { printf '\n== %s (%d s)\n' "$*" "$((SECONDS - T0))"; }

step "rust: format and clippy"
cargo fmt --all -- --check
cargo clippy --quiet --workspace --all-targets -- -D warnings

step "rust: unit, doc, vector and property tests"
cargo test --quiet --workspace
# The vector runner's own count of what it ran (cargo hides test output unless asked).
cargo test --quiet -p stablegate-core --test vectors -- --nocapture | grep '^vectors: .* files'

step "vectors: file format, and a vector for every public core function and JS export"
python3 tests/vectors/tools/check.py
python3 scripts/check-vector-coverage.py

step "wasm: build"
scripts/build-wasm.sh

step "node: vectors through the JS API, devnet"
node --test --test-reporter=spec tests/vectors/ tests/devnet/

step "widget: real Chromium (scripts/test-widget.sh)"
scripts/test-widget.sh

step "server: SQLite, PostgreSQL, Chromium, demo (scripts/test-server.sh)"
scripts/test-server.sh

step "plugin: PHPUnit and vectors, WordPress + MariaDB + devnet (scripts/test-plugin.sh)"
scripts/test-plugin.sh

printf '\nall tests passed in %d s\n' "$((SECONDS - T0))"
