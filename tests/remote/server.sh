#!/bin/bash
# tests/remote/server.sh start DIR | stop DIR
# start: builds a Hub-like tree (build/<mode>/mkhub), starts nginx on free 127.0.0.1 ports with its own
# prefix under DIR, and the fault proxy in front of it; writes DIR/env (PORT, PORT2, PORT3, PROXY, TOKEN,
# ROOT, LOGS).
# Installs nginx with apt-get when it is missing and we are root. stop: ends the two processes it started.
set -u
cmd=${1:-}; dir=${2:-}
[ -n "$dir" ] || { echo "usage: server.sh start|stop DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD:-build/rel}
stop() {
    [ -f "$dir/prefix/nginx.pid" ] && kill "$(cat "$dir/prefix/nginx.pid")" 2>/dev/null
    [ -f "$dir/proxy.pid" ] && kill "$(cat "$dir/proxy.pid")" 2>/dev/null
    rm -f "$dir/prefix/nginx.pid" "$dir/proxy.pid"
}
if [ "$cmd" = stop ]; then stop; exit 0; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ] || ! command -v openssl >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light openssl >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light openssl >/dev/null 2>&1; }
    fi
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$NGINX" ] || { echo "server.sh: nginx is not installed (apt-get install nginx-light)" >&2; exit 1; }
fi
mkdir -p "$dir/prefix/tmp" || exit 1
root=$(cd "$dir" && pwd)/hub
prefix=$(cd "$dir" && pwd)/prefix
if [ ! -f "$root/commits.map" ]; then
    "$build/mkhub" "$root" "${LINEAGE_SHARED:-../shared}/zoo" > "$dir/mkhub.log" || exit 1
fi
[ -f "$prefix/self-signed.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$prefix/self-signed.key" -out "$prefix/self-signed.pem" >/dev/null 2>&1 ||
    { echo "server.sh: openssl could not make a test certificate" >&2; exit 1; }
token=lineage-test-token
# Started as root, nginx runs its workers as an unprivileged user (nobody/www-data) that cannot
# enter a checkout inside a mode-700 folder (root's home, a mktemp -d): every request would be 403.
# The workers run as the invoking user instead; other users' nginx never switches user at all.
user_line=""
[ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
started=0
for try in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 20000)); port2=$((port + 1)); port3=$((port + 2))
    sed -e "s|@PORT@|$port|g; s|@PORT2@|$port2|g; s|@PORT3@|$port3|g; s|@ROOT@|$root|g; s|@PREFIX@|$prefix|g; s|@TOKEN@|$token|g; s|@USER@|$user_line|" \
        "$here/nginx.conf.in" > "$prefix/nginx.conf"
    rm -f "$prefix/access.log" "$prefix/access2.log"
    if "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" 2>"$prefix/start.err"; then started=1; break; fi
done
[ $started = 1 ] || { echo "server.sh: nginx did not start: $(tail -2 "$prefix/start.err")" >&2; exit 1; }
rm -f "$dir/proxy.port"
"$build/faultproxy" "$dir/proxy.port" "$port" > "$dir/proxy.log" 2>&1 &
echo $! > "$dir/proxy.pid"
for i in $(seq 100); do
    grep -q . "$dir/proxy.port" 2>/dev/null && break
    sleep 0.05
done
for i in $(seq 100); do
    [ -s "$prefix/nginx.pid" ] && break
    sleep 0.05
done
printf 'PORT=%s\nPORT2=%s\nPORT3=%s\nPROXY=%s\nTOKEN=%s\nROOT=%s\nLOGS=%s\n' "$port" "$port2" "$port3" "$(cat "$dir/proxy.port")" \
    "$token" "$root" "$prefix" > "$dir/env"
