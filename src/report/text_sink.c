/* A doc_sink that writes terminal text: headings in bold, tables with aligned columns (widths
 * measured in terminal columns, so Hangul lines up), control characters of untrusted text shown as '?'. */
#include <stdlib.h>
#include <string.h>

#include "report/document.h"
#include "report/text_util.h"

#define TEXT_MAX_CELL 160

typedef struct text_table {
    size_t ncols, nrows, cap;
    char *cells;   /* nrows x ncols cells of TEXT_MAX_CELL bytes; row 0 is the header */
} text_table;

static void put_clean(strbuf *sb, const char *s)
{
    for (; *s; s++) sb_putc(sb, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void t_heading(doc_sink *s, int level, const char *text)
{
    sb_printf(s->sb, "\n%s", c_bold(s->ctx));
    put_clean(s->sb, text);
    sb_printf(s->sb, "%s\n", c_off(s->ctx));
    if (level <= 1) sb_putc(s->sb, '\n');
}

static void t_para(doc_sink *s, const char *bold, const char *text)
{
    sb_puts(s->sb, "  ");
    if (bold) {
        sb_puts(s->sb, c_bold(s->ctx));
        put_clean(s->sb, bold);
        sb_printf(s->sb, "%s ", c_off(s->ctx));
    }
    put_clean(s->sb, text);
    sb_putc(s->sb, '\n');
}

static void t_item(doc_sink *s, int depth, const char *key, const char *text)
{
    for (int i = 0; i <= depth; i++) sb_puts(s->sb, "  ");
    sb_puts(s->sb, "- ");
    if (key) {
        put_clean(s->sb, key);
        sb_puts(s->sb, ": ");
    }
    put_clean(s->sb, text);
    sb_putc(s->sb, '\n');
}

static void t_list_end(doc_sink *s) { (void)s; }

static void table_add(text_table *t, const char **cells, size_t n)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char *p = realloc(t->cells, cap * t->ncols * TEXT_MAX_CELL);
        if (!p) return;
        t->cells = p;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        char *dst = t->cells + (t->nrows * t->ncols + c) * TEXT_MAX_CELL;
        const char *src = c < n && cells[c] ? cells[c] : "";
        size_t len = strlen(src);
        if (len >= TEXT_MAX_CELL) {   /* cut on a character boundary */
            len = TEXT_MAX_CELL - 1;
            while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80) len--;
        }
        memcpy(dst, src, len);
        dst[len] = 0;
    }
    t->nrows++;
}

static void t_table_begin(doc_sink *s, const char **cols, size_t n)
{
    text_table *t = s->user;
    free(t->cells);
    *t = (text_table){n, 0, 0, NULL};
    table_add(t, cols, n);
}

static void t_table_row(doc_sink *s, const char **cells, size_t n)
{
    table_add(s->user, cells, n);
}

static void t_table_end(doc_sink *s)
{
    text_table *t = s->user;
    size_t w[32] = {0};
    size_t nc = t->ncols < 32 ? t->ncols : 32;
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < nc; c++) {
            size_t cw = text_width(t->cells + (r * t->ncols + c) * TEXT_MAX_CELL);
            if (cw > w[c]) w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        sb_puts(s->sb, "  ");
        if (r == 0) sb_puts(s->sb, c_dim(s->ctx));
        for (size_t c = 0; c < nc; c++) {
            const char *cell = t->cells + (r * t->ncols + c) * TEXT_MAX_CELL;
            put_clean(s->sb, cell);
            if (c + 1 < nc)
                for (size_t k = text_width(cell); k < w[c] + 2; k++) sb_putc(s->sb, ' ');
        }
        if (r == 0) sb_puts(s->sb, c_off(s->ctx));
        sb_putc(s->sb, '\n');
    }
    free(t->cells);
    *t = (text_table){0, 0, 0, NULL};
}

static void t_pre(doc_sink *s, const char *text) { sb_puts(s->sb, text); }

static void t_chart(doc_sink *s, const char *key, const json_value *section)
{
    (void)s;
    (void)key;
    (void)section;
}

/* Terminal: the question, then each answer on its own indented lines (cut at 400 bytes) with its note */
static void t_cards(doc_sink *s, const char *title, const char **heads, const char **bodies, const char **notes, size_t n)
{
    sb_puts(s->sb, "  ");
    put_clean(s->sb, title);
    sb_putc(s->sb, '\n');
    for (size_t i = 0; i < n; i++) {
        sb_printf(s->sb, "    %s", c_dim(s->ctx));
        put_clean(s->sb, heads[i]);
        sb_printf(s->sb, "%s: ", c_off(s->ctx));
        size_t len = strlen(bodies[i]), k = len > 400 ? 400 : len;
        while (k < len && k > 0 && ((unsigned char)bodies[i][k] & 0xC0) == 0x80) k--;
        for (size_t j = 0; j < k; j++) {
            unsigned char ch = (unsigned char)bodies[i][j];
            sb_putc(s->sb, ch == '\n' ? ' ' : ch < 0x20 || ch == 0x7f ? '?' : (char)ch);
        }
        if (k < len) sb_puts(s->sb, "...");
        if (notes[i] && *notes[i]) {
            sb_printf(s->sb, "  %s[", c_warn(s->ctx));
            put_clean(s->sb, notes[i]);
            sb_printf(s->sb, "]%s", c_off(s->ctx));
        }
        sb_putc(s->sb, '\n');
    }
}

void render_text_section(strbuf *sb, const json_value *sec, const render_ctx *ctx,
                         void (*fn)(doc_sink *s, const json_value *sec))
{
    text_table t = {0, 0, 0, NULL};
    doc_sink s = {sb, ctx, t_heading, t_para, t_item, t_list_end, t_table_begin, t_table_row, t_table_end, t_chart, t_cards, &t, t_pre};
    fn(&s, sec);
    free(t.cells);
}

void render_text_document(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    text_table t = {0, 0, 0, NULL};
    doc_sink s = {sb, ctx, t_heading, t_para, t_item, t_list_end, t_table_begin, t_table_row, t_table_end, t_chart, t_cards, &t, t_pre};
    document_render(&s, root);
    free(t.cells);
}
