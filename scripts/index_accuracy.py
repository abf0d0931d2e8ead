#!/usr/bin/env python3
"""Search accuracy of the fingerprint index (issue 18).

usage: index_accuracy.py BUILD ZOO WORK [--families N] [--heldout M] [--markdown FILE] [--reuse]

Builds an index of the zoo plus N generated families (tools/mklineage, seeds 101..100+N: a base, 14
derivations of it incl. composed ones, one second-generation model, two independent models each),
then searches every derived model with its own entry left out (--exclude) and checks that the first
candidate is its true parent (truth.json / manifest.json). Models of M further families that are not
in the index are searched too: none of them may get a candidate above the significance threshold.
A parent's copies stand for the parent: byte-identical ones (identical, requantized = BF16 rounding; the
zoo's base-fp32, base-sharded and vlm-a's text decoder) and the function-identical one (rescaled: norm
gains moved into the next matrices), which the fingerprint is built to be invariant to.
"""
import json, os, subprocess, sys, time

def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)

def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    build, zoo, work = sys.argv[1:4]
    arg = lambda k, d: sys.argv[sys.argv.index(k) + 1] if k in sys.argv else d
    nfam, nheld, md = int(arg("--families", "56")), int(arg("--heldout", "10")), arg("--markdown", None)
    lineage, mk = f"{build}/lineage", f"{build}/mklineage"
    os.makedirs(work, exist_ok=True)
    db = f"{work}/accuracy.db"
    if os.path.exists(db) and "--reuse" not in sys.argv:   # --reuse: keep an index built by an earlier run
        os.remove(db)
    fams = [101 + i for i in range(nfam)]
    held = [901 + i for i in range(nheld)]
    for s in fams + held:
        d = f"{work}/f{s}"
        if not os.path.exists(f"{d}/truth.json"):
            r = run([mk, d, str(s)])
            if r.returncode:
                print(f"mklineage {s} failed: {r.stderr}", file=sys.stderr)
                return 1
    zoo_models = sorted(m for m in os.listdir(zoo) if os.path.isdir(f"{zoo}/{m}"))
    entries = [f"{zoo}/{m}" for m in zoo_models]
    for s in fams:
        entries += [f"{work}/f{s}/{m}" for m in sorted(os.listdir(f"{work}/f{s}")) if os.path.isdir(f"{work}/f{s}/{m}")]
    with open(f"{work}/list.txt", "w") as f:
        f.write("\n".join(entries) + "\n")
    t0 = time.time()
    r = run([lineage, "index", "add", "--list", f"{work}/list.txt", "--index", db])
    t_index = time.time() - t0
    print(r.stdout.strip())
    n_generated = len(entries) - len(zoo_models)

    # queries: (model path, set of acceptable parents, kind)
    queries = []
    manifest = json.load(open(f"{zoo}/manifest.json"))["models"]
    zoo_base = {f"{zoo}/{m}" for m in ("base", "base-fp32", "base-sharded", "vlm-a", "rescaled")}
    for m, info in manifest.items():
        if m == "arch-only" or not os.path.exists(f"{zoo}/{m}/model.safetensors") and not os.path.exists(f"{zoo}/{m}/model.safetensors.index.json"):
            continue
        if m == "vlm-b":   # its text decoder (what the fingerprint covers) is indep-seed's
            queries.append((f"{zoo}/{m}", {f"{zoo}/indep-seed"}, "zoo vlm text decoder", []))
        elif info.get("parent") == "base" or m == "vlm-a":
            queries.append((f"{zoo}/{m}", zoo_base - {f"{zoo}/{m}"}, "zoo " + ",".join(info.get("relation") or ["vlm text decoder"]), []))
    for s in fams:
        truth = json.load(open(f"{work}/f{s}/truth.json"))
        for m, p in truth["parents"].items():
            cls = {f"{work}/f{s}/{x}" for x in (["base", "identical", "requantized", "rescaled"] if p == "base" else [p])}
            kids = [f"{work}/f{s}/{c}" for c, cp in truth["parents"].items() if cp == m]
            queries.append((f"{work}/f{s}/{m}", cls - {f"{work}/f{s}/{m}"}, m, kids))
    rows, per_kind, failures = [], {}, []
    t0 = time.time()
    for q, cls, kind, kids in queries:
        r = run([lineage, "search", q, "--index", db, "--top", "3", "--json", "-"] + [a for x in [q] + kids for a in ("--exclude", x)])
        if r.returncode:
            failures.append((q, "error: " + r.stderr.strip()))
            per_kind.setdefault(kind, [0, 0])[1] += 1
            continue
        d = json.loads(r.stdout)
        c = d["candidates"]
        ok = bool(c) and c[0]["name"] in cls and c[0]["significant"]
        k = per_kind.setdefault(kind, [0, 0])
        k[0] += ok
        k[1] += 1
        if not ok:
            failures.append((q, f"first {c[0]['name'] if c else 'none'} z {c[0]['z'] if c else '-'}"))
        rows.append((q, ok, c[0]["z"] if c else None, c[0].get("margin") if c else None))
    t_search = time.time() - t0
    # models of families not in the index
    fp, nq, maxz = [], 0, []
    for s in held:
        for m in sorted(os.listdir(f"{work}/f{s}")):
            if not os.path.isdir(f"{work}/f{s}/{m}"):
                continue
            nq += 1
            r = run([lineage, "search", f"{work}/f{s}/{m}", "--index", db, "--top", "1", "--json", "-"])
            d = json.loads(r.stdout) if r.returncode == 0 else {"candidates": []}
            c = d["candidates"]
            if c:
                maxz.append(c[0]["z"] if c[0]["z"] is not None else float("nan"))
            if c and c[0]["significant"]:
                fp.append(f"f{s}/{m} -> {c[0]['name']} z {c[0]['z']}")
    right = sum(k[0] for k in per_kind.values())
    total = sum(k[1] for k in per_kind.values())
    out = ["<!-- index accuracy -->", "## Search over a fingerprint index (issue 18)", "",
           f"Produced by `python3 scripts/index_accuracy.py build/rel ../shared/zoo WORK --families {nfam} --heldout {nheld} "
           "--markdown docs/ACCURACY.md` (`make accuracy-index`). Index: the zoo's "
           f"{len(zoo_models)} folders plus {n_generated} generated models from {nfam} mklineage families (seeds 101..{100 + nfam}; "
           "each a base, 14 derivations incl. 3 composed, a second-generation fine-tune, and 2 independent models), "
           f"{len(entries)} entries, SQLite" + ("" if "--reuse" in sys.argv else f", built in {t_index:.0f} s") + ". Each derived model is searched with its own entry left "
           "out, and so are its descendants (a model's children are later than it, and similarity has no direction); right = the first candidate is the true parent (or a byte- or function-identical copy of it: identical, requantized, rescaled) and is significant "
           "(Bonferroni-corrected p < 0.01 against the query's own null from a random sample of the index).", "",
           "| derivation | right | of |", "|---|---|---|"]
    for kind in sorted(per_kind):
        out.append(f"| {kind} | {per_kind[kind][0]} | {per_kind[kind][1]} |")
    out += ["", f"True parent first and significant: **{right}/{total} ({100.0 * right / max(total, 1):.1f}%)**, "
            f"{t_search / max(len(queries), 1) * 1000:.0f} ms per search (process start and fingerprinting included).", ""]
    if failures:
        out.append("Misses: " + "; ".join(f"`{os.path.relpath(q, work) if q.startswith(work) else q}` ({w})" for q, w in failures[:20]))
        out.append("")
    finite = [z for z in maxz if z == z]
    out.append(f"Models of {nheld} families not in the index ({nq} searches, seeds 901..{900 + nheld}): "
               f"**{len(fp)}** with a candidate above the significance threshold; largest first-candidate z "
               f"{max(finite) if finite else float('nan'):.2f}.")
    if fp:
        out.append("False positives: " + "; ".join(fp[:20]))
    out += ["", "<!-- end index accuracy -->"]
    text = "\n".join(out)
    print(text)
    if md:
        old = open(md).read() if os.path.exists(md) else ""
        if "<!-- index accuracy -->" in old:
            head, rest = old.split("<!-- index accuracy -->", 1)
            tail = rest.split("<!-- end index accuracy -->", 1)[1] if "<!-- end index accuracy -->" in rest else "\n"
            new = head + text + tail
        else:
            new = old.rstrip("\n") + "\n\n" + text + "\n"
        open(md, "w").write(new)
    return 0 if total and right * 100 >= 95 * total and not fp else 1

if __name__ == "__main__":
    sys.exit(main())
