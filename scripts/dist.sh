#!/usr/bin/env bash
# Builds dist/stablegate.zip: the WordPress plugin as a merchant installs it (one top folder
# stablegate/), with the built widget (crates/wasm/pkg/widget -> assets/widget) and the core's web
# build for the settings screen's address check (crates/wasm/pkg/web -> assets/core). Tests and
# development files stay out. Builds the wasm packages first when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f crates/wasm/pkg/widget/stablegate-checkout.js ] || [ ! -f crates/wasm/pkg/web/stablegate_wasm.js ]; then
  scripts/build-wasm.sh
fi
stage=$(mktemp -d /tmp/sg-dist.XXXXXX)
trap 'rm -rf "$stage"' EXIT
dest=$stage/stablegate
mkdir -p "$dest/assets/widget" "$dest/assets/core"
cp -r plugin-php/stablegate.php plugin-php/uninstall.php plugin-php/readme.txt plugin-php/src plugin-php/data plugin-php/languages "$dest/"
cp -r plugin-php/assets/js "$dest/assets/"
cp -r crates/wasm/pkg/widget/stablegate-checkout.js crates/wasm/pkg/widget/stablegate_wasm_bg.wasm crates/wasm/pkg/widget/i18n "$dest/assets/widget/"
cp crates/wasm/pkg/web/stablegate_wasm.js crates/wasm/pkg/web/stablegate_wasm_bg.wasm "$dest/assets/core/"
# No secret may ship in a browser asset (DESIGN §2): a key-looking string fails the build.
if grep -rEl '(api[_-]?key|secret|password)[[:space:]]*[:=][[:space:]]*["'\''][A-Za-z0-9_-]{12,}' "$dest/assets" 2>/dev/null; then
  echo "dist: a browser asset looks like it carries a secret" >&2; exit 1
fi
find "$dest" -name '*.php' -print0 | xargs -0 -n1 php -l > /dev/null
mkdir -p dist
rm -f dist/stablegate.zip
(cd "$stage" && zip -qr -X "$OLDPWD/dist/stablegate.zip" stablegate)
echo "dist/stablegate.zip: $(unzip -l dist/stablegate.zip | tail -1 | awk '{print $2}') files, $(du -k dist/stablegate.zip | cut -f1) KB"
