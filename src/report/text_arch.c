/* "architecture" section of lineage.report/1 → terminal text: summary first, then the fields side by
 * side with differences marked, tensor matching per component, blocking dimensions, hypotheses. */
#include <stdio.h>
#include <string.h>

#include "report/msg.h"
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
    const json_value *fields = json_get(s, "fields");
    int declared_a = !json_get(s, "declared_a") || json_is_true(json_get(s, "declared_a"));
    int declared_b = !json_get(s, "declared_b") || json_is_true(json_get(s, "declared_b"));
    if (!declared_a || !declared_b) {
        sb_printf(sb, "  %s\n", !declared_a && !declared_b
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
    if (ndiff) sb_printf(sb, tr(ctx, "  Different architectures: %zu fields differ", "  아키텍처가 다릅니다: 다른 항목 %zu개"), ndiff);
    else sb_puts(sb, tr(ctx, "  Same declared architecture: no field differs", "  선언된 아키텍처가 같습니다: 다른 항목 없음"));
    if (nabsent) sb_printf(sb, tr(ctx, " (%zu declared by one side only, not counted)", " (한쪽에만 있는 항목 %zu개는 세지 않음)"), nabsent);
    sb_puts(sb, "\n");
    sb_printf(sb, "    %-24s %-18s %-18s\n", "", "A", "B");
    for (size_t i = 0; i < json_count(fields); i++) {
        const json_value *f = json_at(fields, i);
        char a[64], b[64];
        value_text(a, sizeof a, json_get(f, "a"));
        value_text(b, sizeof b, json_get(f, "b"));
        if (!json_get(f, "a") || json_get(f, "a")->type == JSON_NULL) snprintf(a, sizeof a, "%s", tr(ctx, "(absent)", "(없음)"));
        if (!json_get(f, "b") || json_get(f, "b")->type == JSON_NULL) snprintf(b, sizeof b, "%s", tr(ctx, "(absent)", "(없음)"));
        const json_value *sv = json_get(f, "same");
        int same = !sv || sv->type == JSON_NULL || json_is_true(sv);
        /* padded by terminal columns: "(없음)" is 6 columns in 8 bytes */
        sb_printf(sb, "%s  %s %-24s %s", same ? "" : c_warn(ctx), same ? " " : "*", json_get_string(f, "field"), a);
        for (size_t k = text_width(a); k < 19; k++) sb_putc(sb, ' ');
        sb_printf(sb, "%s%s\n", b, same ? "" : c_off(ctx));
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
    const char *note_key = json_get_string(t, "note_key");
    if (note_key) {
        char k[64];
        snprintf(k, sizeof k, "note.%s", note_key);
        if (msg_lookup(k, ctx)) note = msg_lookup(k, ctx);
    }
    if (note) sb_printf(sb, "  %s\n", note);
    const json_value *comps = json_get(s, "components");
    for (size_t i = 0; i < json_count(comps); i++) {
        const json_value *c = json_at(comps, i);
        int64_t mm = 0, sh = 0;
        json_get_int(c, "matched", &mm);
        json_get_int(c, "same_shape", &sh);
        char buf[160];
        snprintf(buf, sizeof buf, tr(ctx, "%s (%lld matched, %lld same shape)", "%s (대응 %lld개, 같은 모양 %lld개)"),
                 msg_code("comp", json_get_string(c, "comparison"), ctx), (long long)mm, (long long)sh);
        text_row(sb, ctx, msg_code("compname", json_get_string(c, "name"), ctx), buf);
    }
    const json_value *bl = json_get(s, "blocking");
    if (json_count(bl)) sb_printf(sb, "\n  %s\n", tr(ctx, "Dimensions that block direct comparison:", "직접 비교를 막는 차원:"));
    for (size_t i = 0; i < json_count(bl); i++) {
        const json_value *b = json_at(bl, i);
        int64_t x = 0, y = 0;
        json_get_int(b, "a", &x);
        json_get_int(b, "b", &y);
        const char *dim = json_get_string(b, "dimension"), *blocks = json_get_string(b, "blocks");
        char k[96];
        snprintf(k, sizeof k, "block.%s", dim ? dim : "");
        if (msg_lookup(k, ctx)) blocks = msg_lookup(k, ctx);
        sb_printf(sb, "    %s %lld / %lld: %s\n", dim ? dim : "?", (long long)x, (long long)y, blocks ? blocks : "");
    }
    const json_value *h = json_get(s, "hypotheses");
    if (json_count(h)) sb_printf(sb, "\n  %s\n", tr(ctx, "Derivations the shapes allow (possible, not shown):", "모양이 허용하는 파생 (가능성일 뿐 입증 아님):"));
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
        sb_printf(sb, "    - %s\n", text ? text : "");
    }
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
