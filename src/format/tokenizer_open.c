/* Finding and opening a tokenizer: a folder's tokenizer files, one file detected by its content,
 * or a GGUF file's metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "format/model.h"
#include "format/tokenizer.h"
#include "io/file.h"
#include "util/error.h"

#define TOK_MAX_FILE_BYTES (256u << 20)
#define TOK_MAX_CONFIG_BYTES (32u << 20)

static const char *const dir_files[] = {"tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer.tiktoken",
                                        "vocab.txt", NULL};

/* A tiktoken rank file: lines of "base64 rank". */
static int looks_tiktoken(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != ' ' && s[i] != '\n') {
        char c = s[i++];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '='))
            return 0;
    }
    if (i == 0 || i >= n || s[i] != ' ') return 0;
    i++;
    size_t d = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, d++;
    return d > 0 && (i == n || s[i] == '\n' || s[i] == '\r');
}

static lineage_status load_sidecar_json(lineage_tokenizer *t, const char *dir, const char *name, lineage_error *err)
{
    char *p = path_join(dir, name);
    if (!p) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    if (path_is_file(p)) {
        char *text;
        size_t len;
        st = file_read_all(p, TOK_MAX_CONFIG_BYTES, &text, &len, err);
        if (!st) {
            st = tok_load_hf_config(t, text, len, p, err);
            free(text);
        }
    }
    free(p);
    return st;
}

/* One tokenizer file by content. vocab.json needs its merges.txt beside it. */
static lineage_status open_file(const char *path, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    mapped_file map;   /* mapped, not read: tokenizer.json files reach tens of MB */
    lineage_status st = file_map(path, &map, err);
    if (st) return st;
    if (map.size > TOK_MAX_FILE_BYTES) {
        file_unmap(&map);
        return error_set(err, LINEAGE_E_FORMAT, "%s: larger than %u bytes", path, TOK_MAX_FILE_BYTES);
    }
    const char *text = map.data ? (const char *)map.data : "";
    size_t len = (size_t)map.size, k = 0;
    while (k < len && (text[k] == ' ' || text[k] == '\n' || text[k] == '\r' || text[k] == '\t')) k++;
    lineage_tokenizer *t = NULL;
    if (k < len && text[k] == '{' && strstr(path, "vocab.json") == NULL) {
        t = tok_new(path, "tokenizer.json");
        if (t && (t->source = malloc(sizeof *t->source))) {   /* t borrows strings from the mapping: it keeps it */
            *t->source = map;
            map.data = NULL, map.fd = -1, map.path = NULL;
        }
        st = t && t->source ? tok_load_hf_json(t, text, len, path, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    } else if (k < len && text[k] == '{') {
        char *dir = path_dirname(path);
        char *mp = dir ? path_join(dir, "merges.txt") : NULL;
        char *mtext = NULL;
        size_t mlen = 0;
        if (!mp) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else if (!path_is_file(mp)) st = error_set(err, LINEAGE_E_FORMAT, "%s: no merges.txt beside vocab.json", path);
        else st = file_read_all(mp, TOK_MAX_FILE_BYTES, &mtext, &mlen, err);
        if (!st) {
            t = tok_new(path, "gpt2-files");
            st = t ? tok_load_gpt2_files(t, text, len, mtext, mlen, path, err)
                   : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        }
        if (!st) {
            char *ap = path_join(dir, "added_tokens.json");
            if (ap && path_is_file(ap)) st = load_sidecar_json(t, dir, "added_tokens.json", err);
            free(ap);
        }
        free(mtext);
        free(mp);
        free(dir);
    } else if (looks_tiktoken(text, len)) {
        t = tok_new(path, "tiktoken");
        st = t ? tok_load_tiktoken(t, text, len, path, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    } else if (len > 0 && (unsigned char)text[0] == 0x0A) {
        t = tok_new(path, "sentencepiece");
        st = t ? tok_load_sentencepiece(t, text, len, path, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    } else {
        st = error_set(err, LINEAGE_E_FORMAT, "%s: not a tokenizer file lineage can read", path);
    }
    file_unmap(&map);
    if (st) {
        lineage_tokenizer_close(t);
        return st;
    }
    *out = t;
    return LINEAGE_OK;
}

static int is_gguf(const char *path)
{
    char magic[4];
    size_t got = 0;
    uint64_t size;
    return !file_read_head(path, magic, sizeof magic, &got, &size, NULL) && got == 4 && !memcmp(magic, "GGUF", 4);
}

int tok_dir_has_tokenizer(const char *dir)
{
    for (int i = 0; dir_files[i]; i++) {
        if (!strcmp(dir_files[i], "vocab.txt")) continue;
        char *p = path_join(dir, dir_files[i]);
        int ok = p && path_is_file(p);
        free(p);
        if (ok) return 1;
    }
    return 0;
}

lineage_status tok_open_dir(const char *dir, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    for (int i = 0; dir_files[i]; i++) {
        if (!strcmp(dir_files[i], "vocab.txt")) continue;
        char *p = path_join(dir, dir_files[i]);
        if (!p) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (!path_is_file(p)) {
            free(p);
            continue;
        }
        lineage_tokenizer *t;
        lineage_status st = open_file(p, &t, err);
        free(p);
        if (st) return st;
        /* special tokens and the chat template may live only in the configs */
        if (!st) st = load_sidecar_json(t, dir, "special_tokens_map.json", err);
        if (!st) st = load_sidecar_json(t, dir, "tokenizer_config.json", err);
        if (!st) st = tok_finish(t, err);
        if (st) {
            lineage_tokenizer_close(t);
            return st;
        }
        *out = t;
        return LINEAGE_OK;
    }
    return LINEAGE_OK;
}

lineage_status lineage_tokenizer_open(const char *path, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    if (!path) return error_set(err, LINEAGE_E_USAGE, "no tokenizer path");
    if (path_is_dir(path)) {
        lineage_status st = tok_open_dir(path, out, err);
        if (st) return st;
        if (!*out) return error_set(err, LINEAGE_E_FORMAT, "%s: folder has no tokenizer files", path);
        return LINEAGE_OK;
    }
    if (!path_exists(path)) return error_set(err, LINEAGE_E_IO, "%s: no such file or folder", path);
    if (is_gguf(path)) {   /* a GGUF may be gigabytes of weights: never read it whole */
        lineage_status st = tok_open_gguf_file(path, out, err);
        if (!st && !*out) st = error_set(err, LINEAGE_E_FORMAT, "%s: GGUF file has no tokenizer metadata", path);
        return st;
    }
    lineage_status st = open_file(path, out, err);
    if (!st) st = tok_finish(*out, err);
    if (st) {
        lineage_tokenizer_close(*out);
        *out = NULL;
    }
    return st;
}

long tok_bos_to_add(const lineage_tokenizer *t, const lineage_model *m, int add)
{
    if (add < 0 || (add == 0 && (!t || t->add_bos != 1))) return -1;
    const char *b = t ? t->special_roles[TOK_ROLE_BOS] : NULL;
    if (b) {
        uint32_t id = tok_map_get(&t->by_text, b, strlen(b));
        if (id != UINT32_MAX) return (long)id;
    }
    int64_t v;
    if (m && m->config && json_get_int(m->config, "bos_token_id", &v) && v >= 0) return (long)v;
    if (m && m->gguf && gguf_get_int(m->gguf, "tokenizer.ggml.bos_token_id", &v) && v >= 0) return (long)v;
    return -1;
}

lineage_status model_open_tokenizer(const lineage_model *m, lineage_tokenizer **t, lineage_error *err)
{
    *t = NULL;
    if (m->gguf) return tok_open_gguf(m->gguf, m->path, t, err);
    if (!m->dir) return LINEAGE_OK;
    return tok_open_dir(m->dir, t, err);
}
