/* Width changes: when one axis of a matched tensor differs (pruned FFN neurons, heads, grown width),
 * match the smaller side's rows (or columns) into the larger side by assignment, then re-measure
 * on the matched sub-matrix against what the same search reaches on a scrambled partner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/error.h"

#define WT_WIDTH_MAX_ELEMS (1u << 24)
#define WT_WIDTH_MAX_LISTED 4096

lineage_status wt_stage_width(wt_ctx *c, size_t ia, size_t ib, int layer)
{
    arena *ar = c->ar;
    const lineage_tensor_info *ta = lineage_model_tensor(c->a, ia), *tb = lineage_model_tensor(c->b, ib);
    json_value *list = json_get(c->alignment, "width");
    if (!list) {
        list = json_new_array(ar);
        if (!list || !json_set(ar, c->alignment, "width", list)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    json_value *e = json_new_object(ar);
    int by_cols = ta->rows == tb->rows && ta->cols != tb->cols;
    int by_rows = ta->cols == tb->cols && ta->rows != tb->rows;
    if (!e || !json_set_str(ar, e, "a", ta->name) || !json_set_str(ar, e, "b", tb->name) ||
        !json_set_str(ar, e, "role", tb->role) || !json_set_int(ar, e, "layer", layer) || !json_push(ar, list, e))
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if ((!by_cols && !by_rows) || ta->numel > WT_WIDTH_MAX_ELEMS || tb->numel > WT_WIDTH_MAX_ELEMS)
        return json_set_str(ar, e, "status", by_cols || by_rows ? "too_large" : "shapes_unrelated")
                   ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    wt_matrix A = {0}, B = {0};
    lineage_status st = wt_load_all(c->a, ia, &A, c->err);
    if (!st) st = wt_load_all(c->b, ib, &B, c->err);
    if (!st && by_cols) {
        wt_matrix x, y;
        if (!wt_transpose(&A, &x) || !wt_transpose(&B, &y)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        else {
            wt_matrix_free(&A);
            wt_matrix_free(&B);
            A = x;
            B = y;
        }
    }
    size_t *a_to_b = st ? NULL : malloc(A.rows * sizeof *a_to_b + 1);
    size_t *b_to_a = st ? NULL : malloc(B.rows * sizeof *b_to_a + 1);
    if (!st && (!a_to_b || !b_to_a || !wt_match_rows(&A, &B, 1, 0, a_to_b)))
        st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) {
        for (size_t j = 0; j < B.rows; j++) b_to_a[j] = SIZE_MAX;
        for (size_t i = 0; i < A.rows; i++) if (a_to_b[i] < B.rows) b_to_a[a_to_b[i]] = i;
        pair_moments pm;
        wt_matched_moments(&A, &B, a_to_b, &pm);
        wt_pair_stats s;
        memset(&s, 0, sizeof s);
        wt_stats_from_moments(&pm, &s);
        double r0 = wt_selection_null(&A, &B, 0x77696474ull + (uint64_t)layer);
        double analytic = pm.n > 3 ? 1 / sqrt((double)pm.n) : 1;
        /* order of the kept rows: Spearman of the matched parent indices against position */
        size_t nm = 0;
        int smaller_b = B.rows <= A.rows;
        size_t n_small = smaller_b ? B.rows : A.rows;
        size_t *seq = malloc(n_small * sizeof *seq + 1);
        json_value *kept = json_new_array(ar);
        if (!seq || !kept) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        for (size_t k = 0; !st && k < n_small; k++) {
            size_t v = smaller_b ? b_to_a[k] : a_to_b[k];
            if (v == SIZE_MAX) continue;
            seq[nm++] = v;
            if (nm <= WT_WIDTH_MAX_LISTED && !json_push(ar, kept, json_new_int(ar, (int64_t)v)))
                st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        }
        double rho = nm > 2 ? stats_spearman_identity(seq, nm) : NAN;
        free(seq);
        wt_rec *r = NULL;
        if (!st) st = wt_add_pair(c, ia, ib, "width", &s, analytic, &r);
        if (!st) {
            r->z = (s.centered - r0) / analytic;
            int significant = r->z > 5 && s.centered > r0 + 0.1;
            c->ev.width_pairs++;
            c->ev.width_significant += significant;
            c->ev.width_b_smaller += significant && smaller_b;
            c->ev.width_kept_fraction += (double)n_small / (double)(smaller_b ? A.rows : B.rows);
            c->ev.width_centered += s.centered;
            c->ev.width_order_spearman += isnan(rho) ? 0 : rho;
            if (!json_set_double(ar, r->json, "z", r->z) || !json_set_double(ar, r->json, "selection_null", r0) ||
                !json_set_str(ar, e, "axis", by_rows ? "rows" : "columns") ||
                !json_set_int(ar, e, "a_size", (int64_t)A.rows) || !json_set_int(ar, e, "b_size", (int64_t)B.rows) ||
                !json_set_str(ar, e, "subset_of", smaller_b ? "a" : "b") ||
                !json_set_double(ar, e, "centered_after", s.centered) || !json_set_double(ar, e, "selection_null", r0) ||
                !json_set_double(ar, e, "z", r->z) || !json_set_bool(ar, e, "significant", significant) ||
                !(isnan(rho) ? json_set(ar, e, "order_spearman", json_new_null(ar)) : json_set_double(ar, e, "order_spearman", rho)) ||
                !json_set(ar, e, "kept", kept))
                st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        }
    }
    free(a_to_b);
    free(b_to_a);
    wt_matrix_free(&A);
    wt_matrix_free(&B);
    return st;
}
