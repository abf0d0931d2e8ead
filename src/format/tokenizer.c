/* Token table core: ids, surface forms, canonical bytes, maps, and the public handle. */
#include "format/tokenizer.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "format/reader.h"
#include "io/file.h"
#include "util/error.h"

/* ---- string -> id map ---- */

int tok_map_init(tok_map *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2 + 16) cap *= 2;
    m->slots = tok_table_alloc(cap * sizeof *m->slots);
    m->entries = tok_table_alloc((expected + 16) * sizeof *m->entries);
    m->cap = cap;
    m->entries_cap = expected + 16;
    m->count = 0;
    if (m->slots && m->entries) return 1;
    tok_map_free(m);
    return 0;
}

void tok_map_free(tok_map *m)
{
    tok_table_free(m->slots, m->cap * sizeof *m->slots);
    tok_table_free(m->entries, m->entries_cap * sizeof *m->entries);
    m->slots = NULL;
    m->entries = NULL;
    m->cap = m->count = m->entries_cap = 0;
}

/* 32-bit hash of a key; the slot index uses its low bits, so maps hold < 2^32 slots. */
static uint32_t key_hash(const char *key, size_t len) { return (uint32_t)XXH3_64bits(key, len); }

static int map_grow(tok_map *m)
{
    size_t cap = m->cap * 2, mask = cap - 1;
    uint64_t *slots = tok_table_alloc(cap * sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i]) continue;
        size_t j = (m->slots[i] >> 32) & mask;
        while (slots[j]) j = (j + 1) & mask;
        slots[j] = m->slots[i];
    }
    tok_table_free(m->slots, m->cap * sizeof *m->slots);
    m->slots = slots;
    m->cap = cap;
    return 1;
}

uint32_t tok_map_put(tok_map *m, const char *key, size_t len, uint32_t id)
{
    if ((m->count + 1) * 2 > m->cap && !map_grow(m)) return UINT32_MAX;
    if (m->count == m->entries_cap) {
        size_t ncap = m->entries_cap * 2;
        tok_map_entry *e = tok_table_grow(m->entries, m->entries_cap * sizeof *e, ncap * sizeof *e);
        if (!e) return UINT32_MAX;
        m->entries = e;
        m->entries_cap = ncap;
    }
    uint32_t h = key_hash(key, len);
    size_t mask = m->cap - 1, i = h & mask;
    for (uint64_t s; (s = m->slots[i]); i = (i + 1) & mask) {
        const tok_map_entry *e = &m->entries[(uint32_t)s - 1];
        if ((uint32_t)(s >> 32) == h && e->len == len && !memcmp(e->key, key, len)) return e->id;
    }
    tok_map_entry *e = &m->entries[m->count++];
    e->key = key;
    e->len = (uint32_t)len;
    e->id = id;
    m->slots[i] = (uint64_t)h << 32 | (uint64_t)m->count;
    return id;
}

void tok_map_prefetch(const tok_map *m, const char *key, size_t len)
{
    if (m->cap) __builtin_prefetch(&m->slots[key_hash(key, len) & (m->cap - 1)]);
}

static uint32_t map_find(const tok_map *m, const char *key, size_t len, uint32_t h)
{
    size_t mask = m->cap - 1, i = h & mask;
    for (uint64_t s; (s = m->slots[i]); i = (i + 1) & mask) {
        const tok_map_entry *e = &m->entries[(uint32_t)s - 1];
        if ((uint32_t)(s >> 32) == h && e->len == len && !memcmp(e->key, key, len)) return e->id;
    }
    return UINT32_MAX;
}

uint32_t tok_map_get(const tok_map *m, const char *key, size_t len)
{
    if (!m->cap) return UINT32_MAX;
    return map_find(m, key, len, key_hash(key, len));
}

/* Lookups of cold keys wait on three dependent cache misses (slot, entry, key bytes); a batch
 * issues each stage's loads for all keys before using any of them, so the misses overlap. */
void tok_map_get_many(const tok_map *m, size_t n, const char *const *keys, const uint32_t *lens, uint32_t *ids)
{
    uint32_t h[TOK_MAP_BATCH];
    for (size_t k = 0; k < n; k += TOK_MAP_BATCH) {
        size_t nb = n - k < TOK_MAP_BATCH ? n - k : TOK_MAP_BATCH;
        if (!m->cap) {
            for (size_t i = 0; i < nb; i++) ids[k + i] = UINT32_MAX;
            continue;
        }
        size_t mask = m->cap - 1;
        for (size_t i = 0; i < nb; i++) {
            h[i] = key_hash(keys[k + i], lens[k + i]);
            __builtin_prefetch(&m->slots[h[i] & mask]);
        }
        for (size_t i = 0; i < nb; i++) {
            uint64_t s = m->slots[h[i] & mask];
            if (s) __builtin_prefetch(&m->entries[(uint32_t)s - 1]);
        }
        for (size_t i = 0; i < nb; i++) {
            uint64_t s = m->slots[h[i] & mask];
            if (s && (uint32_t)(s >> 32) == h[i]) __builtin_prefetch(m->entries[(uint32_t)s - 1].key);
        }
        for (size_t i = 0; i < nb; i++) ids[k + i] = map_find(m, keys[k + i], lens[k + i], h[i]);
    }
}

/* ---- UTF-8 and the byte-level map ---- */

size_t tok_utf8_next(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!n) { *cp = 0; return 0; }
    if (u[0] < 0x80) { *cp = u[0]; return 1; }
    size_t len = u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 1;
    if (len == 1 || len > n) { *cp = u[0]; return 1; }
    uint32_t c = u[0] & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) { *cp = u[0]; return 1; }
        c = c << 6 | (u[i] & 0x3F);
    }
    *cp = c;
    return len;
}

size_t tok_utf8_put(char *out, uint32_t cp)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { o[0] = (unsigned char)(0xC0 | cp >> 6); o[1] = (unsigned char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int byte_is_printable(unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

uint32_t tok_byte_to_unicode(uint8_t b)
{
    if (byte_is_printable(b)) return b;
    uint32_t n = 0;
    for (unsigned i = 0; i < b; i++) n += !byte_is_printable(i);
    return 0x100 + n;
}

int tok_unicode_to_byte(uint32_t cp)
{
    if (cp < 0x100) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68) return -1;
    static const unsigned char shifted[68] = {
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
        29, 30, 31, 32, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144,
        145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 173};
    return shifted[cp - 0x100];
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Canonical bytes of a surface form written to out, which has room for len + 3 bytes (WordPiece
 * may add "##"); NUL-terminated; returns their length. */
static size_t canonical_into(char *out, tok_surface s, const char *text, size_t len, int type)
{
    if (s == TOK_SURFACE_WORDSTART) {
        /* llama.cpp's BERT vocabularies drop "##" from continuations and mark word starts with U+2581;
         * canonical bytes use Hugging Face's spelling so both compare equal ("[...]" names stay as they are) */
        int marked = len >= 3 && !memcmp(text, "\xe2\x96\x81", 3);
        int bracket = len >= 2 && text[0] == '[' && text[len - 1] == ']';
        size_t skip = marked ? 3 : 0, pl = marked || bracket || type == TOK_CONTROL ? 0 : 2;
        memcpy(out, "##", pl);
        memcpy(out + pl, text + skip, len - skip);
        out[pl + len - skip] = 0;
        return pl + len - skip;
    }
    if (s == TOK_SURFACE_METASPACE && type == TOK_BYTE && len == 6 && !memcmp(text, "<0x", 3) && text[5] == '>' &&
        hexval(text[3]) >= 0 && hexval(text[4]) >= 0) {
        out[0] = (char)(hexval(text[3]) * 16 + hexval(text[4]));
        out[1] = 0;
        return 1;
    }
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x80 && (s != TOK_SURFACE_BYTELEVEL || type == TOK_CONTROL || byte_is_printable(c))) {
            out[o++] = (char)c;   /* ASCII maps to itself unless the byte-level map moved it */
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = tok_utf8_next(text + i, len - i, &cp);
        int b;
        if (s == TOK_SURFACE_BYTELEVEL && type != TOK_CONTROL && (b = tok_unicode_to_byte(cp)) >= 0 && k > 0)
            out[o++] = (char)b;
        else if (s == TOK_SURFACE_METASPACE && cp == 0x2581 && k == 3)
            out[o++] = ' ';
        else {
            memcpy(out + o, text + i, k);
            o += k;
        }
        i += k;
    }
    out[o] = 0;
    return o;
}

/* ---- building ---- */

lineage_tokenizer *tok_new(const char *path, const char *format)
{
    lineage_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    arena_init(&t->arena, 0);
    t->path = strdup(path);
    t->format = format;
    t->unk_id = -1;
    t->add_bos = -1;
    pthread_mutex_init(&t->lock, NULL);
    if (!t->path || !tok_map_init(&t->by_text, 1024)) {
        lineage_tokenizer_close(t);
        return NULL;
    }
    return t;
}

/* Hostile files cannot ask for more ids than this (largest real vocabularies are ~260k). */
#define TOK_MAX_ID (1u << 24)

/* Ids past the tokens a file can hold: added tokens above the vocabulary, padded id ranges. */
#define TOK_ID_SLACK (1u << 16)

void tok_allow_ids(lineage_tokenizer *t, size_t file_bytes)
{
    /* every token costs its file at least one byte */
    size_t room = TOK_MAX_ID - (t->id_limit ? t->id_limit : TOK_ID_SLACK);
    t->id_limit = (t->id_limit ? t->id_limit : TOK_ID_SLACK) + (file_bytes < room ? file_bytes : room);
}

static lineage_status grow(lineage_tokenizer *t, uint32_t id, const char *what, lineage_error *err)
{
    if (t->id_limit && id >= t->id_limit)
        return error_set(err, LINEAGE_E_FORMAT, "%s: token id %u is beyond what a file of this size can hold", what, id);
    if (id >= TOK_MAX_ID) return error_set(err, LINEAGE_E_FORMAT, "%s: token id %u out of range", what, id);
    if (id < t->cap) {
        if (id >= t->n) t->n = id + 1;
        return LINEAGE_OK;
    }
    size_t cap = t->cap ? t->cap : 1024;
    while (cap <= id) cap *= 2;
    tok_entry *p = tok_table_grow(t->tok, t->cap * sizeof *p, cap * sizeof *p);
    if (!p) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    t->tok = p;
    t->cap = cap;
    t->n = id + 1;
    return LINEAGE_OK;
}

lineage_status tok_reserve(lineage_tokenizer *t, size_t n, const char *what, lineage_error *err)
{
    if (n <= t->cap) return LINEAGE_OK;
    if (n > TOK_MAX_ID) return error_set(err, LINEAGE_E_FORMAT, "%s: %zu tokens are too many", what, n);
    tok_entry *p = tok_table_grow(t->tok, t->cap * sizeof *p, n * sizeof *p);
    if (!p) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    t->tok = p;
    t->cap = n;
    return LINEAGE_OK;
}

/* A token's text for an error message: printable ASCII kept, other bytes as \xNN, at most 40 bytes. */
static const char *printable(char out[168], const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') out[o++] = (char)c;
        else o += (size_t)snprintf(out + o, 5, "\\x%02X", c);
    }
    if (len > 40) memcpy(out + o, "...", 3), o += 3;
    out[o] = 0;
    return out;
}

lineage_status tok_set(lineage_tokenizer *t, uint32_t id, const char *text, size_t len, double score, tok_type type,
                       const char *what, lineage_error *err)
{
    char shown[168];
    if (!isfinite(score) || fabs(score) > FLT_MAX)
        return error_set(err, LINEAGE_E_FORMAT, "%s: piece %u '%s' has score %g, not a finite 32-bit float", what, id,
                         printable(shown, text, len), score);
    lineage_status st = grow(t, id, what, err);
    if (st) return st;
    if (len > UINT32_MAX / 2) return error_set(err, LINEAGE_E_FORMAT, "%s: token %u too long", what, id);
    tok_entry *e = &t->tok[id];
    if (e->text) return error_set(err, LINEAGE_E_FORMAT, "%s: duplicate token id %u", what, id);
    const char *s = t->borrow_text ? text : arena_strndup(&t->arena, text, len);
    if (!s) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    uint32_t prev = tok_map_put(&t->by_text, s, len, id);
    if (prev == UINT32_MAX) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    if (prev != id) {
        /* SentencePiece and GGUF vocabularies may repeat an unused piece; a real duplicate is an error */
        if (type != TOK_UNUSED && type != TOK_CONTROL && t->tok[prev].type != TOK_CONTROL)
            return error_set(err, LINEAGE_E_FORMAT, "%s: duplicate token '%s' (ids %u and %u)", what,
                             printable(shown, s, len), prev, id);
    }
    e->text = s;
    e->text_len = (uint32_t)len;
    e->score = (float)score;
    e->type = (uint8_t)type;
    e->special = type == TOK_CONTROL;
    return LINEAGE_OK;
}

lineage_status tok_add_added(lineage_tokenizer *t, uint32_t id, const char *text, size_t len, int special,
                             int lstrip, int rstrip, int normalized, const char *what, lineage_error *err)
{
    if (id < t->n && t->tok[id].text) {
        tok_entry *e = &t->tok[id];
        if (e->text_len != len || memcmp(e->text, text, len)) {
            /* the added content is raw text while the vocab spells it in surface form; content wins */
            char *s = arena_strndup(&t->arena, text, len);
            if (!s) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
            e->text = s;
            e->text_len = (uint32_t)len;
        }
    } else {
        lineage_status st = tok_set(t, id, text, len, 0, special ? TOK_CONTROL : TOK_USER, what, err);
        if (st) return st;
    }
    tok_entry *e = &t->tok[id];
    e->added = 1;
    e->special = (uint8_t)(special != 0);
    if (special) e->type = TOK_CONTROL;
    else if (e->type == TOK_CONTROL || e->type == TOK_NORMAL) e->type = TOK_USER;
    e->lstrip = (uint8_t)lstrip;
    e->rstrip = (uint8_t)rstrip;
    e->normalized = (uint8_t)normalized;
    uint32_t prev = tok_map_put(&t->by_text, e->text, e->text_len, id);
    if (prev == UINT32_MAX) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    return LINEAGE_OK;
}

tok_step *tok_push_step(lineage_tokenizer *t, int pre, tok_step_kind kind)
{
    tok_step **list = pre ? &t->pre : &t->norm;
    size_t *n = pre ? &t->n_pre : &t->n_norm;
    if (*n >= 64) return NULL;   /* bounded: real pipelines have a handful of steps */
    tok_step *p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p) return NULL;
    *list = p;
    tok_step *s = &p[(*n)++];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    return s;
}

lineage_status tok_merges_reserve(lineage_tokenizer *t, size_t n, const char *what, lineage_error *err)
{
    if (n <= t->merges_cap && t->merges) return LINEAGE_OK;
    if (n > SIZE_MAX / 16) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    uint32_t (*m)[2] = tok_table_grow(t->merges, t->merges_cap * sizeof *m, (n + 1) * sizeof *m);
    if (!m) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", what);
    t->merges = m;
    t->merges_cap = n + 1;
    return LINEAGE_OK;
}

lineage_status tok_add_merge(lineage_tokenizer *t, const char *a, size_t alen, const char *b, size_t blen,
                             size_t index, const char *what, lineage_error *err)
{
    tok_merge_text m = {a, b, (uint32_t)alen, (uint32_t)blen};
    if (alen > UINT32_MAX || blen > UINT32_MAX) return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu too long", what, index);
    return tok_add_merges(t, &m, 1, index, what, err);
}

lineage_status tok_add_merges(lineage_tokenizer *t, const tok_merge_text *m, size_t n, size_t first_index,
                              const char *what, lineage_error *err)
{
    const char *keys[2 * TOK_MAP_BATCH];
    uint32_t lens[2 * TOK_MAP_BATCH], ids[2 * TOK_MAP_BATCH];
    for (size_t k = 0; k < n; k += TOK_MAP_BATCH) {
        size_t nb = n - k < TOK_MAP_BATCH ? n - k : TOK_MAP_BATCH;
        for (size_t i = 0; i < nb; i++) {
            keys[2 * i] = m[k + i].a, lens[2 * i] = m[k + i].alen;
            keys[2 * i + 1] = m[k + i].b, lens[2 * i + 1] = m[k + i].blen;
        }
        tok_map_get_many(&t->by_text, 2 * nb, keys, lens, ids);
        for (size_t i = 0; i < nb; i++) {
            uint32_t ia = ids[2 * i], ib = ids[2 * i + 1];
            if (ia == UINT32_MAX || ib == UINT32_MAX) {
                size_t bad = ia == UINT32_MAX ? 2 * i : 2 * i + 1;
                return error_set(err, LINEAGE_E_FORMAT, "%s: merge %zu names an unknown token '%.*s'", what,
                                 first_index + k + i, (int)(lens[bad] > 40 ? 40 : lens[bad]), keys[bad]);
            }
            t->merges[t->n_merges][0] = ia;
            t->merges[t->n_merges][1] = ib;
            t->n_merges++;
        }
    }
    return LINEAGE_OK;
}

lineage_status tok_finish(lineage_tokenizer *t, lineage_error *err)
{
    if (t->n == 0) return error_set(err, LINEAGE_E_FORMAT, "%s: tokenizer has no tokens", t->path);
    tok_map_free(&t->by_bytes);
    if (!tok_map_init(&t->by_bytes, t->n)) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", t->path);
    t->n_ordinary = t->n_special = 0;
    for (int r = 0; r < 6; r++) {   /* tokens named as bos/eos/unk/... are special even in a plain vocab */
        const char *name = t->special_roles[r];
        uint32_t id = name ? tok_map_get(&t->by_text, name, strlen(name)) : UINT32_MAX;
        if (id != UINT32_MAX && !t->tok[id].special) t->tok[id].special = 1, t->tok[id].added = 1;
    }
    /* canonical bytes of all tokens in one block: no per-token allocation */
    size_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->tok[i].text && !t->tok[i].added && t->surface != TOK_SURFACE_RAW) total += t->tok[i].text_len + 3;
    char *buf = total ? arena_alloc(&t->arena, total) : NULL;
    if (total && !buf) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", t->path);
    for (size_t i = 0; i < t->n; i++) {
        tok_entry *e = &t->tok[i];
        if (!e->text) continue;
        if (e->added || t->surface == TOK_SURFACE_RAW) {
            e->bytes = e->text;
            e->len = e->text_len;
        } else {
            e->bytes = buf;
            e->len = (uint32_t)canonical_into(buf, t->surface, e->text, e->text_len, e->type);
            buf += e->len + 1;
        }
        e->canon = UINT32_MAX;
        if (e->special || e->type == TOK_CONTROL || e->type == TOK_UNKNOWN) {
            e->special = 1;
            t->n_special++;
        }
    }
    enum { AHEAD = 16 };   /* slots of later tokens are fetched while this one is inserted */
    for (size_t i = 0; i < t->n; i++) {
        const tok_entry *f = i + AHEAD < t->n ? &t->tok[i + AHEAD] : NULL;
        if (f && f->text && !f->special) tok_map_prefetch(&t->by_bytes, f->bytes, f->len);
        tok_entry *e = &t->tok[i];
        if (!e->text || e->special) continue;
        t->n_ordinary++;
        if ((e->canon = tok_map_put(&t->by_bytes, e->bytes, e->len, (uint32_t)i)) == UINT32_MAX)
            return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", t->path);
    }
    if (t->special_roles[TOK_ROLE_UNK] && t->unk_id < 0) {
        uint32_t u = tok_map_get(&t->by_text, t->special_roles[TOK_ROLE_UNK], strlen(t->special_roles[TOK_ROLE_UNK]));
        if (u != UINT32_MAX) t->unk_id = u;
    }
    return LINEAGE_OK;
}

/* ---- public handle ---- */

void lineage_tokenizer_close(lineage_tokenizer *t)
{
    if (!t) return;
    tok_encoder_free(t->enc);
    tok_map_free(&t->by_text);
    tok_map_free(&t->by_bytes);
    tok_table_free(t->tok, t->cap * sizeof *t->tok);
    tok_table_free(t->merges, t->merges_cap * sizeof *t->merges);
    tok_steps_free(t->norm, t->n_norm);
    tok_steps_free(t->pre, t->n_pre);
    free(t->path);
    if (t->source) file_unmap(t->source);
    free(t->source);
    pthread_mutex_destroy(&t->lock);
    arena_free(&t->arena);
    free(t);
}

size_t lineage_tokenizer_size(const lineage_tokenizer *t) { return t ? t->n : 0; }

const char *lineage_tokenizer_bytes(const lineage_tokenizer *t, uint32_t id, size_t *len)
{
    if (!t || id >= t->n || !t->tok[id].text) {
        *len = 0;
        return NULL;
    }
    *len = t->tok[id].len;
    return t->tok[id].bytes;
}

static int cmp_pair(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    return a[0] < b[0] ? -1 : a[0] > b[0];
}

lineage_status tokenizer_shared_ids(const lineage_tokenizer *a, const lineage_tokenizer *b, uint32_t **ids_a,
                                    uint32_t **ids_b, size_t *n, lineage_error *err)
{
    *ids_a = *ids_b = NULL;
    *n = 0;
    size_t cap = a->n_ordinary < b->n_ordinary ? a->n_ordinary : b->n_ordinary;
    uint32_t *pairs = malloc((cap + 1) * 2 * sizeof *pairs);
    if (!pairs) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < a->by_bytes.count && k < cap; i++) {
        const tok_map_entry *s = &a->by_bytes.entries[i];
        uint32_t j = tok_map_get(&b->by_bytes, s->key, s->len);
        if (j == UINT32_MAX) continue;
        pairs[2 * k] = s->id;
        pairs[2 * k + 1] = j;
        k++;
    }
    qsort(pairs, k, 2 * sizeof *pairs, cmp_pair);
    uint32_t *xa = malloc((k + 1) * sizeof *xa), *xb = malloc((k + 1) * sizeof *xb);
    if (!xa || !xb) {
        free(pairs); free(xa); free(xb);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        xa[i] = pairs[2 * i];
        xb[i] = pairs[2 * i + 1];
    }
    free(pairs);
    *ids_a = xa;
    *ids_b = xb;
    *n = k;
    return LINEAGE_OK;
}
