/* lineage.run/1 through any sink: the prompt as tokens, the next-token candidates (with a bar for
 * each probability on the terminal), the greedy continuation and the timing. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
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

void doc_run(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    strbuf *sb = sk->sb;
    const char *model = json_get_string(root, "model"), *family = json_get_string(root, "family");
    if (sk->terminal)
        sb_printf(sb, "%s%s%s  %s(%s)%s\n", c_bold(ctx), model ? model : "?", c_off(ctx), c_dim(ctx), family ? family : "?",
                  c_off(ctx));
    else sk->para(sk, tr(ctx, "Family:", "계열:"), family ? family : "?");
    const json_value *prompt = json_get(root, "prompt"), *ids = json_get(prompt, "ids");
    const json_value *pieces = json_get(prompt, "pieces");
    strbuf l;
    sb_init(&l);
    for (size_t i = 0; i < json_count(ids); i++) {
        const json_value *p = json_at(pieces, i);
        int64_t id = 0;
        const json_value *iv = json_at(ids, i);
        if (iv && iv->type == JSON_NUMBER) id = iv->u.number.i;
        sb_puts(&l, i ? " " : "");
        if (p && p->type == JSON_STRING) {
            sb_puts(&l, "[");
            put_piece(&l, p);
            sb_puts(&l, "]");
        } else sb_printf(&l, "%lld", (long long)id);
    }
    if (sk->terminal) sb_printf(sb, "%s (%zu %s): %s\n", tr(ctx, "prompt", "프롬프트"), json_count(ids), tr(ctx, "tokens", "토큰"), sb_str(&l));
    else {
        char b[96];
        snprintf(b, sizeof b, tr(ctx, "Prompt (%zu tokens):", "프롬프트 (토큰 %zu개):"), json_count(ids));
        sk->para(sk, b, sb_str(&l));
    }
    sb_free(&l);
    if (sk->terminal) sb_putc(sb, '\n');
    sk->heading(sk, 2, tr(ctx, "Next token", "다음 토큰"));
    const json_value *top = json_get(root, "top_k");
    if (!sk->terminal && json_count(top)) {
        const char *cols[] = {"ID", tr(ctx, "probability", "확률"), tr(ctx, "log-probability", "로그 확률"), tr(ctx, "piece", "조각")};
        sk->table_begin(sk, cols, 4);
    }
    for (size_t i = 0; i < json_count(top); i++) {
        const json_value *c = json_at(top, i);
        int64_t id = 0;
        double p = 0, lp = 0;
        json_get_int(c, "id", &id);
        json_get_double(c, "probability", &p);
        json_get_double(c, "logprob", &lp);
        int bar = finite_cells(p, 1, RUN_BAR_CELLS);
        const json_value *pc = json_get(c, "piece");
        if (!sk->terminal) {
            char cid[32], cp[32], clp[32];
            snprintf(cid, sizeof cid, "%lld", (long long)id);
            if (bar < 0) {
                snprintf(cp, sizeof cp, "-");
                snprintf(clp, sizeof clp, "-");
            } else {
                snprintf(cp, sizeof cp, "%.2f%%", 100 * p);
                snprintf(clp, sizeof clp, "%.3f", lp);
            }
            strbuf pb;
            sb_init(&pb);
            if (pc && pc->type == JSON_STRING) put_piece(&pb, pc);
            const char *cells[] = {cid, cp, clp, sb_str(&pb)};
            sk->table_row(sk, cells, 4);
            sb_free(&pb);
            continue;
        }
        if (bar < 0) {   /* a document from elsewhere may carry non-finite values: never a width */
            sb_printf(sb, "  %6lld  %7s  %8s  %-*s  ", (long long)id, "n/a", "n/a", RUN_BAR_CELLS, "");
        } else {
            sb_printf(sb, "  %6lld  %6.2f%%  %8.3f  %s", (long long)id, 100 * p, lp, c_good(ctx));
            for (int b = 0; b < bar; b++) sb_puts(sb, "\xe2\x96\x87");
            sb_printf(sb, "%s%*s  ", c_off(ctx), RUN_BAR_CELLS - bar, "");
        }
        if (pc && pc->type == JSON_STRING) {
            sb_puts(sb, "'");
            put_piece(sb, pc);
            sb_puts(sb, "'");
        }
        sb_putc(sb, '\n');
    }
    if (!sk->terminal && json_count(top)) sk->table_end(sk);
    int64_t nonfinite = 0;
    if (json_get_int(root, "nonfinite_logits", &nonfinite) && nonfinite > 0)
        doc_linef(sk, DOC_WARN, "%lld %s", (long long)nonfinite,
                  tr(ctx, "non-finite logits (NaN/Inf) excluded from the distribution",
                     "개의 유한하지 않은 로짓(NaN/Inf)을 분포에서 제외함"));
    const json_value *cont = json_get(root, "continuation");
    size_t ng = json_count(json_get(cont, "ids"));
    if (ng) {
        char note[64];
        snprintf(note, sizeof note, tr(ctx, " (%zu tokens)", " (토큰 %zu개)"), ng);
        sk->section(sk, 2, tr(ctx, "Greedy continuation", "그리디 이어쓰기"), note);
        strbuf c;
        sb_init(&c);
        const json_value *text = json_get(cont, "text");
        if (text && text->type == JSON_STRING) put_piece(&c, text);
        else {
            for (size_t i = 0; i < ng; i++) {
                const json_value *iv = json_at(json_get(cont, "ids"), i);
                sb_printf(&c, "%s%lld", i ? " " : "", (long long)(iv && iv->type == JSON_NUMBER ? iv->u.number.i : 0));
            }
        }
        sk->line(sk, 0, sb_str(&c));
        sb_free(&c);
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
    if (sk->terminal) sb_putc(sb, '\n');
    else sk->heading(sk, 2, tr(ctx, "Timing", "소요 시간"));
    doc_rowf(sk, tr(ctx, "load", "로드"), tr(ctx, "%.3f s", "%.3f초"), load);
    doc_rowf(sk, tr(ctx, "prompt", "프롬프트"), tr(ctx, "%lld tokens in %.3f s (%.1f tokens/s)", "토큰 %lld개, %.3f초 (초당 %.1f개)"),
             (long long)pt, ps, tps);
    if (gt)
        doc_rowf(sk, tr(ctx, "generation", "생성"), tr(ctx, "%lld tokens in %.3f s (%.1f tokens/s)", "토큰 %lld개, %.3f초 (초당 %.1f개)"),
                 (long long)gt, gs, gs > 0 ? (double)(gt - 1) / gs : 0);
}
