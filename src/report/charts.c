#include "report/charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/document.h"
#include "util/finite.h"

#define MAX_MAP 1024

static void figure_begin(strbuf *sb, const char *kind, const char *title, int w, int h)
{
    sb_printf(sb, "<figure class=\"chart\" data-chart=\"%s\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"><title>", kind, w, h, w, h);
    html_escape(sb, title);
    sb_puts(sb, "</title>\n");
}

static void figure_end(strbuf *sb, const char *title)
{
    sb_puts(sb, "</svg><figcaption>");
    html_escape(sb, title);
    sb_puts(sb, "</figcaption></figure>\n");
}

/* Diverging colour: -1 blue, 0 white, +1 red. */
static void colour(double v, char *buf, size_t n)
{
    if (!isfinite(v)) { snprintf(buf, n, "#cccccc"); return; }
    if (v > 1) v = 1;
    if (v < -1) v = -1;
    int r, g, b;
    if (v >= 0) { r = 255; g = (int)(255 * (1 - v)); b = (int)(255 * (1 - v)); }
    else { r = (int)(255 * (1 + v)); g = (int)(255 * (1 + v)); b = 255; }
    snprintf(buf, n, "#%02x%02x%02x", r, g, b);
}

void chart_heatmap(strbuf *sb, const char *title, const json_value *matrix, const char *xlabel, const char *ylabel)
{
    size_t rows = json_count(matrix), cols = 0;
    for (size_t i = 0; i < rows; i++)
        if (json_count(json_at(matrix, i)) > cols) cols = json_count(json_at(matrix, i));
    if (!rows || !cols) return;
    int cell = (int)(320 / (rows > cols ? rows : cols));
    if (cell < 3) cell = 3;
    if (cell > 28) cell = 28;
    int w = 40 + (int)cols * cell + 10, h = 20 + (int)rows * cell + 30;
    figure_begin(sb, "heatmap", title, w, h);
    for (size_t i = 0; i < rows; i++) {
        const json_value *row = json_at(matrix, i);
        for (size_t j = 0; j < json_count(row); j++) {
            const json_value *e = json_at(row, j);
            double v = e && e->type == JSON_NUMBER ? e->u.number.d : NAN;
            char c[16];
            colour(v, c, sizeof c);
            sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%zu,%zu: %.4f</title></rect>",
                      40 + (int)j * cell, 20 + (int)i * cell, cell, cell, c, i, j, v);
        }
        sb_putc(sb, '\n');
    }
    sb_printf(sb, "<text x=\"40\" y=\"%d\">%s</text>", h - 8, xlabel);
    sb_printf(sb, "<text x=\"2\" y=\"14\">%s</text>\n", ylabel);
    figure_end(sb, title);
}

void chart_bars(strbuf *sb, const char *title, const char **labels, const double *values, size_t n)
{
    double max = 0;
    for (size_t i = 0; i < n; i++) if (isfinite(values[i]) && values[i] > max) max = values[i];
    if (max <= 0) max = 1;
    int w = 500, h = 24 + (int)n * 22;   /* labels in the first 160 pixels */
    figure_begin(sb, "bars", title, w, h);
    for (size_t i = 0; i < n; i++) {
        int bw = finite_cells(values[i], max, 280);
        int y = 10 + (int)i * 22;
        sb_printf(sb, "<text x=\"0\" y=\"%d\">", y + 12);
        html_escape(sb, labels[i]);
        if (bw < 0) { sb_printf(sb, "</text><text x=\"164\" y=\"%d\">n/a</text>\n", y + 12); continue; }
        sb_printf(sb, "</text><rect x=\"160\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#4a7ab5\"/>"
                      "<text x=\"%d\" y=\"%d\">%.0f</text>\n", y, bw > 0 ? bw : 1, 164 + bw, y + 12, values[i]);
    }
    figure_end(sb, title);
}

void chart_profile(strbuf *sb, const char *title, const double *x, const double *y, size_t n, const char *ylabel)
{
    if (!n) return;
    double xmax = 1;
    size_t excluded = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(x[i]) && x[i] > xmax) xmax = x[i];
        excluded += !isfinite(x[i]) || !isfinite(y[i]);
    }
    int w = 420, h = 200, left = 40, top = 10, pw = 360, ph = 150;
    figure_begin(sb, "profile", title, w, h);
    sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", left, top, pw, ph);
    /* y axis spans [-0.2, 1] so chance level (0) is visible */
    double y0 = -0.2, y1 = 1.0;
    int zero = top + (int)(ph * (y1 - 0) / (y1 - y0));
    sb_printf(sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#bbb\" stroke-dasharray=\"3\"/>", left, left + pw, zero, zero);
    sb_printf(sb, "<text x=\"2\" y=\"%d\">0</text><text x=\"2\" y=\"%d\">1</text>", zero + 3, top + 8);
    sb_puts(sb, "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\" points=\"");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        double yy = finite_clamp(y[i], y0, y1);
        sb_printf(sb, "%.1f,%.1f ", left + pw * x[i] / xmax, top + ph * (y1 - yy) / (y1 - y0));
    }
    sb_puts(sb, "\"/>");
    if (excluded) sb_printf(sb, "<text x=\"%d\" y=\"%d\">%zu n/a</text>", left + pw - 60, top + 12, excluded);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        double yy = finite_clamp(y[i], y0, y1);
        sb_printf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#c0392b\"><title>%g: %.4f</title></circle>",
                  left + pw * x[i] / xmax, top + ph * (y1 - yy) / (y1 - y0), x[i], y[i]);
    }
    sb_printf(sb, "<text x=\"%d\" y=\"%d\">%s</text>\n", left, h - 8, ylabel);
    figure_end(sb, title);
}

void chart_layer_map(strbuf *sb, const char *title, const int *map, size_t nb, int na)
{
    if (!nb) return;
    int step = nb > 40 || na > 40 ? 8 : 18;
    int w = 60 + (int)(nb > (size_t)na ? nb : (size_t)na) * step + 20, h = 110;
    figure_begin(sb, "layer-map", title, w, h);
    sb_puts(sb, "<text x=\"0\" y=\"24\">A</text><text x=\"0\" y=\"94\">B</text>");
    for (int i = 0; i < na; i++)
        sb_printf(sb, "<circle cx=\"%d\" cy=\"20\" r=\"4\" fill=\"#4a7ab5\"><title>A %d</title></circle>", 30 + i * step, i);
    for (size_t j = 0; j < nb; j++) {
        sb_printf(sb, "<circle cx=\"%d\" cy=\"90\" r=\"4\" fill=\"#c0392b\"><title>B %zu</title></circle>",
                  30 + (int)j * step, j);
        if (map[j] >= 0)
            sb_printf(sb, "<line x1=\"%d\" y1=\"86\" x2=\"%d\" y2=\"24\" stroke=\"#555\"/>", 30 + (int)j * step,
                      30 + map[j] * step);
    }
    sb_putc(sb, '\n');
    figure_end(sb, title);
}

static int map_entry(const json_value *e)
{
    int64_t v;
    if (e && e->type == JSON_NUMBER && e->u.number.is_int) return (int)e->u.number.i;
    if (e && e->type == JSON_OBJECT) {
        const char *keys[] = {"a", "layer_a", "layer"};
        for (size_t k = 0; k < 3; k++)
            if (json_get_int(e, keys[k], &v)) return (int)v;
    }
    return -1;
}

static void weights_charts(strbuf *sb, const json_value *w, const render_ctx *ctx)
{
    const json_value *controls = json_get(w, "controls");
    for (size_t i = 0; controls && controls->type == JSON_OBJECT && i < controls->u.object.count; i++) {
        const json_member *m = &controls->u.object.members[i];
        const json_value *mat = json_get(m->value, "matrix");
        if (!json_count(mat)) continue;
        char t[200];
        snprintf(t, sizeof t, "%s: %s", m->key, tr(ctx, "layer x layer centered similarity (rows B, columns A)",
                                                   "층 x 층 중심화 유사도 (행 B, 열 A)"));
        chart_heatmap(sb, t, mat, "A", "B");
    }
    /* per-layer profile: mean centered similarity of high-information pairs per B layer */
    const json_value *pairs = json_get(w, "pairs");
    double x[MAX_MAP], y[MAX_MAP];
    int cnt[MAX_MAP] = {0};
    size_t nl = 0;
    for (size_t i = 0; i < MAX_MAP; i++) y[i] = 0;
    for (size_t i = 0; i < json_count(pairs); i++) {
        const json_value *p = json_at(pairs, i);
        int64_t lb;
        double c;
        if (json_is_true(json_get(p, "low_information"))) continue;
        if (!json_get_int(p, "layer_b", &lb) || lb < 0 || lb >= MAX_MAP || !json_get_double(p, "centered", &c)) continue;
        y[lb] += c;
        cnt[lb]++;
        if ((size_t)lb + 1 > nl) nl = (size_t)lb + 1;
    }
    size_t np = 0;
    for (size_t l = 0; l < nl; l++)
        if (cnt[l]) { x[np] = (double)l; y[np] = y[l] / cnt[l]; np++; }
    if (np) chart_profile(sb, tr(ctx, "per-layer similarity profile (mean centered cosine of matched tensors, by B layer)",
                                 "층별 유사도 (B 층별 대응 텐서의 평균 중심화 코사인)"), x, y, np, tr(ctx, "layer of B", "B의 층"));
    const json_value *lm = json_get(w, "layer_map");
    if (lm && lm->type == JSON_OBJECT) lm = json_get(lm, "map");
    size_t nb = json_count(lm);
    if (nb && nb <= MAX_MAP) {
        int map[MAX_MAP], na = 0;
        for (size_t j = 0; j < nb; j++) {
            map[j] = map_entry(json_at(lm, j));
            if (map[j] + 1 > na) na = map[j] + 1;
        }
        chart_layer_map(sb, tr(ctx, "layer map (each layer of B to its matched layer of A)", "층 대응 (B의 각 층 → A의 층)"),
                        map, nb, na);
    }
}

static void tokenizer_charts(strbuf *sb, const json_value *t, const render_ctx *ctx)
{
    /* token counts, labelled in the report language: the vocabularies, what they share, what sits at the same id */
    static const char *const keys[][4] = {{"vocab_a", NULL, "A vocabulary", "A의 어휘"},
                                          {"vocab_b", NULL, "B vocabulary", "B의 어휘"},
                                          {"shared", "count", "shared tokens", "공유 토큰"},
                                          {"id_aligned", "count", "same token at the same id", "같은 ID에 같은 토큰"},
                                          {"common_id_prefix", NULL, "common id prefix", "공통 ID 접두"}};
    const char *labels[5];
    double vals[5];
    size_t n = 0;
    for (size_t i = 0; i < 5; i++) {
        double v;
        const json_value *o = keys[i][1] ? json_get(t, keys[i][0]) : t;
        if (json_get_double(o, keys[i][1] ? keys[i][1] : keys[i][0], &v)) {
            labels[n] = tr(ctx, keys[i][2], keys[i][3]);
            vals[n++] = v;
        }
    }
    if (n >= 3) chart_bars(sb, tr(ctx, "tokenizer overlap (tokens)", "토크나이저 겹침 (토큰 수)"), labels, vals, n);
}

void charts_for_section(strbuf *sb, const char *key, const json_value *section, const render_ctx *ctx)
{
    if (!strcmp(key, "study_matrix")) {   /* one model x model matrix of a study; models in table order */
        const char *title = json_get_string(section, "title");
        chart_heatmap(sb, title ? title : "", json_get(section, "matrix"), tr(ctx, "model", "모델"), tr(ctx, "model", "모델"));
    } else if (!strcmp(key, "weights")) weights_charts(sb, section, ctx);
    else if (!strcmp(key, "tokenizer")) tokenizer_charts(sb, section, ctx);
    else if (!strcmp(key, "behaviour")) behaviour_charts(sb, section, ctx);
    else if (!strcmp(key, "activations")) activations_charts(sb, section, ctx);
}
