/* Shared vocabulary for comparing embedding and lm_head rows: token ids of A and B that decode to the
 * same canonical bytes (the tokenizer module's tokenizer_shared_ids: byte-level BPE, SentencePiece,
 * tiktoken and GGUF vocabularies alike; special tokens excluded). Without a tokenizer on either side,
 * rows are paired by index. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "format/tokenizer.h"
#include "util/error.h"

static int cmp_u32pair(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : (a[0] < b[0] ? -1 : a[0] > b[0]);
}

/* The model's tokenizer, or NULL when it has none (a malformed one is an error: exit 2). */
static lineage_status open_tokenizer(const lineage_model *m, lineage_tokenizer **t, lineage_error *err)
{
    *t = NULL;
    if (m->gguf) return tok_open_gguf(m->gguf, m->path, t, err);
    if (!m->dir) return LINEAGE_OK;
    return tok_open_dir(m->dir, t, err);
}

void wt_vocab_free(wt_vocab *v)
{
    free(v->ida);
    free(v->idb);
    memset(v, 0, sizeof *v);
}

lineage_status wt_vocab_align(const lineage_model *a, const lineage_model *b, size_t rows_a, size_t rows_b,
                              wt_vocab *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    lineage_tokenizer *ta = NULL, *tb = NULL;
    lineage_status st = open_tokenizer(a, &ta, err);
    if (!st) st = open_tokenizer(b, &tb, err);
    uint32_t *sa = NULL, *sb = NULL;
    size_t ns = 0;
    if (!st && ta && tb) st = tokenizer_shared_ids(ta, tb, &sa, &sb, &ns, err);
    int by_tokens = !st && ta && tb;
    if (by_tokens) {
        out->va = lineage_tokenizer_size(ta);
        out->vb = lineage_tokenizer_size(tb);
    }
    lineage_tokenizer_close(ta);
    lineage_tokenizer_close(tb);
    if (st) { free(sa); free(sb); return st; }
    size_t cap = by_tokens ? ns : (rows_a < rows_b ? rows_a : rows_b);
    uint32_t *pairs = malloc((cap + 1) * 2 * sizeof *pairs);
    if (!pairs) { free(sa); free(sb); return error_set(err, LINEAGE_E_NOMEM, "out of memory"); }
    size_t k = 0;
    if (by_tokens) {
        out->source_tokenizer = 1;
        for (size_t i = 0; i < ns; i++)
            if (sa[i] < rows_a && sb[i] < rows_b) {   /* padding rows beyond the matrix are not compared */
                pairs[2 * k] = sa[i];
                pairs[2 * k + 1] = sb[i];
                k++;
            }
    } else {
        out->va = rows_a;
        out->vb = rows_b;
        for (; k < cap; k++) pairs[2 * k] = pairs[2 * k + 1] = (uint32_t)k;
    }
    free(sa);
    free(sb);
    qsort(pairs, k, 2 * sizeof *pairs, cmp_u32pair);
    out->shared = k;
    out->ida = malloc((k + 1) * sizeof *out->ida);
    out->idb = malloc((k + 1) * sizeof *out->idb);
    if (!out->ida || !out->idb) {
        free(pairs);
        wt_vocab_free(out);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < k; i++) {
        out->ida[i] = pairs[2 * i];
        out->idb[i] = pairs[2 * i + 1];
        if (out->ida[i] == out->idb[i]) out->same_id++;
    }
    /* aligned prefix: ids 0..p-1 shared with equal ids (pairs are sorted by B id) */
    size_t p = 0;
    /* (special tokens are outside the shared set: the run starts at the first shared id) */
    while (p < k && out->idb[p] == out->ida[p] && out->idb[p] == out->idb[0] + p) p++;
    out->prefix = p;
    free(pairs);
    return LINEAGE_OK;
}

#define WT_VOCAB_MAX_ROWS 32768u
/* Elements per matrix the vocabulary statistics read (rows over shared tokens). */
#define WT_VOCAB_MAX_ELEMS (1u << 22)

size_t wt_vocab_row_cap(size_t cols)
{
    size_t n = cols ? WT_VOCAB_MAX_ELEMS / cols : WT_VOCAB_MAX_ROWS;
    return n < 1 ? 1 : n > WT_VOCAB_MAX_ROWS ? WT_VOCAB_MAX_ROWS : n;
}

size_t wt_hidden_tokens(size_t cols)
{
    size_t n = wt_vocab_row_cap(cols);
    return n < 2 * cols ? 2 * cols : n;
}

lineage_status wt_vocab_rows(const wt_ctx *c, size_t ia, size_t ib, size_t max_rows, wt_matrix *A, wt_matrix *B)
{
    const wt_vocab *v = &c->vocab;
    size_t n = v->shared < max_rows ? v->shared : max_rows;
    uint64_t *ra = malloc((n + 1) * sizeof *ra), *rb = malloc((n + 1) * sizeof *rb);
    lineage_status st = (!ra || !rb) ? error_set(c->err, LINEAGE_E_NOMEM, "out of memory") : LINEAGE_OK;
    for (size_t i = 0; !st && i < n; i++) {
        size_t k = (size_t)((double)i * (double)v->shared / (double)n);
        ra[i] = v->ida[k];
        rb[i] = v->idb[k];
    }
    if (!st) st = wt_load_rows(c->a, ia, ra, n, A, c->err);
    if (!st) st = wt_load_rows(c->b, ib, rb, n, B, c->err);
    free(ra);
    free(rb);
    return st;
}

static int vocab_is_identity(const wt_vocab *v, const lineage_tensor_info *ta, const lineage_tensor_info *tb)
{
    return ta->rows == tb->rows && v->shared == v->same_id && v->shared >= ta->rows;
}

lineage_status wt_stage_vocab(wt_ctx *c)
{
    static const char *const roles[] = {"embed", "lm_head"};
    long ia[2], ib[2];
    int any = 0;
    for (int k = 0; k < 2; k++) {
        ia[k] = wt_find(c->a, LINEAGE_COMPONENT_TEXT, roles[k], -1, -1);
        ib[k] = wt_find(c->b, LINEAGE_COMPONENT_TEXT, roles[k], -1, -1);
        if (ia[k] >= 0 && ib[k] >= 0 &&
            lineage_model_tensor(c->a, (size_t)ia[k])->cols == lineage_model_tensor(c->b, (size_t)ib[k])->cols)
            any = 1;
        else ia[k] = ib[k] = -1;
    }
    if (!any) return LINEAGE_OK;
    int k0 = ia[0] >= 0 ? 0 : 1;
    const lineage_tensor_info *ta0 = lineage_model_tensor(c->a, (size_t)ia[k0]);
    const lineage_tensor_info *tb0 = lineage_model_tensor(c->b, (size_t)ib[k0]);
    lineage_status st = wt_vocab_align(c->a, c->b, (size_t)ta0->rows, (size_t)tb0->rows, &c->vocab, c->err);
    if (st) return st;
    c->vocab_ready = 1;
    const wt_vocab *v = &c->vocab;
    arena *ar = c->ar;
    json_value *o = json_new_object(ar);
    int ok = o && json_set_str(ar, o, "source", v->source_tokenizer ? "tokenizer.json" : "index") &&
             json_set_int(ar, o, "a_vocab", (int64_t)v->va) && json_set_int(ar, o, "b_vocab", (int64_t)v->vb) &&
             json_set_int(ar, o, "a_rows", (int64_t)ta0->rows) && json_set_int(ar, o, "b_rows", (int64_t)tb0->rows) &&
             json_set_int(ar, o, "shared", (int64_t)v->shared) && json_set_int(ar, o, "same_id", (int64_t)v->same_id) &&
             json_set_int(ar, o, "id_prefix", (int64_t)v->prefix) &&
             json_set_int(ar, o, "b_only", (int64_t)(v->vb > v->shared ? v->vb - v->shared : 0)) &&
             json_set_int(ar, o, "a_only", (int64_t)(v->va > v->shared ? v->va - v->shared : 0));
    c->ev.vocab_done = 1;
    c->ev.vocab_shared = v->shared;
    c->ev.vocab_va = v->va;
    c->ev.vocab_vb = v->vb;
    c->ev.vocab_prefix = v->prefix;
    c->ev.vocab_z = NAN;
    c->ev.vocab_centered = NAN;
    for (int k = 0; ok && !st && k < 2; k++) {
        if (ia[k] < 0) continue;
        const lineage_tensor_info *ta = lineage_model_tensor(c->a, (size_t)ia[k]);
        const lineage_tensor_info *tb = lineage_model_tensor(c->b, (size_t)ib[k]);
        wt_rec *r = NULL;
        if (vocab_is_identity(v, ta, tb)) {
            for (size_t i = 0; i < c->nrecs; i++)
                if (c->recs[i].ia == (size_t)ia[k] && c->recs[i].ib == (size_t)ib[k]) r = &c->recs[i];
        } else if (v->shared >= 2) {
            wt_matrix A = {0}, B = {0};
            st = wt_vocab_rows(c, (size_t)ia[k], (size_t)ib[k], wt_vocab_row_cap((size_t)ta->cols), &A, &B);
            if (!st) {
                pair_moments m;
                pair_moments_init(&m);
                pair_moments_f32(A.data, B.data, A.rows * A.cols, &m);
                wt_pair_stats s;
                memset(&s, 0, sizeof s);
                wt_stats_from_moments(&m, &s);
                s.value_identical = s.value_identical && ta->rows == tb->rows;
                st = wt_add_pair(c, (size_t)ia[k], (size_t)ib[k], "vocab", &s, wt_null_sd(&A, &B), &r);
            }
            wt_matrix_free(&A);
            wt_matrix_free(&B);
        }
        if (!r) continue;
        json_value *e = json_new_object(ar);
        ok = e && json_set_double(ar, e, "centered", r->s.centered) && json_set_double(ar, e, "z", r->z) &&
             json_set_int(ar, e, "n", (int64_t)r->s.n) && json_set(ar, o, roles[k], e);
        if (k == k0 || !isfinite(c->ev.vocab_z)) {
            c->ev.vocab_z = r->z;
            c->ev.vocab_centered = r->s.centered;
        }
    }
    if (st) return st;
    return ok && json_set(ar, c->alignment, "vocab", o) ? LINEAGE_OK
                                                        : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
}
