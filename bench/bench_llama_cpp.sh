#!/bin/bash
# bench_llama_cpp.sh: the native engine against llama.cpp (the prebuilt CPU build npm ships in
# @node-llama-cpp/linux-x64, driven by node-llama-cpp with gpu off and build "never"; pinned versions
# installed into a cache outside the repository) on the bench model of bench_forward.sh converted by
# tools/st2gguf to GGUF F32, F16, Q8_0 and Q4_0. Same thread count for both, rounds alternating
# lineage / llama.cpp, medians: prompt tokens/s (256 tokens, fresh context, load excluded) and decode
# tokens/s (16 single-token feeds after the prompt); then the logits after the prompt compared (llama.cpp
# with an f32 key/value cache). Prints a Markdown section.
# Env: BUILD, LINEAGE, BENCH_WORK, BENCH_THREADS (2), BENCH_ROUNDS (5), BENCH_TYPES, LINEAGE_BENCH_CACHE.
set -u
W=${BENCH_WORK:-build/bench}/llama_cpp
M=${BENCH_WORK:-build/bench}/forward/llama-1024x8
PY=/usr/bin/python3
THREADS=${BENCH_THREADS:-2}
ROUNDS=${BENCH_ROUNDS:-5}
TYPES=${BENCH_TYPES:-f32 f16 q8_0 q4_0}
NPM_DIR=${LINEAGE_BENCH_CACHE:-$HOME/.cache/lineage-bench}/npm
NLC_VERSION=3.22.1
DECODE=16
mkdir -p "$W" "$NPM_DIR"

section() { echo "## Against llama.cpp: prompt and decode (bench_llama_cpp.sh)"; echo; }
if ! command -v node > /dev/null; then section; echo "Skipped: node is not installed."; exit 0; fi
if [ ! -f "$NPM_DIR/node_modules/node-llama-cpp/package.json" ] ||
   ! grep -q "\"version\": \"$NLC_VERSION\"" "$NPM_DIR/node_modules/node-llama-cpp/package.json"; then
    echo "bench_llama_cpp: installing node-llama-cpp@$NLC_VERSION into $NPM_DIR" >&2
    [ -f "$NPM_DIR/package.json" ] || echo '{"name": "lineage-bench-peers", "private": true}' > "$NPM_DIR/package.json"
    (cd "$NPM_DIR" && npm install --no-audit --no-fund --ignore-scripts "node-llama-cpp@$NLC_VERSION" \
        "@node-llama-cpp/linux-x64@$NLC_VERSION") >&2 || { section; echo "Skipped: npm install failed."; exit 0; }
fi
if [ ! -s "$M/model.safetensors" ]; then
    echo "bench_llama_cpp: generating $M" >&2
    mkdir -p "$(dirname "$M")"
    $PY tests/ref/make_fixtures.py --big "$M" || { echo "make_fixtures --big failed" >&2; exit 1; }
fi
for t in $TYPES; do
    [ -s "$W/model-$t.gguf" ] && [ "$W/model-$t.gguf" -nt "$BUILD/st2gguf" ] && continue
    "$BUILD/st2gguf" "$M" "$W/model-$t.gguf" "$t" || { echo "st2gguf $t failed" >&2; exit 1; }
done
ids=$(awk 'BEGIN{ srand(7); for (i = 0; i < 256; i++) printf "%s%d", (i ? "," : ""), int(rand() * 32000) }')
load_start=$(cut -d' ' -f1 /proc/loadavg)

peer() { PEER_NPM="$NPM_DIR" node bench/peers/llama_cpp.mjs "$@"; }
field() { $PY -c 'import json,sys; print(eval(sys.argv[2], {}, json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])))' "$@"; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END{ if (NR==0) print "n/a"; else if (NR%2) print a[(NR+1)/2]; else printf "%.4g\n", (a[NR/2]+a[NR/2+1])/2 }'; }

rows=""
for t in $TYPES; do
    G=$W/model-$t.gguf
    lp=""; ld=""; cp=""; cd=""
    for r in $(seq "$ROUNDS"); do
        if "$LINEAGE" run "$G" --input-ids "$ids" --threads "$THREADS" --tokens $((DECODE + 1)) --json "$W/lin.json" \
            > /dev/null 2> "$W/lin.err"; then
            lp="$lp $($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["timing"]["prompt_tokens_per_second"])' "$W/lin.json")"
            ld="$ld $($PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["timing"]; print(int(sys.argv[2]) / t["generate_seconds"])' "$W/lin.json" $DECODE)"
        else echo "bench_llama_cpp: lineage $t: $(head -1 "$W/lin.err")" >&2; fi
        if peer "$G" "$ids" "$THREADS" $DECODE > "$W/peer.json" 2> "$W/peer.err"; then
            cp="$cp $(field "$W/peer.json" prompt_tokens_per_second)"
            cd="$cd $(field "$W/peer.json" decode_tokens_per_second)"
        else echo "bench_llama_cpp: llama.cpp $t: $(tail -1 "$W/peer.err")" >&2; fi
    done
    # logits after the prompt
    agree="n/a"
    if "$LINEAGE" run "$G" --input-ids "$ids" --threads "$THREADS" --logits-out "$W/lin.f32" > /dev/null 2>&1 &&
        peer "$G" "$ids" "$THREADS" 0 "$W/peer.f32" > /dev/null 2>&1; then
        agree=$($PY - "$W/lin.f32" "$W/peer.f32" <<'EOF'
import struct, sys, math
b = open(sys.argv[2], "rb").read(); V = len(b) // 4; b = struct.unpack("%df" % V, b)
a = open(sys.argv[1], "rb").read(); a = struct.unpack("%df" % V, a[len(a) - 4 * V:])
d = max(abs(x - y) for x, y in zip(a, b))
m = sum(a) / V; sd = math.sqrt(sum((x - m) ** 2 for x in a) / V)
print("%.3g (%.2g of the logits' SD %.3g), top-1 %s" % (d, d / sd, sd, "same" if a.index(max(a)) == b.index(max(b)) else "differs"))
EOF
)
    fi
    mlp=$(echo "$lp" | median); mld=$(echo "$ld" | median); mcp=$(echo "$cp" | median); mcd=$(echo "$cd" | median)
    rp=$(awk -v a="$mlp" -v b="$mcp" 'BEGIN{ if (a=="n/a" || b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }')
    rd=$(awk -v a="$mld" -v b="$mcd" 'BEGIN{ if (a=="n/a" || b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }')
    rows="$rows| $t | $(printf %.1f "$mlp") | $(printf %.1f "$mcp") | **$rp** | $(printf %.1f "$mld") | $(printf %.1f "$mcd") | **$rd** | $agree |
"
done
load_end=$(cut -d' ' -f1 /proc/loadavg)

section
echo "The bench model of bench_forward.sh (llama, 168M parameters, f32 safetensors) converted by tools/st2gguf;"
echo "llama.cpp = node-llama-cpp $NLC_VERSION with its prebuilt CPU binaries (\`getLlama({gpu: false, build: \"never\"})\`)."
echo "Both at $THREADS threads; medians of $ROUNDS rounds alternating lineage / llama.cpp. Prompt: 256 tokens in one"
echo "feed, model loading excluded. Decode: $DECODE single-token feeds after the prompt. Load average $load_start at the"
echo "start, $load_end at the end ($(nproc) cores shared with other work: ratios, not absolute rates, are the result)."
echo "Logits: after the last prompt token, lineage vs llama.cpp (f32 KV cache), max |difference|."
echo
echo "| GGUF | lineage prompt tok/s | llama.cpp prompt tok/s | prompt ratio | lineage decode tok/s | llama.cpp decode tok/s | decode ratio | logits max abs diff |"
echo "|---|---|---|---|---|---|---|---|"
printf "%s" "$rows"
