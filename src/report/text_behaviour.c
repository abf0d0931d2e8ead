/* "behaviour" section of lineage.report/1 through any sink: the finding first, then the sides, the
 * statistics with their intervals, per-category agreement and the panel tests. */
#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/msg.h"
#include "report/report.h"
#include "report/text_util.h"

/* "0.385 [0.327, 0.442]" */
static void estimate_text(const json_value *e, int percent, char *buf, size_t n)
{
    double v, lo, hi;
    const json_value *ci = json_get(e, "ci95");
    if (!json_get_double(e, "value", &v)) { snprintf(buf, n, "-"); return; }
    double k = percent ? 100 : 1;
    const char *unit = percent ? "%" : "";
    if (json_count(ci) == 2 && json_at(ci, 0)->type == JSON_NUMBER && json_at(ci, 1)->type == JSON_NUMBER) {
        lo = json_at(ci, 0)->u.number.d;
        hi = json_at(ci, 1)->u.number.d;
        snprintf(buf, n, percent ? "%.1f%s [%.1f, %.1f]" : "%.3f%s [%.3f, %.3f]", k * v, unit, k * lo, k * hi);
    } else {
        snprintf(buf, n, percent ? "%.1f%s" : "%.3f%s", k * v, unit);
    }
}

static void side_row(doc_sink *sk, const char *label, const json_value *side)
{
    const render_ctx *ctx = sk->ctx;
    const char *src = json_get_string(side, "source");
    double tpp = 0;
    json_get_double(side, "tokens_per_probe", &tpp);
    if (src && !strcmp(src, "endpoint"))
        doc_rowf(sk, label, "%s %s (%s), %.1f %s", tr(ctx, "served at", "서버"),
                 json_get_string(side, "url") ? json_get_string(side, "url") : "?",
                 json_get_string(side, "served_model") ? json_get_string(side, "served_model") : "?", tpp,
                 tr(ctx, "tokens/probe", "토큰/문장"));
    else
        doc_rowf(sk, label, "%s, %.1f %s", tr(ctx, "run natively", "직접 실행"), tpp, tr(ctx, "tokens/probe", "토큰/문장"));
}

void doc_behaviour(doc_sink *sk, const json_value *s)
{
    const render_ctx *ctx = sk->ctx;
    sk->heading(sk, 2, tr(ctx, "Behaviour (next-token outputs)", "출력 행동 (다음 토큰 분포)"));
    const char *status = json_get_string(s, "status");
    if (!status || strcmp(status, "ok")) {
        const char *why = json_get_string(s, "reason");
        doc_linef(sk, 0, "%s%s%s", tr(ctx, "Not run", "실행하지 않음"), why ? ": " : "", why ? why : "");
        return;
    }
    const json_value *f = json_at(json_get(s, "findings"), 0);
    const char *text = json_get_string(json_get(f, "text"), ctx->korean ? "ko" : "en");
    if (text) sk->line(sk, 0, text);
    const json_value *pr = json_get(s, "probes");
    int64_t n = 0, k = 0;
    json_get_int(pr, "count", &n);
    json_get_int(pr, "top_k", &k);
    char v[1024];
    const char *src = json_get_string(pr, "source");
    snprintf(v, sizeof v, "%lld (%s), top-%lld %s", (long long)n,
             src && !strcmp(src, "built-in") ? tr(ctx, "built-in", "내장") : (src ? src : "?"), (long long)k,
             tr(ctx, "tokens aligned by bytes", "토큰을 바이트로 정렬"));
    sk->row(sk, tr(ctx, "probes", "시험 문장"), v);
    side_row(sk, "A", json_get(s, "a"));
    side_row(sk, "B", json_get(s, "b"));
    const json_value *st = json_get(s, "statistics");
    estimate_text(json_get(st, "top1_agreement"), 1, v, sizeof v);
    sk->row(sk, tr(ctx, "top-1 agreement", "top-1 일치율"), v);
    estimate_text(json_get(st, "jsd"), 0, v, sizeof v);
    size_t l = strlen(v);
    snprintf(v + l, sizeof v - l, " %s", tr(ctx, "bits", "비트"));
    sk->row(sk, tr(ctx, "Jensen-Shannon", "젠슨-섀넌 발산"), v);
    estimate_text(json_get(st, "rank_correlation"), 0, v, sizeof v);
    sk->row(sk, tr(ctx, "rank correlation", "순위 상관"), v);
    const json_value *cats = json_get(s, "by_category");
    for (size_t i = 0; i < json_count(cats); i++) {
        const json_value *c = json_at(cats, i);
        char t1[96], js[96], label[64];
        estimate_text(json_get(c, "top1_agreement"), 1, t1, sizeof t1);
        estimate_text(json_get(c, "jsd"), 0, js, sizeof js);
        snprintf(v, sizeof v, "top-1 %s, JSD %s", t1, js);
        snprintf(label, sizeof label, "  %s", json_get_string(c, "category") ? msg_code("cat", json_get_string(c, "category"), ctx) : "?");
        sk->row(sk, label, v);
    }
    const json_value *panel = json_get(s, "panel");
    for (size_t i = 0; i < json_count(panel); i++) {
        const json_value *p = json_at(panel, i);
        double jsd = 0, top1 = 0, margin = 0, ph = 1;
        json_get_double(p, "jsd", &jsd);
        json_get_double(p, "top1", &top1);
        json_get_double(p, "margin", &margin);
        json_get_double(p, "p_holm", &ph);
        doc_rowf(sk, i == 0 ? tr(ctx, "panel", "비교군") : "", "%s: JSD %.3f, top-1 %.1f%%, %s %+.3f, p(Holm) %.2g %s",
                 json_get_string(p, "model") ? json_get_string(p, "model") : "?", jsd,
                 100 * top1, tr(ctx, "margin", "차이"), margin, ph,
                 json_is_true(json_get(p, "closer")) ? tr(ctx, "(B closer to A)", "(B가 A에 더 가까움)")
                                                     : tr(ctx, "(not closer)", "(더 가깝지 않음)"));
    }
}

void doc_verify_behaviour(doc_sink *sk, const json_value *root)
{
    const render_ctx *ctx = sk->ctx;
    const json_value *closest = json_get(root, "behaviour_closest");
    if (!closest) return;
    if (closest->type == JSON_STRING)
        doc_linef(sk, 0, "%s: %s", tr(ctx, "Outputs closest to (significantly, against the other candidates)",
                                       "출력이 가장 가까운 후보 (다른 후보 대비 유의)"), closest->u.string.s);
    else
        sk->line(sk, 0, tr(ctx, "Outputs: no candidate is significantly closer than all the others",
                                   "출력: 다른 모든 후보보다 유의하게 가까운 후보 없음"));
}
