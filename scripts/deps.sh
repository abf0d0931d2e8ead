#!/bin/sh
# Installs the Debian packages the build, tests and demo need (as root), or prints the command.
set -eu
PKGS="gcc make pkg-config libxxhash-dev libpcre2-dev libcurl4-openssl-dev clang libclang-rt-14-dev"
PKGS="$PKGS ${LINEAGE_EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $missing >/dev/null; }
else
    echo "deps: missing Debian packages; run: sudo apt-get install -y$missing" >&2
    exit 1
fi
