/* lineage.ask/1 -> terminal text and document sinks (Markdown, HTML): one answer with its template and
 * stop reason, or batteries of answers with their classification and summaries. Answers are untrusted
 * model output: control characters are shown escaped on the terminal; the sinks escape the rest. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/msg.h"
#include "report/report.h"
#include "report/text_util.h"
#include "util/sanitize.h"

/* Untrusted text through the terminal sanitizer (lines kept); at most max bytes, cut on a character. */
static void put_clean(strbuf *sb, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0, k = n < max ? n : max;
    while (k < n && k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80) k--;
    if (k) sanitize_terminal(sb, s, k, SANITIZE_KEEP_LINES);
    if (n > k) sb_puts(sb, "...");
}

static const char *str_or(const json_value *o, const char *k, const char *dflt)
{
    const char *s = json_get_string(o, k);
    return s ? s : dflt;
}

static void item_tags(strbuf *sb, const json_value *it, const render_ctx *ctx)
{
    const json_value *claims = json_get(it, "claims");
    for (size_t k = 0; k < json_count(claims); k++)
        sb_printf(sb, "  [%s: %s]", tr(ctx, "names", "언급"), str_or(json_at(claims, k), "organisation", "?"));
    if (json_get_string(it, "refusal_marker")) sb_printf(sb, "  [%s]", tr(ctx, "refusal", "거절"));
    const json_value *c = json_get(it, "correct");
    if (c && c->type == JSON_BOOL) sb_printf(sb, "  [%s %s]", str_or(it, "month", "?"), c->u.boolean ? tr(ctx, "correct", "정답") : tr(ctx, "not correct", "오답"));
}

static void summary_text(strbuf *sb, const json_value *b, const render_ctx *ctx)
{
    const json_value *s = json_get(b, "summary");
    const char *kind = str_or(b, "kind", "");
    int64_t n = 0, k = 0;
    json_get_int(s, "answers", &n);
    if (!strcmp(kind, "identity")) {
        json_get_int(s, "answers_naming_an_organisation", &k);
        sb_printf(sb, "  %s: %lld/%lld\n", tr(ctx, "answers naming an organisation or model", "조직·모델을 언급한 답변"), (long long)k, (long long)n);
        const json_value *orgs = json_get(s, "organisations");
        for (size_t i = 0; i < json_count(orgs); i++) {
            int64_t c = 0;
            json_get_int(json_at(orgs, i), "answers", &c);
            sb_printf(sb, "    %s: %lld\n", str_or(json_at(orgs, i), "organisation", "?"), (long long)c);
        }
        sb_printf(sb, "  %s\n", tr(ctx, "Identity claims are clues about training data (a model may be trained on another's outputs), not evidence about weights.",
                                   "정체성 주장은 학습 데이터에 대한 단서일 뿐(다른 모델의 출력으로 학습했을 수 있음) 가중치에 대한 근거가 아닙니다."));
    } else if (!strcmp(kind, "refusal")) {
        double r = 0;
        json_get_int(s, "refused", &k);
        json_get_double(s, "refusal_rate", &r);
        const json_value *ci = json_get(s, "refusal_rate_ci95");
        double lo = ci && json_at(ci, 0) ? json_at(ci, 0)->u.number.d : 0, hi = ci && json_at(ci, 1) ? json_at(ci, 1)->u.number.d : 1;
        sb_printf(sb, "  %s: %lld/%lld = %.0f%% (95%% CI %.0f%%-%.0f%%)\n", tr(ctx, "refusal rate", "거절률"), (long long)k, (long long)n,
                  100 * r, 100 * lo, 100 * hi);
        const json_value *ph = json_get(s, "phrasings");
        for (size_t i = 0; i < json_count(ph); i++) {
            int64_t c = 0;
            json_get_int(json_at(ph, i), "answers", &c);
            sb_puts(sb, "    \"");
            put_clean(sb, str_or(json_at(ph, i), "marker", "?"), 80);
            sb_printf(sb, "\": %lld\n", (long long)c);
        }
    } else if (!strcmp(kind, "cutoff")) {
        const char *last = json_get_string(s, "last_month_answered_correctly");
        sb_printf(sb, "  %s: %s\n", tr(ctx, "last month answered correctly", "정답을 맞힌 마지막 달"),
                  last ? last : tr(ctx, "none", "없음"));
        const json_value *months = json_get(s, "months");
        for (size_t i = 0; i < json_count(months); i++) {
            int64_t a = 0, c = 0;
            json_get_int(json_at(months, i), "asked", &a);
            json_get_int(json_at(months, i), "correct", &c);
            sb_printf(sb, "    %s  %lld/%lld\n", str_or(json_at(months, i), "month", "?"), (long long)c, (long long)a);
        }
    }
}

void render_ask_text(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    sb_printf(sb, "%s%s%s  %s(%s)%s\n", c_bold(ctx), str_or(root, "model", "?"), c_off(ctx), c_dim(ctx), msg_code("mode", str_or(root, "mode", "?"), ctx), c_off(ctx));
    const json_value *bats = json_get(root, "batteries");
    if (!bats) {
        const json_value *tpl = json_get(root, "template"), *ans = json_get(root, "answer");
        if (tpl) {
            const json_value *used = json_get(tpl, "used");
            sb_printf(sb, "%s: %s\n", tr(ctx, "template", "템플릿"),
                      used && used->u.boolean ? str_or(tpl, "source", "?") : tr(ctx, "none (raw prompt)", "없음 (원문 프롬프트)"));
        }
        sb_printf(sb, "%s%s%s\n    ", c_bold(ctx), tr(ctx, "Question", "질문"), c_off(ctx));
        put_clean(sb, json_get_string(root, "question"), 4000);
        sb_printf(sb, "\n%s%s%s\n    ", c_bold(ctx), tr(ctx, "Answer", "답변"), c_off(ctx));
        put_clean(sb, json_get_string(ans, "text"), 100000);
        int64_t n = 0;
        json_get_int(ans, "tokens", &n);
        sb_printf(sb, "\n%s(%lld %s, %s: %s)%s\n", c_dim(ctx), (long long)n, tr(ctx, "tokens", "토큰"), tr(ctx, "stop", "종료"),
                  str_or(ans, "stop", "?"), c_off(ctx));
        return;
    }
    for (size_t b = 0; b < json_count(bats); b++) {
        const json_value *bat = json_at(bats, b), *items = json_get(bat, "items");
        sb_printf(sb, "\n%s%s (%s)%s\n", c_bold(ctx), str_or(bat, "name", "?"), str_or(bat, "version", "?"), c_off(ctx));
        for (size_t i = 0; i < json_count(items); i++) {
            const json_value *it = json_at(items, i);
            sb_printf(sb, "  %s[%s]%s ", c_dim(ctx), str_or(it, "id", "?"), c_off(ctx));
            put_clean(sb, json_get_string(it, "question"), 300);
            sb_puts(sb, "\n    -> ");
            put_clean(sb, json_get_string(it, "answer"), 400);
            item_tags(sb, it, ctx);
            sb_putc(sb, '\n');
        }
        summary_text(sb, bat, ctx);
    }
}

/* Markdown/HTML: the same content through the document sink (which escapes). */
void render_ask_doc(doc_sink *s, const json_value *root)
{
    const render_ctx *ctx = s->ctx;
    const json_value *bats = json_get(root, "batteries");
    if (!bats) {
        const json_value *tpl = json_get(root, "template"), *ans = json_get(root, "answer"), *used = json_get(tpl, "used");
        if (tpl) s->para(s, tr(ctx, "Template:", "템플릿:"), used && used->u.boolean ? str_or(tpl, "source", "?") : tr(ctx, "none (raw prompt)", "없음 (원문 프롬프트)"));
        s->para(s, tr(ctx, "Question:", "질문:"), str_or(root, "question", ""));
        s->para(s, tr(ctx, "Answer:", "답변:"), str_or(ans, "text", ""));
        s->para(s, tr(ctx, "Stop:", "종료:"), str_or(ans, "stop", "?"));
        return;
    }
    for (size_t b = 0; b < json_count(bats); b++) {
        const json_value *bat = json_at(bats, b), *items = json_get(bat, "items");
        char title[2048];
        snprintf(title, sizeof title, "%s (%s)", str_or(bat, "name", "?"), str_or(bat, "version", "?"));
        s->heading(s, 2, title);
        const char *cols[] = {tr(ctx, "id", "ID"), tr(ctx, "question", "질문"), tr(ctx, "answer", "답변"), tr(ctx, "classification", "분류")};
        s->table_begin(s, cols, 4);
        for (size_t i = 0; i < json_count(items); i++) {
            const json_value *it = json_at(items, i);
            strbuf tags;
            sb_init(&tags);
            item_tags(&tags, it, ctx);
            const char *cells[] = {str_or(it, "id", "?"), str_or(it, "question", ""), str_or(it, "answer", ""), tags.data ? tags.data : ""};
            s->table_row(s, cells, 4);
            sb_free(&tags);
        }
        s->table_end(s);
        strbuf sum;
        sb_init(&sum);
        render_ctx plain = *ctx;
        plain.color = 0;
        summary_text(&sum, bat, &plain);
        s->para(s, tr(ctx, "Summary", "요약"), "");
        for (char *line = sum.data; line && *line;) {   /* one item per summary line */
            char *nl = strchr(line, '\n');
            if (nl) *nl = 0;
            while (*line == ' ') line++;
            if (*line) s->item(s, 0, NULL, line);
            line = nl ? nl + 1 : NULL;
        }
        s->list_end(s);
        sb_free(&sum);
    }
}

/* Journal: the question and the answer, or each battery's summary (the entry's heading names the model). */
void journal_ask_entry(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const json_value *bats = json_get(root, "batteries");
    if (!bats) {
        sb_printf(sb, "**%s**: ", tr(ctx, "Question asked", "물은 질문"));
        sanitize_markdown(sb, str_or(root, "question", ""));
        sb_printf(sb, "\n\n**%s**: ", tr(ctx, "Answer", "답변"));
        const json_value *ans = json_get(root, "answer");
        strbuf a;
        sb_init(&a);
        put_clean(&a, json_get_string(ans, "text"), 100000);
        sanitize_markdown(sb, a.data ? a.data : "");
        sb_free(&a);
        sb_printf(sb, " (%s: %s)\n", tr(ctx, "stop", "종료"), str_or(ans, "stop", "?"));
        return;
    }
    sb_printf(sb, "**%s**: %s\n\n", tr(ctx, "Answer", "답변"),
              tr(ctx, "the question batteries, summarised per battery:", "질문 묶음별 요약:"));
    render_ctx plain = *ctx;
    plain.color = 0;
    for (size_t b = 0; b < json_count(bats); b++) {
        const json_value *bat = json_at(bats, b);
        strbuf sum;
        sb_init(&sum);
        summary_text(&sum, bat, &plain);
        sb_puts(sb, "- ");
        sanitize_markdown(sb, str_or(bat, "version", "?"));
        sb_puts(sb, ": ");
        /* the summary's lines joined on one list item */
        for (char *line = sum.data; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = 0;
            while (*line == ' ') line++;
            if (*line) { sanitize_markdown(sb, line); sb_puts(sb, nl && nl[1] ? "; " : ""); }
            line = nl ? nl + 1 : NULL;
        }
        sb_puts(sb, "\n");
        sb_free(&sum);
    }
}
