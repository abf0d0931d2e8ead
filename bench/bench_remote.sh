#!/bin/bash
# bench/bench_remote.sh: a remote compare of a zoo pair (hf://org/base vs hf://org/finetune, 1.2 MB each)
# against the test nginx on 127.0.0.1 (tests/remote/server.sh), from an empty cache. Prints a Markdown
# section: requests and bytes from nginx's access log against the 50-request target, and the remote run's
# wall time as a ratio to the same compare of the local copies, measured in the same run.
# Env: BUILD, LINEAGE, LINEAGE_SHARED, BENCH_WORK.
set -u
dir=$BENCH_WORK/remote
Z=$LINEAGE_SHARED/zoo
echo "## remote compare: zoo pair base / finetune over HTTP (loopback nginx)"
echo
tests/remote/server.sh stop "$dir" >/dev/null 2>&1
rm -rf "$dir" && mkdir -p "$dir"
if ! tests/remote/server.sh start "$dir" 2>"$dir/server.err"; then
    echo "Skipped: the test nginx did not start: $(head -1 "$dir/server.err")"
    exit 0
fi
trap 'tests/remote/server.sh stop "$dir"' EXIT
. "$dir/env"
export HF_ENDPOINT=http://127.0.0.1:$PORT
runs=3
remote=(); local_=()
for i in $(seq $runs); do
    : > "$LOGS/access.log"
    t0=$(date +%s%N)
    "$LINEAGE" compare hf://org/base hf://org/finetune --cache "$dir/cache$i" --json "$dir/remote.json" >/dev/null 2>"$dir/err" ||
        { echo "remote compare failed: $(head -1 "$dir/err")"; exit 1; }
    t1=$(date +%s%N)
    "$LINEAGE" compare "$Z/base" "$Z/finetune" --json "$dir/local.json" >/dev/null 2>&1 || { echo "local compare failed"; exit 1; }
    t2=$(date +%s%N)
    remote+=($(( (t1 - t0) / 1000 ))); local_+=($(( (t2 - t1) / 1000 )))
    sleep 0.1
    read -r reqs bytes < <(awk '{n++; b += $3} END {print n+0, b+0}' "$LOGS/access.log")
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
ckpt=$(python3 -c "import json; s=json.load(open('$dir/remote.json'))['source']; print(s['a']['checkpoint_bytes'] + s['b']['checkpoint_bytes'])")
awk -v r="$reqs" -v b="$bytes" -v c="$ckpt" -v tr="$(median "${remote[@]}")" -v tl="$(median "${local_[@]}")" -v runs="$runs" 'BEGIN {
    print "| measure | value | target | value / target |"
    print "| --- | --- | --- | --- |"
    printf "| HTTP requests per remote compare (empty cache) | %d | 50 | %.2f |\n", r, r / 50
    printf "| bytes fetched | %.2f MB | - | %.3f x the two checkpoints (%.2f MB) |\n", b / 1e6, b / c, c / 1e6
    printf "| wall time, remote / local compare (median of %d) | %.2f s / %.2f s | - | %.2f |\n", runs, tr / 1e6, tl / 1e6, tr / tl
    print ""
    printf "Verdict: %s. Before request coalescing (adjacent ranges in one request, small weight files read whole) the same compare made 2,760 requests for 2.60 MB.\n", r <= 50 ? "target met" : "TARGET MISSED"
}'
