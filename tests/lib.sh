# Shell test helpers: source this, then call ok/not_ok/check. Env: LINEAGE (the CLI), BUILD (build dir),
# SHARED (../shared), WORK (a scratch dir of this test).
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }
FAILED=0
PYTHON_TORCH=${PYTHON_TORCH:-/usr/bin/python3}   # the interpreter that has torch and numpy (Debian's)
# check "name" command...   (passes when the command exits 0)
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name"; fi; }
# expect_exit "name" CODE command...   (passes when the command exits with CODE and, for
# nonzero codes, prints exactly one line on stderr)
expect_exit() {
    name=$1; code=$2; shift 2
    "$@" >"$WORK/out" 2>"$WORK/err"; rc=$?
    lines=$(wc -l < "$WORK/err")
    if [ "$rc" = "$code" ] && { [ "$code" = 0 ] || [ "$lines" = 1 ]; }; then ok "$name"
    else not_ok "$name (exit $rc, $lines stderr lines: $(head -c 300 "$WORK/err"))"; fi
}
finish() { exit $FAILED; }
# chat_fixture DIR MODEL TEMPLATE: DIR holds MODEL's files (links) with TEMPLATE as its chat_template
chat_fixture() {
    mkdir -p "$1"
    for f in "$2"/*; do ln -sf "$(readlink -f "$f")" "$1/$(basename "$f")"; done
    rm -f "$1/tokenizer_config.json"
    python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); c["chat_template"] = sys.argv[3]; json.dump(c, open(sys.argv[2], "w"), indent=1)' \
        "$2/tokenizer_config.json" "$1/tokenizer_config.json" "$3"
}
# wait_listening FILE N PID: waits (60 s at most) until FILE holds N "listening" lines or PID exits
wait_listening() {
    for _ in $(seq 240); do
        [ "$(grep -c listening "$1")" = "$2" ] && return 0
        kill -0 "$3" 2>/dev/null || return 1
        sleep 0.25
    done
    return 1
}
