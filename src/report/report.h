/* Renderers: report documents (JSON trees) to terminal text, Markdown and HTML. */
#ifndef LINEAGE_REPORT_H
#define LINEAGE_REPORT_H
#include "util/json.h"
#include "util/strbuf.h"

typedef struct render_ctx {
    int korean;   /* --lang ko */
    int color;    /* ANSI colour allowed */
} render_ctx;

/* Picks the string for the report language. */
const char *tr(const render_ctx *ctx, const char *en, const char *ko);
/* Colour helpers: empty strings when colour is off. */
const char *c_bold(const render_ctx *ctx);
const char *c_dim(const render_ctx *ctx);
const char *c_good(const render_ctx *ctx);
const char *c_warn(const render_ctx *ctx);
const char *c_off(const render_ctx *ctx);

void render_inspect_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_arch_text(strbuf *sb, const json_value *section, const render_ctx *ctx);
void render_tokenizer_text(strbuf *sb, const json_value *section, const render_ctx *ctx);
void render_behaviour_text(strbuf *sb, const json_value *section, const render_ctx *ctx);
void render_verify_behaviour_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_activations_text(strbuf *sb, const json_value *section, const render_ctx *ctx);
void render_weights_text(strbuf *sb, const json_value *section, const render_ctx *ctx);
const char *verdict_label_text(const char *label, const render_ctx *ctx);
/* "confidence 0.73", or a sentence when an inconclusive verdict had no weight comparison (text_verdict.c). */
void confidence_text(char *buf, size_t n, const char *label, double conf, const render_ctx *ctx);
/* A relation kind or direction code ("finetune", "a_to_b") in the report language (doc_study.c). */
const char *relation_kind_text(const char *kind, const render_ctx *ctx);
void render_verify_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_verdict_text(strbuf *sb, const json_value *section, const render_ctx *ctx);
void render_run_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_ask_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_search_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
void render_index_text(strbuf *sb, const json_value *root, const render_ctx *ctx);
/* The question and answer of a search in the journal (below the entry's dated heading). */
void journal_search_entry(strbuf *sb, const json_value *root, const render_ctx *ctx);
#endif
