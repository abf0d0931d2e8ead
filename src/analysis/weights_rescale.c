/* Statistics invariant to function-preserving rescaling: fold each RMSNorm gain into the matrices
 * it feeds (W diag(gamma)) and compare row directions (invariant to per-row scaling), so a norm
 * gain moved into the next matrix cannot hide a derivation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/error.h"

/* The norm whose output a role reads, or NULL. */
const char *wt_norm_read_by(const char *role, int *global)
{
    *global = 0;
    static const char *const attn[] = {"attn_q", "attn_k", "attn_v", "attn_qkv", "attn_q_a", "attn_kv_a", NULL};
    static const char *const mlp[] = {"mlp_gate", "mlp_up", "mlp_gate_up", "expert_gate", "expert_up",
                                      "expert_gate_up", "router", "shared_expert_gate", "shared_expert_up", NULL};
    for (int i = 0; attn[i]; i++) if (!strcmp(role, attn[i])) return "attn_norm";
    for (int i = 0; mlp[i]; i++) if (!strcmp(role, mlp[i])) return "mlp_norm";
    if (!strcmp(role, "lm_head")) { *global = 1; return "final_norm"; }
    return NULL;
}

static void fold(wt_matrix *W, const wt_matrix *g)
{
    for (size_t r = 0; r < W->rows; r++)
        for (size_t k = 0; k < W->cols; k++) W->data[r * W->cols + k] *= g->data[k];
}

static double mean_row_cosine(const wt_matrix *A, const wt_matrix *B)
{
    double s = 0;
    size_t k = 0;
    for (size_t r = 0; r < A->rows; r++) {
        pair_moments m;
        pair_moments_init(&m);
        pair_moments_f32(A->data + r * A->cols, B->data + r * B->cols, A->cols, &m);
        if (m.sum_aa > 0 && m.sum_bb > 0) { s += moments_cosine(&m); k++; }
    }
    return k ? s / (double)k : NAN;
}

lineage_status wt_stage_rescale(wt_ctx *c)
{
    lineage_status st = LINEAGE_OK;
    for (size_t i = 0; !st && i < c->nrecs; i++) {
        wt_rec *r = &c->recs[i];
        int global;
        const char *norm = wt_norm_read_by(r->role, &global);
        if (!norm || strcmp(r->align, "none")) continue;
        const lineage_tensor_info *ta = lineage_model_tensor(c->a, r->ia);
        long ga = wt_find(c->a, ta->component, norm, global ? -1 : r->layer_a, -1);
        long gb = wt_find(c->b, lineage_model_tensor(c->b, r->ib)->component, norm, global ? -1 : r->layer_b, -1);
        if (ga < 0 || gb < 0 || lineage_model_tensor(c->a, (size_t)ga)->numel != ta->cols ||
            lineage_model_tensor(c->b, (size_t)gb)->numel != ta->cols)
            continue;
        wt_matrix A = {0}, B = {0}, GA = {0}, GB = {0};
        st = wt_load_sample(c->a, r->ia, WT_SAMPLE_ELEMS, &A, c->err);
        if (!st) st = wt_load_sample(c->b, r->ib, WT_SAMPLE_ELEMS, &B, c->err);
        if (!st) st = wt_load_all(c->a, (size_t)ga, &GA, c->err);
        if (!st) st = wt_load_all(c->b, (size_t)gb, &GB, c->err);
        if (!st && A.rows == B.rows) {
            fold(&A, &GA);
            fold(&B, &GB);
            pair_moments m;
            pair_moments_init(&m);
            pair_moments_f32(A.data, B.data, A.rows * A.cols, &m);
            r->has_fold = 1;
            r->folded_centered = moments_pearson(&m);
            r->folded_rel_l2 = moments_rel_l2(&m);
            r->row_cosine = mean_row_cosine(&A, &B);
            wt_pair_stats fs;
            memset(&fs, 0, sizeof fs);
            wt_stats_from_moments(&m, &fs);
            r->folded_slope = fs.slope;
            r->folded_var_ratio = fs.var_ratio;
            if (!json_set_double(c->ar, r->json, "folded_centered", r->folded_centered) ||
                !json_set_double(c->ar, r->json, "folded_rel_l2", r->folded_rel_l2) ||
                !(isnan(r->row_cosine) ? 1 : json_set_double(c->ar, r->json, "row_cosine", r->row_cosine)))
                st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        }
        wt_matrix_free(&A);
        wt_matrix_free(&B);
        wt_matrix_free(&GA);
        wt_matrix_free(&GB);
    }
    return st;
}
