#!/bin/bash
# Remote models from the command line: nginx on 127.0.0.1 serving a Hub-like tree (tests/remote/server.sh).
# Reports of hf:// models equal the local ones; caching, --offline, --budget, progress and one-line errors.
. tests/lib.sh
tests/remote/server.sh stop "$WORK"
tests/remote/server.sh start "$WORK" || { not_ok "nginx starts on 127.0.0.1"; finish; }
trap 'tests/remote/server.sh stop "$WORK"' EXIT
. "$WORK/env"
export HF_ENDPOINT=http://127.0.0.1:$PORT XDG_CACHE_HOME=$(cd "$WORK" && pwd)/xdg
unset HF_TOKEN
Z=$LINEAGE_SHARED/zoo
# the report minus what names the source (path, "source" object with fetch counters)
strip_model() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d.pop('model',None); d.pop('source',None); print(json.dumps(d,sort_keys=True,indent=1))" "$1"; }

for m in base base-sharded; do
    "$LINEAGE" inspect "$Z/$m" --json "$WORK/local.json" >/dev/null 2>&1
    expect_exit "inspect hf://org/$m succeeds" 0 "$LINEAGE" inspect "hf://org/$m" --json "$WORK/remote.json"
    if [ -s "$WORK/local.json" ] && diff <(strip_model "$WORK/local.json") <(strip_model "$WORK/remote.json") >/dev/null; then
        ok "inspect of hf://org/$m equals the local report apart from the model path"
    else not_ok "inspect of hf://org/$m equals the local report"; fi
done
grep -q "fetched .* in [0-9]* requests" "$WORK/err" && ok "a run that fetched prints bytes and requests on stderr" ||
    not_ok "progress summary on stderr ($(cat "$WORK/err"))"
[ -d "$XDG_CACHE_HOME/lineage" ] && ok "the cache goes to \$XDG_CACHE_HOME/lineage" || not_ok "cache under XDG_CACHE_HOME"

expect_exit "compare of a remote and a local model" 0 "$LINEAGE" compare "hf://org/base" "$Z/base" --only arch --json "$WORK/c.json"
expect_exit "compare of two remote models" 0 "$LINEAGE" compare "hf://org/base" "hf://org/base-sharded" --json "$WORK/c2.json"

expect_exit "--cache DIR is used" 0 "$LINEAGE" inspect "hf://org/base" --cache "$WORK/mycache" --json "$WORK/x.json"
ls "$WORK"/mycache/*/org--base/snapshots/1111111111111111111111111111111111111111/config.json >/dev/null 2>&1 &&
    ok "--cache keeps the snapshot under its resolved commit" || not_ok "--cache snapshot folder"
: > "$LOGS/access.log"
expect_exit "--offline reads the cache" 0 "$LINEAGE" inspect "hf://org/base" --cache "$WORK/mycache" --offline --json "$WORK/off.json"
sleep 0.1
[ ! -s "$LOGS/access.log" ] && ok "--offline made no request" || not_ok "--offline made requests: $(head -3 "$LOGS/access.log")"
diff <(strip_model "$WORK/off.json") <(strip_model "$WORK/x.json") >/dev/null && ok "the offline report equals the online one" ||
    not_ok "offline report equals the online one"
expect_exit "--offline with an empty cache is one I/O error" 3 "$LINEAGE" inspect "hf://org/base" --cache "$WORK/empty" --offline
grep -q "not in the cache" "$WORK/err" && ok "the offline error says the model is not cached" || not_ok "offline error text: $(cat "$WORK/err")"

# the 100B-class layout: inspect reads headers only
total=$(grep -o '"total_size": [0-9]*' "$ROOT/org/sparse100b/resolve/main/model.safetensors.index.json" | grep -o '[0-9]*$')
: > "$LOGS/access.log"
expect_exit "inspect of the 100B-class sharded layout" 0 "$LINEAGE" inspect "hf://org/sparse100b" --json "$WORK/s.json"
sleep 0.1
read -r reqs bytes < <(awk '{n++; b += $3} END {print n+0, b+0}' "$LOGS/access.log")
if [ -n "$total" ] && [ "$bytes" -gt 0 ] && [ $((bytes * 1000)) -lt "$total" ]; then
    ok "inspect fetched $bytes bytes in $reqs requests of a $total-byte checkpoint (under 0.1%)"
else not_ok "inspect fetched $bytes bytes of $total (want under 0.1%)"; fi

expect_exit "a malformed hf:// URL is a usage error" 2 "$LINEAGE" inspect "hf://org"
expect_exit "an unknown repository exits 3" 3 "$LINEAGE" inspect "hf://org/nothere"
grep -q "404" "$WORK/err" && ok "the unknown repository error says 404" || not_ok "404 in: $(cat "$WORK/err")"
expect_exit "a private repository without HF_TOKEN exits 3" 3 "$LINEAGE" inspect "hf://org/private"
grep -q "HF_TOKEN" "$WORK/err" && ok "the auth error hints at HF_TOKEN" || not_ok "HF_TOKEN hint in: $(cat "$WORK/err")"
HF_TOKEN=$TOKEN expect_exit "a private repository with HF_TOKEN" 0 "$LINEAGE" inspect "hf://org/private" --json "$WORK/p.json"
expect_exit "config.json that does not parse exits 2" 2 "$LINEAGE" inspect "hf://org/badjson"
expect_exit "a too large safetensors header exits 2" 2 "$LINEAGE" inspect "hf://org/hugeheader"
expect_exit "--budget smaller than the headers exits 3" 3 "$LINEAGE" inspect "hf://org/base" --cache "$WORK/budget" --budget 1000
grep -q "budget" "$WORK/err" && ok "the budget error says so" || not_ok "budget in: $(cat "$WORK/err")"
expect_exit "--budget wants a byte count" 2 "$LINEAGE" inspect "hf://org/base" --budget lots
expect_exit "a server that ignores Range exits 3" 3 "$LINEAGE" inspect "hf://org/norange" --cache "$WORK/norange"
HF_ENDPOINT=http://127.0.0.1:$PROXY/f/500/2/cli expect_exit "two HTTP 500 answers are retried" 0 \
    "$LINEAGE" inspect "hf://org/base" --cache "$WORK/retry" --json "$WORK/r.json"
expect_exit "--timeout wants a number of seconds" 2 "$LINEAGE" inspect "hf://org/base" --timeout soon
t0=$(date +%s)
HF_ENDPOINT=http://127.0.0.1:$PROXY/f/drip/100000/cli expect_exit "a slow-drip server is stopped by --timeout" 3 \
    "$LINEAGE" inspect "hf://org/base" --cache "$WORK/drip" --timeout 2
took=$(( $(date +%s) - t0 ))
grep -q -- "--timeout" "$WORK/err" && [ "$took" -lt 10 ] && ok "the run ended after its 2 s total ($took s): $(cut -c1-60 "$WORK/err")" ||
    not_ok "--timeout bounds a slow-drip run ($took s): $(cat "$WORK/err")"
"$LINEAGE" --help | grep -q -- "--timeout SECONDS.*default 3600" && ok "--help documents --timeout and its default" ||
    not_ok "--help documents --timeout"
# a remote compare of a zoo pair (1.2 MB each) costs a bounded number of requests: small files, one header
# request and one request for the rest of each weight file (adjacent ranges coalesced; small files whole)
: > "$LOGS/access.log"
expect_exit "compare of a remote zoo pair" 0 "$LINEAGE" compare "hf://org/base" "hf://org/finetune" --cache "$WORK/pair" \
    --json "$WORK/pair.json"
sleep 0.1
reqs=$(wc -l < "$LOGS/access.log")
[ "$reqs" -le 50 ] && ok "the remote compare of base and finetune made $reqs requests (at most 50)" ||
    not_ok "the remote compare of base and finetune made $reqs requests (want at most 50)"
check "the report's own request counters agree with the server's log ($reqs)" python3 -c "
import json; s=json.load(open('$WORK/pair.json'))['source']; n=s['a']['requests']+s['b']['requests']
assert n == $reqs, n"
"$LINEAGE" compare "$Z/base" "$Z/finetune" --json "$WORK/pair-local.json" >/dev/null 2>&1
# (model names aside, and the tokenizer file's path, which for a remote model is in the cache)
names() { sed -e "s|$Z/||; s|hf://org/||" -e '/"source": ".*tokenizer.json"/d'; }
diff <(strip_model "$WORK/pair-local.json" | names) <(strip_model "$WORK/pair.json" | names) >/dev/null &&
    ok "the remote compare's report (behaviour and activations included) equals the local one apart from the names" ||
    not_ok "remote and local compare reports differ: $(diff <(strip_model "$WORK/pair-local.json") <(strip_model "$WORK/pair.json") | head -5)"

# credentials in HF_ENDPOINT are used, and written nowhere: reports, journal, cache names, errors
: > "$LOGS/access.log"
HF_ENDPOINT=http://lineage-user:s3cr%40t@127.0.0.1:$PORT expect_exit "an endpoint with user:password@ works" 0 \
    "$LINEAGE" compare "hf://org/base" "$Z/finetune" --only arch,tokenizer --cache "$WORK/cred" --json "$WORK/cred.json" \
    --md "$WORK/cred.md" --html "$WORK/cred.html" --journal "$WORK/cred-journal.md"
HF_ENDPOINT=http://lineage-user:s3cr%40t@127.0.0.1:$PORT expect_exit "an unknown repository behind such an endpoint exits 3" 3 \
    "$LINEAGE" inspect "hf://org/nothere" --cache "$WORK/cred"
cp "$WORK/err" "$WORK/cred.err"
HF_ENDPOINT=ftp://lineage-user:s3cr%40t@127.0.0.1:$PORT expect_exit "a non-http endpoint with credentials exits 2" 2 \
    "$LINEAGE" inspect "hf://org/base" --cache "$WORK/cred"
cp "$WORK/err" "$WORK/cred2.err"
sleep 0.1
grep -q "Basic bGluZWFnZS11c2VyOnMzY3JAdA==" "$LOGS/access.log" && ok "the endpoint's credentials were sent (HTTP Basic)" ||
    not_ok "credentials sent: $(head -2 "$LOGS/access.log")"
leaks=$( { grep -rl -e "s3cr" -e "lineage-user" "$WORK"/cred.json "$WORK"/cred.md "$WORK"/cred.html "$WORK"/cred-journal.md \
    "$WORK"/cred.err "$WORK"/cred2.err "$WORK/cred"; find "$WORK/cred" | grep -e "s3cr" -e "lineage-user"; } 2>/dev/null)
[ -s "$WORK/cred.json" ] && [ -s "$WORK/cred-journal.md" ] && [ -z "$leaks" ] &&
    ok "no report, journal, error or cache name holds the endpoint's credentials" || not_ok "credentials written to: $leaks"
"$LINEAGE" compare "hf://org/base" "$Z/base" --only arch --json "$WORK/cmp.json" >/dev/null 2>&1
check "a compare report records the remote repo, resolved commit and file ETags" python3 -c "
import json; s=json.load(open('$WORK/cmp.json'))['source']
a=s['a']; assert s['b']['kind']=='local'
txt=json.dumps(a); assert '1111111111111111111111111111111111111111' in txt and 'etag' in txt.lower() and 'org/base' in txt"
"$LINEAGE" verify "hf://org/base" --against "$Z/indep-seed" "$Z/base" --json "$WORK/ver.json" >/dev/null 2>&1
check "verify works on a remote model: the local copy ranks first as identical" python3 -c "
import json; d=json.load(open('$WORK/ver.json')); c=d['candidates'][0]
assert c['reference'].endswith('zoo/base') and c['label']=='identical' and d['parent'].endswith('zoo/base')"
"$LINEAGE" compare "hf://org/base" "$Z/finetune" --json "$WORK/rw.json" >/dev/null 2>&1
check "compare with weights works on a remote model: finetune is derived from it" python3 -c "
import json; v=json.load(open('$WORK/rw.json'))['verdict']; assert v['label']=='derived' and v['relation']==['finetune'], v"
finish
