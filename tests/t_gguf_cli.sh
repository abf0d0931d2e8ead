#!/bin/bash
# lineage inspect on GGUF files: the real llama.cpp vocab files open (exit 0); every damaged file in
# corrupt/ exits 2 with exactly one line on stderr.
. "$(dirname "$0")/lib.sh"
VOCAB=${LINEAGE_SHARED:-../shared}/data/llamacpp-vocab
n=0
for f in "$VOCAB"/*.gguf; do
    expect_exit "inspect $(basename "$f") exits 0" 0 "$LINEAGE" inspect "$f"; n=$((n + 1))
done
[ "$n" -ge 12 ] && ok "$n real GGUF files inspected" || not_ok "only $n real GGUF files found in $VOCAB"
n=0
for f in "$VOCAB"/corrupt/*.gguf; do
    expect_exit "inspect corrupt/$(basename "$f") exits 2 with one stderr line" 2 "$LINEAGE" inspect "$f"
    grep -q "$(basename "$f")" "$WORK/err" && ok "corrupt/$(basename "$f"): the message names the file" \
        || not_ok "corrupt/$(basename "$f"): message does not name the file: $(cat "$WORK/err")"
    n=$((n + 1))
done
[ "$n" -ge 12 ] && ok "$n corrupt GGUF files tried" || not_ok "only $n corrupt GGUF files found"
finish
