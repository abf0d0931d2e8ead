#!/bin/bash
# lineage ask: raw-prompt mode on the zoo (no templates there), a generated instruction-style fixture
# (the zoo's base with a chat template, eos ids and an eos text), greedy tokens against the torch
# reference (tests/ref/reference_forward.py), seeded sampling, stop conditions, --print-prompt bytes,
# hostile templates, and --endpoint against the reference server's /v1/chat/completions with its faults.
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
REF=tests/ref
PY=$PYTHON_TORCH
jcheck() { # jcheck NAME FILE PY_EXPR (d = the parsed JSON)
    if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1 ($(head -c 200 "$2" 2>/dev/null))"; fi
}

# ---- raw-prompt mode (the zoo has no templates): the statement, and run's greedy continuation
"$LINEAGE" ask "$Z/base" "The license" --max-tokens 12 --json "$WORK/raw.json" > "$WORK/raw.out" 2> "$WORK/raw.err"
grep -q "has no chat template" "$WORK/raw.err" && ok "a model without a template: said so on stderr" || not_ok "no raw-mode statement: $(cat "$WORK/raw.err")"
jcheck "raw ask: lineage.ask/1, template not used, BOS added as add_bos_token asks, 12 tokens" "$WORK/raw.json" \
    "d['schema'] == 'lineage.ask/1' and not d['template']['used'] and d['prompt_ids'][0] == 1 and d['answer']['tokens'] == 12 and d['answer']['stop'] == 'max_tokens'"
"$LINEAGE" run "$Z/base" "The license" --tokens 12 --json "$WORK/run.json" > /dev/null 2>&1
jcheck "raw greedy ask = run's greedy continuation" "$WORK/raw.json" \
    "d['answer']['ids'] == json.load(open('$WORK/run.json'))['continuation']['ids']"
[ "$(head -c 200 "$WORK/raw.out")" = "$(python3 -c "import json; print(json.load(open('$WORK/raw.json'))['answer']['text'])")" ] &&
    ok "the streamed terminal answer is the document's answer" || not_ok "streamed answer differs: $(head -c 100 "$WORK/raw.out")"

# ---- an instruction-style fixture: base + a chat template, eos ids, an eos text
F=$WORK/chat
chat_fixture "$F" "$Z/base" $'{{ bos_token }}{% for m in messages %}{% if m.role == \'system\' %}[SYS] {{ m.content | trim }}\n{% else %}### {{ m.role | capitalize }}:\n{{ m.content }}{% if m.role == \'assistant\' %}{{ eos_token }}{% endif %}{{ \'\\n\' }}{% endif %}{% endfor %}{% if add_generation_prompt %}### Assistant:\n{% endif %}'
"$LINEAGE" ask "$F" "Who are you?" --system " Be brief. " --print-prompt > "$WORK/prompt.txt" 2> "$WORK/prompt.err"
printf '<s>[SYS] Be brief.\n### User:\nWho are you?\n### Assistant:\n' > "$WORK/prompt.expected"
cmp -s "$WORK/prompt.txt" "$WORK/prompt.expected" && [ ! -s "$WORK/prompt.err" ] && ok "--print-prompt: the template's exact bytes" ||
    not_ok "--print-prompt: $(od -c "$WORK/prompt.txt" | head -3)"
"$LINEAGE" ask "$F" "Who are you?" --system "Be brief." --max-tokens 16 --json "$WORK/chat.json" > /dev/null 2>&1
jcheck "templated ask: template used (named), no BOS added beyond the template's, prompt ids start with <s> once" "$WORK/chat.json" \
    "d['template']['used'] and 'tokenizer_config.json: chat_template' in d['template']['source'] and d['prompt_ids'][0] == 1 and d['prompt_ids'][1] != 1"
cp "$F/tokenizer_config.json" "$WORK/tc.json"; rm "$F/tokenizer_config.json"
python3 -c "
import json; c = json.load(open('$WORK/tc.json')); c['chat_template'] = [{'name': 'tool_use', 'template': 'TOOLS'}, {'name': 'default', 'template': c['chat_template']}]
json.dump(c, open('$F/tokenizer_config.json', 'w'))"
"$LINEAGE" ask "$F" "Who are you?" --system " Be brief. " --print-prompt > "$WORK/prompt2.txt" 2>/dev/null
cmp -s "$WORK/prompt2.txt" "$WORK/prompt.expected" && ok "a list of named templates: the default one is used" || not_ok "named templates: $(head -c 100 "$WORK/prompt2.txt")"
rm "$F/tokenizer_config.json"; cp "$WORK/tc.json" "$F/tokenizer_config.json"
printf '{{ "J:" ~ messages[-1].content }}' > "$F/chat_template.jinja"
[ "$("$LINEAGE" ask "$F" "q" --print-prompt 2>/dev/null)" = "J:q" ] && ok "chat_template.jinja beside the model wins" || not_ok "chat_template.jinja not used"
rm "$F/chat_template.jinja"

# ---- greedy tokens against the torch reference (raw zoo models and the templated fixture)
if "$PY" -c 'import torch, numpy' 2>/dev/null; then
    cases=""
    # every zoo model that has weights and a tokenizer (raw-prompt mode: the zoo has no templates)
    nzoo=0
    for d in "$Z"/*/; do
        m=$(basename "$d")
        [ -f "$d/tokenizer.json" ] && ls "$d" | grep -q '\.safetensors$' || continue
        "$LINEAGE" ask "$Z/$m" "The license" --max-tokens 8 --json "$WORK/g-$m.json" > /dev/null 2>&1
        cases="$cases $Z/$m=$WORK/g-$m.json"; nzoo=$((nzoo + 1))
    done
    cases="$cases $F=$WORK/chat.json"
    # generated instruction-style fixtures of other families (tests/ref/make_fixtures.py shapes, vocabulary
    # 1024 for the zoo's tokenizer) with real chat templates (ChatML of ../shared/data/configs' Qwen2
    # config, DeepSeek-R1-Distill's) and sliding windows shorter than the prompt
    "$PY" - "$WORK/fam" "$Z/base" "$LINEAGE_SHARED/data/configs" > "$WORK/fam.list" 2> "$WORK/fam.err" <<'PY'
import json, os, shutil, sys
sys.path.insert(0, "tests/ref")
import make_fixtures as mf
out, zoo, configs = sys.argv[1:4]
tpl = {k: json.load(open(os.path.join(configs, d, "tokenizer_config.json")))["chat_template"] for k, d in
       (("chatml", "YuxuanBai1__Qwen2-Boundless"), ("r1", "deepseek-ai__DeepSeek-R1-Distill-Qwen-32B"))}
specs = []
c = mf.base_config("Qwen3ForCausalLM", "qwen3", vocab_size=1024, rope_theta=1000000.0, tie_word_embeddings=True,
                   use_sliding_window=False, sliding_window=None, max_window_layers=2)
specs.append(("qwen3-chatml", c, mf.dense_model(c, 14, qk_norm=True), "chatml"))
c = mf.base_config("MistralForCausalLM", "mistral", vocab_size=1024, sliding_window=8)
specs.append(("mistral-r1", c, mf.dense_model(c, 12), "r1"))
c = mf.base_config("Gemma2ForCausalLM", "gemma2", vocab_size=1024, num_hidden_layers=3, hidden_act="gelu_pytorch_tanh",
                   hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, rms_norm_eps=1e-6,
                   query_pre_attn_scalar=24, attn_logit_softcapping=4.0, final_logit_softcapping=15.0, sliding_window=8)
specs.append(("gemma2-chatml", c, mf.dense_model(c, 19), "chatml"))
c = mf.base_config("MixtralForCausalLM", "mixtral", vocab_size=1024, num_local_experts=4, num_experts_per_tok=2, sliding_window=None)
def moe(g, L, i):
    g.mat(L + ".block_sparse_moe.gate.weight", 4, 64, 3.0)
    for e in range(4):
        mf.mlp_weights(g, "%s.block_sparse_moe.experts.%d" % (L, e), 64, 128, ("w1", "w3", "w2"))
specs.append(("mixtral-r1", c, mf.dense_model(c, 15, ffn=moe), "r1"))
for name, c, t, k in specs:
    d = os.path.join(out, name)
    mf.write_model(d, c, t)
    for f in ("tokenizer.json", "special_tokens_map.json", "generation_config.json"):
        shutil.copy(os.path.join(zoo, f), d)
    tc = json.load(open(os.path.join(zoo, "tokenizer_config.json")))
    tc["chat_template"] = tpl[k]
    json.dump(tc, open(os.path.join(d, "tokenizer_config.json"), "w"))
    print(d)
PY
    nfam=0
    while read -r d; do
        "$LINEAGE" ask "$d" "Who trained you? Answer in one sentence, please." --system "Be brief." --max-tokens 10 --json "$WORK/g-$(basename "$d").json" > /dev/null 2>&1
        cases="$cases $d=$WORK/g-$(basename "$d").json"; nfam=$((nfam + 1))
    done < "$WORK/fam.list"
    [ "$nfam" = 4 ] && python3 -c "
import json, sys
ds = [json.load(open('$WORK/g-%s.json' % n)) for n in ('qwen3-chatml', 'mistral-r1', 'gemma2-chatml', 'mixtral-r1')]
sys.exit(0 if all(d['template']['used'] and len(d['prompt_ids']) > 8 for d in ds) and '<|im_start|>' in ds[0]['prompt'] else 1)" &&
        ok "4 generated instruction fixtures (qwen3, mistral, gemma2, mixtral) asked through real templates, prompts longer than their windows" ||
        not_ok "family fixtures: $nfam built ($(head -c 300 "$WORK/fam.err"))"
    # shellcheck disable=SC2086
    "$PY" - $cases > "$WORK/greedy.txt" 2>&1 <<'PY'
import json, os, sys
sys.path.insert(0, "tests/ref")
import torch, reference_forward
torch.set_num_threads(1)
for case in sys.argv[1:]:
    model, doc = case.split("=")
    d = json.load(open(doc))
    ids, eos, want = list(d["prompt_ids"]), set(d["eos_ids"]), d["answer"]["ids"]
    m = reference_forward.Model(model)
    got = []
    for _ in range(len(want) + (d["answer"]["stop"] != "max_tokens")):
        nxt = int(torch.argmax(m.logits(ids + got)[-1]))
        if nxt in eos: break
        got.append(nxt)
    print("%s %s %s %s" % ("same" if got == want else "differ", os.path.basename(model), got, want))
PY
    while read -r verdict name rest; do
        [ "$verdict" = same ] && ok "greedy tokens of ask on $name equal the torch reference's" || not_ok "greedy on $name: $verdict $rest"
    done < "$WORK/greedy.txt"
    [ "$(grep -c '^same' "$WORK/greedy.txt")" = $((nzoo + 1 + nfam)) ] && [ "$nzoo" -ge 17 ] &&
        ok "greedy = torch on all $nzoo zoo models with weights and a tokenizer, the templated fixture and $nfam family fixtures" ||
        not_ok "reference greedy: $(grep -c '^same' "$WORK/greedy.txt") same of $((nzoo + 1 + nfam)) ($nzoo zoo): $(grep -v '^same' "$WORK/greedy.txt" | tail -3)"
else
    not_ok "torch unavailable: $PY cannot import torch and numpy"
fi

# ---- stop conditions: an eos id from generation_config.json, and the eos text spelled out in pieces
first=$(python3 -c "import json; print(json.load(open('$WORK/chat.json'))['answer']['ids'][0])")
rm "$F/generation_config.json"; echo "{\"eos_token_id\": [7, $first]}" > "$F/generation_config.json"
"$LINEAGE" ask "$F" "Who are you?" --system "Be brief." --max-tokens 16 --json "$WORK/eos.json" > /dev/null 2>&1
jcheck "generation stops at an eos id of generation_config.json (the first greedy token): empty answer, stop eos" "$WORK/eos.json" \
    "d['answer']['stop'] == 'eos' and d['answer']['tokens'] == 0 and $first in d['eos_ids']"
rm "$F/generation_config.json"; ln -s "$(readlink -f "$Z/base/generation_config.json")" "$F/generation_config.json"
stop=$(python3 -c "
import json; d = json.load(open('$WORK/chat.json')); t = d['answer']['text']; print(t[len(t)//3:len(t)//3 + 6])")
python3 -c "
import json,sys; c = json.load(open('$WORK/tc.json')); c['eos_token'] = sys.argv[1]; json.dump(c, open('$F/tokenizer_config.json.new', 'w'))" "$stop"
rm "$F/tokenizer_config.json"; mv "$F/tokenizer_config.json.new" "$F/tokenizer_config.json"
"$LINEAGE" ask "$F" "Who are you?" --system "Be brief." --max-tokens 16 --json "$WORK/stop.json" > /dev/null 2>&1
jcheck "the eos text ends the answer where it appears (stop_string), the text before it kept" "$WORK/stop.json" \
    "d['answer']['stop'] == 'stop_string' and json.load(open('$WORK/chat.json'))['answer']['text'].startswith(d['answer']['text']) and '''$stop''' not in d['answer']['text']"
rm "$F/tokenizer_config.json"; cp "$WORK/tc.json" "$F/tokenizer_config.json"

# ---- sampling: reproducible with a seed
for s in 7 7 8; do "$LINEAGE" ask "$Z/base" "The license" --temperature 1.5 --seed $s --max-tokens 12 --json "$WORK/s$s-$RANDOM.json" > /dev/null 2>&1; done
set -- "$WORK"/s7-*.json
python3 - "$1" "$2" "$WORK"/s8-*.json <<'PY' && ok "same seed, same sampled answer; another seed, another answer" || not_ok "seeded sampling not reproducible"
import json, sys
a, b, c = (json.load(open(f))["answer"]["ids"] for f in sys.argv[1:4])
g = json.load(open(sys.argv[1]))
sys.exit(0 if a == b and a != c and g["sampling"]["seed"] == 7 and not g["sampling"]["greedy"] else 1)
PY

# ---- batteries on the zoo (answers are gibberish: the pipeline, the rules and the reports are exercised)
expect_exit "--battery all on base" 0 "$LINEAGE" ask "$Z/base" --battery all --max-tokens 8 --json "$WORK/all.json" --md "$WORK/all.md" --html "$WORK/all.html"
jcheck "battery report: identity/1, cutoff/1, refusal/1 with every question answered and classified" "$WORK/all.json" \
    "[b['version'] for b in d['batteries']] == ['identity/1', 'cutoff/1', 'refusal/1'] and all(len(b['items']) >= 12 and all('answer' in i and 'claims' in i for i in b['items']) for b in d['batteries'])"
jcheck "battery summaries: claims note, months with the last correct one, refusal rate inside its 95% CI" "$WORK/all.json" \
    "'not evidence about its weights' in d['batteries'][0]['summary']['note'] and len(d['batteries'][1]['summary']['months']) >= 10 and 'last_month_answered_correctly' in d['batteries'][1]['summary'] and d['batteries'][2]['summary']['refusal_rate_ci95'][0] <= d['batteries'][2]['summary']['refusal_rate'] <= d['batteries'][2]['summary']['refusal_rate_ci95'][1]"
grep -q "refusal.*refusal/1" "$WORK/all.md" && grep -q "^- .*refusal rate" "$WORK/all.md" && grep -q "<table" "$WORK/all.html" && ! grep -q "<s>" "$WORK/all.html" &&
    ok "Markdown and HTML battery reports (answers escaped)" || not_ok "battery Markdown/HTML"
"$LINEAGE" ask "$Z/base" --battery identity --max-tokens 4 --lang ko > "$WORK/ko.txt" 2>&1
grep -q "조직·모델을 언급한 답변" "$WORK/ko.txt" && ok "--lang ko battery summary" || not_ok "--lang ko: $(head -c 200 "$WORK/ko.txt")"
cat > "$WORK/mine.json" <<'JSON'
{"name": "mine", "version": "mine/1", "kind": "cutoff",
 "questions": [{"id": "q1", "lang": "en", "text": "The license", "month": "2020-01", "expect": ["the"]},
               {"id": "q2", "lang": "en", "text": "Hello", "month": "2020-02", "expect": ["zzzqqq"]}]}
JSON
"$LINEAGE" ask "$Z/base" --battery "$WORK/mine.json" --max-tokens 12 --json "$WORK/mine.out.json" > /dev/null 2>&1
jcheck "--battery FILE: a user's cutoff set, keywords decide correctness, the estimate is the last correct month" "$WORK/mine.out.json" \
    "d['batteries'][0]['version'] == 'mine/1' and [i['correct'] for i in d['batteries'][0]['items']] == [bool(__import__('re').search(r'(?<![A-Za-z0-9])the(?![A-Za-z0-9])', d['batteries'][0]['items'][0]['answer'], 2)), False] and d['batteries'][0]['summary']['last_month_answered_correctly'] == ('2020-01' if d['batteries'][0]['items'][0]['correct'] else None)"
echo '{"name": "x", "questions": []}' > "$WORK/bad.json"
expect_exit "a malformed battery file: one-line error, exit 2" 2 "$LINEAGE" ask "$Z/base" --battery "$WORK/bad.json"
expect_exit "an unknown battery name: usage error" 2 "$LINEAGE" ask "$Z/base" --battery nosuchset

SOURCE_DATE_EPOCH=0 "$LINEAGE" ask "$Z/base" "Who | are <you>?" --max-tokens 4 --journal "$WORK/journal.md" > /dev/null 2>&1
"$LINEAGE" ask "$Z/base" --battery refusal --max-tokens 4 --journal "$WORK/journal.md" > /dev/null 2>&1
grep -q "^### Q1: What does the model say?" "$WORK/journal.md" && grep -q "1970-01-01" "$WORK/journal.md" &&
    grep -q "^### Q2: What does the model say?" "$WORK/journal.md" && grep -q 'Who \\| are \\<you\\>?' "$WORK/journal.md" &&
    grep -q "refusal/1: *refusal rate" "$WORK/journal.md" && grep -q -- "--battery refusal" "$WORK/journal.md" &&
    ok "journal entries for a question (escaped) and a battery, with the reproducing command" || not_ok "journal: $(head -c 300 "$WORK/journal.md")"

# ---- failures: one line, exit 2
printf '{%% for x in range(100000000) %%}{%% endfor %%}' > "$F/chat_template.jinja"
expect_exit "a hostile template beside the model: one-line error, exit 2" 2 "$LINEAGE" ask "$F" "q" --max-tokens 2
grep -q "chat_template.jinja" "$WORK/err" && ok "the error names the template file" || not_ok "error: $(cat "$WORK/err")"
printf '{{ messages[0].content ' > "$F/chat_template.jinja"
expect_exit "an unterminated template: one-line error, exit 2" 2 "$LINEAGE" ask "$F" "q" --print-prompt
rm "$F/chat_template.jinja"
expect_exit "--temperature not a number: usage error" 2 "$LINEAGE" ask "$Z/base" "q" --temperature abc
expect_exit "ask without a question or model: usage error" 2 "$LINEAGE" ask

# ---- --endpoint: POST /v1/chat/completions on the reference server, and its fault modes
if "$PY" -c 'import torch, numpy' 2>/dev/null; then
    FAULTS="none 500 malformed no-logprobs drop 429-once slow=3"
    args=""; for f in $FAULTS; do args="$args --fault $f"; done
    # shellcheck disable=SC2086
    "$PY" "$REF/openai_server.py" "$F" --name chatfx --lineage "$LINEAGE" $args > "$WORK/srv.out" 2> "$WORK/srv.err" &
    srv=$!
    trap 'kill $srv 2>/dev/null' EXIT
    url() { awk -v f="fault=$1" '$NF==f {print $(NF-1)}' "$WORK/srv.out"; }
    if wait_listening "$WORK/srv.out" 7 $srv; then
        expect_exit "--endpoint chat answers" 0 "$LINEAGE" ask chatfx "Who are you?" --system "Be brief." --max-tokens 16 --endpoint "$(url none)/v1" --json "$WORK/ep.json"
        jcheck "--endpoint: the server's greedy answer is the native engine's (same template, same tokens)" "$WORK/ep.json" \
            "d['mode'] == 'endpoint' and d['answer']['text'] == json.load(open('$WORK/chat.json'))['answer']['text'] and d['answer']['stop'] == 'length' and d['answer']['tokens'] == 16"
        expect_exit "--endpoint: 429 once, then the answer (retried)" 0 "$LINEAGE" ask chatfx "Hi" --max-tokens 2 --endpoint "$(url 429-once)/v1"
        for f in 500 drop; do
            expect_exit "--endpoint fault $f: one-line I/O error" 3 "$LINEAGE" ask chatfx "Hi" --max-tokens 2 --endpoint "$(url $f)/v1"
        done
        expect_exit "--endpoint fault malformed (truncated JSON): one-line format error" 2 "$LINEAGE" ask chatfx "Hi" --max-tokens 2 --endpoint "$(url malformed)/v1"
        expect_exit "--endpoint fault no-logprobs (chat: no message content): one-line format error" 2 "$LINEAGE" ask chatfx "Hi" --max-tokens 2 --endpoint "$(url no-logprobs)/v1"
        grep -q "no message content" "$WORK/err" && ok "the missing content is named" || not_ok "no-content error: $(cat "$WORK/err")"
        expect_exit "--battery identity through --endpoint" 0 "$LINEAGE" ask chatfx --battery identity --max-tokens 4 --endpoint "$(url none)/v1" --json "$WORK/epb.json"
        jcheck "endpoint battery: 12 answers from the server, classified" "$WORK/epb.json" \
            "d['mode'] == 'endpoint' and len(d['batteries'][0]['items']) == 12 and d['batteries'][0]['summary']['answers'] == 12"
        LINEAGE_ENDPOINT_TIMEOUT=1 expect_exit "--endpoint: a server slower than the timeout is a one-line error" 3 \
            "$LINEAGE" ask chatfx "Hi" --max-tokens 2 --endpoint "$(url slow=3)/v1"
    else
        not_ok "reference server did not start: $(head -c 300 "$WORK/srv.err")"
    fi
    kill $srv 2>/dev/null
fi
finish
