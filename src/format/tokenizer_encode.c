/* lineage_tokenize: added tokens are matched first (longest at the leftmost position); the text
 * between them is normalized, pre-tokenized and encoded by the model, with a cache per pre-token. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer_encode.h"
#include "util/error.h"

#define CACHE_MAX_ENTRIES 65536
#define CACHE_MAX_PIECE 256

void tok_encoder_free(tok_encoder *e)
{
    if (!e) return;
    free(e->added);
    tok_pair_index_free(&e->pairs);
    sb_free(&e->concat);
    if (e->match_data) pcre2_match_data_free(e->match_data);
    tok_map_free(&e->cache);
    arena_free(&e->cache_arena);
    free(e->cache_ids.v);
    tok_pieces_free(&e->scratch[0]);
    tok_pieces_free(&e->scratch[1]);
    sb_free(&e->norm);
    free(e);
}

typedef struct added_key { unsigned char first; uint32_t len, id; } added_key;
static int cmp_added(const void *x, const void *y)
{
    const added_key *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int is_matchable_added(const tok_entry *x) { return x->text && x->text_len && (x->added || x->type == TOK_USER); }

static lineage_status prepare(lineage_tokenizer *t, lineage_error *err)
{
    tok_encoder *e = calloc(1, sizeof *e);
    if (!e) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    arena_init(&e->cache_arena, 0);
    tok_pieces_init(&e->scratch[0]);
    tok_pieces_init(&e->scratch[1]);
    sb_init(&e->norm);
    lineage_status st = tok_map_init(&e->cache, 1024) ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t na = 0;
    for (size_t i = 0; i < t->n; i++) na += is_matchable_added(&t->tok[i]);
    e->added = malloc((na + 1) * sizeof *e->added);
    if (!st && !e->added) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) {
        added_key *keys = malloc((na + 1) * sizeof *keys);
        if (!keys) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        for (size_t i = 0; keys && i < t->n; i++)
            if (is_matchable_added(&t->tok[i])) {
                added_key k = {(unsigned char)t->tok[i].text[0], t->tok[i].text_len, (uint32_t)i};
                keys[e->n_added++] = k;
            }
        if (keys) qsort(keys, e->n_added, sizeof *keys, cmp_added);
        for (size_t i = 0; keys && i < e->n_added; i++) e->added[i] = keys[i].id;
        free(keys);
        size_t k = 0;
        for (int b = 0; b <= 256; b++) {
            while (b < 256 && k < e->n_added && (unsigned char)t->tok[e->added[k]].text[0] < b) k++;
            e->added_start[b] = (uint32_t)k;
        }
        e->added_start[256] = (uint32_t)e->n_added;
    }
    if (!st) st = tok_pretokenize_prepare(t, e, err);
    if (!st && t->model == TOK_MODEL_BPE) st = tok_bpe_prepare(t, e, err);
    if (!st && t->model == TOK_MODEL_UNIGRAM) st = tok_unigram_prepare(t, e, err);
    if (st) {
        tok_encoder_free(e);
        return st;
    }
    t->enc = e;
    return LINEAGE_OK;
}

static int spm_native(const lineage_tokenizer *t) { return t->spm_whitespace && t->n_norm == 0 && t->n_pre == 0; }

static lineage_status model_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, tok_ids *out,
                                   lineage_error *err)
{
    if (!n) return LINEAGE_OK;
    uint32_t hit = n <= CACHE_MAX_PIECE ? tok_map_get(&e->cache, s, n) : UINT32_MAX;
    if (hit != UINT32_MAX) {
        uint32_t cnt = e->cache_ids.v[hit];
        for (uint32_t i = 0; i < cnt; i++)
            if (!tok_ids_push(out, e->cache_ids.v[hit + 1 + i])) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        return LINEAGE_OK;
    }
    size_t start = out->n;
    lineage_status st;
    switch (t->model) {
    case TOK_MODEL_BPE: st = tok_bpe_encode(t, e, s, n, out, err); break;
    case TOK_MODEL_UNIGRAM: st = tok_unigram_encode(t, e, s, n, out, err); break;
    default: st = tok_wordpiece_encode(t, e, s, n, out, err); break;
    }
    if (st || n > CACHE_MAX_PIECE) return st;
    if (e->cache.count >= CACHE_MAX_ENTRIES) {   /* bounded: start over rather than grow */
        tok_map_free(&e->cache);
        arena_free(&e->cache_arena);
        arena_init(&e->cache_arena, 0);
        e->cache_ids.n = 0;
        if (!tok_map_init(&e->cache, 1024)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    char *key = arena_strndup(&e->cache_arena, s, n);
    uint32_t off = (uint32_t)e->cache_ids.n;
    if (!key || !tok_ids_push(&e->cache_ids, (uint32_t)(out->n - start))) return LINEAGE_OK;
    for (size_t i = start; i < out->n; i++)
        if (!tok_ids_push(&e->cache_ids, out->v[i])) return LINEAGE_OK;
    tok_map_put(&e->cache, key, n, off);
    return LINEAGE_OK;
}

/* SentencePiece's own normalization: the character map, then trim and collapse spaces, dummy
 * prefix, spaces -> U+2581. */
static lineage_status spm_segment(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, int first,
                                  tok_ids *out, lineage_error *err)
{
    if (t->charsmap) {
        e->norm.len = 0;
        if (!tok_charsmap_apply(t->charsmap, &e->norm, s, n)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        s = e->norm.data ? e->norm.data : "";
        n = e->norm.len;
    }
    strbuf b;
    sb_init(&b);
    size_t i = 0, end = n;
    if (t->remove_extra_spaces) {
        while (i < end && s[i] == ' ') i++;
        while (end > i && s[end - 1] == ' ') end--;
    }
    if (i == end) return LINEAGE_OK;
    if (t->add_dummy_prefix && first) sb_puts(&b, "\xe2\x96\x81");
    for (; i < end; i++) {
        if (s[i] == ' ') {
            if (t->remove_extra_spaces && i > 0 && s[i - 1] == ' ') continue;
            sb_puts(&b, "\xe2\x96\x81");
        } else sb_putc(&b, s[i]);
    }
    lineage_status st = b.failed ? error_set(err, LINEAGE_E_NOMEM, "out of memory")
                                 : model_encode(t, e, b.data, b.len, out, err);
    sb_free(&b);
    return st;
}

static lineage_status encode_segment(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, int first,
                                     tok_ids *out, lineage_error *err)
{
    if (!n) return LINEAGE_OK;
    if (spm_native(t)) return spm_segment(t, e, s, n, first, out, err);
    tok_pieces *p;
    lineage_status st = tok_pretokenize(t, e, s, n, first, &p, err);
    for (size_t i = 0; !st && i < p->n; i++) st = model_encode(t, e, p->text.data + p->span[i][0], p->span[i][1], out, err);
    return st;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

const tok_pair_index *tok_merge_index(const lineage_tokenizer *tc)
{
    if (!tc || tc->encode_unsupported || tc->model != TOK_MODEL_BPE || !tc->merges) return NULL;
    lineage_tokenizer *t = (lineage_tokenizer *)tc;   /* built once under the lock, like the encoder */
    lineage_error err;
    pthread_mutex_lock(&t->lock);
    lineage_status st = t->enc ? LINEAGE_OK : prepare(t, &err);
    pthread_mutex_unlock(&t->lock);
    return st ? NULL : &t->enc->pairs;
}

lineage_status lineage_tokenize(const lineage_tokenizer *tc, const char *text, size_t len, uint32_t **ids,
                                size_t *count, lineage_error *err)
{
    *ids = NULL;
    *count = 0;
    if (!tc || (!text && len)) return error_set(err, LINEAGE_E_USAGE, "tokenize: no tokenizer or text");
    if (!utf8_valid(text ? text : "", len)) return error_set(err, LINEAGE_E_FORMAT, "tokenize: text is not valid UTF-8");
    if (tc->encode_unsupported) return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: %s", tc->path, tc->encode_unsupported);
    lineage_tokenizer *t = (lineage_tokenizer *)tc;   /* the encoder is built on first use, under the lock */
    pthread_mutex_lock(&t->lock);
    lineage_status st = t->enc ? LINEAGE_OK : prepare(t, err);
    tok_encoder *e = t->enc;
    tok_ids out = {0};
    size_t seg = 0;
    for (size_t i = 0; !st && i <= len;) {
        uint32_t hit = UINT32_MAX;
        size_t hit_len = 0;
        if (i < len) {
            unsigned char c = (unsigned char)text[i];
            for (uint32_t k = e->added_start[c]; k < e->added_start[c + 1]; k++) {
                const tok_entry *x = &t->tok[e->added[k]];
                if (x->text_len <= len - i && !memcmp(text + i, x->text, x->text_len)) {
                    hit = e->added[k];
                    hit_len = x->text_len;
                    break;   /* sorted longest first */
                }
            }
        }
        if (hit == UINT32_MAX && i < len) {
            i++;
            continue;
        }
        size_t seg_end = i, next = i + hit_len;
        if (hit != UINT32_MAX) {
            if (t->tok[hit].lstrip) while (seg_end > seg && is_ws(text[seg_end - 1])) seg_end--;
            if (t->tok[hit].rstrip) while (next < len && is_ws(text[next])) next++;
        }
        st = encode_segment(t, e, text + seg, seg_end - seg, seg == 0, &out, err);
        if (!st && hit != UINT32_MAX && !tok_ids_push(&out, hit)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        if (hit == UINT32_MAX) break;
        seg = i = next;
    }
    pthread_mutex_unlock(&t->lock);
    if (st) {
        free(out.v);
        return st;
    }
    if (!out.v) out.v = malloc(sizeof *out.v);
    if (!out.v) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    *ids = out.v;
    *count = out.n;
    return LINEAGE_OK;
}
