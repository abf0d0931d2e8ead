/* BPE: symbols in a linked array, candidate merges in a binary heap ordered by (rank, position).
 * Ranks come from the merges list, from token ranks (tiktoken) or from scores (SentencePiece). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/tokenizer_encode.h"
#include "util/error.h"

int tok_ids_push(tok_ids *x, uint32_t id)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        uint32_t *v = realloc(x->v, cap * sizeof *v);
        if (!v) return 0;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = id;
    return 1;
}

int tok_has_byte_pieces(const tok_encoder *e, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (e->byte_ids[(unsigned char)s[i]] == UINT32_MAX) return 0;
    return 1;
}

/* A symbol boundary in a surface form: bytes for raw surfaces, UTF-8 characters otherwise. */
static size_t symbol_len(const lineage_tokenizer *t, const char *s, size_t n)
{
    if (t->surface == TOK_SURFACE_RAW) return 1;
    uint32_t cp;
    return tok_utf8_next(s, n, &cp);
}

typedef struct scored { float score; uint32_t id; } scored;
static int cmp_scored(const void *x, const void *y)
{
    const scored *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Pairs from the vocabulary itself: every split of a token into two tokens is a merge whose rank
 * is the token's rank (tiktoken) or its score order (SentencePiece BPE). */
typedef struct pair_list { uint32_t (*pair)[2], *rank, *result; size_t n, cap; } pair_list;

static int pair_list_push(pair_list *l, uint32_t a, uint32_t b, uint32_t rank, uint32_t result)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint32_t (*p)[2] = realloc(l->pair, cap * sizeof *p);
        if (p) l->pair = p;
        uint32_t *r = p ? realloc(l->rank, cap * sizeof *r) : NULL;
        if (r) l->rank = r;
        uint32_t *x = r ? realloc(l->result, cap * sizeof *x) : NULL;
        if (!x) return 0;
        l->result = x;
        l->cap = cap;
    }
    l->pair[l->n][0] = a;
    l->pair[l->n][1] = b;
    l->rank[l->n] = rank;
    l->result[l->n++] = result;
    return 1;
}

static lineage_status pairs_from_vocab(const lineage_tokenizer *t, tok_encoder *e, lineage_error *err)
{
    uint32_t *rank = NULL;
    if (!t->merges_by_rank) {
        scored *order = malloc(t->n * sizeof *order);
        rank = malloc(t->n * sizeof *rank);
        if (!order || !rank) {
            free(order); free(rank);
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < t->n; i++) order[i].score = t->tok[i].score, order[i].id = (uint32_t)i;
        qsort(order, t->n, sizeof *order, cmp_scored);
        uint32_t r = 0;
        for (size_t i = 0; i < t->n; i++) {   /* equal scores share a rank; position breaks the tie */
            if (i && order[i].score != order[i - 1].score) r++;
            rank[order[i].id] = r;
        }
        free(order);
    }
    pair_list l = {0};
    int ok = 1;
    for (size_t id = 0; ok && id < t->n; id++) {
        const tok_entry *x = &t->tok[id];
        if (!x->text || x->added || (x->type != TOK_NORMAL && x->type != TOK_USER)) continue;
        for (size_t k = symbol_len(t, x->text, x->text_len); ok && k < x->text_len;
             k += symbol_len(t, x->text + k, x->text_len - k)) {
            uint32_t a = tok_map_get(&t->by_text, x->text, k), b = tok_map_get(&t->by_text, x->text + k, x->text_len - k);
            if (a != UINT32_MAX && b != UINT32_MAX) ok = pair_list_push(&l, a, b, rank ? rank[id] : (uint32_t)id, (uint32_t)id);
        }
    }
    ok = ok && tok_pair_index_build(&e->pairs, t->n, (const uint32_t (*)[2])l.pair, l.rank, l.result, l.n);
    free(rank);
    free(l.pair);
    free(l.rank);
    free(l.result);
    return ok ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}

lineage_status tok_bpe_prepare(const lineage_tokenizer *t, tok_encoder *e, lineage_error *err)
{
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        char one = (char)b;
        e->byte_ids[b] = t->surface == TOK_SURFACE_RAW ? tok_map_get(&t->by_text, &one, 1)
                                                       : tok_map_get(&t->by_text, name, 6);
    }
    if (!t->merges) return pairs_from_vocab(t, e, err);
    /* merged ids are looked up when a pair first meets the encoder, not for every merge here */
    if (!tok_pair_index_build(&e->pairs, t->n, (const uint32_t (*)[2])t->merges, NULL, NULL, t->n_merges))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}

typedef struct sym { uint32_t id; int prev, next; } sym;
typedef struct cand { uint32_t rank; int pos; uint32_t left, right, result; } cand;

static int cand_less(const cand *a, const cand *b) { return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos); }

static void heap_push(cand *h, size_t *n, cand c)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, size_t *n)
{
    cand top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const cand *best = &last;
        if (l < *n && cand_less(&h[l], best)) m = l, best = &h[l];
        if (r < *n && cand_less(&h[r], best)) m = r;
        if (m == i) break;
        h[i] = h[m];
        i = m;
    }
    if (*n) h[i] = last;
    return top;
}

static void try_pair(const lineage_tokenizer *t, tok_encoder *e, const sym *s, int pos, cand *h, size_t *nh)
{
    if (pos < 0 || s[pos].next < 0) return;
    tok_pair_entry *p = tok_pair_index_find(&e->pairs, s[pos].id, s[s[pos].next].id);
    if (!p) return;
    if (p->result == TOK_PAIR_RESULT_UNKNOWN) {   /* a merge whose result is not a token never applies */
        const tok_entry *a = &t->tok[s[pos].id], *b = &t->tok[s[s[pos].next].id];
        e->concat.len = 0;
        sb_putn(&e->concat, a->text, a->text_len);
        sb_putn(&e->concat, b->text, b->text_len);
        p->result = e->concat.failed ? UINT32_MAX : tok_map_get(&t->by_text, e->concat.data, e->concat.len);
    }
    if (p->result == UINT32_MAX) return;
    cand c = {p->rank, pos, s[pos].id, s[s[pos].next].id, p->result};
    heap_push(h, nh, c);
}

/* Appends the initial symbols of a surface string; unknown characters become byte pieces or unk. */
static lineage_status initial_symbols(const lineage_tokenizer *t, const tok_encoder *e, const char *s, size_t n,
                                      tok_ids *out, lineage_error *err)
{
    int last_unk = 0;
    for (size_t i = 0; i < n;) {
        size_t k = symbol_len(t, s + i, n - i);
        uint32_t id = tok_map_get(&t->by_text, s + i, k);
        if (id != UINT32_MAX && !t->tok[id].added) {
            if (!tok_ids_push(out, id)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
            last_unk = 0;
        } else if (t->byte_fallback && tok_has_byte_pieces(e, s + i, k)) {
            for (size_t j = 0; j < k; j++)
                if (!tok_ids_push(out, e->byte_ids[(unsigned char)s[i + j]]))
                    return error_set(err, LINEAGE_E_NOMEM, "out of memory");
            last_unk = 0;
        } else if (t->unk_id >= 0) {
            if (!(t->fuse_unk && last_unk) && !tok_ids_push(out, (uint32_t)t->unk_id))
                return error_set(err, LINEAGE_E_NOMEM, "out of memory");
            last_unk = 1;
        } else {
            return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: text has a character the vocabulary cannot encode", t->path);
        }
        i += k;
    }
    return LINEAGE_OK;
}

lineage_status tok_bpe_encode(const lineage_tokenizer *t, tok_encoder *e, const char *s, size_t n, tok_ids *out,
                              lineage_error *err)
{
    strbuf surf;
    sb_init(&surf);
    if (t->surface == TOK_SURFACE_BYTELEVEL) {
        for (size_t i = 0; i < n; i++) {
            char b[4];
            sb_putn(&surf, b, tok_utf8_put(b, tok_byte_to_unicode((uint8_t)s[i])));
        }
        if (surf.failed) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
        s = surf.data ? surf.data : "";
        n = surf.len;
    }
    lineage_status rc = LINEAGE_OK;
    uint32_t whole = t->ignore_merges ? tok_map_get(&t->by_text, s, n) : UINT32_MAX;
    if (whole != UINT32_MAX && !t->tok[whole].added) {
        if (!tok_ids_push(out, whole)) rc = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        sb_free(&surf);
        return rc;
    }
    size_t start = out->n;
    rc = initial_symbols(t, e, s, n, out, err);
    sb_free(&surf);
    size_t ns = out->n - start;
    if (rc || ns < 2) return rc;
    sym *sy = malloc(ns * sizeof *sy);
    cand *h = malloc(ns * 3 * sizeof *h);
    if (!sy || !h) {
        free(sy); free(h);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    size_t nh = 0;
    for (size_t i = 0; i < ns; i++) {
        sy[i].id = out->v[start + i];
        sy[i].prev = (int)i - 1;
        sy[i].next = i + 1 < ns ? (int)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < ns; i++) try_pair(t, e, sy, (int)i, h, &nh);
    while (nh) {
        cand c = heap_pop(h, &nh);
        sym *l = &sy[c.pos];
        if (l->id != c.left || l->next < 0 || sy[l->next].id != c.right) continue;   /* stale */
        int r = l->next;
        l->id = c.result;
        l->next = sy[r].next;
        if (l->next >= 0) sy[l->next].prev = c.pos;
        sy[r].id = UINT32_MAX;
        try_pair(t, e, sy, l->prev, h, &nh);
        try_pair(t, e, sy, c.pos, h, &nh);
    }
    out->n = start;
    for (int i = 0; i >= 0; i = sy[i].next) out->v[out->n++] = sy[i].id;
    free(sy);
    free(h);
    return LINEAGE_OK;
}
