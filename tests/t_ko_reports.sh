#!/bin/bash
# Every report kind rendered with --lang ko (terminal, Markdown, HTML, journal) has no stray English:
# tests/ko_latin.py fails on a Latin-letter word that is not a file/model name, number, unit or code
# identifier (docs/ko/GLOSSARY.md). Also: Markdown and HTML are prose and tables, not JSON dumps.
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
C=$LINEAGE_SHARED/data/configs
export SOURCE_DATE_EPOCH=1767225600
NAMES="base finetune upscaled vocab-extended indep-seed upcycled pruned llama LlamaForCausalLM MixtralForCausalLM mixtral"
NAMES="$NAMES solar_open SolarOpenForCausalLM glm4_moe Glm4MoeForCausalLM hf-llama hf-mixtral"   # naming schemes are code names
CONTENT=""   # --content FILE.json: a battery's questions and answers are the run's data

# ko_check NAME FILE [KIND]: KIND html takes the visible text of an HTML page
ko_check() {
    local name=$1 f=$2 kind=${3:-text} out
    if [ ! -s "$f" ]; then not_ok "$name: nothing written ($f)"; return; fi
    if [ "$kind" = html ]; then
        out=$(python3 tests/ko_html_text.py < "$f" | python3 tests/ko_latin.py $CONTENT $NAMES)
    else
        out=$(python3 tests/ko_latin.py $CONTENT $NAMES < "$f")
    fi
    [ $? = 0 ] && ok "$name: no stray English" || not_ok "$name: $out"
    # the glossary's one term per concept (docs/ko/GLOSSARY.md, third column: words not to use)
    if [ "$kind" = html ]; then out=$(python3 tests/ko_html_text.py < "$f" | python3 tests/ko_glossary.py)
    else out=$(python3 tests/ko_glossary.py < "$f"); fi
    [ $? = 0 ] && ok "$name: glossary terms followed" || not_ok "$name: $out"
}
# render NAME ARGS...: terminal, Markdown and HTML of one command in Korean, each checked
render() {
    local name=$1; shift
    "$LINEAGE" "$@" --lang ko --no-color --md "$WORK/$name.md" --html "$WORK/$name.html" > "$WORK/$name.txt" 2> "$WORK/$name.err"
    ko_check "$name (terminal)" "$WORK/$name.txt"
    ko_check "$name (Markdown)" "$WORK/$name.md"
    ko_check "$name (HTML)" "$WORK/$name.html" html
    # tables are native: Markdown pipe tables and HTML <table>, never the terminal layout in a code block
    if grep -q '^```' "$WORK/$name.md" || grep -q '<pre>' "$WORK/$name.html"; then
        not_ok "$name: a preformatted block in Markdown or HTML"
    else ok "$name: no preformatted block in Markdown or HTML"; fi
    if [ "${TABLES:-1}" = 1 ]; then
        grep -Eq '^\|(---\|)+$' "$WORK/$name.md" && grep -q '<table' "$WORK/$name.html" &&
            ok "$name: Markdown pipe table and HTML table" || not_ok "$name: no Markdown pipe table or no HTML table"
    fi
    # a JSON dump shows snake_case keys as list labels ("- checkpoint\_bytes: 1210008")
    if grep -Eq '^ *- [a-z]+(\\_[a-z]+)+: ' "$WORK/$name.md"; then
        not_ok "$name (Markdown): a JSON dump: $(grep -Em2 '^ *- [a-z]+(\\_[a-z]+)+: ' "$WORK/$name.md" | tr '\n' ' ')"
    else ok "$name (Markdown): prose and tables, no snake_case keys as labels"; fi
}

render inspect inspect "$Z/base"
render inspect-moe inspect "$Z/upcycled"
render inspect-config inspect "$C/upstage__Solar-Open-100B" --tokens 19.7T
render compare compare "$Z/base" "$Z/finetune"
render compare-arch compare "$Z/base" "$Z/upscaled" --only arch
render compare-arch-moe compare "$C/mistralai__Mixtral-8x7B-v0.1" "$C/upstage__Solar-Open-100B" --only arch
render compare-arch-pruned compare "$Z/base" "$Z/pruned" --only arch
render compare-tokenizer compare "$Z/base" "$Z/vocab-extended" --only tokenizer
render compare-weights compare "$Z/base" "$Z/upscaled" --only weights
render compare-behaviour compare "$Z/base" "$Z/finetune" --only behaviour
render compare-activations compare "$Z/base" "$Z/finetune" --only activations
render compare-indep compare "$Z/base" "$Z/indep-seed" --no-run
render verify verify "$Z/finetune" --against "$Z/base" "$Z/indep-seed" --no-run
render study study "$Z/base" "$Z/finetune" "$Z/indep-seed" --no-run
"$LINEAGE" ask "$Z/base" --battery all --max-tokens 4 --json "$WORK/battery.json" > /dev/null 2>&1
CONTENT="--content $WORK/battery.json" render battery ask "$Z/base" --battery all --max-tokens 4
"$LINEAGE" index add "$Z/base" "$Z/indep-seed" --index "$WORK/idx.db" > /dev/null 2>&1
render search search "$Z/finetune" --index "$WORK/idx.db" --top 2
render index index list --index "$WORK/idx.db"
"$LINEAGE" tokenize "$Z/base" "안녕하세요 world" --json "$WORK/tok.json" > /dev/null 2>&1   # the text and its pieces are data
CONTENT="--content $WORK/tok.json" render tokenize tokenize "$Z/base" "안녕하세요 world"
"$LINEAGE" run "$Z/base" "Hello" --tokens 3 --json "$WORK/run.json" > /dev/null 2>&1
CONTENT="--content $WORK/run.json" render run run "$Z/base" "Hello" --tokens 3
render compare-upscaled compare "$Z/base" "$Z/upscaled" --no-run
render compare-vocab compare "$Z/base" "$Z/vocab-extended" --no-run
render compare-pruned compare "$Z/base" "$Z/pruned" --no-run
render inspect-scout inspect "$C/meta-llama__Llama-4-Scout-17B-16E-Instruct" --tokens 40T
render study-configs study "$C/upstage__Solar-Open-100B" "$C/zai-org__GLM-4.5" "$C/mistralai__Mixtral-8x7B-v0.1" "$C/Qwen__Qwen3-30B-A3B"

# the direction is said once under the verdict, not again among the reasons
n=$(grep -c '방향' "$WORK/compare-upscaled.txt")
[ "$n" = 1 ] && ok "compare (terminal): the direction is stated once" || not_ok "compare (terminal): the direction appears $n times"
# a metadata clue reads as a sentence, with no particle glued to the claimed name
grep -q "모델 B의 메타데이터에 적힌 베이스 모델: 'base'" "$WORK/compare-pruned.txt" &&
    ok "compare (terminal): the metadata clue is worded without a particle after the name" ||
    not_ok "compare (terminal): metadata clue: $(grep -m1 메타데이터 "$WORK/compare-pruned.txt")"

# no string cut mid-word: the activations control and the architecture summary are written whole
# an architecture value longer than any fixed buffer is written whole in terminal, Markdown and HTML
LONG=custom_model_type_with_a_deliberately_long_name_that_runs_past_sixty_four_bytes_$(printf 'x%.0s' $(seq 40))
mkdir -p "$WORK/long/a" "$WORK/long/b"
python3 - "$LONG" "$Z/base/config.json" "$WORK/long" <<'PY'
import json, sys
c = json.load(open(sys.argv[2]))
for side in "ab":
    c["model_type"] = sys.argv[1] + "_" + side
    json.dump(c, open(f"{sys.argv[3]}/{side}/config.json", "w"))
PY
"$LINEAGE" compare "$WORK/long/a" "$WORK/long/b" --only arch --md "$WORK/long.md" --html "$WORK/long.html" > "$WORK/long.txt" 2>&1
check "a 130-byte architecture value is not cut (terminal, Markdown, HTML)" bash -c \
    "grep -q '${LONG}_b' '$WORK/long.txt' && tr -d '\\\\' < '$WORK/long.md' | grep -q '${LONG}_b' && grep -q '${LONG}_b' '$WORK/long.html'"
"$LINEAGE" compare "$Z/base" "$Z/finetune" --only activations --md "$WORK/en.md" --html "$WORK/en.html" > /dev/null 2>&1
check "Markdown and HTML: controls written whole (not cut at a buffer's end)" bash -c \
    "grep -q 'p from that null, Fisher over layers |' '$WORK/en.md' && grep -q 'p from that null, Fisher over layers</td>' '$WORK/en.html'"
"$LINEAGE" inspect "$C/upstage__Solar-Open-100B" --md "$WORK/solar.md" > /dev/null 2>&1
"$LINEAGE" inspect "$C/upstage__Solar-Open-100B" > "$WORK/solar.txt" 2>&1
check "inspect Markdown holds every cell of the terminal report (nothing summarised away or cut)" python3 - "$WORK/solar.txt" "$WORK/solar.md" <<'PY'
import re, sys
# the terminal's aligned columns are separated by two or more spaces; each cell is in the Markdown whole
term = [c for l in open(sys.argv[1]) for c in re.split(r"\s{2,}", l.strip()) if c]
md = open(sys.argv[2]).read().replace("\\", "")
missing = [c for c in term if c not in md]
assert not missing, missing[:3]
PY

# the journal, Korean: entries of inspect, compare, tokenize, study
J=$WORK/journal.md
printf '# 검증 일지\n\n<!-- TUTORIAL_MARKER: new entries above -->\n' > "$J"
"$LINEAGE" inspect "$Z/base" --lang ko --journal "$J" > /dev/null 2>&1
"$LINEAGE" compare "$Z/base" "$Z/finetune" --lang ko --journal "$J" > /dev/null 2>&1
"$LINEAGE" tokenize "$Z/base" "안녕하세요 world" --lang ko --journal "$J" > /dev/null 2>&1
"$LINEAGE" study "$Z/base" "$Z/finetune" "$Z/indep-seed" --no-run --lang ko --journal "$J" > /dev/null 2>&1
"$LINEAGE" run "$Z/base" "Hello" --tokens 2 --lang ko --journal "$J" > /dev/null 2>&1
"$LINEAGE" verify "$Z/finetune" --against "$Z/base" "$Z/indep-seed" --no-run --lang ko --journal "$J" > /dev/null 2>&1
"$LINEAGE" search "$Z/finetune" --index "$WORK/idx.db" --top 2 --lang ko --journal "$J" > /dev/null 2>&1
check "journal: a run entry with its next-token table (no placeholder verdict)" bash -c \
    "grep -q '다음 토큰 예측은' '$J' && ! grep -q '판단 불가 0.00' '$J'"
grep -v '^lineage \|^<!--\|^```' "$J" > "$WORK/journal.body"   # the reproduce command is code
ko_check "journal (inspect, compare, tokenize, study, run, verify, search)" "$WORK/journal.body"
finish
