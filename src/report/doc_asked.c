/* "behaviour_asked" (a compare's or a study's answers to a battery) through any doc_sink: each question
 * with every model's answer side by side (cards in HTML, a row in Markdown, stacked lines on the
 * terminal), each battery's per-model summary, the identity claims as clues about training data, and
 * the agreement table with its controls. Answers are untrusted model output: the sinks escape them. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "util/strbuf.h"

static const char *str_or(const json_value *o, const char *k, const char *dflt)
{
    const char *s = json_get_string(o, k);
    return s ? s : dflt;
}

/* A model's name in the report language: A, B, "panel 2" / "비교군 2", or a study's model name. */
static void model_label(char *buf, size_t n, const json_value *sec, size_t i, const render_ctx *ctx)
{
    const json_value *m = json_at(json_get(sec, "models"), i);
    const char *role = str_or(m, "role", ""), *label = str_or(m, "label", "?");
    if (!strcmp(role, "panel")) {
        unsigned k = 0;
        if (sscanf(label, "panel %u", &k) == 1) {
            snprintf(buf, n, "%s %u", tr(ctx, "panel", "비교군"), k);
            return;
        }
    }
    snprintf(buf, n, "%s", label);
}

static const char *kind_text(const char *kind, const render_ctx *ctx)
{
    if (!strcmp(kind, "identity")) return tr(ctx, "identity", "정체성");
    if (!strcmp(kind, "cutoff")) return tr(ctx, "knowledge cutoff", "지식 시점");
    if (!strcmp(kind, "refusal")) return tr(ctx, "refusals", "거절");
    return tr(ctx, "questions", "질문");
}

/* "names OpenAI, Alibaba · refusal · 2024-05 correct" */
static void answer_note(strbuf *sb, const json_value *a, const json_value *q, const render_ctx *ctx)
{
    const json_value *claims = json_get(a, "claims");
    for (size_t k = 0; k < json_count(claims); k++)
        sb_printf(sb, "%s%s %s", sb->len ? " · " : "", tr(ctx, "names", "언급:"), str_or(json_at(claims, k), "organisation", "?"));
    if (json_get_string(a, "refusal_marker")) sb_printf(sb, "%s%s", sb->len ? " · " : "", tr(ctx, "refusal", "거절"));
    const json_value *c = json_get(a, "correct");
    if (c && c->type == JSON_BOOL)
        sb_printf(sb, "%s%s %s", sb->len ? " · " : "", str_or(q, "month", "?"),
                  c->u.boolean ? tr(ctx, "correct", "정답") : tr(ctx, "not correct", "오답"));
}

static void summaries(doc_sink *s, const json_value *sec, const json_value *bat)
{
    const render_ctx *ctx = s->ctx;
    const char *kind = str_or(bat, "kind", "plain");
    const json_value *sums = json_get(bat, "summaries");
    const char *cols[3] = {tr(ctx, "model", "모델"), NULL, NULL};
    if (!strcmp(kind, "identity")) {
        cols[1] = tr(ctx, "answers naming an organisation or model", "조직·모델을 언급한 답변");
        cols[2] = tr(ctx, "organisations named (answers)", "언급한 조직 (답변 수)");
    } else if (!strcmp(kind, "refusal")) {
        cols[1] = tr(ctx, "refusal rate (95% CI)", "거절률 (95% 신뢰구간)");
        cols[2] = tr(ctx, "refusal phrasings (answers)", "거절 표현 (답변 수)");
    } else if (!strcmp(kind, "cutoff")) {
        cols[1] = tr(ctx, "last month answered correctly", "정답을 맞힌 마지막 달");
        cols[2] = tr(ctx, "correct / asked", "정답 / 질문");
    } else {
        return;
    }
    s->table_begin(s, cols, 3);
    for (size_t i = 0; i < json_count(sums); i++) {
        const json_value *sum = json_at(sums, i);
        char name[1024], c1[128] = "", c2[512] = "";
        model_label(name, sizeof name, sec, i, ctx);
        int64_t n = 0, k = 0;
        json_get_int(sum, "answers", &n);
        strbuf b;
        sb_init(&b);
        if (!strcmp(kind, "identity")) {
            json_get_int(sum, "answers_naming_an_organisation", &k);
            snprintf(c1, sizeof c1, "%lld/%lld", (long long)k, (long long)n);
            const json_value *orgs = json_get(sum, "organisations");
            for (size_t j = 0; j < json_count(orgs); j++) {
                int64_t c = 0;
                json_get_int(json_at(orgs, j), "answers", &c);
                sb_printf(&b, "%s%s (%lld)", j ? ", " : "", str_or(json_at(orgs, j), "organisation", "?"), (long long)c);
            }
        } else if (!strcmp(kind, "refusal")) {
            double r = 0;
            json_get_int(sum, "refused", &k);
            json_get_double(sum, "refusal_rate", &r);
            const json_value *ci = json_get(sum, "refusal_rate_ci95");
            double lo = json_at(ci, 0) ? json_at(ci, 0)->u.number.d : 0, hi = json_at(ci, 1) ? json_at(ci, 1)->u.number.d : 1;
            snprintf(c1, sizeof c1, "%lld/%lld = %.0f%% (%.0f%%-%.0f%%)", (long long)k, (long long)n, 100 * r, 100 * lo, 100 * hi);
            const json_value *ph = json_get(sum, "phrasings");
            for (size_t j = 0; j < json_count(ph); j++) {
                int64_t c = 0;
                json_get_int(json_at(ph, j), "answers", &c);
                sb_printf(&b, "%s\"%s\" (%lld)", j ? ", " : "", str_or(json_at(ph, j), "marker", "?"), (long long)c);
            }
        } else {
            const char *last = json_get_string(sum, "last_month_answered_correctly");
            snprintf(c1, sizeof c1, "%s", last ? last : tr(ctx, "none", "없음"));
            const json_value *months = json_get(sum, "months");
            int64_t asked = 0, correct = 0;
            for (size_t j = 0; j < json_count(months); j++) {
                int64_t a = 0, c = 0;
                json_get_int(json_at(months, j), "asked", &a);
                json_get_int(json_at(months, j), "correct", &c);
                asked += a;
                correct += c;
            }
            sb_printf(&b, "%lld/%lld", (long long)correct, (long long)asked);
        }
        snprintf(c2, sizeof c2, "%s", b.data && b.len ? b.data : "-");
        sb_free(&b);
        const char *cells[3] = {name, c1, c2};
        s->table_row(s, cells, 3);
    }
    s->table_end(s);
}

static void agreement(doc_sink *s, const json_value *sec)
{
    const render_ctx *ctx = s->ctx;
    const json_value *pairs = json_get(sec, "agreement");
    s->heading(s, 3, tr(ctx, "Agreement between the models' answers", "모델 답변의 일치율"));
    const char *cols[7] = {tr(ctx, "pair", "쌍"), tr(ctx, "role", "역할"), tr(ctx, "identical answers", "동일한 답변"),
                           tr(ctx, "same classification", "같은 분류"), tr(ctx, "chance", "우연 일치율"),
                           tr(ctx, "kappa", "카파"), tr(ctx, "questions", "질문")};
    s->table_begin(s, cols, 7);
    for (size_t k = 0; k < json_count(pairs); k++) {
        const json_value *p = json_at(pairs, k);
        int64_t a = 0, b = 0, nq = 0, same = 0, lab = 0;
        double chance = 0, kappa = 0;
        json_get_int(p, "a", &a);
        json_get_int(p, "b", &b);
        json_get_int(p, "questions", &nq);
        json_get_int(p, "identical_answers", &same);
        json_get_int(p, "same_classification", &lab);
        json_get_double(p, "chance_agreement", &chance);
        char na[64], nb[64], pair[140], c_same[48], c_lab[48], c_ch[32], c_k[32], c_n[32];
        model_label(na, sizeof na, sec, (size_t)a, ctx);
        model_label(nb, sizeof nb, sec, (size_t)b, ctx);
        snprintf(pair, sizeof pair, "%s - %s", na, nb);
        snprintf(c_same, sizeof c_same, "%lld (%.0f%%)", (long long)same, nq ? 100.0 * (double)same / (double)nq : 0);
        snprintf(c_lab, sizeof c_lab, "%lld (%.0f%%)", (long long)lab, nq ? 100.0 * (double)lab / (double)nq : 0);
        snprintf(c_ch, sizeof c_ch, "%.0f%%", 100 * chance);
        if (json_get_double(p, "kappa", &kappa)) snprintf(c_k, sizeof c_k, "%.2f", kappa);
        else snprintf(c_k, sizeof c_k, "-");
        snprintf(c_n, sizeof c_n, "%lld", (long long)nq);
        const char *role = !strcmp(str_or(p, "role", ""), "control") ? tr(ctx, "control", "대조군") : tr(ctx, "compared", "비교 대상");
        const char *cells[7] = {pair, role, c_same, c_lab, c_ch, c_k, c_n};
        s->table_row(s, cells, 7);
    }
    s->table_end(s);
    const json_value *ctl = json_get(sec, "control");
    if (!ctl) {
        s->para(s, NULL, tr(ctx, "Every pair is judged against chance: the agreement expected if the two models answered "
                                 "independently with their own classification frequencies (kappa 0 = chance, 1 = always alike).",
                            "모든 쌍은 우연 일치율과 비교합니다: 두 모델이 각자의 분류 빈도대로 서로 독립적으로 답했을 때 "
                            "기대되는 일치율입니다(카파 0이면 우연 수준, 1이면 항상 같음)."));
        return;
    }
    int64_t nctl = 0;
    json_get_int(ctl, "control_pairs", &nctl);
    char buf[600];
    if (!nctl) {
        s->para(s, NULL, tr(ctx, "No panel: the A-B agreement is judged against chance only (kappa); --panel adds unrelated "
                                 "models as the control.",
                            "비교군이 없어 A와 B의 일치율은 우연 일치율(카파)과만 비교합니다. --panel로 관련 없는 모델을 대조군으로 "
                            "더할 수 있습니다."));
        return;
    }
    double mt = 0, ml = 0, pt = 1, pl = 1;
    json_get_double(ctl, "max_identical_rate", &mt);
    json_get_double(ctl, "max_classification_agreement", &ml);
    json_get_double(ctl, "rank_p_identical", &pt);
    json_get_double(ctl, "rank_p_classification", &pl);
    snprintf(buf, sizeof buf,
             tr(ctx, "Control: %lld pairs with a panel model agree at most %.0f%% (identical answers) and %.0f%% (same "
                     "classification); the A-B pair's rank among them gives p = %.2f and p = %.2f (the smallest possible "
                     "is %.2f: more panel models, a sharper test).",
                "대조군: 비교군 모델이 낀 쌍 %lld개의 일치율은 최대 %.0f%%(동일한 답변), %.0f%%(같은 분류)입니다. 그중 A와 B 쌍의 "
                "순위로 p = %.2f, p = %.2f입니다(가능한 최솟값은 %.2f이며, 비교군 모델이 많을수록 검정이 날카로워집니다)."),
             (long long)nctl, 100 * mt, 100 * ml, pt, pl, 1.0 / (1.0 + (double)nctl));
    s->para(s, NULL, buf);
}

void render_asked_doc(doc_sink *s, const json_value *sec)
{
    const render_ctx *ctx = s->ctx;
    s->heading(s, 2, tr(ctx, "Behaviour (asked)", "행동 (질문 응답)"));
    const char *status = json_get_string(sec, "status");
    if (status && strcmp(status, "ok")) {
        s->para(s, tr(ctx, "Not run:", "실행하지 않음:"), str_or(sec, "reason", "?"));
        return;
    }
    s->para(s, NULL, ctx->korean ? str_or(sec, "note_ko", "") : str_or(sec, "note", ""));
    const json_value *models = json_get(sec, "models");
    for (size_t i = 0; i < json_count(models); i++) {
        char name[1024];
        model_label(name, sizeof name, sec, i, ctx);
        const json_value *m = json_at(models, i);
        char what[8192];
        snprintf(what, sizeof what, "%s%s", str_or(m, "path", "?"),
                 !strcmp(str_or(m, "mode", ""), "endpoint") ? tr(ctx, " (through its server)", " (서버를 통해)") : "");
        s->item(s, 0, name, what);
    }
    s->list_end(s);
    const json_value *bats = json_get(sec, "batteries");
    size_t n = json_count(models);
    const char *heads[64], *bodies[64], *notes[64];
    char names[64][1024];
    strbuf nb[64];
    if (n > 64) n = 64;
    for (size_t i = 0; i < n; i++) {
        model_label(names[i], sizeof names[i], sec, i, ctx);
        heads[i] = names[i];
    }
    for (size_t b = 0; b < json_count(bats); b++) {
        const json_value *bat = json_at(bats, b), *qs = json_get(bat, "questions");
        char title[2048];
        snprintf(title, sizeof title, "%s (%s)", kind_text(str_or(bat, "kind", "plain"), ctx), str_or(bat, "version", "?"));
        s->heading(s, 3, title);
        for (size_t q = 0; q < json_count(qs); q++) {
            const json_value *qo = json_at(qs, q), *answers = json_get(qo, "answers");
            strbuf t;
            sb_init(&t);
            sb_printf(&t, "[%s] %s", str_or(qo, "id", "?"), str_or(qo, "question", ""));
            size_t na = json_count(answers) < n ? json_count(answers) : n;
            for (size_t i = 0; i < na; i++) {
                const json_value *a = json_at(answers, i);
                sb_init(&nb[i]);
                answer_note(&nb[i], a, qo, ctx);
                bodies[i] = str_or(a, "text", "");
                notes[i] = nb[i].data ? nb[i].data : "";
            }
            s->cards(s, t.data ? t.data : "", heads, bodies, notes, na);
            for (size_t i = 0; i < na; i++) sb_free(&nb[i]);
            sb_free(&t);
        }
        summaries(s, sec, bat);
    }
    const json_value *clues = json_get(sec, "identity_clues");
    s->heading(s, 3, tr(ctx, "Identity claims: clues about training data, not evidence about weights",
                        "정체성 주장: 학습 데이터에 대한 단서이며 가중치에 대한 근거가 아님"));
    if (!json_count(clues))
        s->para(s, NULL, tr(ctx, "No answer to an identity question names a listed organisation or model.",
                            "정체성 질문에 대한 답변 중 목록의 조직이나 모델을 언급한 것이 없습니다."));
    for (size_t i = 0; i < json_count(clues); i++) {
        const json_value *c = json_at(clues, i);
        int64_t m = 0;
        json_get_int(c, "model", &m);
        char name[1024];
        model_label(name, sizeof name, sec, (size_t)m, ctx);
        /* the stored sentence names the model by its label; rebuilt here in the report language */
        int64_t k = 0, of = 0;
        json_get_int(c, "answers", &k);
        json_get_int(c, "of", &of);
        char line[4096];
        if (ctx->korean)
            snprintf(line, sizeof line, "모델 %s의 정체성 답변 %lld개 중 %lld개가 %s을(를) 언급합니다: 학습 데이터에 대한 "
                                        "단서이며(그 조직 모델의 출력으로 학습했을 수 있음) 가중치에 대한 근거가 아닙니다",
                     name, (long long)of, (long long)k, str_or(c, "organisation", "?"));
        else
            snprintf(line, sizeof line, "%s names %s in %lld of %lld identity answers: a clue about its training data (it "
                                        "may have been trained on that organisation's model outputs), not evidence about its weights",
                     name, str_or(c, "organisation", "?"), (long long)k, (long long)of);
        s->item(s, 0, NULL, line);
    }
    s->list_end(s);
    agreement(s, sec);
}
