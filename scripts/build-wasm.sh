#!/usr/bin/env bash
# Builds the core's JS API for the browser (crates/wasm/pkg/web) and for Node (crates/wasm/pkg/node):
# cargo (wasm32, release) → wasm-bindgen (with TypeScript declarations) → wasm-opt -Oz (npm binaryen).
# Skips the work when the outputs are newer than every source they come from.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=crates/wasm/pkg
wasm=target/wasm32-unknown-unknown/release/stablegate_wasm.wasm

newest_source=$(find crates Cargo.toml Cargo.lock -path crates/wasm/pkg -prune -o -type f -newer "$out/node/stablegate_wasm_bg.wasm" -print -quit 2>/dev/null || true)
if [ -f "$out/node/stablegate_wasm_bg.wasm" ] && [ -f "$out/web/stablegate_wasm_bg.wasm" ] && [ -z "$newest_source" ]; then
  echo "wasm: up to date"
  exit 0
fi

cargo build --quiet --release --target wasm32-unknown-unknown -p stablegate-wasm
bindgen="$root/.tools/bin/wasm-bindgen"
wasm_opt="$root/node_modules/binaryen/bin/wasm-opt"
for target in web node; do
  case $target in web) flavour=web ;; node) flavour=nodejs ;; esac
  rm -rf "${out:?}/$target"
  "$bindgen" "$wasm" --out-dir "$out/$target" --target "$flavour" --typescript
  node "$wasm_opt" -Oz "$out/$target/stablegate_wasm_bg.wasm" -o "$out/$target/stablegate_wasm_bg.wasm"
done
# Make each folder loadable as a package: require('./crates/wasm/pkg/node'), import from pkg/web.
cat > "$out/node/package.json" <<'JSON'
{ "name": "stablegate-wasm", "private": true, "main": "stablegate_wasm.js", "types": "stablegate_wasm.d.ts" }
JSON
cat > "$out/web/package.json" <<'JSON'
{ "name": "stablegate-wasm-web", "private": true, "type": "module", "module": "stablegate_wasm.js", "types": "stablegate_wasm.d.ts" }
JSON
printf 'wasm: %s bytes (wasm-opt -Oz); web glue %s bytes\n' \
  "$(wc -c < "$out/web/stablegate_wasm_bg.wasm")" "$(wc -c < "$out/web/stablegate_wasm.js")"
