#!/usr/bin/env python3
"""zoo_disguise.py ZOO OUT: copies the zoo with every folder renamed (base -> mybase, the others
modelNN), every model card removed, and half of the models given a lying card (base_model:
meta-llama/Llama-3.2-1B, base_model_relation: finetune) and a lying config _name_or_path. Writes
OUT/manifest.json under the new names and OUT/names.json (old -> new). The weights are untouched:
a verdict that changes on OUT read metadata or names."""
import json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
m = json.load(open(f"{src}/manifest.json"))
names = sorted(d for d in os.listdir(src) if os.path.isdir(f"{src}/{d}"))
new = {d: ("mybase" if d == "base" else f"model{i:02d}") for i, d in enumerate(names)}
os.makedirs(dst)
for i, d in enumerate(names):
    shutil.copytree(f"{src}/{d}", f"{dst}/{new[d]}")
    readme = f"{dst}/{new[d]}/README.md"
    if os.path.exists(readme): os.remove(readme)
    if i % 2:
        open(readme, "w").write("---\nbase_model: meta-llama/Llama-3.2-1B\nbase_model_relation: finetune\n---\n")
        cfg = f"{dst}/{new[d]}/config.json"
        if os.path.exists(cfg):
            c = json.load(open(cfg)); c["_name_or_path"] = "meta-llama/Llama-3.2-1B"; json.dump(c, open(cfg, "w"))
m["models"] = {new[k]: dict(v, parent=new.get(v.get("parent"), v.get("parent"))) for k, v in m["models"].items()}
for p in m["pairs"]: p["a"], p["b"] = new[p["a"]], new[p["b"]]
json.dump(m, open(f"{dst}/manifest.json", "w"))
json.dump(new, open(f"{dst}/names.json", "w"))
