#!/bin/bash
# bench/run.sh BUILD_DIR: runs every bench/bench_*.sh; each prints a Markdown section on stdout
# (ratios against a peer or the hardware limit measured in the same run). Results: bench/RESULTS.md.
set -u
cd "$(dirname "$0")/.."
export BUILD=$1 LINEAGE=$1/lineage LINEAGE_SHARED=${LINEAGE_SHARED:-../shared}
export BENCH_WORK=${BENCH_WORK:-build/bench}
mkdir -p "$BENCH_WORK"
out=bench/RESULTS.md.new
{
    echo "# Benchmark results"
    echo
    echo "Produced by \`make bench\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
    echo "$(free -g | awk '/Mem:/{print $2}') GB RAM. Every figure is a ratio against a peer or a hardware limit measured in the same run."
    echo
} > "$out"
for b in bench/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $b" >&2
    bash "$b" >> "$out" || echo "bench: $b failed" >&2
    echo >> "$out"
done
mv "$out" bench/RESULTS.md
cat bench/RESULTS.md
