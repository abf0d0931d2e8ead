/* infer_feed: embeddings, then per block norm -> attention (q/k norms, RoPE, cache) -> residual ->
 * norm -> MLP -> residual (Gemma-2/3 add post-norms), then the final norm and the logits. Activation
 * buffers hold the tokens of one feed; the cache holds the context. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/forward.h"
#include "util/error.h"
#include "infer/sprof.h"
#ifdef STAGE_PROF
double sp_acc[16];
#endif

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

/* The feed buffers: x, xn, q, k, v, att, tmp of n tokens, 16-float aligned pieces of one block. */
static size_t feed_offsets(const infer_model *im, size_t n, size_t off[8])
{
    size_t h = im->hidden, qd = im->n_heads * im->head_dim, kd = im->n_kv * im->head_dim;
    size_t widths[7] = {h, h, qd, kd, im->n_kv * im->v_dim, im->n_heads * im->v_dim, h};
    off[0] = 0;
    for (int i = 0; i < 7; i++) off[i + 1] = off[i] + (n * widths[i] + 15) / 16 * 16;
    return off[7] * sizeof(float);
}

lineage_status infer_session_reserve(infer_session *s, size_t n, lineage_error *err)
{
    infer_model *im = s->im;
    if (n > s->max_tokens - s->pos) n = s->max_tokens - s->pos;
    if (n == 0) return LINEAGE_OK;
    lineage_status st = kv_reserve(s, s->pos + n, err);
    if (st) return st;
    size_t off[8], maxk = im->hidden > im->n_heads * im->v_dim ? im->hidden : im->n_heads * im->v_dim, mlp = 0;
    for (int l = 0; l < im->n_layers; l++) {
        const layer_plan *L = &im->layers[l];
        if (!L->moe && L->dense.width > mlp) mlp = L->dense.width;
    }
    if (mlp > maxk) maxk = mlp;
    size_t bytes[4] = {n * maxk, n * (maxk / Q8_BLOCK) * sizeof(float), feed_offsets(im, n, off),
                       2 * ((n * mlp + 15) / 16 * 16) * sizeof(float)};
    int slots[4] = {WORK_X8, WORK_XD, WORK_FEED, WORK_MLP};
    for (int i = 0; i < 4; i++) {
        if (!bytes[i]) continue;
        void *p = im_work(im, slots[i], bytes[i]);
        if (!p) return error_set(err, LINEAGE_E_NOMEM, "out of memory for %zu tokens", n);
        memset(p, 0, bytes[i]);
    }
    return LINEAGE_OK;
}
size_t infer_session_position(const infer_session *s) { return s->pos; }

typedef struct norm_job {
    const infer_model *im;
    const float *x, *w, *b;
    size_t width;
    float *out;
} norm_job;

static void norm_item(void *ctx, size_t t, int worker)
{
    (void)worker;
    const norm_job *j = ctx;
    const infer_model *im = j->im;
    if (im->layernorm) op_layernorm(j->x + t * j->width, j->w, j->b, j->width, im->eps, j->out + t * j->width);
    else op_rmsnorm(j->x + t * j->width, j->w, j->width, im->eps, im->norm_plus_one, j->out + t * j->width);
}

static void norm_rows(const infer_model *im, const float *x, const float *w, const float *b, size_t n, size_t width,
                      float *out)
{
    norm_job j = {im, x, w, b, width, out};
    pool_run(im->pool, n, norm_item, &j);
}

/* q/k norms and RoPE of the feed's heads; keys and values into the cache. One token per work item,
 * its cos/sin computed once for all heads. */
typedef struct qk_job {
    infer_session *s;
    int layer;
    float *q, *k;
    const float *v, *freq;
} qk_job;

#define ROPE_MAX_HALF 1024

static void qk_item(void *ctx, size_t t, int worker)
{
    (void)worker;
    const qk_job *j = ctx;
    infer_session *s = j->s;
    infer_model *im = s->im;
    const layer_plan *L = &im->layers[j->layer];
    const rope_set *r = &im->rope[L->rope_kind];
    size_t hd = im->head_dim, half = im->rot_dim / 2;
    double p = (double)(s->pos + t);
    float c[ROPE_MAX_HALF], sn[ROPE_MAX_HALF];
    int table = half <= ROPE_MAX_HALF;
    if (table) op_rope_table(half, j->freq, p, r->attn_factor, c, sn);
    for (size_t h = 0; h < im->n_heads + im->n_kv; h++) {
        float *head = h < im->n_heads ? j->q + (t * im->n_heads + h) * hd : j->k + (t * im->n_kv + h - im->n_heads) * hd;
        const float *nw = h < im->n_heads ? L->q_norm : L->k_norm;
        if (nw) op_rmsnorm(head, nw, hd, im->eps, im->norm_plus_one, head);
        if (im->mla) {
            if (table) op_rope_interleaved_cs(head + im->qk_nope, half, c, sn);
            else op_rope_interleaved(head + im->qk_nope, im->rot_dim, j->freq, p, r->attn_factor);
        } else if (table) op_rope_cs(head, half, c, sn);
        else op_rope(head, im->rot_dim, j->freq, p, r->attn_factor);
    }
    kv_store(s, j->layer, s->pos + t, j->k + t * im->n_kv * hd, j->v + t * im->n_kv * im->v_dim);
}

static void qk_prepare(infer_session *s, int layer, float *q, float *k, const float *v, size_t n)
{
    infer_model *im = s->im;
    const layer_plan *L = &im->layers[layer];
    const rope_set *r = &im->rope[L->rope_kind];
    float freq_dyn[2048];
    qk_job j = {s, layer, q, k, v, L->inv_freq};
    if (r->dynamic && im->rot_dim / 2 <= sizeof freq_dyn / sizeof freq_dyn[0]) {
        rope_frequencies(r, im->rot_dim, s->pos + n, freq_dyn);
        j.freq = freq_dyn;
    }
    pool_run(im->pool, n, qk_item, &j);
}

typedef struct feed_buf {
    float *x, *xn, *q, *k, *v, *att, *tmp;
} feed_buf;

/* Multi-head latent attention projections: q (optionally through a low-rank a/b pair) and per-head
 * keys [nope | shared rope part] and values expanded from the normed latent. The low-rank norms use
 * DeepSeek's RMSNorm default eps 1e-6. */
static lineage_status mla_project(infer_model *im, const layer_plan *L, const float *xn, size_t n, float *q, float *k,
                                  float *v, lineage_error *err)
{
    size_t h = im->hidden, nh = im->n_heads, hd = im->head_dim, nope = im->qk_nope, vd = im->v_dim;
    size_t lat = im->kv_lora, kva_w = lat + im->rot_dim, kvb_w = nh * (nope + vd);
    float *qa = im->q_lora ? malloc(n * im->q_lora * sizeof *qa) : NULL;
    float *kva = malloc(n * kva_w * sizeof *kva), *c = malloc(n * lat * sizeof *c), *kvb = malloc(n * kvb_w * sizeof *kvb);
    lineage_status st = LINEAGE_OK;
    if ((im->q_lora && !qa) || !kva || !c || !kvb) st = error_set(err, LINEAGE_E_NOMEM, "out of memory in MLA");
    if (!st && im->q_lora) {
        st = mm(im, xn, n, h, &L->q_a, NULL, qa, im->q_lora, err);
        for (size_t t = 0; !st && t < n; t++) op_rmsnorm(qa + t * im->q_lora, L->q_a_norm, im->q_lora, 1e-6, 0, qa + t * im->q_lora);
        if (!st) st = mm(im, qa, n, im->q_lora, &L->q_bp, NULL, q, nh * hd, err);
    } else if (!st) st = mm(im, xn, n, h, &L->q, NULL, q, nh * hd, err);
    if (!st) st = mm(im, xn, n, h, &L->kv_a, NULL, kva, kva_w, err);
    for (size_t t = 0; !st && t < n; t++) op_rmsnorm(kva + t * kva_w, L->kv_a_norm, lat, 1e-6, 0, c + t * lat);
    if (!st) st = mm(im, c, n, lat, &L->kv_b, NULL, kvb, kvb_w, err);
    for (size_t t = 0; !st && t < n; t++)
        for (size_t hh = 0; hh < nh; hh++) {
            const float *src = kvb + t * kvb_w + hh * (nope + vd);
            float *kh = k + (t * nh + hh) * hd;
            memcpy(kh, src, nope * sizeof *kh);
            memcpy(kh + nope, kva + t * kva_w + lat, im->rot_dim * sizeof *kh);
            memcpy(v + (t * nh + hh) * vd, src + nope, vd * sizeof *v);
        }
    free(qa);
    free(kva);
    free(c);
    free(kvb);
    return st;
}

static lineage_status block(infer_session *s, int l, feed_buf *b, size_t n, const infer_taps *taps,
                            lineage_error *err)
{
    infer_model *im = s->im;
    const layer_plan *L = &im->layers[l];
    size_t h = im->hidden, qd = im->n_heads * im->head_dim, kd = im->n_kv * im->head_dim, od = im->n_heads * im->v_dim;
    lineage_status st;
    SP_T0;
    norm_rows(im, b->x, L->attn_norm, L->attn_norm_b, n, h, b->xn);
    SP_ADD(0);
    if (im->mla) {
        if ((st = mla_project(im, L, b->xn, n, b->q, b->k, b->v, err))) return st;
    } else {
        mm_out o[3] = {{&L->q, L->q_b, b->q, qd}, {&L->k, L->k_b, b->k, kd}, {&L->v, L->v_b, b->v, im->n_kv * im->v_dim}};
        if ((st = mm_many(im, b->xn, n, h, o, 3, err))) return st;
    }
    SP_ADD(1);
    qk_prepare(s, l, b->q, b->k, b->v, n);
    SP_ADD(2);
    attention(s, l, b->q, n, b->att);
    SP_ADD(3);
    if ((st = mm(im, b->att, n, od, &L->o, L->o_b, b->tmp, h, err))) return st;
    SP_ADD(4);
    if (L->attn_post_norm) norm_rows(im, b->tmp, L->attn_post_norm, NULL, n, h, b->tmp);
    for (size_t i = 0; i < n * h; i++) b->x[i] += b->tmp[i];
    norm_rows(im, b->x, L->mlp_norm, L->mlp_norm_b, n, h, b->xn);
    SP_ADD(5);
    if ((st = mlp_forward(im, l, b->xn, n, taps, b->tmp, err))) return st;
    SP_ADD(6);
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
    size_t h = im->hidden, off[8];
    float *buf = im_work(im, WORK_FEED, feed_offsets(im, n, off));
    if (!buf) return error_set(err, LINEAGE_E_NOMEM, "out of memory for %zu tokens", n);
    feed_buf b = {buf + off[0], buf + off[1], buf + off[2], buf + off[3], buf + off[4], buf + off[5], buf + off[6]};
    for (size_t t = 0; !st && t < n; t++) {
        st = lineage_tensor_read_rows_f32(im->m, (size_t)im->embed.t, ids[t], 1, b.x + t * h, err);
        if (im->embed_scale != 1.0)
            for (size_t i = 0; i < h; i++) b.x[t * h + i] *= (float)im->embed_scale;
    }
    if (!st && taps && taps->hidden) taps->hidden(taps->user, -1, b.x, n, h);
    SP_T0;
    for (int l = 0; !st && l < im->n_layers; l++) st = block(s, l, &b, n, taps, err);
    SP_ADD(15);
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
    SP_ADD(12);
#ifdef STAGE_PROF
    if (n > 1) {
        const char *nm[16] = {"norm1","qkv_mm","qk_prep","attn","o_mm","res+norm2","mlp","upgate_mm","act","down_mm","quant","kern","lmhead","","","layers"};
        for (int i = 0; i < 16; i++) if (sp_acc[i] > 0) fprintf(stderr, "%-10s %8.2f ms\n", nm[i], sp_acc[i] * 1e3);
    }
#endif
    return st;
}
