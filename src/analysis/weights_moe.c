/* Mixture-of-experts: experts of an MoE against the dense FFN of the other model (upcycling), expert
 * to expert by assignment when both are MoE, and within-model expert similarity (experts that
 * started as copies stay far more alike than experts of different layers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/error.h"

/* A compared expert: its records [r0, r1) and its similarity, judged once the pass is done. */
typedef struct moe_done {
    size_t r0, r1;
    double v;
} moe_done;

static const char *const expert_roles[] = {"expert_gate", "expert_up", "expert_down"};
static const char *const dense_roles[] = {"mlp_gate", "mlp_up", "mlp_down"};


/* Mean centered correlation of expert e1 (layer l1) and e2 (layer l2) of one model, over the three
 * roles, on samples; NaN when nothing is comparable. */
static lineage_status expert_similarity(const lineage_model *m1, int l1, int e1, const lineage_model *m2, int l2, int e2,
                                        double *out, lineage_error *err)
{
    double sum = 0;
    int k = 0;
    for (int r = 0; r < 3; r++) {
        long i1 = wt_find(m1, LINEAGE_COMPONENT_TEXT, e1 >= 0 ? expert_roles[r] : dense_roles[r], l1, e1);
        long i2 = wt_find(m2, LINEAGE_COMPONENT_TEXT, e2 >= 0 ? expert_roles[r] : dense_roles[r], l2, e2);
        if (i1 < 0 || i2 < 0) continue;
        const lineage_tensor_info *t1 = lineage_model_tensor(m1, (size_t)i1), *t2 = lineage_model_tensor(m2, (size_t)i2);
        if (t1->rows != t2->rows || t1->cols != t2->cols) continue;
        wt_matrix A = {0}, B = {0};
        lineage_status st = wt_load_sample(m1, (size_t)i1, WT_SAMPLE_ELEMS, &A, err);
        if (!st) st = wt_load_sample(m2, (size_t)i2, WT_SAMPLE_ELEMS, &B, err);
        if (!st) { sum += wt_pearson(A.data, B.data, A.rows * A.cols); k++; }
        wt_matrix_free(&A);
        wt_matrix_free(&B);
        if (st) return st;
    }
    *out = k ? sum / k : NAN;
    return LINEAGE_OK;
}

/* Mean similarity of experts within a layer, and of the same expert index across adjacent layers. */
static lineage_status within_model(const lineage_model *m, int layers, int experts, double *within, double *cross,
                                   lineage_error *err)
{
    double ws = 0, cs = 0;
    int wk = 0, ck = 0;
    int el = experts > 8 ? 8 : experts, ll = layers > 8 ? 8 : layers;
    for (int l = 0; l < ll; l++)
        for (int e1 = 0; e1 < el; e1++) {
            for (int e2 = e1 + 1; e2 < el; e2++) {
                double v;
                lineage_status st = expert_similarity(m, l, e1, m, l, e2, &v, err);
                if (st) return st;
                if (!isnan(v)) { ws += v; wk++; }
            }
            if (l + 1 < ll) {
                double v;
                lineage_status st = expert_similarity(m, l, e1, m, l + 1, (e1 + 1) % el, &v, err);
                if (st) return st;
                if (!isnan(v)) { cs += v; ck++; }
            }
        }
    *within = wk ? ws / wk : NAN;
    *cross = ck ? cs / ck : NAN;
    return LINEAGE_OK;
}

lineage_status wt_stage_moe(wt_ctx *c)
{
    int ea = c->layout.experts_a, eb = c->layout.experts_b;
    if (!ea && !eb) return LINEAGE_OK;
    arena *ar = c->ar;
    int kind = eb && !ea ? 1 : ea && !eb ? 2 : 3;
    c->ev.moe_kind = kind;
    int la = c->layout.layers_a[LINEAGE_COMPONENT_TEXT], lb = c->layout.layers_b[LINEAGE_COMPONENT_TEXT];
    json_value *o = json_new_object(ar), *layers = json_new_array(ar);
    if (!o || !layers || !json_set(ar, c->alignment, "experts", o) ||
        !json_set_str(ar, o, "kind", kind == 1 ? "b_experts_vs_a_dense" : kind == 2 ? "a_experts_vs_b_dense" : "experts_vs_experts") ||
        !json_set_int(ar, o, "a_experts", ea) || !json_set_int(ar, o, "b_experts", eb))
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    size_t cap = (size_t)(lb > 0 ? lb : 1) * (size_t)(ea > eb ? ea : eb) + 1;
    double *cent = malloc(cap * sizeof *cent);
    moe_done *done = malloc(cap * sizeof *done);
    size_t ncent = 0, ndone = 0;
    int compared = 0, significant = 0;
    if (!cent || !done) {
        free(cent);
        free(done);
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    c->defer = 1;
    for (int j = 0; !st && j < lb; j++) {
        int i = c->layer_map && j < c->layer_map_n && c->layer_map[j] >= 0 ? c->layer_map[j] : j;
        if (i >= la) continue;
        json_value *le = json_new_object(ar), *map = json_new_array(ar);
        if (!le || !map || !json_set_int(ar, le, "a", i) || !json_set_int(ar, le, "b", j)) { st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory"); break; }
        int n_side = kind == 2 ? ea : eb, n_other = kind == 3 ? ea : 1;
        size_t *assign = malloc((size_t)n_side * sizeof *assign + 1);
        double *S = malloc((size_t)n_side * (size_t)(n_other > 0 ? n_other : 1) * sizeof *S + 1);
        if (!assign || !S) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        /* similarity of each expert of the MoE side to each candidate on the other side */
        for (int e = 0; !st && e < n_side; e++)
            for (int f = 0; !st && f < n_other; f++) {
                double v;
                if (kind == 1) st = expert_similarity(c->a, i, -1, c->b, j, e, &v, c->err);
                else if (kind == 2) st = expert_similarity(c->a, i, e, c->b, j, -1, &v, c->err);
                else st = expert_similarity(c->a, i, f, c->b, j, e, &v, c->err);
                S[(size_t)e * n_other + f] = isnan(v) ? -1 : v;
            }
        if (!st) {
            if (kind == 3) {
                if (!wt_match(S, (size_t)n_side, (size_t)n_other, assign)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            } else for (int e = 0; e < n_side; e++) assign[e] = 0;
        }
        for (int e = 0; !st && e < n_side; e++) {
            if (assign[e] == SIZE_MAX) continue;
            int e_a = kind == 1 ? -1 : kind == 2 ? e : (int)assign[e], e_b = kind == 2 ? -1 : e;
            size_t r0 = c->nrecs, matched = 0;
            /* under a recovered hidden permutation an expert is matched to the dense FFN neuron by
             * neuron (index-aligned rows would compare unrelated channels) */
            if (c->perm_hidden && kind != 3) {
                c->defer = 0;
                st = wt_flush(c);
                r0 = c->nrecs;
                if (!st) st = wt_match_expert_under_hidden(c, i, j, e_a, e_b, &matched);
                c->defer = 1;
            }
            for (int r = 0; !st && !matched && r < 3; r++) {
                long xa = wt_find(c->a, LINEAGE_COMPONENT_TEXT, e_a >= 0 ? expert_roles[r] : dense_roles[r], i, e_a);
                long xb = wt_find(c->b, LINEAGE_COMPONENT_TEXT, e_b >= 0 ? expert_roles[r] : dense_roles[r], j, e_b);
                if (xa < 0 || xb < 0) continue;
                const lineage_tensor_info *ta = lineage_model_tensor(c->a, (size_t)xa), *tb = lineage_model_tensor(c->b, (size_t)xb);
                if (ta->rows == tb->rows && ta->cols == tb->cols)
                    st = wt_add_pair(c, (size_t)xa, (size_t)xb, "expert", NULL, 0, NULL);
                else st = wt_stage_width(c, (size_t)xa, (size_t)xb, j);
            }
            if (!st && c->nrecs > r0 && ndone < cap)
                done[ndone++] = (moe_done){r0, c->nrecs, S[(size_t)e * n_other + (kind == 3 ? assign[e] : 0)]};
            if (!st && !json_push(ar, map, e_a >= 0 ? json_new_int(ar, e_a) : json_new_string(ar, "dense")))
                st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        }
        free(assign);
        free(S);
        if (!st && (!json_set(ar, le, kind == 2 ? "a_experts_to_b_dense" : "b_experts_from_a", map) || !json_push(ar, layers, le)))
            st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    c->defer = 0;
    if (!st) st = wt_flush(c);
    for (size_t d = 0; !st && d < ndone; d++) {
        int all_sig = 1;
        for (size_t r = done[d].r0; r < done[d].r1; r++) all_sig &= c->recs[r].z > 5;
        compared++;
        significant += all_sig;
        cent[ncent++] = done[d].v;
    }
    free(done);
    double wa = NAN, wb = NAN, ca = NAN, cb = NAN;
    if (!st && ea) st = within_model(c->a, la, ea, &wa, &ca, c->err);
    if (!st && eb) st = within_model(c->b, lb, eb, &wb, &cb, c->err);
    if (!st) {
        qsort(cent, ncent, sizeof *cent, stats_cmp_double);
        double med = ncent ? cent[ncent / 2] : NAN;
        c->ev.moe_experts = compared;
        c->ev.moe_significant = significant;
        c->ev.moe_centered = med;
        c->ev.moe_within_a = wa;
        c->ev.moe_within_b = wb;
        c->ev.moe_cross_layer = eb ? cb : ca;
        json_value *nul = json_new_null(ar);
        if (!json_set(ar, o, "layers", layers) || !json_set_int(ar, o, "experts_compared", compared) ||
            !json_set_int(ar, o, "experts_significant", significant) ||
            !json_set(ar, o, "median_centered", isnan(med) ? nul : json_new_double(ar, med)) ||
            !json_set(ar, o, "within_layer_a", isnan(wa) ? nul : json_new_double(ar, wa)) ||
            !json_set(ar, o, "within_layer_b", isnan(wb) ? nul : json_new_double(ar, wb)) ||
            !json_set(ar, o, "cross_layer_a", isnan(ca) ? nul : json_new_double(ar, ca)) ||
            !json_set(ar, o, "cross_layer_b", isnan(cb) ? nul : json_new_double(ar, cb)))
            st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    free(cent);
    return st;
}
