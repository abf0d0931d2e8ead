/* "architecture" section of lineage.report/1 → terminal text: summary first, then the fields side by
 * side with differences marked, tensor matching per component, blocking dimensions, hypotheses. */
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "report/text_util.h"

static void value_text(char *buf, size_t cap, const json_value *v)
{
    if (!v || v->type == JSON_NULL) snprintf(buf, cap, "-");
    else if (v->type == JSON_STRING) snprintf(buf, cap, "%s", v->u.string.s);
    else if (v->type == JSON_NUMBER && v->u.number.is_int) snprintf(buf, cap, "%lld", (long long)v->u.number.i);
    else if (v->type == JSON_NUMBER) snprintf(buf, cap, "%g", v->u.number.d);
    else if (v->type == JSON_BOOL) snprintf(buf, cap, "%s", v->u.boolean ? "true" : "false");
    else snprintf(buf, cap, "?");
}

void render_arch_text(strbuf *sb, const json_value *s, const render_ctx *ctx)
{
    sb_printf(sb, "\n%s%s%s\n", c_bold(ctx), tr(ctx, "Architecture", "아키텍처"), c_off(ctx));
    const char *summary = json_get_string(s, "summary");
    if (summary) sb_printf(sb, "  %s\n", summary);
    const json_value *fields = json_get(s, "fields");
    sb_printf(sb, "  %-24s %-18s %-18s\n", "", "A", "B");
    for (size_t i = 0; i < json_count(fields); i++) {
        const json_value *f = json_at(fields, i);
        char a[64], b[64];
        value_text(a, sizeof a, json_get(f, "a"));
        value_text(b, sizeof b, json_get(f, "b"));
        int same = json_is_true(json_get(f, "same"));
        sb_printf(sb, "%s%s %-24s %-18s %-18s%s\n", same ? "" : c_warn(ctx), same ? " " : "*", json_get_string(f, "field"), a,
                  b, same ? "" : c_off(ctx));
    }
    const json_value *t = json_get(s, "tensors");
    int64_t ta = 0, tb = 0, m = 0, ss = 0, up = 0;
    json_get_int(t, "a", &ta);
    json_get_int(t, "b", &tb);
    json_get_int(t, "matched_by_name", &m);
    json_get_int(t, "same_shape", &ss);
    json_get_int(t, "b_experts_shaped_like_a_mlp", &up);
    sb_printf(sb, "\n  %s: %lld / %lld; %s %lld, %s %lld\n", tr(ctx, "tensors A / B", "텐서 A / B"), (long long)ta,
              (long long)tb, tr(ctx, "matched by normalized name", "정규화된 이름으로 대응"), (long long)m,
              tr(ctx, "same shape", "같은 모양"), (long long)ss);
    if (up > 0)
        sb_printf(sb, "  %s: %lld\n", tr(ctx, "B expert tensors shaped like A's MLP", "A의 MLP와 같은 모양인 B의 전문가 텐서"),
                  (long long)up);
    const char *note = json_get_string(t, "note");
    if (note) sb_printf(sb, "  %s\n", note);
    const json_value *comps = json_get(s, "components");
    for (size_t i = 0; i < json_count(comps); i++) {
        const json_value *c = json_at(comps, i);
        int64_t mm = 0, sh = 0;
        json_get_int(c, "matched", &mm);
        json_get_int(c, "same_shape", &sh);
        char buf[160];
        snprintf(buf, sizeof buf, "%s (%lld matched, %lld same shape)", json_get_string(c, "comparison"), (long long)mm,
                 (long long)sh);
        text_row(sb, ctx, json_get_string(c, "name"), buf);
    }
    const json_value *bl = json_get(s, "blocking");
    if (json_count(bl)) sb_printf(sb, "\n  %s\n", tr(ctx, "Dimensions that block direct comparison:", "직접 비교를 막는 차원:"));
    for (size_t i = 0; i < json_count(bl); i++) {
        const json_value *b = json_at(bl, i);
        int64_t x = 0, y = 0;
        json_get_int(b, "a", &x);
        json_get_int(b, "b", &y);
        sb_printf(sb, "    %s %lld vs %lld: %s\n", json_get_string(b, "dimension"), (long long)x, (long long)y,
                  json_get_string(b, "blocks"));
    }
    const json_value *h = json_get(s, "hypotheses");
    if (json_count(h)) sb_printf(sb, "\n  %s\n", tr(ctx, "Derivations the shapes allow (possible, not shown):", "모양이 허용하는 파생 (가능성일 뿐 입증 아님):"));
    for (size_t i = 0; i < json_count(h); i++) sb_printf(sb, "    - %s\n", json_get_string(json_at(h, i), "text"));
    for (int side = 0; side < 2; side++) {
        const json_value *w = json_get(s, side ? "warnings_b" : "warnings_a");
        for (size_t i = 0; i < json_count(w); i++)
            sb_printf(sb, "  %s%s: %s%s\n", c_warn(ctx), side ? "B" : "A", json_at(w, i)->u.string.s, c_off(ctx));
    }
    sb_printf(sb, "\n  %s%s%s\n", c_dim(ctx),
              tr(ctx, "A shape mismatch is not evidence of independence, and identical architecture is not evidence of derivation.",
                 "모양이 다르다고 독립적으로 학습된 증거가 되지 않으며, 아키텍처가 같다고 파생된 증거도 되지 않습니다."),
              c_off(ctx));
}
