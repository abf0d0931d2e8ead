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
    /* preformatted text (aligned terminal tables): a fenced block in Markdown, <pre> in HTML; may be NULL */
    void (*pre)(doc_sink *s, const char *text);
};

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
