#!/bin/bash
# bench_weights.sh: the one-pass weight statistics (tools/weightstat -> stream_pairs) on two
# page-cached multi-GB bf16 checkpoints, against `cat A B > /dev/null`, numpy and torch doing the
# same statistics. Prints a Markdown section. Env: BUILD, BENCH_WORK, WEIGHTS_GB (default 3 each).
set -u
W=${BENCH_WORK:-build/bench}/weights
GB=${WEIGHTS_GB:-3}
A=$W/a.safetensors
B=$W/b.safetensors
PY=/usr/bin/python3
mkdir -p "$W"
want=$(awk -v g="$GB" 'BEGIN{printf "%d", g*1e9/33554432}')
have=$(( $(stat -c %s "$A" 2>/dev/null || echo 0) / 33554432 ))
if [ "$have" != "$want" ] || [ ! -f "$B" ]; then
    echo "bench_weights: generating 2 x $GB GB" >&2
    "$BUILD/mkbig" "$A" "$B" "$GB" 0.05 || { echo "mkbig failed" >&2; exit 1; }
fi
bytes=$(( $(stat -c %s "$A") + $(stat -c %s "$B") ))
now() { date +%s.%N; }
best=0
for i in 1 2 3; do   # first round warms the page cache
    t0=$(now); cat "$A" "$B" > /dev/null; t1=$(now)
    r=$(awk -v b="$bytes" -v a="$t0" -v c="$t1" 'BEGIN{printf "%.2f", b/(c-a)/1e9}')
    [ "$i" -gt 1 ] && best=$(awk -v x="$best" -v y="$r" 'BEGIN{print (y>x)?y:x}')
done
cat_rate=$best

# lineage: best of 3, with peak RSS from the last run
lin_rate=0
for i in 1 2 3; do
    /usr/bin/time -v "$BUILD/weightstat" "$A" "$B" > "$W/lineage.out" 2> "$W/lineage.time" || { cat "$W/lineage.time" >&2; exit 1; }
    r=$(awk '/^isa/{print $12}' "$W/lineage.out")
    lin_rate=$(awk -v x="$lin_rate" -v y="$r" 'BEGIN{print (y>x)?y:x}')
done
rss_kb=$(awk -F: '/Maximum resident/{gsub(/ /,"",$2); print $2}' "$W/lineage.time")
isa=$(awk '/^isa/{print $2}' "$W/lineage.out")
"$BUILD/weightstat" "$A" "$B" --hash > "$W/lineage_hash.out"
hash_rate=$(awk '/^isa/{print $12}' "$W/lineage_hash.out")
"$BUILD/weightstat" "$A" "$B" --threads 1 > "$W/lineage_1t.out"
one_rate=$(awk '/^isa/{print $12}' "$W/lineage_1t.out")
"$BUILD/weightstat" "$A" "$B" --sample 0.01 > "$W/lineage_s.out"
s_secs=$(awk '/^isa/{print $10}' "$W/lineage_s.out")

peer() { # peer NAME SCRIPT: best GB/s of 2 runs, or "n/a"
    local best=0 r
    for i in 1 2; do
        if ! $PY "bench/peers/$2" "$A" "$B" > "$W/$1.out" 2> "$W/$1.err"; then echo n/a; return; fi
        r=$(awk '/GB\/s/{print $NF}' "$W/$1.out")
        best=$(awk -v x="$best" -v y="$r" 'BEGIN{print (y>x)?y:x}')
    done
    echo "$best"
}
np_rate=$(peer numpy numpy_stats.py)
torch_rate=$(peer torch torch_stats.py)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }'; }

echo "## Weight statistics, one pass (bench_weights.sh)"
echo
echo "Two page-cached bf16 checkpoints of $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/2e9}') GB each (B = A + 5% noise),"
echo "all $(nproc) cores, kernels: $isa. Statistics: sums, squares, cross products, squared differences, max |a-b|, equal count."
echo "Rates are bytes of both files per second of the statistics pass (interpreter start-up and imports excluded)."
echo
echo "| run | GB/s | lineage / run |"
echo "|---|---|---|"
echo "| \`cat A B > /dev/null\` | $cat_rate | $(ratio "$lin_rate" "$cat_rate") (target >= 0.8) |"
echo "| lineage weightstat | $lin_rate | 1 |"
echo "| lineage, 1 thread | $one_rate | $(ratio "$lin_rate" "$one_rate") |"
echo "| lineage with XXH3-128 digests | $hash_rate | $(ratio "$lin_rate" "$hash_rate") |"
echo "| numpy (memmap, uint16<<16 view, BLAS dots) | $np_rate | $(ratio "$lin_rate" "$np_rate") (target >= 10) |"
echo "| torch (all threads, bf16 view .float(), dots) | $torch_rate | $(ratio "$lin_rate" "$torch_rate") (target >= 20) |"
echo
echo "Peak RSS of lineage: $((rss_kb / 1024)) MB (target < 100 MB; pread leaves no file pages mapped)."
echo "Sampled pass (--sample 0.01): $s_secs s."
echo
echo "Agreement (pooled over all tensors):"
echo
echo '```'
echo "lineage: $(sed -n 2p "$W/lineage.out")"
[ -s "$W/numpy.out" ] && echo "numpy:   $(sed -n 2p "$W/numpy.out")"
[ -s "$W/torch.out" ] && echo "torch:   $(sed -n 2p "$W/torch.out")"
echo '```'
