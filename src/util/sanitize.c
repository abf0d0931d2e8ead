#include "util/sanitize.h"

#include <stdio.h>
#include <string.h>

int sanitize_hidden_codepoint(unsigned cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Length of the valid UTF-8 sequence at s (no overlongs, no surrogates), its codepoint in *cp; 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) { *cp = c; return 1; }
    if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; c &= 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; c &= 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return len;
}

size_t sanitize_hidden_at(const char *s, size_t n, unsigned *cp)
{
    size_t len = n ? utf8_next((const unsigned char *)s, n, cp) : 0;
    return len && sanitize_hidden_codepoint(*cp) ? len : 0;
}

/* Length of a colour sequence ESC [ (digits | ;)* m at s, else 0. */
static size_t sgr_length(const unsigned char *s, size_t n)
{
    if (n < 3 || s[0] != 0x1b || s[1] != '[') return 0;
    for (size_t i = 2; i < n && i < 16; i++) {
        if (s[i] == 'm') return i + 1;
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ';')) return 0;
    }
    return 0;
}

void sanitize_terminal(strbuf *sb, const char *text, size_t n, int flags)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t run = 0, i = 0;
    while (i < n) {
        unsigned cp = 0;
        size_t len = utf8_next(s + i, n - i, &cp);
        size_t keep = 0;
        if (len && !sanitize_hidden_codepoint(cp)) keep = len;
        else if (len == 1 && (flags & SANITIZE_KEEP_LINES) && (cp == '\n' || cp == '\t')) keep = 1;
        else if ((flags & SANITIZE_ALLOW_SGR) && cp == 0x1b) keep = sgr_length(s + i, n - i);
        if (keep) { i += keep; continue; }
        sb_putn(sb, text + run, i - run);
        char esc[16];
        if (len > 1) snprintf(esc, sizeof esc, "\\u{%04x}", cp);
        else snprintf(esc, sizeof esc, "\\x%02x", s[i]);
        sb_puts(sb, esc);
        i += len ? len : 1;
        run = i;
    }
    sb_putn(sb, text + run, n - run);
}

void sanitize_terminal_copy(char *buf, size_t n, const char *s)
{
    if (!n) return;
    strbuf sb;
    sb_init(&sb);
    sanitize_terminal(&sb, s, strlen(s), 0);
    const char *clean = sb_str(&sb);
    size_t len = strlen(clean);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)clean[len] & 0xc0) == 0x80) len--;   /* whole characters only */
    }
    memcpy(buf, clean, len);
    buf[len] = 0;
    sb_free(&sb);
}

void sanitize_markdown(strbuf *sb, const char *s)
{
    strbuf clean;
    sb_init(&clean);
    sanitize_terminal(&clean, s, strlen(s), 0);
    for (const char *p = sb_str(&clean); *p; p++) {
        unsigned char c = (unsigned char)*p;
        /* every character that can open a link, image, heading, emphasis, code span, table cell, entity
         * or raw HTML (CommonMark + GFM) is backslash-escaped; the value stays on one line */
        if (c && strchr("\\`*_{}[]()#!|<>~&", c)) sb_putc(sb, '\\');
        sb_putc(sb, (char)c);
    }
    sb_free(&clean);
}

void sanitize_markdown_code(strbuf *sb, const char *s)
{
    strbuf clean;
    sb_init(&clean);
    sanitize_terminal(&clean, s, strlen(s), 0);
    const char *t = sb_str(&clean);
    size_t longest = 0, cur = 0;
    for (const char *p = t; *p; p++) {
        cur = *p == '`' ? cur + 1 : 0;
        if (cur > longest) longest = cur;
    }
    for (size_t i = 0; i <= longest; i++) sb_putc(sb, '`');
    if (longest) sb_putc(sb, ' ');
    sb_puts(sb, t);
    if (longest) sb_putc(sb, ' ');
    for (size_t i = 0; i <= longest; i++) sb_putc(sb, '`');
    sb_free(&clean);
}

void sanitize_html(strbuf *sb, const char *s)
{
    strbuf clean;
    sb_init(&clean);
    sanitize_terminal(&clean, s, strlen(s), 0);
    for (const char *p = sb_str(&clean); *p; p++) {
        switch (*p) {
        case '<': sb_puts(sb, "&lt;"); break;
        case '>': sb_puts(sb, "&gt;"); break;
        case '&': sb_puts(sb, "&amp;"); break;
        case '"': sb_puts(sb, "&quot;"); break;
        case '\'': sb_puts(sb, "&#39;"); break;
        default: sb_putc(sb, *p);
        }
    }
    sb_free(&clean);
}
