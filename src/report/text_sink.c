/* A doc_sink that writes terminal text: headings in bold, tables with aligned columns (widths
 * measured in terminal columns, so Hangul lines up), control characters of untrusted text shown as '?'. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/document.h"
#include "report/text_util.h"

typedef struct text_table {
    size_t ncols, nrows, cap;
    char **cells;   /* nrows x ncols cells, each whole (never cut); row 0 is the header */
} text_table;

static void table_free(text_table *t)
{
    for (size_t i = 0; t->cells && i < t->nrows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    *t = (text_table){0, 0, 0, NULL};
}

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
        char **p = realloc(t->cells, cap * (t->ncols ? t->ncols : 1) * sizeof *p);
        if (!p) return;
        t->cells = p;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        const char *src = c < n && cells[c] ? cells[c] : "";
        char *d = strdup(src);
        t->cells[t->nrows * t->ncols + c] = d ? d : strdup("");
    }
    t->nrows++;
}

static void t_table_begin(doc_sink *s, const char **cols, size_t n)
{
    text_table *t = s->user;
    table_free(t);
    t->ncols = n;
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
            const char *cell = t->cells[r * t->ncols + c];
            size_t cw = cell ? text_width(cell) : 0;
            if (cw > w[c]) w[c] = cw;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        sb_puts(s->sb, "  ");
        if (r == 0) sb_puts(s->sb, c_dim(s->ctx));
        for (size_t c = 0; c < nc; c++) {
            const char *cell = t->cells[r * t->ncols + c] ? t->cells[r * t->ncols + c] : "";
            put_clean(s->sb, cell);
            if (c + 1 < nc)
                for (size_t k = text_width(cell); k < w[c] + 2; k++) sb_putc(s->sb, ' ');
        }
        if (r == 0) sb_puts(s->sb, c_off(s->ctx));
        sb_putc(s->sb, '\n');
    }
    table_free(t);
}

const char *doc_style_on(const render_ctx *ctx, int style)
{
    return style == DOC_DIM ? c_dim(ctx) : style == DOC_GOOD ? c_good(ctx) : style == DOC_WARN ? c_warn(ctx) : "";
}

static void t_row(doc_sink *s, const char *label, const char *value) { text_row(s->sb, s->ctx, label, value); }

static void t_line(doc_sink *s, int style, const char *text)
{
    sb_printf(s->sb, "  %s", doc_style_on(s->ctx, style));
    put_clean(s->sb, text);
    sb_printf(s->sb, "%s\n", style ? c_off(s->ctx) : "");
}

static void t_section(doc_sink *s, int level, const char *title, const char *note)
{
    sb_printf(s->sb, "\n%s", c_bold(s->ctx));
    put_clean(s->sb, title);
    sb_puts(s->sb, c_off(s->ctx));
    if (note) put_clean(s->sb, note);
    sb_putc(s->sb, '\n');
    if (level <= 1) sb_putc(s->sb, '\n');
}

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

static void vformat(strbuf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    char small[512];
    int n = vsnprintf(small, sizeof small, fmt, aq);
    va_end(aq);
    if (n < 0) return;
    if ((size_t)n < sizeof small) { sb_puts(b, small); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->failed = 1; return; }
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    sb_puts(b, big);
    free(big);
}

void doc_rowf(doc_sink *s, const char *label, const char *fmt, ...)
{
    strbuf b;
    sb_init(&b);
    va_list ap;
    va_start(ap, fmt);
    vformat(&b, fmt, ap);
    va_end(ap);
    s->row(s, label, sb_str(&b));
    sb_free(&b);
}

void doc_linef(doc_sink *s, int style, const char *fmt, ...)
{
    strbuf b;
    sb_init(&b);
    va_list ap;
    va_start(ap, fmt);
    vformat(&b, fmt, ap);
    va_end(ap);
    s->line(s, style, sb_str(&b));
    sb_free(&b);
}

static void text_sink(doc_sink *s, strbuf *sb, const render_ctx *ctx, text_table *t)
{
    *s = (doc_sink){.sb = sb, .ctx = ctx, .heading = t_heading, .para = t_para, .item = t_item, .list_end = t_list_end,
                    .table_begin = t_table_begin, .table_row = t_table_row, .table_end = t_table_end, .chart = t_chart,
                    .cards = t_cards, .user = t, .row = t_row, .line = t_line, .section = t_section, .terminal = 1};
}

void render_text_section(strbuf *sb, const json_value *sec, const render_ctx *ctx,
                         void (*fn)(doc_sink *s, const json_value *sec))
{
    text_table t = {0, 0, 0, NULL};
    doc_sink s;
    text_sink(&s, sb, ctx, &t);
    fn(&s, sec);
    table_free(&t);
}

void render_text_document(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    text_table t = {0, 0, 0, NULL};
    doc_sink s;
    text_sink(&s, sb, ctx, &t);
    document_render(&s, root);
    table_free(&t);
}

/* The terminal functions of report.h: each report kind through the text sink. */
void render_inspect_text(strbuf *sb, const json_value *root, const render_ctx *ctx) { render_text_section(sb, root, ctx, doc_inspect); }
void render_arch_text(strbuf *sb, const json_value *sec, const render_ctx *ctx) { render_text_section(sb, sec, ctx, doc_arch); }
void render_tokenizer_text(strbuf *sb, const json_value *sec, const render_ctx *ctx) { render_text_section(sb, sec, ctx, doc_tokenizer); }
void render_weights_text(strbuf *sb, const json_value *sec, const render_ctx *ctx) { render_text_section(sb, sec, ctx, doc_weights); }
void render_behaviour_text(strbuf *sb, const json_value *sec, const render_ctx *ctx) { render_text_section(sb, sec, ctx, doc_behaviour); }
void render_activations_text(strbuf *sb, const json_value *sec, const render_ctx *ctx) { render_text_section(sb, sec, ctx, doc_activations); }
void render_verdict_text(strbuf *sb, const json_value *v, const render_ctx *ctx) { render_text_section(sb, v, ctx, doc_verdict); }
void render_verify_text(strbuf *sb, const json_value *root, const render_ctx *ctx) { render_text_section(sb, root, ctx, doc_verify); }
void render_verify_behaviour_text(strbuf *sb, const json_value *root, const render_ctx *ctx) { render_text_section(sb, root, ctx, doc_verify_behaviour); }
void render_run_text(strbuf *sb, const json_value *root, const render_ctx *ctx) { render_text_section(sb, root, ctx, doc_run); }
void render_search_text(strbuf *sb, const json_value *root, const render_ctx *ctx) { render_text_section(sb, root, ctx, doc_search); }
void render_index_text(strbuf *sb, const json_value *root, const render_ctx *ctx) { render_text_section(sb, root, ctx, doc_index); }
