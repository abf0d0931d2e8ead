/* Inline SVG charts for the HTML report. */
#ifndef LINEAGE_REPORT_CHARTS_H
#define LINEAGE_REPORT_CHARTS_H
#include "report/report.h"

/* charts_behaviour.c */
void behaviour_charts(strbuf *sb, const json_value *section, const render_ctx *ctx);
void charts_for_section(strbuf *sb, const char *key, const json_value *section, const render_ctx *ctx);
void chart_heatmap(strbuf *sb, const char *title, const json_value *matrix, const char *xlabel, const char *ylabel);
void chart_bars(strbuf *sb, const char *title, const char **labels, const double *values, size_t n);
void chart_profile(strbuf *sb, const char *title, const double *x, const double *y, size_t n, const char *ylabel);
void activations_charts(strbuf *sb, const json_value *section, const render_ctx *ctx);
void chart_layer_map(strbuf *sb, const char *title, const int *map, size_t nb, int na);
#endif
