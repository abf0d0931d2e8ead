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

# no string cut mid-word: the activations control and the architecture summary are written whole
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
grep -v '^lineage \|^<!--\|^```' "$J" > "$WORK/journal.body"   # the reproduce command is code
ko_check "journal (inspect, compare, tokenize, study)" "$WORK/journal.body"
finish
