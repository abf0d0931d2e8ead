#!/bin/bash
# compare --only weights on lineage cases made by tools/mklineage (not the zoo, so the rules are not
# tuned to it): each derivation kind is reported, the independent ones are not; options and bad input.
. tests/lib.sh
F=$WORK/cases
if ! "$BUILD/mklineage" "$F" 7 >/dev/null 2>"$WORK/gen.err"; then not_ok "mklineage writes the cases ($(head -c 200 "$WORK/gen.err"))"; finish; fi
ok "mklineage writes the cases"
cases="identical requantized finetune continued noised rescaled permuted upscaled pruned vocab-extended upcycled independent independent-vocab"
for c in $cases; do
    echo "$LINEAGE compare $F/base $F/$c --only weights --json $WORK/$c.json >/dev/null 2>$WORK/$c.err; echo \$? > $WORK/$c.rc"
done | xargs -P 2 -I{} sh -c '{}'
python3 - "$F" "$WORK" $cases <<'PY'
import json, sys
F, work, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
truth = json.load(open(F + "/truth.json"))
def say(ok, name): print(("ok - " if ok else "not ok - ") + name)
expect = {  # kind -> cases where it must be detected; everywhere else it must not be
    "identical": {"identical"},
    "requantized": {"requantized"},
    "noised": {"noised"},
    "rescaled": {"rescaled"},
    "permuted": {"permuted"},
    "depth_map": {"upscaled"},
    "pruned": {"pruned"},
    "vocab_extended": {"vocab-extended"},
    "upcycled": {"upcycled"},
    "independent_evidence": {"independent", "independent-vocab"},
}
for c in cases:
    rc = open(f"{work}/{c}.rc").read().strip()
    if rc != "0":
        say(False, f"base vs {c}: exits 0 (got {rc})"); continue
    w = json.load(open(f"{work}/{c}.json"))["weights"]; s = w["summary"]
    for kind, where in expect.items():
        got = bool(s[kind]["detected"])
        say(got == (c in where), f"base vs {c}: {kind} {'detected' if c in where else 'not detected'}")
    indep = c.startswith("independent")
    say(s["related"] != indep, f"base vs {c}: related={not indep}")
    if c in ("finetune", "continued", "upscaled", "pruned", "vocab-extended", "upcycled", "noised", "identical", "requantized", "rescaled"):
        say(s["finetune_like"]["detected"], f"base vs {c}: index-aligned tensors far above chance")
    # what moved once every alignment is undone: rounding for pure re-saves and re-parametrizations,
    # the update size for training (docs/METHODOLOGY.md "Training on top of a structural change")
    res = s["residual"]["median_rel_l2"]
    if c in ("identical", "requantized", "rescaled"):
        say(res is not None and res < 0.01, f"base vs {c}: residual at rounding ({res})")
    if c == "finetune":
        say(res is not None and 0.05 <= res <= 0.30, f"base vs finetune: residual of a fine-tune ({res})")
    if c == "continued":
        say(res is not None and res > 0.30, f"base vs continued: residual of continued pre-training ({res})")
    if c == "upscaled":
        say(s["depth_map"]["map"] == truth["upscaled_layer_map"], f"base vs upscaled: layer map {truth['upscaled_layer_map']}")
    if c == "pruned":
        good = tot = 0
        for e in w["alignment"]["width"]:
            t = truth["pruned_kept"][str(e["layer"])]; tot += len(t); good += len(set(t) & set(e["kept"]))
        say(tot and good / tot >= 0.95, f"base vs pruned: kept neurons recovered ({good}/{tot})")
    if c == "noised":
        say(abs(s["noised"]["alpha"] - 0.4) < 0.08, f"base vs noised: alpha ~0.4 (got {s['noised']['alpha']:.3f})")
    if c == "independent-vocab":
        v = w["alignment"]["vocab"]
        say(0 < v["shared"] < v["a_vocab"] and v["same_id"] < v["shared"], "independent-vocab: partial, reordered vocabulary overlap")
    if c == "requantized":
        say(s["identical"]["dtype_changed"] and not s["identical"]["detected"], "requantized: dtype changed, values not identical")
PY
[ $? = 0 ] || not_ok "case checker ran"

# sampling: a row subset with 95% intervals that contain the full-data value
$LINEAGE compare "$F/base" "$F/finetune" --only weights --sample 0.3 --json "$WORK/sampled.json" >/dev/null 2>&1
python3 - "$WORK/sampled.json" "$WORK/finetune.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["weights"]; full = json.load(open(sys.argv[2]))["weights"]
fp = {(p["a"], p["aligned"]): p["centered"] for p in full["pairs"]}
sp = [p for p in s["pairs"] if "ci95" in p]
inside = sum(1 for p in sp if (p["a"], p["aligned"]) in fp and p["ci95"][0] - 1e-9 <= fp[(p["a"], p["aligned"])] <= p["ci95"][1] + 1e-9)
print(("ok - " if sp and s["sample"] == 0.3 else "not ok - ") + f"--sample 0.3 reports CIs ({len(sp)} pairs)")
print(("ok - " if sp and inside >= 0.8 * len(sp) else "not ok - ") + f"sampled CIs contain the full value ({inside}/{len(sp)})")
print(("ok - " if s["summary"]["finetune_like"]["detected"] else "not ok - ") + "sampled run still finds the fine-tune")
nodig = all(p["xxh3_a"] is None and p["bytes_identical"] is None for p in s["pairs"])
print(("ok - " if nodig and s["summary"]["identical"]["bytes_identical_fraction"] is None else "not ok - ") + "a sampled run claims no byte digests (it did not read every byte)")
PY
# --sha256 adds digests; byte identity of an exact copy
$LINEAGE compare "$F/base" "$F/identical" --only weights --sha256 --json "$WORK/sha.json" >/dev/null 2>&1
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["weights"]["pairs"]
ok = p and all(len(q["sha256_a"]) == 64 and q["sha256_a"] == q["sha256_b"] and q["xxh3_a"] == q["xxh3_b"] and q["bytes_identical"] for q in p)
print(("ok - " if ok else "not ok - ") + "--sha256 digests equal for an exact copy")' "$WORK/sha.json"
# text report: the layer map and the per-layer profile
$LINEAGE compare "$F/base" "$F/upscaled" --only weights --no-color > "$WORK/text.out" 2>&1
check "text report shows the layer map" grep -q "B.4   <- A.1" "$WORK/text.out"
check "text report shows the per-layer profile" grep -q "Per-layer profile" "$WORK/text.out"
# bad input exits 2 with one line
expect_exit "--sample 0 is a usage error" 2 $LINEAGE compare "$F/base" "$F/finetune" --only weights --sample 0
mkdir -p "$WORK/broken"
cp "$F/base/config.json" "$WORK/broken/"
head -c 3000 "$F/base/model.safetensors" > "$WORK/broken/model.safetensors"
expect_exit "truncated safetensors exits 2" 2 $LINEAGE compare "$F/base" "$WORK/broken" --only weights
mkdir -p "$WORK/badtok"
cp "$F/base/config.json" "$F/base/model.safetensors" "$WORK/badtok/"
printf '{"model":{"vocab":{"a":"x"}}}' > "$WORK/badtok/tokenizer.json"
expect_exit "malformed tokenizer.json vocab exits 2" 2 $LINEAGE compare "$F/base" "$WORK/badtok" --only weights
finish
