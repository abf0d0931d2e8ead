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
finish
