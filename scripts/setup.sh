#!/usr/bin/env bash
# Installs what the build and the tests need and is missing; safe to run again (each step checks first).
#  - the wasm32-unknown-unknown Rust target
#  - wasm-bindgen-cli at exactly the version of the wasm-bindgen crate in Cargo.lock, into .tools/
#  - the npm packages of package.json and shopify-app/package.json (wasm-opt from npm `binaryen`; Debian's binaryen 108 corrupts
#    wasm-bindgen output, see reference/toolchain.md), into node_modules/
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

log() { printf 'setup: %s\n' "$*"; }

# Debian packages first (as root through apt; otherwise it stops with the exact command to run):
# `make test` needs them all, `make demo` only node and npm (STABLEGATE_SETUP=demo).
scripts/setup-system.sh "${STABLEGATE_SETUP:-test}"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$want" ] || { echo "setup: Cargo.lock names no wasm-bindgen version" >&2; exit 1; }
have=$("$root/.tools/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  log "installing wasm-bindgen-cli $want into .tools (about 2 minutes, once)"
  # No --locked: the mirror may lack the newest webpki-roots the CLI's own lockfile pins
  # (reference/toolchain.md, pitfall 1).
  cargo install wasm-bindgen-cli --version "$want" --root "$root/.tools" --force --quiet
fi

# npm packages of each package folder (the root's tooling; shopify-app/'s server, once it exists),
# with `npm ci` only when the lockfile changed since the last install.
for dir in . shopify-app; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp=$dir/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ]; then
    log "installing npm packages in $dir"
    # better-sqlite3 builds from source here; node's own headers are under /usr (ci-recipes.md §5).
    (cd "$dir" && npm_config_nodedir=/usr npm ci --no-audit --no-fund --loglevel=error)
  fi
done
