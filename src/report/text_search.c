/* lineage.search/1 and lineage.index/1 through any sink, and the journal entry of a search: each
 * candidate with its calibrated score, the signals that put it there and the margin to the next. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/report.h"
#include "report/text_util.h"
#include "util/sanitize.h"

/* Index names, sources and summaries are untrusted. */
static void put_safe(strbuf *sb, const char *s)
{
    if (s) sanitize_terminal(sb, s, strlen(s), 0);
}

static const char *signal_label(const char *name, const render_ctx *ctx)
{
    static const char *const names[][3] = {
        {"embedding_gram", "embedding rows of shared tokens", "공유 토큰 임베딩 행"},
        {"lm_head_gram", "lm_head rows of shared tokens", "공유 토큰 lm_head 행"},
        {"layer_profile", "per-layer std profile", "층별 표준편차 프로파일"},
        {"row_norm_quantiles", "sorted row-norm quantiles", "정렬된 행 노름 분위수"},
        {"norm_sketches", "centred norm-vector sketches", "중심화한 정규화 벡터 스케치"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i][0], name)) return tr(ctx, names[i][1], names[i][2]);
    return name;
}

/* The signals with z >= 3, strongest first (at most three), as "label z=.. (r=..)". */
static void strongest_signals(strbuf *sb, const json_value *c, const render_ctx *ctx)
{
    const json_value *sigs = json_get(c, "signals");
    int used[16] = {0}, shown = 0;
    for (int k = 0; k < 3; k++) {
        int best = -1;
        double bz = 3;
        for (size_t i = 0; i < json_count(sigs) && i < 16; i++) {
            double z;
            if (!used[i] && json_get_double(json_at(sigs, i), "z", &z) && z >= bz) { bz = z; best = (int)i; }
        }
        if (best < 0) break;
        used[best] = 1;
        const json_value *s = json_at(sigs, (size_t)best);
        double v = 0;
        json_get_double(s, "value", &v);
        const char *name = json_get_string(s, "signal");
        sb_printf(sb, "%s%s z=%.1f (r=%.3f)", shown++ ? "; " : "", signal_label(name ? name : "?", ctx), bz, v);
    }
    if (!shown) sb_puts(sb, tr(ctx, "no signal above z=3", "z=3을 넘는 신호 없음"));
}

void doc_search(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const json_value *ix = json_get(root, "index"), *cands = json_get(root, "candidates"), *fp = json_get(root, "fingerprint");
    int64_t entries = 0, scored = 0, bytes = 0, sample = 0;
    json_get_int(ix, "entries", &entries);
    json_get_int(ix, "candidates_scored", &scored);
    json_get_int(fp, "bytes", &bytes);
    json_get_int(json_get(root, "null"), "sample", &sample);
    if (sk->terminal) {
        sb_printf(sb, "%s", c_bold(ctx));
        put_safe(sb, json_get_string(root, "model"));
        sb_printf(sb, "%s\n", c_off(ctx));
    }
    const char *ixname = json_get_string(ix, "index");
    doc_rowf(sk, tr(ctx, "index", "인덱스"), tr(ctx, "%s (%s), %lld entries", "%s (%s), 항목 %lld개"), ixname ? ixname : "?",
             json_get_string(ix, "engine") ? json_get_string(ix, "engine") : "?", (long long)entries);
    doc_rowf(sk, tr(ctx, "candidates", "후보"), tr(ctx, "%lld retrieved by LSH keys, scored exactly", "LSH 키로 %lld개를 찾아 정밀 점수 계산"),
             (long long)scored);
    double zt = NAN;
    json_get_double(root, "z_threshold", &zt);
    int calibrated = 0;
    json_get_bool(root, "calibrated", &calibrated);
    if (calibrated)
        doc_rowf(sk, tr(ctx, "null", "귀무 분포"),
                 tr(ctx, "%lld random entries; significant when z > %.2f (p < 0.01 after Bonferroni over %lld)",
                    "무작위 항목 %lld개; z > %.2f이면 유의 (항목 %lld개 본페로니 보정 후 p < 0.01)"),
                 (long long)sample, zt, (long long)entries);
    else
        doc_rowf(sk, tr(ctx, "null", "귀무 분포"), tr(ctx, "%lld entries: too few to calibrate, ranks only", "항목 %lld개: 보정하기에 너무 적어 순위만 제시"),
                 (long long)sample);
    doc_rowf(sk, tr(ctx, "fingerprint", "지문"), "%lld %s", (long long)bytes, tr(ctx, "bytes", "바이트"));
    if (sk->terminal) sb_putc(sb, '\n');
    if (!json_count(cands)) {
        if (sk->terminal) sb_printf(sb, "%s\n", tr(ctx, "No candidate shares a retrieval key with this model.", "검색 키를 공유하는 후보가 없습니다."));
        else sk->para(sk, NULL, tr(ctx, "No candidate shares a retrieval key with this model.", "검색 키를 공유하는 후보가 없습니다."));
        return;
    }
    if (!sk->terminal) {
        sk->heading(sk, 2, tr(ctx, "Candidates", "후보"));
        const char *cols[] = {"#", tr(ctx, "model", "모델"), "z", tr(ctx, "p (corrected)", "p (보정 후)"),
                              tr(ctx, "margin to the next", "다음 후보와의 차이"), tr(ctx, "significant", "유의"),
                              tr(ctx, "strongest signals", "가장 강한 신호"), tr(ctx, "vocabulary Jaccard", "어휘 자카드")};
        sk->table_begin(sk, cols, 8);
    }
    for (size_t i = 0; i < json_count(cands); i++) {
        const json_value *c = json_at(cands, i);
        double z = NAN, margin = NAN, padj = NAN, tj = NAN;
        int sig = 0;
        json_get_double(c, "z", &z);
        json_get_double(c, "margin", &margin);
        json_get_double(c, "p_adjusted", &padj);
        json_get_bool(c, "significant", &sig);
        int has_tj = json_get_double(json_get(c, "tokenizer"), "vocab_jaccard", &tj);
        strbuf sigs;
        sb_init(&sigs);
        strongest_signals(&sigs, c, ctx);
        if (!sk->terminal) {
            char idx[24], cz[32], cp[32], cm[32], cj[32];
            snprintf(idx, sizeof idx, "%zu", i + 1);
            snprintf(cz, sizeof cz, isfinite(z) ? "%.1f" : "-", z);
            snprintf(cp, sizeof cp, isfinite(padj) ? "%.2g" : "-", padj);
            snprintf(cm, sizeof cm, isfinite(margin) ? "%.1f" : "-", margin);
            snprintf(cj, sizeof cj, has_tj ? "%.2f" : "-", tj);
            const char *name = json_get_string(c, "name");
            const char *cells[] = {idx, name ? name : "?", cz, cp, cm, sig ? tr(ctx, "yes", "예") : tr(ctx, "no", "아니요"), sb_str(&sigs), cj};
            sk->table_row(sk, cells, 8);
            sb_free(&sigs);
            continue;
        }
        sb_printf(sb, "%2zu. %s", i + 1, sig ? c_good(ctx) : "");
        put_safe(sb, json_get_string(c, "name"));
        if (isfinite(z)) sb_printf(sb, "%s  z=%.1f", sig ? c_off(ctx) : "", z);
        else sb_printf(sb, "%s  z=-", sig ? c_off(ctx) : "");   /* too few unrelated entries to calibrate */
        if (isfinite(padj)) sb_printf(sb, "  p_adj=%.2g", padj);
        if (isfinite(margin)) sb_printf(sb, "  %s %.1f", tr(ctx, "margin", "차이"), margin);
        sb_printf(sb, "  %s%s%s\n", sig ? c_good(ctx) : c_dim(ctx),
                  sig ? tr(ctx, "significant", "유의") : tr(ctx, "not significant", "유의하지 않음"), c_off(ctx));
        sb_printf(sb, "    %s", sb_str(&sigs));
        if (has_tj) sb_printf(sb, "; %s %.2f", tr(ctx, "vocab Jaccard", "어휘 자카드"), tj);
        sb_putc(sb, '\n');
        sb_free(&sigs);
    }
    if (!sk->terminal) {
        sk->table_end(sk);
        sk->line(sk, DOC_DIM, tr(ctx, "z: how many standard deviations of the unrelated entries a candidate's score lies above their mean; "
                                      "margin: the z gap to the next candidate; signals with z of at least 3 are listed.",
                                 "z: 후보의 점수가 관련 없는 항목들의 평균에서 그 표준편차의 몇 배만큼 높은지. "
                                 "차이: 다음 후보와의 z 차이. z가 3 이상인 신호만 적습니다."));
    }
    const char *best = json_get_string(root, "best");
    if (sk->terminal) {
        sb_putc(sb, '\n');
        if (best) {
            sb_printf(sb, "%s%s ", c_bold(ctx), tr(ctx, "Closest known model:", "가장 가까운 알려진 모델:"));
            put_safe(sb, best);
            sb_printf(sb, "%s\n", c_off(ctx));
        } else
            sb_printf(sb, "%s\n", tr(ctx, "No indexed model is significantly close to this one.", "이 모델과 유의하게 가까운 인덱스 모델이 없습니다."));
    } else if (best) sk->para(sk, tr(ctx, "Closest known model:", "가장 가까운 알려진 모델:"), best);
    else sk->para(sk, NULL, tr(ctx, "No indexed model is significantly close to this one.", "이 모델과 유의하게 가까운 인덱스 모델이 없습니다."));
}

void doc_index(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const json_value *models = json_get(root, "models");
    if (!sk->terminal && json_count(models)) {
        const char *cols[] = {tr(ctx, "model", "모델"), tr(ctx, "summary", "요약"), tr(ctx, "added", "추가한 날")};
        sk->table_begin(sk, cols, 3);
    }
    for (size_t i = 0; i < json_count(models); i++) {
        const json_value *m = json_at(models, i);
        const char *name = json_get_string(m, "name"), *sum = json_get_string(m, "summary"), *added = json_get_string(m, "added");
        if (!sk->terminal) {
            const char *cells[] = {name ? name : "?", sum ? sum : "", added ? added : ""};
            sk->table_row(sk, cells, 3);
            continue;
        }
        put_safe(sb, name);
        sb_puts(sb, "  ");
        sb_puts(sb, c_dim(ctx));
        put_safe(sb, sum);
        sb_puts(sb, "  ");
        put_safe(sb, added);
        sb_printf(sb, "%s\n", c_off(ctx));
    }
    if (!sk->terminal && json_count(models)) sk->table_end(sk);
    if (sk->terminal) sb_printf(sb, tr(ctx, "%zu entries\n", "항목 %zu개\n"), json_count(models));
    else doc_linef(sk, 0, tr(ctx, "%zu entries", "항목 %zu개"), json_count(models));
}

/* The journal's answer to "which known model is this?": the closest significant entry, then every
 * candidate with its z, margin and strongest signals (the question is the entry's heading). */
void journal_search_entry(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const char *best = json_get_string(root, "best");
    sb_printf(sb, "**%s**: ", tr(ctx, "Answer", "답변"));
    if (best) {
        sanitize_markdown_code(sb, best);
        sb_puts(sb, tr(ctx, " (significant after correction).", " (보정 후 유의)."));
    } else sb_puts(sb, tr(ctx, "No indexed model is significantly close.", "유의하게 가까운 인덱스 모델이 없습니다."));
    sb_puts(sb, "\n\n");
    const json_value *cands = json_get(root, "candidates");
    if (!json_count(cands)) return;
    sb_printf(sb, "| # | %s | z | %s | %s |\n|---|---|---|---|---|\n", tr(ctx, "model", "모델"),
              tr(ctx, "margin to the next", "다음 후보와의 차이"), tr(ctx, "strongest signals", "가장 강한 신호"));
    for (size_t i = 0; i < json_count(cands); i++) {
        const json_value *c = json_at(cands, i);
        double z = NAN, margin = NAN;
        json_get_double(c, "z", &z);
        json_get_double(c, "margin", &margin);
        const char *name = json_get_string(c, "name");
        strbuf cell;
        sb_init(&cell);   /* '|' in a name would split the cell: escaped inside the code span */
        for (const char *p = name ? name : "?"; *p; p++) {
            if (*p == '|') sb_putc(&cell, '\\');
            sb_putc(&cell, *p);
        }
        sb_printf(sb, "| %zu | ", i + 1);
        sanitize_markdown_code(sb, sb_str(&cell));
        sb_free(&cell);
        sb_printf(sb, isfinite(z) ? " | %.1f" : " | -", z);
        sb_printf(sb, isfinite(margin) ? " | %.1f | " : " | - | ", margin);
        strbuf sig;
        sb_init(&sig);
        strongest_signals(&sig, c, ctx);
        sanitize_markdown(sb, sb_str(&sig));
        sb_free(&sig);
        sb_puts(sb, " |\n");
    }
}
