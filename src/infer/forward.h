/* The decoding state and the pieces of one forward pass (attention over the cache, MLPs, MoE). */
#ifndef LINEAGE_INFER_FORWARD_H
#define LINEAGE_INFER_FORWARD_H
#include "infer/engine.h"

struct infer_session {
    infer_model *im;
    size_t max_tokens, pos;
    size_t cap;              /* positions the cache holds (a multiple of 16) */
    float **k, **v;          /* per layer, packed (see attention.c) */
    float *scores;           /* per worker: 32 queries x cap */
};

/* Grows the cache to hold `need` positions. */
lineage_status kv_reserve(infer_session *s, size_t need, lineage_error *err);
/* Writes one position's keys and values (n_kv x head_dim each) into layer's cache. */
void kv_store(infer_session *s, int layer, size_t p, const float *k, const float *v);
/* out (n x heads*head_dim) = attention of the n rotated queries at positions s->pos.. over the cache. */
void attention(infer_session *s, int layer, const float *q, size_t n, float *out);
/* out (n x hidden) = the layer's MLP (dense or MoE) of x (n x hidden, normed). */
lineage_status mlp_forward(infer_model *im, int layer, const float *x, size_t n, const infer_taps *taps, float *out,
                           lineage_error *err);
#endif
