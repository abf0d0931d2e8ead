/* lineage.run/1 -> terminal text: the prompt as tokens, the next-token candidates with a bar for
 * each probability, the greedy continuation and the timing. */
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "report/text_util.h"
#include "util/finite.h"

#define RUN_BAR_CELLS 30

/* A piece with control characters made visible. */
static void put_piece(strbuf *sb, const json_value *v)
{
    if (!v || v->type != JSON_STRING) {
        sb_puts(sb, "?");
        return;
    }
    for (size_t i = 0; i < v->u.string.len; i++) {
        unsigned char c = (unsigned char)v->u.string.s[i];
        if (c == '\n') sb_puts(sb, "\\n");
        else if (c == '\t') sb_puts(sb, "\\t");
        else if (c < 0x20 || c == 0x7f) sb_printf(sb, "\\x%02x", c);
        else sb_putc(sb, (char)c);
    }
}

void render_run_text(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const char *model = json_get_string(root, "model"), *family = json_get_string(root, "family");
    sb_printf(sb, "%s%s%s  %s(%s)%s\n", c_bold(ctx), model ? model : "?", c_off(ctx), c_dim(ctx), family ? family : "?",
              c_off(ctx));
    const json_value *prompt = json_get(root, "prompt"), *ids = json_get(prompt, "ids");
    const json_value *pieces = json_get(prompt, "pieces");
    sb_printf(sb, "%s (%zu %s): ", tr(ctx, "prompt", "프롬프트"), json_count(ids), tr(ctx, "tokens", "토큰"));
    for (size_t i = 0; i < json_count(ids); i++) {
        const json_value *p = json_at(pieces, i);
        int64_t id = 0;
        const json_value *iv = json_at(ids, i);
        if (iv && iv->type == JSON_NUMBER) id = iv->u.number.i;
        sb_puts(sb, i ? " " : "");
        if (p && p->type == JSON_STRING) {
            sb_puts(sb, "[");
            put_piece(sb, p);
            sb_puts(sb, "]");
        } else sb_printf(sb, "%lld", (long long)id);
    }
    sb_printf(sb, "\n\n%s%s%s\n", c_bold(ctx), tr(ctx, "Next token", "다음 토큰"), c_off(ctx));
    const json_value *top = json_get(root, "top_k");
    for (size_t i = 0; i < json_count(top); i++) {
        const json_value *c = json_at(top, i);
        int64_t id = 0;
        double p = 0, lp = 0;
        json_get_int(c, "id", &id);
        json_get_double(c, "probability", &p);
        json_get_double(c, "logprob", &lp);
        int bar = finite_cells(p, 1, RUN_BAR_CELLS);
        if (bar < 0) {   /* a document from elsewhere may carry non-finite values: never a width */
            sb_printf(sb, "  %6lld  %7s  %8s  %-*s  ", (long long)id, "n/a", "n/a", RUN_BAR_CELLS, "");
        } else {
            sb_printf(sb, "  %6lld  %6.2f%%  %8.3f  %s", (long long)id, 100 * p, lp, c_good(ctx));
            for (int b = 0; b < bar; b++) sb_puts(sb, "\xe2\x96\x87");
            sb_printf(sb, "%s%*s  ", c_off(ctx), RUN_BAR_CELLS - bar, "");
        }
        const json_value *pc = json_get(c, "piece");
        if (pc && pc->type == JSON_STRING) {
            sb_puts(sb, "'");
            put_piece(sb, pc);
            sb_puts(sb, "'");
        }
        sb_putc(sb, '\n');
    }
    int64_t nonfinite = 0;
    if (json_get_int(root, "nonfinite_logits", &nonfinite) && nonfinite > 0)
        sb_printf(sb, "  %s%lld %s%s\n", c_warn(ctx), (long long)nonfinite,
                  tr(ctx, "non-finite logits (NaN/Inf) excluded from the distribution",
                     "개의 유한하지 않은 로짓(NaN/Inf)을 분포에서 제외함"), c_off(ctx));
    const json_value *cont = json_get(root, "continuation");
    size_t ng = json_count(json_get(cont, "ids"));
    if (ng) {
        sb_printf(sb, "\n%s%s%s (%zu %s)\n  ", c_bold(ctx), tr(ctx, "Greedy continuation", "그리디 이어쓰기"), c_off(ctx), ng,
                  tr(ctx, "tokens", "토큰"));
        const json_value *text = json_get(cont, "text");
        if (text && text->type == JSON_STRING) put_piece(sb, text);
        else {
            for (size_t i = 0; i < ng; i++) {
                const json_value *iv = json_at(json_get(cont, "ids"), i);
                sb_printf(sb, "%s%lld", i ? " " : "", (long long)(iv && iv->type == JSON_NUMBER ? iv->u.number.i : 0));
            }
        }
        sb_putc(sb, '\n');
    }
    const json_value *t = json_get(root, "timing");
    double load = 0, ps = 0, tps = 0, gs = 0;
    int64_t pt = 0, gt = 0;
    json_get_double(t, "load_seconds", &load);
    json_get_double(t, "prompt_seconds", &ps);
    json_get_double(t, "prompt_tokens_per_second", &tps);
    json_get_double(t, "generate_seconds", &gs);
    json_get_int(t, "prompt_tokens", &pt);
    json_get_int(t, "generated_tokens", &gt);
    char v[160];
    sb_putc(sb, '\n');
    snprintf(v, sizeof v, "%.3f s", load);
    text_row(sb, ctx, tr(ctx, "load", "로드"), v);
    snprintf(v, sizeof v, "%lld tokens in %.3f s (%.1f tokens/s)", (long long)pt, ps, tps);
    text_row(sb, ctx, tr(ctx, "prompt", "프롬프트"), v);
    if (gt) {
        snprintf(v, sizeof v, "%lld tokens in %.3f s (%.1f tokens/s)", (long long)gt, gs, gs > 0 ? (double)(gt - 1) / gs : 0);
        text_row(sb, ctx, tr(ctx, "generation", "생성"), v);
    }
}
