#!/usr/bin/env python3
"""Runs `lineage compare` on every pair of ../shared/zoo/manifest.json and scores the verdicts.

usage: zoo_accuracy.py LINEAGE ZOO [--markdown FILE] [--check] [--no-run]
--no-run passes --no-run to compare (weights, tokenizer and architecture only; the sanitizer build uses it
because the behaviour and activation tests have their own suites).
--check exits 1 unless every pair gets the right related/unrelated answer, no independent pair is
called derived, and every derived pair's relation kinds equal the truth."""
import json, subprocess, sys, time

EXTRA = ["--no-run"] if "--no-run" in sys.argv else []

def verdict(lineage, a, b):
    t = time.time()
    p = subprocess.run([lineage, "compare", a, b, "--json", "-"] + EXTRA, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip(), time.time() - t
    return json.loads(p.stdout)["verdict"], "", time.time() - t

def predicted(v):
    label = v["label"] if v else "error"
    rel = [] if not v else list(v.get("relation", []))
    if label == "identical":
        rel = ["identical"] + [r for r in rel if r != "identical"]
    return label, rel

def main():
    lineage, zoo = sys.argv[1], sys.argv[2]
    md = sys.argv[sys.argv.index("--markdown") + 1] if "--markdown" in sys.argv else None
    check = "--check" in sys.argv
    manifest = json.load(open(f"{zoo}/manifest.json"))
    rows, confusion = [], {"tp": 0, "fn": 0, "fp": 0, "tn": 0, "inconclusive": 0}
    kind_ok = kind_total = 0
    failures = []
    for pair in manifest["pairs"]:
        a, b = pair["a"], pair["b"]
        v, err, secs = verdict(lineage, f"{zoo}/{a}", f"{zoo}/{b}")
        label, rel = predicted(v)
        related_pred = label in ("identical", "derived")
        truth_rel = pair["relation"]
        if label == "inconclusive" or label == "error":
            confusion["inconclusive"] += 1
        elif pair["related"]:
            confusion["tp" if related_pred else "fn"] += 1
        else:
            confusion["fp" if related_pred else "tn"] += 1
        right = (related_pred == pair["related"]) and label not in ("inconclusive", "error")
        kinds = None
        if pair["related"] and truth_rel:
            kind_total += 1
            kinds = sorted(set(rel)) == sorted(set(truth_rel))
            kind_ok += kinds
        comp_note = ""
        if "components" in pair and v:
            comps = v.get("components", {})
            for name, truth in pair["components"].items():
                key = "text" if name == "text" else name
                got = comps.get(key, {}).get("label", "missing")
                ok = (got in ("identical", "derived")) == truth["related"]
                comp_note += f"{name}: {got}{'' if ok else ' (wrong)'}; "
                right = right and ok
        if not right or kinds is False:
            failures.append(f"{a} vs {b}: truth {'related ' + str(truth_rel) if pair['related'] else 'unrelated'}, "
                            f"got {label} {rel} {err}")
        rows.append((a, b, "related " + ",".join(truth_rel) if pair["related"] else "unrelated",
                     f"{label} {','.join(rel)}".strip(), f"{v['confidence']:.2f}" if v else "-",
                     "yes" if right else "NO", "-" if kinds is None else ("yes" if kinds else "NO"),
                     comp_note.strip(), f"{secs:.2f}"))
    n = len(rows)
    out = []
    out.append("| A | B | truth | verdict | confidence | related right | kind right | components | s |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    out.append("")
    out.append("| | called related | called unrelated | inconclusive |")
    out.append("|---|---|---|---|")
    out.append(f"| truly related | {confusion['tp']} | {confusion['fn']} | |")
    out.append(f"| truly unrelated | {confusion['fp']} | {confusion['tn']} | |")
    out.append(f"| all pairs | | | {confusion['inconclusive']} |")
    out.append("")
    right = sum(1 for r in rows if r[5] == "yes")
    out.append(f"Related/unrelated right: {right}/{n}. Relation kind right: {kind_ok}/{kind_total}. "
               f"Independent pairs called derived: {confusion['fp']}.")
    text = "\n".join(out)
    print(text)
    if md:
        marker = "<!-- end of generated table -->"
        try:
            kept = open(md).read().split(marker, 1)[1]
        except (OSError, IndexError):
            kept = "\n"
        with open(md, "w") as f:
            f.write("# Accuracy on the public zoo\n\n")
            f.write("Produced by `python3 scripts/zoo_accuracy.py build/rel/lineage ../shared/zoo --markdown "
                    "docs/ACCURACY.md` (`make accuracy`). Truth: ../shared/zoo/manifest.json. A pair is scored "
                    "related when the verdict is `identical` or `derived`; the relation kind is right when the "
                    "verdict's relations equal the manifest's (`identical` counts for label `identical`).\n\n")
            f.write(text + "\n\n" + marker + kept)
    for fl in failures:
        print("FAIL: " + fl, file=sys.stderr)
    if check and failures:
        sys.exit(1)

main()
