/* "activations" section of lineage.report/1 through any sink: the findings first, then the neuron
 * matching per layer, the CKA summary with its controls, the layer map and a small CKA table. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/report.h"
#include "report/text_util.h"

#define TEXT_MAX_TABLE 12   /* larger CKA matrices only in the HTML heatmap */

static double num(const json_value *o, const char *k)
{
    double v = 0;
    json_get_double(o, k, &v);
    return v;
}

static void neuron_lines(doc_sink *sk, const json_value *nm)
{
    const render_ctx *ctx = sk->ctx;
    char v[256];
    const char *status = json_get_string(nm, "status");
    if (status && strcmp(status, "ok")) {
        snprintf(v, sizeof v, "%s: %s", tr(ctx, "not run", "실행 안 함"),
                 json_get_string(nm, "reason") ? json_get_string(nm, "reason") : "?");
        sk->row(sk, tr(ctx, "neuron matching", "뉴런 대응"), v);
        return;
    }
    const json_value *per = json_get(nm, "per_layer"), *c = json_get(nm, "combined");
    snprintf(v, sizeof v, tr(ctx, "Fisher p %.3g over %zu layers, mean Spearman %.3f (%lld tokens)",
                             "Fisher p %.3g, %zu개 층, 평균 Spearman %.3f (토큰 %lld개)"),
             num(nm, "fisher_p"), json_count(per), num(c, "mean_spearman"), (long long)num(nm, "tokens"));
    sk->row(sk, tr(ctx, "neuron matching", "뉴런 대응"), v);
    for (size_t i = 0; i < json_count(per); i++) {
        const json_value *e = json_at(per, i);
        char label[64], ex[48] = "";
        int64_t la = 0, lb = 0, x = -1;
        json_get_int(e, "layer_a", &la);
        json_get_int(e, "layer_b", &lb);
        snprintf(label, sizeof label, "  %s %lld - %lld", tr(ctx, "layer", "층"), (long long)la, (long long)lb);
        if (json_get_int(e, "expert", &x)) snprintf(ex, sizeof ex, ", %s %lld", tr(ctx, "expert", "전문가"), (long long)x);
        snprintf(v, sizeof v, tr(ctx, "Spearman %.3f, p %.3g, %lld neurons%s", "Spearman %.3f, p %.3g, 뉴런 %lld개%s"), num(e, "spearman"),
                 num(e, "p"), (long long)num(e, "neurons"), ex);
        sk->row(sk, label, v);
    }
}

static void cka_lines(doc_sink *sk, const json_value *cka)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    char v[4096];
    const json_value *nl = json_get(cka, "null"), *wa = json_get(cka, "within_a"), *wb = json_get(cka, "within_b");
    snprintf(v, sizeof v, tr(ctx, "%.3f (B's tokens shuffled: mean %.3f, 95th percentile %.3f, p %.3g)",
                             "%.3f (B 토큰을 섞었을 때: 평균 %.3f, 95백분위 %.3f, p %.3g)"),
             num(cka, "best_mean"), num(nl, "mean"), num(nl, "p95"), num(nl, "p"));
    sk->row(sk, tr(ctx, "CKA, best layers", "CKA, 최적 층"), v);
    snprintf(v, sizeof v, tr(ctx, "adjacent layers: A %.3f, B %.3f; all pairs: A %.3f, B %.3f",
                             "인접 층: A %.3f, B %.3f; 모든 쌍: A %.3f, B %.3f"),
             num(wa, "adjacent_mean"), num(wb, "adjacent_mean"), num(wa, "mean_offdiagonal"), num(wb, "mean_offdiagonal"));
    sk->row(sk, tr(ctx, "CKA within a model", "모델 내부 CKA"), v);
    const json_value *lm = json_get(cka, "layer_map"), *map = json_get(lm, "map");
    size_t len = 0;
    v[0] = 0;
    for (size_t j = 0; j < json_count(map) && len + 8 < sizeof v; j++) {
        int64_t m = -1;
        const json_value *e = json_at(map, j);
        if (e && e->type == JSON_NUMBER) m = e->u.number.i;
        len += (size_t)(m >= 0 ? snprintf(v + len, sizeof v - len, "%s%lld", j ? " " : "", (long long)m)
                               : snprintf(v + len, sizeof v - len, "%s-", j ? " " : ""));
    }
    if (len + 40 < sizeof v)
        snprintf(v + len, sizeof v - len, tr(ctx, "  (%lld repeats)", "  (반복 %lld개)"), (long long)num(lm, "repeats"));
    sk->row(sk, tr(ctx, "CKA layer map (B→A)", "CKA 층 대응 (B→A)"), v);
    const json_value *m = json_get(cka, "matrix");
    size_t rows = json_count(m), cols = json_count(json_at(m, 0));
    if (!rows || rows > TEXT_MAX_TABLE || cols > TEXT_MAX_TABLE) return;
    if (!sk->terminal) {   /* the same matrix as a table (the HTML heatmap shows any size) */
        sk->line(sk, DOC_DIM, tr(ctx, "CKA (rows A, columns B)", "CKA (행 A, 열 B)"));
        const char *hd[TEXT_MAX_TABLE + 1];
        char names[TEXT_MAX_TABLE + 1][16], cells[TEXT_MAX_TABLE + 1][16];
        hd[0] = "";
        for (size_t j = 0; j < cols; j++) {
            snprintf(names[j + 1], sizeof names[j + 1], "B%zu", j);
            hd[j + 1] = names[j + 1];
        }
        sk->table_begin(sk, hd, cols + 1);
        for (size_t i = 0; i < rows; i++) {
            const char *row[TEXT_MAX_TABLE + 1];
            snprintf(cells[0], sizeof cells[0], "A%zu", i);
            row[0] = cells[0];
            const json_value *r = json_at(m, i);
            for (size_t j = 0; j < cols; j++) {
                const json_value *e = json_at(r, j);
                snprintf(cells[j + 1], sizeof cells[j + 1], "%.3f", e && e->type == JSON_NUMBER ? e->u.number.d : 0.0);
                row[j + 1] = cells[j + 1];
            }
            sk->table_row(sk, row, cols + 1);
        }
        sk->table_end(sk);
        return;
    }
    sb_printf(sb, "  %s%s%s\n      ", c_dim(ctx), tr(ctx, "CKA (rows A, columns B)", "CKA (행 A, 열 B)"), c_off(ctx));
    for (size_t j = 0; j < cols; j++) sb_printf(sb, " B%-5zu", j);
    sb_putc(sb, '\n');
    for (size_t i = 0; i < rows; i++) {
        sb_printf(sb, "    A%-2zu", i);
        const json_value *row = json_at(m, i);
        for (size_t j = 0; j < json_count(row); j++) {
            const json_value *e = json_at(row, j);
            sb_printf(sb, " %6.3f", e && e->type == JSON_NUMBER ? e->u.number.d : 0.0);
        }
        sb_putc(sb, '\n');
    }
}

void doc_activations(doc_sink *sk, const json_value *s)
{
    const render_ctx *ctx = sk->ctx;
    sk->heading(sk, 2, tr(ctx, "Activations", "활성값"));
    const char *status = json_get_string(s, "status");
    if (!status || strcmp(status, "ok")) {
        doc_linef(sk, 0, "%s: %s", tr(ctx, "Not run", "실행하지 않음"),
                  json_get_string(s, "reason") ? json_get_string(s, "reason") : "?");
        return;
    }
    const json_value *fl = json_get(s, "findings");
    for (size_t i = 0; i < json_count(fl); i++) {
        const json_value *f = json_at(fl, i);
        const char *text = json_get_string(json_get(f, "text"), ctx->korean ? "ko" : "en");
        const char *dir = json_get_string(f, "direction");
        int style = dir && !strcmp(dir, "derived") ? DOC_WARN : dir && !strcmp(dir, "independent") ? DOC_GOOD : DOC_PLAIN;
        if (text) sk->line(sk, style, text);
    }
    const json_value *t = json_get(s, "tokens"), *al = json_get(s, "alignment"), *ly = json_get(s, "layers");
    char v[256];
    snprintf(v, sizeof v, tr(ctx, "%lld aligned positions from %lld probes (%s tokenizer); %lld for CKA",
                             "정렬 위치 %lld개, 시험 문장 %lld개 (%s 토크나이저); CKA에 %lld개"),
             (long long)num(t, "used"), (long long)num(t, "probes"),
             json_is_true(json_get(al, "shared_tokenizer")) ? tr(ctx, "shared", "공유") : tr(ctx, "byte-aligned", "바이트 정렬"),
             (long long)num(t, "cka"));
    sk->row(sk, tr(ctx, "tokens", "토큰"), v);
    snprintf(v, sizeof v, "A %lld, B %lld", (long long)num(ly, "a"), (long long)num(ly, "b"));
    sk->row(sk, tr(ctx, "layers", "층"), v);
    neuron_lines(sk, json_get(s, "neuron_matching"));
    cka_lines(sk, json_get(s, "cka"));
}
