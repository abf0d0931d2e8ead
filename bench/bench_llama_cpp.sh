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

ids1=$(echo "$ids" | cut -d, -f1)
# exact logits: lineage on the F32 GGUF (checked against torch by tests/t_forward_reference.sh)
[ -s "$W/model-f32.gguf" ] || "$BUILD/st2gguf" "$M" "$W/model-f32.gguf" f32 > /dev/null
"$LINEAGE" run "$W/model-f32.gguf" --input-ids "$ids" --threads "$THREADS" --logits-out "$W/ref.f32" > /dev/null 2>&1
"$LINEAGE" run "$W/model-f32.gguf" --input-ids "$ids1" --threads "$THREADS" --logits-out "$W/ref1.f32" > /dev/null 2>&1
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
    # logits after the prompt (256 tokens) and after its first token, each against llama.cpp, and both
    # engines' distance to the exact logits (lineage on the F32 GGUF); checked against the tolerance
    agree="n/a"
    if [ -s "$W/ref.f32" ] && [ -s "$W/ref1.f32" ] &&
        "$LINEAGE" run "$G" --input-ids "$ids" --threads "$THREADS" --logits-out "$W/lin.f32" > /dev/null 2>&1 &&
        peer "$G" "$ids" "$THREADS" 0 "$W/peer.f32" > /dev/null 2>&1 &&
        "$LINEAGE" run "$G" --input-ids "$ids1" --threads "$THREADS" --logits-out "$W/lin1.f32" > /dev/null 2>&1 &&
        peer "$G" "$ids1" "$THREADS" 0 "$W/peer1.f32" > /dev/null 2>&1; then
        agree=$($PY - "$W" "$t" <<'EOF'
import sys, numpy as np
w, t = sys.argv[1], sys.argv[2]
def last(p, V): return np.fromfile(p, dtype=np.float32)[-V:].astype(np.float64)
def pair(suffix):
    b = np.fromfile(f"{w}/peer{suffix}.f32", dtype=np.float32).astype(np.float64); V = len(b)
    a, r = last(f"{w}/lin{suffix}.f32", V), last(f"{w}/ref{suffix}.f32", V)
    sd = r.std()
    return abs(a - b).max() / sd, abs(a - r).max() / sd, abs(b - r).max() / sd, a.argmax() == b.argmax()
d, lr, pr, top = pair("")
d1, _, _, _ = pair("1")
# the tolerance stated in the section's text
ok = d <= 1e-4 if t == "f32" else lr <= 1.5 * pr + 1e-6
print("%.2g / %.2g | %.2g / %.2g%s | %s" % (d, d1, lr, pr, "" if top else " (top-1 differs)", "yes" if ok else "**no**"))
EOF
)
    fi
    mlp=$(echo "$lp" | median); mld=$(echo "$ld" | median); mcp=$(echo "$cp" | median); mcd=$(echo "$cd" | median)
    rp=$(awk -v a="$mlp" -v b="$mcp" 'BEGIN{ if (a=="n/a" || b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }')
    rd=$(awk -v a="$mld" -v b="$mcd" 'BEGIN{ if (a=="n/a" || b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }')
    [ "$agree" = n/a ] && agree="n/a | n/a | n/a"
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
echo "Logits after the last prompt token (llama.cpp with an f32 key/value cache), max |difference| in units of the"
echo "exact logits' SD (exact: lineage on the F32 GGUF, itself checked against torch by tests/t_forward_reference.sh):"
echo "lineage vs llama.cpp on the 256-token prompt and on its first token alone; each engine's distance to the exact"
echo "logits (256 tokens). Tolerance (last column): F32 within 1e-4 of llama.cpp; every other type no farther from"
echo "the exact logits than 1.5x llama.cpp's own distance. Both engines quantize activations alike for Q8_0/Q4_0"
echo "(int8 per block of 32, f16 scale amax/127, round to nearest even: one token through llama.cpp's plain"
echo "vec_dot path agrees to the last bit, the Q4_0 row), but llama.cpp multiplies repacked weights"
echo "(ggml::cpu::repack, all Q8_0 here; Q4_0 from 4 tokens on) in generic C that scales and adds the int sum of"
echo "every 4 or 8 values in f32, where lineage (and llama.cpp's vec_dot) keep one int32 dot per block of 32: the"
echo "engines then differ by about the quantization error itself, and neither is closer to exact. F16: lineage keeps"
echo "f32 activations (llama.cpp rounds them to f16), so it is the closer of the two."
echo
echo "| GGUF | lineage prompt tok/s | llama.cpp prompt tok/s | prompt ratio | lineage decode tok/s | llama.cpp decode tok/s | decode ratio | logits vs llama.cpp, 256 / 1 tokens | to exact, lineage / llama.cpp | within tolerance |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf "%s" "$rows"
