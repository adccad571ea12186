#!/usr/bin/env bash
# Tests of the Node server (shopify-app/): type check, then the HTTP, money-safety, outage,
# browser end-to-end and demo suites on the real devnet and SQLite, then the database-bound
# suites again on a private PostgreSQL cluster that this script starts and stops.
# Needs: `make setup` (npm packages), the wasm build (scripts/build-wasm.sh), postgresql-15,
# chromium. Set STABLEGATE_SKIP_PG=1 to skip the PostgreSQL pass (it says so when it does).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
T0=$SECONDS
step() { printf '\n== server: %s (%d s)\n' "$*" "$((SECONDS - T0))"; }

if [ ! -f shopify-app/node_modules/.package-lock.json ] || [ shopify-app/package-lock.json -nt shopify-app/node_modules/.package-lock.json ]; then
  step "npm ci in shopify-app"
  (cd shopify-app && npm_config_nodedir=/usr npm ci --no-audit --no-fund --loglevel=error)
fi
[ -f crates/wasm/pkg/node/stablegate_wasm.js ] || scripts/build-wasm.sh

step "typescript: tsc --noEmit, then build"
(cd shopify-app && node_modules/.bin/tsc -p . --noEmit && node_modules/.bin/tsc -p .)

work=$(mktemp -d /tmp/sg-server-test.XXXXXX)
chmod 711 "$work"
pg_pid=
cleanup() {
  if [ -n "$pg_pid" ] && kill -0 "$pg_pid" 2>/dev/null; then
    kill -INT "$pg_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step "SQLite: HTTP API, money safety, outage, Chromium end-to-end, make demo"
node --test --test-concurrency=1 --test-reporter=spec shopify-app/test/*.test.js

if [ "${STABLEGATE_SKIP_PG:-}" = 1 ]; then
  echo "server: PostgreSQL pass SKIPPED (STABLEGATE_SKIP_PG=1)"
else
  step "PostgreSQL: start a private cluster"
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  as_pg() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups --reset-env "$@"; else "$@"; fi; }
  mkdir -p "$work/pg"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$work/pg"
  as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions > "$work/pg/initdb.log"
  as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w -t 30 \
    -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start > /dev/null
  pg_pid=$(head -1 "$work/pg/data/postmaster.pid")

  step "PostgreSQL: HTTP API, money safety, two apps and three processes on one database, compatibility protocols, console, notifications, providers"
  pg_suites=()
  for suite in api money engine shared-db cluster compat-sign compat shopify shopify-shared-db shopify-pools console notify providers; do [ -f "shopify-app/test/$suite.test.js" ] && pg_suites+=("shopify-app/test/$suite.test.js"); done
  STABLEGATE_TEST_DB=postgres STABLEGATE_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres" \
    node --test --test-concurrency=1 --test-reporter=spec "${pg_suites[@]}"
fi

printf '\nserver tests passed in %d s\n' "$((SECONDS - T0))"
