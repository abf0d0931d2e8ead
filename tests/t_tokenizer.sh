#!/bin/bash
# Tokenizer loaders on generated files: relations on the zoo (known lineage), hostile inputs
# (one-line error, exit 2), tokenizer-only folders as MODEL, tiktoken and GPT-2 file formats.
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
relation() { "$LINEAGE" compare "$1" "$2" --only tokenizer --json - 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["tokenizer"]["relation"])' 2>/dev/null; }
# zoo manifest: vocab-extended appends tokens to base's tokenizer; indep-other trained its own
r=$(relation "$Z/base" "$Z/vocab-extended"); [ "$r" = b_extends_a ] && ok "zoo base vs vocab-extended: b_extends_a" || not_ok "zoo base vs vocab-extended: $r"
r=$(relation "$Z/vocab-extended" "$Z/base"); [ "$r" = a_extends_b ] && ok "zoo vocab-extended vs base: a_extends_b" || not_ok "zoo vocab-extended vs base: $r"
r=$(relation "$Z/base" "$Z/indep-other"); case "$r" in overlap|disjoint) ok "zoo base vs indep-other: $r (no extension)";; *) not_ok "zoo base vs indep-other: $r";; esac
r=$(relation "$Z/base" "$Z/indep-seed"); [ "$r" = identical ] && ok "zoo base vs indep-seed (same tokenizer): identical" || not_ok "zoo base vs indep-seed: $r"

# a folder with only tokenizer files is a MODEL for compare --only tokenizer
mkdir -p "$WORK/tokonly"; cp "$Z/base/tokenizer.json" "$WORK/tokonly/"
r=$(relation "$WORK/tokonly" "$Z/base"); [ "$r" = identical ] && ok "tokenizer-only folder compares as a model" || not_ok "tokenizer-only folder: $r"
# a model without tokenizer files: status missing, not an error
mkdir -p "$WORK/notok"; cp "$Z/base/config.json" "$WORK/notok/"
st=$("$LINEAGE" compare "$WORK/notok" "$Z/base" --only tokenizer --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["tokenizer"]["status"])')
[ "$st" = missing ] && ok "model without tokenizer: status missing" || not_ok "model without tokenizer: status '$st'"

# tiktoken rank file made from the zoo vocabulary's bytes (base64 token, rank = id): same canonical vocab
python3 - "$Z/base/tokenizer.json" "$WORK" <<'PY'
import json, sys, base64, os
t = json.load(open(sys.argv[1])); out = sys.argv[2]
bs = list(range(ord("!"), ord("~")+1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100)); cs = bs[:]; n = 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + n); n += 1
dec = {chr(c): b for b, c in zip(bs, cs)}
os.makedirs(out + "/tik", exist_ok=True)
with open(out + "/tik/tokenizer.model", "w") as f:
    for tok, i in sorted(t["model"]["vocab"].items(), key=lambda x: x[1]):
        if i < 4: continue   # the specials are not tiktoken ranks
        f.write(base64.b64encode(bytes(dec[c] for c in tok)).decode() + " %d\n" % i)
os.makedirs(out + "/gpt2", exist_ok=True)
json.dump(t["model"]["vocab"], open(out + "/gpt2/vocab.json", "w"))
open(out + "/gpt2/merges.txt", "w").write("#version: 0.2\n" + "\n".join(t["model"]["merges"]) + "\n")
PY
"$LINEAGE" compare "$WORK/tik" "$Z/base" --only tokenizer --json "$WORK/tik.json" >/dev/null 2>&1
python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["tokenizer"]; sys.exit(0 if t["shared"]["count"]==1020 and t["id_aligned"]["count"]==1020 else 1)' "$WORK/tik.json" \
    && ok "tiktoken rank file: canonical bytes equal the byte-level vocabulary id for id" || not_ok "tiktoken rank file canonical bytes"
cp "$Z/base/special_tokens_map.json" "$WORK/gpt2/"
r=$(relation "$WORK/gpt2" "$Z/base"); [ "$r" = identical ] && ok "vocab.json + merges.txt: identical to the tokenizer.json" || not_ok "gpt2 files: $r"
# the same text encodes to the same ids through tokenizer.json, GPT-2 files and tiktoken ranks
txt="The licence grants permission to copy, modify and distribute."
a=$("$LINEAGE" tokenize "$Z/base" "$txt" --ids); b=$("$LINEAGE" tokenize "$WORK/gpt2" "$txt" --ids); c=$("$LINEAGE" tokenize "$WORK/tik" "$txt" --ids)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "GPT-2 files encode like tokenizer.json" || not_ok "GPT-2 files encode: '$a' vs '$b'"
[ -n "$a" ] && [ "$a" = "$c" ] && ok "tiktoken ranks encode like tokenizer.json merges" || not_ok "tiktoken encode: '$a' vs '$c'"

# hostile inputs: one line on stderr, exit 2
bad() { mkdir -p "$WORK/bad/$1"; printf '%s' "$2" > "$WORK/bad/$1/${3:-tokenizer.json}"; expect_exit "rejects $1" 2 "$LINEAGE" tokenize "$WORK/bad/$1" "x"; }
bad malformed-json '{"model": {"type": "BPE", "vocab": {"a": 0,'
bad wrong-type '{"model": {"type": "BPE", "vocab": ["a", "b"], "merges": []}}'
bad duplicate-id '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}}'
bad negative-id '{"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}}'
bad huge-id '{"model": {"type": "BPE", "vocab": {"a": 99999999999}, "merges": []}}'
bad unknown-merge '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a c"]}}'
bad bad-merge-shape '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}}'
bad added-out-of-range '{"added_tokens": [{"id": 123456789, "content": "<s>"}], "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}'
bad unigram-shape '{"model": {"type": "Unigram", "vocab": [["a"]]}}'
bad no-model '{"version": "1.0"}'
bad broken-base64 $'YQ== 0\nYg=! 1\n' tokenizer.model
bad tiktoken-dup-rank $'YQ== 0\nYg== 0\n' tokenizer.model
bad gpt2-unknown-merge '{"a": 0, "b": 1}' vocab.json
printf '#version: 0.2\na c\n' > "$WORK/bad/gpt2-unknown-merge/merges.txt"
expect_exit "rejects merges.txt naming an unknown token" 2 "$LINEAGE" tokenize "$WORK/bad/gpt2-unknown-merge" x
# truncated SentencePiece protobuf: a pieces field claiming more bytes than remain
mkdir -p "$WORK/bad/spm"; printf '\x0a\x40\x0a\x01a' > "$WORK/bad/spm/tokenizer.model"
expect_exit "rejects truncated protobuf" 2 "$LINEAGE" tokenize "$WORK/bad/spm" x
# Unigram scores the encoder cannot order (NaN, infinities, beyond float range) are rejected at load,
# naming the file and the piece; once drove the Viterbi backtrack out of bounds (issue 20)
nonfinite() { # nonfinite NAME FILE: exit 2, one line naming the file and piece 2 ('b')
    "$LINEAGE" tokenize "$WORK/nf/$1" ab --ids >/dev/null 2>"$WORK/nf/$1.err"; local rc=$?
    if [ $rc = 2 ] && [ "$(wc -l < "$WORK/nf/$1.err")" = 1 ] && grep -q "nf/$1/$2: piece 2 'b' has score" "$WORK/nf/$1.err"
    then ok "rejects Unigram score $1"; else not_ok "Unigram score $1: exit $rc, $(head -c 300 "$WORK/nf/$1.err")"; fi
}
for v in NaN Infinity -Infinity 1e999 -1e999 -4e38; do
    mkdir -p "$WORK/nf/json$v"
    printf '{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["a", -1.5], ["b", %s]]}}' "$v" \
        > "$WORK/nf/json$v/tokenizer.json"
    nonfinite "json$v" tokenizer.json
done
# tokenizer.model: pieces <unk> (type 2), a (-1.5), b (float32 bytes given, little-endian)
spm3() { mkdir -p "$WORK/nf/$1"; printf "\x0a\x0e\x0a\x05<unk>\x15\x00\x00\x00\x00\x18\x02\x0a\x08\x0a\x01a\x15\x00\x00\xc0\xbf\x0a\x08\x0a\x01b\x15$2" > "$WORK/nf/$1/tokenizer.model"; }
spm3 spm-nan '\x00\x00\xc0\x7f'; nonfinite spm-nan tokenizer.model
spm3 spm-inf '\x00\x00\x80\x7f'; nonfinite spm-inf tokenizer.model
spm3 spm-neg-inf '\x00\x00\x80\xff'; nonfinite spm-neg-inf tokenizer.model
spm3 spm-finite '\x00\x00\x00\xc0'   # the same model with b at -2.0 loads and encodes "▁ab" as <unk> a b
r=$("$LINEAGE" tokenize "$WORK/nf/spm-finite" ab --ids 2>&1); [ "$r" = "0 1 2" ] && ok "finite Unigram scores encode" || not_ok "finite Unigram scores: '$r'"
# byte fallback with <0xE4> but not <0xB8>/<0xAD>: "中" is one unknown piece, never a half-valid byte run
mkdir -p "$WORK/nf/partial-bytes"
printf '\x0a\x0e\x0a\x05<unk>\x15\x00\x00\x00\x00\x18\x02\x0a\x0f\x0a\x06<0xE4>\x15\x00\x00\x00\x00\x18\x06\x0a\x08\x0a\x01a\x15\x00\x00\xc0\xbf\x12\x03\x98\x02\x01' > "$WORK/nf/partial-bytes/tokenizer.model"
r=$("$LINEAGE" tokenize "$WORK/nf/partial-bytes" "a中" --ids 2>&1); [ "$r" = "0 2 0" ] && ok "byte fallback without every byte piece gives <unk>" || not_ok "partial byte pieces: '$r'"
# a vocabulary naming a huge id costs its file's size in memory, not the id's (issue 20: ~1 GB RSS)
bad sparse-id '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 9000000}, "merges": []}}'
bad sparse-rank $'YQ== 0\nYg== 9000000\n' tokenizer.model
expect_exit "rejects invalid UTF-8 text" 2 "$LINEAGE" tokenize "$Z/base" $'\xff\xfe'
# model.vocab and model.merges are read from byte spans (tokenizer_hf_json.c), not the JSON tree:
# their errors must still be one line naming the file and the problem, exit 2
span_bad() { # span_bad NAME 'PATTERN' JSON: exit 2, one line, the line names the file and matches PATTERN
    mkdir -p "$WORK/span/$1"; printf '%s' "$3" > "$WORK/span/$1/tokenizer.json"
    "$LINEAGE" tokenize "$WORK/span/$1" x >/dev/null 2>"$WORK/span/$1.err"; local rc=$?
    if [ $rc = 2 ] && [ "$(wc -l < "$WORK/span/$1.err")" = 1 ] && grep -q "span/$1/tokenizer.json" "$WORK/span/$1.err" &&
        grep -Eq "$2" "$WORK/span/$1.err"; then ok "span path rejects $1"
    else not_ok "span path $1: exit $rc, $(head -c 300 "$WORK/span/$1.err")"; fi
}
V='"model": {"type": "BPE", '
span_bad vocab-id-string 'not a non-negative integer' "{$V\"vocab\": {\"a\": \"0\"}, \"merges\": []}}"
span_bad vocab-id-float 'not a non-negative integer' "{$V\"vocab\": {\"a\": 0, \"b\": 1.5}, \"merges\": []}}"
span_bad vocab-id-exponent 'not a non-negative integer' "{$V\"vocab\": {\"a\": 1e3}, \"merges\": []}}"
span_bad vocab-id-leading-zero 'not a non-negative integer' "{$V\"vocab\": {\"a\": 01}, \"merges\": []}}"
span_bad vocab-id-object 'not a non-negative integer' "{$V\"vocab\": {\"a\": {\"id\": 0}}, \"merges\": []}}"
span_bad vocab-id-null 'not a non-negative integer' "{$V\"vocab\": {\"a\": null}, \"merges\": []}}"
span_bad vocab-id-out-of-range 'out of range' "{$V\"vocab\": {\"a\": 0, \"b\": 16777216}, \"merges\": []}}"
span_bad vocab-duplicate-token 'duplicate token' "{$V\"vocab\": {\"a\": 0, \"b\": 1, \"a\": 2}, \"merges\": []}}"
span_bad vocab-duplicate-escaped 'duplicate token' "{$V\"vocab\": {\"A\": 0, \"\\u0041\": 1}, \"merges\": []}}"
span_bad vocab-duplicate-id 'duplicate token id' "{$V\"vocab\": {\"a\": 7, \"b\": 7}, \"merges\": []}}"
span_bad vocab-key-not-string 'expected object key' "{$V\"vocab\": {\"a\": 0, 5: 1}, \"merges\": []}}"
span_bad vocab-missing-colon "expected ':'" "{$V\"vocab\": {\"a\" 0}, \"merges\": []}}"
span_bad vocab-missing-comma "expected ',' or '}'" "{$V\"vocab\": {\"a\": 0 \"b\": 1}, \"merges\": []}}"
span_bad vocab-bad-escape 'bad escape' "{$V\"vocab\": {\"a\\q\": 0}, \"merges\": []}}"
span_bad vocab-lone-surrogate 'surrogate' "{$V\"vocab\": {\"\\ud800\": 0}, \"merges\": []}}"
span_bad vocab-bad-utf8 'UTF-8' "$(printf '{%s"vocab": {"a\xff": 0}, "merges": []}}' "$V")"
span_bad vocab-control-char 'control character' "$(printf '{%s"vocab": {"a\tb": 0}, "merges": []}}' "$V")"
span_bad vocab-truncated 'invalid JSON|end of input' "{$V\"vocab\": {\"a\": 0, \"b\": 1"
span_bad vocab-truncated-in-string 'invalid JSON|end of input' "{$V\"vocab\": {\"a\": 0, \"b"
span_bad merges-number 'neither' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\", 7]}}"
span_bad merges-no-space "not 'a b'" "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"ab\"]}}"
span_bad merges-pair-number 'neither' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", 1]]}}"
span_bad merges-triple 'neither|expected' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\", \"a\"]]}}"
span_bad merges-unknown-left 'merge 1 names an unknown token .zz' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b\", \"zz b\"]}}"
span_bad merges-unknown-right 'merge 0 names an unknown token .q' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"q\"]]}}"
span_bad merges-truncated 'invalid JSON|end of input' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"], [\"a\""
span_bad merges-unbalanced 'invalid JSON' "{$V\"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"]]]}}"
# far past the first batch of merges: the error still names the right merge
python3 - "$WORK/span/late-merge" <<'PY'
import json, os, sys
os.makedirs(sys.argv[1], exist_ok=True)
vocab = {c: i for i, c in enumerate("abcdefghij")}
merges = ["%s %s" % (x, y) for x in "abcdefghij" for y in "abcdefghij"]
merges[150 % len(merges)] = "a nope"
json.dump({"model": {"type": "BPE", "vocab": vocab, "merges": merges}}, open(sys.argv[1] + "/tokenizer.json", "w"))
PY
"$LINEAGE" tokenize "$WORK/span/late-merge" x >/dev/null 2>"$WORK/late.err"
grep -q "merge 50 names an unknown token 'nope'" "$WORK/late.err" && ok "span path: unknown token in a later merge batch named with its index" ||
    not_ok "late merge error: $(cat "$WORK/late.err")"
# Precompiled normalizer: a double-array trie built by hand from the darts-clone unit layout (label in
# the low byte, has-leaf bit 8, offset from bit 10, leaves flagged by bit 31 holding a pool offset)
# with keys "A" -> "a" and "AB" -> "x"; the longest key wins, other characters are kept
python3 - "$WORK/charsmap" <<'PY'
import base64, json, os, struct, sys
units = [0] * 66
units[0] = 0                                   # root: offset 0, so child c sits at unit c
units[0x41] = 1 << 10 | 1 << 8 | 0x41          # 'A': has a leaf, offset 1 -> leaf at 0x40, children at 0x40 ^ c
units[0x40] = 1 << 31 | 0                      # value of "A": pool offset 0 ("a")
units[0x40 ^ 0x42] = 1 << 10 | 1 << 8 | 0x42   # 'B' under 'A' (unit 2): leaf at 3
units[3] = 1 << 31 | 2                         # value of "AB": pool offset 2 ("x")
blob = struct.pack("<I", 4 * len(units)) + b"".join(struct.pack("<I", u) for u in units) + b"a\0x\0"
os.makedirs(sys.argv[1], exist_ok=True)
json.dump({"normalizer": {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(blob).decode()},
           "pre_tokenizer": {"type": "WhitespaceSplit"},
           "model": {"type": "WordLevel", "unk_token": "[UNK]", "vocab": {"a": 0, "x": 1, "B": 2, "xB": 3, "[UNK]": 4}}},
          open(sys.argv[1] + "/tokenizer.json", "w"))
PY
ids=$("$LINEAGE" tokenize "$WORK/charsmap" 'A AB ABB B C' --ids 2>&1)
[ "$ids" = "0 1 3 2 4" ] && ok "Precompiled charsmap: longest key replaced, unmatched characters kept" || not_ok "charsmap by hand: '$ids'"
# escaped strings in the spans decode like the JSON parser's: \u0041 is the token A, merges may be escaped
mkdir -p "$WORK/span/escaped"
printf '%s' '{"model": {"type": "BPE", "vocab": {"\u0041": 0, "b": 1, "\"": 2, "Ab": 3}, "merges": ["\u0041 b"]}}' > "$WORK/span/escaped/tokenizer.json"
ids=$("$LINEAGE" tokenize "$WORK/span/escaped" 'Ab"' --ids 2>&1)
[ "$ids" = "3 2" ] && ok "span path decodes escaped vocab keys and merges" || not_ok "escaped span tokens: '$ids'"
expect_exit "missing tokenizer path" 3 "$LINEAGE" tokenize "$WORK/does-not-exist" x
finish
