/* Aligned label/value rows and human-readable counts for the terminal renderers. */
#ifndef LINEAGE_REPORT_TEXT_UTIL_H
#define LINEAGE_REPORT_TEXT_UTIL_H
#include <stdint.h>
#include "report/report.h"

#define TEXT_LABEL_WIDTH 22
/* Terminal columns of a UTF-8 string (Hangul and other wide characters count 2). */
size_t text_width(const char *s);
void text_row(strbuf *sb, const render_ctx *ctx, const char *label, const char *value);
void text_row_int(strbuf *sb, const render_ctx *ctx, const char *label, int64_t v);
/* 1234567 → "1.23M"; negative → "?" */
void text_count(char *buf, size_t cap, int64_t n);
/* 1000506.46 → "1,000,506" (all digits, thousands separated); non-finite → "-" */
void text_grouped(char *buf, size_t cap, double v);
/* 1.4249e24 → "1.42 × 10^24" */
void text_sci(char *buf, size_t cap, double v);
#endif
