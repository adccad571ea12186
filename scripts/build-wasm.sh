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
# binaryen) → esbuild.
#
# Safe to run while another run or a test suite uses the outputs (make test and make bench at
# once): one run builds at a time (flock), everything is built into a staging folder, and each
# output folder is swapped in by rename only once every output is complete, so a reader sees the
# old folder or the new one, never a half-written one, and a failed build changes nothing.
# Skips the work when the stamp of the last complete build is newer than every source (the crates
# with the widget's sources and languages, the lock files, this script).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=crates/wasm/pkg
widget_src=crates/wasm/widget
widget_core=target/wasm-widget/pkg
stamp=$out/.built

mkdir -p "$out" target
exec 9> target/build-wasm.lock
flock 9

up_to_date() {
  [ -f "$stamp" ] || return 1
  local newer
  newer=$(find crates Cargo.toml Cargo.lock package-lock.json scripts/build-wasm.sh \
    -path "$out" -prune -o -type f -newer "$stamp" -print -quit)
  [ -z "$newer" ]
}
if up_to_date; then
  echo "wasm: up to date"
  exit 0
fi

stage=$(mktemp -d "$out/.staging.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# Stamped before reading any source: a source saved during the build is newer than the stamp,
# so the next run builds again.
touch "$stage/.built"

bindgen="$root/.tools/bin/wasm-bindgen"
wasm_opt="$root/node_modules/binaryen/bin/wasm-opt"
# Two feature sets, two target dirs, so that neither rebuild evicts the other.
cargo build --quiet --release --target wasm32-unknown-unknown -p stablegate-wasm
cargo build --quiet --release --target wasm32-unknown-unknown -p stablegate-wasm --no-default-features \
  --target-dir target/wasm-widget
for target in node web widget-core; do
  case $target in
    node) flavour=nodejs; wasm=target/wasm32-unknown-unknown/release/stablegate_wasm.wasm ;;
    web) flavour=web; wasm=target/wasm32-unknown-unknown/release/stablegate_wasm.wasm ;;
    widget-core) flavour=web; wasm=target/wasm-widget/wasm32-unknown-unknown/release/stablegate_wasm.wasm ;;
  esac
  "$bindgen" "$wasm" --out-dir "$stage/$target" --target "$flavour" --typescript
  node "$wasm_opt" -Oz "$stage/$target/stablegate_wasm_bg.wasm" -o "$stage/$target/stablegate_wasm_bg.wasm"
done
# Make each folder loadable as a package: require('./crates/wasm/pkg/node'), import from pkg/web.
cat > "$stage/node/package.json" <<'JSON'
{ "name": "stablegate-wasm", "private": true, "main": "stablegate_wasm.js", "types": "stablegate_wasm.d.ts" }
JSON
echo '{ "private": true, "type": "module" }' > "$stage/widget-core/package.json"
cat > "$stage/web/package.json" <<'JSON'
{ "name": "stablegate-wasm-web", "private": true, "type": "module", "module": "stablegate_wasm.js", "types": "stablegate_wasm.d.ts" }
JSON

# The widget. Its languages are the files in widget/i18n: adding one is adding a file.
mkdir -p "$stage/widget/i18n"
languages=$(cd "$widget_src/i18n" && ls ./*.json | sed 's|^\./||; s|\.json$||' | sort)
languages_json=$(printf '%s\n' "$languages" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0,"utf8").trim().split("\n")))')
"$root/node_modules/.bin/esbuild" "$widget_src/stablegate-checkout.js" --bundle --format=esm --minify \
  --target=es2022 --loader:.css=text --define:__SG_LANGUAGES__="$languages_json" --log-level=warning \
  --alias:stablegate-wasm-widget="./$stage/widget-core/stablegate_wasm.js" \
  --legal-comments=none --outfile="$stage/widget/stablegate-checkout.js"
cp "$stage/widget-core/stablegate_wasm_bg.wasm" "$stage/widget/stablegate_wasm_bg.wasm"
for lang in $languages; do
  # Checked (every key of en.json, the same placeholders) and minified.
  node "$widget_src/check-i18n.cjs" "$widget_src/i18n/$lang.json" "$stage/widget/i18n/$lang.json" "$widget_src/i18n/en.json"
done
cp "$widget_src/README.md" "$stage/widget/README.md"

# The widget's budget (DESIGN §13): what one page loads, wasm + module + its largest language,
# gzip -9, at most 45 KB. Checked before anything is published, so an over-budget build fails and
# changes nothing (bench/widget/bench.js prints the breakdown).
budget=46080
gz() { gzip -9c "$1" | wc -c; }
largest_lang=0
for f in "$stage"/widget/i18n/*.json; do
  n=$(gz "$f"); [ "$n" -gt "$largest_lang" ] && largest_lang=$n
done
widget_total=$(( $(gz "$stage/widget/stablegate_wasm_bg.wasm") + $(gz "$stage/widget/stablegate-checkout.js") + largest_lang ))
if [ "$widget_total" -gt "$budget" ]; then
  echo "wasm: the widget is $widget_total bytes gzip (wasm + module + largest language), over its budget of $budget (45 KB)" >&2
  exit 1
fi

# Every output is complete: swap each folder in. rename(2) cannot replace a non-empty folder, and
# moving the old one aside first leaves a moment with none, which a concurrent reader does hit
# (tests/e2e/widget/build.test.js): renameat2 with RENAME_EXCHANGE (Linux 3.15+) swaps the two
# in one step. coreutils' `mv --exchange` does the same from 9.5 on; Debian 12 has 9.1.
publish() {
  local from=$1 to=$2
  if [ ! -e "$to" ]; then
    mkdir -p "$(dirname "$to")"
    mv -T "$from" "$to"
    return
  fi
  python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
if libc.renameat2(AT_FDCWD, os.fsencode(sys.argv[1]), AT_FDCWD, os.fsencode(sys.argv[2]), RENAME_EXCHANGE):
    sys.exit(f"renameat2 {sys.argv[1]} <-> {sys.argv[2]}: {os.strerror(ctypes.get_errno())}")' "$from" "$to"
}
publish "$stage/node" "$out/node"
publish "$stage/web" "$out/web"
publish "$stage/widget" "$out/widget"
publish "$stage/widget-core" "$widget_core"
mv "$stage/.built" "$stamp"

printf 'wasm: node and web %s bytes; widget %s bytes (%s gzip); widget module %s bytes (%s gzip)\n' \
  "$(wc -c < "$out/node/stablegate_wasm_bg.wasm")" "$(wc -c < "$out/widget/stablegate_wasm_bg.wasm")" \
  "$(gz "$out/widget/stablegate_wasm_bg.wasm")" "$(wc -c < "$out/widget/stablegate-checkout.js")" \
  "$(gz "$out/widget/stablegate-checkout.js")"
echo "wasm: widget total $widget_total bytes gzip of the $budget budget"
