/* MLPs of a layer: a dense gated MLP, or routed experts (each run on the tokens routed to it, outputs
 * added in expert order as the HF modelling code adds them) plus shared experts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/forward.h"
#include "kernels/kernels.h"
#include "util/error.h"
#include "infer/sprof.h"

typedef struct act_job {
    act_kind act;
    int avx512;
    float *g, *u;      /* g NULL: ungated */
    size_t n;
} act_job;

#define ACT_ITEM 4096

static void act_item(void *ctx, size_t i, int worker)
{
    (void)worker;
    const act_job *j = ctx;
    size_t lo = i * ACT_ITEM, hi = lo + ACT_ITEM < j->n ? lo + ACT_ITEM : j->n;
    float *u = j->u;
    if (j->avx512 && j->act == ACT_SILU) act_silu_avx512(j->g ? j->g + lo : NULL, u + lo, hi - lo);
    else if (j->g)
        for (size_t k = lo; k < hi; k++) u[k] = op_act(j->act, j->g[k]) * u[k];
    else
        for (size_t k = lo; k < hi; k++) u[k] = op_act(j->act, u[k]);
}

/* out (m x hidden) = down(act(gate x) * up x); the pre-activations go to the tap when `tap`. */
static lineage_status mlp_run(infer_model *im, const mlp_w *w, const float *x, size_t m, float *g, float *u,
                              float *out, int layer, int expert, const infer_taps *tap, lineage_error *err)
{
    lineage_status st;
    SP_T0;
    int gated = w->gate.t >= 0;
    mm_out o[2] = {{&w->up, w->up_b, u, w->width}, {&w->gate, w->gate_b, g, w->width}};
    if ((st = mm_many(im, x, m, im->hidden, o, gated ? 2 : 1, err))) return st;
    if (tap && tap->mlp) tap->mlp(tap->user, layer, expert, gated ? g : NULL, u, m, w->width);
    size_t n = m * w->width;
    SP_ADD(7);
    act_job aj = {im->act, !strcmp(kernels_isa(), "avx512"), gated ? g : NULL, u, n};
    pool_run(im->pool, (n + ACT_ITEM - 1) / ACT_ITEM, act_item, &aj);
    SP_ADD(8);
    st = mm(im, u, m, w->width, &w->down, w->down_b, out, im->hidden, err);
    SP_ADD(9);
    return st;
}

static lineage_status moe_forward(infer_model *im, int layer, const float *x, size_t n, const infer_taps *taps,
                                  float *out, lineage_error *err)
{
    const layer_plan *L = &im->layers[layer];
    size_t h = im->hidden, E = (size_t)L->n_experts, k = (size_t)im->top_k;
    size_t width = L->experts[0].width;
    for (size_t e = 0; e < E; e++)
        if (L->experts[e].width > width) width = L->experts[e].width;
    if (L->shared.width > width) width = L->shared.width;
    float *logits = malloc(n * E * sizeof *logits), *wt = malloc(n * k * sizeof *wt);
    int *idx = malloc(n * k * sizeof *idx);
    size_t *rows = malloc(n * sizeof *rows);
    float *rw = malloc(n * sizeof *rw);
    float *xe = malloc(n * (width > h ? width : h) * sizeof *xe), *ye = malloc(n * h * sizeof *ye);
    float *g = malloc(n * width * sizeof *g), *u = malloc(n * width * sizeof *u);
    lineage_status st = LINEAGE_OK;
    if (!logits || !wt || !idx || !rows || !rw || !xe || !ye || !g || !u) {
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory in the MoE layer %d", layer);
        goto done;
    }
    if ((st = mm(im, x, n, h, &L->router, NULL, logits, E, err))) goto done;
    for (size_t t = 0; t < n; t++) moe_route(im, logits + t * E, L->router_bias, (int)E, idx + t * k, wt + t * k);
    memset(out, 0, n * h * sizeof *out);
    int all = taps && taps->mlp && taps->all_experts;
    for (size_t e = 0; e < E; e++) {
        const mlp_w *w = &L->experts[e];
        size_t m = 0;
        for (size_t t = 0; t < n; t++)
            for (size_t j = 0; j < k; j++)
                if ((size_t)idx[t * k + j] == e) {
                    rows[m] = t;
                    rw[m++] = wt[t * k + j];
                }
        if (all) {   /* every token through this expert for the tap; the routed rows continue */
            if ((st = mm(im, x, n, h, &w->up, NULL, u, w->width, err))) goto done;
            if ((st = mm(im, x, n, h, &w->gate, NULL, g, w->width, err))) goto done;
            taps->mlp(taps->user, layer, (int)e, g, u, n, w->width);
            if (!m) continue;
            for (size_t r = 0; r < m; r++) {
                float *dst = xe + r * w->width;
                const float *gr = g + rows[r] * w->width, *ur = u + rows[r] * w->width;
                for (size_t i = 0; i < w->width; i++) dst[i] = op_act(im->act, gr[i]) * ur[i];
            }
            if ((st = mm(im, xe, m, w->width, &w->down, NULL, ye, h, err))) goto done;
        } else {
            if (!m) continue;
            for (size_t r = 0; r < m; r++) memcpy(xe + r * h, x + rows[r] * h, h * sizeof *xe);
            if ((st = mlp_run(im, w, xe, m, g, u, ye, layer, (int)e, NULL, err))) goto done;
        }
        for (size_t r = 0; r < m; r++) {
            float *o = out + rows[r] * h;
            const float *y = ye + r * h;
            for (size_t i = 0; i < h; i++) o[i] += y[i] * rw[r];
        }
    }
    if (L->shared.width) {
        if ((st = mlp_run(im, &L->shared, x, n, g, u, ye, layer, -2, taps, err))) goto done;
        if (L->shared_gate.t >= 0) {
            if ((st = mm(im, x, n, h, &L->shared_gate, NULL, rw, 1, err))) goto done;
            for (size_t t = 0; t < n; t++) {
                float s = (float)(1.0 / (1.0 + exp(-(double)rw[t])));
                for (size_t i = 0; i < h; i++) ye[t * h + i] *= s;
            }
        }
        for (size_t i = 0; i < n * h; i++) out[i] += ye[i];
    }
done:
    free(logits);
    free(wt);
    free(idx);
    free(rows);
    free(rw);
    free(xe);
    free(ye);
    free(g);
    free(u);
    return st;
}

lineage_status mlp_forward(infer_model *im, int layer, const float *x, size_t n, const infer_taps *taps, float *out,
                           lineage_error *err)
{
    const layer_plan *L = &im->layers[layer];
    if (L->moe) return moe_forward(im, layer, x, n, taps, out, err);
    const mlp_w *w = &L->dense;
    size_t width = (n * w->width + 15) / 16 * 16;
    float *g = im_work(im, WORK_MLP, 2 * width * sizeof *g);
    if (!g) return error_set(err, LINEAGE_E_NOMEM, "out of memory in layer %d", layer);
    return mlp_run(im, w, x, n, g, g + width, out, layer, -1, taps, err);
}
