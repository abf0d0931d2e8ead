/* Terminal rendering of the verdict: the answer first, then the reasons. */
#include <stdio.h>
#include <string.h>

#include "report/report.h"

const char *verdict_label_text(const char *label, const render_ctx *ctx)
{
    if (!strcmp(label, "identical")) return tr(ctx, "identical", "동일");
    if (!strcmp(label, "derived")) return tr(ctx, "derived", "파생");
    if (!strcmp(label, "independent")) return tr(ctx, "independent", "독립");
    return tr(ctx, "inconclusive", "판단 불가");
}

/* "confidence 0.73"; an inconclusive verdict at 0 had no weight comparison at all (verdict.c sets 0 then;
 * docs/METHODOLOGY.md's 1 - max(D, I) covers weights that were compared), so the number is not shown. */
void confidence_text(char *buf, size_t n, const char *label, double conf, const render_ctx *ctx)
{
    if (label && !strcmp(label, "inconclusive") && conf == 0)
        snprintf(buf, n, "%s", tr(ctx, "no weight comparison, no confidence", "가중치를 비교하지 못해 신뢰도 없음"));
    else snprintf(buf, n, "%s %.2f", tr(ctx, "confidence", "신뢰도"), conf);
}

static void relations(strbuf *sb, const json_value *rel)
{
    for (size_t i = 0; i < json_count(rel); i++) {
        const json_value *r = json_at(rel, i);
        if (r->type == JSON_STRING) sb_printf(sb, "%s%s", i ? ", " : "", r->u.string.s);
    }
}

void render_verdict_text(strbuf *sb, const json_value *v, const render_ctx *ctx)
{
    const char *label = json_get_string(v, "label");
    if (!label) label = "inconclusive";
    double conf = 0;
    json_get_double(v, "confidence", &conf);
    const char *col = !strcmp(label, "independent") ? c_good(ctx) : !strcmp(label, "inconclusive") ? c_dim(ctx) : c_warn(ctx);
    sb_printf(sb, "%s%s: %s%s%s", c_bold(ctx), tr(ctx, "Verdict", "판정"), col, verdict_label_text(label, ctx), c_off(ctx));
    const json_value *rel = json_get(v, "relation");
    if (json_count(rel)) {
        sb_puts(sb, " (");
        relations(sb, rel);
        sb_puts(sb, ")");
    }
    char ct[96];
    confidence_text(ct, sizeof ct, label, conf, ctx);
    sb_printf(sb, "  %s\n", ct);
    const char *dir = json_get_string(v, "direction");
    if (dir && !strcmp(label, "derived"))
        sb_printf(sb, "  %s: %s\n", tr(ctx, "Direction", "방향"),
                  !strcmp(dir, "b_from_a") ? tr(ctx, "A -> B (B derived from A)", "A -> B (B가 A에서 파생)")
                  : !strcmp(dir, "a_from_b") ? tr(ctx, "B -> A (A derived from B)", "B -> A (A가 B에서 파생)")
                                             : tr(ctx, "undetermined from the weights", "가중치로 판단 불가"));
    const json_value *comps = json_get(v, "components");
    for (size_t i = 0; comps && i < comps->u.object.count; i++) {
        const json_member *m = &comps->u.object.members[i];
        const char *cl = json_get_string(m->value, "label");
        double cc = 0;
        json_get_double(m->value, "confidence", &cc);
        sb_printf(sb, "  %-10s %s", m->key, verdict_label_text(cl ? cl : "inconclusive", ctx));
        const json_value *cr = json_get(m->value, "relation");
        if (json_count(cr)) {
            sb_puts(sb, " (");
            relations(sb, cr);
            sb_puts(sb, ")");
        }
        sb_printf(sb, "  %.2f\n", cc);
    }
    const json_value *reasons = json_get(v, ctx->korean ? "reasons_ko" : "reasons");
    for (size_t i = 0; i < json_count(reasons); i++) {
        const json_value *r = json_at(reasons, i);
        if (r->type == JSON_STRING) sb_printf(sb, "  - %s\n", r->u.string.s);
    }
    const json_value *claims = json_get(v, "clues");
    if (json_count(claims))
        sb_printf(sb, "  %s\n", tr(ctx, "Clues (editable metadata, never evidence):", "단서 (수정 가능한 메타데이터이며 증거가 아님):"));
    for (size_t i = 0; i < json_count(claims); i++) {
        const char *t = json_get_string(json_at(claims, i), ctx->korean ? "ko" : "en");
        if (!t) continue;
        sb_puts(sb, "  * ");
        for (const char *p = t; *p; p++) sb_putc(sb, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);   /* card text */
        sb_putc(sb, '\n');
    }
    sb_putc(sb, '\n');
}

void render_verify_text(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const char *parent = json_get_string(root, "parent");
    double margin = 0;
    json_get_double(root, "margin", &margin);
    if (parent)
        sb_printf(sb, "%s%s:%s %s  (%s %.3f)\n", c_bold(ctx), tr(ctx, "Parent", "부모 모델"), c_off(ctx), parent,
                  tr(ctx, "margin over the next candidate", "다음 후보와의 차이"), margin);
    else
        sb_printf(sb, "%s%s%s  (%s %.3f)\n", c_bold(ctx),
                  tr(ctx, "No candidate is clearly the parent", "뚜렷한 부모 후보 없음"), c_off(ctx),
                  tr(ctx, "margin", "차이"), margin);
    const json_value *cands = json_get(root, "candidates");
    for (size_t i = 0; i < json_count(cands); i++) {
        const json_value *c = json_at(cands, i);
        const char *lab = json_get_string(c, "label");
        double conf = 0, score = 0;
        json_get_double(c, "confidence", &conf);
        json_get_double(c, "score", &score);
        sb_printf(sb, "  %zu. %-40s %-12s", i + 1, json_get_string(c, "reference"),
                  verdict_label_text(lab ? lab : "inconclusive", ctx));
        const json_value *rel = json_get(c, "relation");
        for (size_t k = 0; k < json_count(rel); k++)
            sb_printf(sb, "%s%s", k ? "," : " ", relation_kind_text(json_at(rel, k)->u.string.s, ctx));
        char ct[96];
        confidence_text(ct, sizeof ct, lab, conf, ctx);
        sb_printf(sb, "  %s  %s %.3f\n", ct, tr(ctx, "score", "점수"), score);
        /* beside the weights: tokenizer and architecture, which never decide derivation on their own */
        const json_value *t = json_get(c, "tokenizer"), *a = json_get(c, "architecture");
        double al = -1, jac = -1;
        int64_t nd = -1;
        json_get_double(t, "id_aligned_of_smaller", &al);
        json_get_double(t, "jaccard", &jac);
        json_get_int(a, "fields_differ", &nd);
        sb_printf(sb, "       %s ", tr(ctx, "tokenizer:", "토크나이저:"));
        if (t && json_get_string(t, "relation"))
            sb_printf(sb, tr(ctx, "%s, %.1f%% same id, Jaccard %.3f", "%s, 같은 ID %.1f%%, 자카드 %.3f"),
                      relation_kind_text(json_get_string(t, "relation"), ctx), 100 * al, jac);
        else sb_puts(sb, tr(ctx, "not compared", "비교 안 함"));
        if (nd >= 0) sb_printf(sb, tr(ctx, "; architecture: %lld fields differ", "; 아키텍처: 다른 항목 %lld개"), (long long)nd);
        sb_putc(sb, '\n');
    }
    const char *tc = json_get_string(root, "tokenizer_closest");
    if (tc)
        sb_printf(sb, "  %s %s\n  %s\n", tr(ctx, "Tokenizer closest (same ids):", "토크나이저가 가장 가까운 후보(같은 ID):"), tc,
                  tr(ctx, "A shared tokenizer is a tokenizer finding, not weight derivation; only the weights name a parent.",
                     "토크나이저 공유는 토크나이저에 관한 사실일 뿐 가중치 파생이 아닙니다. 부모 모델은 가중치로만 정합니다."));
    render_verify_behaviour_text(sb, root, ctx);
}
