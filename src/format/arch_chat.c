/* The chat description of a model (arch_chat): where its chat template is, which ids end a turn and
 * whether a BOS token is added. The one reader of tokenizer_config.json, generation_config.json and
 * chat_template.{jinja,json} for chatting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/arch.h"
#include "format/chat_template.h"
#include "io/file.h"
#include "util/error.h"

#define SIDECAR_MAX_BYTES (16u << 20)

/* Reads DIR/NAME into ar; *text NULL when the file is absent. */
static lineage_status read_sidecar(const char *dir, const char *name, arena *ar, char **text, size_t *len,
                                   char **path_out, lineage_error *err)
{
    *text = NULL;
    char *path = path_join(dir, name);
    if (!path) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    if (path_is_file(path)) {
        char *buf = NULL;
        st = file_read_all(path, SIDECAR_MAX_BYTES, &buf, len, err);
        if (!st && !(*text = arena_strndup(ar, buf, *len))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        free(buf);
    }
    *path_out = arena_strdup(ar, path);
    free(path);
    return st;
}

static lineage_status parse_sidecar(const char *dir, const char *name, arena *ar, json_value **out, char **path,
                                    lineage_error *err)
{
    char *text;
    size_t len;
    *out = NULL;
    lineage_status st = read_sidecar(dir, name, ar, &text, &len, path, err);
    if (st || !text) return st;
    return json_parse(text, len, NULL, ar, out, *path, err);
}

/* A special token written as a string or as {"content": ...}. */
static const char *token_text(const json_value *v)
{
    if (!v) return NULL;
    if (v->type == JSON_STRING) return v->u.string.s;
    return json_get_string(v, "content");
}

static void add_eos(arch_chat *c, int64_t id)
{
    if (id < 0) return;
    for (size_t i = 0; i < c->neos; i++)
        if (c->eos_ids[i] == id) return;
    if (c->neos < ARCH_MAX_EOS) c->eos_ids[c->neos++] = id;
}

static void add_eos_json(arch_chat *c, const json_value *v)
{
    if (!v) return;
    if (v->type == JSON_NUMBER && v->u.number.is_int) add_eos(c, v->u.number.i);
    for (size_t i = 0; v->type == JSON_ARRAY && i < v->u.array.count; i++) add_eos_json(c, v->u.array.items[i]);
}

/* chat_template: a string, or a list of {"name", "template"} of which "default" is the chat one. */
static lineage_status template_of(const json_value *v, const char *origin, arch_chat *c, arena *ar, lineage_error *err)
{
    if (!v || v->type == JSON_NULL) return LINEAGE_OK;
    if (v->type == JSON_STRING) {
        c->template_src = v->u.string.s;
        c->template_len = v->u.string.len;
    } else if (v->type == JSON_ARRAY) {
        for (size_t i = 0; i < v->u.array.count; i++) {
            const json_value *t = v->u.array.items[i];
            const char *name = json_get_string(t, "name");
            json_value *src = json_get(t, "template");
            if (!src || src->type != JSON_STRING) return error_set(err, LINEAGE_E_FORMAT, "%s: entry %zu has no template string", origin, i);
            if (!c->template_src || (name && !strcmp(name, "default"))) {
                c->template_src = src->u.string.s;
                c->template_len = src->u.string.len;
            }
        }
    } else {
        return error_set(err, LINEAGE_E_FORMAT, "%s: neither a string nor a list of named templates", origin);
    }
    c->template_origin = arena_strdup(ar, origin);
    return c->template_origin ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}

static lineage_status chat_of_gguf(const gguf_file *g, arena *ar, arch_chat *c, const char *path, lineage_error *err)
{
    const gguf_kv *kv = gguf_find(g, "tokenizer.chat_template");
    size_t len = 0;
    const char *t = kv ? gguf_kv_string(kv, &len) : NULL;
    if (t) {
        c->template_src = t;
        c->template_len = len;
        char origin[1200];
        snprintf(origin, sizeof origin, "%s: tokenizer.chat_template", path);
        if (!(c->template_origin = arena_strdup(ar, origin))) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    int64_t v;
    if (gguf_get_int(g, "tokenizer.ggml.add_bos_token", &v)) c->add_bos = v != 0;
    const gguf_kv *tokens = gguf_find(g, "tokenizer.ggml.tokens");
    static const char *const eos_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                                           "tokenizer.ggml.eom_token_id"};
    for (size_t i = 0; i < 3; i++)
        if (gguf_get_int(g, eos_keys[i], &v)) add_eos(c, v);
    int64_t bos = -1, eos = -1;
    gguf_get_int(g, "tokenizer.ggml.bos_token_id", &bos);
    gguf_get_int(g, "tokenizer.ggml.eos_token_id", &eos);
    uint64_t n = tokens ? gguf_kv_array_count(tokens) : 0;
    if (bos >= 0 && (uint64_t)bos < n) c->bos_token = arena_strndup(ar, gguf_kv_array_string(tokens, (uint64_t)bos, &len), len);
    if (eos >= 0 && (uint64_t)eos < n) c->eos_token = arena_strndup(ar, gguf_kv_array_string(tokens, (uint64_t)eos, &len), len);
    if (!c->bos_token) c->bos_token = "";
    if (!c->eos_token) c->eos_token = "";
    return LINEAGE_OK;
}

lineage_status arch_chat_of_model(const lineage_model *m, arena *ar, arch_chat *c, lineage_error *err)
{
    memset(c, 0, sizeof *c);
    c->add_bos = -1;
    c->bos_token = c->eos_token = "";
    if (m->gguf) return chat_of_gguf(m->gguf, ar, c, lineage_model_path(m), err);
    if (!m->dir) return LINEAGE_OK;
    json_value *tc = NULL, *gc = NULL, *tj = NULL;
    char *tc_path, *gc_path, *tj_path, *jinja_path, *jinja;
    size_t jinja_len;
    lineage_status st = parse_sidecar(m->dir, "tokenizer_config.json", ar, &tc, &tc_path, err);
    if (!st) st = parse_sidecar(m->dir, "generation_config.json", ar, &gc, &gc_path, err);
    if (!st) st = parse_sidecar(m->dir, "chat_template.json", ar, &tj, &tj_path, err);
    if (!st) st = read_sidecar(m->dir, "chat_template.jinja", ar, &jinja, &jinja_len, &jinja_path, err);
    if (st) return st;
    char origin[1200];
    /* a separate template file wins over tokenizer_config.json, as in transformers */
    if (jinja) {
        c->template_src = jinja;
        c->template_len = jinja_len;
        c->template_origin = jinja_path;
    } else if (tj) {
        snprintf(origin, sizeof origin, "%s: chat_template", tj_path);
        st = template_of(json_get(tj, "chat_template"), origin, c, ar, err);
    }
    if (!st && !c->template_src && tc) {
        snprintf(origin, sizeof origin, "%s: chat_template", tc_path);
        st = template_of(json_get(tc, "chat_template"), origin, c, ar, err);
    }
    if (st) return st;
    if (tc) {
        int b;
        if (json_get_bool(tc, "add_bos_token", &b)) c->add_bos = b;
        const char *bt = token_text(json_get(tc, "bos_token")), *et = token_text(json_get(tc, "eos_token"));
        if (bt) c->bos_token = bt;
        if (et) c->eos_token = et;
    }
    if (gc) add_eos_json(c, json_get(gc, "eos_token_id"));
    if (m->config) add_eos_json(c, json_get(arch_text_config(m->config), "eos_token_id"));
    if (m->config) add_eos_json(c, json_get(m->config, "eos_token_id"));
    return LINEAGE_OK;
}
