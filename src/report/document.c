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
static void md_heading(doc_sink *s, int level, const char *text)
{
    sb_putc(s->sb, '\n');
    for (int i = 0; i < level; i++) sb_putc(s->sb, '#');
    sb_putc(s->sb, ' ');
    md_escape(s->sb, text);
    sb_puts(s->sb, "\n\n");
}
static void md_para(doc_sink *s, const char *bold, const char *text)
{
    if (bold) { sb_puts(s->sb, "**"); md_escape(s->sb, bold); sb_puts(s->sb, "** "); }
    md_escape(s->sb, text);
    sb_puts(s->sb, "\n\n");
}
static void md_item(doc_sink *s, int depth, const char *key, const char *text)
{
    for (int i = 0; i < depth; i++) sb_puts(s->sb, "  ");
    sb_puts(s->sb, "- ");
    if (key) { md_escape(s->sb, key); sb_puts(s->sb, ": "); }
    md_escape(s->sb, text);
    sb_putc(s->sb, '\n');
}
static void md_list_end(doc_sink *s) { sb_putc(s->sb, '\n'); }
static void md_table_begin(doc_sink *s, const char **cols, size_t n)
{
    sb_puts(s->sb, "|");
    for (size_t i = 0; i < n; i++) { sb_putc(s->sb, ' '); md_escape(s->sb, cols[i]); sb_puts(s->sb, " |"); }
    sb_puts(s->sb, "\n|");
    for (size_t i = 0; i < n; i++) sb_puts(s->sb, "---|");
    sb_putc(s->sb, '\n');
}
static void md_table_row(doc_sink *s, const char **cells, size_t n)
{
    sb_puts(s->sb, "|");
    for (size_t i = 0; i < n; i++) { sb_putc(s->sb, ' '); md_escape(s->sb, cells[i]); sb_puts(s->sb, " |"); }
    sb_putc(s->sb, '\n');
}
static void md_table_end(doc_sink *s) { sb_putc(s->sb, '\n'); }
static void md_chart(doc_sink *s, const char *key, const json_value *section) { (void)s; (void)key; (void)section; }
/* a fence longer than any backtick run of the text, so untrusted text cannot close it */
static void md_pre(doc_sink *s, const char *text)
{
    size_t run = 0, longest = 0;
    for (const char *p = text; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest) longest = run;
    }
    size_t fence = longest < 3 ? 3 : longest + 1;
    for (size_t i = 0; i < fence; i++) sb_putc(s->sb, '`');
    sb_putc(s->sb, '\n');
    sb_puts(s->sb, text);
    if (*text && text[strlen(text) - 1] != '\n') sb_putc(s->sb, '\n');
    for (size_t i = 0; i < fence; i++) sb_putc(s->sb, '`');
    sb_puts(s->sb, "\n\n");
}
/* Markdown: the question in bold, then a one-row table with a column per model */
static void md_cards(doc_sink *s, const char *title, const char **heads, const char **bodies, const char **notes, size_t n)
{
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
static void h_heading(doc_sink *s, int level, const char *text)
{
    sb_printf(s->sb, "<h%d>", level);
    html_escape(s->sb, text);
    sb_printf(s->sb, "</h%d>\n", level);
}
static void h_para(doc_sink *s, const char *bold, const char *text)
{
    sb_puts(s->sb, "<p>");
    if (bold) { sb_puts(s->sb, "<b>"); html_escape(s->sb, bold); sb_puts(s->sb, "</b> "); }
    html_escape(s->sb, text);
    sb_puts(s->sb, "</p>\n");
}
static void h_item(doc_sink *s, int depth, const char *key, const char *text)
{
    sb_printf(s->sb, "<div class=\"kv d%d\">", depth);
    if (key) { sb_puts(s->sb, "<span class=\"k\">"); html_escape(s->sb, key); sb_puts(s->sb, "</span> "); }
    html_escape(s->sb, text);
    sb_puts(s->sb, "</div>\n");
}
static void h_list_end(doc_sink *s) { (void)s; }
static void h_table_begin(doc_sink *s, const char **cols, size_t n)
{
    sb_puts(s->sb, "<table><tr>");
    for (size_t i = 0; i < n; i++) { sb_puts(s->sb, "<th>"); html_escape(s->sb, cols[i]); sb_puts(s->sb, "</th>"); }
    sb_puts(s->sb, "</tr>\n");
}
static void h_table_row(doc_sink *s, const char **cells, size_t n)
{
    sb_puts(s->sb, "<tr>");
    for (size_t i = 0; i < n; i++) { sb_puts(s->sb, "<td>"); html_escape(s->sb, cells[i]); sb_puts(s->sb, "</td>"); }
    sb_puts(s->sb, "</tr>\n");
}
static void h_table_end(doc_sink *s) { sb_puts(s->sb, "</table>\n"); }
static void h_chart(doc_sink *s, const char *key, const json_value *section) { charts_for_section(s->sb, key, section, s->ctx); }
static void h_pre(doc_sink *s, const char *text)
{
    sb_puts(s->sb, "<pre>");
    html_escape(s->sb, text);
    sb_puts(s->sb, "</pre>\n");
}
/* HTML: the question, then the answers as cards in one row (wrapping on a narrow page) */
static void h_cards(doc_sink *s, const char *title, const char **heads, const char **bodies, const char **notes, size_t n)
{
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
    char bufs[MAX_COLS][96];
    const char *cells[MAX_COLS];
    size_t rows = arr->u.array.count;
    for (size_t r = 0; r < rows && r < MAX_TABLE_ROWS; r++) {
        for (size_t c = 0; c < nc; c++) {
            scalar_text(json_get(arr->u.array.items[r], cols[c]), bufs[c], sizeof bufs[c]);
            cells[c] = bufs[c];
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
    char buf[512];
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
            char b[96];
            if (!scalar_text(v->u.array.items[i], b, sizeof b)) { sb_puts(&line, "[...]"); break; }
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
                          tr(s->ctx, "weight", "가중")};
    s->table_begin(s, cols, 8);
    for (size_t i = 0; i < json_count(evidence) && i < MAX_TABLE_ROWS; i++) {
        const json_value *f = json_at(evidence, i);
        char b[6][160];
        const char *cells[8];
        char ctl[600];
        cells[0] = msg_code("line", json_get_string(f, "line"), s->ctx);
        cells[1] = finding_text(f, s->ctx);
        const json_value *val = json_get(f, "value");
        if (val && val->type == JSON_STRING) snprintf(b[1], sizeof b[1], "%s", relation_kind_text(val->u.string.s, s->ctx));
        else scalar_text(val, b[1], sizeof b[1]);
        cells[2] = b[1];
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
    char q[1200];
    snprintf(q, sizeof q, tr(s->ctx, "Was %s derived from %s?", "모델 %s은(는) 모델 %s에서 파생되었는가?"), b ? b : "B", a ? a : "A");
    s->para(s, tr(s->ctx, "Question:", "질문:"), q);
    if (!v) return;
    const char *label = json_get_string(v, "label");
    strbuf ans;
    sb_init(&ans);
    sb_puts(&ans, verdict_label_text(label ? label : "inconclusive", s->ctx));
    const json_value *rel = json_get(v, "relation");
    for (size_t i = 0; i < json_count(rel); i++)
        sb_printf(&ans, "%s%s", i ? ", " : " (", relation_kind_text(json_at(rel, i)->u.string.s, s->ctx));
    if (json_count(rel)) sb_putc(&ans, ')');
    double conf = 0;
    json_get_double(v, "confidence", &conf);
    char ct[96];
    confidence_text(ct, sizeof ct, label, conf, s->ctx);
    sb_printf(&ans, " - %s", ct);
    s->para(s, tr(s->ctx, "Verdict:", "판정:"), sb_str(&ans));
    sb_free(&ans);
    const json_value *comps = json_get(v, "components");
    if (comps && comps->type == JSON_OBJECT && comps->u.object.count) {
        const char *cols[] = {tr(s->ctx, "component", "구성요소"), tr(s->ctx, "verdict", "판정"),
                              tr(s->ctx, "relation", "관계"), tr(s->ctx, "confidence", "신뢰도")};
        s->table_begin(s, cols, 4);
        for (size_t i = 0; i < comps->u.object.count; i++) {
            const json_member *m = &comps->u.object.members[i];
            char r[200] = "", c[32];
            const json_value *cr = json_get(m->value, "relation");
            for (size_t k = 0; k < json_count(cr); k++) {
                size_t l = strlen(r);
                snprintf(r + l, sizeof r - l, "%s%s", k ? ", " : "", relation_kind_text(json_at(cr, k)->u.string.s, s->ctx));
            }
            scalar_text(json_get(m->value, "confidence"), c, sizeof c);
            const char *cl = json_get_string(m->value, "label");
            const char *cells[] = {m->key, verdict_label_text(cl ? cl : "inconclusive", s->ctx), r, c};
            s->table_row(s, cells, 4);
        }
        s->table_end(s);
    }
    const json_value *reasons = json_get(v, s->ctx->korean ? "reasons_ko" : "reasons");
    for (size_t i = 0; i < json_count(reasons); i++)
        if (json_at(reasons, i)->type == JSON_STRING) s->item(s, 0, NULL, json_at(reasons, i)->u.string.s);
    s->list_end(s);
    render_evidence(s, json_get(v, "evidence"));
}

/* Terminal text as a document: a line that starts in column 0 is a heading (the first one skipped
 * when it repeats the section's own heading), each run of indented lines is one preformatted block
 * with its aligned columns (dedented by two). Reports read as the terminal does, not as JSON. */
static void flush_block(doc_sink *s, strbuf *block)
{
    while (block->len > 1 && block->data[block->len - 1] == '\n' && block->data[block->len - 2] == '\n')
        block->data[--block->len] = 0;
    if (block->len && !block->failed) s->pre(s, sb_str(block));
    if (block->data) { block->len = 0; block->data[0] = 0; }
}

static void text_as_doc(doc_sink *s, const char *text, const char *skip_title)
{
    strbuf block;
    sb_init(&block);
    int first_heading = 1;
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        if (line[0] && line[0] != ' ') {
            flush_block(s, &block);
            if (!(first_heading && skip_title && !strcmp(line, skip_title))) s->heading(s, 3, line);
            first_heading = 0;
        } else if (line[0] || block.len) {
            sb_puts(&block, !strncmp(line, "  ", 2) ? line + 2 : line);
            sb_putc(&block, '\n');
        }
        p = e ? e + 1 : p + n;
    }
    flush_block(s, &block);
    sb_free(&block);
}

typedef void (*section_text_fn)(strbuf *, const json_value *, const render_ctx *);

static void section_as_doc(doc_sink *s, section_text_fn fn, const json_value *sec, const char *title)
{
    render_ctx plain = *s->ctx;
    plain.color = 0;
    strbuf sb;
    sb_init(&sb);
    fn(&sb, sec, &plain);
    if (!sb.failed) text_as_doc(s, sb_str(&sb), title);
    sb_free(&sb);
}

static section_text_fn section_text(const char *key)
{
    if (!strcmp(key, "architecture")) return render_arch_text;
    if (!strcmp(key, "tokenizer")) return render_tokenizer_text;
    if (!strcmp(key, "weights")) return render_weights_text;
    if (!strcmp(key, "behaviour")) return render_behaviour_text;
    if (!strcmp(key, "activations")) return render_activations_text;
    return NULL;
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
    if (schema && (!strcmp(schema, "lineage.inspect/1") || !strcmp(schema, "lineage.verify/1") ||
                   !strcmp(schema, "lineage.search/1"))) {
        section_as_doc(s, !strcmp(schema, "lineage.inspect/1")  ? render_inspect_text
                          : !strcmp(schema, "lineage.verify/1") ? render_verify_text
                                                                : render_search_text,
                       root, NULL);
        return;
    }
    if (schema && !strcmp(schema, "lineage.index/1")) {
        render_value(s, 0, NULL, root);
        return;
    }
    if (schema && !strcmp(schema, "lineage.study/1")) {
        study_render(s, root);
        return;
    }
    if (schema && !strcmp(schema, "lineage.ask/1")) {
        render_ask_doc(s, root);
        return;
    }
    render_verdict(s, root);
    for (const section_desc *d = report_sections; d->key; d++) {
        const json_value *sec = json_get(root, d->key);
        if (!sec) continue;
        const char *title = tr(s->ctx, d->title_en, d->title_ko);
        s->heading(s, 2, title);
        s->chart(s, d->key, sec);
        section_text_fn fn = section_text(d->key);
        if (fn && s->pre) section_as_doc(s, fn, sec, title);
        else if (!strcmp(d->key, "source")) render_source(s, sec);
        else render_value(s, 0, NULL, sec);
    }
    const json_value *asked = json_get(root, "behaviour_asked");
    if (asked) render_asked_doc(s, asked);
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
    else if (schema && !strcmp(schema, "lineage.index/1"))
        snprintf(buf, n, "lineage index: %s", json_get_string(root, "index") ? json_get_string(root, "index") : "");
    else
        snprintf(buf, n, tr(ctx, "lineage %s: %s vs %s", "lineage %s: %s ↔ %s"), tr(ctx, "report", "보고서"),
                 json_get_string(models, "a") ? json_get_string(models, "a") : "A",
                 json_get_string(models, "b") ? json_get_string(models, "b") : "B");
}

void render_markdown(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    doc_sink s = {sb, ctx, md_heading, md_para, md_item, md_list_end, md_table_begin, md_table_row, md_table_end, md_chart, md_cards, NULL, md_pre};
    char title[1200];
    document_title(root, ctx, title, sizeof title);
    sb_puts(sb, "# ");
    md_escape(sb, title);
    sb_puts(sb, "\n\n");
    document_render(&s, root);
}

void render_html(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    doc_sink s = {sb, ctx, h_heading, h_para, h_item, h_list_end, h_table_begin, h_table_row, h_table_end, h_chart, h_cards, NULL, h_pre};
    char title[1200];
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
            ".cn{font-size:12px;color:#8a5a00;margin-top:.3em}"
            "</style></head><body>\n<h1>");
    html_escape(sb, title);
    sb_puts(sb, "</h1>\n");
    document_render(&s, root);
    sb_puts(sb, "<p><small>lineage " LINEAGE_VERSION "</small></p>\n</body></html>\n");
}
