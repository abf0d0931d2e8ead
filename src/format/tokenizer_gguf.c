/* GGUF tokenizers: the tokenizer.ggml.* metadata llama.cpp writes. `model` picks the algorithm
 * (llama = SentencePiece-style BPE over scores, gpt2 = byte-level BPE over merges, bert = WordPiece
 * with U+2581 marking word starts, t5 = Unigram), `pre` the regex sequence of byte-level BPE. */
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "format/tokenizer.h"
#include "util/error.h"

#define TOK_GGUF_MAX_TOKENS (1u << 24)

static const struct {
    const char *name;
    tok_model model;
    tok_surface surface;
} gguf_models[] = {
    {"llama", TOK_MODEL_BPE, TOK_SURFACE_METASPACE},
    {"gpt2", TOK_MODEL_BPE, TOK_SURFACE_BYTELEVEL},
    {"bert", TOK_MODEL_WORDPIECE, TOK_SURFACE_WORDSTART},
    {"t5", TOK_MODEL_UNIGRAM, TOK_SURFACE_METASPACE},
};

static const char *const role_keys[6] = {
    "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.padding_token_id", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.cls_token_id"};

static int get_bool(const gguf_file *g, const char *key, int dflt)
{
    int64_t v;
    return gguf_get_int(g, key, &v) ? v != 0 : dflt;
}

/* A per-token array: absent is fine, present must have one fixed-size entry per token. */
static lineage_status per_token_array(const gguf_file *g, const char *key, uint64_t n, const gguf_kv **out,
                                      const char *what, lineage_error *err)
{
    *out = gguf_find(g, key);
    if (!*out) return LINEAGE_OK;
    gguf_type at = gguf_kv_array_type(*out);
    if (gguf_kv_type(*out) != GGUF_TYPE_ARRAY || at == GGUF_TYPE_STRING || at == GGUF_TYPE_ARRAY ||
        gguf_kv_array_count(*out) != n)
        return error_set(err, LINEAGE_E_FORMAT, "%s: %s is not a number array with one entry per token", what, key);
    return LINEAGE_OK;
}

static lineage_status load_tokens(lineage_tokenizer *t, const gguf_file *g, const char *what, lineage_error *err)
{
    const gguf_kv *toks = gguf_find(g, "tokenizer.ggml.tokens"), *scores, *types;
    if (!toks || gguf_kv_type(toks) != GGUF_TYPE_ARRAY || gguf_kv_array_type(toks) != GGUF_TYPE_STRING)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tokenizer.ggml.tokens is missing or not a string array", what);
    uint64_t n = gguf_kv_array_count(toks);
    if (n == 0 || n > TOK_GGUF_MAX_TOKENS)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", what, (unsigned long long)n);
    lineage_status st = per_token_array(g, "tokenizer.ggml.scores", n, &scores, what, err);
    if (!st) st = per_token_array(g, "tokenizer.ggml.token_type", n, &types, what, err);
    if (st) return st;
    tok_map_free(&t->by_text);
    if (!tok_map_init(&t->by_text, (size_t)n)) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    if ((st = tok_reserve(t, (size_t)n, what, err))) return st;
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = gguf_kv_array_string(toks, i, &len);
        double score = 0;
        int64_t type = TOK_NORMAL;
        if (scores && !gguf_kv_array_float(scores, i, &score))
            return error_set(err, LINEAGE_E_FORMAT, "%s: tokenizer.ggml.scores[%llu] is not a number", what,
                             (unsigned long long)i);
        if (types && !gguf_kv_array_int(types, i, &type))
            return error_set(err, LINEAGE_E_FORMAT, "%s: tokenizer.ggml.token_type must be integers", what);
        if (type == 0) type = TOK_NORMAL;   /* llama.cpp's "undefined" */
        if (type < TOK_NORMAL || type > TOK_BYTE)
            return error_set(err, LINEAGE_E_FORMAT, "%s: token %llu has unknown type %lld", what, (unsigned long long)i,
                             (long long)type);
        if (!utf8_valid(s, len))
            return error_set(err, LINEAGE_E_FORMAT, "%s: token %llu is not valid UTF-8", what, (unsigned long long)i);
        st = tok_set(t, (uint32_t)i, s, len, score, (tok_type)type, what, err);
        if (st) return st;
        /* user-defined tokens are literal text, matched before the model runs (llama.cpp and HF alike) */
        if (type == TOK_USER) t->tok[i].added = 1;
        if (type == TOK_BYTE) t->byte_fallback = 1;
        if (type == TOK_UNKNOWN && t->unk_id < 0) t->unk_id = (long)i;
    }
    return LINEAGE_OK;
}

static lineage_status load_merges(lineage_tokenizer *t, const gguf_file *g, const char *what, lineage_error *err)
{
    const gguf_kv *m = gguf_find(g, "tokenizer.ggml.merges");
    if (!m) return error_set(err, LINEAGE_E_FORMAT, "%s: byte-level BPE without tokenizer.ggml.merges", what);
    if (gguf_kv_type(m) != GGUF_TYPE_ARRAY || gguf_kv_array_type(m) != GGUF_TYPE_STRING)
        return error_set(err, LINEAGE_E_FORMAT, "%s: tokenizer.ggml.merges is not a string array", what);
    uint64_t n = gguf_kv_array_count(m);   /* the parser bounded it by the file size */
    lineage_status rs = tok_merges_reserve(t, (size_t)n, what, err);
    if (rs) return rs;
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        const char *s = gguf_kv_array_string(m, i, &len);
        const char *sp = len > 1 ? memchr(s + 1, ' ', len - 1) : NULL;
        if (!sp) return error_set(err, LINEAGE_E_FORMAT, "%s: merge %llu is not 'a b'", what, (unsigned long long)i);
        size_t al = (size_t)(sp - s);
        lineage_status st = tok_add_merge(t, s, al, sp + 1, len - al - 1, (size_t)i, what, err);
        if (st) return st;
    }
    return LINEAGE_OK;
}

static lineage_status load_pre(lineage_tokenizer *t, const gguf_file *g, const char *what, lineage_error *err)
{
    size_t len = 0;
    const char *pre = gguf_kv_string(gguf_find(g, "tokenizer.ggml.pre"), &len);
    const char *const *regex;
    int ignore_merges;
    t->pretokenizer_desc = pre ? arena_strndup(&t->arena, pre, len) : "(none: llama.cpp default)";
    if (!t->pretokenizer_desc) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    if (!tok_gguf_pre_regexes(pre, len, &regex, &ignore_merges)) {
        t->encode_unsupported = "the GGUF pre-tokenizer is unknown to lineage";
        return LINEAGE_OK;
    }
    if (!regex[0]) t->encode_unsupported = "the GGUF pre-tokenizer is not a regex sequence lineage can run";
    t->ignore_merges = ignore_merges;
    for (size_t i = 0; regex[i]; i++) {
        tok_step *s = tok_push_step(t, 1, TOK_STEP_SPLIT);
        if (!s) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
        s->pattern = regex[i];
        s->pattern_len = strlen(regex[i]);
        s->pattern_is_regex = 1;
        s->behavior = TOK_SPLIT_ISOLATED;
    }
    return LINEAGE_OK;
}

/* BERT as llama.cpp runs it: BertNormalizer (clean text, CJK spacing, accents off, lowercase) and
 * BertPreTokenizer (whitespace, then each punctuation mark alone). */
static lineage_status bert_pipeline(lineage_tokenizer *t, const char *what, lineage_error *err)
{
    tok_step *n = tok_push_step(t, 0, TOK_STEP_BERT_NORMALIZER);
    tok_step *w = n ? tok_push_step(t, 1, TOK_STEP_WHITESPACE_SPLIT) : NULL;
    tok_step *p = w ? tok_push_step(t, 1, TOK_STEP_BERT_PRE) : NULL;
    if (!p) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    n->bert.clean_text = n->bert.lowercase = n->bert.strip_accents = n->bert.handle_chinese_chars = 1;
    t->word_prefix = "\xe2\x96\x81";
    t->continuing_prefix = "";
    t->max_input_chars_per_word = 100;
    t->normalizer_desc = "bert";
    return LINEAGE_OK;
}

static lineage_status load(lineage_tokenizer *t, const gguf_file *g, const char *model, const char *what,
                           lineage_error *err)
{
    size_t k = 0, nk = sizeof gguf_models / sizeof gguf_models[0];
    while (k < nk && strcmp(gguf_models[k].name, model)) k++;
    if (k == nk)
        return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: GGUF tokenizer model '%.40s' is not supported", what, model);
    t->model = gguf_models[k].model;
    t->surface = gguf_models[k].surface;
    lineage_status st = load_tokens(t, g, what, err);
    if (st) return st;
    if (t->surface == TOK_SURFACE_BYTELEVEL) {
        st = load_merges(t, g, what, err);
        if (!st) st = load_pre(t, g, what, err);
    } else if (t->surface == TOK_SURFACE_METASPACE) {
        t->spm_whitespace = 1;
        t->add_dummy_prefix = get_bool(g, "tokenizer.ggml.add_space_prefix", 1);
        t->remove_extra_spaces = get_bool(g, "tokenizer.ggml.remove_extra_whitespaces", 0);
        t->fuse_unk = 1;
        if (t->model == TOK_MODEL_UNIGRAM && gguf_find(g, "tokenizer.ggml.precompiled_charsmap"))
            t->normalizer_desc = "precompiled_charsmap (not applied)";
    } else {
        st = bert_pipeline(t, what, err);
    }
    for (int r = 0; !st && r < 6; r++) {
        int64_t id;
        if (!gguf_get_int(g, role_keys[r], &id) || id < 0) continue;   /* -1: unset */
        if ((uint64_t)id >= t->n || !t->tok[id].text)
            return error_set(err, LINEAGE_E_FORMAT, "%s: %s %lld is not a token id", what, role_keys[r], (long long)id);
        t->special_roles[r] = t->tok[id].text;
        if (r == TOK_ROLE_UNK) t->unk_id = (long)id;
    }
    t->add_bos = get_bool(g, "tokenizer.ggml.add_bos_token", -1);
    const char *ct = gguf_get_string(g, "tokenizer.chat_template");
    if (!st && ct && !(t->chat_template = arena_strdup(&t->arena, ct))) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return st;
}

lineage_status tok_open_gguf(const gguf_file *g, const char *path, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    const char *model = gguf_get_string(g, "tokenizer.ggml.model");
    if (!model || !strcmp(model, "none") || !strcmp(model, "no_vocab")) return LINEAGE_OK;
    lineage_tokenizer *t = tok_new(path, "gguf");
    if (!t) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = load(t, g, model, path, err);
    if (!st) st = tok_finish(t, err);
    if (st) {
        lineage_tokenizer_close(t);
        return st;
    }
    *out = t;
    return LINEAGE_OK;
}

lineage_status tok_open_gguf_file(const char *path, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    gguf_file *g;
    lineage_status st = gguf_open_file(path, &g, err);
    if (st) return st;
    st = tok_open_gguf(g, path, out, err);
    gguf_file_free(g);
    return st;
}
