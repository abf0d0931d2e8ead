/* Statistics of the activation comparison: linear CKA (Kornblith et al.) from centred Gram matrices,
 * Zhu et al.'s gate/up matching agreement, and kernel PCA of layer similarity matrices. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/activations.h"
#include "kernels/kernels.h"
#include "analysis/weights.h"

float *act_centred_gram(const float *X, size_t n, size_t d, double *norm)
{
    *norm = 0;
    if (n && d > SIZE_MAX / n) return NULL;
    float *Xc = malloc((n * d + 1) * sizeof *Xc);
    double *mean = calloc(d ? d : 1, sizeof *mean);
    float *K = n <= SIZE_MAX / (n ? n : 1) / sizeof(float) ? malloc((n * n + 1) * sizeof *K) : NULL;
    if (!Xc || !mean || !K) {
        free(Xc); free(mean); free(K);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) mean[k] += X[i * d + k];
    for (size_t k = 0; k < d; k++) mean[k] /= n ? (double)n : 1;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d; k++) Xc[i * d + k] = (float)(X[i * d + k] - mean[k]);
    dot_matrix_f32(Xc, n, Xc, n, d, K);
    double ss = 0;
    for (size_t i = 0; i < n * n; i++) ss += (double)K[i] * K[i];
    *norm = sqrt(ss);
    free(Xc);
    free(mean);
    return K;
}

double act_cka_gram(const float *K, double nk, const float *L, double nl, size_t n)
{
    if (!(nk > 0) || !(nl > 0)) return NAN;
    double s = 0;
    for (size_t i = 0; i < n * n; i++) s += (double)K[i] * L[i];
    return s / (nk * nl);
}

double act_cka_gram_perm(const float *K, double nk, const float *L, double nl, const size_t *perm, size_t n)
{
    if (!(nk > 0) || !(nl > 0)) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        const float *krow = K + i * n, *lrow = L + perm[i] * n;
        double r = 0;
        for (size_t j = 0; j < n; j++) r += (double)krow[j] * lrow[perm[j]];
        s += r;
    }
    return s / (nk * nl);
}

/* Column-centred copy in double. */
static double *centred_double(const float *X, size_t n, size_t d)
{
    double *c = malloc((n * d + 1) * sizeof *c);
    if (!c) return NULL;
    for (size_t k = 0; k < d; k++) {
        double m = 0;
        for (size_t i = 0; i < n; i++) m += X[i * d + k];
        m /= n ? (double)n : 1;
        for (size_t i = 0; i < n; i++) c[i * d + k] = X[i * d + k] - m;
    }
    return c;
}

/* ||A^T B||_F^2 for column sets of n rows. */
static double cross_frob2(const double *A, size_t da, const double *B, size_t db, size_t n)
{
    double s = 0;
    for (size_t p = 0; p < da; p++)
        for (size_t q = 0; q < db; q++) {
            double v = 0;
            for (size_t i = 0; i < n; i++) v += A[i * da + p] * B[i * db + q];
            s += v * v;
        }
    return s;
}

double act_cka_features_ref(const float *X, size_t dx, const float *Y, size_t dy, size_t n)
{
    double *x = centred_double(X, n, dx), *y = centred_double(Y, n, dy);
    double r = NAN;
    if (x && y) {
        double xy = cross_frob2(x, dx, y, dy, n), xx = cross_frob2(x, dx, x, dx, n), yy = cross_frob2(y, dy, y, dy, n);
        if (xx > 0 && yy > 0) r = xy / sqrt(xx * yy);
    }
    free(x);
    free(y);
    return r;
}


/* Whether a neuron's activations vary over the tokens: a constant neuron (dead, or a zeroed model)
 * matches every other equally, and the assignment would pair such neurons arbitrarily, in an order
 * that can make two matchings agree by accident. */
static int row_varies(const float *x, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return 0;
        s += x[i];
        s2 += (double)x[i] * x[i];
    }
    double mean = n ? s / (double)n : 0, var = n ? s2 / (double)n - mean * mean : 0;
    return var > 1e-12 * mean * mean && var > 1e-30;
}

int act_zhu_match(const float *gate_a, const float *up_a, size_t fa, const float *gate_b, const float *up_b, size_t fb,
                  size_t ntok, act_match *out)
{
    memset(out, 0, sizeof *out);
    out->spearman = NAN;
    out->p = 1;
    size_t *by_gate = malloc((fa ? fa : 1) * sizeof *by_gate), *by_up = malloc((fa ? fa : 1) * sizeof *by_up);
    size_t *x = malloc((fa ? fa : 1) * sizeof *x), *y = malloc((fa ? fa : 1) * sizeof *y);
    int ok = by_gate && by_up && x && y;
    /* rows are neurons, columns tokens: the weights engine's row matching on centred correlation */
    wt_matrix ga = {(float *)gate_a, fa, ntok, fa}, gb = {(float *)gate_b, fb, ntok, fb};
    wt_matrix ua = {(float *)up_a, fa, ntok, fa}, ub = {(float *)up_b, fb, ntok, fb};
    if (ok) ok = wt_match_rows(&ga, &gb, 1, 0, by_gate) && wt_match_rows(&ua, &ub, 1, 0, by_up);
    size_t n = 0;
    for (size_t i = 0; ok && i < fa; i++)
        if (by_gate[i] != SIZE_MAX && by_up[i] != SIZE_MAX && row_varies(gate_a + i * ntok, ntok) &&
            row_varies(up_a + i * ntok, ntok) && row_varies(gate_b + by_gate[i] * ntok, ntok) &&
            row_varies(up_b + by_up[i] * ntok, ntok)) { x[n] = by_gate[i]; y[n] = by_up[i]; n++; }
    if (ok && n >= 3) {
        out->n = n;
        out->spearman = stats_spearman_distinct(x, y, n);
        out->p = isfinite(out->spearman) ? stats_p_upper(out->spearman * sqrt((double)(n - 1))) : 1;
    }
    free(by_gate); free(by_up); free(x); free(y);
    return ok;
}

/* Top eigenvector of a symmetric matrix by power iteration; returns the eigenvalue. */
static double power_top(const double *M, size_t n, double *v, double *tmp)
{
    for (size_t i = 0; i < n; i++) v[i] = 1.0 + 0.01 * (double)i;   /* not orthogonal to a typical top vector */
    double lambda = 0;
    for (int it = 0; it < 500; it++) {
        double norm = 0;
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++) s += M[i * n + j] * v[j];
            tmp[i] = s;
            norm += s * s;
        }
        norm = sqrt(norm);
        if (!(norm > 0)) { memset(v, 0, n * sizeof *v); return 0; }
        double diff = 0;
        for (size_t i = 0; i < n; i++) {
            double nv = tmp[i] / norm;
            diff += fabs(nv - v[i]);
            v[i] = nv;
        }
        lambda = norm;
        if (diff < 1e-12) break;
    }
    return lambda;
}

int act_pca2(const double *G, size_t n, double *xy)
{
    double *M = malloc((n * n + 1) * sizeof *M), *row = calloc(n ? n : 1, sizeof *row);
    double *v = malloc((n ? n : 1) * sizeof *v), *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!M || !row || !v || !tmp) {
        free(M); free(row); free(v); free(tmp);
        return 0;
    }
    double all = 0;
    for (size_t i = 0; i < n * n; i++) M[i] = isfinite(G[i]) ? G[i] : 0;   /* a constant layer has no CKA */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) row[i] += M[i * n + j];
        all += row[i];
        row[i] /= (double)n;
    }
    all /= (double)n * (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) M[i * n + j] -= row[i] + row[j] - all;
    for (int c = 0; c < 2; c++) {
        double lambda = n ? power_top(M, n, v, tmp) : 0;
        double s = lambda > 0 ? sqrt(lambda) : 0;
        /* sign convention: the first layer on the negative side, so plots do not flip between runs */
        double sign = n && v[0] > 0 ? -1 : 1;
        for (size_t i = 0; i < n; i++) xy[2 * i + c] = sign * s * v[i];
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) M[i * n + j] -= lambda * v[i] * v[j];
    }
    free(M); free(row); free(v); free(tmp);
    return 1;
}
