#!/bin/bash
# The journal kept like the seed notes': "### Q{N}: ..." numbered on from the file, bold question-time
# and answer lines, tables, a horizontal rule, new entries above the TUTORIAL_MARKER comment (or
# --journal-marker), Korean when the journal is Korean, a reproduce command safe to paste.
. tests/lib.sh
C=$(realpath "${LINEAGE_SHARED:-../shared}/data/configs")
LINEAGE=$(realpath "$LINEAGE"); BUILD=$(realpath "$BUILD"); WORK=$(realpath "$WORK")
Q=$C/YuxuanBai1__Qwen2-Boundless; SO=$C/upstage__Solar-Open-100B
export SOURCE_DATE_EPOCH=1767484800   # 2026-01-04
J=$WORK/notes.md
printf '# Solar-Open-100B 검증\n\n### Q1: 첫 질문\n\n**질문 시간**: 2026-01-02\n\n**답변**: 예\n\n---\n\n### Q12: 열두 번째 질문\n\n---\n\n<!-- TUTORIAL_MARKER: 새 항목은 이 위에 추가 -->\n\n## 진행 상황\n\n| 모델 | 판정 |\n|---|---|\n' > "$J"
"$LINEAGE" inspect "$SO" --tokens 19.7T --journal "$J" > /dev/null 2>"$WORK/e1"
"$LINEAGE" tokenize "$Q" "한국어 문장입니다" --journal "$J" > /dev/null 2>"$WORK/e2"
check "journal: entries numbered on from the file (Q13, Q14), above the marker, the tail kept last" python3 - "$J" <<'PY'
import sys
t = open(sys.argv[1]).read()
a, b, m, tail = t.index("### Q13: "), t.index("### Q14: "), t.index("<!-- TUTORIAL_MARKER:"), t.index("## 진행 상황")
assert t.index("### Q12:") < a < b < m < tail, t
assert t.count("**질문 시간**: 2026-01-04") == 2 and t.count("**답변**: ") == 3
assert t[a:m].count("\n---\n") == 2
PY
check "journal: a Korean journal gets Korean entries without --lang" bash -c "grep -q '^### Q13: 모델 .*규모와 학습에 필요한 연산량은?' '$J' && grep -q '^재현 명령:' '$J'"
check "journal: the inspect entry has the parameters and compute" bash -c "grep -q '전체 파라미터는 102,651,799,552개' '$J' && grep -q 'GPU 시간 1,000,506' '$J' && grep -q '| 파라미터당 토큰 | 191.9 |' '$J'"
check "journal: tokenize writes an entry with the token table" bash -c "grep -q '^### Q14: 토크나이저 ' '$J' && grep -q '| 1 | ' '$J'"

# the reproduce command is safe to paste: ; and backquotes in an argument run nothing
cd "$WORK" || exit 1
text='x; touch PWNED1 `touch PWNED2` $(touch PWNED3) it'"'"'s'
"$LINEAGE" tokenize "$Q" "$text" --ids --journal "$WORK/s.md" > "$WORK/ids.txt" 2>&1
cmd=$(sed -n '/^```sh$/{n;p;q}' "$WORK/s.md")
rm -f PWNED1 PWNED2 PWNED3
out=$(PATH="$(dirname "$LINEAGE"):$PATH" sh -c "$cmd" 2>&1)
if [ -n "$cmd" ] && [ ! -e PWNED1 ] && [ ! -e PWNED2 ] && [ ! -e PWNED3 ] && [ "$out" = "$(cat "$WORK/ids.txt")" ]; then
    ok "journal: the reproduce command with ; \` and \$( ) pastes safely and reproduces the ids"
else not_ok "journal: unsafe or wrong reproduce command: $cmd"; fi
cd - > /dev/null

# --journal-marker; an English journal stays English; the marker is added at the end only when absent
printf '# Notes\n\n<!-- mine -->\ntail\n' > "$WORK/m.md"
"$LINEAGE" inspect "$SO" --journal "$WORK/m.md" --journal-marker '<!-- mine -->' > /dev/null 2>&1
check "journal: --journal-marker puts the entry above that marker, no default marker added" python3 -c "
t=open('$WORK/m.md').read(); assert t.index('### Q1: How large is model') < t.index('<!-- mine -->') < t.index('tail') and 'TUTORIAL_MARKER' not in t, t"
printf '# Notes\n\nsome text\n' > "$WORK/n.md"
"$LINEAGE" inspect "$SO" --journal "$WORK/n.md" > /dev/null 2>&1
"$LINEAGE" inspect "$SO" --journal "$WORK/n.md" > /dev/null 2>&1
check "journal without a marker: the marker is created at the end once, entries above it" python3 -c "
t=open('$WORK/n.md').read(); assert t.count('<!-- TUTORIAL_MARKER:') == 1 and t.rstrip().endswith('-->') and t.index('### Q2:') < t.index('<!-- TUTORIAL_MARKER:'), t"

# study entries
F=$WORK/cases
"$BUILD/mklineage" "$F" 17 >/dev/null 2>&1 || { not_ok "mklineage writes the cases"; finish; }
"$LINEAGE" study "$F/base" "$F/finetune" "$F/independent" --no-run --lang ko --journal "$WORK/st.md" > /dev/null 2>&1
check "journal: study writes a Korean entry with the pair table" bash -c "grep -q '^### Q1: 모델 3개는 서로 어떤 관계인가?' '$WORK/st.md' && grep -q '파생 (미세조정)' '$WORK/st.md'"
finish
