/* The verdict (terminal) and verify (any sink): the answer first, then the reasons. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/msg.h"
#include "report/report.h"
#include "report/text_util.h"

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

/* relation kinds in the report language ("depth_upscaled" -> "깊이 확장") */
static void relations(strbuf *sb, const json_value *rel, const render_ctx *ctx)
{
    for (size_t i = 0; i < json_count(rel); i++) {
        const json_value *r = json_at(rel, i);
        if (r->type == JSON_STRING) sb_printf(sb, "%s%s", i ? ", " : "", relation_kind_text(r->u.string.s, ctx));
    }
}

/* The index of the reason that states the direction (the verdict line already gives it), or -1. */
static long direction_reason(const json_value *v)
{
    const json_value *en = json_get(v, "reasons");
    for (size_t i = 0; i < json_count(en); i++) {
        const json_value *r = json_at(en, i);
        if (r->type == JSON_STRING && !strncmp(r->u.string.s, "Direction", 9)) return (long)i;
    }
    return -1;
}

/* A metadata clue from its codes: "B's metadata names base model 'x' (the weights say: derived)". Korean
 * avoids a particle after the claimed name. */
static void clue_text(strbuf *sb, const json_value *c, const json_value *v, const render_ctx *ctx)
{
    const char *model = json_get_string(c, "model"), *kind = json_get_string(c, "kind"), *claim = json_get_string(c, "claim");
    const char *what = !kind ? NULL
                       : !strcmp(kind, "card_base_model") || !strcmp(kind, "gguf_base_model") ? tr(ctx, "base model", "베이스 모델")
                       : !strcmp(kind, "card_base_model_relation") ? tr(ctx, "relation to its base", "베이스 모델과의 관계")
                       : !strcmp(kind, "config_name_or_path") ? "_name_or_path" : NULL;
    if (!model || !what || !claim) {   /* a clue this renderer does not know: its own text */
        const char *t = json_get_string(c, ctx->korean ? "ko" : "en");
        sb_puts(sb, t ? t : "?");
        return;
    }
    const char *label = json_get_string(v, "label");
    strbuf say;
    sb_init(&say);
    sb_puts(&say, verdict_label_text(label ? label : "inconclusive", ctx));
    const json_value *rel = json_get(v, "relation");
    if (json_count(rel)) {
        sb_puts(&say, " (");
        relations(&say, rel, ctx);
        sb_puts(&say, ")");
    }
    const char *side = !strcmp(model, "a") ? "A" : "B";
    if (ctx->korean) sb_printf(sb, "모델 %s의 메타데이터에 적힌 %s: '%s'; 가중치 판정은 %s", side, what, claim, sb_str(&say));
    else sb_printf(sb, "%s's metadata claims %s '%s'; the weights say: %s", side, what, claim, sb_str(&say));
    sb_free(&say);
}

void doc_verdict(doc_sink *sk, const json_value *v)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const char *label = json_get_string(v, "label");
    if (!label) label = "inconclusive";
    double conf = 0;
    json_get_double(v, "confidence", &conf);
    const char *col = !strcmp(label, "independent") ? c_good(ctx) : !strcmp(label, "inconclusive") ? c_dim(ctx) : c_warn(ctx);
    strbuf l;
    sb_init(&l);
    const json_value *rel = json_get(v, "relation");
    if (json_count(rel)) {
        sb_puts(&l, " (");
        relations(&l, rel, ctx);
        sb_puts(&l, ")");
    }
    char ct[96];
    confidence_text(ct, sizeof ct, label, conf, ctx);
    if (sk->terminal)
        sb_printf(sb, "%s%s: %s%s%s%s  %s\n", c_bold(ctx), tr(ctx, "Verdict", "판정"), col, verdict_label_text(label, ctx), c_off(ctx),
                  sb_str(&l), ct);
    else {
        strbuf t;
        sb_init(&t);
        sb_printf(&t, "%s%s - %s", verdict_label_text(label, ctx), sb_str(&l), ct);
        sk->para(sk, tr(ctx, "Verdict:", "판정:"), sb_str(&t));
        sb_free(&t);
    }
    sb_free(&l);
    const char *dir = json_get_string(v, "direction");
    /* one direction line: ours for a direction the weights gave (its reason skipped below), the reason's
     * explanation when they could not give one */
    int known = dir && (!strcmp(dir, "b_from_a") || !strcmp(dir, "a_from_b"));
    long dir_reason = direction_reason(v);
    if (dir && !strcmp(label, "derived") && (known || dir_reason < 0))
        doc_linef(sk, 0, "%s: %s", tr(ctx, "Direction", "방향"),
                  !strcmp(dir, "b_from_a") ? tr(ctx, "A -> B (B derived from A, from the weights)", "A -> B (B가 A에서 파생, 가중치로 판단)")
                  : !strcmp(dir, "a_from_b") ? tr(ctx, "B -> A (A derived from B, from the weights)", "B -> A (A가 B에서 파생, 가중치로 판단)")
                                             : tr(ctx, "undetermined from the weights", "가중치로 판단 불가"));
    const json_value *comps = json_get(v, "components");
    for (size_t i = 0; comps && i < comps->u.object.count; i++) {
        const json_member *m = &comps->u.object.members[i];
        const char *cl = json_get_string(m->value, "label");
        double cc = 0;
        json_get_double(m->value, "confidence", &cc);
        strbuf c;
        sb_init(&c);
        sb_puts(&c, verdict_label_text(cl ? cl : "inconclusive", ctx));
        const json_value *cr = json_get(m->value, "relation");
        if (json_count(cr)) {
            sb_puts(&c, " (");
            relations(&c, cr, ctx);
            sb_puts(&c, ")");
        }
        const char *name = msg_code("compname", m->key, ctx);
        if (sk->terminal) {   /* padded by terminal columns */
            sb_printf(sb, "  %s", name);
            for (size_t k = text_width(name); k < 10; k++) sb_putc(sb, ' ');
            sb_printf(sb, " %s  %.2f\n", sb_str(&c), cc);
        } else doc_rowf(sk, name, "%s  %.2f", sb_str(&c), cc);
        sb_free(&c);
    }
    const json_value *reasons = json_get(v, ctx->korean ? "reasons_ko" : "reasons");
    long skip = known && !strcmp(label, "derived") ? dir_reason : -1;
    for (size_t i = 0; i < json_count(reasons); i++) {
        const json_value *r = json_at(reasons, i);
        if (r->type == JSON_STRING && (long)i != skip) sk->item(sk, 0, NULL, r->u.string.s);
    }
    sk->list_end(sk);
    const json_value *claims = json_get(v, "clues");
    if (json_count(claims)) sk->line(sk, 0, tr(ctx, "Clues (editable metadata, never evidence):", "단서 (수정 가능한 메타데이터이며 증거가 아님):"));
    for (size_t i = 0; i < json_count(claims); i++) {
        strbuf t;
        sb_init(&t);
        clue_text(&t, json_at(claims, i), v, ctx);
        if (sk->terminal) {
            sb_puts(sb, "  * ");
            for (const char *p = sb_str(&t); *p; p++) sb_putc(sb, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);   /* card text */
            sb_putc(sb, '\n');
        } else sk->item(sk, 0, NULL, sb_str(&t));
        sb_free(&t);
    }
    if (json_count(claims)) sk->list_end(sk);
    if (sk->terminal) sb_putc(sb, '\n');
}

void doc_verify(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const char *parent = json_get_string(root, "parent");
    double margin = 0;
    json_get_double(root, "margin", &margin);
    if (sk->terminal) {
        if (parent)
            sb_printf(sb, "%s%s:%s %s  (%s %.3f)\n", c_bold(ctx), tr(ctx, "Parent", "부모 모델"), c_off(ctx), parent,
                      tr(ctx, "margin over the next candidate", "다음 후보와의 차이"), margin);
        else
            sb_printf(sb, "%s%s%s  (%s %.3f)\n", c_bold(ctx), tr(ctx, "No candidate is clearly the parent", "뚜렷한 부모 후보 없음"),
                      c_off(ctx), tr(ctx, "margin", "차이"), margin);
    } else {
        strbuf t;
        sb_init(&t);
        if (parent) sb_printf(&t, "%s  (%s %.3f)", parent, tr(ctx, "margin over the next candidate", "다음 후보와의 차이"), margin);
        else sb_printf(&t, "%s  (%s %.3f)", tr(ctx, "No candidate is clearly the parent", "뚜렷한 부모 후보 없음"), tr(ctx, "margin", "차이"), margin);
        sk->para(sk, parent ? tr(ctx, "Parent:", "부모 모델:") : NULL, sb_str(&t));
        sb_free(&t);
        const char *cols[] = {"#", tr(ctx, "candidate", "후보"), tr(ctx, "verdict", "판정"), tr(ctx, "confidence", "신뢰도"),
                              tr(ctx, "score", "점수"), tr(ctx, "tokenizer", "토크나이저"), tr(ctx, "architecture", "아키텍처")};
        sk->table_begin(sk, cols, 7);
    }
    const json_value *cands = json_get(root, "candidates");
    for (size_t i = 0; i < json_count(cands); i++) {
        const json_value *c = json_at(cands, i);
        const char *lab = json_get_string(c, "label");
        double conf = 0, score = 0;
        json_get_double(c, "confidence", &conf);
        json_get_double(c, "score", &score);
        strbuf tok, arch;
        sb_init(&tok);
        sb_init(&arch);
        const json_value *rel = json_get(c, "relation");
        char ct[96], sc[32];
        confidence_text(ct, sizeof ct, lab, conf, ctx);
        snprintf(sc, sizeof sc, "%.3f", score);
        /* beside the weights: tokenizer and architecture, which never decide derivation on their own */
        const json_value *t = json_get(c, "tokenizer"), *a = json_get(c, "architecture");
        double al = -1, jac = -1;
        int64_t nd = -1;
        json_get_double(t, "id_aligned_of_smaller", &al);
        json_get_double(t, "jaccard", &jac);
        json_get_int(a, "fields_differ", &nd);
        if (t && json_get_string(t, "relation"))
            sb_printf(&tok, tr(ctx, "%s, %.1f%% same id, Jaccard %.3f", "%s, 같은 ID %.1f%%, 자카드 %.3f"),
                      relation_kind_text(json_get_string(t, "relation"), ctx), 100 * al, jac);
        else sb_puts(&tok, tr(ctx, "not compared", "비교 안 함"));
        if (nd >= 0) sb_printf(&arch, tr(ctx, "%lld fields differ", "다른 항목 %lld개"), (long long)nd);
        const char *ref = json_get_string(c, "reference") ? json_get_string(c, "reference") : "?";
        if (sk->terminal) {
            strbuf lv;   /* "derived (fine-tuned)", padded by terminal columns */
            sb_init(&lv);
            sb_puts(&lv, verdict_label_text(lab ? lab : "inconclusive", ctx));
            for (size_t k = 0; k < json_count(rel); k++)
                sb_printf(&lv, "%s%s", k ? ", " : " (", relation_kind_text(json_at(rel, k)->u.string.s, ctx));
            if (json_count(rel)) sb_putc(&lv, ')');
            sb_printf(sb, "  %zu. %-40s %s", i + 1, ref, sb_str(&lv));
            for (size_t k = text_width(sb_str(&lv)); k < 12; k++) sb_putc(sb, ' ');
            sb_free(&lv);
            sb_printf(sb, "  %s  %s %s\n", ct, tr(ctx, "score", "점수"), sc);
            sb_printf(sb, "       %s %s", tr(ctx, "tokenizer:", "토크나이저:"), sb_str(&tok));
            if (nd >= 0) sb_printf(sb, "; %s: %s", tr(ctx, "architecture", "아키텍처"), sb_str(&arch));
            sb_putc(sb, '\n');
        } else {
            char idx[24];
            snprintf(idx, sizeof idx, "%zu", i + 1);
            strbuf vv;
            sb_init(&vv);
            sb_puts(&vv, verdict_label_text(lab ? lab : "inconclusive", ctx));
            for (size_t k = 0; k < json_count(rel); k++)
                sb_printf(&vv, "%s%s", k ? ", " : " (", relation_kind_text(json_at(rel, k)->u.string.s, ctx));
            if (json_count(rel)) sb_putc(&vv, ')');
            const char *cells[] = {idx, ref, sb_str(&vv), lab && !strcmp(lab, "inconclusive") && conf == 0 ? "-" : ct + strcspn(ct, "0123456789"),
                                   sc, sb_str(&tok), nd >= 0 ? sb_str(&arch) : "-"};
            sk->table_row(sk, cells, 7);
            sb_free(&vv);
        }
        sb_free(&tok);
        sb_free(&arch);
    }
    if (!sk->terminal) sk->table_end(sk);
    const char *tc = json_get_string(root, "tokenizer_closest");
    if (tc) {
        doc_linef(sk, 0, "%s %s", tr(ctx, "Tokenizer closest (same ids):", "토크나이저가 가장 가까운 후보(같은 ID):"), tc);
        sk->line(sk, 0, tr(ctx, "A shared tokenizer is a tokenizer finding, not weight derivation; only the weights name a parent.",
                           "토크나이저 공유는 토크나이저에 관한 사실일 뿐 가중치 파생이 아닙니다. 부모 모델은 가중치로만 정합니다."));
    }
    doc_verify_behaviour(sk, root);
}
