/* Controls: for one role, every A layer against every B layer (M[i][j]), the within-model
 * baselines, and the null the diagonal is judged against (analytic 1/sqrt(n), row/column shuffles,
 * a robust spread of the off-diagonal), plus a permutation test over the layer assignment. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "util/error.h"

static int same_shape(const wt_matrix *x, const wt_matrix *y)
{
    return x->data && y->data && x->rows == y->rows && x->cols == y->cols;
}

static double cmp_double(double a, double b) { return a < b ? -1 : a > b ? 1 : 0; }
static int cmp_d(const void *a, const void *b) { return (int)cmp_double(*(const double *)a, *(const double *)b); }

/* Correlation of A with B after shuffling B's rows (cols=0) or its elements within rows (cols=1). */
static double shuffled_corr(const wt_matrix *A, const wt_matrix *B, int cols, uint64_t seed, float *tmp,
                            size_t *perm)
{
    size_t R = B->rows, C = B->cols;
    if (R == 1 || cols) {
        for (size_t r = 0; r < R; r++) {
            for (size_t k = 0; k < C; k++) perm[k] = k;
            wt_shuffle(perm, C, seed + r);
            for (size_t k = 0; k < C; k++) tmp[r * C + k] = B->data[r * C + perm[k]];
        }
    } else {
        for (size_t r = 0; r < R; r++) perm[r] = r;
        wt_shuffle(perm, R, seed);
        for (size_t r = 0; r < R; r++) memcpy(tmp + r * C, B->data + perm[r] * C, C * sizeof(float));
    }
    return wt_pearson(A->data, tmp, R * C);
}

double wt_null_sd(const wt_matrix *A, const wt_matrix *B)
{
    size_t n = A->rows * A->cols;
    double analytic = n > 3 ? 1.0 / sqrt((double)n) : 1.0, ss = 0;
    float *tmp = malloc(n * sizeof *tmp + 1);
    size_t *perm = malloc((A->rows > A->cols ? A->rows : A->cols) * sizeof *perm + 1);
    int k = 0;
    if (tmp && perm && same_shape(A, B))
        for (int c = 0; c < 4; c++, k++) {
            double v = shuffled_corr(A, B, c & 1, 0x6e756c6cull + (uint64_t)c, tmp, perm);
            ss += v * v;
        }
    free(tmp);
    free(perm);
    return fmax(analytic, k ? sqrt(ss / k) : 0);
}

double wt_assignment_p(const double *r, int la, int lb, const int *map, int *exact)
{
    double obs = 0;
    int k = 0;
    for (int j = 0; j < lb; j++)
        if (map[j] >= 0 && !isnan(r[map[j] * lb + j])) { obs += r[map[j] * lb + j]; k++; }
    *exact = 0;
    if (k == 0 || la < 2) return 1.0;
    int *sigma = malloc(la * sizeof *sigma), *c = calloc(la, sizeof *c);
    if (!sigma || !c) { free(sigma); free(c); return 1.0; }
    for (int i = 0; i < la; i++) sigma[i] = i;
    long total = 0, ge = 0;
#define WT_ASSIGN_STAT(s_)                                                                    \
    do {                                                                                      \
        double t_ = 0;                                                                        \
        for (int j_ = 0; j_ < lb; j_++)                                                       \
            if (map[j_] >= 0 && !isnan(r[map[j_] * lb + j_])) {                               \
                double v_ = r[(s_)[map[j_]] * lb + j_];                                       \
                t_ += isnan(v_) ? 0 : v_;                                                     \
            }                                                                                 \
        total++;                                                                              \
        if (t_ >= obs - 1e-12 * fabs(obs)) ge++;                                              \
    } while (0)
    if (la <= 8) {
        /* every relabelling of A's layers (Heap's algorithm) */
        *exact = 1;
        WT_ASSIGN_STAT(sigma);
        for (int i = 1; i < la;) {
            if (c[i] < i) {
                int sw = i % 2 ? c[i] : 0, t = sigma[sw];
                sigma[sw] = sigma[i];
                sigma[i] = t;
                WT_ASSIGN_STAT(sigma);
                c[i]++;
                i = 1;
            } else {
                c[i] = 0;
                i++;
            }
        }
    } else {
        size_t *perm = malloc(la * sizeof *perm);
        for (int t = 0; perm && t < 4000; t++) {
            for (int i = 0; i < la; i++) perm[i] = (size_t)i;
            wt_shuffle(perm, (size_t)la, 0x7065726dull + (uint64_t)t);
            for (int i = 0; i < la; i++) sigma[i] = (int)perm[i];
            WT_ASSIGN_STAT(sigma);
        }
        free(perm);
        ge++;
        total++;
    }
#undef WT_ASSIGN_STAT
    free(sigma);
    free(c);
    return total ? (double)ge / (double)total : 1.0;
}

void wt_control_free(wt_role_control *c)
{
    free(c->r);
    free(c->z);
    free(c->within_a);
    free(c->within_b);
    memset(c, 0, sizeof *c);
}

lineage_status wt_controls_build(const lineage_model *a, const lineage_model *b, const wt_series *s,
                                 wt_role_control *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    out->s = s;
    int la = s->la, lb = s->lb;
    out->la = la;
    out->lb = lb;
    wt_matrix *A = calloc((size_t)la, sizeof *A), *B = calloc((size_t)lb, sizeof *B);
    out->r = malloc((size_t)la * lb * sizeof(double));
    out->z = malloc((size_t)la * lb * sizeof(double));
    out->within_a = malloc((size_t)la * la * sizeof(double));
    out->within_b = malloc((size_t)lb * lb * sizeof(double));
    lineage_status st = LINEAGE_OK;
    if (!A || !B || !out->r || !out->z || !out->within_a || !out->within_b)
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (int i = 0; !st && i < la; i++)
        if (s->ia[i] >= 0) st = wt_load_sample(a, (size_t)s->ia[i], WT_SAMPLE_ELEMS, &A[i], err);
    for (int j = 0; !st && j < lb; j++)
        if (s->ib[j] >= 0) st = wt_load_sample(b, (size_t)s->ib[j], WT_SAMPLE_ELEMS, &B[j], err);
    if (!st) {
        for (int i = 0; i < la; i++)
            for (int j = 0; j < lb; j++)
                out->r[i * lb + j] = same_shape(&A[i], &B[j]) ? wt_pearson(A[i].data, B[j].data, A[i].rows * A[i].cols)
                                                              : NAN;
        for (int i = 0; i < la; i++)
            for (int j = 0; j < la; j++)
                out->within_a[i * la + j] = i != j && same_shape(&A[i], &A[j])
                                                ? wt_pearson(A[i].data, A[j].data, A[i].rows * A[i].cols) : NAN;
        for (int i = 0; i < lb; i++)
            for (int j = 0; j < lb; j++)
                out->within_b[i * lb + j] = i != j && same_shape(&B[i], &B[j])
                                                ? wt_pearson(B[i].data, B[j].data, B[i].rows * B[i].cols) : NAN;
        /* the null: shuffles of B against A on up to 8 same-shape pairs */
        double ss = 0;
        int ns = 0;
        for (int i = 0; i < la && ns < 16; i++) {
            int j = i < lb ? i : lb - 1;
            if (!same_shape(&A[i], &B[j])) continue;
            size_t n = A[i].rows * A[i].cols;
            if (!out->n) out->n = n;
            float *tmp = malloc(n * sizeof *tmp);
            size_t *perm = malloc((A[i].rows > A[i].cols ? A[i].rows : A[i].cols) * sizeof *perm);
            if (tmp && perm)
                for (int c = 0; c < 2; c++) {
                    double v = shuffled_corr(&A[i], &B[j], c, 0x73687566ull * (uint64_t)(i + 1) + (uint64_t)c, tmp, perm);
                    ss += v * v;
                    ns++;
                }
            free(tmp);
            free(perm);
        }
        if (!out->n)
            for (int i = 0; i < la && !out->n; i++) if (A[i].data) out->n = A[i].rows * A[i].cols;
        out->analytic_sd = out->n > 3 ? 1.0 / sqrt((double)out->n) : 1.0;
        out->shuffle_sd = ns ? sqrt(ss / ns) : 0;
        /* off-diagonal and within-model spreads */
        double *off = malloc(((size_t)la * lb + (size_t)la * la + (size_t)lb * lb + 1) * sizeof *off);
        size_t noff = 0, ndiag = 0, nw = 0;
        double dsum = 0, osum = 0, osum2 = 0, wsum = 0, wsum2 = 0;
        for (int i = 0; off && i < la; i++)
            for (int j = 0; j < lb; j++) {
                double v = out->r[i * lb + j];
                if (isnan(v)) continue;
                if (i == j) { dsum += v; ndiag++; }
                else { osum += v; osum2 += v * v; off[noff++] = fabs(v); }
            }
        for (int side = 0; side < 2; side++) {
            const double *w = side ? out->within_b : out->within_a;
            int l = side ? lb : la;
            for (int i = 0; i < l * l; i++)
                if (!isnan(w[i])) { wsum += w[i]; wsum2 += w[i] * w[i]; nw++; }
        }
        double robust_off = 0;
        if (noff >= 3) {
            qsort(off, noff, sizeof *off, cmp_d);
            robust_off = off[noff / 2] / 0.6745;
        }
        free(off);
        out->diag_mean = ndiag ? dsum / ndiag : NAN;
        out->off_mean = noff ? osum / noff : NAN;
        out->off_sd = noff > 1 ? sqrt(fmax(osum2 / noff - out->off_mean * out->off_mean, 0)) : NAN;
        out->within_mean = nw ? wsum / nw : NAN;
        out->within_sd = nw > 1 ? sqrt(fmax(wsum2 / nw - out->within_mean * out->within_mean, 0)) : NAN;
        out->null_sd = fmax(out->analytic_sd, fmax(out->shuffle_sd, robust_off));
        double zsum = 0;
        for (int i = 0; i < la * lb; i++) out->z[i] = isnan(out->r[i]) ? NAN : out->r[i] / out->null_sd;
        for (int i = 0; i < la && i < lb; i++) if (!isnan(out->z[i * lb + i])) zsum += out->z[i * lb + i];
        out->diag_z_mean = ndiag ? zsum / ndiag : NAN;
        double sd = out->off_sd > out->null_sd ? out->off_sd : out->null_sd;
        out->z_diag_vs_off = ndiag && noff ? (out->diag_mean - out->off_mean) / sd : NAN;
        int *ident = malloc((size_t)lb * sizeof *ident);
        if (ident) {
            for (int j = 0; j < lb; j++) ident[j] = j < la ? j : -1;
            out->p_assignment = wt_assignment_p(out->r, la, lb, ident, &out->p_exact);
            free(ident);
        }
    }
    for (int i = 0; A && i < la; i++) wt_matrix_free(&A[i]);
    for (int j = 0; B && j < lb; j++) wt_matrix_free(&B[j]);
    free(A);
    free(B);
    if (st) wt_control_free(out);
    return st;
}
