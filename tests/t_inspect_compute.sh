#!/bin/bash
# inspect's compute block on real configs: the attention term computed for the model at hand (not one
# model's figure for all), every digit of the GPU-hours, the device named, GPU presets, --gpus for
# wall-clock days, tokens per parameter.
. tests/lib.sh
C=${LINEAGE_SHARED:-../shared}/data/configs
L8=$C/meta-llama__Meta-Llama-3.1-8B; SO=$C/upstage__Solar-Open-100B
"$LINEAGE" inspect "$L8" --tokens 15T > "$WORK/l8.txt" 2>&1
"$LINEAGE" inspect "$L8" --tokens 15T --json "$WORK/l8.json" > /dev/null 2>&1
# Llama-3.1-8B: 32 layers x 4096 context x 32 heads x 128 / (6 * 8.03B / 6) = 6.7%; Solar-Open 13.4%
check "inspect Llama-3.1-8B: the attention term is this model's (+6.7%), not Solar-Open's" bash -c \
    "grep -q '+6.7% for this model at 4096 context' '$WORK/l8.txt' && ! grep -q 'Solar' '$WORK/l8.txt'"
check "inspect JSON: attention share of 6N for Llama-3.1-8B" python3 -c "
import json; c=json.load(open('$WORK/l8.json'))['compute']
assert abs(c['attention']['share_of_6n'] - 32*4096*4096/c['active_params']) < 1e-9 and c['attention']['context'] == 4096, c"
"$LINEAGE" inspect "$SO" --tokens 19.7T > "$WORK/so.txt" 2>&1
check "inspect Solar-Open 19.7T: every digit of the GPU-hours (1,000,506), H100 SXM named" bash -c \
    "grep -q '= 1,000,506 GPU-hours' '$WORK/so.txt' && grep -q 'H100 SXM dense BF16 peak 989 TFLOP/s' '$WORK/so.txt' && grep -q '+13.4% for this model' '$WORK/so.txt'"
check "inspect: tokens per parameter and per active parameter" grep -q '191.9 per parameter, 1634.2 per active parameter' "$WORK/so.txt"
"$LINEAGE" inspect "$SO" --tokens 19.7T --gpu a100 --gpus 2048 --json "$WORK/a100.json" > "$WORK/a100.txt" 2>&1
check "inspect --gpu a100 --gpus 2048: 312 TFLOP/s and wall-clock days" python3 -c "
import json; c=json.load(open('$WORK/a100.json'))['compute']; t=c['training']
assert c['peak_tflops'] == 312 and c['gpu'] == 'A100 SXM' and t['gpus'] == 2048, c
assert abs(t['wall_clock_days'] - t['gpu_hours'] / 2048 / 24) < 1e-9, t"
check "inspect --gpus: days on the terminal" grep -q 'days on 2,048 GPUs' "$WORK/a100.txt"
"$LINEAGE" inspect "$SO" --tokens 19.7T --gpu b200 --json - 2>/dev/null | python3 -c "import json,sys; assert json.load(sys.stdin)['compute']['peak_tflops']==2250" &&
    ok "inspect --gpu b200: 2250 TFLOP/s dense BF16" || not_ok "inspect --gpu b200"
expect_exit "inspect --gpu with an unknown device is a usage error" 2 "$LINEAGE" inspect "$SO" --tokens 1T --gpu tpu
"$LINEAGE" inspect "$SO" --tokens 19.7T --gpu h200 --gpus 1000 --lang ko > "$WORK/ko.txt" 2>&1
if out=$(python3 tests/ko_latin.py solar_open Solar-Open-100B upstage__Solar-Open-100B "H100" "H200" SXM MFU N_active < <(sed -n '/^연산량/,/^$/p' "$WORK/ko.txt")); then
    ok "inspect --lang ko: the compute block has no stray English"
else not_ok "inspect --lang ko compute block: $out"; fi
finish
