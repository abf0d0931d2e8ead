/* The behaviour agreement chart: per probe category, top-1 agreement and Jensen-Shannon divergence of
 * A vs B (with bootstrap 95% whiskers) next to B vs its closest panel model. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/charts.h"
#include "report/msg.h"
#include "report/document.h"

#define PLOT_W 200
#define ROW_H 26

typedef struct est { double v, lo, hi; int ok; } est;

static est read_est(const json_value *e)
{
    est r = {NAN, NAN, NAN, 0};
    const json_value *ci = json_get(e, "ci95");
    r.ok = json_get_double(e, "value", &r.v) && isfinite(r.v);
    if (json_count(ci) == 2 && json_at(ci, 0)->type == JSON_NUMBER && json_at(ci, 1)->type == JSON_NUMBER) {
        r.lo = json_at(ci, 0)->u.number.d;
        r.hi = json_at(ci, 1)->u.number.d;
    }
    return r;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* One bar of a [0, 1] quantity at (x0, y) with its whisker. */
static void bar(strbuf *sb, int x0, int y, int h, est e, const char *fill, const char *what)
{
    if (!e.ok) return;
    int w = (int)lround(PLOT_W * clamp01(e.v));
    sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>", x0, y, w > 0 ? w : 1, h, fill);
    html_escape(sb, what);
    sb_printf(sb, ": %.3f [%.3f, %.3f]</title></rect>", e.v, e.lo, e.hi);
    if (isfinite(e.lo) && isfinite(e.hi)) {
        double a = x0 + PLOT_W * clamp01(e.lo), b = x0 + PLOT_W * clamp01(e.hi), m = y + h / 2.0;
        sb_printf(sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>"
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>"
                      "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>",
                  a, b, m, m, a, a, m - 3, m + 3, b, b, m - 3, m + 3);
    }
}

void behaviour_charts(strbuf *sb, const json_value *s, const render_ctx *ctx)
{
    const json_value *cats = json_get(s, "by_category");
    size_t n = json_count(cats);
    if (!n) return;
    int has_panel = json_get(json_at(cats, 0), "panel") != NULL;
    const char *title = tr(ctx, "behaviour agreement by probe category: top-1 agreement (higher = closer) and "
                                "Jensen-Shannon divergence (lower = closer), 95% bootstrap intervals",
                           "시험 문장 범주별 출력 일치: top-1 일치율 (높을수록 가까움)과 젠슨-섀넌 발산 (낮을수록 "
                           "가까움), 95% 부트스트랩 구간");
    int left = 70, col2 = left + PLOT_W + 40, w = col2 + PLOT_W + 20, h = 40 + (int)n * ROW_H + 24;
    sb_printf(sb, "<figure class=\"chart\" data-chart=\"behaviour-agreement\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>", w, h, w, h);
    html_escape(sb, title);
    sb_puts(sb, "</title>\n");
    sb_printf(sb, "<text x=\"%d\" y=\"14\">%s</text><text x=\"%d\" y=\"14\">%s</text>\n", left,
              tr(ctx, "top-1 agreement", "top-1 일치율"), col2, tr(ctx, "JSD (bits)", "JSD (비트)"));
    for (int c = 0; c < 2; c++) {
        int x0 = c ? col2 : left;
        sb_printf(sb, "<rect x=\"%d\" y=\"20\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#bbb\"/>"
                      "<text x=\"%d\" y=\"%d\">0</text><text x=\"%d\" y=\"%d\">1</text>\n",
                  x0, PLOT_W, (int)n * ROW_H + 4, x0 - 3, 36 + (int)n * ROW_H, x0 + PLOT_W - 3, 36 + (int)n * ROW_H);
    }
    for (size_t i = 0; i < n; i++) {
        const json_value *c = json_at(cats, i), *p = json_get(c, "panel");
        int y = 24 + (int)i * ROW_H, bh = has_panel ? 10 : 18;
        sb_printf(sb, "<text x=\"0\" y=\"%d\">", y + 14);
        html_escape(sb, json_get_string(c, "category") ? msg_code("cat", json_get_string(c, "category"), ctx) : "?");
        sb_puts(sb, "</text>");
        bar(sb, left, y, bh, read_est(json_get(c, "top1_agreement")), "#4a7ab5", "A vs B top-1");
        bar(sb, col2, y, bh, read_est(json_get(c, "jsd")), "#4a7ab5", "A vs B JSD");
        if (p) {
            bar(sb, left, y + bh + 1, bh, read_est(json_get(p, "top1_agreement")), "#c9a227", "B vs panel top-1");
            bar(sb, col2, y + bh + 1, bh, read_est(json_get(p, "jsd")), "#c9a227", "B vs panel JSD");
        }
        sb_putc(sb, '\n');
    }
    int ly = h - 6;
    sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"8\" fill=\"#4a7ab5\"/><text x=\"%d\" y=\"%d\">%s</text>",
              left, ly - 8, left + 14, ly, tr(ctx, "A vs B", "A와 B"));
    if (has_panel) {
        const char *pm = json_get_string(json_get(json_at(cats, 0), "panel"), "model");
        sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"8\" fill=\"#c9a227\"/><text x=\"%d\" y=\"%d\">%s ",
                  left + 80, ly - 8, left + 94, ly, tr(ctx, "B vs closest panel model", "B와 가장 가까운 비교군"));
        html_escape(sb, pm ? pm : "");
        sb_puts(sb, "</text>");
    }
    sb_puts(sb, "\n</svg><figcaption>");
    html_escape(sb, title);
    sb_puts(sb, "</figcaption></figure>\n");
}
