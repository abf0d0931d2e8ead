/* Markdown and HTML reports: one walk over the report document, two back ends (doc_sink).
 * The HTML back end adds inline SVG charts; the page needs no external resource. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/charts.h"
#include "report/doc_walk.h"
#include "report/document.h"
#include "report/msg.h"
#include "report/text_util.h"
#include "util/sanitize.h"

#define MAX_TABLE_ROWS 80
#define MAX_COLS 16

/* ---- Markdown sink ---- */

static void md_escape(strbuf *sb, const char *s) { sanitize_markdown(sb, s); }
static void md_rows_close(doc_sink *s)
{
    if (s->items_open) {   /* a blank line ends a list (else a table or paragraph would continue its last item) */
        s->items_open = 0;
        sb_putc(s->sb, '\n');
    }
    if (!s->rows_open) return;
    s->rows_open = 0;
    sb_putc(s->sb, '\n');
}
static void md_heading(doc_sink *s, int level, const char *text)
{
    md_rows_close(s);
    sb_putc(s->sb, '\n');
    for (int i = 0; i < level; i++) sb_putc(s->sb, '#');
    sb_putc(s->sb, ' ');
    md_escape(s->sb, text);
    sb_puts(s->sb, "\n\n");
}
static void md_para(doc_sink *s, const char *bold, const char *text)
{
    md_rows_close(s);
    if (bold) { sb_puts(s->sb, "**"); md_escape(s->sb, bold); sb_puts(s->sb, "** "); }
    md_escape(s->sb, text);
    sb_puts(s->sb, "\n\n");
}
static void md_item(doc_sink *s, int depth, const char *key, const char *text)
{
    if (s->rows_open) md_rows_close(s);
    s->items_open = 1;
    for (int i = 0; i < depth; i++) sb_puts(s->sb, "  ");
    sb_puts(s->sb, "- ");
    if (key) { md_escape(s->sb, key); sb_puts(s->sb, ": "); }
    md_escape(s->sb, text);
    sb_putc(s->sb, '\n');
}
static void md_list_end(doc_sink *s)
{
    int open = s->rows_open || s->items_open;
    s->items_open = 0;
    md_rows_close(s);
    if (open) sb_putc(s->sb, '\n');
}
static void md_table_begin(doc_sink *s, const char **cols, size_t n)
{
    md_rows_close(s);
    sb_puts(s->sb, "|");
    for (size_t i = 0; i < n; i++) { sb_putc(s->sb, ' '); md_escape(s->sb, cols[i]); sb_puts(s->sb, " |"); }
    sb_puts(s->sb, "\n|");
    for (size_t i = 0; i < n; i++) sb_puts(s->sb, "---|");
    sb_putc(s->sb, '\n');
}
static void md_table_row(doc_sink *s, const char **cells, size_t n)
{
    sb_puts(s->sb, "|");
    for (size_t i = 0; i < n; i++) { sb_putc(s->sb, ' '); md_escape(s->sb, cells[i] ? cells[i] : ""); sb_puts(s->sb, " |"); }
    sb_putc(s->sb, '\n');
}
static void md_table_end(doc_sink *s) { sb_putc(s->sb, '\n'); }
static void md_chart(doc_sink *s, const char *key, const json_value *section) { (void)s; (void)key; (void)section; }
/* a label without the terminal's indentation */
static const char *dedent(const char *t)
{
    while (t && *t == ' ') t++;
    return t ? t : "";
}
static void md_row(doc_sink *s, const char *label, const char *value)
{
    if (s->items_open) {
        s->items_open = 0;
        sb_putc(s->sb, '\n');
    }
    if (!s->rows_open) {
        const char *cols[] = {tr(s->ctx, "item", "항목"), tr(s->ctx, "value", "값")};
        md_table_begin(s, cols, 2);
        s->rows_open = 1;
    }
    const char *cells[] = {dedent(label), value};
    md_table_row(s, cells, 2);
}
static void md_line(doc_sink *s, int style, const char *text)
{
    (void)style;
    md_para(s, NULL, dedent(text));
}
static void md_section(doc_sink *s, int level, const char *title, const char *note)
{
    if (note && note[0] == ' ' && note[1] == '(') {   /* a parenthetical qualifier stays in the heading */
        strbuf h;
        sb_init(&h);
        sb_printf(&h, "%s%s", title, note);
        md_heading(s, level, sb_str(&h));
        sb_free(&h);
        return;
    }
    md_heading(s, level, title);
    if (note && *dedent(note)) md_para(s, NULL, dedent(note));
}
/* Markdown: the question in bold, then a one-row table with a column per model */
static void md_cards(doc_sink *s, const char *title, const char **heads, const char **bodies, const char **notes, size_t n)
{
    md_rows_close(s);
    sb_puts(s->sb, "**");
    md_escape(s->sb, title);
    sb_puts(s->sb, "**\n\n|");
    for (size_t i = 0; i < n; i++) { sb_putc(s->sb, ' '); md_escape(s->sb, heads[i]); sb_puts(s->sb, " |"); }
    sb_puts(s->sb, "\n|");
    for (size_t i = 0; i < n; i++) sb_puts(s->sb, "---|");
    sb_puts(s->sb, "\n|");
    for (size_t i = 0; i < n; i++) {
        sb_putc(s->sb, ' ');
        md_escape(s->sb, bodies[i]);
        if (notes[i] && *notes[i]) { sb_puts(s->sb, " — *"); md_escape(s->sb, notes[i]); sb_putc(s->sb, '*'); }
        sb_puts(s->sb, " |");
    }
    sb_puts(s->sb, "\n\n");
}

/* ---- HTML sink ---- */

void html_escape(strbuf *sb, const char *s) { sanitize_html(sb, s); }
static void h_rows_close(doc_sink *s)
{
    if (s->items_open) {
        s->items_open = 0;
        sb_puts(s->sb, "</ul>\n");
    }
    if (!s->rows_open) return;
    s->rows_open = 0;
    sb_puts(s->sb, "</table>\n");
}
static void h_heading(doc_sink *s, int level, const char *text)
{
    h_rows_close(s);
    sb_printf(s->sb, "<h%d>", level);
    html_escape(s->sb, text);
    sb_printf(s->sb, "</h%d>\n", level);
}
static void h_para(doc_sink *s, const char *bold, const char *text)
{
    h_rows_close(s);
    sb_puts(s->sb, "<p>");
    if (bold) { sb_puts(s->sb, "<b>"); html_escape(s->sb, bold); sb_puts(s->sb, "</b> "); }
    html_escape(s->sb, text);
    sb_puts(s->sb, "</p>\n");
}
static void h_item(doc_sink *s, int depth, const char *key, const char *text)
{
    if (s->rows_open) h_rows_close(s);
    if (!s->items_open) {   /* consecutive items are one list */
        sb_puts(s->sb, "<ul>\n");
        s->items_open = 1;
    }
    sb_printf(s->sb, "<li class=\"kv d%d\">", depth);
    if (key) { sb_puts(s->sb, "<span class=\"k\">"); html_escape(s->sb, key); sb_puts(s->sb, ":</span> "); }
    html_escape(s->sb, text);
    sb_puts(s->sb, "</li>\n");
}
static void h_list_end(doc_sink *s) { h_rows_close(s); }
static void h_table_begin(doc_sink *s, const char **cols, size_t n)
{
    h_rows_close(s);
    sb_puts(s->sb, "<table><tr>");
    for (size_t i = 0; i < n; i++) { sb_puts(s->sb, "<th>"); html_escape(s->sb, cols[i]); sb_puts(s->sb, "</th>"); }
    sb_puts(s->sb, "</tr>\n");
}
static void h_table_row(doc_sink *s, const char **cells, size_t n)
{
    sb_puts(s->sb, "<tr>");
    for (size_t i = 0; i < n; i++) { sb_puts(s->sb, "<td>"); html_escape(s->sb, cells[i] ? cells[i] : ""); sb_puts(s->sb, "</td>"); }
    sb_puts(s->sb, "</tr>\n");
}
static void h_table_end(doc_sink *s) { sb_puts(s->sb, "</table>\n"); }
static void h_chart(doc_sink *s, const char *key, const json_value *section)
{
    h_rows_close(s);
    charts_for_section(s->sb, key, section, s->ctx);
}
static void h_row(doc_sink *s, const char *label, const char *value)
{
    if (s->items_open) {
        s->items_open = 0;
        sb_puts(s->sb, "</ul>\n");
    }
    if (!s->rows_open) {
        sb_puts(s->sb, "<table class=\"rows\">\n");
        s->rows_open = 1;
    }
    sb_puts(s->sb, "<tr><th>");
    html_escape(s->sb, dedent(label));
    sb_puts(s->sb, "</th><td>");
    html_escape(s->sb, value ? value : "");
    sb_puts(s->sb, "</td></tr>\n");
}
static void h_line(doc_sink *s, int style, const char *text)
{
    h_rows_close(s);
    sb_printf(s->sb, "<p%s>", style == DOC_DIM ? " class=\"dim\"" : style == DOC_WARN ? " class=\"warn\"" : "");
    html_escape(s->sb, dedent(text));
    sb_puts(s->sb, "</p>\n");
}
static void h_section(doc_sink *s, int level, const char *title, const char *note)
{
    if (note && note[0] == ' ' && note[1] == '(') {   /* a parenthetical qualifier stays in the heading */
        strbuf h;
        sb_init(&h);
        sb_printf(&h, "%s%s", title, note);
        h_heading(s, level, sb_str(&h));
        sb_free(&h);
        return;
    }
    h_heading(s, level, title);
    if (note && *dedent(note)) h_para(s, NULL, dedent(note));
}
/* HTML: the question, then the answers as cards in one row (wrapping on a narrow page) */
static void h_cards(doc_sink *s, const char *title, const char **heads, const char **bodies, const char **notes, size_t n)
{
    h_rows_close(s);
    sb_puts(s->sb, "<div class=\"q\"><div class=\"qt\">");
    html_escape(s->sb, title);
    sb_puts(s->sb, "</div><div class=\"cards\">");
    for (size_t i = 0; i < n; i++) {
        sb_puts(s->sb, "<div class=\"card\"><div class=\"ch\">");
        html_escape(s->sb, heads[i]);
        sb_puts(s->sb, "</div><div class=\"cb\">");
        for (const char *line = bodies[i]; line;) {   /* the answer's own line breaks, each line escaped */
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            char buf[4096];
            while (len) {
                size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
                while (k < len && k > 0 && ((unsigned char)line[k] & 0xC0) == 0x80) k--;   /* whole characters */
                if (!k) k = len < sizeof buf - 1 ? len : sizeof buf - 1;
                memcpy(buf, line, k);
                buf[k] = 0;
                html_escape(s->sb, buf);
                line += k;
                len -= k;
            }
            if (nl) sb_puts(s->sb, "<br>");
            line = nl ? nl + 1 : NULL;
        }
        sb_puts(s->sb, "</div>");
        if (notes[i] && *notes[i]) {
            sb_puts(s->sb, "<div class=\"cn\">");
            html_escape(s->sb, notes[i]);
            sb_puts(s->sb, "</div>");
        }
        sb_puts(s->sb, "</div>");
    }
    sb_puts(s->sb, "</div></div>\n");
}

/* ---- the walk ---- */

static void render_value(doc_sink *s, int depth, const char *key, const json_value *v);

static void render_table(doc_sink *s, const json_value *arr)
{
    const char *cols[MAX_COLS];
    size_t nc = table_columns(arr, cols, MAX_COLS);
    if (!nc) return;
    s->table_begin(s, cols, nc);
    char bufs[MAX_COLS][64];
    const char *cells[MAX_COLS];
    size_t rows = arr->u.array.count;
    for (size_t r = 0; r < rows && r < MAX_TABLE_ROWS; r++) {
        for (size_t c = 0; c < nc; c++) {
            const json_value *v = json_get(arr->u.array.items[r], cols[c]);
            if (v && v->type == JSON_STRING) cells[c] = v->u.string.s;   /* strings whole */
            else {
                scalar_text(v, bufs[c], sizeof bufs[c]);
                cells[c] = bufs[c];
            }
        }
        s->table_row(s, cells, nc);
    }
    s->table_end(s);
    if (rows > MAX_TABLE_ROWS) {
        char note[128];
        snprintf(note, sizeof note, "%zu %s", rows - MAX_TABLE_ROWS,
                 tr(s->ctx, "more rows in the JSON report", "행 더 있음 (JSON 보고서 참조)"));
        s->para(s, NULL, note);
    }
}

static void render_value(doc_sink *s, int depth, const char *key, const json_value *v)
{
    char buf[64];
    if (v && v->type == JSON_STRING) {
        s->item(s, depth, key, v->u.string.s);
        return;
    }
    if (scalar_text(v, buf, sizeof buf)) {
        s->item(s, depth, key, buf);
        return;
    }
    if (is_table(v)) {
        if (key) s->item(s, depth, key, "");
        render_table(s, v);
        return;
    }
    if (v->type == JSON_ARRAY) {
        /* short arrays of scalars on one line; longer or nested ones summarized */
        strbuf line;
        sb_init(&line);
        size_t shown = 0;
        for (size_t i = 0; i < v->u.array.count && shown < 48; i++) {
            char b[64];
            const json_value *x = v->u.array.items[i];
            if (x->type == JSON_STRING) { sb_printf(&line, "%s%s", i ? ", " : "", x->u.string.s); shown++; continue; }
            if (!scalar_text(x, b, sizeof b)) { sb_puts(&line, "[...]"); break; }
            sb_printf(&line, "%s%s", i ? ", " : "", b);
            shown++;
        }
        if (v->u.array.count > shown) sb_printf(&line, " ... (%zu)", v->u.array.count);
        s->item(s, depth, key, sb_str(&line));
        sb_free(&line);
        return;
    }
    if (depth >= 3) {
        s->item(s, depth, key, "{...}");
        return;
    }
    if (key) s->item(s, depth, key, "");
    for (size_t i = 0; i < v->u.object.count; i++) {
        const json_member *m = &v->u.object.members[i];
        if (!strcmp(m->key, "findings") || !strcmp(m->key, "matrix")) continue;
        render_value(s, key ? depth + 1 : depth, m->key, m->value);
    }
    if (depth == 0) s->list_end(s);
}

static void render_evidence(doc_sink *s, const json_value *evidence)
{
    if (!json_count(evidence)) return;
    s->heading(s, 2, tr(s->ctx, "Evidence, with controls", "근거와 대조군"));
    const char *cols[] = {tr(s->ctx, "line", "근거"), tr(s->ctx, "finding", "발견"), tr(s->ctx, "value", "값"),
                          tr(s->ctx, "control", "대조군"), "z", "p", tr(s->ctx, "direction", "방향"),
                          tr(s->ctx, "weight", "비중")};
    s->table_begin(s, cols, 8);
    for (size_t i = 0; i < json_count(evidence) && i < MAX_TABLE_ROWS; i++) {
        const json_value *f = json_at(evidence, i);
        char b[6][160];
        const char *cells[8];
        char ctl[4096];
        cells[0] = msg_code("line", json_get_string(f, "line"), s->ctx);
        cells[1] = finding_text(f, s->ctx);
        const json_value *val = json_get(f, "value");
        if (val && val->type == JSON_STRING) cells[2] = relation_kind_text(val->u.string.s, s->ctx);
        else {
            scalar_text(val, b[1], sizeof b[1]);
            cells[2] = b[1];
        }
        control_text(json_get(f, "control"), s->ctx, ctl, sizeof ctl);
        cells[3] = ctl;
        scalar_text(json_get(f, "z"), b[3], sizeof b[3]);
        cells[4] = b[3];
        scalar_text(json_get(f, "p"), b[4], sizeof b[4]);
        cells[5] = b[4];
        cells[6] = json_get_string(f, "direction") ? relation_kind_text(json_get_string(f, "direction"), s->ctx) : "-";
        char w[32];
        scalar_text(json_get(f, "weight"), w, sizeof w);
        cells[7] = w;
        s->table_row(s, cells, 8);
    }
    s->table_end(s);
}

static void render_verdict(doc_sink *s, const json_value *root)
{
    const json_value *v = json_get(root, "verdict");
    const json_value *models = json_get(root, "models");
    const char *a = json_get_string(models, "a"), *b = json_get_string(models, "b");
    char q[16384];
    snprintf(q, sizeof q, tr(s->ctx, "Was %s derived from %s?", "모델 %s은(는) 모델 %s에서 파생되었는가?"), b ? b : "B", a ? a : "A");
    s->para(s, tr(s->ctx, "Question:", "질문:"), q);
    if (!v) return;
    doc_verdict(s, v);   /* the verdict, its direction, components, reasons and clues */
    render_evidence(s, json_get(v, "evidence"));
}

/* "source": one row per side (what was read, how many checkpoint bytes) */
static void render_source(doc_sink *s, const json_value *sec)
{
    const char *cols[] = {tr(s->ctx, "model", "모델"), tr(s->ctx, "kind", "종류"), tr(s->ctx, "path", "경로"),
                          tr(s->ctx, "checkpoint bytes", "체크포인트 바이트")};
    s->table_begin(s, cols, 4);
    for (int side = 0; side < 2; side++) {
        const json_value *o = json_get(sec, side ? "b" : "a");
        if (!o) continue;
        const char *kind = json_get_string(o, "kind");
        char bytes[48] = "-";
        int64_t nb;
        if (json_get_int(o, "checkpoint_bytes", &nb)) text_grouped(bytes, sizeof bytes, (double)nb);
        const char *cells[] = {side ? "B" : "A",
                               !kind ? "-" : !strcmp(kind, "local") ? tr(s->ctx, "local", "로컬")
                                             : !strcmp(kind, "remote") ? tr(s->ctx, "remote", "원격") : kind,
                               json_get_string(o, "path") ? json_get_string(o, "path") : "-", bytes};
        s->table_row(s, cells, 4);
    }
    s->table_end(s);
}

void document_render(doc_sink *s, const json_value *root)
{
    const char *schema = json_get_string(root, "schema");
    if (!schema) schema = "";
    if (!strcmp(schema, "lineage.inspect/1")) doc_inspect(s, root);
    else if (!strcmp(schema, "lineage.verify/1")) {
        doc_verify(s, root);
        if (!s->terminal) doc_how_to_read(s);
    }
    else if (!strcmp(schema, "lineage.search/1")) doc_search(s, root);
    else if (!strcmp(schema, "lineage.index/1")) doc_index(s, root);
    else if (!strcmp(schema, "lineage.study/1")) study_render(s, root);
    else if (!strcmp(schema, "lineage.ask/1")) render_ask_doc(s, root);
    else if (!strcmp(schema, "lineage.run/1")) doc_run(s, root);
    else if (!strcmp(schema, "lineage.tokenize/1")) doc_tokenize(s, root);
    else {
        render_verdict(s, root);
        for (const section_desc *d = report_sections; d->key; d++) {
            const json_value *sec = json_get(root, d->key);
            if (!sec) continue;
            /* each section renderer writes its own heading */
            if (!strcmp(d->key, "architecture")) doc_arch(s, sec);
            else if (!strcmp(d->key, "tokenizer")) doc_tokenizer(s, sec);
            else if (!strcmp(d->key, "weights")) doc_weights(s, sec);
            else if (!strcmp(d->key, "behaviour")) doc_behaviour(s, sec);
            else if (!strcmp(d->key, "activations")) doc_activations(s, sec);
            else {
                s->heading(s, 2, tr(s->ctx, d->title_en, d->title_ko));
                if (!strcmp(d->key, "source")) render_source(s, sec);
                else render_value(s, 0, NULL, sec);
            }
            s->chart(s, d->key, sec);
        }
        const json_value *asked = json_get(root, "behaviour_asked");
        if (asked) render_asked_doc(s, asked);
        if (!s->terminal && (json_get(root, "weights") || json_get(root, "verdict"))) doc_how_to_read(s);
    }
    if (s->rows_open || s->items_open) s->list_end(s);   /* closes a table or list left open at the end */
}

void document_title(const json_value *root, const render_ctx *ctx, char *buf, size_t n)
{
    const char *schema = json_get_string(root, "schema");
    const json_value *models = json_get(root, "models");
    if (schema && !strcmp(schema, "lineage.inspect/1"))
        snprintf(buf, n, "lineage inspect: %s", json_get_string(root, "model") ? json_get_string(root, "model") : "");
    else if (schema && !strcmp(schema, "lineage.study/1"))
        snprintf(buf, n, tr(ctx, "lineage study: %zu models", "lineage study: 모델 %zu개"),
                 json_count(json_get(root, "models")));
    else if (schema && !strcmp(schema, "lineage.verify/1"))
        snprintf(buf, n, "lineage verify: %s", json_get_string(root, "model") ? json_get_string(root, "model") : "");
    else if (schema && !strcmp(schema, "lineage.ask/1"))
        snprintf(buf, n, "lineage ask: %s", json_get_string(root, "model") ? json_get_string(root, "model") : "");
    else if (schema && !strcmp(schema, "lineage.search/1"))
        snprintf(buf, n, "lineage search: %s", json_get_string(root, "model") ? json_get_string(root, "model") : "");
    else if (schema && !strcmp(schema, "lineage.run/1"))
        snprintf(buf, n, "lineage run: %s", json_get_string(root, "model") ? json_get_string(root, "model") : "");
    else if (schema && !strcmp(schema, "lineage.tokenize/1"))
        snprintf(buf, n, "lineage tokenize: %s", json_get_string(root, "tokenizer") ? json_get_string(root, "tokenizer") : "");
    else if (schema && !strcmp(schema, "lineage.index/1"))
        snprintf(buf, n, "lineage index: %s", json_get_string(root, "index") ? json_get_string(root, "index") : "");
    else
        snprintf(buf, n, tr(ctx, "lineage %s: %s vs %s", "lineage %s: %s ↔ %s"), tr(ctx, "report", "보고서"),
                 json_get_string(models, "a") ? json_get_string(models, "a") : "A",
                 json_get_string(models, "b") ? json_get_string(models, "b") : "B");
}

void render_markdown(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    doc_sink s = {.sb = sb, .ctx = ctx, .heading = md_heading, .para = md_para, .item = md_item, .list_end = md_list_end,
                  .table_begin = md_table_begin, .table_row = md_table_row, .table_end = md_table_end, .chart = md_chart,
                  .cards = md_cards, .row = md_row, .line = md_line, .section = md_section};
    char title[16384];
    document_title(root, ctx, title, sizeof title);
    sb_puts(sb, "# ");
    md_escape(sb, title);
    sb_puts(sb, "\n\n");
    document_render(&s, root);
}

void render_html(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    doc_sink s = {.sb = sb, .ctx = ctx, .heading = h_heading, .para = h_para, .item = h_item, .list_end = h_list_end,
                  .table_begin = h_table_begin, .table_row = h_table_row, .table_end = h_table_end, .chart = h_chart,
                  .cards = h_cards, .row = h_row, .line = h_line, .section = h_section};
    char title[16384];
    document_title(root, ctx, title, sizeof title);
    sb_printf(sb, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>", ctx->korean ? "ko" : "en");
    html_escape(sb, title);
    sb_puts(sb,
            "</title><style>"
            "body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
            "h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}"
            "table{border-collapse:collapse;margin:.6em 0;font-size:12px}td,th{border:1px solid #ddd;padding:2px 6px;"
            "text-align:left}th{background:#f4f4f4}.kv{margin:1px 0}.kv .k{color:#555}.d1{margin-left:1.5em}"
            ".d2{margin-left:3em}.d3{margin-left:4.5em}figure{display:inline-block;margin:.5em 1em .5em 0;"
            "vertical-align:top}figcaption{font-size:12px;color:#444}svg text{font:10px sans-serif}"
            ".q{margin:.8em 0}.qt{font-weight:600;margin-bottom:.3em}.cards{display:flex;flex-wrap:wrap;gap:.6em}"
            ".card{flex:1 1 0;min-width:14em;border:1px solid #ccc;border-radius:6px;padding:.4em .6em;background:#fafafa}"
            ".ch{font-size:12px;color:#555;margin-bottom:.2em}.cb{white-space:pre-wrap;word-break:break-word}"
            ".cn{font-size:12px;color:#8a5a00;margin-top:.3em}table.rows th{background:none;font-weight:normal;color:#555}"
            "p.dim{color:#666;font-size:12px}p.warn{color:#8a5a00}"
            "</style></head><body>\n<h1>");
    html_escape(sb, title);
    sb_puts(sb, "</h1>\n");
    document_render(&s, root);
    sb_puts(sb, "<p><small>lineage " LINEAGE_VERSION "</small></p>\n</body></html>\n");
}
