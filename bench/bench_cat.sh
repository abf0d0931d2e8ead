#!/bin/bash
# bench_cat.sh: `lineage compare A B --only weights --json F` against `cat A B > /dev/null` on page-cached
# bf16 pairs of each size in CAT_PAIRS GB (tools/mkbig, B = A + 5% noise), process start to exit,
# BENCH_ROUNDS (15) rounds alternating cat / lineage after one warm-up round, medians of wall time and of
# CPU time (user + sys: steadier than wall on a shared machine). The pairs are deleted afterwards unless
# BENCH_KEEP=1. Prints a Markdown section. Env: BUILD, LINEAGE, BENCH_WORK, CAT_PAIRS ("1 3").
set -u
W=${BENCH_WORK:-build/bench}/cat
ROUNDS=${BENCH_ROUNDS:-15}
PAIRS=${CAT_PAIRS:-1 3}
mkdir -p "$W"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
timed() {   # timed CMD...: prints "wall cpu" of CMD; wall from bash's microsecond clock (time(1)'s %e is 10 ms)
    local t0 t1
    t0=$EPOCHREALTIME
    /usr/bin/time -f "%U %S" -o "$W/time" "$@" > /dev/null 2>> "$W/err" || return 1
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" '{printf "%.4f %.3f\n", b - a, $1 + $2}' "$W/time"
}
load_start=$(cut -d' ' -f1 /proc/loadavg)
rows=""
for gb in $PAIRS; do
    A=$W/a$gb.safetensors B=$W/b$gb.safetensors
    if [ ! -s "$B" ]; then
        echo "bench_cat: generating 2 x $gb GB" >&2
        "$BUILD/mkbig" "$A" "$B" "$gb" 0.05 > /dev/null || { echo "mkbig failed" >&2; exit 1; }
    fi
    bytes=$(( $(stat -L -c %s "$A") + $(stat -L -c %s "$B") ))
    cat "$A" "$B" > /dev/null
    "$LINEAGE" compare "$A" "$B" --only weights --json "$W/c.json" > /dev/null 2>&1
    cw=""; cc=""; lw=""; lc=""
    for r in $(seq "$ROUNDS"); do
        read -r w c < <(timed sh -c 'cat "$1" "$2" > /dev/null' sh "$A" "$B") && { cw="$cw $w"; cc="$cc $c"; }
        read -r w c < <(timed "$LINEAGE" compare "$A" "$B" --only weights --json "$W/c.json") && { lw="$lw $w"; lc="$lc $c"; }
    done
    mcw=$(echo "$cw" | median); mcc=$(echo "$cc" | median); mlw=$(echo "$lw" | median); mlc=$(echo "$lc" | median)
    rows="$rows| 2 x $(awk -v b="$bytes" 'BEGIN{printf "%.2f", b/2e9}') GB | $mcw | $mlw | **$(awk -v a="$mcw" -v b="$mlw" 'BEGIN{printf "%.2f", a/b}')** | $mcc | $mlc | $(awk -v a="$mcc" -v b="$mlc" 'BEGIN{printf "%.2f", a/b}') | $(awk -v b="$bytes" -v s="$mlw" 'BEGIN{printf "%.2f", b/s/1e9}') |
"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$A" "$B"
done
load_end=$(cut -d' ' -f1 /proc/loadavg)
echo "## Weights pass against cat (bench_cat.sh)"
echo
echo "\`lineage compare A B --only weights --json F\` (the whole report: one streaming pass with XXH3-128 digests,"
echo "controls, layer map, JSON) against \`cat A B > /dev/null\`, both process start to exit on page-cached bf16 pairs"
echo "(tools/mkbig, B = A + 5% noise). Medians of $ROUNDS rounds alternating cat / lineage after a warm-up; $(nproc) cores;"
echo "load average $load_start at the start, $load_end at the end. Ratio = cat time / lineage time (>= 1: at the copy limit)."
echo
echo "| pair | cat wall s | lineage wall s | wall ratio | cat CPU s | lineage CPU s | CPU ratio | lineage GB/s |"
echo "|---|---|---|---|---|---|---|---|"
printf "%s" "$rows"
