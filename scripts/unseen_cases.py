#!/usr/bin/python3
"""Composed derivations of a real trained checkpoint with magnitudes the grid never uses, to judge
the verdict on cases no rule was written for (issue 13: "unseen cases judge the tool").

usage: unseen_cases.py BASE_DIR OTHER_DIR OUTDIR [--cases N] [--seed S] [--dtype bf16|f32]
       unseen_cases.py --score LINEAGE OUTDIR [--markdown FILE]
       unseen_cases.py --make BASE_DIR OUTDIR OPS_JSON [--seed S] [--dtype bf16|f32]   (one case: OPS_JSON like
                       '[["permute", 0], ["cpt", 1.0]]', the ops in that order with those magnitudes)

BASE_DIR is a llama-family HF folder (one model.safetensors, e.g. ../shared/zoo/base); OTHER_DIR an
independently trained model of the same shape (../shared/zoo/indep-seed) that stands as the unrelated
control. Each case draws 1-3 ops from {finetune, cpt, noise, rescale, permute, prune, upscale} in a
random order, each with a random magnitude (noise 0.03-0.6 of the tensor's SD, fine-tune 0.02-0.2,
continued pre-training 0.3-1.2 with weight decay, rescaling range 1.2-4, pruning keeps 40-95% of the
neurons, up-scaling repeats 1-4 layers anywhere, permutations of hidden units, FFN neurons and KV groups).
Written: OUTDIR/<case>/ (safetensors in --dtype: bf16 = the base's own type, so storage says nothing;
f32 = a derivative saved in higher precision than its parent, as fine-tunes often are; config, the base's tokenizer files) and OUTDIR/cases.json.
The controls: OTHER_DIR against every fourth case (truth: unrelated).
--score compares (base, case) and (case, base) with `compare --no-run` and scores related/unrelated,
false derived, exact multi-label kinds and direction the way scripts/grid_accuracy.py does."""
import json, os, random, shutil, struct, subprocess, sys
from collections import Counter

import numpy as np

KIND = {"finetune": "finetune", "cpt": "continued_pretraining", "noise": "noised", "rescale": "rescaled",
        "permute": "permuted", "prune": "pruned", "upscale": "depth_upscaled"}
DIRECTED = {"noise", "prune", "upscale"}   # ops that leave a trace of the changed side (as in mklineage)


def read_st(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = data[a:b]
        if v["dtype"] == "BF16":
            x = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif v["dtype"] == "F32":
            x = np.frombuffer(raw, dtype=np.float32)
        elif v["dtype"] == "F16":
            x = np.frombuffer(raw, dtype=np.float16).astype(np.float32)
        else:
            raise SystemExit(f"{path}: dtype {v['dtype']} not handled")
        out[k] = x.reshape(v["shape"]).copy()
    return out


def write_st(path, t, dtype):
    head, off, blobs = {}, 0, []
    for k in sorted(t):
        x = np.ascontiguousarray(t[k], dtype=np.float32)
        if dtype == "BF16":   # round to nearest even, as torch does
            u = x.view(np.uint32).astype(np.uint64)
            x = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
        b = x.tobytes()
        head[k] = {"dtype": dtype, "shape": list(t[k].shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(head).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def layer_keys(t, l):
    p = f"model.layers.{l}."
    return {k[len(p):]: k for k in t if k.startswith(p)}


def nlayers(t):
    return 1 + max(int(k.split(".")[2]) for k in t if k.startswith("model.layers."))


def train(t, rng, rel, shrink):
    """A training-like update: per tensor size rel*exp(0.5 g) of its SD, low-rank (rank 1-8) plus i.i.d."""
    for k, w in t.items():
        sd = float(w.std()) or 1.0
        r = rel * np.exp(0.5 * rng.standard_normal())
        if w.ndim == 1:
            t[k] = (1 + (w - 1) * shrink + r * sd * rng.standard_normal(w.shape)).astype(np.float32)
            continue
        rank = int(rng.integers(1, 9))
        lr = rng.standard_normal((w.shape[0], rank)) @ rng.standard_normal((rank, w.shape[1])) / np.sqrt(rank)
        mix = rng.uniform(0.3, 0.9)
        t[k] = (w * shrink + r * sd * (mix * lr + np.sqrt(1 - mix * mix) * rng.standard_normal(w.shape))).astype(np.float32)


def op_noise(t, cfg, rng, mag):
    for k, w in t.items():
        t[k] = (w + mag * float(w.std()) * rng.standard_normal(w.shape)).astype(np.float32)


def op_rescale(t, cfg, rng, mag):
    """Function-preserving: a norm's channels times alpha, the projections reading them divided by alpha."""
    def alpha(n):
        return np.exp(rng.uniform(-np.log(mag), np.log(mag), n)).astype(np.float32)
    for l in range(nlayers(t)):
        lk = layer_keys(t, l)
        for norm, reads in (("input_layernorm.weight", ("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight")),
                            ("post_attention_layernorm.weight", ("mlp.gate_proj.weight", "mlp.up_proj.weight"))):
            a = alpha(t[lk[norm]].shape[0])
            t[lk[norm]] = t[lk[norm]] * a
            for r in reads:
                t[lk[r]] = t[lk[r]] / a[None, :]
    a = alpha(t["model.norm.weight"].shape[0])
    t["model.norm.weight"] = t["model.norm.weight"] * a
    t["lm_head.weight"] = t["lm_head.weight"] / a[None, :]


def op_permute(t, cfg, rng, mag):
    """Hidden units, FFN neurons of every layer and KV groups (with their query heads): function-preserving."""
    H = cfg["hidden_size"]
    p = rng.permutation(H)
    for k in list(t):
        w = t[k]
        if k.endswith("norm.weight"):
            t[k] = w[p]
        elif k in ("model.embed_tokens.weight", "lm_head.weight") or any(s in k for s in ("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj")):
            t[k] = w[:, p]
        elif "o_proj" in k or "down_proj" in k:
            t[k] = w[p, :]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    for l in range(nlayers(t)):
        lk = layer_keys(t, l)
        q = rng.permutation(t[lk["mlp.gate_proj.weight"]].shape[0])
        t[lk["mlp.gate_proj.weight"]] = t[lk["mlp.gate_proj.weight"]][q]
        t[lk["mlp.up_proj.weight"]] = t[lk["mlp.up_proj.weight"]][q]
        t[lk["mlp.down_proj.weight"]] = t[lk["mlp.down_proj.weight"]][:, q]
        g = rng.permutation(nkv)
        per = nh // nkv
        kv_rows = np.concatenate([np.arange(i * hd, (i + 1) * hd) for i in g])
        q_heads = [h for i in g for h in range(i * per, (i + 1) * per)]
        q_rows = np.concatenate([np.arange(h * hd, (h + 1) * hd) for h in q_heads])
        t[lk["self_attn.k_proj.weight"]] = t[lk["self_attn.k_proj.weight"]][kv_rows]
        t[lk["self_attn.v_proj.weight"]] = t[lk["self_attn.v_proj.weight"]][kv_rows]
        t[lk["self_attn.q_proj.weight"]] = t[lk["self_attn.q_proj.weight"]][q_rows]
        t[lk["self_attn.o_proj.weight"]] = t[lk["self_attn.o_proj.weight"]][:, q_rows]


def op_prune(t, cfg, rng, mag):
    F = cfg["intermediate_size"]
    keep_n = max(8, int(round(F * mag)))
    for l in range(nlayers(t)):
        lk = layer_keys(t, l)
        keep = np.sort(rng.choice(F, keep_n, replace=False))
        t[lk["mlp.gate_proj.weight"]] = t[lk["mlp.gate_proj.weight"]][keep]
        t[lk["mlp.up_proj.weight"]] = t[lk["mlp.up_proj.weight"]][keep]
        t[lk["mlp.down_proj.weight"]] = t[lk["mlp.down_proj.weight"]][:, keep]
    cfg["intermediate_size"] = keep_n


def op_upscale(t, cfg, rng, mag):
    n = nlayers(t)
    layers = list(range(n))
    for _ in range(int(mag)):
        i = int(rng.integers(0, len(layers)))
        layers.insert(i + 1, layers[i])
    old = {l: {s: t.pop(k) for s, k in layer_keys(t, l).items()} for l in range(n)}
    for j, l in enumerate(layers):
        for s, w in old[l].items():
            t[f"model.layers.{j}.{s}"] = w.copy()
    cfg["num_hidden_layers"] = len(layers)


def op_train(name):
    def f(t, cfg, rng, mag):
        train(t, rng, mag, 1.0 if name == "finetune" else 0.85)
    return f


OPS = {"finetune": (op_train("finetune"), lambda r: r.uniform(0.02, 0.2)),
       "cpt": (op_train("cpt"), lambda r: r.uniform(0.3, 1.2)),
       "noise": (op_noise, lambda r: r.uniform(0.03, 0.6)),
       "rescale": (op_rescale, lambda r: r.uniform(1.2, 4.0)),
       "permute": (op_permute, lambda r: 0),
       "prune": (op_prune, lambda r: r.uniform(0.4, 0.95)),
       "upscale": (op_upscale, lambda r: int(r.integers(1, 5)))}


def generate(base, other, out, ncases, seed, dtype):
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    t0 = read_st(f"{base}/model.safetensors")
    cfg0 = json.load(open(f"{base}/config.json"))
    aux = [f for f in os.listdir(base) if f not in ("model.safetensors", "config.json", "README.md")]
    cases = []
    for i in range(ncases):
        while True:
            ops = pick.sample(sorted(OPS), pick.choice((1, 2, 2, 3, 3)))
            if not ("finetune" in ops and "cpt" in ops):
                break
        t = {k: v.copy() for k, v in t0.items()}
        cfg = dict(cfg0)
        steps = []
        for o in ops:
            mag = OPS[o][1](rng)
            OPS[o][0](t, cfg, rng, mag)
            steps.append([o, round(float(mag), 3)])
        name = f"u{i:02d}-" + "+".join(ops)
        d = f"{out}/{name}"
        os.makedirs(d, exist_ok=True)
        cfg["torch_dtype"] = {"F32": "float32", "BF16": "bfloat16"}[dtype]
        json.dump(cfg, open(f"{d}/config.json", "w"), indent=1)
        write_st(f"{d}/model.safetensors", t, dtype)
        for f in aux:
            shutil.copyfile(f"{base}/{f}", f"{d}/{f}")
        cases.append({"name": name, "ops": steps, "kinds": sorted({KIND[o] for o in ops}),
                      "direction_knowable": any(o in DIRECTED for o in ops)})
    shutil.copytree(base, f"{out}/base", dirs_exist_ok=True)
    shutil.copytree(other, f"{out}/other", dirs_exist_ok=True)
    for d in ("base", "other"):
        if os.path.exists(f"{out}/{d}/README.md"):
            os.remove(f"{out}/{d}/README.md")   # cards never decide; the cases carry none either
    json.dump({"seed": seed, "cases": cases}, open(f"{out}/cases.json", "w"), indent=1)
    print(f"{len(cases)} cases in {out}")


def make_one(base, out, ops, seed, dtype="BF16"):
    """One composed case, as generate writes them (bf16 unless dtype, the base's tokenizer files, no card)."""
    rng = np.random.default_rng(seed)
    t = read_st(f"{base}/model.safetensors")
    cfg = json.load(open(f"{base}/config.json"))
    for o, mag in ops:
        OPS[o][0](t, cfg, rng, mag)
    os.makedirs(out, exist_ok=True)
    cfg["torch_dtype"] = {"F32": "float32", "BF16": "bfloat16"}[dtype]
    json.dump(cfg, open(f"{out}/config.json", "w"), indent=1)
    write_st(f"{out}/model.safetensors", t, dtype)
    for f in os.listdir(base):
        if f not in ("model.safetensors", "config.json", "README.md"):
            shutil.copyfile(f"{base}/{f}", f"{out}/{f}")


def compare(lineage, a, b):
    p = subprocess.run([lineage, "compare", a, b, "--no-run", "--json", "-"], capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"exit {p.returncode}: {p.stderr.strip()[:200]}"
    return json.loads(p.stdout)["verdict"], ""


def score(lineage, out, markdown):
    g = json.load(open(f"{out}/cases.json"))
    tot, missed, fails = Counter(), Counter(), []
    for i, case in enumerate(g["cases"]):
        for swapped in (False, True):
            c = f"{out}/{case['name']}"
            a, b = (c, f"{out}/base") if swapped else (f"{out}/base", c)
            tag = f"({case['name']}, base)" if swapped else f"(base, {case['name']})"
            v, err = compare(lineage, a, b)
            tot["pairs"] += 1
            if err:
                tot["errors"] += 1; fails.append(f"{tag}: {err}"); continue
            tot["related"] += 1
            if v["label"] not in ("derived", "identical"):
                fails.append(f"{tag} {case['ops']}: related, got {v['label']} {v.get('confidence')}"); continue
            tot["related_right"] += 1
            got = sorted(set(v["relation"]))
            if got == case["kinds"]: tot["kinds_exact"] += 1
            else:
                fails.append(f"{tag} {case['ops']}: kinds {got}, truth {case['kinds']}")
                for k in set(case["kinds"]) - set(got): missed[k] += 1
                for k in set(got) - set(case["kinds"]): missed["extra " + k] += 1
            want = "a_from_b" if swapped else "b_from_a"
            d = v.get("direction", "none")
            if d == want: tot["dir_right"] += 1
            elif d in ("a_from_b", "b_from_a"): tot["dir_wrong"] += 1; fails.append(f"{tag}: direction {d}, truth {want}")
            elif case["direction_knowable"]: tot["dir_undetermined_knowable"] += 1
            else: tot["dir_undetermined_unknowable"] += 1
            if i % 4 == 0:   # the unrelated control against this case
                for a2, b2 in ((f"{out}/other", c), (c, f"{out}/other")):
                    v2, err2 = compare(lineage, a2, b2)
                    tot["unrelated"] += 1
                    if err2: tot["errors"] += 1; fails.append(f"(other, {case['name']}): {err2}"); continue
                    tot["unrelated_right"] += v2["label"] == "independent"
                    if v2["label"] in ("derived", "identical"):
                        tot["false_derived"] += 1; fails.append(f"(other, {case['name']}): unrelated called {v2['label']} {v2['relation']}")
                    elif v2["label"] != "independent":
                        fails.append(f"(other, {case['name']}): unrelated, got {v2['label']}")
    rows = [("compared pairs (both orders)", tot["pairs"] + tot["unrelated"]),
            ("related pairs called related", f"{tot['related_right']}/{tot['related']}"),
            ("unrelated pairs called independent", f"{tot['unrelated_right']}/{tot['unrelated']}"),
            ("unrelated pairs called derived (false derived)", tot["false_derived"]),
            ("exact multi-label kinds", f"{tot['kinds_exact']}/{tot['related']}"),
            ("direction right", tot["dir_right"]),
            ("direction undetermined, ops leave a trace", tot["dir_undetermined_knowable"]),
            ("direction undetermined, no trace (honest)", tot["dir_undetermined_unknowable"]),
            ("direction wrong", tot["dir_wrong"]), ("compare errors", tot["errors"])]
    text = "| measure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
    text += "\nKinds missed (or extra): " + ", ".join(f"{k} {n}" for k, n in missed.most_common()) + "\n"
    text += "\nCases short of right (all):\n\n```\n" + "\n".join(fails) + "\n```\n"
    print(text)
    if markdown:
        open(markdown, "w").write(text)


if __name__ == "__main__":
    a = sys.argv[1:]
    opt = lambda n, d=None: a[a.index(n) + 1] if n in a else d
    if a and a[0] == "--score":
        score(a[1], a[2], opt("--markdown"))
    elif a and a[0] == "--make" and len(a) >= 4:
        make_one(a[1], a[2], json.loads(a[3]), int(opt("--seed", 11)), opt("--dtype", "BF16").upper())
    elif len(a) >= 3:
        generate(a[0], a[1], a[2], int(opt("--cases", 24)), int(opt("--seed", 11)), opt("--dtype", "BF16").upper())
    else:
        print(__doc__); sys.exit(2)
