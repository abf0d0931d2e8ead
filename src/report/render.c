#include <stdio.h>
#include <string.h>

#include "report/document.h"
#include "report/report.h"
#include "util/error.h"
#include "util/sanitize.h"

const char *tr(const render_ctx *ctx, const char *en, const char *ko) { return ctx->korean && ko ? ko : en; }
const char *c_bold(const render_ctx *ctx) { return ctx->color ? "\033[1m" : ""; }
const char *c_dim(const render_ctx *ctx) { return ctx->color ? "\033[2m" : ""; }
const char *c_good(const render_ctx *ctx) { return ctx->color ? "\033[32m" : ""; }
const char *c_warn(const render_ctx *ctx) { return ctx->color ? "\033[33m" : ""; }
const char *c_off(const render_ctx *ctx) { return ctx->color ? "\033[0m" : ""; }

static void render_text(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    const char *schema = json_get_string(root, "schema");
    if (schema && !strcmp(schema, "lineage.inspect/1")) {
        render_inspect_text(sb, root, ctx);
        return;
    }
    if (schema && !strcmp(schema, "lineage.run/1")) {
        render_run_text(sb, root, ctx);
        return;
    }
    if (schema && !strcmp(schema, "lineage.ask/1")) {
        render_ask_text(sb, root, ctx);
        return;
    }
    if (schema && !strcmp(schema, "lineage.search/1")) {
        render_search_text(sb, root, ctx);
        return;
    }
    if (schema && !strcmp(schema, "lineage.index/1")) {
        render_index_text(sb, root, ctx);
        return;
    }
    if (schema && !strcmp(schema, "lineage.verify/1")) {
        render_verify_text(sb, root, ctx);
        return;
    }
    if (schema && !strcmp(schema, "lineage.study/1")) {
        render_text_document(sb, root, ctx);
        return;
    }
    const json_value *v;
    if ((v = json_get(root, "verdict"))) render_verdict_text(sb, v, ctx);
    if ((v = json_get(root, "architecture"))) render_arch_text(sb, v, ctx);
    if ((v = json_get(root, "tokenizer"))) render_tokenizer_text(sb, v, ctx);
    if ((v = json_get(root, "weights"))) render_weights_text(sb, v, ctx);
    if ((v = json_get(root, "behaviour"))) render_behaviour_text(sb, v, ctx);
    if ((v = json_get(root, "activations"))) render_activations_text(sb, v, ctx);
    if ((v = json_get(root, "behaviour_asked"))) render_text_section(sb, v, ctx, render_asked_doc);
}

lineage_status lineage_render(const lineage_doc *d, const lineage_render_options *opt, FILE *out, lineage_error *err)
{
    render_ctx ctx = {opt && opt->lang && !strcmp(opt->lang, "ko"), opt ? opt->color : 0};
    strbuf sb;
    sb_init(&sb);
    lineage_render_format fmt = opt ? opt->format : LINEAGE_RENDER_TEXT;
    switch (fmt) {
    case LINEAGE_RENDER_JSON:
        json_write(&sb, d->root, 2);
        sb_putc(&sb, '\n');
        break;
    case LINEAGE_RENDER_TEXT: render_text(&sb, d->root, &ctx); break;
    case LINEAGE_RENDER_MARKDOWN: render_markdown(&sb, d->root, &ctx); break;
    case LINEAGE_RENDER_HTML: render_html(&sb, d->root, &ctx); break;
    default:
        sb_free(&sb);
        return error_set(err, LINEAGE_E_USAGE, "unknown report format");
    }
    if (sb.failed) {
        sb_free(&sb);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory while rendering");
    }
    if (fmt != LINEAGE_RENDER_JSON) {
        /* whatever a renderer let through, no control byte reaches the terminal or the document:
         * only our own colours pass, and only when colour is on */
        strbuf clean;
        sb_init(&clean);
        sanitize_terminal(&clean, sb.data ? sb.data : "", sb.len,
                          SANITIZE_KEEP_LINES | (fmt == LINEAGE_RENDER_TEXT && ctx.color ? SANITIZE_ALLOW_SGR : 0));
        sb_free(&sb);
        sb = clean;
        if (sb.failed) {
            sb_free(&sb);
            return error_set(err, LINEAGE_E_NOMEM, "out of memory while rendering");
        }
    }
    size_t len = sb.len, w = fwrite(sb.data ? sb.data : "", 1, len, out);
    sb_free(&sb);
    if (w != len || fflush(out) != 0) return error_set(err, LINEAGE_E_IO, "cannot write the report");
    return LINEAGE_OK;
}

lineage_status lineage_write_escaped(FILE *out, const char *text, size_t len, lineage_error *err)
{
    strbuf sb;
    sb_init(&sb);
    sanitize_terminal(&sb, text ? text : "", text ? len : 0, 0);
    lineage_status st = sb.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
                        : fwrite(sb_str(&sb), 1, sb.len, out) != sb.len ? error_set(err, LINEAGE_E_IO, "cannot write")
                                                                          : LINEAGE_OK;
    sb_free(&sb);
    return st;
}
