# The verdict end to end (all lines of evidence) on lineage cases generated here (tools/mklineage,
# a seed the weights tests do not use) and on every pair of ../shared/zoo/manifest.json.
. tests/lib.sh
F=$WORK/cases
"$BUILD/mklineage" "$F" 11 >/dev/null 2>&1 || { not_ok "mklineage writes the cases"; finish; }
expect() { # expect CASE LABEL RELATIONS(comma list, may be empty)
    "$LINEAGE" compare "$F/base" "$F/$1" --json "$WORK/$1.json" >/dev/null 2>"$WORK/$1.err"
    check "generated $1: verdict $2${3:+ ($3)}" python3 -c "
import json; v=json.load(open('$WORK/$1.json'))['verdict']
assert v['label']=='$2', v['label']
assert sorted(v['relation'])==sorted([r for r in '$3'.split(',') if r]), v['relation']
assert 0 < v['confidence'] <= 1"
}
expect identical identical ""
expect requantized derived requantized
expect finetune derived finetune
expect continued derived continued_pretraining
expect noised derived noised
expect rescaled derived rescaled
expect permuted derived permuted
expect upscaled derived depth_upscaled
expect pruned derived pruned
expect vocab-extended derived vocab_extended
expect upcycled derived upcycled
expect independent independent ""
expect independent-vocab independent ""

# Siblings: two derivatives whose cards name the same third model as their base are related through
# that ancestor (R7), not one derived from the other; without the cards the weights alone cannot
# tell siblings from descent and report the training difference.
for m in finetune continued; do cp -r "$F/$m" "$WORK/sib-$m"; printf -- '---\nbase_model: org/base\n---\n' > "$WORK/sib-$m/README.md"; done
"$LINEAGE" compare "$WORK/sib-finetune" "$WORK/sib-continued" --json "$WORK/sib.json" >/dev/null 2>&1
check "two derivatives declaring the same base: derived (shared_ancestor)" python3 -c "
import json; v=json.load(open('$WORK/sib.json'))['verdict']; assert v['label']=='derived' and v['relation']==['shared_ancestor'], v"
mkdir -p "$WORK/base-named"; cp "$F/base/"* "$WORK/base-named/"; mv "$WORK/base-named" "$WORK/base"
"$LINEAGE" compare "$WORK/base" "$WORK/sib-finetune" --json "$WORK/direct.json" >/dev/null 2>&1
check "a derivative whose card names A as its base: direct descent (finetune)" python3 -c "
import json; v=json.load(open('$WORK/direct.json'))['verdict']; assert v['label']=='derived' and v['relation']==['finetune'], v"

# A lossless F32 re-save of a bf16 checkpoint stands for the base its card names: a derivative naming that
# base descends from A's values (finetune), while the same card on a fine-tune with full-precision values
# stays a sibling (shared_ancestor, above).
cp -r "$F/base" "$WORK/resave"
printf -- '---\nbase_model: org/base\n---\n' > "$WORK/resave/README.md"
python3 - "$WORK/resave/model.safetensors" <<'PY'
import json, struct, sys, array
p = sys.argv[1]; raw = bytearray(open(p, 'rb').read())
n = struct.unpack('<Q', raw[:8])[0]; hdr = json.loads(raw[8:8 + n])
for k, t in hdr.items():
    if k == '__metadata__' or t['dtype'] != 'F32': continue
    a, b = t['data_offsets']; a += 8 + n; b += 8 + n
    v = array.array('I', bytes(raw[a:b])); v = array.array('I', (x & 0xffff0000 for x in v))
    raw[a:b] = v.tobytes()
open(p, 'wb').write(raw)
PY
"$LINEAGE" compare "$WORK/resave" "$WORK/sib-finetune" --json "$WORK/resave.json" >/dev/null 2>&1
check "a bf16-exact F32 re-save naming B's base: direct descent (finetune), the reason stated" python3 -c "
import json; d=json.load(open('$WORK/resave.json')); v=d['verdict']
assert v['label']=='derived' and v['relation']==['finetune'], v
assert any('lossless re-save' in f['what'] for f in d['weights']['findings'])"
"$LINEAGE" compare "$WORK/resave" "$F/base" --json "$WORK/resave-id.json" >/dev/null 2>&1
check "the truncated re-save is still related to its source" python3 -c "
import json; v=json.load(open('$WORK/resave-id.json'))['verdict']; assert v['label'] in ('derived', 'identical'), v"

# Tokenizer reuse alone is not weight derivation (R4): the independent model shares base's tokenizer.
"$LINEAGE" compare "$F/base" "$F/independent" --json "$WORK/r4.json" >/dev/null 2>&1
check "shared tokenizer with independent weights: independent, tokenizer finding reported" python3 -c "
import json; d=json.load(open('$WORK/r4.json')); v=d['verdict']
assert v['label']=='independent', v['label']
assert any(f.get('line')=='tokenizer' for f in v['evidence'])"

# Accuracy on the public zoo.
# (the sanitizer build scores weights/tokenizer/architecture only: behaviour and activations run in rel)
case "$BUILD" in *asan*) norun=--no-run ;; *) norun= ;; esac
python3 scripts/zoo_accuracy.py "$LINEAGE" "$LINEAGE_SHARED/zoo" $norun > "$WORK/acc.txt" 2> "$WORK/acc.err"
check "zoo: every pair gets the right related/unrelated answer" grep -q "^Related/unrelated right: 36/36\." "$WORK/acc.txt"
check "zoo: no independent pair is called derived" grep -q "Independent pairs called derived: 0\." "$WORK/acc.txt"
check "zoo: the relation kind is right on every pair" sh -c "grep -Eq 'Relation kind right: ([0-9]+)/\\1\\.' '$WORK/acc.txt' && ! grep -q FAIL '$WORK/acc.err'"
finish
