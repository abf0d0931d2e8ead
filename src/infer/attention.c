/* Causal self-attention over the KV cache. The cache keeps keys and values in the packed panel layout
 * of the matmul kernel (keys: 16 positions x head_dim per panel; values: 16 dims x positions per
 * panel), so Q K^T and P V run through the same kernel as the projections. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/forward.h"
#include "kernels/kernels.h"
#include "util/error.h"

#define QBLOCK 32   /* queries per work item */

static size_t hd_pad(const infer_model *im) { return (im->v_dim + MM_PANEL - 1) / MM_PANEL * MM_PANEL; }

static size_t k_index(const infer_model *im, size_t cap, size_t g, size_t p, size_t d)
{
    return g * cap * im->head_dim + p / MM_PANEL * im->head_dim * MM_PANEL + d * MM_PANEL + p % MM_PANEL;
}

static size_t v_index(const infer_model *im, size_t cap, size_t g, size_t p, size_t d)
{
    return g * hd_pad(im) * cap + d / MM_PANEL * cap * MM_PANEL + p * MM_PANEL + d % MM_PANEL;
}

lineage_status kv_reserve(infer_session *s, size_t need, lineage_error *err)
{
    infer_model *im = s->im;
    if (need <= s->cap) return LINEAGE_OK;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < need) cap *= 2;
    if (cap > s->max_tokens) cap = s->max_tokens;
    cap = (cap + MM_PANEL - 1) / MM_PANEL * MM_PANEL;
    size_t kn = im->n_kv * cap * im->head_dim, vn = im->n_kv * hd_pad(im) * cap;
    int threads = pool_threads(im->pool);
    float *scores = malloc((size_t)threads * QBLOCK * cap * sizeof *scores);
    if (!scores) return error_set(err, LINEAGE_E_NOMEM, "out of memory for a context of %zu tokens", cap);
    for (int l = 0; l < im->n_layers; l++) {
        float *k = work_alloc(kn * sizeof *k), *v = work_alloc(vn * sizeof *v);
        if (!k || !v) {
            free(k);
            free(v);
            free(scores);
            return error_set(err, LINEAGE_E_NOMEM, "out of memory for a context of %zu tokens", cap);
        }
        memset(k, 0, kn * sizeof *k);   /* padding positions and dims are read as zeros */
        memset(v, 0, vn * sizeof *v);
        for (size_t g = 0; g < im->n_kv; g++)
            for (size_t p = 0; p < s->pos; p++) {
                for (size_t d = 0; d < im->head_dim; d++) k[k_index(im, cap, g, p, d)] = s->k[l][k_index(im, s->cap, g, p, d)];
                for (size_t d = 0; d < im->v_dim; d++) v[v_index(im, cap, g, p, d)] = s->v[l][v_index(im, s->cap, g, p, d)];
            }
        free(s->k[l]);
        free(s->v[l]);
        s->k[l] = k;
        s->v[l] = v;
    }
    free(s->scores);
    s->scores = scores;
    s->cap = cap;
    return LINEAGE_OK;
}

void kv_store(infer_session *s, int layer, size_t p, const float *k, const float *v)
{
    infer_model *im = s->im;
    for (size_t g = 0; g < im->n_kv; g++) {
        for (size_t d = 0; d < im->head_dim; d++) s->k[layer][k_index(im, s->cap, g, p, d)] = k[g * im->head_dim + d];
        for (size_t d = 0; d < im->v_dim; d++) s->v[layer][v_index(im, s->cap, g, p, d)] = v[g * im->v_dim + d];
    }
}

typedef struct attn_job {
    infer_session *s;
    int layer;
    const float *q;      /* n x heads*head_dim, rotated */
    float *out;          /* n x heads*v_dim */
    size_t n, blocks;
    int avx512;
} attn_job;

static void attn_item(void *ctx, size_t item, int worker)
{
    attn_job *j = ctx;
    infer_session *s = j->s;
    infer_model *im = s->im;
    const layer_plan *L = &im->layers[j->layer];
    size_t h = item / j->blocks, b = item % j->blocks, hd = im->head_dim, ld = im->n_heads * hd;
    size_t vd = im->v_dim, ldo = im->n_heads * vd;
    size_t g = h / (im->n_heads / im->n_kv);
    size_t t0 = b * QBLOCK, t1 = t0 + QBLOCK < j->n ? t0 + QBLOCK : j->n, nt = t1 - t0;
    size_t pos = s->pos, kend = pos + t1;
    size_t window = L->sliding && im->window > 0 ? (size_t)im->window : 0;
    size_t kstart = window && pos + t0 + 1 > window ? pos + t0 + 1 - window : 0;
    kstart = kstart / MM_PANEL * MM_PANEL;
    size_t nk = kend - kstart;
    float *S = s->scores + (size_t)worker * QBLOCK * s->cap;
    mm_kernel_fn kern = mm_kernel();
    const float *kp = s->k[j->layer] + g * s->cap * hd + kstart * hd;   /* kstart is a panel boundary */
    kern(j->q + t0 * ld + h * hd, nt, ld, kp, (nk + MM_PANEL - 1) / MM_PANEL, hd, S, nk, nk);
    float scale = (float)im->attn_scale;
    for (size_t t = 0; t < nt; t++) {
        float *row = S + t * nk;
        size_t p = pos + t0 + t, lo = window && p + 1 > window ? p + 1 - window : 0;
        /* keys kstart + k for k in [ka, kb) are visible: lo <= key <= p */
        size_t ka = lo > kstart ? lo - kstart : 0, kb = p + 1 - kstart < nk ? p + 1 - kstart : nk;
        if (ka > kb) ka = kb;
        for (size_t k = 0; k < ka; k++) row[k] = -INFINITY;
        for (size_t k = ka; k < kb; k++) row[k] *= scale;
        if (im->attn_softcap > 0)
            for (size_t k = ka; k < kb; k++) row[k] = (float)(tanh(row[k] / im->attn_softcap) * im->attn_softcap);
        for (size_t k = kb; k < nk; k++) row[k] = -INFINITY;
        if (j->avx512) softmax_avx512(row, nk);
        else op_softmax(row, nk);
    }
    const float *vbase = s->v[j->layer] + g * hd_pad(im) * s->cap + kstart * MM_PANEL;
    for (size_t d = 0; d < vd; d += MM_PANEL)
        kern(S, nt, nk, vbase + d / MM_PANEL * s->cap * MM_PANEL, 1, nk, j->out + t0 * ldo + h * vd + d, ldo,
             vd - d < MM_PANEL ? vd - d : MM_PANEL);
}

void attention(infer_session *s, int layer, const float *q, size_t n, float *out)
{
    attn_job j = {s, layer, q, out, n, (n + QBLOCK - 1) / QBLOCK, !strcmp(kernels_isa(), "avx512")};
    pool_run(s->im->pool, s->im->n_heads * j.blocks, attn_item, &j);
}
