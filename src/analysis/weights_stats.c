/* Per-pair statistics of the weights comparison: every queued pair through the streaming engine in
 * one pass (moments, digests; --sample: seeded blocks of rows with a jackknife CI), p-value helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/error.h"

double wt_pearson(const float *a, const float *b, size_t n)
{
    pair_moments m;
    pair_moments_init(&m);
    pair_moments_f32(a, b, n, &m);
    return moments_pearson(&m);
}

void wt_stats_from_moments(const pair_moments *m, wt_pair_stats *s)
{
    s->m = *m;
    s->n = m->n;
    s->cosine = moments_cosine(m);
    s->centered = moments_pearson(m);
    s->rel_l2 = moments_rel_l2(m);
    s->max_abs_diff = m->max_abs_diff;
    s->equal_fraction = m->n ? (double)m->n_equal / (double)m->n : 0;
    s->value_identical = m->n > 0 && m->n_equal == m->n;
    s->scale_ratio = m->sum_aa > 0 ? sqrt(m->sum_bb / m->sum_aa) : 0;
    double n = (double)m->n;
    double va = n > 1 ? m->sum_aa - m->sum_a * m->sum_a / n : 0;
    double vb = n > 1 ? m->sum_bb - m->sum_b * m->sum_b / n : 0;
    double cov = n > 1 ? m->sum_ab - m->sum_a * m->sum_b / n : 0;
    s->slope = va > 0 ? cov / va : 0;
    s->var_ratio = va > 0 ? vb / va : 0;
}

/* Queued pairs in file order of A (then B), so the pass sweeps both checkpoints front to back. */
typedef struct queued {
    size_t rec;
    uint64_t key_a, key_b;
} queued;

static int by_file_order(const void *x, const void *y)
{
    const queued *p = x, *q = y;
    if (p->key_a != q->key_a) return p->key_a < q->key_a ? -1 : 1;
    if (p->key_b != q->key_b) return p->key_b < q->key_b ? -1 : 1;
    return p->rec < q->rec ? -1 : p->rec > q->rec;
}

static uint64_t file_key(const lineage_model *m, size_t idx)
{
    const model_tensor *t = &m->tensors[idx];
    return ((uint64_t)t->file << 48) ^ t->offset;
}

lineage_status wt_flush(wt_ctx *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nrecs; i++) n += c->recs[i].pending;
    if (!n) return LINEAGE_OK;
    queued *q = malloc(n * sizeof *q);
    stream_pair *pairs = malloc(n * sizeof *pairs);
    stream_result *res = calloc(n, sizeof *res);
    lineage_status st = (!q || !pairs || !res) ? error_set(c->err, LINEAGE_E_NOMEM, "out of memory") : LINEAGE_OK;
    size_t k = 0;
    for (size_t i = 0; !st && i < c->nrecs; i++)
        if (c->recs[i].pending)
            q[k++] = (queued){i, file_key(c->a, c->recs[i].ia), file_key(c->b, c->recs[i].ib)};
    if (!st) {
        qsort(q, n, sizeof *q, by_file_order);
        for (size_t i = 0; i < n; i++) pairs[i] = (stream_pair){c->recs[q[i].rec].ia, c->recs[q[i].rec].ib};
        int sampled = c->opt->sample < 1;
        stream_options so = {c->opt->threads, sampled ? c->opt->sample : 1, WT_SAMPLE_SEED, !sampled,
                             c->opt->progress, c->opt->progress_user};
        st = stream_pairs(c->a, c->b, pairs, n, &so, res, c->err);
    }
    for (size_t i = 0; !st && i < n; i++) {
        wt_rec *r = &c->recs[q[i].rec];
        const stream_result *x = &res[i];
        wt_stats_from_moments(&x->m, &r->s);
        if (x->hashed) {
            memcpy(c->dig_a[r->ia].xxh, x->digest_a, 16);
            memcpy(c->dig_b[r->ib].xxh, x->digest_b, 16);
            c->dig_a[r->ia].have = c->dig_b[r->ib].have = 1;
        }
        if (x->blocks) {
            stream_ci ci = stream_jackknife_ci(x->blocks, x->nblocks, x->blocks_total, moments_pearson);
            r->s.sampled = 1;
            r->s.ci_lo = ci.lo;
            r->s.ci_hi = ci.hi;
        }
        st = wt_finish_pair(c, r);
    }
    if (res) stream_results_free(res, n);
    free(res);
    free(pairs);
    free(q);
    return st;
}
