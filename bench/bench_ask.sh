#!/bin/bash
# bench_ask.sh: generated tokens per second of `lineage ask` (greedy, native engine, KV cache) against
# greedy generation in torch (bench/peers/torch_generate.py: with a KV cache, the fair peer, and the suite's
# reference forward without one, which recomputes the whole sequence per token) on bench_forward.sh's generated llama-family model,
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
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
best=0; got=0; missing=""
for i in 1 2 3; do
    if ! "$LINEAGE" ask "$M" "The license" --raw --max-tokens $N --json "$W/ask.json" > /dev/null 2> "$W/ask.err"; then
        missing=$(head -1 "$W/ask.err"); break
    fi
    # generated tokens after the first (which comes from the prompt pass) per second of the decode loop
    read -r r got <<< "$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); n=d["answer"]["tokens"]; print((n-1)/d["timing"]["generate_seconds"], n)' "$W/ask.json")"
    best=$(awk -v x="$best" -v y="$r" 'BEGIN{printf "%.1f", (y>x)?y:x}')
done
echo "## Generation, greedy (bench_ask.sh)"
echo
if [ -n "$missing" ]; then echo "\`lineage ask\` failed: $missing"; exit 0; fi
ids=$($PY -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["prompt_ids"])))' "$W/ask.json")
ours=$($PY -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["answer"]["ids"])))' "$W/ask.json")
kv=n/a; nocache=n/a; same=""; threads="?"
if $PY bench/peers/torch_generate.py "$M" "$ids" "$got" > "$W/torch.out" 2> "$W/torch.err"; then
    kv=$(awk '$2=="kv" {print $8}' "$W/torch.out")
    nocache=$(awk '$2=="nocache" {print $8}' "$W/torch.out")
    threads=$(awk '$2=="kv" {print $12}' "$W/torch.out")
    for way in kv nocache; do
        [ "$(awk -v w=$way '$2==w {print $10}' "$W/torch.out")" = "$ours" ] && same="$same $way=same" || same="$same $way=DIFFERENT"
    done
else echo "bench_ask: torch failed: $(tail -1 "$W/torch.err")" >&2; fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }'; }
echo "$(basename "$M") (bench_forward.sh's generated llama, hidden 1024, 8 layers, f32, the zoo base's tokenizer):"
echo "$got tokens generated greedily after a $(echo "$ids" | tr , "\n" | wc -l)-token raw prompt, $(nproc) cores. Rate = generated tokens"
echo "after the first, per second of the decode loop (loading and the prompt pass excluded); lineage best of 3."
echo "Greedy tokens of torch against lineage's:$same. The machine is shared: load average $load_before before,"
echo "$load_after after (1, 5, 15 minutes)."
echo
echo "Command: \`make bench\` (or \`BUILD=build/rel LINEAGE=build/rel/lineage bash bench/bench_ask.sh\`)"
echo
echo "| run | tokens/s | lineage / run |"
echo "|---|---|---|"
echo "| lineage ask (native engine, KV cache) | $best | 1 |"
echo "| torch, KV cache, gemv per token (bench/peers/torch_generate.py kv: no_grad, f32, $threads thread(s), the faster of 1 and $(nproc)) | $kv | $(ratio "$best" "$kv") |"
echo "| torch reference without a cache (the suite's reference: whole sequence per token, $threads thread(s)) | $nocache | $(ratio "$best" "$nocache") |"
