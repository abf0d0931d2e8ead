#!/bin/bash
# bench_compare.sh: end-to-end `lineage compare A B --only weights` (the whole report: one streaming
# pass with digests, cross-layer controls, layer map, summary, JSON) on the two page-cached multi-GB
# bf16 checkpoints of bench_weights.sh (tools/mkbig; B = A + noise), against `cat A B > /dev/null`
# in the same run, and its peak RSS. Prints a Markdown section. Env: BUILD, BENCH_WORK, WEIGHTS_GB.
set -u
W=${BENCH_WORK:-build/bench}/weights
GB=${WEIGHTS_GB:-3}
A=$W/a.safetensors
B=$W/b.safetensors
mkdir -p "$W"
want=$(awk -v g="$GB" 'BEGIN{printf "%d", g*1e9/33554432}')
have=$(( $(stat -c %s "$A" 2>/dev/null || echo 0) / 33554432 ))
if [ "$have" != "$want" ] || [ ! -f "$B" ]; then
    echo "bench_compare: generating 2 x $GB GB" >&2
    "$BUILD/mkbig" "$A" "$B" "$GB" 0.05 || { echo "mkbig failed" >&2; exit 1; }
fi
bytes=$(( $(stat -c %s "$A") + $(stat -c %s "$B") ))
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
min() { awk -v x="$1" -v y="$2" 'BEGIN{print (x=="" || y<x)?y:x}'; }

# interleaved rounds, best of each (the first round warms the page cache and is not counted)
cat_s=""; lin_s=""; samp_s=""; rss_kb=0
for i in 1 2 3 4; do
    t0=$(now); cat "$A" "$B" > /dev/null; t1=$(now)
    [ "$i" -gt 1 ] && cat_s=$(min "$cat_s" "$(secs "$t0" "$t1")")
    t0=$(now)
    /usr/bin/time -v "$LINEAGE" compare "$A" "$B" --only weights --json "$W/compare.json" > "$W/compare.txt" 2> "$W/compare.time" ||
        { cat "$W/compare.time" >&2; exit 1; }
    t1=$(now)
    r=$(awk -F: '/Maximum resident/{gsub(/ /,"",$2); print $2}' "$W/compare.time")
    [ "$r" -gt "$rss_kb" ] && rss_kb=$r
    [ "$i" -gt 1 ] && lin_s=$(min "$lin_s" "$(secs "$t0" "$t1")")
    t0=$(now)
    "$LINEAGE" compare "$A" "$B" --only weights --sample 0.01 --json "$W/compare_s.json" > /dev/null 2>&1 || exit 1
    t1=$(now)
    [ "$i" -gt 1 ] && samp_s=$(min "$samp_s" "$(secs "$t0" "$t1")")
done
one_s=""
for i in 1 2; do
    t0=$(now); "$LINEAGE" compare "$A" "$B" --only weights --threads 1 --json /dev/null > /dev/null 2>&1 || exit 1; t1=$(now)
    one_s=$(min "$one_s" "$(secs "$t0" "$t1")")
done
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN{printf "%.2f", b/s/1e9}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
summary=$(python3 -c '
import json, sys
w = json.load(open(sys.argv[1]))["weights"]; s = w["summary"]; f = s["finetune_like"]
print("%d pairs, fine-tune-like %s, median centered %.6f, bytes identical fraction %s, kernels %s"
      % (len(w["pairs"]), f["detected"], f["median_centered"], s["identical"]["bytes_identical_fraction"], w["kernels"]))
' "$W/compare.json" 2>/dev/null || echo "(summary unreadable)")
ci=$(python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["weights"]["pairs"]
q = [x for x in p if "ci95" in x]
w = sorted(x["ci95"][1] - x["ci95"][0] for x in q)
print(f"{len(q)} pairs with 95% CIs, median width {w[len(w)//2]:.2e}" if w else "no CIs")
' "$W/compare_s.json" 2>/dev/null || echo "(unreadable)")

echo "## End-to-end weights comparison (bench_compare.sh)"
echo
echo "\`lineage compare A B --only weights --json F\` on two page-cached bf16 checkpoints of"
echo "$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/2e9}') GB each (tools/mkbig, B = A + 5% noise; $(nproc) cores): process start to exit, so"
echo "the whole report (one streaming pass with XXH3-128 digests, cross-layer controls, layer map, summary,"
echo "JSON). Best of 3 warm rounds, interleaved with \`cat\`."
echo
echo "| run | seconds | GB/s | cat / run |"
echo "|---|---|---|---|"
echo "| \`cat A B > /dev/null\` | $cat_s | $(rate "$cat_s") | 1 |"
echo "| lineage compare --only weights | $lin_s | $(rate "$lin_s") | $(ratio "$cat_s" "$lin_s") |"
echo "| lineage compare, --threads 1 | $one_s | $(rate "$one_s") | $(ratio "$cat_s" "$one_s") |"
echo "| lineage compare --sample 0.01 | $samp_s | - | $(ratio "$cat_s" "$samp_s") |"
echo
echo "Peak RSS of the full comparison: $((rss_kb / 1024)) MB (target < 100 MB; tensor bytes are read with pread,"
echo "so the page cache is not counted). Report: $summary. Sampled: $ci."
