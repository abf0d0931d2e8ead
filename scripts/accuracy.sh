#!/bin/sh
# Regenerates docs/ACCURACY.md (`make accuracy`): the public zoo in both argument orders, the same zoo
# disguised (folders renamed, cards removed or lying), and the composed-derivation grid (2 seeds x 2
# widths, both orders). usage: scripts/accuracy.sh LINEAGE MKLINEAGE ZOO
set -e
L=$1; MK=$2; ZOO=$3; OUT=docs/ACCURACY.md; T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
keep=$(sed -n '/^<!-- end of generated part -->/,$p' "$OUT" 2>/dev/null || true)
{
echo "# Accuracy"
echo
echo "Produced by \`make accuracy\` (scripts/accuracy.sh: build/rel, \`compare --no-run\`, so the weights decide"
echo "every verdict; behaviour and activations are scored by their own suites). Truth: ../shared/zoo/manifest.json"
echo "and the grid's grid.json. A pair is related when the verdict is \`identical\` or \`derived\`. Kinds are exact"
echo "when the verdict's relations equal the truth as sets (multi-label); \"declared indistinguishable\" adds"
echo "sibling pairs the verdict reports with \`indistinguishable\` naming \`shared_ancestor\` (the weights alone"
echo "cannot separate them; docs/METHODOLOGY.md rule 8). Direction truth: b_from_a / a_from_b from the"
echo "manifest's parent (identical re-saves stand for their source); \`undetermined\` is counted apart from wrong."
echo
} > "$T/doc"
python3 scripts/zoo_accuracy.py "$L" "$ZOO" --no-run --both-orders --title "Zoo with its model cards, both orders" --markdown "$T/doc" >/dev/null 2>&1 || true
python3 scripts/zoo_disguise.py "$ZOO" "$T/zoo"
python3 scripts/zoo_accuracy.py "$L" "$T/zoo" --no-run --both-orders --title "Zoo without model cards: folders renamed (base -> mybase, others modelNN), cards removed, half given a lying card and _name_or_path (meta-llama/Llama-3.2-1B), both orders" --markdown "$T/doc" >/dev/null 2>&1 || true
for s in 3 4; do for w in 1 2; do "$MK" "$T/g$s$w" $s --grid $w >/dev/null; done; done
python3 scripts/grid_accuracy.py "$L" "$T/g31" "$T/g32" "$T/g41" "$T/g42" --title "Composed-derivation grid: every valid ordered pair of {finetune, cpt, noise, rescale, permute, prune, vocab, upscale, upcycle, requant} plus six three-step chains and two unrelated controls; seeds 3 and 4, widths 64/160 and 48/128; both orders" --markdown "$T/doc" >/dev/null 2>"$T/grid.err" || true
{ echo "Grid failures other than kinds (all), then cases short of exact kinds (first 40):"; echo; echo '```'
  sed -n 's/^FAIL: //p' "$T/grid.err" | grep -v ': kinds \[' || true
  sed -n 's/^FAIL: //p' "$T/grid.err" | grep ': kinds \[' | head -40; echo '```'; echo; } >> "$T/doc"
if [ -n "$keep" ]; then printf '%s\n' "$keep" >> "$T/doc"; else echo "<!-- end of generated part -->" >> "$T/doc"; fi
cp "$T/doc" "$OUT"
