# Reports: Markdown, HTML (rendered in headless Chromium), journal, --lang, verify, exit codes.
. tests/lib.sh
Z=$LINEAGE_SHARED/zoo
export SOURCE_DATE_EPOCH=1767225600   # 2026-01-01

"$LINEAGE" compare "$Z/base" "$Z/finetune" --md "$WORK/r.md" --html "$WORK/r.html" --json "$WORK/r.json" > "$WORK/term.txt"
check "compare writes Markdown, HTML and JSON reports" test -s "$WORK/r.md" -a -s "$WORK/r.html" -a -s "$WORK/r.json"
check "terminal report starts with the verdict" sh -c "head -1 '$WORK/term.txt' | grep -q '^Verdict: '"
check "Markdown report asks the question and gives the verdict" sh -c "grep -q 'Question:' '$WORK/r.md' && grep -q 'Verdict:' '$WORK/r.md'"
check "JSON report is lineage.report/1 with a verdict label" python3 -c "
import json,sys; d=json.load(open('$WORK/r.json'))
assert d['schema']=='lineage.report/1' and d['verdict']['label'] in ('identical','derived','independent','inconclusive')
assert 0 <= d['verdict']['confidence'] <= 1"
check "HTML report is self-contained (no external resources)" sh -c "! grep -Eq '(src|href)=\"(https?:)?//' '$WORK/r.html'"

"$LINEAGE" compare "$Z/base" "$Z/finetune" --lang ko > "$WORK/ko.txt"
check "--lang ko renders the terminal report in Korean" grep -q '판정' "$WORK/ko.txt"
"$LINEAGE" compare "$Z/base" "$Z/finetune" --lang ko --md "$WORK/ko.md" > /dev/null
check "--lang ko renders the Markdown report in Korean" grep -q '질문' "$WORK/ko.md"

rm -f "$WORK/j.md"
"$LINEAGE" compare "$Z/base" "$Z/finetune" --journal "$WORK/j.md" > /dev/null
"$LINEAGE" compare "$Z/base" "$Z/indep-seed" --journal "$WORK/j.md" > /dev/null
check "journal is created with the marker at the end" bash -c "tail -1 '$WORK/j.md' | grep -q '^<!-- TUTORIAL_MARKER: '"
check "journal holds two numbered, dated entries in order" python3 -c "
t=open('$WORK/j.md').read(); a=t.index('### Q1: Was model'); b=t.index('### Q2: Was model'); m=t.index('<!-- TUTORIAL_MARKER:')
assert a < t.index('indep-seed') < m and a < b < m and t.count('**Question time**: 2026-01-01') == 2 and t.count('\\n---\\n') == 2"
check "journal entry carries the reproducing command" grep -q "^lineage compare $Z/base $Z/finetune\$" "$WORK/j.md"
printf '# My notes\n\nintro\n\n<!-- lineage:journal -->\n\ntrailer\n' > "$WORK/j2.md"
"$LINEAGE" compare "$Z/base" "$Z/finetune" --journal "$WORK/j2.md" > /dev/null
check "journal entry goes just above an existing (older) marker, text around it kept" python3 -c "
t=open('$WORK/j2.md').read(); assert t.startswith('# My notes') and t.index('Was model') < t.index('<!-- lineage:journal -->') < t.index('trailer')"

"$LINEAGE" verify "$Z/finetune" --against "$Z/indep-seed" "$Z/base" --json "$WORK/v.json" > "$WORK/v.txt"
check "verify ranks every candidate" python3 -c "
import json; d=json.load(open('$WORK/v.json')); assert d['schema']=='lineage.verify/1' and len(d['candidates'])==2
assert [c['rank'] for c in d['candidates']]==[1,2] and 'margin' in d"

expect_exit "compare with one model is a usage error" 2 "$LINEAGE" compare "$Z/base"
expect_exit "unknown option is a usage error" 2 "$LINEAGE" compare "$Z/base" "$Z/finetune" --bogus
expect_exit "--sample out of range is a usage error" 2 "$LINEAGE" compare "$Z/base" "$Z/finetune" --sample 2
expect_exit "verify without --against is a usage error" 2 "$LINEAGE" verify "$Z/base"
expect_exit "missing model is an I/O error" 3 "$LINEAGE" inspect "$WORK/does-not-exist"
expect_exit "unwritable report path is an I/O error" 3 "$LINEAGE" compare "$Z/base" "$Z/finetune" --json /nonexistent-dir/x.json

# Headless Chromium renders the page: the verdict and the charts must be in the rendered DOM.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    not_ok "headless chromium is installed (scripts/deps.sh installs the chromium package)"
else
    "$LINEAGE" compare "$Z/base" "$Z/finetune" --html "$WORK/c.html" > /dev/null
    flags="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir=$WORK/chrome"
    timeout 120 "$CHROME" $flags --dump-dom "file://$(realpath "$WORK/c.html")" > "$WORK/dom.html" 2>/dev/null
    check "Chromium renders the HTML report with the verdict" grep -q 'Verdict:' "$WORK/dom.html"
    check "Chromium renders the layer-by-layer heatmap" grep -q 'data-chart="heatmap"' "$WORK/dom.html"
    check "Chromium renders the per-layer profile" grep -q 'data-chart="profile"' "$WORK/dom.html"
    check "Chromium renders the layer map" grep -q 'data-chart="layer-map"' "$WORK/dom.html"
    check "Chromium renders the tokenizer overlap chart" grep -q 'data-chart="bars"' "$WORK/dom.html"
    check "Chromium renders the behaviour agreement chart" grep -q 'data-chart="behaviour-agreement"' "$WORK/dom.html"
    check "Chromium renders the CKA heatmap and the PCA scatter" sh -c "grep -q 'hidden-state linear CKA' '$WORK/dom.html' && grep -q 'data-chart=\"pca\"' '$WORK/dom.html'"
    timeout 120 "$CHROME" $flags --window-size=1200,2000 --screenshot="$WORK/c.png" "file://$(realpath "$WORK/c.html")" >/dev/null 2>&1
    check "Chromium takes a screenshot of the report" test -s "$WORK/c.png"
fi
finish
