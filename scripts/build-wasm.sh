#!/usr/bin/env bash
# Builds the core's JS API and the checkout widget:
#   crates/wasm/pkg/node    CommonJS, every function (feature `server`), for Node hosts;
#   crates/wasm/pkg/web     ES module, every function, for browser pages that use the core
#                           directly (the plugin's settings screen checks addresses with it);
#   crates/wasm/pkg/widget  the embeddable <stablegate-checkout>: one minified ES module (widget
#                           source + its glue + CSS, bundled by esbuild), the wasm it loads
#                           relative to its own URL, and i18n/<lang>.json. Its wasm is a build of
#                           its own without the `server` feature: only what the widget calls, to
#                           stay within the 45 KB budget (bindgen output in target/wasm-widget/pkg).
# cargo (wasm32, release) → wasm-bindgen (with TypeScript declarations) → wasm-opt -Oz (npm
# binaryen) → esbuild. Skips the work when the outputs are newer than every source they come from.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=crates/wasm/pkg
widget_src=crates/wasm/widget
newest_output="$out/widget/stablegate-checkout.js"

newest_source=$(find crates Cargo.toml Cargo.lock -path crates/wasm/pkg -prune -o -type f -newer "$newest_output" -print -quit 2>/dev/null || true)
if [ -f "$newest_output" ] && [ -f "$out/node/stablegate_wasm_bg.wasm" ] && [ -f "$out/web/stablegate_wasm_bg.wasm" ] && [ -z "$newest_source" ]; then
  echo "wasm: up to date"
  exit 0
fi

bindgen="$root/.tools/bin/wasm-bindgen"
wasm_opt="$root/node_modules/binaryen/bin/wasm-opt"
# Two feature sets, two target dirs, so that neither rebuild evicts the other.
cargo build --quiet --release --target wasm32-unknown-unknown -p stablegate-wasm
cargo build --quiet --release --target wasm32-unknown-unknown -p stablegate-wasm --no-default-features \
  --target-dir target/wasm-widget
widget_core=target/wasm-widget/pkg
for target in node web widget; do
  case $target in
    node) flavour=nodejs; dir=$out/node; wasm=target/wasm32-unknown-unknown/release/stablegate_wasm.wasm ;;
    web) flavour=web; dir=$out/web; wasm=target/wasm32-unknown-unknown/release/stablegate_wasm.wasm ;;
    widget) flavour=web; dir=$widget_core; wasm=target/wasm-widget/wasm32-unknown-unknown/release/stablegate_wasm.wasm ;;
  esac
  rm -rf "${dir:?}"
  "$bindgen" "$wasm" --out-dir "$dir" --target "$flavour" --typescript
  node "$wasm_opt" -Oz "$dir/stablegate_wasm_bg.wasm" -o "$dir/stablegate_wasm_bg.wasm"
done
# Make each folder loadable as a package: require('./crates/wasm/pkg/node'), import from pkg/web.
cat > "$out/node/package.json" <<'JSON'
{ "name": "stablegate-wasm", "private": true, "main": "stablegate_wasm.js", "types": "stablegate_wasm.d.ts" }
JSON
echo '{ "private": true, "type": "module" }' > "$widget_core/package.json"
cat > "$out/web/package.json" <<'JSON'
{ "name": "stablegate-wasm-web", "private": true, "type": "module", "module": "stablegate_wasm.js", "types": "stablegate_wasm.d.ts" }
JSON

# The widget. Its languages are the files in widget/i18n: adding one is adding a file.
rm -rf "${out:?}/widget"
mkdir -p "$out/widget/i18n"
languages=$(cd "$widget_src/i18n" && ls ./*.json | sed 's|^\./||; s|\.json$||' | sort)
languages_json=$(printf '%s\n' "$languages" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')
"$root/node_modules/.bin/esbuild" "$widget_src/stablegate-checkout.js" --bundle --format=esm --minify \
  --target=es2022 --loader:.css=text --define:__SG_LANGUAGES__="$languages_json" --log-level=warning \
  --alias:stablegate-wasm-widget="./$widget_core/stablegate_wasm.js" \
  --legal-comments=none --outfile="$out/widget/stablegate-checkout.js"
cp "$widget_core/stablegate_wasm_bg.wasm" "$out/widget/stablegate_wasm_bg.wasm"
for lang in $languages; do
  # Checked and minified: a malformed catalogue fails the build, not the customer's page.
  node -e 'const fs=require("fs");const [src,dst,en]=process.argv.slice(1);const t=JSON.parse(fs.readFileSync(src,"utf8"));
    const missing=Object.keys(JSON.parse(fs.readFileSync(en,"utf8"))).filter(k=>typeof t[k]!=="string");
    if(missing.length){console.error(`${src}: missing ${missing.join(", ")}`);process.exit(1)}
    fs.writeFileSync(dst,JSON.stringify(t))' \
    "$widget_src/i18n/$lang.json" "$out/widget/i18n/$lang.json" "$widget_src/i18n/en.json"
done
cp "$widget_src/README.md" "$out/widget/README.md"

gz() { gzip -9c "$1" | wc -c; }
printf 'wasm: node and web %s bytes; widget %s bytes (%s gzip); widget module %s bytes (%s gzip)\n' \
  "$(wc -c < "$out/node/stablegate_wasm_bg.wasm")" "$(wc -c < "$out/widget/stablegate_wasm_bg.wasm")" \
  "$(gz "$out/widget/stablegate_wasm_bg.wasm")" "$(wc -c < "$out/widget/stablegate-checkout.js")" \
  "$(gz "$out/widget/stablegate-checkout.js")"
