#!/bin/bash
# bench_ask.sh: generated tokens per second of `lineage ask` (greedy, native engine, KV cache) against
# greedy generation with the torch reference (bench/peers/torch_generate.py, which recomputes the whole
# sequence per token: the reference has no KV cache) on bench_forward.sh's generated llama-family model,
# with the zoo base's tokenizer beside it (ids below 1024; the model's vocabulary is 32000). Raw-prompt
# mode, 64 tokens. Prints a Markdown section. Env: BUILD, LINEAGE, BENCH_WORK, LINEAGE_SHARED.
set -u
W=${BENCH_WORK:-build/bench}/ask
PY=/usr/bin/python3
BIG=${BENCH_WORK:-build/bench}/forward/llama-1024x8
M=${BENCH_ASK_MODEL:-$W/model}
N=64
mkdir -p "$W"
if [ -z "${BENCH_ASK_MODEL:-}" ] && [ ! -s "$M/model.safetensors" ]; then
    [ -s "$BIG/model.safetensors" ] || $PY tests/ref/make_fixtures.py --big "$BIG" || { echo "make_fixtures --big failed" >&2; exit 1; }
    mkdir -p "$M"
    for f in "$BIG"/*; do ln -sf "$(readlink -f "$f")" "$M/"; done
    for f in tokenizer.json tokenizer_config.json special_tokens_map.json; do
        ln -sf "$(readlink -f "${LINEAGE_SHARED:-../shared}/zoo/base/$f")" "$M/$f"
    done
fi
best=0; got=0; missing=""
for i in 1 2 3; do
    if ! "$LINEAGE" ask "$M" "The license" --raw --max-tokens $N --json "$W/ask.json" > /dev/null 2> "$W/ask.err"; then
        missing=$(head -1 "$W/ask.err"); break
    fi
    read -r r got <<< "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["timing"]["tokens_per_second"], d["answer"]["tokens"])' "$W/ask.json")"
    best=$(awk -v x="$best" -v y="$r" 'BEGIN{printf "%.1f", (y>x)?y:x}')
done
echo "## Generation, greedy (bench_ask.sh)"
echo
if [ -n "$missing" ]; then echo "\`lineage ask\` failed: $missing"; exit 0; fi
ids=$($PY -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["prompt_ids"])))' "$W/ask.json")
torch_rate=n/a
if $PY bench/peers/torch_generate.py "$M" "$ids" "$got" > "$W/torch.out" 2> "$W/torch.err"; then
    torch_rate=$(awk '{print $NF}' "$W/torch.out")
else echo "bench_ask: torch failed: $(tail -1 "$W/torch.err")" >&2; fi
ratio=$(awk -v a="$best" -v b="$torch_rate" 'BEGIN{ if (b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }')
echo "$(basename "$M"): $got tokens generated after a $(echo "$ids" | tr , "\n" | wc -l)-token prompt, all $(nproc) cores; rate = generated"
echo "tokens per second (prompt pass and loading excluded; lineage best of 3). The torch reference has no KV"
echo "cache: it recomputes the sequence for every token, as the suite's reference server does."
echo
echo "| run | tokens/s | lineage / run |"
echo "|---|---|---|"
echo "| lineage ask (native engine, KV cache) | $best | 1 |"
echo "| torch reference greedy (all threads, no_grad, f32, no KV cache) | $torch_rate | $ratio |"
