/* Charts of the "activations" section: the layer x layer CKA heatmap and the PCA scatter of A's and
 * B's layers as two trajectories (each layer's centred Gram matrix as a point). */
#include <math.h>
#include <stdio.h>

#include "report/charts.h"
#include "report/document.h"

static int point(const json_value *pt, double *x, double *y)
{
    const json_value *a = json_at(pt, 0), *b = json_at(pt, 1);
    if (!a || !b || a->type != JSON_NUMBER || b->type != JSON_NUMBER) return 0;
    *x = a->u.number.d;
    *y = b->u.number.d;
    return isfinite(*x) && isfinite(*y);
}

static void trajectory(strbuf *sb, const json_value *pts, const char *name, const char *colour, double cx, double cy,
                       double scale, int ox, int oy)
{
    double x, y;
    sb_printf(sb, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colour);
    for (size_t i = 0; i < json_count(pts); i++)
        if (point(json_at(pts, i), &x, &y)) sb_printf(sb, "%.1f,%.1f ", ox + (x - cx) * scale, oy - (y - cy) * scale);
    sb_puts(sb, "\"/>");
    for (size_t i = 0; i < json_count(pts); i++) {
        if (!point(json_at(pts, i), &x, &y)) continue;
        double px = ox + (x - cx) * scale, py = oy - (y - cy) * scale;
        sb_printf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"><title>%s %zu</title></circle>"
                      "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">%s%zu</text>", px, py, colour, name, i, px + 5, py - 5,
                  name, i);
    }
    sb_putc(sb, '\n');
}

static void pca_scatter(strbuf *sb, const char *title, const json_value *a, const json_value *b)
{
    double lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY, x, y;
    const json_value *sides[2] = {a, b};
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < json_count(sides[s]); i++)
            if (point(json_at(sides[s], i), &x, &y)) {
                if (x < lo_x) lo_x = x;
                if (x > hi_x) hi_x = x;
                if (y < lo_y) lo_y = y;
                if (y > hi_y) hi_y = y;
            }
    if (!isfinite(lo_x)) return;
    int w = 380, h = 320, half = 140;
    double span = fmax(hi_x - lo_x, hi_y - lo_y), scale = span > 0 ? 2.0 * half / span : 1;
    sb_printf(sb, "<figure class=\"chart\" data-chart=\"pca\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>", w, h, w, h);
    html_escape(sb, title);
    sb_puts(sb, "</title>\n<rect x=\"10\" y=\"10\" width=\"360\" height=\"300\" fill=\"none\" stroke=\"#999\"/>");
    double cx = (lo_x + hi_x) / 2, cy = (lo_y + hi_y) / 2;
    trajectory(sb, a, "A", "#4a7ab5", cx, cy, scale, w / 2, h / 2);
    trajectory(sb, b, "B", "#c0392b", cx, cy, scale, w / 2, h / 2);
    sb_puts(sb, "</svg><figcaption>");
    html_escape(sb, title);
    sb_puts(sb, "</figcaption></figure>\n");
}

void activations_charts(strbuf *sb, const json_value *s, const render_ctx *ctx)
{
    const json_value *cka = json_get(s, "cka");
    const json_value *m = json_get(cka, "matrix");
    if (json_count(m))
        chart_heatmap(sb, tr(ctx, "hidden-state linear CKA, layer x layer (rows A, columns B)",
                             "은닉 상태 선형 CKA, 층 x 층 (행 A, 열 B)"), m, "B", "A");
    const json_value *pca = json_get(s, "pca");
    if (pca)
        pca_scatter(sb, tr(ctx, "layers of A (blue) and B (red): PCA of their centred Gram matrices (CKA geometry)",
                           "A(파랑)와 B(빨강)의 층: 중심화 그람 행렬의 주성분 분석 (CKA 기하)"),
                    json_get(pca, "a"), json_get(pca, "b"));
}
