#!/bin/bash
# SentencePiece models trained here with Debian's python3-sentencepiece (BPE and Unigram, with and
# without byte fallback): lineage must encode every corpus line as spm.SentencePieceProcessor does.
. tests/lib.sh
PY=/usr/bin/python3
if ! $PY -c 'import sentencepiece' 2>/dev/null; then
    not_ok "python3-sentencepiece is not installed (apt-get install python3-sentencepiece)"
    finish
fi
$PY - "$WORK" <<'PY'
import random, sys, os, sentencepiece as spm
work = sys.argv[1]
rng = random.Random(7)
syl = ["ka", "to", "ri", "mu", "sen", "pie", "ce", "lin", "eage", "tok", "en", "iz", "er", "the", "and", "ing",
       "한", "국", "어", "토", "큰", "中", "文", "字", "数", "字", "3", "42", "007", ",", ".", "!", "?", "-"]
def word(): return "".join(rng.choice(syl) for _ in range(rng.randint(1, 4)))
train = [" ".join(word() for _ in range(rng.randint(3, 15))) for _ in range(3000)]
open(work + "/train.txt", "w").write("\n".join(train) + "\n")
# test lines: unseen combinations, rare characters (byte fallback / unk), odd spaces
test = [" ".join(word() for _ in range(rng.randint(1, 12))) for _ in range(60)]
test += ["  leading and   inner  spaces ", "rare: é ß Ω ж ☃ 🙂", "漢字かな交じり文", "", "x"]
open(work + "/test.txt", "w").write("\n".join(test) + "\n")
for mt in ("bpe", "unigram"):
    for bf in (False, True):
        name = "%s%s" % (mt, "-bf" if bf else "")
        os.makedirs(work + "/" + name, exist_ok=True)
        spm.SentencePieceTrainer.train(input=work + "/train.txt", model_prefix=work + "/" + name + "/tokenizer",
            vocab_size=300 + (256 if bf else 0), model_type=mt, byte_fallback=bf, character_coverage=0.9995,
            normalization_rule_name="identity", minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=work + "/" + name + "/tokenizer.model")
        with open(work + "/" + name + ".ref", "w") as f:
            for line in test: f.write(" ".join(map(str, sp.encode(line))) + "\n")
PY
[ $? = 0 ] || { not_ok "training SentencePiece models failed"; finish; }
for m in bpe bpe-bf unigram unigram-bf; do
    "$LINEAGE" tokenize "$WORK/$m" --lines < "$WORK/test.txt" > "$WORK/$m.out" 2>"$WORK/$m.err"
    n=$(wc -l < "$WORK/$m.ref"); same=$(paste -d'|' "$WORK/$m.ref" "$WORK/$m.out" | awk -F'|' '$1==$2' | wc -l)
    [ "$same" = "$n" ] && ok "SentencePiece $m: $same/$n lines encode as spm does" ||
        not_ok "SentencePiece $m: $same/$n lines match spm ($(head -c 200 "$WORK/$m.err"))"
done

# Normalization rules with a precompiled character map (NFKC and its NMT variants): full-width,
# half-width katakana, ligatures, circled numbers, letterlike symbols, odd spaces, zero-width space.
# The same map as tokenizer.json's Precompiled normalizer (base64) must give the same ids.
$PY - "$WORK" <<'PY'
import base64, json, os, sys, sentencepiece as spm
work = sys.argv[1]
test = ["ＦＵＬＬ ｗｉｄｔｈ ｔｏｋｅｎ １２３", "ｶﾀｶﾅ half-width ﾃｽﾄ", "ligature ﬁne ﬂow", "① ② ⅻ ㎏ ㍻",
        "Ｋａ\u3000ｔｏ　ri", "x\u00a0y\u2003z", "ＴＨＥ ＡＮＤ ｔｈｅ", "e\u0301 café", "ﾞ゛ ℌ𝕏𝔸 Ⅻ",
        "  \u3000 leading", "trailing\u3000 ", "ｋａｋａ\u200bｔｏ", "한국어 中文 ４２"]
open(work + "/nfkc-test.txt", "w").write("\n".join(test) + "\n")
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7F) << s; s += 7
        if not c & 0x80: return v, i
def fields(b):   # (field number, payload) of the length-delimited fields of one protobuf message
    i = 0
    while i < len(b):
        k, i = varint(b, i)
        if k & 7 == 0: _, i = varint(b, i)
        elif k & 7 == 1: i += 8
        elif k & 7 == 5: i += 4
        else:
            n, i = varint(b, i); yield k >> 3, b[i:i + n]; i += n
for rule in ("nmt_nfkc", "nmt_nfkc_cf"):
    for mt in ("unigram", "bpe"):
        name = "%s-%s" % (rule, mt)
        os.makedirs(work + "/" + name, exist_ok=True)
        spm.SentencePieceTrainer.train(input=work + "/train.txt", model_prefix=work + "/" + name + "/tokenizer",
            vocab_size=300, model_type=mt, character_coverage=0.9995, normalization_rule_name=rule, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=work + "/" + name + "/tokenizer.model")
        with open(work + "/" + name + ".ref", "w") as f:
            for line in test: f.write(" ".join(map(str, sp.encode(line))) + "\n")
        if mt != "unigram": continue
        # tokenizer.json as Hugging Face converts a SentencePiece Unigram model
        model = open(work + "/" + name + "/tokenizer.model", "rb").read()
        spec = next(p for f, p in fields(model) if f == 3)
        charsmap = next(p for f, p in fields(spec) if f == 2)
        vocab = [[sp.id_to_piece(i), sp.get_score(i)] for i in range(sp.get_piece_size())]
        tj = {"normalizer": {"type": "Sequence", "normalizers": [
                  {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
                  {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
              "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
              "model": {"type": "Unigram", "unk_id": sp.unk_id(), "vocab": vocab}}
        os.makedirs(work + "/" + name + "-json", exist_ok=True)
        json.dump(tj, open(work + "/" + name + "-json/tokenizer.json", "w"))
PY
[ $? = 0 ] || { not_ok "training SentencePiece NFKC models failed"; finish; }
for m in nmt_nfkc-unigram nmt_nfkc-bpe nmt_nfkc_cf-unigram nmt_nfkc_cf-bpe; do
    "$LINEAGE" tokenize "$WORK/$m" --lines < "$WORK/nfkc-test.txt" > "$WORK/$m.out" 2>"$WORK/$m.err"
    n=$(wc -l < "$WORK/$m.ref"); same=$(paste -d'|' "$WORK/$m.ref" "$WORK/$m.out" | awk -F'|' '$1==$2' | wc -l)
    [ "$same" = "$n" ] && ok "SentencePiece $m (precompiled charsmap): $same/$n lines encode as spm does" ||
        not_ok "SentencePiece $m: $same/$n lines match spm ($(head -c 200 "$WORK/$m.err"))"
done
# tokenizer.json Precompiled: SentencePiece trims the ends of a line, Metaspace does not: compare the
# lines without spaces at either end
for m in nmt_nfkc-unigram nmt_nfkc_cf-unigram; do
    "$LINEAGE" tokenize "$WORK/$m-json" --lines < "$WORK/nfkc-test.txt" > "$WORK/$m-json.out" 2>"$WORK/$m-json.err"
    n=0; same=0
    while IFS='|' read -r line ref out; do
        case "$line" in " "*|*" "|*"　") continue;; esac
        n=$((n + 1)); [ "$ref" = "$out" ] && same=$((same + 1))
    done < <(paste -d'|' "$WORK/nfkc-test.txt" "$WORK/$m.ref" "$WORK/$m-json.out")
    [ "$n" -ge 10 ] && [ "$same" = "$n" ] && ok "tokenizer.json Precompiled ($m map): $same/$n lines encode as spm does" ||
        not_ok "tokenizer.json Precompiled $m: $same/$n lines match spm ($(head -c 200 "$WORK/$m-json.err"))"
done
# a damaged map is a one-line format error
$PY - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
t = json.load(open(work + "/nmt_nfkc-unigram-json/tokenizer.json"))
for name, cm in (("b64", "AAAA*AAA"), ("size", "////AAAAAAA=")):
    t["normalizer"]["normalizers"][0]["precompiled_charsmap"] = cm
    import os; os.makedirs(work + "/bad-charsmap-" + name, exist_ok=True)
    json.dump(t, open(work + "/bad-charsmap-" + name + "/tokenizer.json", "w"))
PY
expect_exit "rejects a Precompiled charsmap with broken base64" 2 "$LINEAGE" tokenize "$WORK/bad-charsmap-b64" x
expect_exit "rejects a Precompiled charsmap whose trie size exceeds it" 2 "$LINEAGE" tokenize "$WORK/bad-charsmap-size" x
finish
