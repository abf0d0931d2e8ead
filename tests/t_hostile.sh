#!/bin/bash
# Hostile inputs between the parsers (issue 14): config numbers, NaN weights, files that are not
# files, files of the wrong kind, broken tokenizers beside weights, control bytes in untrusted
# strings, costly pre-tokenizer patterns and hidden bytes in safetensors. Every case must end in a
# clean exit (2 bad input, 3 I/O) with one line naming the file, or a sane report; never a hang, a
# crash, exit 1 or unbounded memory. Cases are generated here; run in rel and ASan by tests/run.sh.
. "$(dirname "$0")/lib.sh"
Z=$LINEAGE_SHARED/zoo
# bounded: a regression that spins or eats memory fails the case instead of the machine
# (ASan reserves terabytes of shadow address space, so only the rel build gets the address-space cap)
guard() { case "${BUILD:-}" in *asan*) timeout 60 "$@" ;; *) ( ulimit -v 4000000; timeout 20 "$@" ) ;; esac; }
# expect_line NAME CODE PATTERN command...: exit CODE, one stderr line matching PATTERN (grep -E)
expect_line() {
    local name=$1 code=$2 pat=$3; shift 3
    guard "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?
    local lines; lines=$(wc -l < "$WORK/err")
    if [ "$rc" = "$code" ] && [ "$lines" = 1 ] && grep -Eq -- "$pat" "$WORK/err"; then ok "$name"
    else not_ok "$name (exit $rc, $lines stderr lines: $(head -c 300 "$WORK/err"))"; fi
}

# --- config numbers: one validated accessor, exit 2 naming the file and the key
cfg_case() { # cfg_case NAME KEY JSON-VALUE
    local d="$WORK/cfg-$1"; mkdir -p "$d"
    python3 - "$Z/arch-only/config.json" "$d/config.json" "$2" "$3" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c[sys.argv[3]] = json.loads(sys.argv[4])
open(sys.argv[2], "w").write(json.dumps(c))
PY
    expect_line "config $2 = $3: exit 2 naming file and key" 2 "config.json.*'$2'" "$LINEAGE" inspect "$d" --json -
}
cfg_case huge-hidden hidden_size 4611686018427387904
cfg_case huge-layers num_hidden_layers 4611686018427387904
cfg_case huge-vocab vocab_size 4611686018427387904
cfg_case e18-hidden hidden_size 1e18
cfg_case string-hidden hidden_size '"big"'
cfg_case negative-layers num_hidden_layers -3
cfg_case zero-heads num_attention_heads 0
cfg_case fraction-heads num_attention_heads 2.5
cfg_case inf-theta rope_theta 1e999
cfg_case bool-vocab vocab_size true
# the largest plausible values still give a sane (positive, exact) count
d="$WORK/cfg-edge"; mkdir -p "$d"
python3 - "$Z/arch-only/config.json" "$d/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(hidden_size=1000000, num_hidden_layers=10000, vocab_size=100000000, intermediate_size=10000000,
         num_attention_heads=100000, num_key_value_heads=100000, head_dim=1000000)
open(sys.argv[2], "w").write(json.dumps(c))
PY
expect_exit "config at every limit: inspect exits 0" 0 guard "$LINEAGE" inspect "$d" --json -
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); p=d.get('parameters',{}); sys.exit(0 if all(v >= 0 for v in p.values() if isinstance(v, int)) else 1)" "$WORK/out"; then
    ok "config at every limit: no negative parameter count"
else not_ok "config at every limit: negative parameter count"; fi

# --- NaN weights in `lineage run`: counted, reported, excluded; bounded output
nan_model() { # nan_model DIR TENSOR ROWS: copy of the zoo base with ROWS rows (all when 0) of TENSOR set to NaN
    mkdir -p "$1"; cp "$Z"/base/*.json "$1"/; cp "$Z/base/model.safetensors" "$1/"
    python3 - "$1/model.safetensors" "$2" "$3" <<'PY'
import json, struct, sys
path, name, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = open(path, "r+b"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n)); t = h[name]
b, e = t["data_offsets"]; cols = t["shape"][-1]
end = e if rows == 0 else b + rows * cols * 2
f.seek(8 + n + b); f.write(b"\xc0\x7f" * ((end - b) // 2))
PY
}
nan_model "$WORK/nan-all" model.norm.weight 0
nan_model "$WORK/nan-row" lm_head.weight 3
for m in nan-all nan-row; do
    expect_exit "run on $m: exit 0, bounded" 0 guard "$LINEAGE" run "$WORK/$m" "hello" --tokens 2
    if [ "$(wc -c < "$WORK/out")" -lt 20000 ] && grep -q "non-finite" "$WORK/out"; then ok "run on $m: non-finite logits reported"
    else not_ok "run on $m: non-finite logits not reported ($(wc -c < "$WORK/out") bytes)"; fi
    expect_exit "run on $m --json" 0 guard "$LINEAGE" run "$WORK/$m" "hello" --tokens 2 --json -
    if python3 -c "import json,sys,math; d=json.load(open(sys.argv[1])); sys.exit(0 if d['nonfinite_logits'] > 0 and all(c['probability'] is not None and math.isfinite(c['probability']) for c in d['top_k']) else 1)" "$WORK/out" 2>/dev/null; then
        ok "run on $m --json: nonfinite_logits counted, top_k finite"
    else not_ok "run on $m --json: nonfinite_logits/top_k"; fi
done

# --- files that are not files, and files of another kind, given as the model
mkfifo "$WORK/model.fifo"
expect_line "a FIFO as the model path: refused at once, named as a FIFO" 3 "model.fifo: is a FIFO" "$LINEAGE" inspect "$WORK/model.fifo"
mkdir -p "$WORK/fifo-folder"; cp "$Z/arch-only/config.json" "$WORK/fifo-folder/"; mkfifo "$WORK/fifo-folder/model.safetensors"
expect_line "a FIFO named model.safetensors in a folder: no hang" 3 "model.safetensors: is a FIFO" "$LINEAGE" inspect "$WORK/fifo-folder"
: > "$WORK/empty.safetensors.bin"
expect_line "an empty file: says what to pass" 2 "empty file; pass a model folder" "$LINEAGE" inspect "$WORK/empty.safetensors.bin"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR' > "$WORK/picture.png"
expect_line "a PNG: not a model file, says what to pass" 2 "not a model file.*89 50 4e 47" "$LINEAGE" inspect "$WORK/picture.png"
expect_exit "config.json passed directly: a config-only source" 0 "$LINEAGE" inspect "$Z/base/config.json" --json -
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['parameters']['source'] == 'config' and d['parameters']['total'] == 602976 else 1)" "$WORK/out" 2>/dev/null; then
    ok "config.json passed directly: counted from the config"
else not_ok "config.json passed directly: counted from the config"; fi
expect_exit "tokenizer.json passed directly: a tokenizer-only source" 0 "$LINEAGE" inspect "$Z/base/tokenizer.json"
expect_exit "compare --only tokenizer on two tokenizer.json files" 0 "$LINEAGE" compare "$Z/base/tokenizer.json" "$Z/finetune/tokenizer.json" --only tokenizer
cp "$Z/base/tokenizer.json" "$WORK/renamed-tok.json"
expect_line "a tokenizer under another name: says what to pass" 2 "tokenizer file under another name" "$LINEAGE" inspect "$WORK/renamed-tok.json"
expect_line "another JSON (tokenizer_config.json): says what to pass" 2 "neither a config.json nor a tokenizer.json" "$LINEAGE" inspect "$Z/base/tokenizer_config.json"

# --- inspect reads the tokenizer: a broken tokenizer.json fails it as it fails tokenize
mkdir -p "$WORK/broken-tok"; cp "$Z/base/config.json" "$Z/base/model.safetensors" "$WORK/broken-tok/"
printf '{"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": ["a q"]}}' > "$WORK/broken-tok/tokenizer.json"
expect_line "tokenize rejects the broken tokenizer.json" 2 "tokenizer.json" "$LINEAGE" tokenize "$WORK/broken-tok" "ab"
expect_line "inspect rejects it too, naming the file" 2 "tokenizer.json" "$LINEAGE" inspect "$WORK/broken-tok"
expect_exit "inspect base: tokenizer read" 0 "$LINEAGE" inspect "$Z/base" --json -
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['tokenizer']['size'] == 1024 else 1)" "$WORK/out" 2>/dev/null; then
    ok "inspect base: tokenizer size in the JSON"
else not_ok "inspect base: tokenizer size in the JSON"; fi
expect_line "tokenize on a FIFO: refused at once" 3 "is a FIFO" "$LINEAGE" tokenize "$WORK/model.fifo" "hi"

# --- untrusted text: the same hostile string in config, safetensors metadata, a folder name and a
# tensor name, through the terminal (colour off), Markdown, HTML, JSON and the journal
EVIL=$(printf 'x\033]0;TITLE\007\033[31mred\r# heading ![t](http://track.example/p.png) [y](javascript:alert(1)) \342\200\256drawkcab \302\233 `code` <b>b</b>')
H="$WORK/h$(printf '\033[7m')ost"
mkdir -p "$H"; cp "$Z"/base/*.json "$H"/
python3 - "$Z/base/model.safetensors" "$H/model.safetensors" "$H/config.json" "$EVIL" <<'PY'
import json, struct, sys
src, dst, cfg, evil = sys.argv[1:5]
c = json.load(open(cfg)); c["model_type"] = evil; c["architectures"] = [evil]; c["_name_or_path"] = evil
open(cfg, "w").write(json.dumps(c))
raw = open(src, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; h = json.loads(raw[8:8 + n])
h["__metadata__"] = {"format": "pt", "note": evil}
text = json.dumps(h).encode(); text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + raw[8 + n:])
PY
# raw_check NAME FILE: no C0 control but LF/TAB, no DEL, no C1, no bidi override in FILE
raw_check() {
    if python3 - "$2" <<'PY'
import re, sys
b = open(sys.argv[1], "rb").read()
bad = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]", b)
sys.exit(1 if bad else 0)
PY
    then ok "$1"; else not_ok "$1"; fi
}
# md_check NAME FILE: no live link or image opened by the input, no heading from it
md_check() {
    if python3 - "$2" <<'PY'
import re, sys
t = open(sys.argv[1], encoding="utf-8", errors="replace").read()
# fenced code blocks render literally (CommonMark): drop them, the fence being longer than any backtick
# run inside (document.c md_pre); an input that closed the fence early would leave its text outside
out, fence = [], None
for line in t.split("\n"):
    m = re.match(r"^ {0,3}(`{3,})\s*$", line)
    if fence is None and m:
        fence = len(m.group(1))
    elif fence is not None and m and len(m.group(1)) >= fence:
        fence = None
    elif fence is None:
        out.append(line)
t = "\n".join(out)
live = re.search(r"(?<!\\)\]\((?:http|javascript)", t) or re.search(r"(?<!\\)!(?<!\\)\[t", t) or re.search(r"^#+ heading", t, re.M)
sys.exit(1 if live else 0)
PY
    then ok "$1"; else not_ok "$1"; fi
}
"$LINEAGE" inspect "$H" --no-color --md "$WORK/i.md" --html "$WORK/i.html" --json "$WORK/i.json" > "$WORK/i.txt" 2> "$WORK/i.err"
raw_check "inspect terminal text: no raw control or bidi byte" "$WORK/i.txt"
grep -q 'x\\x1b\]0;TITLE' "$WORK/i.txt" && ok "inspect terminal text: the control shown escaped" || not_ok "inspect text: escaped form missing"
raw_check "inspect Markdown: no raw control byte" "$WORK/i.md"
md_check "inspect Markdown: no live link, image or heading from input" "$WORK/i.md"
raw_check "inspect HTML: no raw control byte" "$WORK/i.html"
if grep -q '<b>b</b>\|<img\|href=' "$WORK/i.html"; then not_ok "inspect HTML: markup from input"; else ok "inspect HTML: no markup from input"; fi
raw_check "inspect JSON: no raw control or bidi byte" "$WORK/i.json"
"$LINEAGE" compare "$Z/base" "$H" --only arch --no-color --md "$WORK/c.md" --html "$WORK/c.html" --journal "$WORK/j.md" > "$WORK/c.txt" 2>&1
raw_check "compare terminal text: no raw control byte" "$WORK/c.txt"
raw_check "compare Markdown: no raw control byte" "$WORK/c.md"
md_check "compare Markdown: no live link or image" "$WORK/c.md"
raw_check "compare HTML: no raw control byte" "$WORK/c.html"
raw_check "journal: no raw control byte" "$WORK/j.md"
md_check "journal: no live link or image" "$WORK/j.md"
# a tensor name carrying the string, in an error message
python3 - "$WORK/evil-name.safetensors" "$EVIL" <<'PY'
import json, struct, sys
h = {sys.argv[2]: {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}
text = json.dumps(h).encode(); open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + b"\0")
PY
"$LINEAGE" inspect "$WORK/evil-name.safetensors" > /dev/null 2> "$WORK/e.err"
raw_check "error naming a hostile tensor: no raw control byte" "$WORK/e.err"
[ "$(wc -l < "$WORK/e.err")" = 1 ] && ok "error naming a hostile tensor: one line" || not_ok "error naming a hostile tensor: $(wc -l < "$WORK/e.err") lines"

# --- pre-tokenizer regexes: total work per input bounded; compile errors name the file
regex_tok() { # regex_tok DIR PATTERN: the zoo base tokenizer with one Split pre-tokenizer
    mkdir -p "$1"
    python3 - "$Z/base/tokenizer.json" "$1/tokenizer.json" "$2" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
t["pre_tokenizer"] = {"type": "Split", "pattern": {"Regex": sys.argv[3]}, "behavior": "Isolated", "invert": False}
t["normalizer"] = None
open(sys.argv[2], "w").write(json.dumps(t))
PY
}
regex_tok "$WORK/quadratic" 'a*b|a'
python3 -c "print('a' * 200000, end='')" > "$WORK/aaaa.txt"
t0=$(date +%s%N)
expect_line "a*b|a on 200 kB of 'a': fails cleanly, naming tokenizer.json" 2 "tokenizer.json: a pre-tokenizer regex" \
    "$LINEAGE" tokenize "$WORK/quadratic" --ids < "$WORK/aaaa.txt"
echo "# quadratic pattern stopped after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
expect_exit "a*b|a on a short input still tokenizes" 0 "$LINEAGE" tokenize "$WORK/quadratic" "aab aaa" --ids
regex_tok "$WORK/badregex" '(unclosed'
expect_line "a regex that does not compile: the error names tokenizer.json" 2 "tokenizer.json: pre-tokenizer regex" \
    "$LINEAGE" tokenize "$WORK/badregex" "hello"

# --- safetensors with bytes no tensor covers: accepted, reported as a finding
mkdir -p "$WORK/trailing"; cp "$Z"/base/*.json "$WORK/trailing/"
{ cat "$Z/base/model.safetensors"; head -c 1000 /dev/zero | tr '\0' 'Z'; } > "$WORK/trailing/model.safetensors"
expect_exit "trailing bytes: inspect still reads the weights" 0 "$LINEAGE" inspect "$WORK/trailing" --json -
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['hidden_bytes'] == 1000 and any('outside every tensor' in w for w in d['warnings']) else 1)" "$WORK/out" 2>/dev/null; then
    ok "trailing bytes: 1000 hidden bytes in the JSON, with a warning"
else not_ok "trailing bytes: hidden_bytes/warning missing"; fi
python3 - "$WORK/gap.safetensors" <<'PY'
import json, struct, sys
h = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [24, 32]}}
text = json.dumps(h).encode(); text += b" " * (-len(text) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(text)) + text + struct.pack("<2f", 1, 2) + b"HIDDEN!!HIDDEN!!" + struct.pack("<2f", 3, 4))
PY
expect_exit "a gap between tensors: inspect reads the file" 0 "$LINEAGE" inspect "$WORK/gap.safetensors" --json -
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d['hidden_bytes'] == 16 else 1)" "$WORK/out" 2>/dev/null; then
    ok "a gap between tensors: 16 hidden bytes reported"
else not_ok "a gap between tensors: not reported"; fi
"$LINEAGE" inspect "$WORK/gap.safetensors" --no-color > "$WORK/gap.txt" 2>&1
grep -q "outside every tensor" "$WORK/gap.txt" && ok "a gap between tensors: the terminal report says so" || not_ok "gap: terminal report silent"
expect_exit "the zoo base has no hidden bytes" 0 "$LINEAGE" inspect "$Z/base" --json -
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if 'hidden_bytes' not in d else 1)" "$WORK/out" 2>/dev/null; then
    ok "the zoo base: no hidden_bytes"; else not_ok "the zoo base: hidden_bytes reported"; fi
printf 'a\342\200\256b\302\233c\033]0;T\007d' | "$LINEAGE" tokenize "$Z/base" > "$WORK/tok.txt" 2>&1
raw_check "tokenize: pieces with controls, C1 and bidi bytes shown escaped" "$WORK/tok.txt"
