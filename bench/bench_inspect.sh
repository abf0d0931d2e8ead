#!/bin/bash
# bench/bench_inspect.sh: `lineage inspect` on a 100B-class checkpoint (the Solar-Open-100B layout
# from mkfixture sparse-100b: 48 full-size sparse BF16 shards, 18,963 tensors, ~205 GB apparent).
# Prints a Markdown section: wall time and peak RSS against the 1 s / 50 MB targets, and the bytes
# opening the model reads as a fraction of the checkpoint. Env: BUILD, LINEAGE, BENCH_WORK.
set -u
dir=$BENCH_WORK/sparse-100b
runs=5
echo "## inspect: 100B-class checkpoint (Solar-Open-100B layout)"
echo
if [ ! -x /usr/bin/time ]; then
    echo "Skipped: /usr/bin/time is missing (Debian package \`time\`)."
    exit 0
fi
rm -rf "$dir"
if ! "$BUILD/mkfixture" sparse-100b "$dir" 2>"$BENCH_WORK/mkfixture.err"; then
    echo "Skipped: mkfixture sparse-100b failed: $(head -1 "$BENCH_WORK/mkfixture.err")"
    exit 1
fi
stat=$("$BUILD/modelstat" "$dir") || { echo "modelstat failed"; exit 1; }
field() { echo "$stat" | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
tensors=$(field tensors); files=$(field files); header=$(field header_bytes); total=$(field total_bytes)
params=$(field parameters)

"$LINEAGE" inspect --json /dev/null "$dir" >/dev/null 2>&1   # page cache warm, as after mkfixture
walls=(); rss_max=0
for i in $(seq $runs); do
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$BENCH_WORK/inspect.time" "$LINEAGE" inspect --json /dev/null "$dir" >/dev/null 2>"$BENCH_WORK/inspect.err" \
        || { echo "inspect failed: $(head -1 "$BENCH_WORK/inspect.err")"; exit 1; }
    t1=$(date +%s%N)
    walls+=($(( (t1 - t0) / 1000 )))
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$BENCH_WORK/inspect.time")
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
done
median_us=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")

awk -v us="$median_us" -v rss="$rss_max" -v hb="$header" -v tb="$total" -v nt="$tensors" -v nf="$files" \
    -v np="$params" -v runs="$runs" 'BEGIN {
    wall = us / 1e6; mb = rss / 1024
    printf "%d tensors in %d shards, %.1fB parameters, %.1f GB of weight files (sparse on disk).\n\n", nt, nf, np / 1e9, tb / 1e9
    print "| measure | value | target | value / target |"
    print "| --- | --- | --- | --- |"
    printf "| wall time (median of %d runs, includes process start) | %.3f s | 1 s | %.3f |\n", runs, wall, wall
    printf "| peak RSS (max of %d runs) | %.1f MB | 50 MB | %.3f |\n", runs, mb, mb / 50
    printf "| bytes read to open (headers, index, config) | %.2f MB | - | %.5f%% of the checkpoint |\n", hb / 1e6, 100 * hb / tb
    print ""
    printf "Verdict: %s.\n", (wall < 1 && mb < 50) ? "both targets met" : "TARGET MISSED"
}'
rm -rf "$dir"   # 205 GB apparent: do not leave it for tools that copy build/
