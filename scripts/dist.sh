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
# Python's zipfile rather than zip(1): one less system package; sorted entries, fixed times.
python3 - "$stage" dist/stablegate.zip <<'PY'
import os, sys, zipfile
stage, out = sys.argv[1], sys.argv[2]
files = sorted(os.path.relpath(os.path.join(d, f), stage) for d, _, fs in os.walk(stage) for f in fs)
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    for rel in files:
        info = zipfile.ZipInfo(rel, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with open(os.path.join(stage, rel), "rb") as f:
            z.writestr(info, f.read())
print(f"{out}: {len(files)} files, {os.path.getsize(out) // 1024} KB")
PY
