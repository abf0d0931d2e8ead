#!/bin/sh
# fuzz/run.sh SECONDS DIR: run every libFuzzer target in DIR for SECONDS each on its corpus.
set -eu
secs=$1; dir=$2
fail=0
for t in "$dir"/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    corpus="fuzz/corpus/${name#fuzz_}"
    mkdir -p "$corpus" "build/fuzz-work/$name"
    echo "== $name ($secs s)"
    if ! "$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=1024 -print_final_stats=1 \
        "build/fuzz-work/$name" "$corpus" > "build/fuzz-work/$name.log" 2>&1; then
        echo "FAILED: $name (see build/fuzz-work/$name.log)"; tail -30 "build/fuzz-work/$name.log"; fail=1
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build/fuzz-work/$name.log" | tr '\n' ' '; echo
    fi
done
exit $fail
