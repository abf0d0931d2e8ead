/* "architecture" section of lineage.report/1 through any sink: summary first, then the fields side by
 * side with differences marked, tensor matching per component, blocking dimensions, hypotheses. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/msg.h"
#include "report/report.h"
#include "report/text_util.h"

/* A field's value, whole (a string value is never cut); absent as "(absent)". */
static const char *value_text(char *buf, size_t cap, const json_value *v, const render_ctx *ctx)
{
    if (!v || v->type == JSON_NULL) return tr(ctx, "(absent)", "(없음)");
    if (v->type == JSON_STRING) return v->u.string.s;
    if (v->type == JSON_NUMBER && v->u.number.is_int) snprintf(buf, cap, "%lld", (long long)v->u.number.i);
    else if (v->type == JSON_NUMBER) snprintf(buf, cap, "%g", v->u.number.d);
    else if (v->type == JSON_BOOL) snprintf(buf, cap, "%s", v->u.boolean ? "true" : "false");
    else snprintf(buf, cap, "?");
    return buf;
}

void doc_arch(doc_sink *sk, const json_value *s)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    sk->heading(sk, 2, tr(ctx, "Architecture", "아키텍처"));
    const json_value *fields = json_get(s, "fields");
    int declared_a = !json_get(s, "declared_a") || json_is_true(json_get(s, "declared_a"));
    int declared_b = !json_get(s, "declared_b") || json_is_true(json_get(s, "declared_b"));
    if (!declared_a || !declared_b) {
        sk->line(sk, 0, !declared_a && !declared_b
                                    ? tr(ctx, "Neither model declares an architecture (no config.json, GGUF metadata or tensors): not compared.",
                                         "두 모델 모두 아키텍처 정보(config.json, GGUF 메타데이터, 텐서)가 없어 비교하지 않았습니다.")
                                : !declared_a ? tr(ctx, "A declares no architecture (no config.json, GGUF metadata or tensors): not compared.",
                                                   "A에 아키텍처 정보(config.json, GGUF 메타데이터, 텐서)가 없어 비교하지 않았습니다.")
                                              : tr(ctx, "B declares no architecture (no config.json, GGUF metadata or tensors): not compared.",
                                                   "B에 아키텍처 정보(config.json, GGUF 메타데이터, 텐서)가 없어 비교하지 않았습니다."));
        return;
    }
    size_t ndiff = json_count(json_get(s, "differences")), nabsent = 0;
    for (size_t i = 0; i < json_count(fields); i++) nabsent += json_get(json_at(fields, i), "same") &&
                                                              json_get(json_at(fields, i), "same")->type == JSON_NULL;
    strbuf sum;
    sb_init(&sum);
    if (ndiff) sb_printf(&sum, tr(ctx, "Different architectures: %zu fields differ", "아키텍처가 다릅니다: 다른 항목 %zu개"), ndiff);
    else sb_puts(&sum, tr(ctx, "Same declared architecture: no field differs", "선언된 아키텍처가 같습니다: 다른 항목 없음"));
    if (nabsent) sb_printf(&sum, tr(ctx, " (%zu declared by one side only, not counted)", " (한쪽에만 있는 항목 %zu개는 세지 않음)"), nabsent);
    sk->line(sk, 0, sb_str(&sum));
    sb_free(&sum);
    if (sk->terminal) sb_printf(sb, "    %-24s %-18s %-18s\n", "", "A", "B");
    else {
        const char *cols[] = {"", tr(ctx, "field", "항목"), "A", "B"};
        sk->table_begin(sk, cols, 4);
    }
    for (size_t i = 0; i < json_count(fields); i++) {
        const json_value *f = json_at(fields, i);
        char ab[64], bb[64];
        const char *a = value_text(ab, sizeof ab, json_get(f, "a"), ctx), *b = value_text(bb, sizeof bb, json_get(f, "b"), ctx);
        const json_value *sv = json_get(f, "same");
        int same = !sv || sv->type == JSON_NULL || json_is_true(sv);
        const char *field = json_get_string(f, "field") ? json_get_string(f, "field") : "?";
        if (!sk->terminal) {
            const char *cells[] = {same ? "" : "≠", field, a, b};
            sk->table_row(sk, cells, 4);
            continue;
        }
        /* padded by terminal columns: "(없음)" is 6 columns in 8 bytes */
        sb_printf(sb, "%s  %s %-24s %s", same ? "" : c_warn(ctx), same ? " " : "*", field, a);
        for (size_t k = text_width(a); k < 19; k++) sb_putc(sb, ' ');
        sb_printf(sb, "%s%s\n", b, same ? "" : c_off(ctx));
    }
    if (!sk->terminal) sk->table_end(sk);
    const json_value *t = json_get(s, "tensors");
    int64_t ta = 0, tb = 0, m = 0, ss = 0, up = 0;
    json_get_int(t, "a", &ta);
    json_get_int(t, "b", &tb);
    json_get_int(t, "matched_by_name", &m);
    json_get_int(t, "same_shape", &ss);
    json_get_int(t, "b_experts_shaped_like_a_mlp", &up);
    if (sk->terminal) sb_putc(sb, '\n');
    doc_linef(sk, 0, "%s: %lld / %lld; %s %lld, %s %lld", tr(ctx, "tensors A / B", "텐서 A / B"), (long long)ta,
              (long long)tb, tr(ctx, "matched by normalized name", "정규화된 이름으로 대응"), (long long)m,
              tr(ctx, "same shape", "같은 모양"), (long long)ss);
    if (up > 0)
        doc_linef(sk, 0, "%s: %lld", tr(ctx, "B expert tensors shaped like A's MLP", "A의 MLP와 같은 모양인 B의 전문가 텐서"),
                  (long long)up);
    const char *note = json_get_string(t, "note");
    const char *note_key = json_get_string(t, "note_key");
    if (note_key) {
        char k[64];
        snprintf(k, sizeof k, "note.%s", note_key);
        if (msg_lookup(k, ctx)) note = msg_lookup(k, ctx);
    }
    if (note) sk->line(sk, 0, note);
    const json_value *comps = json_get(s, "components");
    for (size_t i = 0; i < json_count(comps); i++) {
        const json_value *c = json_at(comps, i);
        int64_t mm = 0, sh = 0;
        json_get_int(c, "matched", &mm);
        json_get_int(c, "same_shape", &sh);
        char buf[160];
        snprintf(buf, sizeof buf, tr(ctx, "%s (%lld matched, %lld same shape)", "%s (대응 %lld개, 같은 모양 %lld개)"),
                 msg_code("comp", json_get_string(c, "comparison"), ctx), (long long)mm, (long long)sh);
        sk->row(sk, msg_code("compname", json_get_string(c, "name"), ctx), buf);
    }
    const json_value *bl = json_get(s, "blocking");
    if (json_count(bl)) {
        if (sk->terminal) sb_putc(sb, '\n');
        sk->line(sk, 0, tr(ctx, "Dimensions that block direct comparison:", "직접 비교를 막는 차원:"));
        if (!sk->terminal) {
            const char *cols[] = {tr(ctx, "dimension", "차원"), "A", "B", tr(ctx, "what it blocks", "막는 비교")};
            sk->table_begin(sk, cols, 4);
        }
    }
    for (size_t i = 0; i < json_count(bl); i++) {
        const json_value *b = json_at(bl, i);
        int64_t x = 0, y = 0;
        json_get_int(b, "a", &x);
        json_get_int(b, "b", &y);
        const char *dim = json_get_string(b, "dimension"), *blocks = json_get_string(b, "blocks");
        char k[96];
        snprintf(k, sizeof k, "block.%s", dim ? dim : "");
        if (msg_lookup(k, ctx)) blocks = msg_lookup(k, ctx);
        if (sk->terminal) sb_printf(sb, "    %s %lld / %lld: %s\n", dim ? dim : "?", (long long)x, (long long)y, blocks ? blocks : "");
        else {
            char xa[32], yb[32];
            snprintf(xa, sizeof xa, "%lld", (long long)x);
            snprintf(yb, sizeof yb, "%lld", (long long)y);
            const char *cells[] = {dim ? dim : "?", xa, yb, blocks ? blocks : ""};
            sk->table_row(sk, cells, 4);
        }
    }
    if (json_count(bl) && !sk->terminal) sk->table_end(sk);
    const json_value *h = json_get(s, "hypotheses");
    if (json_count(h)) {
        if (sk->terminal) sb_putc(sb, '\n');
        sk->line(sk, 0, tr(ctx, "Derivations the shapes allow (possible, not shown):", "모양이 허용하는 파생 (가능성일 뿐 입증 아님):"));
    }
    for (size_t i = 0; i < json_count(h); i++) {
        const json_value *hy = json_at(h, i);
        char k[96], line[600];
        const char *kind = json_get_string(hy, "kind"), *variant = json_get_string(hy, "variant");
        snprintf(k, sizeof k, "hyp.%s%s%s", kind ? kind : "", variant ? "." : "", variant ? variant : "");
        const char *fmt = msg_lookup(k, ctx), *text = json_get_string(hy, "text");
        int64_t x = -1, y = -1;
        json_get_int(hy, "a", &x);
        json_get_int(hy, "b", &y);
        /* the catalogue's sentences take B's value first; the upcycling ones take B's expert width, then A's MLP width */
        if (fmt && (x >= 0 || !strchr(fmt, '%'))) {
            snprintf(line, sizeof line, fmt, (long long)y, (long long)x);
            text = line;
        }
        sk->item(sk, 1, NULL, text ? text : "");
    }
    if (json_count(h)) sk->list_end(sk);
    for (int side = 0; side < 2; side++) {
        const json_value *w = json_get(s, side ? "warnings_b" : "warnings_a");
        for (size_t i = 0; i < json_count(w); i++)
            doc_linef(sk, DOC_WARN, "%s: %s", side ? "B" : "A", json_at(w, i)->u.string.s);
    }
    if (sk->terminal) sb_putc(sb, '\n');
    sk->line(sk, DOC_DIM,
             tr(ctx, "A shape mismatch is not evidence of independence, and identical architecture is not evidence of derivation.",
                "모양이 다르다고 독립적으로 학습된 증거가 되지 않으며, 아키텍처가 같다고 파생된 증거도 되지 않습니다."));
}
