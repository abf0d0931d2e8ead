# lineage run on the zoo: next-token top-k, greedy continuation, --json, --input-ids/--logits-out, the
# MoE and permuted zoo models, GGUF conversions of a zoo model, and one-line failures.
. "$(dirname "$0")/lib.sh"
Z=$LINEAGE_SHARED/zoo
# jcheck NAME FILE PY_EXPR   (d = the parsed JSON)
jcheck() {
    if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1"; fi
}
# lcheck NAME FILE_A FILE_B N PY_EXPR   (a, b = logits as lists of rows of floats; V = vocab)
lcheck() {
    if python3 - "$2" "$3" "$4" "$5" <<'EOF' 2>/dev/null; then ok "$1"; else not_ok "$1"; fi
import struct, sys, math
def rows(path, n):
    raw = open(path, 'rb').read()
    v = struct.unpack('<%df' % (len(raw) // 4), raw)
    V = len(v) // n
    return [v[i * V:(i + 1) * V] for i in range(n)], V
n = int(sys.argv[3])
a, V = rows(sys.argv[1], n)
b, _ = rows(sys.argv[2], n)
maxd = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
flat = [x for r in a for x in r]
mean = sum(flat) / len(flat)
std = math.sqrt(sum((x - mean) ** 2 for x in flat) / len(flat))
top_same = all(max(range(V), key=ra.__getitem__) == max(range(V), key=rb.__getitem__) for ra, rb in zip(a, b))
sys.exit(0 if eval(sys.argv[4]) else 1)
EOF
}

expect_exit "run base on text" 0 "$LINEAGE" run "$Z/base" "The license" --tokens 12 --json "$WORK/run.json" --threads 2
jcheck "run.json: schema lineage.run/1 with model, family llama, prompt ids and pieces" "$WORK/run.json" \
    "d['schema'] == 'lineage.run/1' and d['family'] == 'llama' and len(d['prompt']['ids']) == len(d['prompt']['pieces']) >= 2"
jcheck "run.json: BOS added as tokenizer_config.json asks (add_bos_token true, <s> = 1)" "$WORK/run.json" \
    "d['prompt']['bos_added'] and d['prompt']['ids'][0] == 1"
jcheck "run.json: 10 candidates by default, probabilities sorted, each <= 1, sum <= 1, logprob = log p" "$WORK/run.json" \
    "len(d['top_k']) == 10 and all(a['probability'] >= b['probability'] for a, b in zip(d['top_k'], d['top_k'][1:])) and all(0 < c['probability'] <= 1 for c in d['top_k']) and sum(c['probability'] for c in d['top_k']) <= 1 + 1e-9 and all(abs(__import__('math').exp(c['logprob']) - c['probability']) < 1e-9 for c in d['top_k'])"
jcheck "run.json: continuation of 12 ids starting with the top-1 candidate, decoded text" "$WORK/run.json" \
    "len(d['continuation']['ids']) == 12 and d['continuation']['ids'][0] == d['top_k'][0]['id'] and isinstance(d['continuation']['text'], str) and len(d['continuation']['text']) > 0"
jcheck "run.json: timing fields" "$WORK/run.json" \
    "all(k in d['timing'] for k in ('load_seconds', 'prompt_tokens', 'prompt_seconds', 'prompt_tokens_per_second', 'generated_tokens', 'generate_seconds')) and d['timing']['generated_tokens'] == 12"
"$LINEAGE" run "$Z/base" "The license" --tokens 12 --threads 1 --json "$WORK/run1.json" > /dev/null 2>&1
jcheck "greedy continuation is deterministic (1 thread vs 2 threads)" "$WORK/run1.json" \
    "d['continuation']['ids'] == json.load(open('$WORK/run.json'))['continuation']['ids']"
"$LINEAGE" run "$Z/base" "The license" --no-bos --top-k 3 --json "$WORK/nobos.json" > /dev/null 2>&1
jcheck "--no-bos drops BOS, --top-k 3 gives 3 candidates" "$WORK/nobos.json" \
    "not d['prompt']['bos_added'] and d['prompt']['ids'][0] != 1 and len(d['top_k']) == 3"
echo "The license" | "$LINEAGE" run "$Z/base" --json "$WORK/stdin.json" > /dev/null 2>&1
jcheck "text from stdin" "$WORK/stdin.json" "len(d['prompt']['ids']) >= 3"
"$LINEAGE" run "$Z/base" "The license" --tokens 4 > "$WORK/run.txt" 2>&1
if grep -q "Next token" "$WORK/run.txt" && grep -q "Greedy continuation" "$WORK/run.txt"; then ok "terminal text shows candidates and the continuation"
else not_ok "terminal text shows candidates and the continuation"; fi

IDS=1,45,300,17,900,4,77,512,3,1000
expect_exit "--input-ids with --logits-out" 0 "$LINEAGE" run "$Z/base" --input-ids $IDS --logits-out "$WORK/base.bin" --json "$WORK/ids.json"
size=$(stat -c %s "$WORK/base.bin")
if [ "$size" = $((10 * 1024 * 4)) ]; then ok "--logits-out holds n x vocab f32 ($size bytes)"; else not_ok "--logits-out size $size"; fi
jcheck "--input-ids runs exactly these ids (no BOS added)" "$WORK/ids.json" "d['prompt']['ids'] == [$IDS] and not d['prompt']['bos_added']"
"$LINEAGE" run "$Z/base" --input-ids $IDS --logits-out "$WORK/base1.bin" --threads 1 > /dev/null 2>&1
lcheck "logits do not depend on the thread count" "$WORK/base.bin" "$WORK/base1.bin" 10 "maxd == 0"
"$LINEAGE" run "$Z/base-fp32" --input-ids $IDS --logits-out "$WORK/fp32.bin" > /dev/null 2>&1
lcheck "base-fp32 (the bf16 weights widened) gives the bf16 model's logits" "$WORK/base.bin" "$WORK/fp32.bin" 10 "maxd < 1e-4"
"$LINEAGE" run "$Z/base-sharded" --input-ids $IDS --logits-out "$WORK/sharded.bin" > /dev/null 2>&1
lcheck "sharded checkpoint gives the same logits" "$WORK/base.bin" "$WORK/sharded.bin" 10 "maxd < 1e-4"

# the manifest: permuted is a function-preserving permutation of base (stored in bf16)
"$LINEAGE" run "$Z/permuted" --input-ids $IDS --logits-out "$WORK/perm.bin" > /dev/null 2>&1
lcheck "permuted model: same top-1 at every position, |d logit| small against the logit spread" "$WORK/base.bin" "$WORK/perm.bin" 10 \
    "top_same and maxd < 0.05 * std"
"$LINEAGE" run "$Z/indep-seed" --input-ids $IDS --logits-out "$WORK/indep.bin" > /dev/null 2>&1
lcheck "an independently trained model is not within that tolerance (the check can fail)" "$WORK/base.bin" "$WORK/indep.bin" 10 \
    "maxd > 0.05 * std"
expect_exit "upcycled (Mixtral MoE) runs" 0 "$LINEAGE" run "$Z/upcycled" "The license" --tokens 4 --json "$WORK/moe.json"
jcheck "upcycled reports family mixtral and a continuation" "$WORK/moe.json" "d['family'] == 'mixtral' and len(d['continuation']['ids']) == 4"

# GGUF conversions of base-fp32: F32 equals the safetensors logits, Q8_0 is close
if "$BUILD/st2gguf" "$Z/base-fp32" "$WORK/base.gguf" f32 && "$BUILD/st2gguf" "$Z/base-fp32" "$WORK/base-q8.gguf" q8_0; then
    "$LINEAGE" run "$WORK/base.gguf" --input-ids $IDS --logits-out "$WORK/gguf.bin" > /dev/null 2>&1
    lcheck "GGUF F32 (llama.cpp rotary row order) gives the safetensors logits" "$WORK/fp32.bin" "$WORK/gguf.bin" 10 "maxd < 1e-4"
    "$LINEAGE" run "$WORK/base-q8.gguf" --input-ids $IDS --logits-out "$WORK/q8.bin" > /dev/null 2>&1
    lcheck "GGUF Q8_0: logits close (|d| < 10% of the spread) and mostly the same top-1" "$WORK/fp32.bin" "$WORK/q8.bin" 10 \
        "maxd < 0.1 * std and maxd > 0"
    # st2gguf writes the tokenizer (tokenizer.ggml.*, add_bos_token): text encodes to the folder's ids
    "$LINEAGE" run "$WORK/base.gguf" "hello world, the cat" --json "$WORK/gguf-text.json" > /dev/null 2>&1
    "$LINEAGE" run "$Z/base-fp32" "hello world, the cat" --json "$WORK/st-text.json" > /dev/null 2>&1
    jcheck "GGUF from st2gguf carries the tokenizer: text prompt gives the folder's ids" "$WORK/gguf-text.json" \
        "d['prompt']['ids'] == json.load(open('$WORK/st-text.json'))['prompt']['ids'] and len(d['prompt']['ids']) > 3"
else
    not_ok "st2gguf converts base-fp32"
fi

expect_exit "config-only folder fails in one line (unsupported)" 2 "$LINEAGE" run "$Z/arch-only" --input-ids 1,2
expect_exit "missing model fails in one line (I/O)" 3 "$LINEAGE" run "$WORK/nope" --input-ids 1,2
expect_exit "id outside the vocabulary fails in one line (usage)" 2 "$LINEAGE" run "$Z/base" --input-ids 1,5000
expect_exit "malformed --input-ids fails in one line" 2 "$LINEAGE" run "$Z/base" --input-ids 1,x
expect_exit "TEXT and --input-ids together fail in one line" 2 "$LINEAGE" run "$Z/base" hi --input-ids 1
mkdir -p "$WORK/trunc"
cp "$Z/base/config.json" "$WORK/trunc/"
head -c 50000 "$Z/base/model.safetensors" > "$WORK/trunc/model.safetensors"
expect_exit "truncated weights fail in one line (format)" 2 "$LINEAGE" run "$WORK/trunc" --input-ids 1,2
printf '{"model_type": "gpt2", "n_embd": 8' > "$WORK/trunc/config.json"
expect_exit "corrupt config.json fails in one line (format)" 2 "$LINEAGE" run "$WORK/trunc" --input-ids 1,2
finish
