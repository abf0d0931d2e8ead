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
