# The fingerprint index and search, the same checks against SQLite (a file) and a real PostgreSQL
# server started here on loopback (initdb in a temporary folder, its own port, stopped at the end):
# add (list file, resumable, per-entry failures), list, remove, search (true parent first and
# significant; nothing significant for a family not in the index), two concurrent writers, a writer
# killed mid-batch (no half-written entry; the batch resumes); hf:// fingerprints from the test nginx.
. tests/lib.sh
F=$WORK/fam
mkdir -p "$F"
for s in 31 32 33 34; do "$BUILD/mklineage" "$F/$s" $s >/dev/null 2>&1 || { not_ok "mklineage writes family $s"; finish; }; done
# the index: families 31-33 (57 models); family 34 is never added
: > "$WORK/list.txt"
for s in 31 32 33; do for m in "$F/$s"/*/; do echo "${m%/}" >> "$WORK/list.txt"; done; done
total=$(wc -l < "$WORK/list.txt")
head -20 "$WORK/list.txt" > "$WORK/first.txt"
sed -n '11,35p' "$WORK/list.txt" > "$WORK/second.txt"   # overlaps first.txt on lines 11-20
printf '%s\n' "$F/31/base" "$WORK/no-such-model" "$WORK/list.txt" "$F/31/finetune" > "$WORK/bad.txt"

# PostgreSQL on loopback (tests/pg_lib.sh)
. tests/pg_lib.sh
pg_start
trap pg_stop EXIT
if [ $pg_up = 1 ]; then ok "a PostgreSQL server runs on 127.0.0.1:$PG_PORT"
else not_ok "a PostgreSQL server runs on loopback ($(tail -c 300 "$PG_LOG" 2>/dev/null))"; fi

# sql ENGINE URI QUERY: one value
sql() {
    if [ "$1" = sqlite ]; then sqlite3 "$2" "$3"; else psql -qtAX "$2" -c "$3"; fi
}

run_engine() {
    local engine=$1 uri=$2 E=$1
    "$LINEAGE" index add --list "$WORK/first.txt" --index "$uri" > "$WORK/$E.add1" 2> "$WORK/$E.add1.err"
    if [ $? = 0 ] && grep -q "indexed 20 new, 0 already present, 0 failed" "$WORK/$E.add1"; then ok "$E: index add --list adds 20 entries"
    else not_ok "$E: index add --list ($(cat "$WORK/$E.add1") $(tail -c 300 "$WORK/$E.add1.err"))"; fi
    "$LINEAGE" index add --list "$WORK/first.txt" --index "$uri" > "$WORK/$E.add2" 2>/dev/null
    if grep -q "indexed 0 new, 20 already present, 0 failed" "$WORK/$E.add2"; then ok "$E: a second run skips what is indexed (resumable)"
    else not_ok "$E: second run ($(cat "$WORK/$E.add2"))"; fi

    # per-entry failures do not stop the batch; the exit code reports them
    "$LINEAGE" index add --list "$WORK/bad.txt" --index "$uri" > "$WORK/$E.bad" 2> "$WORK/$E.bad.err"; rc=$?
    if [ $rc != 0 ] && [ $rc != 1 ] && grep -q "0 new, 2 already present, 2 failed" "$WORK/$E.bad" &&
       [ "$(grep -c 'no-such-model\|list.txt' "$WORK/$E.bad.err")" -ge 2 ]; then ok "$E: failed entries are reported one by one (exit $rc), the batch goes on"
    else not_ok "$E: failures in a batch (exit $rc: $(cat "$WORK/$E.bad") $(head -c 300 "$WORK/$E.bad.err"))"; fi

    # two writers at once, overlapping lists: every model once
    "$LINEAGE" index add --list "$WORK/second.txt" --index "$uri" > "$WORK/$E.w1" 2>&1 &
    p1=$!
    "$LINEAGE" index add --list "$WORK/list.txt" --index "$uri" > "$WORK/$E.w2" 2>&1 &
    p2=$!
    wait $p1; r1=$?; wait $p2; r2=$?
    n=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_entries")
    d=$(sql "$engine" "$uri" "SELECT count(*) - count(DISTINCT name) FROM lineage_entries")
    c=$(sql "$engine" "$uri" "SELECT entries FROM lineage_counts")
    if [ $r1 = 0 ] && [ $r2 = 0 ] && [ "$n" = "$total" ] && [ "$d" = 0 ] && [ "$c" = "$n" ]; then ok "$E: two concurrent writers: $n entries, none lost or duplicated, the kept count agrees"
    else not_ok "$E: concurrent writers (exit $r1/$r2, $n entries of $total, $d duplicates, kept count $c: $(tail -c 300 "$WORK/$E.w2"))"; fi

    "$LINEAGE" index list --index "$uri" --json - > "$WORK/$E.list.json" 2>/dev/null
    if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['schema']=='lineage.index/1' and d['entries']==int(sys.argv[2])" \
        "$WORK/$E.list.json" "$total"; then ok "$E: index list shows $total entries"; else not_ok "$E: index list"; fi

    # search: every derived model of family 31 finds its parent (or a copy of it) first, significant
    local right=0 asked=0 miss=""
    for m in finetune continued noised permuted upscaled pruned vocab-extended upcycled composed-finetune-permute-prune finetune-child; do
        asked=$((asked + 1))
        ex="--exclude $F/31/$m"; [ $m = finetune ] && ex="$ex --exclude $F/31/finetune-child"
        "$LINEAGE" search "$F/31/$m" --index "$uri" $ex --top 3 --json - > "$WORK/$E.s.json" 2>/dev/null
        want="base identical requantized rescaled"; [ $m = finetune-child ] && want=finetune
        if python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); c=d['candidates'][0]
assert c['significant'] and c['name'].rsplit('/',1)[1] in sys.argv[2].split(), c['name']" "$WORK/$E.s.json" "$want" 2>/dev/null
        then right=$((right + 1)); else miss="$miss $m"; fi
    done
    if [ $right -ge $((asked - 1)) ]; then ok "$E: search puts the parent first for $right/$asked derived models$miss"
    else not_ok "$E: search found the parent for $right/$asked (missed:$miss)"; fi
    local sig=0
    for m in base finetune independent; do
        "$LINEAGE" search "$F/34/$m" --index "$uri" --json - > "$WORK/$E.h.json" 2>/dev/null
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['calibrated'] and d['best'] is None" "$WORK/$E.h.json" 2>/dev/null || sig=$((sig + 1))
    done
    if [ $sig = 0 ]; then ok "$E: nothing significant for models of a family not in the index"
    else not_ok "$E: $sig models of an unindexed family got a significant candidate"; fi
    "$LINEAGE" search "$F/31/pruned" --index "$uri" --exclude "$F/31/pruned" --lang ko > "$WORK/$E.ko" 2>&1
    if grep -q "가장 가까운 알려진 모델" "$WORK/$E.ko"; then ok "$E: search report in Korean"; else not_ok "$E: Korean report ($(head -c 200 "$WORK/$E.ko"))"; fi

    if [ $E = sqlite ]; then   # reports and confirmation (engine-independent code)
        "$LINEAGE" search "$F/31/pruned" --index "$uri" --exclude "$F/31/pruned" --md "$WORK/s.md" --html "$WORK/s.html" \
            --journal "$WORK/journal.md" > /dev/null 2>&1
        if grep -q "^# lineage search" "$WORK/s.md" && grep -q "<h1>lineage search" "$WORK/s.html" &&
           grep -q "Which indexed model is" "$WORK/journal.md" && grep -q "margin to the next" "$WORK/journal.md"; then
            ok "search writes Markdown, HTML and a journal entry with each candidate's margin"
        else not_ok "search reports ($(head -c 200 "$WORK/journal.md" 2>/dev/null))"; fi
        "$LINEAGE" verify "$F/31/pruned" --index "$uri" --exclude "$F/31/pruned" --top 2 --no-run --json - > "$WORK/v.json" 2>/dev/null
        if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['schema']=='lineage.verify/1' and len(d['candidates'])==2" "$WORK/v.json" 2>/dev/null
        then ok "verify --index compares the model with the index's top candidates"
        else not_ok "verify --index ($(head -c 200 "$WORK/v.json"))"; fi
    fi

    # remove
    "$LINEAGE" index remove "$F/31/noised" --index "$uri" > "$WORK/$E.rm" 2>&1
    n2=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_entries")
    k2=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_keys k WHERE NOT EXISTS (SELECT 1 FROM lineage_entries e WHERE e.id = k.entry)")
    c2=$(sql "$engine" "$uri" "SELECT entries FROM lineage_counts")
    if grep -q removed "$WORK/$E.rm" && [ "$n2" = $((total - 1)) ] && [ "$k2" = 0 ] && [ "$c2" = "$n2" ]; then ok "$E: index remove drops the entry and its keys"
    else not_ok "$E: remove ($(cat "$WORK/$E.rm"), $n2 entries, $k2 orphan keys, kept count $c2)"; fi
}

# a writer killed mid-batch: nothing half-written is visible, and the batch resumes
kill_resume() {
    local engine=$1 uri=$2 E=$1
    "$LINEAGE" index add --list "$WORK/list.txt" --index "$uri" > /dev/null 2>&1 &
    pid=$!
    for i in $(seq 1 400); do
        n=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_entries" 2>/dev/null)
        [ "${n:-0}" -ge 3 ] && break
        sleep 0.02
    done
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    n=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_entries")
    half=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_entries e WHERE NOT EXISTS (SELECT 1 FROM lineage_keys k WHERE k.entry = e.id)")
    if [ "$n" -lt "$total" ] && [ "$half" = 0 ]; then ok "$E: killed writer left $n whole entries, none half-written"
    else not_ok "$E: killed writer ($n of $total entries, $half without keys)"; fi
    "$LINEAGE" index add --list "$WORK/list.txt" --index "$uri" > "$WORK/$E.resume" 2>/dev/null
    n2=$(sql "$engine" "$uri" "SELECT count(*) FROM lineage_entries")
    c2=$(sql "$engine" "$uri" "SELECT entries FROM lineage_counts")
    if grep -q "indexed $((total - n)) new, $n already present, 0 failed" "$WORK/$E.resume" && [ "$n2" = "$total" ] && [ "$c2" = "$total" ]; then ok "$E: the batch resumes to $total entries"
    else not_ok "$E: resume ($(cat "$WORK/$E.resume"), $n2 entries, kept count $c2)"; fi
}

run_engine sqlite "$WORK/index.db"
kill_resume sqlite "$WORK/kill.db"
if [ $pg_up = 1 ]; then
    PGURI=$PG_URI
    psql -qtAX "$PGURI" -c "CREATE DATABASE killtest" >/dev/null
    run_engine postgresql "$PGURI"
    kill_resume postgresql "postgresql://lineage@127.0.0.1:$PG_PORT/killtest"
    # the schema version is recorded; a newer one is refused
    psql -qtAX "$PGURI" -c "UPDATE lineage_schema SET version = 99" >/dev/null
    expect_exit "postgresql: an index of a newer schema is refused in one line" 2 "$LINEAGE" index list --index "$PGURI"
    expect_exit "postgresql: a password is not echoed" 3 "$LINEAGE" index list --index "postgresql://lineage:secret@127.0.0.1:1/x"
    grep -q secret "$WORK/err" && not_ok "the password appears in the error"
fi
# hf:// fingerprints from the suite's nginx (tests/remote/server.sh): the same record as the local copy,
# and a fraction of the 100B sparse layout's bytes fetched (nginx's access log counts them)
R=$WORK/remote
mkdir -p "$R"
if LINEAGE_SHARED=${SHARED:-../shared} tests/remote/server.sh start "$R" 2>"$R/server.err"; then
    trap 'pg_stop; tests/remote/server.sh stop "$R"' EXIT
    . "$R/env"
    export HF_ENDPOINT=http://127.0.0.1:$PORT
    "$LINEAGE" index add hf://org/base --index "$WORK/remote.db" --cache "$R/cache" > /dev/null 2> "$R/add.err"; r1=$?
    "$LINEAGE" index add "${SHARED:-../shared}/zoo/base" --index "$WORK/remote.db" > /dev/null 2>&1; r2=$?
    same=$(sqlite3 "$WORK/remote.db" "SELECT count(*) || ' ' || count(DISTINCT hex(fingerprint)) FROM lineage_entries")
    if [ $r1 = 0 ] && [ $r2 = 0 ] && [ "$same" = "2 1" ]; then ok "hf://org/base is fingerprinted over HTTP, byte-identical to the local copy's record"
    else not_ok "hf:// fingerprint (exit $r1/$r2, entries/distinct records: $same; $(tail -c 300 "$R/add.err"))"; fi
    : > "$LOGS/access.log"
    "$LINEAGE" index add hf://org/sparse100b --index "$WORK/remote.db" --cache "$R/cache" > /dev/null 2> "$R/big.err"; r3=$?
    sleep 0.2
    fetched=$(awk '{b += $3} END {printf "%d", b}' "$LOGS/access.log")
    total=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metadata']['total_size'])" "$R/hub/org/sparse100b/resolve/main/model.safetensors.index.json")
    if [ $r3 = 0 ] && [ "${fetched:-0}" -gt 0 ] && [ $((fetched * 100)) -lt "$total" ]; then
        ok "hf://org/sparse100b ($((total / 1000000000)) GB) is fingerprinted from $((fetched / 1000000)) MB fetched (under 1%)"
    else not_ok "hf:// fingerprint of the 100B sparse layout (exit $r3, $fetched of $total bytes fetched: $(tail -c 300 "$R/big.err"))"; fi
    unset HF_ENDPOINT
    rm -rf "$R/cache"
else
    not_ok "the test nginx starts for hf:// fingerprints ($(head -c 200 "$R/server.err"))"
fi

sqlite3 "$WORK/index.db" "UPDATE lineage_schema SET version = 99"
expect_exit "sqlite: an index of a newer schema is refused in one line" 2 "$LINEAGE" index list --index "$WORK/index.db"
printf 'not a database at all, just text that is long enough to look like a header...........' > "$WORK/junk.db"
expect_exit "sqlite: a file that is not an index is refused in one line" 2 "$LINEAGE" index list --index "$WORK/junk.db"
expect_exit "index without --index is a usage error" 2 "$LINEAGE" index list
expect_exit "search without a model is a usage error" 2 "$LINEAGE" search --index "$WORK/index.db"
finish
