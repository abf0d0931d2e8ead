/* infer_feed: embeddings, then per block norm -> attention (q/k norms, RoPE, cache) -> residual ->
 * norm -> MLP -> residual (Gemma-2/3 add post-norms), then the final norm and the logits. Activation
 * buffers hold the tokens of one feed; the cache holds the context. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/forward.h"
#include "util/error.h"

lineage_status infer_session_open(infer_model *im, size_t max_tokens, infer_session **out, lineage_error *err)
{
    *out = NULL;
    infer_session *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    s->im = im;
    s->max_tokens = max_tokens ? max_tokens : im->max_context;
    s->k = calloc((size_t)im->n_layers, sizeof *s->k);
    s->v = calloc((size_t)im->n_layers, sizeof *s->v);
    if (!s->k || !s->v) {
        infer_session_close(s);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    *out = s;
    return LINEAGE_OK;
}

void infer_session_close(infer_session *s)
{
    if (!s) return;
    for (int l = 0; l < s->im->n_layers; l++) {
        if (s->k) free(s->k[l]);
        if (s->v) free(s->v[l]);
    }
    free(s->k);
    free(s->v);
    free(s->scores);
    free(s);
}

void infer_session_reset(infer_session *s) { s->pos = 0; }
size_t infer_session_position(const infer_session *s) { return s->pos; }

static void norm_rows(const infer_model *im, const float *x, const float *w, const float *b, size_t n, size_t width,
                      float *out)
{
    for (size_t t = 0; t < n; t++) {
        if (im->layernorm) op_layernorm(x + t * width, w, b, width, im->eps, out + t * width);
        else op_rmsnorm(x + t * width, w, width, im->eps, im->norm_plus_one, out + t * width);
    }
}

/* q/k norms and RoPE of the feed's heads; keys and values into the cache. */
static void qk_prepare(infer_session *s, int layer, float *q, float *k, const float *v, size_t n)
{
    infer_model *im = s->im;
    const layer_plan *L = &im->layers[layer];
    const rope_set *r = &im->rope[L->rope_kind];
    size_t hd = im->head_dim, half = im->rot_dim / 2;
    float freq_dyn[2048];
    const float *freq = L->inv_freq;
    if (r->dynamic && half <= sizeof freq_dyn / sizeof freq_dyn[0]) {
        rope_frequencies(r, im->rot_dim, s->pos + n, freq_dyn);
        freq = freq_dyn;
    }
    for (size_t t = 0; t < n; t++) {
        double p = (double)(s->pos + t);
        for (size_t h = 0; h < im->n_heads; h++) {
            float *head = q + (t * im->n_heads + h) * hd;
            if (L->q_norm) op_rmsnorm(head, L->q_norm, hd, im->eps, im->norm_plus_one, head);
            op_rope(head, im->rot_dim, freq, p, r->attn_factor);
        }
        for (size_t h = 0; h < im->n_kv; h++) {
            float *head = k + (t * im->n_kv + h) * hd;
            if (L->k_norm) op_rmsnorm(head, L->k_norm, hd, im->eps, im->norm_plus_one, head);
            op_rope(head, im->rot_dim, freq, p, r->attn_factor);
        }
        kv_store(s, layer, s->pos + t, k + t * im->n_kv * hd, v + t * im->n_kv * hd);
    }
}

typedef struct feed_buf {
    float *x, *xn, *q, *k, *v, *att, *tmp;
} feed_buf;

static void feed_buf_free(feed_buf *b)
{
    free(b->x); free(b->xn); free(b->q); free(b->k); free(b->v); free(b->att); free(b->tmp);
}

static lineage_status block(infer_session *s, int l, feed_buf *b, size_t n, const infer_taps *taps,
                            lineage_error *err)
{
    infer_model *im = s->im;
    const layer_plan *L = &im->layers[l];
    size_t h = im->hidden, qd = im->n_heads * im->head_dim, kd = im->n_kv * im->head_dim;
    lineage_status st;
    norm_rows(im, b->x, L->attn_norm, L->attn_norm_b, n, h, b->xn);
    if ((st = mm(im, b->xn, n, h, &L->q, L->q_b, b->q, qd, err)) || (st = mm(im, b->xn, n, h, &L->k, L->k_b, b->k, kd, err)) ||
        (st = mm(im, b->xn, n, h, &L->v, L->v_b, b->v, kd, err)))
        return st;
    qk_prepare(s, l, b->q, b->k, b->v, n);
    attention(s, l, b->q, n, b->att);
    if ((st = mm(im, b->att, n, qd, &L->o, L->o_b, b->tmp, h, err))) return st;
    if (L->attn_post_norm) norm_rows(im, b->tmp, L->attn_post_norm, NULL, n, h, b->tmp);
    for (size_t i = 0; i < n * h; i++) b->x[i] += b->tmp[i];
    norm_rows(im, b->x, L->mlp_norm, L->mlp_norm_b, n, h, b->xn);
    if ((st = mlp_forward(im, l, b->xn, n, taps, b->tmp, err))) return st;
    if (L->mlp_post_norm) norm_rows(im, b->tmp, L->mlp_post_norm, NULL, n, h, b->tmp);
    for (size_t i = 0; i < n * h; i++) b->x[i] += b->tmp[i];
    if (taps && taps->hidden) taps->hidden(taps->user, l, b->x, n, h);
    return LINEAGE_OK;
}

lineage_status infer_feed(infer_session *s, const uint32_t *ids, size_t n, const infer_taps *taps, float *logits,
                          int last_only, lineage_error *err)
{
    infer_model *im = s->im;
    if (n == 0) return LINEAGE_OK;
    if (n > s->max_tokens - s->pos)
        return error_set(err, LINEAGE_E_USAGE, "%s: %zu tokens do not fit the context (%zu of %zu used)",
                         lineage_model_path(im->m), n, s->pos, s->max_tokens);
    for (size_t t = 0; t < n; t++)
        if (ids[t] >= im->embed.rows)
            return error_set(err, LINEAGE_E_USAGE, "%s: token id %u is outside the vocabulary (%llu)",
                             lineage_model_path(im->m), ids[t], (unsigned long long)im->embed.rows);
    lineage_status st = kv_reserve(s, s->pos + n, err);
    if (st) return st;
    size_t h = im->hidden, qd = im->n_heads * im->head_dim, kd = im->n_kv * im->head_dim;
    feed_buf b = {malloc(n * h * sizeof(float)), malloc(n * h * sizeof(float)), malloc(n * qd * sizeof(float)),
                  malloc(n * kd * sizeof(float)), malloc(n * kd * sizeof(float)), malloc(n * qd * sizeof(float)),
                  malloc(n * h * sizeof(float))};
    if (!b.x || !b.xn || !b.q || !b.k || !b.v || !b.att || !b.tmp) {
        feed_buf_free(&b);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory for %zu tokens", n);
    }
    for (size_t t = 0; !st && t < n; t++) {
        st = lineage_tensor_read_rows_f32(im->m, (size_t)im->embed.t, ids[t], 1, b.x + t * h, err);
        if (im->embed_scale != 1.0)
            for (size_t i = 0; i < h; i++) b.x[t * h + i] *= (float)im->embed_scale;
    }
    if (!st && taps && taps->hidden) taps->hidden(taps->user, -1, b.x, n, h);
    for (int l = 0; !st && l < im->n_layers; l++) st = block(s, l, &b, n, taps, err);
    if (!st) {
        s->pos += n;
        if (logits) {
            size_t first = last_only ? n - 1 : 0, rows = n - first;
            norm_rows(im, b.x + first * h, im->final_norm, im->final_norm_b, rows, h, b.xn);
            st = mm(im, b.xn, rows, h, &im->lm_head, im->lm_head_b, logits, im->vocab, err);
            if (!st && im->final_softcap > 0)
                for (size_t i = 0; i < rows * im->vocab; i++)
                    logits[i] = (float)(tanh(logits[i] / im->final_softcap) * im->final_softcap);
        }
    } else {
        /* a failed feed leaves the position where it was; the cache rows past it are overwritten later */
    }
    feed_buf_free(&b);
    return st;
}
