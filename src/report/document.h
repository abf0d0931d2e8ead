/* Markdown and HTML renderers: one document walk, two sinks. */
#ifndef LINEAGE_REPORT_DOCUMENT_H
#define LINEAGE_REPORT_DOCUMENT_H
#include "report/report.h"

typedef struct doc_sink doc_sink;
struct doc_sink {
    strbuf *sb;
    const render_ctx *ctx;
    void (*heading)(doc_sink *s, int level, const char *text);
    void (*para)(doc_sink *s, const char *bold, const char *text);
    void (*item)(doc_sink *s, int depth, const char *key, const char *text);
    void (*list_end)(doc_sink *s);
    void (*table_begin)(doc_sink *s, const char **cols, size_t n);
    void (*table_row)(doc_sink *s, const char **cells, size_t n);
    void (*table_end)(doc_sink *s);
    void (*chart)(doc_sink *s, const char *section_key, const json_value *section);
    /* n answers to one question side by side: a card per model (head, body, note under it) */
    void (*cards)(doc_sink *s, const char *title, const char **heads, const char **bodies, const char **notes, size_t n);
    void *user;   /* the sink's own state */
    /* a label and its value: an aligned row on the terminal; consecutive rows are one two-column table
     * in Markdown and HTML */
    void (*row)(doc_sink *s, const char *label, const char *value);
    /* one prose line (DOC_DIM, DOC_GOOD, DOC_WARN colour it on the terminal): a paragraph in a document */
    void (*line)(doc_sink *s, int style, const char *text);
    /* a section heading with a note after it: on one line on the terminal, a heading and a paragraph in a
     * document (level 2 or 3; the note may be NULL and starts with its own separator, e.g. "  (...)") */
    void (*section)(doc_sink *s, int level, const char *title, const char *note);
    int terminal;   /* the terminal sink: a renderer may write its aligned layout to sb itself */
    int rows_open;  /* Markdown/HTML: a label/value table is open (closed by any other output) */
    int items_open; /* HTML: a list of items is open (closed by any other output) */
};

enum { DOC_PLAIN = 0, DOC_DIM, DOC_GOOD, DOC_WARN };
/* The colour sequence of a line style on the terminal (empty without colour). */
const char *doc_style_on(const render_ctx *ctx, int style);

/* row and line with printf formatting (the text whole, however long) */
void doc_rowf(doc_sink *s, const char *label, const char *fmt, ...) LINEAGE_PRINTF(3, 4);
void doc_linef(doc_sink *s, int style, const char *fmt, ...) LINEAGE_PRINTF(3, 4);

/* Report kinds through any sink (terminal, Markdown, HTML): the terminal functions in report.h call these
 * through the text sink. */
void doc_inspect(doc_sink *s, const json_value *root);
void doc_arch(doc_sink *s, const json_value *sec);
void doc_tokenizer(doc_sink *s, const json_value *sec);
void doc_weights(doc_sink *s, const json_value *sec);
void doc_behaviour(doc_sink *s, const json_value *sec);
void doc_activations(doc_sink *s, const json_value *sec);
void doc_verdict(doc_sink *s, const json_value *verdict);
void doc_verify(doc_sink *s, const json_value *root);
void doc_verify_behaviour(doc_sink *s, const json_value *root);
void doc_run(doc_sink *s, const json_value *root);
void doc_search(doc_sink *s, const json_value *root);
void doc_index(doc_sink *s, const json_value *root);
void doc_tokenize(doc_sink *s, const json_value *root);
/* "How to read this": centred correlation, null, z, high-information tensors, power (doc_study.c). */
void doc_how_to_read(doc_sink *s);

void document_render(doc_sink *s, const json_value *root);
void render_ask_doc(doc_sink *s, const json_value *root);
/* The "behaviour_asked" section of a compare or study document (doc_asked.c). */
void render_asked_doc(doc_sink *s, const json_value *sec);
/* Terminal text of one section through the text sink (text_sink.c). */
void render_text_section(strbuf *sb, const json_value *sec, const render_ctx *ctx,
                         void (*fn)(doc_sink *s, const json_value *sec));
void document_title(const json_value *root, const render_ctx *ctx, char *buf, size_t n);
void render_markdown(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_html(strbuf *sb, const json_value *root, const render_ctx *ctx);
/* The document walk into terminal text (aligned tables; used for lineage.study/1). */
void render_text_document(strbuf *sb, const json_value *root, const render_ctx *ctx);
/* lineage.study/1 through any sink (doc_study.c). */
void study_render(doc_sink *s, const json_value *root);
void html_escape(strbuf *sb, const char *s);
/* The journal's question and answer for a lineage.ask/1 document (text_ask.c). */
void journal_ask_entry(strbuf *sb, const json_value *root, const render_ctx *ctx);
#endif
