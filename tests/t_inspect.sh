#!/bin/bash
# lineage inspect and compare --only arch on the zoo and real configs: JSON fields checked with python3.
. "$(dirname "$0")/lib.sh"
Z=$LINEAGE_SHARED/zoo
C=$LINEAGE_SHARED/data/configs
# jcheck NAME FILE PYTHON-EXPR  (d = the parsed JSON document)
jcheck() {
    if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1"; fi
}

expect_exit "inspect base --json -" 0 "$LINEAGE" inspect "$Z/base" --json -
cp "$WORK/out" "$WORK/base.json"
jcheck "inspect base: schema lineage.inspect/1" "$WORK/base.json" 'd["schema"] == "lineage.inspect/1"'
# hand count of the zoo README's base: 2*1024*96 + 4*(2*96*96 + 2*48*96 + 3*96*256 + 2*96) + 96
jcheck "inspect base: 602976 parameters from tensors" "$WORK/base.json" \
    'd["parameters"]["total"] == 602976 and d["parameters"]["source"] == "tensors"'
jcheck "inspect base: 39 tensors, hf-llama naming, BF16" "$WORK/base.json" \
    'd["tensors"]["count"] == 39 and d["tensors"]["naming"] == "hf-llama" and d["tensors"]["dtypes"]["BF16"]["count"] == 39'
jcheck "inspect base: roles grouped (4 attn_q, 1 lm_head)" "$WORK/base.json" \
    'd["tensors"]["roles"]["attn_q"]["count"] == 4 and d["tensors"]["roles"]["lm_head"]["count"] == 1'
jcheck "inspect base: architecture normalized" "$WORK/base.json" \
    'd["architecture"]["hidden_size"] == 96 and d["architecture"]["num_kv_heads"] == 2 and d["architecture"]["family"] == "llama"'
jcheck "inspect base: README licence is a hypothesis clue" "$WORK/base.json" \
    'any(c["kind"] == "card_license" and c["status"] == "hypothesis" for c in d["clues"])'
jcheck "inspect base: bytes_read counts headers only" "$WORK/base.json" '0 < d["bytes_read"] < 100000'

expect_exit "inspect arch-only" 0 "$LINEAGE" inspect "$Z/arch-only" --json -
jcheck "inspect arch-only: count from the config formula" "$WORK/out" \
    'd["parameters"]["source"] == "config" and d["parameters"]["total"] == 602976'

expect_exit "inspect upcycled" 0 "$LINEAGE" inspect "$Z/upcycled" --json -
jcheck "inspect upcycled: MoE with 4 experts, top-2, active below total" "$WORK/out" \
    'd["architecture"]["moe"]["routed_experts"] == 4 and d["parameters"]["active"] < d["parameters"]["total"]'
jcheck "inspect upcycled: card base_model clue" "$WORK/out" \
    'any(c["kind"] == "card_base_model" and c["value"] == "base" for c in d["clues"])'

expect_exit "inspect vlm-a" 0 "$LINEAGE" inspect "$Z/vlm-a" --json -
jcheck "inspect vlm-a: text, vision, projector components kept apart" "$WORK/out" \
    'sorted(c["name"] for c in d["components"]) == ["projector", "text", "vision"]'
jcheck "inspect vlm-a: vision tower declares qwen2_5_vl" "$WORK/out" \
    '[c for c in d["components"] if c["name"] == "vision"][0]["architecture"]["model_type"] == "qwen2_5_vl"'

# BACKGROUND 2.5: Solar-Open 6 x 12e9 x 19.7e12 ~ 1.42e24 FLOPs ~ 1.00M H100-hours at 40% MFU
expect_exit "inspect Solar-Open --tokens 19.7T" 0 "$LINEAGE" inspect "$C/upstage__Solar-Open-100B" --tokens 19.7T --json -
jcheck "compute: ~1.42e24 FLOPs" "$WORK/out" 'abs(d["compute"]["training"]["flops"] / 1.42e24 - 1) < 0.03'
jcheck "compute: ~1.00M GPU-hours at 989 TFLOP/s, 40% MFU" "$WORK/out" \
    'abs(d["compute"]["training"]["gpu_hours"] / 1.0e6 - 1) < 0.03'
jcheck "compute: fine-tuning budget beside it (1% by default)" "$WORK/out" \
    'abs(d["compute"]["finetune"]["tokens"] - 1.97e11) < 1e6 and d["compute"]["finetune"]["flops"] < d["compute"]["training"]["flops"]'
expect_exit "inspect --mfu 0.5 --peak-tflops 989" 0 "$LINEAGE" inspect "$C/upstage__Solar-Open-100B" --tokens 19.7T --mfu 0.5 --json -
jcheck "compute: 0.80M GPU-hours at 50% MFU" "$WORK/out" 'abs(d["compute"]["training"]["gpu_hours"] / 0.8e6 - 1) < 0.03'

expect_exit "inspect DeepSeek-V3 config" 0 "$LINEAGE" inspect "$C/deepseek-ai__DeepSeek-V3" --json -
jcheck "DeepSeek-V3: MLA ranks, 1 MTP layer counted apart" "$WORK/out" \
    'd["architecture"]["mla"]["kv_lora_rank"] == 512 and d["architecture"]["mtp_layers"] == 1 and d["parameters"]["mtp"] > 0'
jcheck "DeepSeek-V3: auto_map clue" "$WORK/out" 'any(c["kind"] == "config_auto_map" for c in d["clues"])'

# a folder shipping code with a copyright line and a model card listing two base models
mkdir -p "$WORK/shipped"
cp "$Z/arch-only/config.json" "$WORK/shipped/"
printf -- '---\nlicense: other\nbase_model:\n- org/parent-a\n- org/parent-b\n---\ntext\n' > "$WORK/shipped/README.md"
printf '# coding=utf-8\n# Copyright 2025 The Example AI team. All rights reserved.\nimport torch\n' > "$WORK/shipped/modeling_x.py"
expect_exit "inspect folder with shipped code" 0 "$LINEAGE" inspect "$WORK/shipped" --json -
jcheck "clues: copyright line with file and line number" "$WORK/out" \
    'any(c["kind"] == "code_copyright" and c["source"] == "modeling_x.py" and c["line"] == 2 and "Example AI" in c["value"] for c in d["clues"])'
jcheck "clues: base_model list gives one clue per entry" "$WORK/out" \
    '[c["value"] for c in d["clues"] if c["kind"] == "card_base_model"] == ["org/parent-a", "org/parent-b"]'

expect_exit "inspect text output" 0 "$LINEAGE" inspect "$Z/upcycled" --no-color
check "inspect text: answer first names the type and size" grep -q "mixtral" "$WORK/out"
expect_exit "inspect --lang ko" 0 "$LINEAGE" inspect "$Z/upcycled" --lang ko --no-color
check "inspect --lang ko: Korean headings" grep -q "아키텍처" "$WORK/out"

expect_exit "compare base upscaled --only arch" 0 "$LINEAGE" compare "$Z/base" "$Z/upscaled" --only arch --json -
cp "$WORK/out" "$WORK/cmp.json"
jcheck "compare: architecture section of lineage.report/1" "$WORK/cmp.json" \
    'd["schema"] == "lineage.report/1" and "architecture" in d and "weights" not in d'
jcheck "compare base/upscaled: num_layers marked different" "$WORK/cmp.json" \
    '"num_layers" in d["architecture"]["differences"]'
jcheck "compare base/upscaled: depth up-scaling possible" "$WORK/cmp.json" \
    'any(h["kind"] == "depth_upscaling" for h in d["architecture"]["hypotheses"])'
jcheck "compare: shape mismatch is not evidence of independence" "$WORK/cmp.json" \
    'any("not evidence of independence" in n for n in d["architecture"]["notes"])'
jcheck "compare base/upscaled: 4 layers' tensors match by name and shape" "$WORK/cmp.json" \
    'd["architecture"]["tensors"]["same_shape"] == 39 and d["architecture"]["tensors"]["only_b"] == 18'

expect_exit "compare vlm-a vlm-b --only arch" 0 "$LINEAGE" compare "$Z/vlm-a" "$Z/vlm-b" --only arch --json -
jcheck "compare vlm-a/vlm-b: every component directly comparable" "$WORK/out" \
    'sorted(c["name"] for c in d["architecture"]["components"] if c["comparison"] == "direct") == ["projector", "text", "vision"]'
expect_exit "compare base indep-other --only arch" 0 "$LINEAGE" compare "$Z/base" "$Z/indep-other" --only arch --json -
jcheck "compare base/indep-other: vocab 1024 vs 1100 blocks embedding rows" "$WORK/out" \
    'any(b["dimension"] == "vocab_size" and b["a"] == 1024 and b["b"] == 1100 for b in d["architecture"]["blocking"])'
expect_exit "compare text output" 0 "$LINEAGE" compare "$Z/base" "$Z/pruned" --only arch --no-color
check "compare text: differences marked" grep -q '^  \* intermediate_size' "$WORK/out"
finish
