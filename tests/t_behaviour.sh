#!/bin/bash
# Behaviour section end to end. Native (when the inference engine is built): the zoo's fine-tune is closer
# to base than to the unrelated panel models, a bit-identical re-save agrees on every probe, verify names
# base as the candidate the outputs are closest to. Endpoint: tests/ref/openai_server.py on loopback (torch
# reference forward, real inference) serves both sides; every fault mode ends in one line and its exit code.
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
PY=${PYTHON_TORCH:-/usr/bin/python3}
json() { # json FILE EXPR: prints EXPR over the parsed document d
    "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# ---- endpoint, against the reference server (real inference on loopback)
SERVER=tests/ref/openai_server.py
SERVER_OK=0; [ -f "$SERVER" ] && SERVER_OK=1
FAULTS="none none 500 malformed no-logprobs drop 429-once slow=3"
start_server() { # start_server MODEL OUT FAULT...
    local model=$1 out=$2; shift 2
    local args=""; for f in "$@"; do args="$args --fault $f"; done
    # shellcheck disable=SC2086
    "$PY" "$SERVER" "$model" --lineage "$LINEAGE" $args > "$out" 2> "$out.err" &
    echo $!
}
if [ $SERVER_OK = 1 ]; then   # started first: torch's start-up overlaps the native tests
    s1=$(start_server "$Z/base" "$WORK/s1.out" $FAULTS)
    s2=$(start_server "$Z/finetune" "$WORK/s2.out" none)
    trap 'kill $s1 $s2 2>/dev/null' EXIT
fi

# ---- probe files through the CLI
printf 'The licence\nfor i in range(\n1, 2, 3, 4,\nNAME\\n       ls - list\n' > "$WORK/probes.txt"
printf 'fine\nbad \\q escape\n' > "$WORK/bad_probes.txt"
expect_exit "a probe file with a bad escape is one FORMAT line (exit 2)" 2 \
    "$LINEAGE" compare "$Z/base" "$Z/finetune" --only behaviour --probes "$WORK/bad_probes.txt"
grep -q "bad_probes.txt:2" "$WORK/err" && ok "the error names the file and line" || not_ok "error: $(cat "$WORK/err")"
expect_exit "a missing probe file is one IO line (exit 3)" 3 \
    "$LINEAGE" compare "$Z/base" "$Z/finetune" --only behaviour --probes "$WORK/none.txt"

# ---- native (the built-in set once; the other runs on 24 of its probes, four per category, for speed)
cat > "$WORK/p24.txt" <<'EOF'
The capital of France is
This program is free software; you can redistribute it and/or
NAME\n       ls - list directory
If you have any questions, please
대한민국의 수도는
오늘 날씨가 정말
파일을 열 수 없습니다. 경로를
이 함수는 성공하면 0을
中国的首都是
今天天气很
文件不存在，请检查
该函数成功时返回
日本の首都は
こんにちは、私の名前は
ファイルが見つかりません。パスを
この関数は成功すると
def main(argc, argv):\n    return
#include <stdio.h>\nint main(void) {\n    printf(
for i in range(
import os\nimport sys\n\ndef
1, 2, 3, 4, 5,
1, 1, 2, 3, 5, 8, 13,
2 + 2 =
192.168.1.
EOF
"$LINEAGE" compare "$Z/base" "$Z/finetune" --only behaviour --panel "$Z/indep-seed" "$Z/indep-other" \
    --json "$WORK/ft.json" > "$WORK/ft.txt" 2> "$WORK/ft.err"
status=$(json "$WORK/ft.json" 'd["behaviour"]["status"]')
if [ "$status" = not_run ] && json "$WORK/ft.json" 'd["behaviour"]["reason"]' | grep -qi "engine\|unsupported"; then
    ok "native engine not built: native behaviour runs report not_run ($(json "$WORK/ft.json" 'd["behaviour"]["reason"]'))"
else
    [ "$status" = ok ] && ok "base vs finetune: behaviour ran natively" || not_ok "status '$status': $(head -c 300 "$WORK/ft.err")"
    r=$(json "$WORK/ft.json" '[d["behaviour"]["findings"][0]["direction"], all(p["closer"] for p in d["behaviour"]["panel"]),
        len(d["behaviour"]["panel"]), d["behaviour"]["margin"] > 0.05,
        all(p["jsd"] > d["behaviour"]["statistics"]["jsd"]["value"] for p in d["behaviour"]["panel"]),
        max(p["p_holm"] for p in d["behaviour"]["panel"]) < 1e-3]')
    [ "$r" = "['derived', True, 2, True, True, True]" ] &&
        ok "finetune is closer to base than to indep-seed and indep-other (Holm p < 1e-3, margin > 0.05 bits)" ||
        not_ok "panel test: $r"
    r=$(json "$WORK/ft.json" '[len(d["behaviour"]["by_category"]), sorted(c["category"] for c in d["behaviour"]["by_category"]),
        d["behaviour"]["probes"]["count"] >= 250, d["behaviour"]["a"]["source"]]')
    [ "$r" = "[6, ['code', 'en', 'ja', 'ko', 'numbers', 'zh'], True, 'native']" ] &&
        ok "six probe categories over the built-in set" || not_ok "categories: $r"
    # the same weights stored as F32: every next token agrees
    "$LINEAGE" compare "$Z/base" "$Z/base-fp32" --only behaviour --probes "$WORK/p24.txt" --json "$WORK/same.json" > /dev/null 2>&1
    r=$(json "$WORK/same.json" '[d["behaviour"]["statistics"]["top1_agreement"]["value"] >= 0.99,
        d["behaviour"]["statistics"]["jsd"]["value"] < 1e-3, d["behaviour"]["findings"][0]["direction"]]')
    [ "$r" = "[True, True, 'neutral']" ] && ok "base vs base-fp32: same outputs; without a panel the finding is neutral" ||
        not_ok "base vs base-fp32: $r"
    # verify: the other candidates are each candidate's panel
    "$LINEAGE" verify "$Z/finetune" --against "$Z/indep-seed" "$Z/base" "$Z/indep-other" --probes "$WORK/p24.txt" \
        --json "$WORK/v.json" \
        > /dev/null 2> "$WORK/v.err"
    r=$(json "$WORK/v.json" '[d["behaviour_closest"].split("/")[-1], d["candidates"][0]["reference"].split("/")[-1],
        [c["behaviour"]["closer_than_all_others"] for c in d["candidates"]]]')
    [ "$r" = "['base', 'base', [True, False, False]]" ] &&
        ok "verify finetune: outputs significantly closest to base, ranked first" || not_ok "verify: $r $(head -c 200 "$WORK/v.err")"
    # renderers
    "$LINEAGE" compare "$Z/base" "$Z/finetune" --only behaviour --panel "$Z/indep-seed" --lang ko --probes "$WORK/p24.txt" \
        --html "$WORK/r.html" --journal "$WORK/journal.md" > "$WORK/ko.txt" 2>&1
    grep -q "출력 행동" "$WORK/ko.txt" && grep -q "top-1 일치율" "$WORK/ko.txt" && grep -q "비교군" "$WORK/ko.txt" &&
        ok "Korean text report of the behaviour section" || not_ok "Korean text: $(head -c 300 "$WORK/ko.txt")"
    grep -q 'data-chart="behaviour-agreement"' "$WORK/r.html" && ok "HTML report has the behaviour agreement chart" ||
        not_ok "no behaviour chart in the HTML report"
    grep -q "출력 분포" "$WORK/journal.md" && ok "the journal entry carries the behaviour finding" ||
        not_ok "journal: $(head -c 300 "$WORK/journal.md")"
fi

# ---- endpoint
if [ $SERVER_OK = 0 ]; then
    ok "endpoint tests need $SERVER (the reference server): not in this tree yet"
    finish
fi
for _ in $(seq 240); do
    [ "$(grep -c listening "$WORK/s1.out")" = 8 ] && [ "$(grep -c listening "$WORK/s2.out")" = 1 ] && break
    sleep 0.25
done
if [ "$(grep -c listening "$WORK/s1.out")" != 8 ] || [ "$(grep -c listening "$WORK/s2.out")" != 1 ]; then
    not_ok "servers did not start (torch in $PY?): $(head -c 300 "$WORK/s1.out.err")"
    finish
fi
port_of() { awk -v f="fault=$2" '$NF==f {print $(NF-1)}' "$1" | sed -n "${3:-1}p"; }
A=$(port_of "$WORK/s1.out" none 1)/v1
A2=$(port_of "$WORK/s1.out" none 2)/v1
B=$(port_of "$WORK/s2.out" none 1)/v1
EP() { "$LINEAGE" compare "$Z/base" "$Z/finetune" --only behaviour --probes "$WORK/probes.txt" "$@"; }

EP --endpoint-a "$A" --endpoint "$A2#zoo-base" --json "$WORK/e_same.json" > /dev/null 2> "$WORK/e_same.err"
r=$(json "$WORK/e_same.json" '[d["behaviour"]["status"], d["behaviour"]["a"]["source"], d["behaviour"]["b"]["served_model"],
    d["behaviour"]["a"]["served_model"], d["behaviour"]["statistics"]["top1_agreement"]["value"],
    d["behaviour"]["statistics"]["jsd"]["value"] < 1e-6]')
[ "$r" = "['ok', 'endpoint', 'zoo-base', 'base', 1, True]" ] &&
    ok "the same served model on two ports agrees on every probe (model name from #suffix and from /v1/models)" ||
    not_ok "same model twice: $r $(head -c 300 "$WORK/e_same.err")"
EP --endpoint-a "$A" --endpoint "$B" --json "$WORK/e_ft.json" > /dev/null 2> "$WORK/e_ft.err"
r=$(json "$WORK/e_ft.json" '[d["behaviour"]["status"], d["behaviour"]["statistics"]["jsd"]["value"] > 0.02,
    d["behaviour"]["b"]["tokens_per_probe"] > 1, d["behaviour"]["probes"]["count"]]')
[ "$r" = "['ok', True, True, 4]" ] && ok "base and finetune served: their outputs differ (JSD > 0.02 bits)" ||
    not_ok "base vs finetune served: $r $(head -c 300 "$WORK/e_ft.err")"

printf 'The licence\n' > "$WORK/p1.txt"   # one probe: A answers once, then B's fault shows
EP1() { "$LINEAGE" compare "$Z/base" "$Z/finetune" --only behaviour --probes "$WORK/p1.txt" "$@"; }
for fault in 500:3 malformed:2 no-logprobs:2 drop:3 slow=3:3; do
    f=${fault%:*} code=${fault##*:}
    U=$(port_of "$WORK/s1.out" "$f")/v1
    LINEAGE_ENDPOINT_TIMEOUT=1 expect_exit "fault $f: one line, exit $code" "$code" EP1 --endpoint-a "$A" --endpoint "$U"
    grep -q "${U%/v1}" "$WORK/err" && ok "fault $f: the error names the URL" || not_ok "fault $f: $(cat "$WORK/err")"
done
expect_exit "429 once: retried after Retry-After, then answered" 0 \
    EP1 --endpoint-a "$A" --endpoint "$(port_of "$WORK/s1.out" 429-once)/v1"
expect_exit "a closed port: one IO line (exit 3)" 3 EP1 --endpoint-a "$A" --endpoint "http://127.0.0.1:9/v1"
expect_exit "a non-http endpoint is a usage error (exit 2)" 2 EP1 --endpoint-a "$A" --endpoint "ftp://127.0.0.1/v1"
finish
