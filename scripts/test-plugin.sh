#!/usr/bin/env bash
# Tests of the WordPress plugin (plugin-php/):
#   1. PHPUnit on the domain code, with every applicable conformance vector (no WordPress);
#   2. integration tests in a real WordPress 6.1 (Debian's package, extracted from its .deb without
#      installing it) on a private MariaDB started here, with the real devnet for cron scanning.
# Needs: php8.2-cli php8.2-mysql php8.2-mbstring phpunit mariadb-server-core mariadb-client-core,
# the WordPress .debs (apt-get download wordpress php-getid3 libjs-underscore libjs-cropper), Node
# with `npm ci` done (the devnet), and the widget build (crates/wasm/pkg/widget) for the assets.
# Every server started here gets an OS-chosen port and is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
T0=$SECONDS
step() { printf '\n== plugin: %s (%d s)\n' "$*" "$((SECONDS - T0))"; }

step "PHPUnit: domain code and conformance vectors"
phpunit -c plugin-php/phpunit.xml

work=$(mktemp -d /tmp/sg-plugin.XXXXXX)
chmod 711 "$work"
db_pid=
devnet_dir=$work/devnet
cleanup() {
  node tests/devnet/devnet.js stop --dir "$devnet_dir" >/dev/null 2>&1 || true
  if [ -n "$db_pid" ] && kill -0 "$db_pid" 2>/dev/null; then
    kill -TERM "$db_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$db_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$db_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

step "WordPress 6.1 tree from Debian's .deb, MariaDB, devnet (in parallel)"
plugin-php/tests/wp/get-wordpress.sh "$work/wproot" > "$work/get-wp.log" 2>&1 &
wp_job=$!
db_port=$(free_port)
mkdir -p "$work/db"
mariadb-install-db --no-defaults --user="$(id -un)" --datadir="$work/db/data" \
  --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve > "$work/db/install.log" 2>&1
mariadbd --no-defaults --user="$(id -un)" --datadir="$work/db/data" --socket="$work/db/mysqld.sock" \
  --pid-file="$work/db/mariadbd.pid" --port="$db_port" --bind-address=127.0.0.1 --skip-name-resolve \
  --skip-log-bin --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
  --log-error="$work/db/error.log" < /dev/null > /dev/null 2>&1 &
db_pid=$!
node tests/devnet/devnet.js start --dir "$devnet_dir" > "$work/devnet.json"
devnet_url=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).url)' "$work/devnet.json")
for _ in $(seq 1 300); do
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$db_port" -e 'select 1' > /dev/null 2>&1 && break
  kill -0 "$db_pid" 2>/dev/null || { cat "$work/db/error.log"; exit 1; }
  sleep 0.1
done
mariadb --no-defaults -uroot -h127.0.0.1 -P"$db_port" -e 'CREATE DATABASE wptest'
wait "$wp_job" || { cat "$work/get-wp.log"; exit 1; }
wp=$work/wproot/usr/share/wordpress

step "WordPress: configure, install, activate the plugin"
cat > "$wp/wp-config.php" <<PHP
<?php
define( 'DB_NAME', 'wptest' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:$db_port' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
\$table_prefix = 'wp_';
define( 'WP_HOME', 'http://localhost' );
define( 'WP_SITEURL', 'http://localhost' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_DISPLAY', true );
define( 'DISABLE_WP_CRON', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'FS_METHOD', 'direct' );
define( 'WP_ENVIRONMENT_TYPE', 'local' );
foreach ( array( 'AUTH', 'SECURE_AUTH', 'LOGGED_IN', 'NONCE' ) as \$k ) { define( \$k . '_KEY', 'ci-' . \$k ); define( \$k . '_SALT', 'ci-salt-' . \$k ); }
if ( ! defined( 'ABSPATH' ) ) { define( 'ABSPATH', __DIR__ . '/' ); }
require_once ABSPATH . 'wp-settings.php';
PHP
mkdir -p "$wp/wp-content/mu-plugins" "$wp/wp-content/uploads"
cp plugin-php/tests/wp/offline.php "$wp/wp-content/mu-plugins/offline.php"
# The plugin runs from a copy with the built assets, as the zip ships it.
mkdir -p "$wp/wp-content/plugins/stablegate"
cp -r plugin-php/. "$wp/wp-content/plugins/stablegate/"
if [ -f crates/wasm/pkg/widget/stablegate-checkout.js ]; then
  mkdir -p "$wp/wp-content/plugins/stablegate/assets/widget"
  cp -r crates/wasm/pkg/widget/. "$wp/wp-content/plugins/stablegate/assets/widget/"
fi
php plugin-php/tests/wp/install.php "$wp"
php plugin-php/tests/wp/activate.php "$wp" stablegate/stablegate.php

step "PHPUnit: integration in WordPress $(sed -n "s/^\$wp_version = '\(.*\)';/\1/p" "$wp/wp-includes/version.php") + MariaDB $(mariadb --no-defaults -uroot -h127.0.0.1 -P"$db_port" -N -e 'select version()') + devnet"
WP_DIR=$wp DEVNET_URL=$devnet_url STABLEGATE_ROOT=$root DB_PORT=$db_port \
  phpunit -c plugin-php/phpunit-integration.xml
step "done"
