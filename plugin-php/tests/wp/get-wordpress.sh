#!/usr/bin/env bash
# usage: get-wordpress.sh DEST_ROOT  -> a private WordPress 6.1 tree at DEST_ROOT/usr/share/wordpress
# Takes Debian's wordpress package without installing it (no apache2, no dependencies); the four
# .debs extract into one root so the package's relative symlinks (ID3/, js/) resolve inside it.
# The .debs are cached in ${STABLEGATE_DEB_CACHE:-/tmp/stablegate-wp-debs}.
set -euo pipefail
root=$1
debs=${STABLEGATE_DEB_CACHE:-/tmp/stablegate-wp-debs}
mkdir -p "$debs"
exec 9> "$debs/.lock"   # parallel runs: one downloads, the others wait for it
flock 9
if ! ls "$debs"/wordpress_*.deb >/dev/null 2>&1; then
  get() { (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root wordpress php-getid3 libjs-underscore libjs-cropper >/dev/null); }
  # On a machine whose package lists were never fetched, fetch them once (as root) and retry.
  get 2>/dev/null || { [ "$(id -u)" = 0 ] && apt-get update -qq && get; } || {
    echo "get-wordpress: cannot download Debian's wordpress package; run: sudo apt-get update" >&2; exit 1; }
fi
rm -rf "$root"
for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$root"; done
rm -f "$root/usr/share/wordpress/.htaccess"   # dangling link to /etc/wordpress/htaccess
