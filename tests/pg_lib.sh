# A throwaway PostgreSQL server for tests and benchmarks: source this, then `pg_start` (sets PG_URI and
# pg_up=1 on success, the log in PG_LOG) and `pg_stop`. initdb runs in a temporary folder, the server
# listens on 127.0.0.1 on its own port; as root it runs as `nobody` (postgres refuses to run as root).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
pg_up=0
pg_asuser() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
pg_start() {
    PG_DIR=$(mktemp -d /tmp/lineage-pg.XXXXXX)
    PG_PORT=$((20000 + $$ % 20000))
    PG_LOG=$PG_DIR/log
    [ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries (Debian package postgresql)" > "$PG_LOG"; return 1; }
    chmod 755 "$PG_DIR"; [ "$(id -u)" = 0 ] && chown nobody "$PG_DIR"
    pg_asuser "$PGBIN/initdb" -D "$PG_DIR/data" -U lineage -A trust > "$PG_DIR/initdb.log" 2>&1 || { cp "$PG_DIR/initdb.log" "$PG_LOG"; return 1; }
    pg_asuser "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DIR -c fsync=off" start >/dev/null 2>&1 || return 1
    pg_up=1
    PG_URI="postgresql://lineage@127.0.0.1:$PG_PORT/postgres"
}
pg_stop() {
    [ "$pg_up" = 1 ] && pg_asuser "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
    pg_up=0
    [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
}
