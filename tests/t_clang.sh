# The library, CLI, tools and tests must compile with clang 14 as well as gcc 12 (same C11 flags,
# -Werror): every source is checked with clang -fsyntax-only, the ISA files with their flags.
. tests/lib.sh
case "$BUILD" in *asan*) finish ;; esac   # a compile check: once (rel) is enough
command -v clang >/dev/null 2>&1 || { not_ok "clang is installed (scripts/deps.sh test)"; finish; }
flags="-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla -Iinclude -Isrc -Itests -I$BUILD/gen $(pkg-config --cflags libxxhash libpcre2-8 libcurl libcrypto sqlite3 libpq 2>/dev/null)"
n=0; bad=""
for f in src/*/*.c tools/*.c tests/test_*.c fuzz/fuzz_*.c; do
    isa=""
    case "$f" in
    *_avx2.c) isa="-mavx2 -mfma -mf16c" ;;
    *_avx512.c) isa="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mfma -mf16c" ;;
    esac
    # shellcheck disable=SC2086
    if ! clang $flags $isa -fsyntax-only "$f" > "$WORK/clang.err" 2>&1; then
        bad="$bad $f"; head -3 "$WORK/clang.err"
    fi
    n=$((n + 1))
done
if [ -z "$bad" ]; then ok "clang compiles all $n sources with -Werror"; else not_ok "clang rejects:$bad"; fi
finish
