#!/bin/bash
# The shipped library exports the public API and nothing else: every global symbol defined in
# liblineage.a is a lineage_* function or object declared in include/lineage.h, and a program that
# defines internal-sounding names of its own (json_parse, tr, mm, spearman) links against it cleanly.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
lib=$BUILD/liblineage.a
defined=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u)
check "liblineage.a defines global symbols" test -n "$defined"
unprefixed=$(printf '%s\n' "$defined" | grep -v '^lineage_' || true)
if [ -z "$unprefixed" ]; then
    ok "every global symbol of liblineage.a is lineage_* ($(printf '%s\n' "$defined" | wc -l) symbols)"
else
    not_ok "unprefixed global symbols in liblineage.a: $(printf '%s ' $unprefixed | head -c 400)"
fi
undeclared=""
for s in $defined; do
    grep -qw "$s" include/lineage.h || undeclared="$undeclared $s"
done
if [ -z "$undeclared" ]; then ok "every exported symbol is declared in include/lineage.h"
else not_ok "exported but not in the public header:$undeclared"; fi
# internal names a user program may well define itself
src=$WORK/clash.c
cat > "$src" <<'EOF'
#include <stdio.h>
#include "lineage.h"
int json_parse(void) { return 1; }
int tr(void) { return 2; }
int mm(void) { return 3; }
double spearman(void) { return 4; }
int attention(void) { return 5; }
int main(void) { printf("%s %d\n", lineage_dtype_name(LINEAGE_DTYPE_BF16), json_parse() + tr() + mm() + attention() + (int)spearman()); return 0; }
EOF
libs=$(pkg-config --libs libxxhash libpcre2-8)   # libcurl, libcrypto, SQLite, libpq: dlopen on first use
san=""; case "$BUILD" in *asan*) san="-fsanitize=address,undefined" ;; esac
if ${CC:-gcc} -std=c11 $san -Iinclude -o "$WORK/clash" "$src" "$lib" $libs -lm -lpthread 2> "$WORK/clash.err"; then
    ok "a program defining json_parse/tr/mm/spearman/attention links with liblineage.a"
    got=$("$WORK/clash" 2>&1)
    if [ "$got" = "BF16 15" ]; then ok "the linked program runs with its own names and the library's"
    else not_ok "the linked program printed '$got', expected 'BF16 15'"; fi
else
    not_ok "a program defining internal-sounding names fails to link: $(head -3 "$WORK/clash.err" | tr '\n' ' ')"
fi
# the check can fail: the internal archive does export them
if nm -g --defined-only "$BUILD/liblineage_internal.a" | awk 'NF == 3 { print $3 }' | grep -qx json_parse; then
    ok "the internal archive (tests, tools) still has json_parse: the check above can fail"
else
    not_ok "the internal archive lost json_parse"
fi
finish
