/* Statistics invariant to function-preserving rescaling: fold each RMSNorm gain into the matrices
 * it feeds (W diag(gamma)) and compare row directions (invariant to per-row scaling), so a norm
 * gain moved into the next matrix cannot hide a derivation. */
#include <math.h>
#include <stdint.h>
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

/* Column sums of one reader over the sampled rows (before folding): sums of a, b, a^2, b^2, ab. */
typedef struct col_sums {
    size_t cols;
    uint64_t n;  /* elements summed */
    double *v;   /* 5 x cols: sa, sb, saa, sbb, sab */
    wt_rec *r;
} col_sums;

static int col_sums_of(const wt_matrix *A, const wt_matrix *B, col_sums *cs)
{
    size_t C = A->cols;
    cs->cols = C;
    cs->v = calloc(5 * C + 1, sizeof *cs->v);
    if (!cs->v) return 0;
    double *sa = cs->v, *sb = sa + C, *saa = sb + C, *sbb = saa + C, *sab = sbb + C;
    for (size_t r = 0; r < A->rows; r++)
        for (size_t k = 0; k < C; k++) {
            double a = A->data[r * C + k], b = B->data[r * C + k];
            if (!isfinite(a) || !isfinite(b)) continue;
            cs->n++;
            sa[k] += a;
            sb[k] += b;
            saa[k] += a * a;
            sbb[k] += b * b;
            sab[k] += a * b;
        }
    return 1;
}

/* Robust spread (1.4826 MAD) of log x over the positive entries; NaN when fewer than 8. */
static double log_spread(const double *x, size_t n, double *tmp)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] > 0 && isfinite(x[i])) tmp[k++] = log(x[i]);
    if (k < 8) return NAN;
    double med = stats_quantile(tmp, k, 0.5);
    for (size_t i = 0; i < k; i++) tmp[i] = fabs(tmp[i] - med);
    return 1.4826 * stats_quantile(tmp, k, 0.5);
}

/* Statistics of one reader with the other side's columns scaled per channel: frame 0 maps B into A's
 * frame (B[:,k] * u[k]), frame 1 A into B's (A[:,k] * u[k]). From the column sums alone. */
static void frame_stats(const col_sums *cs, const double *u, int frame, uint64_t n, wt_pair_stats *out)
{
    size_t C = cs->cols;
    const double *sa = cs->v, *sb = sa + C, *saa = sb + C, *sbb = saa + C, *sab = sbb + C;
    pair_moments m;
    pair_moments_init(&m);
    m.n = n;
    for (size_t k = 0; k < C; k++) {
        double w = isfinite(u[k]) ? u[k] : 1;
        if (frame == 0) {
            m.sum_a += sa[k];
            m.sum_b += w * sb[k];
            m.sum_aa += saa[k];
            m.sum_bb += w * w * sbb[k];
            m.sum_ab += w * sab[k];
        } else {
            m.sum_a += w * sa[k];
            m.sum_b += sb[k];
            m.sum_aa += w * w * saa[k];
            m.sum_bb += sbb[k];
            m.sum_ab += w * sab[k];
        }
    }
    m.sum_dd = fmax(0, m.sum_aa - 2 * m.sum_ab + m.sum_bb);
    memset(out, 0, sizeof *out);
    wt_stats_from_moments(&m, out);
}

#define WT_GROUP_MAX 8   /* readers of one norm (q, k, v; gate, up; experts are not index-aligned) */

/* One norm and the matrices reading it: the rescaling statistic and, per reader, the statistics with
 * the per-channel scale estimated from the other readers (leave-one-out). */
static lineage_status group_stats(wt_ctx *c, const wt_matrix *GA, const wt_matrix *GB, col_sums *cs, int m)
{
    size_t C = cs[0].cols;
    double *x = malloc((C + 1) * sizeof *x), *y = malloc((C + 1) * sizeof *y), *tmp = malloc((C + 1) * sizeof *tmp),
           *u = malloc((C + 1) * sizeof *u), *e = malloc((C + 1) * sizeof *e);
    if (!x || !y || !tmp || !u || !e) {
        free(x); free(y); free(tmp); free(u); free(e);
        return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* rescaling: a function-preserving per-channel scale multiplies the gain by alpha and divides the
     * columns reading it by alpha, so log(gB/gA) and -log(|B's columns| / |A's|) move together. The
     * norm ratio rather than a regression slope: an update or a noise on the regressor's side
     * attenuates a slope by a factor that depends on alpha (not monotone), while it only adds a
     * roughly constant energy to a column norm (monotone in alpha) */
    size_t n = 0;
    for (size_t k = 0; k < C; k++) {
        double sbb = 0, saa = 0;
        for (int t = 0; t < m; t++) {
            const double *v = cs[t].v;
            saa += v[2 * C + k];
            sbb += v[3 * C + k];
        }
        double beta = saa > 0 ? sqrt(sbb / saa) : NAN, ratio = GA->data[k] != 0 ? (double)GB->data[k] / GA->data[k] : NAN;
        if (!(beta > 0) || !(ratio > 0) || !isfinite(beta) || !isfinite(ratio)) continue;
        x[n] = log(ratio);
        y[n] = -log(beta);
        n++;
    }
    if (n >= 16) {
        double rho = stats_spearman(x, y, n);
        if (isfinite(rho)) {
            double *g = realloc(c->ev.rescale_rho, (size_t)(c->ev.rescale_groups + 1) * sizeof *g);
            if (!g) {
                free(x); free(y); free(tmp); free(u); free(e);
                return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            }
            c->ev.rescale_rho = g;
            g[c->ev.rescale_groups++] = rho;
            /* under shuffled channels Spearman's rho has mean 0 and variance exactly 1/(n-1) */
            c->ev.rescale_zsum += rho * sqrt((double)n - 1);
        }
    }
    /* per reader: residual energy per column in each frame, and the leave-one-out scaled statistics */
    for (int t = 0; t < m; t++) {
        const double *v = cs[t].v, *saa = v + 2 * C, *sbb = v + 3 * C, *sab = v + 4 * C;
        double sp[2];
        for (int f = 0; f < 2; f++) {
            for (size_t k = 0; k < C; k++) {
                /* f == 0: what is left of B's column once A's is regressed out (B's residual
                 * energy); f == 1: A's once B's is */
                double den = f == 0 ? saa[k] : sbb[k], num = f == 0 ? sbb[k] : saa[k];
                e[k] = den > 0 ? num - sab[k] * sab[k] / den : NAN;
            }
            sp[f] = log_spread(e, C, tmp);
        }
        /* i.i.d. noise has the same energy in every column of the side that carries it: B's residual
         * energy is flat across columns when B carries it (then B's frame, 1, is the one to read),
         * A's when A does (frame 0) */
        if (isfinite(sp[0]) && isfinite(sp[1])) {
            c->ev.frame_members++;
            c->ev.frame_spread_sum[1] += sp[0];
            c->ev.frame_spread_sum[0] += sp[1];
        }
        if (m < 2) continue;
        wt_rec *r = cs[t].r;
        for (int f = 0; f < 2; f++) {
            for (size_t k = 0; k < C; k++) {
                double num = 0, den = 0;
                for (int o = 0; o < m; o++) {
                    if (o == t) continue;
                    const double *w = cs[o].v;
                    num += w[4 * C + k];
                    den += f == 0 ? w[3 * C + k] : w[2 * C + k];
                }
                /* frame 0: slope of A on B (B mapped into A's frame); frame 1: slope of B on A */
                u[k] = den > 0 ? num / den : NAN;
            }
            wt_pair_stats fs;
            frame_stats(&cs[t], u, f, cs[t].n, &fs);
            r->frame_centered[f] = fs.centered;
            r->frame_slope[f] = fs.slope;
            r->frame_var_ratio[f] = fs.var_ratio;
            r->frame_rel_l2[f] = fs.rel_l2;
        }
        r->has_frame = 1;
    }
    free(x); free(y); free(tmp); free(u); free(e);
    return LINEAGE_OK;
}

static long norm_of(const wt_ctx *c, const wt_rec *r, int side)
{
    int global;
    const char *norm = wt_norm_read_by(r->role, &global);
    if (!norm || strcmp(r->align, "none")) return -1;
    const lineage_model *m = side ? c->b : c->a;
    size_t idx = side ? r->ib : r->ia;
    const lineage_tensor_info *t = lineage_model_tensor(m, idx);
    long g = wt_find(m, t->component, norm, global ? -1 : (side ? r->layer_b : r->layer_a), -1);
    if (g < 0 || lineage_model_tensor(m, (size_t)g)->numel != t->cols) return -1;
    return g;
}

lineage_status wt_stage_rescale(wt_ctx *c)
{
    lineage_status st = LINEAGE_OK;
    unsigned char *done = calloc(c->nrecs + 1, 1);
    if (!done) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < c->nrecs; i++) {
        if (done[i]) continue;
        long ga = norm_of(c, &c->recs[i], 0), gb = ga < 0 ? -1 : norm_of(c, &c->recs[i], 1);
        if (ga < 0 || gb < 0) continue;
        wt_matrix GA = {0}, GB = {0};
        st = wt_load_all(c->a, (size_t)ga, &GA, c->err);
        if (!st) st = wt_load_all(c->b, (size_t)gb, &GB, c->err);
        col_sums cs[WT_GROUP_MAX];
        int m = 0;
        /* every reader of this norm pair */
        for (size_t j = i; !st && j < c->nrecs; j++) {
            if (done[j]) continue;
            wt_rec *r = &c->recs[j];
            if (norm_of(c, r, 0) != ga || norm_of(c, r, 1) != gb) continue;
            done[j] = 1;
            wt_matrix A = {0}, B = {0};
            st = wt_load_sample(c->a, r->ia, WT_SAMPLE_ELEMS, &A, c->err);
            if (!st) st = wt_load_sample(c->b, r->ib, WT_SAMPLE_ELEMS, &B, c->err);
            if (!st && A.rows == B.rows && A.cols == B.cols && A.cols == GA.rows * GA.cols) {
                if (m < WT_GROUP_MAX) {
                    if (!col_sums_of(&A, &B, &cs[m])) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
                    else cs[m++].r = r;
                }
                fold(&A, &GA);
                fold(&B, &GB);
                pair_moments pm;
                pair_moments_init(&pm);
                pair_moments_f32(A.data, B.data, A.rows * A.cols, &pm);
                r->has_fold = 1;
                r->folded_centered = moments_pearson(&pm);
                r->folded_rel_l2 = moments_rel_l2(&pm);
                r->row_cosine = mean_row_cosine(&A, &B);
                wt_pair_stats fs;
                memset(&fs, 0, sizeof fs);
                wt_stats_from_moments(&pm, &fs);
                r->folded_slope = fs.slope;
                r->folded_var_ratio = fs.var_ratio;
                if (!st && (!json_set_double(c->ar, r->json, "folded_centered", r->folded_centered) ||
                            !json_set_double(c->ar, r->json, "folded_rel_l2", r->folded_rel_l2) ||
                            !(isnan(r->row_cosine) ? 1 : json_set_double(c->ar, r->json, "row_cosine", r->row_cosine))))
                    st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
            }
            wt_matrix_free(&A);
            wt_matrix_free(&B);
        }
        if (!st && m > 0 && GA.rows * GA.cols == cs[0].cols && GB.rows * GB.cols == cs[0].cols)
            st = group_stats(c, &GA, &GB, cs, m);
        for (int t = 0; t < m; t++) free(cs[t].v);
        wt_matrix_free(&GA);
        wt_matrix_free(&GB);
    }
    free(done);
    return st;
}
