#!/bin/sh
# make demo: generate a small family of models with known lineage and let lineage tell them apart.
set -eu
B=$1
D=build/demo
rm -rf "$D"; mkdir -p "$D"
echo "Generating demo models in $D (tools/mklineage: a base, and models made from it or not)..."
"$B/mklineage" "$D/models" 2026 >/dev/null
M=$D/models
run() { echo; echo "\$ lineage $*"; "$B/lineage" "$@"; }
run inspect "$M/base"
run compare "$M/base" "$M/upscaled" --only arch
for b in finetune independent upscaled; do
    run compare "$M/base" "$M/$b" --html "$D/base-vs-$b.html" --journal "$D/journal.md" | sed -n '1,/^$/p'
done
run verify "$M/finetune" --against "$M/independent" "$M/base"
# Running the models: the generated models above have a synthetic tokenizer, so behaviour and activations
# are shown on the trained zoo models when ../shared is beside the checkout.
Z=${LINEAGE_SHARED:-../shared}/zoo
if [ -d "$Z/base" ]; then
    run run "$Z/base" "This program is free software; you can" --tokens 12 --top-k 5
    run compare "$Z/base" "$Z/finetune" --only behaviour,activations --panel "$Z/indep-seed" "$Z/indep-other" \
        --html "$D/zoo-behaviour.html" | sed -n '1,/^$/p;/^Behaviour/,/^  rank/p;/^Activations/,/^  neuron/p'
fi
echo
echo "HTML reports: $D/base-vs-finetune.html, $D/base-vs-independent.html, $D/base-vs-upscaled.html"
echo "Question-and-answer journal: $D/journal.md"
