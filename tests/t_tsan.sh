#!/bin/bash
# Two compares on two threads under ThreadSanitizer (tests/test_threads.c; ASan/UBSan run it in the
# asan pass). The TSan build of the library is made once, in the rel pass only.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
case "$BUILD" in *rel) ;; *) exit 0 ;; esac
if ! make --no-print-directory MODE=tsan build/tsan/tests/test_threads -j2 > "$WORK/build.log" 2>&1; then
    not_ok "TSan build of test_threads ($(grep -m1 -i error "$WORK/build.log"))"; finish
fi
TSAN_OPTIONS=halt_on_error=1:exitcode=66 build/tsan/tests/test_threads > "$WORK/out" 2>&1; rc=$?
sed 's/^ok - /ok - tsan: /; s/^not ok - /not ok - tsan: /' "$WORK/out" | grep -E '^(not )?ok - '
if [ $rc = 0 ]; then ok "ThreadSanitizer reports no data race in two concurrent compares"
else not_ok "ThreadSanitizer: exit $rc: $(grep -m1 'SUMMARY' "$WORK/out")"; fi
finish
