#!/bin/bash
# compare --only weights on every pair of the zoo manifest; the summary must report each pair's
# known relation (manifest.json is the truth) and unrelated pairs must show no signal.
. tests/lib.sh
ZOO=${LINEAGE_SHARED:-../shared}/zoo
if [ ! -f "$ZOO/manifest.json" ]; then not_ok "zoo manifest present at $ZOO"; finish; fi
# every compare in the background, two at a time
python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["pairs"]: print(p["a"], p["b"])' "$ZOO/manifest.json" > "$WORK/pairs"
while read -r a b; do
    echo "$LINEAGE compare $ZOO/$a $ZOO/$b --only weights --json $WORK/$a--$b.json >/dev/null 2>$WORK/$a--$b.err; echo \$? > $WORK/$a--$b.rc"
done < "$WORK/pairs" | xargs -P 2 -I{} sh -c '{}'
python3 - "$ZOO/manifest.json" "$WORK" <<'PY'
import json, sys
man = json.load(open(sys.argv[1])); work = sys.argv[2]
models = man["models"]
def say(ok, name):
    print(("ok - " if ok else "not ok - ") + name)
for p in man["pairs"]:
    a, b, rel = p["a"], p["b"], p["relation"]
    tag = f"{a} vs {b}"
    rc = open(f"{work}/{a}--{b}.rc").read().strip()
    if rc != "0":
        say(False, f"{tag}: compare exits 0 (got {rc}: {open(f'{work}/{a}--{b}.err').read().strip()})"); continue
    w = json.load(open(f"{work}/{a}--{b}.json"))["weights"]
    s = w["summary"]
    det = lambda k: bool(s[k]["detected"])
    if "components" in p:
        c = s["components"]
        say(c["vision"]["identical"], f"{tag}: vision component identical")
        say(c["text"]["independent"] and not c["text"]["related"], f"{tag}: text component independent")
        continue
    if not p["related"]:
        say(not s["related"], f"{tag}: unrelated pair shows no derivation signal")
        say(det("independent_evidence"), f"{tag}: high-information tensors at chance (independent evidence)")
        say(not det("permuted") and not det("pruned") and not det("vocab_extended") and not det("upcycled"),
            f"{tag}: no alignment finding on an unrelated pair")
        continue
    say(s["related"], f"{tag}: related")
    say(not det("independent_evidence"), f"{tag}: no independence claim")
    if "identical" in rel:
        say(det("identical"), f"{tag}: identical values")
        say(s["identical"]["value_identical_fraction"] == 1.0, f"{tag}: every tensor value-identical across dtypes/shards")
    else:
        say(not det("identical"), f"{tag}: not reported identical")
    if rel in (["finetune"], ["continued_pretraining"], ["shared_ancestor"]) and not ("permuted" in (models[a]["relation"] + models[b]["relation"])):
        say(det("finetune_like"), f"{tag}: index-aligned tensors far above chance")
    if "continued_pretraining" in rel or "finetune" in rel:
        say(not det("noised"), f"{tag}: training is not mistaken for noise")
        say(not det("permuted") and not det("depth_map"), f"{tag}: no permutation or layer re-map claimed")
    if "depth_upscaled" in rel:
        say(det("depth_map") and s["depth_map"]["map"] == models[b]["layer_map"],
            f"{tag}: layer map {models[b]['layer_map']} recovered (got {s['depth_map'].get('map')})")
        dup = w["layer_map"]["duplicate_layers_b"]
        say([1, 3] in dup and [2, 4] in dup, f"{tag}: duplicated layers found within B")
    if "pruned" in rel:
        say(det("pruned"), f"{tag}: pruned rows matched as a subset")
        kept = models[b]["kept_neurons"]; good = tot = 0
        for e in w["alignment"]["width"]:
            if e["role"] in ("mlp_gate", "mlp_up", "mlp_down"):
                truth = kept[str(e["layer"])]; tot += len(truth); good += len(set(truth) & set(e["kept"]))
        say(tot and good / tot >= 0.95, f"{tag}: kept neurons recovered ({good}/{tot})")
    if "vocab_extended" in rel:
        say(det("vocab_extended"), f"{tag}: vocabulary extension with matching shared-token rows")
        ids = models[b]["new_token_ids"]   # [first, last]
        say(s["vocab_extended"]["b_new"] == ids[-1] - ids[0] + 1, f"{tag}: new token count")
    if "permuted" in rel:
        say(det("permuted") and s["permuted"]["hidden"] and s["permuted"]["ffn"] and s["permuted"]["heads"],
            f"{tag}: hidden, FFN and head permutations recovered")
        say(s["permuted"]["centered_after"] > 0.9, f"{tag}: re-measured correlation after alignment near 1")
    if "upcycled" in rel:
        say(det("upcycled") and s["upcycled"]["direction"] == "b_from_a", f"{tag}: experts match the dense FFN")
        say(s["upcycled"]["within_layer_similarity"] > 0.5 > s["upcycled"]["cross_layer_similarity"],
            f"{tag}: experts of a layer alike, unlike other layers'")
    if "noised" in rel:
        say(det("noised") and abs(s["noised"]["alpha"] - 0.5) < 0.1, f"{tag}: uniform noise alpha ~0.5 (got {s['noised']['alpha']})")
    if "rescaled" in rel:
        say(det("rescaled"), f"{tag}: rescaling seen through norm folding")
    # R3: low-information pairs flagged; no norm pair counted among high-information evidence
    say(all(q["low_information"] for q in w["pairs"] if "norm" in q["role"]), f"{tag}: norm vectors flagged low-information")
PY
[ $? = 0 ] || not_ok "zoo checker ran"
finish
