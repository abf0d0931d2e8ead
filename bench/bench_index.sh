#!/bin/bash
# bench/bench_index.sh: the fingerprint index. Search latency among INDEX_N (100,000) fingerprints in
# SQLite and in PostgreSQL (a server started here, tests/pg_lib.sh), same run; fingerprint build rate
# against `cat` of the same files (the bf16 checkpoint of bench_compare.sh); the bytes a fingerprint
# reads from the 100B sparse layout (what an hf:// fingerprint fetches besides headers). Markdown on
# stdout. Env: BUILD, LINEAGE, BENCH_WORK, INDEX_N.
set -u
N=${INDEX_N:-100000}
W=${BENCH_WORK:-build/bench}/index
mkdir -p "$W"
now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.0f", (b-a)/1e6}'; }
median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
echo "## Fingerprint index: search among $N fingerprints (bench_index.sh)"
echo
"$BUILD/mklineage" "$W/fam" 77 >/dev/null 2>&1 || { echo "mklineage failed"; exit 1; }
. tests/pg_lib.sh
pg_start
trap pg_stop EXIT
echo "| engine | build the index (s) | search wall ms (median of 5) | search CPU ms | candidates scored | first candidate |"
echo "|---|---|---|---|---|---|"
for engine in sqlite postgresql; do
    if [ $engine = sqlite ]; then uri=$W/bench.db; rm -f "$uri" "$uri-wal" "$uri-shm"
    else [ $pg_up = 1 ] || { echo "| postgresql | server did not start: $(tail -c 200 "$PG_LOG") | | | | |"; continue; }; uri=$PG_URI; fi
    t0=$(now)
    "$BUILD/mkindex" "$uri" "$N" "$W/fam/base" 2>/dev/null || { echo "| $engine | mkindex failed | | | | |"; continue; }
    "$LINEAGE" index add "$W/fam/base" --index "$uri" >/dev/null 2>&1
    t1=$(now)
    walls=() cpus=()
    "$LINEAGE" search "$W/fam/finetune" --index "$uri" >/dev/null 2>&1   # warm
    for i in 1 2 3 4 5; do
        s0=$(now)
        /usr/bin/time -f "%U %S" -o "$W/time" "$LINEAGE" search "$W/fam/finetune" --index "$uri" --json "$W/s.json" >/dev/null 2>&1
        s1=$(now)
        walls+=($(ms "$s0" "$s1"))
        cpus+=($(awk '{printf "%.0f", ($1+$2)*1000}' "$W/time"))
    done
    read -r scored first <<<"$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); c=d['candidates'][0]; print(d['index']['candidates_scored'], c['name'].rsplit('/',2)[-1] + (' (significant)' if c['significant'] else ''))" "$W/s.json")"
    echo "| $engine | $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", (b-a)/1e9}') | $(printf '%s\n' "${walls[@]}" | median) | $(printf '%s\n' "${cpus[@]}" | median) | $scored | $first |"
done
echo
echo "Target: under 200 ms per search (load average during the run: $(cut -d" " -f1 /proc/loadavg) on $(nproc) cores; wall time includes waiting for a core, CPU time does not). The index holds $N synthetic unrelated fingerprints that all share the"
echo "query's tokenizer and anchors (tools/mkindex: the worst case for retrieval) plus the query's parent; a search is"
echo "one process: open the model, fingerprint it, fetch the LSH candidates and a 256-entry null sample, score, report."
echo

# fingerprint build rate against cat of the same bytes
A=${BENCH_WORK:-build/bench}/weights/a.safetensors
if [ -f "$A" ]; then
    bytes=$(stat -c %s "$A")
    cat "$A" > /dev/null
    c0=$(now); cat "$A" > /dev/null; c1=$(now)
    rm -f "$W/rate.db"
    f0=$(now); "$LINEAGE" index add "$A" --index "$W/rate.db" 2>"$W/rate.err" >/dev/null; f1=$(now)
    read_bytes=$(sed -n 's/.*, \([0-9]*\) weight bytes read.*/\1/p' "$W/rate.err")
    echo "Fingerprint build of a $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e9}') GB bf16 checkpoint (bench_compare.sh's A, page-cached): $(ms "$f0" "$f1") ms,"
    echo "against $(ms "$c0" "$c1") ms for \`cat\` of the same file (ratio cat/fingerprint $(awk -v c="$(ms "$c0" "$c1")" -v f="$(ms "$f0" "$f1")" 'BEGIN{printf "%.1f", c/(f>0?f:1)}')); it reads ${read_bytes:-?} bytes of weights (sampled rows)."
else
    echo "Fingerprint build rate: skipped (no bench_compare.sh checkpoint at $A)."
fi
echo

# the 100B sparse layout (bench_inspect.sh's fixture)
S=${BENCH_WORK:-build/bench}/sparse-100b
[ -d "$S" ] || "$BUILD/mkfixture" sparse-100b "$S" >/dev/null 2>&1
if [ -d "$S" ]; then
    total=$(du -b --apparent-size -s "$S" | cut -f1)
    rm -f "$W/big.db"
    "$LINEAGE" index add "$S" --index "$W/big.db" 2>"$W/big.err" >/dev/null
    read_bytes=$(sed -n 's/.*, \([0-9]*\) weight bytes read.*/\1/p' "$W/big.err")
    fpb=$(sed -n 's/.*(\([0-9]*\)-byte fingerprint.*/\1/p' "$W/big.err")
    echo "100B sparse layout (Solar-Open-100B, $(awk -v t="$total" 'BEGIN{printf "%.1f", t/1e9}') GB): the fingerprint reads ${read_bytes:-?} bytes of weights"
    echo "($(awk -v r="${read_bytes:-0}" -v t="$total" 'BEGIN{printf "%.3f", 100*r/t}')% of the checkpoint; an hf:// fingerprint fetches these rows plus the headers) and is ${fpb:-?} bytes."
else
    echo "100B sparse layout: skipped (mkfixture sparse-100b failed)."
fi
