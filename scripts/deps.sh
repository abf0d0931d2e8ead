#!/bin/sh
# scripts/deps.sh [build|test|bench]: installs the Debian 12 packages a target needs (as root),
# or prints the apt-get command for a non-root user.
set -eu
profile=${1:-build}
PKGS="gcc make pkg-config libxxhash-dev libpcre2-dev libcurl4-openssl-dev libssl-dev unicode-data libsqlite3-dev libpq-dev"
case "$profile" in
test) PKGS="$PKGS postgresql clang libclang-rt-14-dev python3 chromium nginx python3-sentencepiece ca-certificates openssl python3-torch python3-numpy libopenblas0-pthread fonts-nanum"
      # node and npm may come from elsewhere (NodeSource ships npm inside nodejs, which conflicts with Debian's npm)
      command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm" ;;
bench) PKGS="$PKGS postgresql python3 python3-numpy python3-torch libopenblas0-pthread time" ;;
fuzz) PKGS="$PKGS clang libclang-rt-14-dev" ;;
esac
PKGS="$PKGS ${LINEAGE_EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; }
else
    echo "deps: missing Debian packages; run: sudo apt-get install -y$missing" >&2
    exit 1
fi
