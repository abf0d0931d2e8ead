#!/usr/bin/env python3
"""Reads a report rendered with --lang ko on stdin; prints every Latin-letter word that is not a
file/model name, number, unit or code identifier, and exits 1 when there is any.
Usage: ko_latin.py [ALLOWED_WORD...]   (model names, paths and other names of the run)"""
import re
import sys

# Code identifiers, units and terms the glossary (docs/ko/GLOSSARY.md) keeps in Latin letters.
ALLOW = set("""
A B C D N V L d f z p x
BPE ID IDs MoE MLP GQA MHA MLA KV RoPE YaRN FLOPs FLOP TFLOP GPU GPUs SHA JSON HTML SVG GGUF NFC NFKC
Jaccard Spearman Pearson CKA JSD Fisher Wilcoxon Holm Bonferroni Holm-Bonferroni Zhu Minitron
lineage config tokenizer json safetensors md html svg
BPE Unigram WordPiece SentencePiece tiktoken byte_level
rmsnorm layernorm silu gelu swiglu relu yarn linear dynamic llama3 sigmoid softmax mxfp4 fp8 bf16 f16 f32
family norm activation quantization model_type router moe rope mla mtp_layers sliding_window
true false null yes no
study inspect compare verify tokenize run search ask index
K M B T sqlite postgresql embed
""".split())

text = sys.stdin.read()
allowed = set(ALLOW)
args = sys.argv[1:]
# --content FILE.json: the run's own content (battery questions, model answers, ids) is data, not report text
if args[:1] == ["--content"]:
    import json
    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                # battery questions and answers; a tokenized text, its pieces, a run's predicted pieces
                strs = [x] if isinstance(x, str) else [y for y in x if isinstance(y, str)] if k == "pieces" and isinstance(x, list) else []
                if k in ("question", "answer", "id", "name", "version", "kind", "text", "piece", "pieces"):
                    for y in strs:
                        allowed.update(re.findall(r"[A-Za-z][A-Za-z0-9_.\-']*", y))
                        allowed.update(w.strip(".-'") for w in re.findall(r"[A-Za-z][A-Za-z0-9_.\-']*", y))
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(json.load(open(args[1])))
    args = args[2:]
for a in args:
    allowed.update(re.split(r"[^A-Za-z0-9_.\-]+", a))
    allowed.add(a)
# strip things that are names or code by their shape: Markdown escapes, paths, URLs, backticked code, numbers
text = re.sub(r"\\([_*`|<>\\])", r"\1", text)
text = re.sub(r"\\x[0-9a-fA-F]{2}", " ", text)     # bytes shown escaped (a token that is part of a character)
text = re.sub(r"\b[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+\b", " ", text)
text = re.sub(r"`[^`\n]*`", " ", text)
text = re.sub(r"\S*/\S*", " ", text)               # paths and URLs
text = re.sub(r"--[a-z][a-z0-9-]*", " ", text)      # command-line options
bad = []
for w in re.findall(r"[A-Za-z][A-Za-z0-9_.\-']*", text):
    core = w.strip(".-'")
    if not core or core in allowed or core.lower() in allowed:
        continue
    if re.search(r"[0-9_]", core) or "." in core:   # identifiers, versions, file names, numbers with units
        continue
    if re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+", core):   # CamelCase class names
        continue
    if re.fullmatch(r"[A-Z]{2,6}s?", core):   # acronyms (units, formats)
        continue
    bad.append(core)
if bad:
    seen = []
    for b in bad:
        if b not in seen:
            seen.append(b)
    print("stray English under --lang ko: " + ", ".join(seen[:40]))
    sys.exit(1)
