# Every real config folder in ../shared/data/configs inspects cleanly, as JSON and as text; a folder
# whose index names shards that are all absent is architecture-only, with a warning.
. tests/lib.sh
for d in "$LINEAGE_SHARED"/data/configs/*/; do
    name=$(basename "$d")
    expect_exit "inspect $name exits 0" 0 "$LINEAGE" inspect "$d" --json "$WORK/$name.json"
done
check "R1-Distill (index without shards) is architecture-only with a warning" python3 -c "
import json; d=json.load(open('$WORK/deepseek-ai__DeepSeek-R1-Distill-Qwen-32B.json'))
assert d['parameters']['source']=='config' and any('none is present' in w for w in d['warnings'])"
mkdir -p "$WORK/partial"
"$BUILD/mkfixture" hf "$WORK/partial" --shards 3 --seed 5 >/dev/null 2>&1
rm -f "$WORK/partial/model-00002-of-00003.safetensors"
expect_exit "an index with only some shards present is damage (exit 2)" 2 "$LINEAGE" inspect "$WORK/partial"
finish
