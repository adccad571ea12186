#!/usr/bin/env bash
# Installs the Debian packages the suites need and are missing, in one apt call (reference:
# ci-recipes.md). As root it installs them; otherwise it stops at once with the exact command.
# Usage: scripts/setup-system.sh test   (everything `make test` needs)
#        scripts/setup-system.sh demo   (what `make demo` needs: node, npm; nothing else)
#   nodejs npm python3 make          the build, the JS tests, the vector format check
#   chromium fonts-wqy-microhei      widget and end-to-end tests (playwright-core); a CJK font for
#                                    the zh-CN screenshots
#   php8.2-* phpunit                 the WooCommerce plugin's PHP tests
#   mariadb-server-core/client-core  a private MariaDB for the WordPress integration tests
#   postgresql-15                    a private PostgreSQL for the Node server's tests
set -euo pipefail
what=${1:-test}
packages=()
if [ "$what" = test ]; then
  packages=(chromium fonts-wqy-microhei
    php8.2-cli php8.2-mysql php8.2-sqlite3 php8.2-mbstring php8.2-xml php8.2-curl php8.2-intl phpunit
    mariadb-server-core mariadb-client-core postgresql-15)
fi
missing=()
# Tools that may come from outside apt (Node 20 is often preinstalled): only when absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v python3 >/dev/null || missing+=(python3)
command -v make >/dev/null || missing+=(make)
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run this once as root, then again the command you ran:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "setup: installing Debian packages: ${missing[*]} (a few minutes, once)"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own private database servers; no system cluster is wanted.
mkdir -p /etc/postgresql-common
[ -f /etc/postgresql-common/createcluster.conf ] || echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /tmp/stablegate-apt.log \
  || { tail -50 /tmp/stablegate-apt.log; exit 1; }
