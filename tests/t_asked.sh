#!/bin/bash
# compare/study --battery: the "behaviour (asked)" section. On the zoo (raw-prompt mode, gibberish answers):
# the same weights in another dtype answer identically and rank above every panel pair, unrelated models
# do not; the section's answers are the ones `ask --battery` gives alone; the verdict is the same with and
# without it; reports in JSON, Markdown, HTML (cards), en and ko; study puts every model side by side.
# On the reference server: a side asked through --endpoint-a matches the native engine, and a server that
# says "I am ChatGPT, trained by OpenAI" is listed as a clue while the verdict stays the weights'.
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
REF=tests/ref
PY=$PYTHON_TORCH
jcheck() { # jcheck NAME FILE PY_EXPR (d = the parsed JSON, s = d['behaviour_asked'])
    if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d.get('behaviour_asked', {}); sys.exit(0 if ($3) else 1)" "$2" 2>/dev/null; then ok "$1"
    else not_ok "$1 ($(head -c 200 "$2" 2>/dev/null))"; fi
}

# ---- compare on the zoo: same weights (bf16 and f32 copies) against a panel of two unrelated models
expect_exit "compare --battery identity with a panel" 0 "$LINEAGE" compare "$Z/base" "$Z/base-fp32" --battery identity --max-tokens 8 \
    --panel "$Z/indep-seed" "$Z/indep-other" --json "$WORK/same.json" --md "$WORK/same.md" --html "$WORK/same.html"
jcheck "section: 4 models (A, B, two panel), 12 identity questions each with 4 answers classified" "$WORK/same.json" \
    "[m['role'] for m in s['models']] == ['a', 'b', 'panel', 'panel'] and s['batteries'][0]['version'] == 'identity/1' and len(s['batteries'][0]['questions']) == 12 and all(len(q['answers']) == 4 and all('classification' in a for a in q['answers']) for q in s['batteries'][0]['questions'])"
jcheck "same weights: A and B give identical answers to all 12 questions" "$WORK/same.json" \
    "s['agreement'][0]['role'] == 'subject' and s['agreement'][0]['identical_answers'] == 12 and all(a['identical_answers'] == sum(q['answers'][a['a']]['text'] == q['answers'][a['b']]['text'] for q in s['batteries'][0]['questions']) for a in s['agreement'])"
jcheck "control: 5 pairs with a panel model, all below A-B on identical answers, rank p = 1/6" "$WORK/same.json" \
    "s['control']['control_pairs'] == 5 and s['control']['ab_above_every_control_identical'] and abs(s['control']['rank_p_identical'] - 1/6) < 1e-9 and s['control']['max_identical_rate'] < 1"
jcheck "chance agreement and kappa: from the label frequencies, kappa null when chance is 1" "$WORK/same.json" \
    "all(0 <= a['chance_agreement'] <= 1 and (a['kappa'] is None) == (a['chance_agreement'] > 1 - 1e-12) for a in s['agreement'])"
"$LINEAGE" ask "$Z/indep-seed" --battery identity --max-tokens 8 --json "$WORK/alone.json" > /dev/null 2>&1
python3 - "$WORK/same.json" "$WORK/alone.json" <<'PY' && ok "the panel model's answers in the section are the ones ask --battery gives alone" || not_ok "answers differ from ask --battery"
import json, sys
s = json.load(open(sys.argv[1]))["behaviour_asked"]; alone = json.load(open(sys.argv[2]))["batteries"][0]["items"]
sys.exit(0 if [q["answers"][2]["text"] for q in s["batteries"][0]["questions"]] == [i["answer"] for i in alone] else 1)
PY
"$LINEAGE" compare "$Z/base" "$Z/base-fp32" --panel "$Z/indep-seed" "$Z/indep-other" --json "$WORK/plain.json" > /dev/null 2>&1
python3 - "$WORK/same.json" "$WORK/plain.json" <<'PY' && ok "the verdict is the same with and without the asked section" || not_ok "the asked section changed the verdict"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if a["verdict"] == b["verdict"] and "behaviour_asked" not in b else 1)
PY
grep -qF '## Behaviour \(asked\)' "$WORK/same.md" && grep -qF '**\[who-en\] Who are you?**' "$WORK/same.md" && grep -q "^| A | B | panel 1 | panel 2 |" "$WORK/same.md" &&
    ok "Markdown: the section, each question with the answers in one row" || not_ok "Markdown asked section: $(grep -n -m3 "asked\|who-en" "$WORK/same.md")"
[ "$(grep -o 'class="card"' "$WORK/same.html" | wc -l)" = 48 ] && grep -q "Identity claims: clues about training data" "$WORK/same.html" &&
    ok "HTML: 48 answer cards (12 questions x 4 models) and the clues heading" || not_ok "HTML cards: $(grep -o 'class="card"' "$WORK/same.html" | wc -l)"
"$LINEAGE" compare "$Z/base" "$Z/base-fp32" --battery identity --max-tokens 8 --panel "$Z/indep-seed" --lang ko --no-color > "$WORK/ko.txt" 2>&1
grep -q "행동 (질문 응답)" "$WORK/ko.txt" && grep -q "정체성 주장: 학습 데이터에 대한 단서" "$WORK/ko.txt" && grep -q "비교군 1" "$WORK/ko.txt" &&
    grep -q "대조군: 비교군 모델이 낀 쌍 2개" "$WORK/ko.txt" && grep -q "모델 답변의 일치율" "$WORK/ko.txt" &&
    ok "--lang ko: the section in Korean (headings, panel, control statement)" || not_ok "ko asked section: $(grep -n -m5 "asked\|Behaviour\|행동" "$WORK/ko.txt")"
sed -n '/^행동 (질문 응답)/,$p' "$WORK/ko.txt" | grep -v '^    \|^  \[\|^  - ' | python3 tests/ko_latin.py > "$WORK/ko_latin.out" &&
    ok "--lang ko: the section's own sentences have no stray English" || not_ok "Latin words in the ko section: $(head -c 200 "$WORK/ko_latin.out")"

# ---- unrelated pair without a panel: chance is the only control, and the report says so
expect_exit "compare --battery refusal without a panel" 0 "$LINEAGE" compare "$Z/base" "$Z/indep-seed" --battery refusal --max-tokens 6 --json "$WORK/unrel.json"
jcheck "unrelated pair: not all answers identical; no panel, the control says chance only" "$WORK/unrel.json" \
    "s['agreement'][0]['identical_answers'] < 12 and s['control']['control_pairs'] == 0 and 'chance only' in s['control']['note'] and s['batteries'][0]['kind'] == 'refusal'"
T=$WORK/notok
mkdir -p "$T"; for f in config.json model.safetensors; do ln -s "$(readlink -f "$Z/base/$f")" "$T/$f"; done
expect_exit "compare --battery with a side that has no tokenizer: the report stands" 0 "$LINEAGE" compare "$Z/base" "$T" --battery identity --max-tokens 4 --json "$WORK/notok.json"
jcheck "the section says not_run and why; the verdict is still the weights' (identical)" "$WORK/notok.json" \
    "s['status'] == 'not_run' and 'tokenizer' in s['reason'] and d['verdict']['label'] == 'identical'"
expect_exit "verify refuses --battery (one line, exit 2)" 2 "$LINEAGE" verify "$Z/finetune" --against "$Z/base" --battery identity
expect_exit "compare --battery with an unknown set: one-line usage error" 2 "$LINEAGE" compare "$Z/base" "$Z/finetune" --only arch --battery nosuchset

# ---- study: every model side by side, every pair against chance
expect_exit "study --battery cutoff on three zoo models" 0 "$LINEAGE" study "$Z/base" "$Z/finetune" "$Z/indep-seed" --battery cutoff \
    --max-tokens 4 --json "$WORK/study.json" --html "$WORK/study.html" --md "$WORK/study.md"
jcheck "study: 3 models, 36 cutoff questions with 3 answers, 3 pairs all compared (no panel control)" "$WORK/study.json" \
    "len(s['models']) == 3 and len(s['batteries'][0]['questions']) == 36 and all(len(q['answers']) == 3 and 'month' in q for q in s['batteries'][0]['questions']) and [a['role'] for a in s['agreement']] == ['subject'] * 3 and 'control' not in s"
[ "$(grep -o 'class="card"' "$WORK/study.html" | wc -l)" = 108 ] && grep -qF '## Behaviour \(asked\)' "$WORK/study.md" &&
    ok "study HTML: 108 cards; Markdown section" || not_ok "study reports: $(grep -o 'class="card"' "$WORK/study.html" | wc -l) cards"
"$LINEAGE" study "$Z/base" "$Z/finetune" --battery refusal --max-tokens 4 --no-color > "$WORK/study.txt" 2>&1
grep -q "Behaviour (asked)" "$WORK/study.txt" && grep -q "refusal rate (95% CI)" "$WORK/study.txt" &&
    ok "study terminal: the section with the refusal summary" || not_ok "study terminal: $(tail -5 "$WORK/study.txt")"

# ---- the reference server: an endpoint side against the native engine, and a server that claims an identity
F=$WORK/chat
chat_fixture "$F" "$Z/base" $'{{ bos_token }}{% for m in messages %}### {{ m.role | capitalize }}:\n{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}### Assistant:\n{% endif %}'
NL=$'\n'
if "$PY" -c 'import torch, numpy' 2>/dev/null; then
    "$PY" "$REF/openai_server.py" "$F" --name chatfx --lineage "$LINEAGE" --fault none --fault "say=I am ChatGPT, trained by OpenAI.$NL<script>x</script>" > "$WORK/srv.out" 2> "$WORK/srv.err" &
    srv=$!
    trap 'kill $srv 2>/dev/null' EXIT
    url() { grep "fault=$1" "$WORK/srv.out" | grep -o 'http://[0-9.:]*' | head -1; }
    if wait_listening "$WORK/srv.out" 2 $srv; then
        expect_exit "compare --endpoint-a (chat) --battery identity --no-run" 0 "$LINEAGE" compare "$F" "$F" --endpoint-a "$(url none)/v1" \
            --battery identity --max-tokens 6 --no-run --json "$WORK/ep.json"
        jcheck "A through the server, B native: same template, same greedy answers (12/12)" "$WORK/ep.json" \
            "s['models'][0]['mode'] == 'endpoint' and s['models'][1]['mode'] == 'native' and s['agreement'][0]['identical_answers'] == 12"
        expect_exit "compare with B's server claiming to be ChatGPT" 0 "$LINEAGE" compare "$F" "$Z/base" --endpoint "$(url say)/v1" \
            --battery identity --max-tokens 6 --no-run --json "$WORK/say.json" --md "$WORK/say.md" --html "$WORK/say.html"
        jcheck "the claim is a clue (B names OpenAI in 12 of 12 identity answers), not evidence" "$WORK/say.json" \
            "[(c['model'], c['organisation'], c['answers'], c['of'], c['status']) for c in s['identity_clues']] == [(1, 'OpenAI', 12, 12, 'clue')] and 'not evidence about its weights' in s['identity_clues'][0]['en'] and all(q['answers'][1]['text'] == 'I am ChatGPT, trained by OpenAI.\\n<script>x</script>' for q in s['batteries'][0]['questions'])"
        "$LINEAGE" compare "$F" "$Z/base" --no-run --json "$WORK/say-plain.json" > /dev/null 2>&1
        python3 - "$WORK/say.json" "$WORK/say-plain.json" <<'PY' && ok "the identity claim leaves the verdict as the weights give it" || not_ok "an identity claim moved the verdict"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
sys.exit(0 if a["verdict"] == b["verdict"] and a["verdict"]["label"] in ("identical", "derived") else 1)
PY
        grep -q "B names OpenAI in 12 of 12 identity answers" "$WORK/say.md" && ok "Markdown: the clue sentence" || not_ok "Markdown clue: $(grep -n -m2 OpenAI "$WORK/say.md")"
        grep -qF 'trained by OpenAI.<br>&lt;script&gt;x&lt;/script&gt;' "$WORK/say.html" && ! grep -q "<script>x" "$WORK/say.html" && ! grep -q "<script>x" "$WORK/say.md" &&
            ok "an answer's markup is escaped in the HTML card (its line break kept) and in Markdown" || not_ok "escaping: $(grep -o -m2 'class="cb">[^/]*' "$WORK/say.html")"
        "$LINEAGE" compare "$F" "$Z/base" --endpoint "$(url say)/v1" --battery identity --max-tokens 6 --no-run --journal "$WORK/journal.md" > /dev/null 2>&1
        grep -q "^Behaviour (asked) (identity/1):" "$WORK/journal.md" && grep -q "identical answers 0/12" "$WORK/journal.md" &&
            grep -q "^- B names OpenAI in 12 of 12 identity answers: a clue about its training data" "$WORK/journal.md" &&
            ok "journal: the asked agreement and the clue" || not_ok "journal asked entry: $(grep -n -A3 "asked" "$WORK/journal.md" | head -5)"
    else
        not_ok "reference server did not start: $(head -c 300 "$WORK/srv.err")"
    fi
    kill $srv 2>/dev/null
else
    not_ok "torch unavailable: $PY cannot import torch and numpy"
fi
finish
