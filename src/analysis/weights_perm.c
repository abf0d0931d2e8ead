/* Permutation recovery: when same-shape matrices look unrelated index by index, align the hidden
 * dimension on embedding columns over shared tokens, then match FFN neurons (gate rows, up rows,
 * down columns) and attention rows per layer by assignment. Evidence: the gate/up/down matchings
 * agree far beyond chance (Poisson(1) null), Zhu et al.'s Spearman of the matching against the
 * identity, and the re-measured correlation against the same search on a scrambled partner. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/error.h"

static size_t fixed_points(const size_t *m, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += m[i] == i;
    return k;
}

static int config_int(const lineage_model *m, const char *key, int64_t *v)
{
    if (!m->config) return 0;
    const json_value *t = json_get(m->config, "text_config");
    return (t && json_get_int(t, key, v)) || json_get_int(m->config, key, v);
}

/* Makes a partial matching of n channels into n a permutation: channels left unmatched take the
 * unused targets in order (a wide matching by mutual best leaves some). */
static int complete_matching(size_t *m, size_t n)
{
    unsigned char *used = calloc(n + 1, 1);
    if (!used) return 0;
    for (size_t i = 0; i < n; i++) if (m[i] < n) used[m[i]] = 1;
    size_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i] < n) continue;
        while (next < n && used[next]) next++;
        m[i] = next < n ? next : i;
        if (next < n) used[next] = 1;
    }
    free(used);
    return 1;
}

/* Emits the re-measured pair with z against the selection null. */
static lineage_status emit_matched(wt_ctx *c, size_t ia, size_t ib, const wt_matrix *A, const wt_matrix *B,
                                   const size_t *a_to_b, double r0, wt_rec **out)
{
    pair_moments pm;
    wt_matched_moments(A, B, a_to_b, &pm);
    wt_pair_stats s;
    memset(&s, 0, sizeof s);
    wt_stats_from_moments(&pm, &s);
    double analytic = pm.n > 3 ? 1 / sqrt((double)pm.n) : 1;
    wt_rec *r = NULL;
    lineage_status st = wt_add_pair(c, ia, ib, "permutation", &s, analytic, &r);
    if (st) return st;
    r->z = (s.centered - r0) / analytic;
    if (!json_set_double(c->ar, r->json, "z", r->z)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if (!json_set_double(c->ar, r->json, "selection_null", r0)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if (out) *out = r;
    return LINEAGE_OK;
}

typedef struct perm_layer {
    json_value *json;
    double p_agree, p_spearman, centered_sum;
    int n_centered, ffn_done, ffn_identity, heads_permuted, heads_done;
    double agreement;
} perm_layer;

static lineage_status load_aligned(wt_ctx *c, long ia, long ib, int transpose_b_rows_hidden, wt_matrix *A,
                                   wt_matrix *B)
{
    lineage_status st = wt_load_all(c->a, (size_t)ia, A, c->err);
    if (!st) st = wt_load_all(c->b, (size_t)ib, B, c->err);
    if (st) return st;
    if (c->perm_hidden) {
        int ok = transpose_b_rows_hidden ? (B->rows == c->hidden && wt_reorder_rows(B, c->perm_hidden))
                                         : (B->cols == c->hidden && wt_reorder_cols(B, c->perm_hidden));
        if (!ok) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    return LINEAGE_OK;
}

static int copy_matrix(const wt_matrix *x, wt_matrix *out)
{
    *out = *x;
    out->data = malloc(x->rows * x->cols * sizeof(float) + 1);
    if (!out->data) return 0;
    memcpy(out->data, x->data, x->rows * x->cols * sizeof(float));
    return 1;
}

/* Norm-folded statistics of a matched pair that reads the residual stream (columns hidden, B's already
 * in A's channel order): each side's gains folded into its columns, then compared under the row
 * matching, so a rescaling composed with a permutation is measured as alone (weights_rescale.c). */
static lineage_status fold_matched(wt_ctx *c, wt_rec *r, int la_, int lb_, const wt_matrix *A, const wt_matrix *B,
                                   const size_t *a_to_b)
{
    int global;
    const char *norm = wt_norm_read_by(r->role, &global);
    if (!norm || global || !c->perm_hidden) return LINEAGE_OK;
    long ga = wt_find(c->a, LINEAGE_COMPONENT_TEXT, norm, la_, -1), gb = wt_find(c->b, LINEAGE_COMPONENT_TEXT, norm, lb_, -1);
    if (ga < 0 || gb < 0 || lineage_model_tensor(c->a, (size_t)ga)->numel != A->cols ||
        lineage_model_tensor(c->b, (size_t)gb)->numel != B->cols || A->cols != c->hidden)
        return LINEAGE_OK;
    wt_matrix GA = {0}, GB = {0}, FA = {0}, FB = {0};
    lineage_status st = load_aligned(c, ga, gb, 0, &GA, &GB);
    if (!st && (!copy_matrix(A, &FA) || !copy_matrix(B, &FB))) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) {
        for (size_t i = 0; i < FA.rows; i++) for (size_t k = 0; k < FA.cols; k++) FA.data[i * FA.cols + k] *= GA.data[k];
        for (size_t i = 0; i < FB.rows; i++) for (size_t k = 0; k < FB.cols; k++) FB.data[i * FB.cols + k] *= GB.data[k];
        pair_moments pm;
        wt_matched_moments(&FA, &FB, a_to_b, &pm);
        wt_pair_stats fs;
        memset(&fs, 0, sizeof fs);
        wt_stats_from_moments(&pm, &fs);
        r->has_fold = 1;
        r->folded_centered = fs.centered;
        r->folded_rel_l2 = fs.rel_l2;
        r->folded_slope = fs.slope;
        r->folded_var_ratio = fs.var_ratio;
        if (!json_set_double(c->ar, r->json, "folded_centered", fs.centered) ||
            !json_set_double(c->ar, r->json, "folded_rel_l2", fs.rel_l2))
            st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    wt_matrix_free(&GA); wt_matrix_free(&GB); wt_matrix_free(&FA); wt_matrix_free(&FB);
    return st;
}

/* One group of tensors that share an index to be matched: rows of `row_roles`, columns of
 * `col_roles` (matrices whose other axis is the hidden dimension). Matches each alone and jointly. */
static lineage_status match_group(wt_ctx *c, int la_, int lb_, const char *const *roles, const int *is_col, int nroles,
                                  const char *const *roles_b, int ea_, int eb_,
                                  size_t **joint_out, size_t *n_out, double *agree_out, size_t *agree_k,
                                  double *centered_sum, int *n_centered)
{
    /* the roles present in both with matching shapes, packed: A[h], B[h] for h < have */
    wt_matrix A[4], B[4];
    long ia[4], ib[4];
    size_t *single[4] = {0};
    memset(A, 0, sizeof A);
    memset(B, 0, sizeof B);
    lineage_status st = LINEAGE_OK;
    int have = 0;
    size_t n = 0, m = 0;
    *joint_out = NULL;
    for (int k = 0; k < nroles && !st; k++) {
        long xa = wt_find(c->a, LINEAGE_COMPONENT_TEXT, roles[k], la_, ea_);
        long xb = wt_find(c->b, LINEAGE_COMPONENT_TEXT, roles_b ? roles_b[k] : roles[k], lb_, eb_);
        if (xa < 0 || xb < 0) continue;
        const lineage_tensor_info *ta = lineage_model_tensor(c->a, (size_t)xa);
        const lineage_tensor_info *tb = lineage_model_tensor(c->b, (size_t)xb);
        if (ta->rows != tb->rows || ta->cols != tb->cols || ta->numel > (1u << 24)) continue;
        wt_matrix *x = &A[have], *y = &B[have];
        st = load_aligned(c, xa, xb, is_col[k], x, y);
        if (st) break;
        if (is_col[k]) {
            wt_matrix ta2, tb2;
            if (!wt_transpose(x, &ta2) || !wt_transpose(y, &tb2)) { st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory"); break; }
            wt_matrix_free(x);
            wt_matrix_free(y);
            *x = ta2;
            *y = tb2;
        }
        if (have && (x->rows != n || y->rows != m)) { wt_matrix_free(x); wt_matrix_free(y); continue; }
        n = x->rows;
        m = y->rows;
        ia[have] = xa;
        ib[have] = xb;
        single[have] = malloc(n * sizeof(size_t) + 1);
        if (!single[have] || !wt_match_rows(x, y, 1, 0, single[have])) { have++; st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory"); break; }
        have++;
    }
    size_t *joint = NULL;
    if (!st && have) {
        joint = malloc(n * sizeof *joint + 1);
        if (!joint || !wt_match_rows(A, B, (size_t)have, 0, joint)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        /* agreement of the first two single matchings (gate vs up; q vs o; k vs v) over the rows both matched */
        size_t agree = 0;
        if (have >= 2) for (size_t i = 0; i < n; i++) agree += single[0][i] == single[1][i] && single[0][i] < m;
        size_t covered = 0;
        if (have >= 2) for (size_t i = 0; i < n; i++) covered += single[0][i] < m || single[1][i] < m;
        *agree_k = have >= 2 ? agree : 0;
        *agree_out = have >= 2 && covered ? (double)agree / (double)covered : NAN;
        for (int k = 0; !st && k < have; k++) {
            double r0 = wt_selection_null(&A[k], &B[k], 0x6e756c6cull + (uint64_t)k + 7u * (uint64_t)la_);
            wt_rec *r = NULL;
            st = emit_matched(c, (size_t)ia[k], (size_t)ib[k], &A[k], &B[k], joint, r0, &r);
            if (!st) { *centered_sum += r->s.centered; (*n_centered)++; }
            if (!st && !is_col[k]) st = fold_matched(c, r, la_, lb_, &A[k], &B[k], joint);
        }
    }
    for (int k = 0; k < 4; k++) { wt_matrix_free(&A[k]); wt_matrix_free(&B[k]); free(single[k]); }
    if (st) { free(joint); return st; }
    *joint_out = joint;
    *n_out = joint ? n : 0;
    return LINEAGE_OK;
}

/* One expert against the other side's dense FFN (ea_ or eb_ is -1 for the dense side) under the
 * recovered hidden permutation: neurons matched jointly over gate, up and down, the pairs emitted as
 * permutation-aligned (upcycling composed with a permutation). *pairs gets how many were emitted. */
lineage_status wt_match_expert_under_hidden(wt_ctx *c, int la_, int lb_, int ea_, int eb_, size_t *pairs)
{
    static const char *const dense[] = {"mlp_gate", "mlp_up", "mlp_down"};
    static const char *const expert[] = {"expert_gate", "expert_up", "expert_down"};
    static const int col[] = {0, 0, 1};
    size_t *m = NULL, n = 0, agree_k = 0, before = c->nrecs;
    double agree = NAN, csum = 0;
    int ncent = 0;
    *pairs = 0;
    if (!c->perm_hidden) return LINEAGE_OK;
    lineage_status st = match_group(c, la_, lb_, ea_ >= 0 ? expert : dense, col, 3, eb_ >= 0 ? expert : dense, ea_, eb_, &m,
                                    &n, &agree, &agree_k, &csum, &ncent);
    free(m);
    *pairs = c->nrecs - before;
    return st;
}

/* A hidden map of middling fit (above its shuffled-token null, below the strong fit asked of a map on
 * its own) is put to a test it cannot pass by shared channel structure: under it, the FFN neurons of a
 * layer are matched once by their gate rows and once by their up rows, and the two matchings agree
 * far beyond chance only when the models share their neurons (a copy, however far trained). Up to 4
 * layers, evenly spaced, identity layer map; agreements combined by Fisher. Returns the p-value (1
 * when nothing could be tested). */
#define WT_CANDIDATE_LAYERS 4

static lineage_status candidate_ffn_p(wt_ctx *c, size_t *map, size_t d, double *p_out)
{
    *p_out = 1;
    int la = c->layout.layers_a[LINEAGE_COMPONENT_TEXT], lb = c->layout.layers_b[LINEAGE_COMPONENT_TEXT];
    int nl = la < lb ? la : lb;
    double p[WT_CANDIDATE_LAYERS];
    size_t np = 0;
    size_t *saved = c->perm_hidden, saved_d = c->hidden;
    c->perm_hidden = map;
    c->hidden = d;
    lineage_status st = LINEAGE_OK;
    for (int t = 0; !st && nl > 0 && t < WT_CANDIDATE_LAYERS && t < nl; t++) {
        int l = nl <= WT_CANDIDATE_LAYERS ? t : (int)((long)t * nl / WT_CANDIDATE_LAYERS);
        static const char *const roles[] = {"mlp_gate", "mlp_up"};
        size_t *m[2] = {NULL, NULL}, n = 0;
        for (int k = 0; !st && k < 2; k++) {
            long xa = wt_find(c->a, LINEAGE_COMPONENT_TEXT, roles[k], l, -1), xb = wt_find(c->b, LINEAGE_COMPONENT_TEXT, roles[k], l, -1);
            if (xa < 0 || xb < 0) break;
            const lineage_tensor_info *ta = lineage_model_tensor(c->a, (size_t)xa), *tb = lineage_model_tensor(c->b, (size_t)xb);
            if (ta->rows != tb->rows || ta->cols != tb->cols || ta->cols != d || ta->numel > (1u << 24)) break;
            wt_matrix A = {0}, B = {0};
            st = load_aligned(c, xa, xb, 0, &A, &B);
            n = A.rows;
            m[k] = st ? NULL : malloc(n * sizeof(size_t) + 1);
            if (!st && (!m[k] || !wt_match_rows(&A, &B, 1, 0, m[k]))) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            wt_matrix_free(&A);
            wt_matrix_free(&B);
        }
        if (!st && m[0] && m[1]) {
            size_t agree = 0;
            for (size_t i = 0; i < n; i++) agree += m[0][i] == m[1][i] && m[0][i] < n;
            p[np++] = wt_agreement_p(agree);
        }
        free(m[0]);
        free(m[1]);
    }
    c->perm_hidden = saved;
    c->hidden = saved_d;
    if (!st && np) *p_out = stats_fisher_p(p, np);
    return st;
}

/* Hidden-dimension alignment from embedding (or lm_head) columns over shared tokens. */
static lineage_status align_hidden(wt_ctx *c, json_value *o)
{
    arena *ar = c->ar;
    long ia = wt_find(c->a, LINEAGE_COMPONENT_TEXT, "embed", -1, -1), ib = wt_find(c->b, LINEAGE_COMPONENT_TEXT, "embed", -1, -1);
    if (ia < 0 || ib < 0) {
        ia = wt_find(c->a, LINEAGE_COMPONENT_TEXT, "lm_head", -1, -1);
        ib = wt_find(c->b, LINEAGE_COMPONENT_TEXT, "lm_head", -1, -1);
    }
    json_value *h = json_new_object(ar);
    if (!h || !json_set(ar, o, "hidden", h)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if (ia < 0 || ib < 0 || !c->vocab_ready ||
        lineage_model_tensor(c->a, (size_t)ia)->cols != lineage_model_tensor(c->b, (size_t)ib)->cols ||
        c->vocab.shared < 2 * lineage_model_tensor(c->a, (size_t)ia)->cols)
        return json_set_bool(ar, h, "searched", 0) ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    wt_matrix E[2] = {{0}}, T[2] = {{0}};
    size_t cols = (size_t)lineage_model_tensor(c->a, (size_t)ia)->cols;
    lineage_status st = wt_vocab_rows(c, (size_t)ia, (size_t)ib, wt_hidden_tokens(cols), &E[0], &E[1]);
    size_t d = E[0].cols, *a_to_b = malloc(d * sizeof *a_to_b + 1);
    if (!st && (!a_to_b || !wt_transpose(&E[0], &T[0]) || !wt_transpose(&E[1], &T[1]) ||
                !wt_match_rows(&T[0], &T[1], 1, 1, a_to_b)))
        st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) {
        pair_moments pm;
        wt_matched_moments(&T[0], &T[1], a_to_b, &pm);
        double r = moments_pearson(&pm), analytic = 1 / sqrt((double)pm.n);
        /* null: the same search with B's tokens shuffled (token correspondence broken) */
        double r0max = -1;
        size_t *perm = malloc(E[1].rows * sizeof *perm + 1), *m0 = malloc(d * sizeof *m0 + 1);
        for (int rep = 0; perm && m0 && rep < 2; rep++) {
            for (size_t i = 0; i < E[1].rows; i++) perm[i] = i;
            stats_shuffle(perm, E[1].rows, 0x68696464ull + (uint64_t)rep);
            wt_matrix Bs = {0}, Ts = {0};
            Bs.rows = E[1].rows;
            Bs.cols = d;
            Bs.data = malloc(Bs.rows * d * sizeof(float) + 1);
            if (!Bs.data) break;
            for (size_t i = 0; i < Bs.rows; i++) memcpy(Bs.data + i * d, E[1].data + perm[i] * d, d * sizeof(float));
            if (wt_transpose(&Bs, &Ts) && wt_match_rows(&T[0], &Ts, 1, 0, m0)) {
                pair_moments p0;
                wt_matched_moments(&T[0], &Ts, m0, &p0);
                double v = moments_pearson(&p0);
                if (v > r0max) r0max = v;
            }
            wt_matrix_free(&Bs);
            wt_matrix_free(&Ts);
        }
        free(perm);
        free(m0);
        size_t fixed = fixed_points(a_to_b, d);
        /* independent models trained on the same data share some channel structure: require a strong fit,
         * or a middling one that the FFN neurons confirm (candidate_ffn_p) */
        int above_null = r > r0max + fmax(0.05, 10 * analytic), recovered = above_null && r >= 0.5;
        double p_confirm = NAN;
        if (!st && above_null && !recovered && complete_matching(a_to_b, d)) {
            st = candidate_ffn_p(c, a_to_b, d, &p_confirm);
            recovered = !st && p_confirm < 1e-6;
        }
        int ok = json_set_bool(ar, h, "searched", 1) && json_set_str(ar, h, "source", "embedding columns over shared tokens") &&
                 (isnan(p_confirm) || json_set_double(ar, h, "p_ffn_confirmation", p_confirm)) &&
                 json_set_double(ar, h, "centered_after", r) && json_set_double(ar, h, "null_centered", r0max) &&
                 json_set_double(ar, h, "identity_fraction", (double)fixed / (double)d) &&
                 json_set_bool(ar, h, "recovered", recovered) &&
                 json_set_bool(ar, h, "permuted", recovered && fixed < d * 9 / 10);
        if (!ok) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        if (recovered && fixed < d && complete_matching(a_to_b, d)) {
            c->perm_hidden = a_to_b;
            c->hidden = d;
            a_to_b = NULL;
            c->ev.perm_hidden = fixed < d * 9 / 10;
        }
        c->ev.perm_hidden_identity = recovered && fixed >= d * 9 / 10;
    }
    free(a_to_b);
    for (int k = 0; k < 2; k++) { wt_matrix_free(&E[k]); wt_matrix_free(&T[k]); }
    return st;
}

/* Head structure of a row matching: each A head's rows go to one B head, in order (judged on the
 * rows that were matched; a head with none keeps its place). */
static int head_map(const size_t *m, size_t n, size_t hd, json_value *arr, arena *ar, int *permuted, double *consistent)
{
    size_t heads = n / hd, good = 0, matched = 0;
    *permuted = 0;
    for (size_t h = 0; h < heads; h++) {
        size_t target = h;
        for (size_t k = 0; k < hd; k++)
            if (m[h * hd + k] != SIZE_MAX) { target = m[h * hd + k] / hd; break; }
        for (size_t k = 0; k < hd; k++) {
            matched += m[h * hd + k] != SIZE_MAX;
            good += m[h * hd + k] == target * hd + k;
        }
        if (target != h) *permuted = 1;
        if (!json_push(ar, arr, json_new_int(ar, (int64_t)target))) return 0;
    }
    *consistent = matched ? (double)good / (double)matched : 0;
    return 1;
}

/* The matched entries of a row matching, in row order (a wide matching covers a subset of rows). */
static size_t *matched_values(const size_t *m, size_t n, size_t *nm)
{
    size_t *v = malloc(n * sizeof *v + 1);
    *nm = 0;
    for (size_t i = 0; v && i < n; i++) if (m[i] != SIZE_MAX) v[(*nm)++] = m[i];
    return v;
}

/* Joint alignment of a pruned and permuted FFN: with the hidden permutation recovered, the neurons of
 * the narrower side are matched into the wider one by assignment (a subset and a permutation at once),
 * then re-measured against the same search on a scrambled partner. Replaces the width evidence found
 * without the hidden map. Returns the Fisher p of the layers' z (1 when nothing was matched). */
static lineage_status joint_width(wt_ctx *c, json_value *o, double *p_out)
{
    static const char *const roles[] = {"mlp_gate", "mlp_up", "mlp_down"};
    int lb = c->layout.layers_b[LINEAGE_COMPONENT_TEXT], la = c->layout.layers_a[LINEAGE_COMPONENT_TEXT];
    double *pz = calloc((size_t)lb * 3 + 1, sizeof *pz);
    json_value *list = json_new_array(c->ar);
    if (!pz || !list || !json_set(c->ar, o, "ffn_subset_under_hidden_map", list)) {
        free(pz);
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    size_t np = 0;
    int reset = 0;
    lineage_status st = LINEAGE_OK;
    for (int j = 0; !st && j < lb; j++) {
        int i = c->layer_map && j < c->layer_map_n && c->layer_map[j] >= 0 ? c->layer_map[j] : j;
        if (i >= la) continue;
        for (int k = 0; !st && k < 3; k++) {
            long ia = wt_find(c->a, LINEAGE_COMPONENT_TEXT, roles[k], i, -1), ib = wt_find(c->b, LINEAGE_COMPONENT_TEXT, roles[k], j, -1);
            if (ia < 0 || ib < 0) continue;
            const lineage_tensor_info *ta = lineage_model_tensor(c->a, (size_t)ia), *tb = lineage_model_tensor(c->b, (size_t)ib);
            int down = k == 2;
            uint64_t na = down ? ta->cols : ta->rows, nb = down ? tb->cols : tb->rows;
            uint64_t ha = down ? ta->rows : ta->cols, hb = down ? tb->rows : tb->cols;
            if (na == nb || ha != c->hidden || hb != c->hidden || ta->numel > (1u << 24) || tb->numel > (1u << 24)) continue;
            if (!reset) {   /* the width evidence measured without the hidden map is superseded */
                c->ev.width_pairs = c->ev.width_significant = c->ev.width_b_smaller = 0;
                c->ev.width_kept_fraction = c->ev.width_centered = c->ev.width_order_spearman = 0;
                reset = 1;
            }
            wt_matrix A = {0}, B = {0}, X, Y;
            st = load_aligned(c, ia, ib, down, &A, &B);
            if (!st && down) {
                if (!wt_transpose(&A, &X) || !wt_transpose(&B, &Y)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                else { wt_matrix_free(&A); wt_matrix_free(&B); A = X; B = Y; }
            }
            int b_smaller = B.rows < A.rows;
            const wt_matrix *S = b_smaller ? &B : &A, *W = b_smaller ? &A : &B;
            size_t *s_to_w = st ? NULL : malloc(S->rows * sizeof *s_to_w + 1);
            if (!st && (!s_to_w || !wt_match_rows(S, W, 1, 0, s_to_w))) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            if (!st) {
                pair_moments pm;
                wt_matched_moments(S, W, s_to_w, &pm);
                wt_pair_stats ps;
                memset(&ps, 0, sizeof ps);
                wt_stats_from_moments(&pm, &ps);
                double r0 = wt_selection_null(S, W, 0x6a6f696eull + (uint64_t)(j * 3 + k));
                double analytic = pm.n > 3 ? 1 / sqrt((double)pm.n) : 1;
                double z = (ps.centered - r0) / analytic;
                int significant = z > 5 && ps.centered > r0 + 0.1;
                wt_rec *r = NULL;
                st = wt_add_pair(c, (size_t)ia, (size_t)ib, "width", &ps, analytic, &r);
                if (!st) {
                    r->z = z;
                    c->ev.width_pairs++;
                    c->ev.width_significant += significant;
                    c->ev.width_b_smaller += significant && b_smaller;
                    c->ev.width_kept_fraction += (double)S->rows / (double)W->rows;
                    c->ev.width_centered += ps.centered;
                    pz[np++] = stats_p_upper(z);
                    json_value *e = json_new_object(c->ar);
                    if (!e || !json_set_str(c->ar, e, "a", ta->name) || !json_set_str(c->ar, e, "b", tb->name) ||
                        !json_set_str(c->ar, e, "subset_of", b_smaller ? "a" : "b") ||
                        !json_set_double(c->ar, e, "centered_after", ps.centered) ||
                        !json_set_double(c->ar, e, "selection_null", r0) || !json_set_double(c->ar, e, "z", z) ||
                        !json_set_bool(c->ar, e, "significant", significant) || !json_push(c->ar, list, e))
                        st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                }
            }
            free(s_to_w);
            wt_matrix_free(&A);
            wt_matrix_free(&B);
        }
    }
    *p_out = np ? stats_fisher_p(pz, np) : 1;
    free(pz);
    return st;
}

/* Embedding and lm_head rows of the shared tokens re-measured under the recovered hidden map, when
 * the vocabulary comparison without it found nothing (a vocabulary extension disguised by a hidden
 * permutation). */
static lineage_status vocab_under_hidden_map(wt_ctx *c, json_value *o)
{
    static const char *const roles[] = {"embed", "lm_head"};
    if (!c->vocab_ready || c->vocab.shared < 2 || (c->ev.vocab_z > 5 && c->ev.vocab_centered > 0.2)) return LINEAGE_OK;
    json_value *v = json_new_object(c->ar);
    if (!v || !json_set(c->ar, o, "vocab_under_hidden_map", v)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    for (int k = 0; !st && k < 2; k++) {
        long ia = wt_find(c->a, LINEAGE_COMPONENT_TEXT, roles[k], -1, -1), ib = wt_find(c->b, LINEAGE_COMPONENT_TEXT, roles[k], -1, -1);
        if (ia < 0 || ib < 0) continue;
        const lineage_tensor_info *ta = lineage_model_tensor(c->a, (size_t)ia), *tb = lineage_model_tensor(c->b, (size_t)ib);
        if (ta->cols != c->hidden || tb->cols != c->hidden) continue;
        wt_matrix A = {0}, B = {0};
        st = wt_vocab_rows(c, (size_t)ia, (size_t)ib, wt_vocab_row_cap((size_t)ta->cols), &A, &B);
        if (!st && !wt_reorder_cols(&B, c->perm_hidden)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        if (!st) {
            pair_moments m;
            pair_moments_init(&m);
            pair_moments_f32(A.data, B.data, A.rows * A.cols, &m);
            wt_pair_stats ps;
            memset(&ps, 0, sizeof ps);
            wt_stats_from_moments(&m, &ps);
            wt_rec *r = NULL;
            st = wt_add_pair(c, (size_t)ia, (size_t)ib, "vocab", &ps, wt_null_sd(&A, &B), &r);
            if (!st && r) {
                json_value *e = json_new_object(c->ar);
                if (!e || !json_set_double(c->ar, e, "centered", r->s.centered) || !json_set_double(c->ar, e, "z", r->z) ||
                    !json_set(c->ar, v, roles[k], e))
                    st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                if (!isfinite(c->ev.vocab_z) || r->z > c->ev.vocab_z) {
                    c->ev.vocab_z = r->z;
                    c->ev.vocab_centered = r->s.centered;
                }
            }
        }
        wt_matrix_free(&A);
        wt_matrix_free(&B);
    }
    return st;
}

/* ---- the layer map under a recovered hidden permutation ---- */

/* Per-layer signature of one role, a vector over the hidden channels in A's order that no permutation
 * inside the layer (FFN neurons, heads) changes: a norm's gains, the column norms of a matrix reading
 * the residual stream, the row norms of one writing it. 0 when the role is absent or of another width. */
static int layer_signature(wt_ctx *c, int side_b, const char *role, int layer, int rows_hidden, double *out)
{
    const lineage_model *m = side_b ? c->b : c->a;
    long x = wt_find(m, LINEAGE_COMPONENT_TEXT, role, layer, -1);
    if (x < 0) return 0;
    const lineage_tensor_info *t = lineage_model_tensor(m, (size_t)x);
    if (t->numel > (1u << 24)) return 0;
    wt_matrix W = {0};
    lineage_error e;
    if (wt_load_all(m, (size_t)x, &W, &e)) return 0;
    size_t d = c->hidden;
    int ok = rows_hidden ? W.rows == d : W.cols == d;
    if (ok && side_b) ok = rows_hidden ? wt_reorder_rows(&W, c->perm_hidden) : wt_reorder_cols(&W, c->perm_hidden);
    if (ok) {
        for (size_t h = 0; h < d; h++) out[h] = 0;
        if (W.rows == 1) for (size_t h = 0; h < d; h++) out[h] = W.data[h];
        else if (rows_hidden)
            for (size_t h = 0; h < d; h++) {
                double s = 0;
                for (size_t k = 0; k < W.cols; k++) s += (double)W.data[h * W.cols + k] * W.data[h * W.cols + k];
                out[h] = log(s + 1e-30);
            }
        else {
            for (size_t r = 0; r < W.rows; r++)
                for (size_t h = 0; h < d; h++) out[h] += (double)W.data[r * d + h] * W.data[r * d + h];
            for (size_t h = 0; h < d; h++) out[h] = log(out[h] + 1e-30);
        }
        for (size_t h = 0; ok && h < d; h++) ok = isfinite(out[h]);
    }
    wt_matrix_free(&W);
    return ok;
}

/* Subtracts each channel's mean over the layers that have a signature (what every layer shares, e.g.
 * outlier channels, is not evidence of which layer is which). */
static void center_over_layers(double *sig, const unsigned char *have, int layers, size_t d)
{
    for (size_t h = 0; h < d; h++) {
        double s = 0;
        int k = 0;
        for (int l = 0; l < layers; l++) if (have[l]) { s += sig[(size_t)l * d + h]; k++; }
        for (int l = 0; k && l < layers; l++) if (have[l]) sig[(size_t)l * d + h] -= s / k;
    }
}

/* The index-aligned layer map compares unrelated channels once the hidden dimension is permuted: the
 * map is rebuilt from per-layer signatures under the recovered permutation (Fisher z per role,
 * Stouffer-combined, the same solver and Bonferroni threshold as the index-aligned map). Replaces the
 * map when it matches at least half of B's layers. */
static lineage_status layer_map_under_hidden(wt_ctx *c, json_value *o)
{
    static const char *const roles[] = {"attn_norm", "mlp_norm", "attn_q", "attn_k", "attn_v", "mlp_gate", "mlp_up",
                                        "attn_o", "mlp_down"};
    static const int rows_hidden[] = {0, 0, 0, 0, 0, 0, 0, 1, 1};
    enum { NR = sizeof roles / sizeof roles[0] };
    int la = c->layout.layers_a[LINEAGE_COMPONENT_TEXT], lb = c->layout.layers_b[LINEAGE_COMPONENT_TEXT];
    size_t d = c->hidden;
    if (!c->perm_hidden || la < 2 || lb < 2 || d < 8) return LINEAGE_OK;
    double *sa = malloc((size_t)la * d * sizeof *sa), *sb = malloc((size_t)lb * d * sizeof *sb);
    double *zsum = calloc((size_t)la * lb, sizeof *zsum);
    int *cnt = calloc((size_t)la * lb, sizeof *cnt);
    unsigned char *ha = malloc((size_t)la), *hb = malloc((size_t)lb);
    lineage_status st = LINEAGE_OK;
    if (!sa || !sb || !zsum || !cnt || !ha || !hb) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    for (int k = 0; !st && k < NR; k++) {
        int na = 0, nb = 0;
        for (int i = 0; i < la; i++) na += ha[i] = (unsigned char)layer_signature(c, 0, roles[k], i, rows_hidden[k], sa + (size_t)i * d);
        for (int j = 0; j < lb; j++) nb += hb[j] = (unsigned char)layer_signature(c, 1, roles[k], j, rows_hidden[k], sb + (size_t)j * d);
        if (na < 2 || nb < 2) continue;
        center_over_layers(sa, ha, la, d);
        center_over_layers(sb, hb, lb, d);
        for (int i = 0; i < la; i++)
            for (int j = 0; ha[i] && j < lb; j++) {
                if (!hb[j]) continue;
                pair_moments pm;
                pair_moments_init(&pm);
                for (size_t h = 0; h < d; h++) {
                    float x = (float)sa[(size_t)i * d + h], y = (float)sb[(size_t)j * d + h];
                    pair_moments_f32(&x, &y, 1, &pm);
                }
                double r = moments_pearson(&pm);
                if (!isfinite(r)) continue;
                r = fmax(-0.999999, fmin(0.999999, r));
                zsum[i * lb + j] += atanh(r) * sqrt((double)d - 3);
                cnt[i * lb + j]++;
            }
    }
    if (!st) {
        for (int x = 0; x < la * lb; x++) zsum[x] = cnt[x] ? zsum[x] / sqrt((double)cnt[x]) : NAN;
        double thr = wt_layer_map_threshold(la, lb, 0.001);
        wt_layer_map lm;
        memset(&lm, 0, sizeof lm);
        if (!wt_layer_map_solve(zsum, la, lb, thr, &lm)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        else {
            int repeats = 0, skipped = 0, a_dup = 0, *used = calloc((size_t)la, sizeof *used);
            json_value *lmj = json_new_object(c->ar), *map = json_new_array(c->ar);
            for (int j = 0; used && j < lb; j++) {
                if (lm.map[j] >= 0 && used[lm.map[j]]++) repeats++;
                double z = lm.score[j], second = z - lm.margin[j];
                a_dup += lm.map[j] >= 0 && z > 10 && second > 0.5 * z && second > fmax(thr, 10);
                json_value *e = json_new_object(c->ar);
                if (!e || !json_set_int(c->ar, e, "b", j) ||
                    !json_set(c->ar, e, "a", lm.map[j] >= 0 ? json_new_int(c->ar, lm.map[j]) : json_new_null(c->ar)) ||
                    !(isfinite(z) ? json_set_double(c->ar, e, "z", z) : 1) || !json_push(c->ar, map, e))
                    st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            }
            for (int i = 0; used && i < la; i++) skipped += !used[i];
            int use = used && lm.matched * 2 >= lb && !(la == lb && lm.identity && c->layer_map && c->ev.map_identity);
            if (!used || !lmj || !map || !json_set(c->ar, lmj, "map", map) ||
                !json_set_double(c->ar, lmj, "threshold", thr) || !json_set_int(c->ar, lmj, "matched", lm.matched) ||
                !json_set_int(c->ar, lmj, "repeats", repeats) || !json_set_bool(c->ar, lmj, "used", use) ||
                !json_set(c->ar, o, "layer_map", lmj))
                st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            if (!st && use) {
                int *nm = malloc((size_t)lb * sizeof *nm);
                if (!nm) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                else {
                    memcpy(nm, lm.map, (size_t)lb * sizeof *nm);
                    free(c->layer_map);
                    c->layer_map = nm;
                    c->layer_map_n = lb;
                    c->ev.map_la = la;
                    c->ev.map_lb = lb;
                    c->ev.map_matched = lm.matched;
                    c->ev.map_identity = lm.identity;
                    c->ev.map_seams = lm.seams;
                    c->ev.map_repeats = repeats;
                    c->ev.map_skipped = skipped;
                    c->ev.map_unmatched = lb - lm.matched;
                    c->ev.map_significant = lm.matched > 0;
                    c->ev.map_under_perm = 1;
                    c->ev.map_a_duplicates = a_dup;
                    int a_rep = la > lb ? wt_layer_map_reverse_repeats(zsum, la, lb, thr) : 0;
                    if (a_rep < 0) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                    c->ev.map_a_repeats = a_rep > 0 ? a_rep : 0;
                }
            }
            free(used);
            wt_layer_map_free(&lm);
        }
    }
    free(sa); free(sb); free(zsum); free(cnt); free(ha); free(hb);
    return st;
}

lineage_status wt_stage_permutation(wt_ctx *c)
{
    arena *ar = c->ar;
    c->ev.perm_tried = 1;
    json_value *o = json_new_object(ar), *layers = json_new_array(ar);
    if (!o || !layers || !json_set(ar, c->alignment, "permutation", o))
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = align_hidden(c, o);
    if (!st) st = layer_map_under_hidden(c, o);
    int lb = c->layout.layers_b[LINEAGE_COMPONENT_TEXT], la = c->layout.layers_a[LINEAGE_COMPONENT_TEXT];
    int64_t heads = 0, hd = 0, hidden = 0;
    if (config_int(c->a, "num_attention_heads", &heads) && heads > 0 && config_int(c->a, "hidden_size", &hidden))
        hd = hidden / heads;
    config_int(c->a, "head_dim", &hd);
    double *p_agree = calloc((size_t)lb + 1, sizeof *p_agree), *p_rho = calloc((size_t)lb + 1, sizeof *p_rho);
    size_t nl = 0, ffn_perm_layers = 0, head_perm_layers = 0, nh = 0;
    /* head-group agreements under a recovered hidden map: evidence of a permuted copy even when the
     * FFN cannot be matched (experts, other widths) */
    double *p_heads = calloc(2 * (size_t)lb + 1, sizeof *p_heads);
    if (!p_heads) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    double agree_sum = 0, centered_sum = 0;
    int n_centered = 0;
    if (!p_agree || !p_rho) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    static const char *const ffn[] = {"mlp_gate", "mlp_up", "mlp_down"};
    static const int ffn_col[] = {0, 0, 1};
    static const char *const qo[] = {"attn_q", "attn_o"};
    static const int qo_col[] = {0, 1};
    static const char *const kv[] = {"attn_k", "attn_v"};
    static const int kv_col[] = {0, 0};
    for (int j = 0; !st && j < lb; j++) {
        int i = c->layer_map && j < c->layer_map_n && c->layer_map[j] >= 0 ? c->layer_map[j] : j;
        if (i >= la) continue;
        json_value *e = json_new_object(ar);
        if (!e || !json_set_int(ar, e, "a", i) || !json_set_int(ar, e, "b", j)) { st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory"); break; }
        size_t *m = NULL, n = 0, agree_k = 0;
        double agree = NAN;
        st = match_group(c, i, j, ffn, ffn_col, 3, NULL, -1, -1, &m, &n, &agree, &agree_k, &centered_sum, &n_centered);
        size_t nm = 0, *mv = !st && m ? matched_values(m, n, &nm) : NULL;
        if (!st && m && !mv) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        if (!st && m && nm > 2) {
            double rho = stats_spearman_identity(mv, nm), prho = stats_p_upper(rho * sqrt((double)nm - 1));
            double pa = wt_agreement_p(agree_k);
            size_t fixed = fixed_points(m, n);
            p_agree[nl] = pa;
            p_rho[nl] = prho;
            nl++;
            agree_sum += isnan(agree) ? 0 : agree;
            int permuted = pa < 1e-6 && fixed < nm * 9 / 10;
            ffn_perm_layers += permuted;
            json_value *f = json_new_object(ar);
            if (!f || !json_set_int(ar, f, "neurons", (int64_t)n) || !json_set_double(ar, f, "agreement_gate_up", agree) ||
                !json_set_double(ar, f, "p_agreement", pa) || !json_set_double(ar, f, "spearman_identity", rho) ||
                !json_set_double(ar, f, "p_spearman", prho) ||
                !json_set_double(ar, f, "identity_fraction", (double)fixed / (double)nm) ||
                !json_set_bool(ar, f, "permuted", permuted) || !json_set(ar, e, "ffn", f))
                st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
        }
        free(mv);
        free(m);
        m = NULL;
        for (int g = 0; !st && g < 2; g++) {
            size_t gn = 0, gk = 0;
            double ga = NAN;
            st = match_group(c, i, j, g ? kv : qo, g ? kv_col : qo_col, 2, NULL, -1, -1, &m, &gn, &ga, &gk, &centered_sum, &n_centered);
            if (!st && m && hd > 0 && gn % (size_t)hd == 0) {
                json_value *hm = json_new_array(ar), *a = json_new_object(ar);
                int permuted = 0;
                double consistent = 0;
                if (!hm || !a || !head_map(m, gn, (size_t)hd, hm, ar, &permuted, &consistent) ||
                    !json_set(ar, a, "head_map", hm) || !json_set_double(ar, a, "rows_consistent", consistent) ||
                    !json_set_double(ar, a, "agreement", ga) || !json_set_double(ar, a, "p_agreement", wt_agreement_p(gk)) ||
                    !json_set_bool(ar, a, "permuted", permuted && consistent > 0.9) ||
                    !json_set(ar, e, g ? "kv_heads" : "q_heads", a))
                    st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                if (g == 1 && permuted && consistent > 0.9 && wt_agreement_p(gk) < 1e-6) head_perm_layers++;
                if (c->perm_hidden && consistent > 0.9) p_heads[nh++] = wt_agreement_p(gk);
            }
            free(m);
            m = NULL;
        }
        if (!st && !json_push(ar, layers, e)) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* norms follow the hidden permutation */
    for (int j = 0; !st && c->perm_hidden && j < lb; j++) {
        static const char *const norms[] = {"attn_norm", "mlp_norm"};
        int i = c->layer_map && j < c->layer_map_n && c->layer_map[j] >= 0 ? c->layer_map[j] : j;
        for (int k = 0; !st && k < 2; k++) {
            long xa = wt_find(c->a, LINEAGE_COMPONENT_TEXT, norms[k], i, -1), xb = wt_find(c->b, LINEAGE_COMPONENT_TEXT, norms[k], j, -1);
            if (xa < 0 || xb < 0 || lineage_model_tensor(c->b, (size_t)xb)->numel != c->hidden ||
                lineage_model_tensor(c->a, (size_t)xa)->numel != c->hidden) continue;
            wt_matrix A = {0}, B = {0};
            st = load_aligned(c, xa, xb, 0, &A, &B);
            if (!st) {
                size_t zero = 0;
                pair_moments pm;
                wt_matched_moments(&A, &B, &zero, &pm);
                wt_pair_stats s;
                memset(&s, 0, sizeof s);
                wt_stats_from_moments(&pm, &s);
                st = wt_add_pair(c, (size_t)xa, (size_t)xb, "permutation", &s, 1 / sqrt((double)c->hidden), NULL);
            }
            wt_matrix_free(&A);
            wt_matrix_free(&B);
        }
    }
    double p_joint = 1;
    if (!st && c->perm_hidden) st = joint_width(c, o, &p_joint);
    if (!st && c->perm_hidden) st = vocab_under_hidden_map(c, o);
    if (!st) {
        double pf = stats_fisher_p(p_agree, nl), pz = stats_fisher_p(p_rho, nl);
        /* FFN neurons matched as a subset under the hidden map count as permutation evidence too */
        int joint = c->ev.width_pairs && c->ev.width_significant * 2 > c->ev.width_pairs && p_joint < pf;
        double ph = nh ? stats_fisher_p(p_heads, nh) : 1;
        c->ev.perm_p = fmin(joint ? p_joint : pf, ph);
        c->ev.perm_agreement = nl ? agree_sum / (double)nl : NAN;
        c->ev.perm_centered = n_centered ? centered_sum / n_centered : NAN;
        c->ev.perm_ffn = (nl && ffn_perm_layers * 2 > nl) || joint;
        c->ev.perm_heads = head_perm_layers > 0;
        if (!json_set(ar, o, "layers", layers) || !json_set_double(ar, o, "p", pf) ||
            !json_set_double(ar, o, "p_spearman_identity", pz) ||
            !json_set_bool(ar, o, "ffn_permuted", c->ev.perm_ffn) || !json_set_bool(ar, o, "heads_permuted", c->ev.perm_heads) ||
            !json_set_double(ar, o, "mean_agreement", c->ev.perm_agreement) ||
            !json_set_double(ar, o, "centered_after", c->ev.perm_centered))
            st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    free(p_agree);
    free(p_rho);
    free(p_heads);
    return st;
}
