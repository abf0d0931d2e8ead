#!/bin/bash
# lineage inspect on generated fixtures and the zoo (exit 0), on every damaged file and index
# (exit 2, one stderr line naming the damaged file), and on a missing path (exit 3).
. "$(dirname "$0")/lib.sh"
MK=$BUILD/mkfixture
ZOO=$LINEAGE_SHARED/zoo

check "mkfixture hf (llama, bf16)" "$MK" hf "$WORK/llama" --seed 1
check "mkfixture hf (mixtral, 3 shards, f16)" "$MK" hf "$WORK/mixtral" --arch mixtral --experts 4 --top-k 2 --shards 3 --dtype f16
check "mkfixture hf (qwen2_moe, f32, tied)" "$MK" hf "$WORK/qwen" --arch qwen2_moe --experts 4 --top-k 2 --dtype f32 --tied
check "mkfixture hf (solar_open, fp8, 2 shards)" "$MK" hf "$WORK/solar" --arch solar_open --hidden 200 --ffn 300 --moe-ffn 136 --experts 3 --top-k 2 --dtype fp8 --shards 2
for m in llama mixtral qwen solar; do
    expect_exit "inspect fixture $m" 0 "$LINEAGE" inspect --json "$WORK/$m.json" "$WORK/$m"
done
for m in base base-fp32 base-sharded arch-only vlm-a; do
    expect_exit "inspect zoo/$m" 0 "$LINEAGE" inspect --json /dev/null "$ZOO/$m"
done
expect_exit "inspect a .safetensors file directly" 0 "$LINEAGE" inspect --json /dev/null "$ZOO/base/model.safetensors"

expect_exit "mkfixture rejects an unknown dtype" 2 "$MK" hf "$WORK/x" --dtype q4
expect_exit "mkfixture rejects an inconsistent spec" 2 "$MK" hf "$WORK/x" --heads 3 --kv-heads 2

check "mkfixture corrupt" "$MK" corrupt "$WORK/corrupt"
n=0
while IFS=$'\t' read -r path blamed; do
    n=$((n + 1))
    expect_exit "corrupt $path exits 2 with one stderr line" 2 "$LINEAGE" inspect --json /dev/null "$WORK/corrupt/$path"
    if grep -qF -- "$blamed" "$WORK/err"; then ok "corrupt $path: the error names $blamed"
    else not_ok "corrupt $path: the error names $blamed ($(head -c 300 "$WORK/err"))"; fi
done < "$WORK/corrupt/cases.tsv"
[ "$n" -ge 40 ] && ok "at least 40 corrupt cases ($n)" || not_ok "at least 40 corrupt cases ($n)"

expect_exit "a missing path exits 3" 3 "$LINEAGE" inspect "$WORK/no-such-model"
expect_exit "a missing file exits 3" 3 "$LINEAGE" inspect "$WORK/no-such-model.safetensors"
finish
