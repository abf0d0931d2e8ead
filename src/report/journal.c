/* The verification journal, kept the way the seed notes keep theirs: each entry a level-3 heading
 * "### Q{N}: question" numbered on from the file, a bold question-time line, a bold answer line, the
 * evidence as prose and tables, the reproducing command, a horizontal rule. New entries go above the
 * marker comment so the file's tail (progress table, references) stays last. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/file.h"
#include "report/doc_walk.h"
#include "report/document.h"
#include "report/msg.h"
#include "report/text_util.h"
#include "util/error.h"
#include "util/sanitize.h"

#define JOURNAL_MARKER "<!-- TUTORIAL_MARKER: new entries go above this line -->"
#define JOURNAL_MARKER_PREFIX "<!-- TUTORIAL_MARKER:"
#define JOURNAL_OLD_MARKER "<!-- lineage:journal -->"
#define JOURNAL_MAX_BYTES (64u << 20)

static void today(char *buf, size_t n)
{
    /* SOURCE_DATE_EPOCH makes entries reproducible in tests */
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    time_t t = sde && *sde ? (time_t)strtoll(sde, NULL, 10) : time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
}

/* verify: the candidate the outputs point to (compare entries list the behaviour finding in run_sections). */
static void behaviour_closest_entry(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const json_value *closest = json_get(root, "behaviour_closest");
    if (closest && closest->type == JSON_STRING) {
        sb_printf(sb, "\n%s ", tr(ctx, "Outputs are significantly closest to", "출력이 유의하게 가장 가까운 후보:"));
        sanitize_markdown_code(sb, closest->u.string.s);
        sb_putc(sb, '\n');
    }
}

/* The lines of evidence that run the models: each finding with its p-value, or why it was not run. */
static void run_sections(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    static const char *const names[][3] = {{"behaviour", "Behaviour (output distributions)", "출력 분포"},
                                           {"activations", "Activations", "활성값"}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const json_value *sec = json_get(root, names[k][0]);
        if (!sec) continue;
        sb_printf(sb, "\n%s:", tr(ctx, names[k][1], names[k][2]));
        const char *status = json_get_string(sec, "status");
        if (status && strcmp(status, "ok")) {
            const char *why = json_get_string(sec, "reason");
            sb_printf(sb, " %s%s", tr(ctx, "not run", "실행하지 않음"), why ? " — " : "");
            if (why) sanitize_markdown(sb, why);
            sb_putc(sb, '\n');
            continue;
        }
        sb_putc(sb, '\n');
        const json_value *fs = json_get(sec, "findings");
        for (size_t i = 0; i < json_count(fs); i++) {
            const json_value *f = json_at(fs, i);
            char p[64];
            scalar_text(json_get(f, "p"), p, sizeof p);
            sb_puts(sb, "- ");
            sanitize_markdown(sb, finding_text(f, ctx));
            if (json_get(f, "p")) sb_printf(sb, " (p %s)", p);
            sb_putc(sb, '\n');
        }
    }
}

/* "### Q{N}: title" then the bold question-time and answer lines. */
static void entry_head(strbuf *sb, int n, const char *title, const render_ctx *ctx)
{
    char date[32];
    today(date, sizeof date);
    sb_printf(sb, "### Q%d: %s\n\n**%s**: %s\n\n", n, title, tr(ctx, "Question time", "질문 시간"), date);
}

static void answer_line(strbuf *sb, const char *answer, const render_ctx *ctx)
{
    sb_printf(sb, "**%s**: %s\n\n", tr(ctx, "Answer", "답변"), answer);
}

/* Untrusted text (a path, a token, the user's text) as a Markdown code span; in a table cell '|' is
 * escaped first (a code span does not stop GFM from splitting cells on it). */
static void code_span(strbuf *sb, const char *s) { sanitize_markdown_code(sb, s ? s : ""); }
static void code_cell(strbuf *sb, const char *s)
{
    if (!s || !strchr(s, '|')) {
        code_span(sb, s);
        return;
    }
    strbuf esc;
    sb_init(&esc);
    for (; *s; s++) {
        if (*s == '|') sb_putc(&esc, '\\');
        sb_putc(&esc, *s);
    }
    code_span(sb, sb_str(&esc));
    sb_free(&esc);
}

/* The heading of an entry whose question names one thing: "<before>`name`<after>" in ctx's language. */
static void named_head(strbuf *sb, int n, const render_ctx *ctx, const char *before_en, const char *before_ko,
                       const char *name, const char *after_en, const char *after_ko)
{
    strbuf q;
    sb_init(&q);
    sb_puts(&q, tr(ctx, before_en, before_ko));
    code_span(&q, name ? name : "?");
    sb_puts(&q, tr(ctx, after_en, after_ko));
    entry_head(sb, n, sb_str(&q), ctx);
    sb_free(&q);
}

static void relation_list(strbuf *sb, const json_value *rel, const render_ctx *ctx)
{
    for (size_t i = 0; i < json_count(rel); i++) {
        const json_value *r = json_at(rel, i);
        const char *k = r->type == JSON_STRING ? r->u.string.s : json_get_string(r, "kind");
        if (k) sb_printf(sb, "%s%s", i ? ", " : " (", relation_kind_text(k, ctx));
    }
    if (json_count(rel)) sb_putc(sb, ')');
}

/* "behaviour_asked": the agreement of each compared pair with its control, and the identity claims as clues. */
static void asked_entry(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const json_value *sec = json_get(root, "behaviour_asked");
    if (!sec) return;
    const char *status = json_get_string(sec, "status");
    if (status && strcmp(status, "ok")) {
        sb_printf(sb, "\n%s: %s — ", tr(ctx, "Behaviour (asked)", "행동 (질문 응답)"), tr(ctx, "not run", "실행하지 않음"));
        sanitize_markdown(sb, json_get_string(sec, "reason") ? json_get_string(sec, "reason") : "?");
        sb_putc(sb, '\n');
        return;
    }
    const json_value *models = json_get(sec, "models"), *pairs = json_get(sec, "agreement"), *ctl = json_get(sec, "control");
    sb_printf(sb, "\n%s (", tr(ctx, "Behaviour (asked)", "행동 (질문 응답)"));
    const json_value *bats = json_get(sec, "batteries");
    for (size_t b = 0; b < json_count(bats); b++) {
        if (b) sb_puts(sb, ", ");
        sanitize_markdown(sb, json_get_string(json_at(bats, b), "version") ? json_get_string(json_at(bats, b), "version") : "?");
    }
    sb_puts(sb, "):\n");
    for (size_t k = 0; k < json_count(pairs); k++) {
        const json_value *p = json_at(pairs, k);
        const char *role = json_get_string(p, "role");
        if (!role || strcmp(role, "subject")) continue;
        int64_t a = 0, b = 0, nq = 0, same = 0;
        double agree = 0, chance = 0;
        json_get_int(p, "a", &a);
        json_get_int(p, "b", &b);
        json_get_int(p, "questions", &nq);
        json_get_int(p, "identical_answers", &same);
        json_get_double(p, "classification_agreement", &agree);
        json_get_double(p, "chance_agreement", &chance);
        sb_puts(sb, "- ");
        code_span(sb, json_get_string(json_at(models, (size_t)a), "label"));
        sb_puts(sb, " / ");
        code_span(sb, json_get_string(json_at(models, (size_t)b), "label"));
        sb_printf(sb, tr(ctx, ": identical answers %lld/%lld, same classification %.0f%% (chance %.0f%%)",
                         ": 동일한 답변 %lld/%lld, 같은 분류 %.0f%% (우연 일치율 %.0f%%)"),
                  (long long)same, (long long)nq, 100 * agree, 100 * chance);
        int64_t nctl = 0;
        double mt = 0, pt = 1;
        if (ctl && json_get_int(ctl, "control_pairs", &nctl) && nctl && json_get_double(ctl, "max_identical_rate", &mt) &&
            json_get_double(ctl, "rank_p_identical", &pt))
        {
            if (ctx->korean) sb_printf(sb, "; 대조군: 비교군 모델이 낀 쌍 %lld개에서 동일한 답변 최대 %.0f%% (순위 p %.2f)", (long long)nctl, 100 * mt, pt);
            else sb_printf(sb, "; control: at most %.0f%% identical over %lld pairs with a panel model (rank p %.2f)", 100 * mt, (long long)nctl, pt);
        }
        sb_puts(sb, "\n");
    }
    const json_value *clues = json_get(sec, "identity_clues");
    for (size_t i = 0; i < json_count(clues); i++) {
        const char *t = json_get_string(json_at(clues, i), ctx->korean ? "ko" : "en");
        sb_puts(sb, "- ");
        sanitize_markdown(sb, t ? t : "?");
        sb_puts(sb, "\n");
    }
}

static void compare_entry(strbuf *sb, const json_value *root, int n, const render_ctx *ctx)
{
    const json_value *models = json_get(root, "models"), *v = json_get(root, "verdict");
    const char *a = json_get_string(models, "a"), *b = json_get_string(models, "b");
    strbuf q;
    sb_init(&q);
    sb_puts(&q, tr(ctx, "Was model ", "모델 "));
    code_span(&q, b ? b : "B");
    sb_puts(&q, tr(ctx, " derived from model ", "이(가) 모델 "));
    code_span(&q, a ? a : "A");
    sb_puts(&q, tr(ctx, "?", "에서 파생되었는가?"));
    entry_head(sb, n, sb_str(&q), ctx);
    sb_free(&q);
    const char *label = json_get_string(v, "label");
    double conf = 0;
    json_get_double(v, "confidence", &conf);
    strbuf ans;
    sb_init(&ans);
    sb_printf(&ans, "**%s**", verdict_label_text(label ? label : "inconclusive", ctx));
    relation_list(&ans, json_get(v, "relation"), ctx);
    char ct[96];
    confidence_text(ct, sizeof ct, label, conf, ctx);   /* "no weight comparison, no confidence" for an unjudged pair */
    sb_printf(&ans, ", %s", ct);
    answer_line(sb, sb_str(&ans), ctx);
    sb_free(&ans);
    const json_value *reasons = json_get(v, ctx->korean ? "reasons_ko" : "reasons");
    for (size_t i = 0; i < json_count(reasons); i++) {
        if (json_at(reasons, i)->type != JSON_STRING) continue;
        sb_puts(sb, "- ");
        sanitize_markdown(sb, json_at(reasons, i)->u.string.s);
        sb_putc(sb, '\n');
    }
    const json_value *ev = json_get(v, "evidence");
    if (json_count(ev))
        sb_printf(sb, "\n| %s | %s | %s | z | p |\n|---|---|---|---|---|\n", tr(ctx, "finding", "발견"), tr(ctx, "value", "값"),
                  tr(ctx, "control", "대조군"));
    for (size_t i = 0; i < json_count(ev) && i < 8; i++) {
        const json_value *f = json_at(ev, i);
        char val[64], z[64], p[64];
        const json_value *fv = json_get(f, "value");
        if (fv && fv->type == JSON_STRING) snprintf(val, sizeof val, "%s", relation_kind_text(fv->u.string.s, ctx));
        else scalar_text(fv, val, sizeof val);
        scalar_text(json_get(f, "z"), z, sizeof z);
        scalar_text(json_get(f, "p"), p, sizeof p);
        char cd[4096];
        control_text(json_get(f, "control"), ctx, cd, sizeof cd);
        sb_puts(sb, "| ");
        sanitize_markdown(sb, finding_text(f, ctx));
        sb_printf(sb, " | %s | ", val);
        sanitize_markdown(sb, cd);
        sb_printf(sb, " | %s | %s |\n", z, p);
    }
    run_sections(sb, root, ctx);
    asked_entry(sb, root, ctx);
}

static void verify_entry(strbuf *sb, const json_value *root, int n, const render_ctx *ctx)
{
    const char *m = json_get_string(root, "model");
    named_head(sb, n, ctx, "Which candidate, if any, is the parent of model ", "모델 ", m, "?", "의 부모는 후보 중 어느 모델인가?");
    const char *parent = json_get_string(root, "parent");
    double margin = 0;
    json_get_double(root, "margin", &margin);
    strbuf ans;
    sb_init(&ans);
    if (parent) {
        code_span(&ans, parent);
        sb_printf(&ans, tr(ctx, ", ahead of the next candidate by %.2f.", " (다음 후보와의 차이 %.2f)."), margin);
    } else sb_puts(&ans, tr(ctx, "No candidate stands out clearly as the parent.", "부모로 뚜렷이 드러나는 후보가 없습니다."));
    answer_line(sb, sb_str(&ans), ctx);
    sb_free(&ans);
    sb_printf(sb, "| # | %s | %s | %s | %s |\n|---|---|---|---|---|\n", tr(ctx, "candidate", "후보"), tr(ctx, "verdict", "판정"),
              tr(ctx, "confidence", "신뢰도"), tr(ctx, "tokenizer", "토크나이저"));
    const json_value *cands = json_get(root, "candidates");
    for (size_t i = 0; i < json_count(cands); i++) {
        const json_value *c = json_at(cands, i);
        double conf = 0;
        json_get_double(c, "confidence", &conf);
        const char *lab = json_get_string(c, "label");
        const char *tr_rel = json_get_string(json_get(c, "tokenizer"), "relation");
        sb_printf(sb, "| %zu | ", i + 1);
        code_cell(sb, json_get_string(c, "reference") ? json_get_string(c, "reference") : "?");
        sb_printf(sb, " | %s", verdict_label_text(lab ? lab : "inconclusive", ctx));
        relation_list(sb, json_get(c, "relation"), ctx);
        if (lab && !strcmp(lab, "inconclusive") && conf == 0) sb_puts(sb, " | - ");   /* no weight comparison, no confidence */
        else sb_printf(sb, " | %.2f ", conf);
        sb_printf(sb, "| %s |\n", tr_rel ? relation_kind_text(tr_rel, ctx) : "-");
    }
    behaviour_closest_entry(sb, root, ctx);
}

static void count_cell(strbuf *sb, const json_value *o, const char *key)
{
    double v = NAN;
    char b[48];
    json_get_double(o, key, &v);
    text_grouped(b, sizeof b, v);
    sb_puts(sb, b);
}

static void inspect_entry(strbuf *sb, const json_value *root, int n, const render_ctx *ctx)
{
    const char *m = json_get_string(root, "model");
    const json_value *p = json_get(root, "parameters"), *a = json_get(root, "architecture"), *c = json_get(root, "compute");
    strbuf q;
    sb_init(&q);
    sb_puts(&q, tr(ctx, "How large is model ", "모델 "));
    code_span(&q, m ? m : "?");
    sb_puts(&q, c ? tr(ctx, ", and what compute do its training tokens need?", "의 규모와 학습에 필요한 연산량은?")
                  : tr(ctx, "?", "의 규모는?"));
    entry_head(sb, n, sb_str(&q), ctx);
    sb_free(&q);
    strbuf ans;
    sb_init(&ans);
    /* "전체 파라미터는 N개, 토큰당 활성 파라미터는 M개입니다 (텐서에서 셈). 학습에는 ... 필요합니다." */
    double total = NAN, active = NAN;
    json_get_double(p, "total", &total);
    int has_active = json_get_double(p, "active", &active) && isfinite(active) && active < total;   /* MoE only */
    sb_puts(&ans, tr(ctx, "Total parameters ", "전체 파라미터는 "));
    count_cell(&ans, p, "total");
    if (ctx->korean) sb_puts(&ans, "개");
    if (has_active) {
        sb_puts(&ans, tr(ctx, ", active per token ", ", 토큰당 활성 파라미터는 "));
        count_cell(&ans, p, "active");
        if (ctx->korean) sb_puts(&ans, "개");
    }
    const char *src = json_get_string(p, "source");
    const char *how = src && !strcmp(src, "tensors") ? tr(ctx, "counted from the tensors", "텐서에서 셈")
                      : src && !strcmp(src, "config") ? tr(ctx, "computed from config.json", "config.json에서 계산")
                                                      : tr(ctx, "not countable", "셀 수 없음");
    if (ctx->korean) sb_printf(&ans, "입니다 (%s).", how);
    else sb_printf(&ans, " (%s)", how);
    if (c) {
        double f = NAN, h = NAN;
        json_get_double(json_get(c, "training"), "flops", &f);
        json_get_double(json_get(c, "training"), "gpu_hours", &h);
        char fs[48], hs[48];
        text_sci(fs, sizeof fs, f);
        text_grouped(hs, sizeof hs, h);
        sb_printf(&ans, tr(ctx, "; training needs %s FLOPs, %s GPU-hours.", " 학습에 필요한 연산량은 %s FLOPs(GPU 시간 %s)입니다."), fs, hs);
    } else if (!ctx->korean) sb_puts(&ans, ".");
    answer_line(sb, sb_str(&ans), ctx);
    sb_free(&ans);
    sb_printf(sb, "| %s | %s |\n|---|---|\n", tr(ctx, "item", "항목"), tr(ctx, "value", "값"));
    static const char *const rows[][3] = {{"model_type", "type", "유형"}, {"num_layers", "layers", "층 수"},
                                          {"hidden_size", "hidden size", "은닉 차원"}, {"num_heads", "attention heads", "어텐션 헤드"},
                                          {"num_kv_heads", "KV heads", "KV 헤드"}, {"intermediate_size", "MLP width", "MLP 폭"},
                                          {"vocab_size", "vocabulary", "어휘 크기"}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char v[96];
        if (!json_get(a, rows[i][0])) continue;
        scalar_text(json_get(a, rows[i][0]), v, sizeof v);
        sb_printf(sb, "| %s | %s |\n", tr(ctx, rows[i][1], rows[i][2]), v);
    }
    const json_value *moe = json_get(a, "moe");
    if (moe) {
        int64_t e = 0, k = 0, sh = 0;
        json_get_int(moe, "routed_experts", &e);
        json_get_int(moe, "experts_per_token", &k);
        json_get_int(moe, "shared_experts", &sh);
        sb_printf(sb, tr(ctx, "| experts | %lld routed (%lld per token) + %lld shared |\n",
                         "| 전문가 | 라우팅 %lld개 (토큰당 %lld개) + 공유 %lld개 |\n"), (long long)e, (long long)k, (long long)sh);
    }
    sb_printf(sb, "| %s | ", tr(ctx, "embedding", "임베딩"));
    count_cell(sb, p, "embedding");
    sb_puts(sb, " |\n");
    if (c) {
        double tpp = NAN, share = NAN;
        json_get_double(json_get(c, "training"), "tokens_per_param", &tpp);
        json_get_double(json_get(c, "attention"), "share_of_6n", &share);
        char tok[48];
        double d = NAN;
        json_get_double(json_get(c, "training"), "tokens", &d);
        text_sci(tok, sizeof tok, d);
        sb_printf(sb, "| %s | %s |\n| %s | %.1f |\n", tr(ctx, "training tokens", "학습 토큰"), tok,
                  tr(ctx, "tokens per parameter", "파라미터당 토큰"), tpp);
        if (isfinite(share))
            sb_printf(sb, "| %s | +%.1f%% |\n", tr(ctx, "attention term not in 6ND", "6ND에 없는 어텐션 항"), 100 * share);
    }
}

static void tokenize_entry(strbuf *sb, const json_value *root, int n, const render_ctx *ctx)
{
    const char *t = json_get_string(root, "tokenizer");
    named_head(sb, n, ctx, "How does tokenizer ", "토크나이저 ", t, " split this text?", "은(는) 이 글을 어떻게 나누는가?");
    int64_t count = 0, chars = 0;
    json_get_int(root, "count", &count);
    json_get_int(root, "characters", &chars);
    char ans[200];
    snprintf(ans, sizeof ans, tr(ctx, "%lld tokens for %lld characters (%.2f tokens per character).",
                                 "%lld자를 토큰 %lld개로 나눕니다 (글자당 토큰 %.2f개)."),
             ctx->korean ? (long long)chars : (long long)count, ctx->korean ? (long long)count : (long long)chars,
             chars ? (double)count / (double)chars : 0.0);
    answer_line(sb, ans, ctx);
    const char *text = json_get_string(root, "text");
    if (text) {
        sb_printf(sb, "%s ", tr(ctx, "Text:", "입력:"));
        code_span(sb, text);
        sb_puts(sb, "\n\n");
    }
    const json_value *ids = json_get(root, "ids"), *pieces = json_get(root, "pieces");
    sb_printf(sb, "| # | ID | %s |\n|---|---|---|\n", tr(ctx, "piece", "조각"));
    for (size_t i = 0; i < json_count(ids) && i < 64; i++) {
        char id[32];
        scalar_text(json_at(ids, i), id, sizeof id);
        sb_printf(sb, "| %zu | %s | ", i + 1, id);
        const json_value *pc = json_at(pieces, i);
        if (pc && pc->type == JSON_STRING) code_cell(sb, pc->u.string.s);
        else sb_puts(sb, tr(ctx, "(byte piece)", "(바이트 조각)"));   /* part of a character */
        sb_puts(sb, " |\n");
    }
    if (json_count(ids) > 64)
        sb_printf(sb, tr(ctx, "\n(%zu more tokens)\n", "\n(토큰 %zu개 더 있음)\n"), json_count(ids) - 64);
}

/* run: the prompt, the most likely next token and the candidates. */
static void run_entry(strbuf *sb, const json_value *root, int n, const render_ctx *ctx)
{
    const char *m = json_get_string(root, "model");
    named_head(sb, n, ctx, "What does model ", "모델 ", m, " predict next?", "의 다음 토큰 예측은?");
    const json_value *top = json_get(root, "top_k"), *first = json_at(top, 0);
    strbuf ans;
    sb_init(&ans);
    double p = NAN;
    const char *piece = json_get_string(first, "piece");
    if (first && json_get_double(first, "probability", &p) && isfinite(p)) {
        sb_puts(&ans, tr(ctx, "The most likely next token is ", "가장 가능성이 높은 다음 토큰은 "));
        code_span(&ans, piece ? piece : "?");
        sb_printf(&ans, tr(ctx, " (%.1f%%).", " (%.1f%%)입니다."), 100 * p);
    } else sb_puts(&ans, tr(ctx, "No next-token distribution.", "다음 토큰 분포가 없습니다."));
    answer_line(sb, sb_str(&ans), ctx);
    sb_free(&ans);
    const json_value *pieces = json_get(json_get(root, "prompt"), "pieces");
    if (json_count(pieces)) {   /* the prompt as its pieces put back together */
        strbuf pr;
        sb_init(&pr);
        for (size_t i = 0; i < json_count(pieces); i++)
            if (json_at(pieces, i)->type == JSON_STRING) sb_puts(&pr, json_at(pieces, i)->u.string.s);
        sb_printf(sb, "%s ", tr(ctx, "Prompt:", "프롬프트:"));
        code_span(sb, sb_str(&pr));
        sb_puts(sb, "\n\n");
        sb_free(&pr);
    }
    if (!json_count(top)) return;
    sb_printf(sb, "| # | ID | %s | %s |\n|---|---|---|---|\n", tr(ctx, "probability", "확률"), tr(ctx, "piece", "조각"));
    for (size_t i = 0; i < json_count(top); i++) {
        const json_value *c = json_at(top, i);
        int64_t id = 0;
        double pr = NAN;
        json_get_int(c, "id", &id);
        json_get_double(c, "probability", &pr);
        sb_printf(sb, isfinite(pr) ? "| %zu | %lld | %.2f%% | " : "| %zu | %lld | - | ", i + 1, (long long)id, 100 * pr);
        const char *pc = json_get_string(c, "piece");
        if (pc && *pc) code_cell(sb, pc);
        sb_puts(sb, " |\n");
    }
}

static void study_entry(strbuf *sb, const json_value *root, int n, const render_ctx *ctx)
{
    const json_value *models = json_get(root, "models"), *pairs = json_get(root, "pairs");
    char title[200];
    snprintf(title, sizeof title, tr(ctx, "How are these %zu models related?", "모델 %zu개는 서로 어떤 관계인가?"), json_count(models));
    entry_head(sb, n, title, ctx);
    size_t derived = 0, independent = 0;
    for (size_t i = 0; i < json_count(pairs); i++) {
        const char *l = json_get_string(json_get(json_at(pairs, i), "verdict"), "label");
        derived += l && (!strcmp(l, "derived") || !strcmp(l, "identical"));
        independent += l && !strcmp(l, "independent");
    }
    char ans[300];
    snprintf(ans, sizeof ans,
             tr(ctx, "Of %zu pairs compared, %zu are derived or identical, %zu independent, %zu inconclusive.",
                "비교한 쌍 %zu개 중 파생 또는 동일 %zu개, 독립 %zu개, 판단 불가 %zu개입니다."),
             json_count(pairs), derived, independent, json_count(pairs) - derived - independent);
    answer_line(sb, ans, ctx);
    sb_printf(sb, "| A | B | %s | %s | %s |\n|---|---|---|---|---|\n", tr(ctx, "verdict", "판정"),
              tr(ctx, "weight similarity", "가중치 유사도"), tr(ctx, "tokenizer", "토크나이저"));
    for (size_t i = 0; i < json_count(pairs); i++) {
        const json_value *p = json_at(pairs, i);
        int64_t a = 0, b = 0;
        json_get_int(p, "a", &a);
        json_get_int(p, "b", &b);
        const json_value *v = json_get(p, "verdict");
        const char *l = json_get_string(v, "label");
        char sim[32];
        scalar_text(json_get(json_get(p, "weights"), "similarity"), sim, sizeof sim);
        const char *tr_rel = json_get_string(json_get(p, "tokenizer"), "relation");
        sb_puts(sb, "| ");
        code_cell(sb, json_get_string(json_at(models, (size_t)a), "name"));
        sb_puts(sb, " | ");
        code_cell(sb, json_get_string(json_at(models, (size_t)b), "name"));
        sb_printf(sb, " | %s", verdict_label_text(l ? l : "inconclusive", ctx));
        relation_list(sb, json_get(v, "relation"), ctx);
        sb_printf(sb, " | %s | %s |\n", sim, tr_rel ? relation_kind_text(tr_rel, ctx) : "-");
    }
    asked_entry(sb, root, ctx);
}

static void entry(strbuf *sb, const json_value *root, const char *command, int n, const render_ctx *ctx)
{
    const char *schema = json_get_string(root, "schema");
    if (!schema) schema = "";
    if (!strcmp(schema, "lineage.verify/1")) verify_entry(sb, root, n, ctx);
    else if (!strcmp(schema, "lineage.inspect/1")) inspect_entry(sb, root, n, ctx);
    else if (!strcmp(schema, "lineage.tokenize/1")) tokenize_entry(sb, root, n, ctx);
    else if (!strcmp(schema, "lineage.study/1")) study_entry(sb, root, n, ctx);
    else if (!strcmp(schema, "lineage.run/1")) run_entry(sb, root, n, ctx);
    else if (!strcmp(schema, "lineage.search/1") || !strcmp(schema, "lineage.ask/1")) {
        int search = !strcmp(schema, "lineage.search/1");
        const char *m = json_get_string(root, "model");
        if (search) named_head(sb, n, ctx, "Which indexed model is closest to model ", "인덱스에서 모델 ", m, "?", "에 가장 가까운 모델은?");
        else named_head(sb, n, ctx, "What does model ", "모델 ", m, " answer?", "의 답변은?");
        if (search) journal_search_entry(sb, root, ctx);
        else journal_ask_entry(sb, root, ctx);
    } else compare_entry(sb, root, n, ctx);
    /* a fence longer than any run of backticks in the command */
    size_t run = 0, longest = 0;
    for (const char *c = command; *c; c++) {
        run = *c == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    size_t fence = longest >= 3 ? longest + 1 : 3;
    sb_printf(sb, "\n%s\n\n", tr(ctx, "Reproduce with:", "재현 명령:"));
    for (size_t i = 0; i < fence; i++) sb_putc(sb, '`');
    sb_puts(sb, "sh\n");
    sanitize_terminal(sb, command, strlen(command), 0);   /* one line: no input can close the fence */
    sb_putc(sb, '\n');
    for (size_t i = 0; i < fence; i++) sb_putc(sb, '`');
    sb_puts(sb, "\n\n---\n\n");
}

/* The next question number: one past the highest "### Q{N}:" heading in the file. */
static int next_question(const char *text)
{
    int max = 0;
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, "### Q", 5)) {
            char *end;
            long v = strtol(p + 5, &end, 10);
            if (end > p + 5 && *end == ':' && v > max && v < 1000000) max = (int)v;
        }
        p = strchr(p, '\n');
        if (p) p++;
    }
    return max + 1;
}

/* Whether the text is a Korean journal: more Hangul syllables than Latin letters outside code. */
static int text_is_korean(const char *s)
{
    size_t hangul = 0, latin = 0;
    int code = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '`') code = !code;
        else if (!code && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) latin++;
        else if (*p == 0xEA || *p == 0xEB || *p == 0xEC || (*p == 0xED && p[1] < 0x9F)) hangul += 3;   /* U+AC00..D7A3 */
    }
    return hangul > latin;
}

lineage_status lineage_journal_append(const lineage_doc *d, const char *path, const char *command, const char *lang,
                                      lineage_error *err)
{
    lineage_journal_options o = {command, lang, NULL};
    return lineage_journal_write(d, path, &o, err);
}

lineage_status lineage_journal_write(const lineage_doc *d, const char *path, const lineage_journal_options *opt,
                                     lineage_error *err)
{
    char *old = NULL;
    size_t oldlen = 0;
    if (path_is_file(path)) {
        lineage_status st = file_read_all(path, JOURNAL_MAX_BYTES, &old, &oldlen, err);
        if (st) return st;
    }
    const char *lang = opt ? opt->lang : NULL;
    render_ctx ctx = {lang ? !strcmp(lang, "ko") : old && text_is_korean(old), 0};
    /* the marker: the one asked for, else a TUTORIAL_MARKER comment, else this tool's older marker */
    const char *mk = NULL;
    if (old && opt && opt->marker && *opt->marker) mk = strstr(old, opt->marker);
    else if (old) {
        mk = strstr(old, JOURNAL_MARKER_PREFIX);
        if (!mk) mk = strstr(old, JOURNAL_OLD_MARKER);
    }
    if (mk) while (mk > old && mk[-1] != '\n') mk--;   /* the marker's whole line stays below */
    strbuf e, out;
    sb_init(&e);
    sb_init(&out);
    entry(&e, d->root, opt && opt->command ? opt->command : "", old ? next_question(old) : 1, &ctx);
    strbuf clean;   /* whatever an entry let through: no control byte in the journal */
    sb_init(&clean);
    sanitize_terminal(&clean, sb_str(&e), e.len, SANITIZE_KEEP_LINES);
    sb_free(&e);
    e = clean;
    const char *marker = opt && opt->marker && *opt->marker ? opt->marker : JOURNAL_MARKER;
    if (!old) {
        sb_printf(&out, "# %s\n\n%s\n\n", tr(&ctx, "Verification journal", "검증 일지"),
                  tr(&ctx, "Each entry is written by `lineage --journal` above the marker below, with the command that "
                           "reproduces it.",
                     "각 항목은 `lineage --journal`이 아래 표시 위에 적으며, 재현 명령을 함께 남깁니다."));
        sb_puts(&out, sb_str(&e));
        sb_printf(&out, "%s\n", marker);
    } else if (mk) {
        sb_putn(&out, old, (size_t)(mk - old));
        if (mk > old && (mk - old < 2 || mk[-2] != '\n')) sb_putc(&out, '\n');
        sb_puts(&out, sb_str(&e));
        sb_puts(&out, mk);
    } else {
        sb_putn(&out, old, oldlen);
        if (oldlen && old[oldlen - 1] != '\n') sb_putc(&out, '\n');
        sb_putc(&out, '\n');
        sb_puts(&out, sb_str(&e));
        sb_printf(&out, "%s\n", marker);
    }
    free(old);
    sb_free(&e);
    if (out.failed) {
        sb_free(&out);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    /* write to a temporary file beside it, then rename: never a half-written journal */
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) {
        sb_free(&out);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    lineage_status st = LINEAGE_OK;
    if (!f) st = error_set(err, LINEAGE_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
    else {
        int ok = fwrite(out.data, 1, out.len, f) == out.len;
        if (fclose(f) != 0 || !ok) st = error_set(err, LINEAGE_E_IO, "%s: write failed", tmp);
        else if (rename(tmp, path) != 0) st = error_set(err, LINEAGE_E_IO, "%s: cannot replace: %s", path, strerror(errno));
        if (st) unlink(tmp);
    }
    free(tmp);
    sb_free(&out);
    return st;
}
