#!/bin/bash
# GGUF tokenizers (tokenizer.ggml.*): every vocab-only GGUF of llama.cpp's models/ folder encodes
# its reference texts (.inp, cases separated by "\n__ggml_vocab_test__\n") to the ids in .out,
# which come from Hugging Face tokenizers (no BOS/EOS); compare relations on the same files
# follow the facts stated in data/llamacpp-vocab/README.md; damaged files are rejected cleanly.
. tests/lib.sh
V=$LINEAGE_SHARED/data/llamacpp-vocab
SEP=$'\n__ggml_vocab_test__\n'
n_files=0
for g in "$V"/*.gguf; do
    [ -f "$g.inp" ] && [ -f "$g.out" ] || continue
    b=$(basename "$g" .gguf)
    n_files=$((n_files + 1))
    "$LINEAGE" tokenize "$g" --sep "$SEP" < "$g.inp" > "$WORK/$b.got" 2> "$WORK/$b.err"
    rc=$?
    sed 's/^ //' "$g.out" > "$WORK/$b.exp"
    total=$(wc -l < "$WORK/$b.exp")
    bad=$(paste -d'\t' "$WORK/$b.exp" "$WORK/$b.got" | awk -F'\t' '$1 != $2' | wc -l)
    got=$(wc -l < "$WORK/$b.got")
    if [ "$rc" = 0 ] && [ "$got" = "$total" ] && [ "$bad" = 0 ]; then
        ok "$b: all $total llama.cpp reference cases match"
    else
        first=$(paste -d'\t' "$WORK/$b.exp" "$WORK/$b.got" | awk -F'\t' '$1 != $2 {print NR": want "$1" got "$2; exit}')
        not_ok "$b: exit $rc, $got/$total lines, $bad cases differ ($first) $(head -c 200 "$WORK/$b.err")"
    fi
done
[ "$n_files" -ge 10 ] && ok "$n_files GGUF files with reference tokenizations found" || not_ok "only $n_files GGUF reference files"

# one text on the command line gives the same ids as the batch ("Hello world" is case 12)
hw=$("$LINEAGE" tokenize "$V/ggml-vocab-gpt-2.gguf" "Hello world" --ids)
want=$(sed -n 12p "$V/ggml-vocab-gpt-2.gguf.out" | sed 's/^ //')
[ -n "$hw" ] && [ "$hw" = "$want" ] && ok "tokenize FILE.gguf TEXT --ids: '$hw'" || not_ok "gpt-2 'Hello world': '$hw' want '$want'"

# the separator mode: empty texts give empty lines, a final separator starts no new text
out=$(printf 'a%sb%s%s' "$SEP" "$SEP" "$SEP" | "$LINEAGE" tokenize "$V/ggml-vocab-gpt-2.gguf" --sep "$SEP" | wc -l)
[ "$out" = 3 ] && ok "--sep: 'a', 'b', '' then a final separator give 3 lines" || not_ok "--sep line count $out"

relation() { "$LINEAGE" compare "$1" "$2" --only tokenizer --json - 2>/dev/null |
    python3 -c 'import json,sys; t=json.load(sys.stdin)["tokenizer"]; print(t.get("relation", t.get("status")))' 2>/dev/null; }
r=$(relation "$V/ggml-vocab-mpt.gguf" "$V/ggml-vocab-gpt-neox.gguf")
[ "$r" = identical ] && ok "mpt vs gpt-neox (one tokenizer, two architectures): identical" || not_ok "mpt vs gpt-neox: $r"
r=$(relation "$V/ggml-vocab-llama-spm.gguf" "$V/ggml-vocab-phi-3.gguf")
[ "$r" = b_extends_a ] && ok "llama-spm vs phi-3 (phi-3 appends 64 tokens): b_extends_a" || not_ok "llama-spm vs phi-3: $r"
for pair in "gpt-2 gpt-neox" "deepseek-coder deepseek-llm" "refact starcoder"; do
    set -- $pair
    r=$(relation "$V/ggml-vocab-$1.gguf" "$V/ggml-vocab-$2.gguf")
    case "$r" in overlap|disjoint) ok "$1 vs $2 (unrelated vocabularies): $r";; *) not_ok "$1 vs $2: $r";; esac
done
# a GGUF BERT vocabulary spells pieces the llama.cpp way; canonical bytes use Hugging Face's "##"
"$LINEAGE" compare "$V/ggml-vocab-bert-bge.gguf" "$V/ggml-vocab-bert-bge.gguf" --only tokenizer --json "$WORK/bert.json" >/dev/null 2>&1
python3 - "$WORK/bert.json" <<'PY' && ok "bert-bge: WordPiece with word-start markers, 30517 ordinary tokens" || not_ok "bert-bge summary"
import json, sys
t = json.load(open(sys.argv[1]))["tokenizer"]
sys.exit(0 if t["a"]["model"] == "WordPiece" and t["a"]["surface"] == "wordpiece_word_start" and t["a"]["ordinary"] == 30517 else 1)
PY

# damaged GGUFs and a GGUF without tokenizer arrays: one line on stderr, exit 2
for f in "$V"/corrupt/*.gguf "$V/derived/ggml-vocab-llama-spm.scalars-only.gguf"; do
    expect_exit "tokenize rejects $(basename "$f")" 2 "$LINEAGE" tokenize "$f" "x"
done
finish
