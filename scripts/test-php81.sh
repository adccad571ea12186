#!/usr/bin/env bash
# The plugin on PHP 8.1, the oldest it supports (stablegate.php: "Requires PHP: 8.1"). Debian 12
# ships PHP 8.2 only, so PHP 8.1 runs here as WebAssembly: npm @php-wasm/cli (WordPress
# Playground's PHP builds; PHP=8.1 picks the version) with this machine's files mounted.
#   1. php -l on every file the plugin ships;
#   2. the unit suite (domain code and all conformance vectors) under Debian's PHPUnit 9.6.
# Not part of `make test`: the package brings every PHP version (about 470 MB). Installed once
# into .tools/php-wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.1.56
dir=.tools/php-wasm
if [ "$(cat "$dir/.version" 2>/dev/null)" != "$version" ]; then
  echo "installing @php-wasm/cli $version into $dir (once; about 470 MB)"
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && echo '{"private": true}' > package.json && npm install --no-audit --no-fund --loglevel=error "@php-wasm/cli@$version")
  echo "$version" > "$dir/.version"
fi
php81() { PHP=8.1 "$dir/node_modules/.bin/php-wasm-cli" "$@"; }
php81 -v | head -1

echo "== php -l, PHP 8.1"
failed=0
for file in plugin-php/stablegate.php plugin-php/uninstall.php $(find plugin-php/src -name '*.php' | sort); do
  out=$(php81 -l "$file" 2>&1) || true
  grep -q '^No syntax errors' <<< "$out" || { echo "$out"; failed=1; }
done
[ "$failed" = 0 ] && echo "every shipped file parses"

echo "== PHPUnit: domain code and conformance vectors, PHP 8.1"
php81 -d include_path=.:/usr/share/php /usr/bin/phpunit -c plugin-php/phpunit.xml
exit "$failed"
