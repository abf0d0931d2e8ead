#!/bin/bash
# bench_forward.sh: the native engine's prompt pass (`lineage run --input-ids ... --json -`,
# timing.prompt_tokens_per_second, best of 3) against the torch reference forward pass
# (bench/peers/torch_forward.py: all threads, no_grad, warm-up, best of 3) on a generated llama-family f32
# model (hidden 1024, 8 layers, intermediate 2816, vocab 32000) and a 256-token prompt. Prints a Markdown
# section. Env: BUILD, LINEAGE, BENCH_WORK.
set -u
W=${BENCH_WORK:-build/bench}/forward
PY=/usr/bin/python3
M=$W/llama-1024x8
mkdir -p "$W"
if [ ! -s "$M/model.safetensors" ]; then
    echo "bench_forward: generating $M" >&2
    $PY tests/ref/make_fixtures.py --big "$M" || { echo "make_fixtures --big failed" >&2; exit 1; }
fi
ids=$(awk 'BEGIN{ srand(7); for (i = 0; i < 256; i++) printf "%s%d", (i ? "," : ""), int(rand() * 32000) }')
params=$($PY -c 'import json,sys; c=json.load(open(sys.argv[1])); h,f,L,V=c["hidden_size"],c["intermediate_size"],c["num_hidden_layers"],c["vocab_size"]; print("%.0f" % ((L*(4*h*h+3*h*f)+2*V*h)/1e6))' "$M/config.json")

torch_rate=n/a
if $PY bench/peers/torch_forward.py "$M" "$ids" > "$W/torch.out" 2> "$W/torch.err"; then
    torch_rate=$(awk '{print $NF}' "$W/torch.out")
else echo "bench_forward: torch failed: $(tail -1 "$W/torch.err")" >&2; fi

lin_rate=0; missing=""
for i in 1 2 3; do
    if ! "$LINEAGE" run "$M" --input-ids "$ids" --json - > "$W/lineage.json" 2> "$W/lineage.err"; then
        missing=$(head -1 "$W/lineage.err"); break
    fi
    r=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["timing"]["prompt_tokens_per_second"])' "$W/lineage.json" 2>/dev/null)
    [ -z "$r" ] && { missing="no timing.prompt_tokens_per_second in the lineage.run/1 document"; break; }
    lin_rate=$(awk -v x="$lin_rate" -v y="$r" 'BEGIN{printf "%.1f", (y>x)?y:x}')
done

echo "## Forward pass, prompt of 256 tokens (bench_forward.sh)"
echo
echo "A generated llama-family model, f32, ${params}M parameters (hidden 1024, 8 layers, 16 heads, intermediate 2816,"
echo "vocab 32000), one 256-token prompt, all $(nproc) cores. Rate = prompt tokens per second of one pass"
echo "(model loading excluded; best of 3)."
echo
if [ -n "$missing" ]; then
    echo "The engine is missing in this build: \`lineage run\` says: $missing"
    echo
    echo "| run | tokens/s |"
    echo "|---|---|"
    echo "| torch reference (tests/ref/reference_forward.py, f32) | $torch_rate |"
    exit 0
fi
ratio=$(awk -v a="$lin_rate" -v b="$torch_rate" 'BEGIN{ if (b=="n/a" || b+0==0) print "n/a"; else printf "%.2f", a/b }')
echo "| run | tokens/s | lineage / run |"
echo "|---|---|---|"
echo "| lineage run (native engine) | $lin_rate | 1 |"
echo "| torch reference (all threads, no_grad, f32) | $torch_rate | $ratio |"
