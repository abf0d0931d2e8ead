#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/text_util.h"

size_t text_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n;
        if (*p < 0x80) { cp = *p; n = 1; }
        else if ((*p & 0xE0) == 0xC0) { cp = *p & 0x1F; n = 2; }
        else if ((*p & 0xF0) == 0xE0) { cp = *p & 0x0F; n = 3; }
        else { cp = *p & 0x07; n = 4; }
        for (int i = 1; i < n; i++) {
            if (!p[i]) return w;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        p += n;
        /* Hangul, CJK and full-width forms take two columns */
        w += (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
                     (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFF60)
                 ? 2 : 1;
    }
    return w;
}

void text_row(strbuf *sb, const render_ctx *ctx, const char *label, const char *value)
{
    (void)ctx;
    size_t w = text_width(label);
    sb_printf(sb, "  %s", label);
    for (size_t i = w; i < TEXT_LABEL_WIDTH; i++) sb_putc(sb, ' ');
    sb_printf(sb, " %s\n", value);
}

void text_row_int(strbuf *sb, const render_ctx *ctx, const char *label, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    text_row(sb, ctx, label, buf);
}

void text_count(char *buf, size_t cap, int64_t n)
{
    if (n < 0) { snprintf(buf, cap, "?"); return; }
    double d = (double)n;
    if (d >= 1e12) snprintf(buf, cap, "%.3gT", d / 1e12);
    else if (d >= 1e9) snprintf(buf, cap, "%.3gB", d / 1e9);
    else if (d >= 1e6) snprintf(buf, cap, "%.3gM", d / 1e6);
    else if (d >= 1e3) snprintf(buf, cap, "%.3gK", d / 1e3);
    else snprintf(buf, cap, "%lld", (long long)n);
}

void text_grouped(char *buf, size_t cap, double v)
{
    if (!cap) return;
    if (!isfinite(v) || fabs(v) >= 1e18) { snprintf(buf, cap, isfinite(v) ? "%.3g" : "-", v); return; }
    char raw[40];
    snprintf(raw, sizeof raw, "%.0f", fabs(v));
    size_t len = strlen(raw), o = 0;
    if (v <= -0.5 && o + 1 < cap) buf[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
}

void text_sci(char *buf, size_t cap, double v)
{
    if (!isfinite(v) || v == 0) { snprintf(buf, cap, isfinite(v) ? "0" : "-"); return; }
    int e = (int)floor(log10(fabs(v)));
    double m = v / pow(10, e);
    if (fabs(m) >= 9.995) { m /= 10; e++; }
    if (e >= -3 && e < 6) snprintf(buf, cap, "%.3g", v);
    else snprintf(buf, cap, "%.2f × 10^%d", m, e);
}
