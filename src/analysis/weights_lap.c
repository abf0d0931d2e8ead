/* Linear assignment for neuron, head, expert and channel matching: exact shortest augmenting paths
 * (Hungarian with potentials, O(n^2 m)) up to WT_LAP_MAX_N, mutual-best matching above; row
 * matchings too wide for a full similarity matrix stream panels of it (bounded memory). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"

int wt_lap_max(const double *score, size_t n, size_t m, size_t *assign)
{
    if (n == 0) return 1;
    if (n > m) return 0;
    double *u = calloc(n + 1, sizeof *u), *v = calloc(m + 1, sizeof *v), *minv = malloc((m + 1) * sizeof *minv);
    size_t *p = calloc(m + 1, sizeof *p), *way = calloc(m + 1, sizeof *way);
    unsigned char *used = malloc(m + 1);
    int ok = u && v && minv && p && way && used;
    for (size_t i = 1; ok && i <= n; i++) {
        p[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= m; j++) { minv[j] = INFINITY; used[j] = 0; }
        do {
            used[j0] = 1;
            size_t i0 = p[j0], j1 = 0;
            double delta = INFINITY;
            const double *row = score + (i0 - 1) * m;
            for (size_t j = 1; j <= m; j++) {
                if (used[j]) continue;
                /* a NaN/Inf score (a non-finite row upstream) is the worst possible pair, never a crash */
                double sc = isfinite(row[j - 1]) ? row[j - 1] : -1e6;
                double cur = -sc - u[i0] - v[j];
                if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
                if (minv[j] < delta) { delta = minv[j]; j1 = j; }
            }
            if (j1 == 0) { ok = 0; break; }   /* NaN scores */
            for (size_t j = 0; j <= m; j++) {
                if (used[j]) { u[p[j]] += delta; v[j] -= delta; }
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        while (ok && j0) {
            size_t j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        }
    }
    if (ok)
        for (size_t j = 1; j <= m; j++) if (p[j]) assign[p[j] - 1] = j - 1;
    free(u); free(v); free(minv); free(p); free(way); free(used);
    return ok;
}

int wt_greedy_match(const double *score, size_t n, size_t m, size_t *assign)
{
    size_t *best_row = malloc(m * sizeof *best_row);
    if (!best_row) return 0;
    for (size_t j = 0; j < m; j++) {
        size_t bi = 0;
        for (size_t i = 1; i < n; i++) if (score[i * m + j] > score[bi * m + j] || !(score[bi * m + j] == score[bi * m + j])) bi = i;
        best_row[j] = bi;
    }
    for (size_t i = 0; i < n; i++) {
        size_t bj = 0;
        for (size_t j = 1; j < m; j++) if (score[i * m + j] > score[i * m + bj] || !(score[i * m + bj] == score[i * m + bj])) bj = j;
        assign[i] = best_row[bj] == i ? bj : SIZE_MAX;
    }
    free(best_row);
    return 1;
}

/* A row centered and scaled to unit length, so dot products are Pearson correlations. */
static void unit_row(const float *x, size_t dim, float *u)
{
    /* NaN/Inf elements are left out (set to the mean): the similarities stay finite */
    double mean = 0, ss = 0;
    size_t finite = 0;
    for (size_t k = 0; k < dim; k++) if (isfinite(x[k])) { mean += x[k]; finite++; }
    mean /= finite ? (double)finite : 1;
    for (size_t k = 0; k < dim; k++) if (isfinite(x[k])) ss += (x[k] - mean) * (x[k] - mean);
    double inv = ss > 0 && isfinite(ss) ? 1 / sqrt(ss) : 0;
    for (size_t k = 0; k < dim; k++) u[k] = isfinite(x[k]) ? (float)((x[k] - mean) * inv) : 0.0f;
}

static float *unit_rows(const float *X, size_t n, size_t dim)
{
    float *u = malloc(n * dim * sizeof *u + 1);
    if (!u) return NULL;
    for (size_t i = 0; i < n; i++) unit_row(X + i * dim, dim, u + i * dim);
    return u;
}

double *wt_row_similarity(const float *A, size_t na, const float *B, size_t nb, size_t dim)
{
    float *ua = unit_rows(A, na, dim), *ub = unit_rows(B, nb, dim), *dots = malloc(na * nb * sizeof(float) + 1);
    double *out = malloc(na * nb * sizeof(double) + 1);
    if (ua && ub && dots && out) {
        dot_matrix_f32(ua, na, ub, nb, dim, dots);
        for (size_t i = 0; i < na * nb; i++) out[i] = dots[i];
    } else {
        free(out);
        out = NULL;
    }
    free(ua);
    free(ub);
    free(dots);
    return out;
}

int wt_match(const double *S, size_t na, size_t nb, size_t *a_to_b)
{
    for (size_t i = 0; i < na; i++) a_to_b[i] = SIZE_MAX;
    if (!na || !nb) return 1;
    size_t small = na < nb ? na : nb;
    if (small > WT_LAP_MAX_N) return wt_greedy_match(S, na, nb, a_to_b);
    if (na <= nb) return wt_lap_max(S, na, nb, a_to_b);
    /* more A rows than B rows: assign B into A on the transposed scores */
    double *T = malloc(na * nb * sizeof *T);
    size_t *b_to_a = malloc(nb * sizeof *b_to_a);
    int ok = T && b_to_a;
    if (ok) {
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < nb; j++) T[j * na + i] = S[i * nb + j];
        ok = wt_lap_max(T, nb, na, b_to_a);
        for (size_t j = 0; ok && j < nb; j++) a_to_b[b_to_a[j]] = j;
    }
    free(T);
    free(b_to_a);
    return ok;
}

double wt_agreement_p(size_t k)
{
    /* P(X >= k) for X ~ Poisson(1) = 1 - e^-1 sum_{i<k} 1/i! */
    if (k == 0) return 1.0;
    double term = exp(-1.0), cdf = 0;
    for (size_t i = 0; i < k && i < 200; i++) {
        cdf += term;
        term /= (double)(i + 1);
    }
    double p = 1 - cdf;
    if (p < 1e-15) {
        /* the tail is dominated by its first term: e^-1 / k! */
        p = exp(-1.0 - stats_log_factorial(k));
    }
    return p < 1e-300 ? 1e-300 : p;
}

/* new[r][a] = old[r][h[a]] */
int wt_reorder_cols(wt_matrix *x, const size_t *h)
{
    float *row = malloc(x->cols * sizeof *row + 1);
    if (!row) return 0;
    for (size_t r = 0; r < x->rows; r++) {
        float *p = x->data + r * x->cols;
        for (size_t a = 0; a < x->cols; a++) row[a] = p[h[a]];
        memcpy(p, row, x->cols * sizeof *row);
    }
    free(row);
    return 1;
}

/* new[a] = old[h[a]] */
int wt_reorder_rows(wt_matrix *x, const size_t *h)
{
    float *d = malloc(x->rows * x->cols * sizeof *d + 1);
    if (!d) return 0;
    for (size_t a = 0; a < x->rows; a++) memcpy(d + a * x->cols, x->data + h[a] * x->cols, x->cols * sizeof *d);
    free(x->data);
    x->data = d;
    return 1;
}

/* Moments of A's rows against their matched B rows (unmatched rows skipped). */
void wt_matched_moments(const wt_matrix *A, const wt_matrix *B, const size_t *a_to_b, pair_moments *m)
{
    pair_moments_init(m);
    for (size_t i = 0; i < A->rows; i++)
        if (a_to_b[i] < B->rows) pair_moments_f32(A->data + i * A->cols, B->data + a_to_b[i] * B->cols, A->cols, m);
}

/* Summed similarity of every role, na x nb (NULL when out of memory). */
static double *summed_similarity(const wt_matrix *A, const wt_matrix *B, size_t nroles)
{
    double *S = NULL;
    for (size_t k = 0; k < nroles; k++) {
        double *Sk = wt_row_similarity(A[k].data, A[k].rows, B[k].data, B[k].rows, A[k].cols);
        if (!Sk) { free(S); return NULL; }
        if (!S) { S = Sk; continue; }
        for (size_t i = 0; i < A[0].rows * B[0].rows; i++) S[i] += Sk[i];
        free(Sk);
    }
    return S;
}

#define WT_MATCH_PANEL 256

/* Mutual best of sampled rows xs of X against every row of Y, over panels of Y: x_to_y[i] for xs[i]. */
static int mutual_best(const wt_matrix *X, const wt_matrix *Y, size_t nroles, const size_t *xs, size_t kx, size_t *x_to_y)
{
    size_t ny = Y[0].rows, maxdim = 1;
    for (size_t k = 0; k < nroles; k++) if (X[k].cols > maxdim) maxdim = X[k].cols;
    float **ux = calloc(nroles, sizeof *ux);
    float *uy = malloc(WT_MATCH_PANEL * maxdim * sizeof *uy), *dots = malloc(kx * WT_MATCH_PANEL * sizeof *dots),
          *sum = malloc(kx * WT_MATCH_PANEL * sizeof *sum), *row_s = malloc(kx * sizeof *row_s),
          *col_s = malloc(ny * sizeof *col_s);
    size_t *row_j = malloc(kx * sizeof *row_j), *col_i = malloc(ny * sizeof *col_i);
    int ok = ux && uy && dots && sum && row_s && col_s && row_j && col_i;
    for (size_t k = 0; ok && k < nroles; k++) {
        ux[k] = malloc(kx * X[k].cols * sizeof(float) + 1);
        ok = ux[k] != NULL;
        for (size_t i = 0; ok && i < kx; i++) unit_row(X[k].data + xs[i] * X[k].cols, X[k].cols, ux[k] + i * X[k].cols);
    }
    for (size_t i = 0; ok && i < kx; i++) { row_s[i] = -INFINITY; row_j[i] = SIZE_MAX; }
    for (size_t j = 0; ok && j < ny; j++) { col_s[j] = -INFINITY; col_i[j] = SIZE_MAX; }
    for (size_t y0 = 0; ok && y0 < ny; y0 += WT_MATCH_PANEL) {
        size_t p = ny - y0 < WT_MATCH_PANEL ? ny - y0 : WT_MATCH_PANEL;
        for (size_t k = 0; k < nroles; k++) {
            size_t dim = Y[k].cols;
            for (size_t j = 0; j < p; j++) unit_row(Y[k].data + (y0 + j) * dim, dim, uy + j * dim);
            dot_matrix_f32(ux[k], kx, uy, p, dim, k ? dots : sum);
            if (k) for (size_t i = 0; i < kx * p; i++) sum[i] += dots[i];
        }
        for (size_t i = 0; i < kx; i++)
            for (size_t j = 0; j < p; j++) {
                float v = sum[i * p + j];
                if (v > row_s[i]) { row_s[i] = v; row_j[i] = y0 + j; }
                if (v > col_s[y0 + j]) { col_s[y0 + j] = v; col_i[y0 + j] = i; }
            }
    }
    for (size_t i = 0; ok && i < kx; i++) x_to_y[i] = row_j[i] < ny && col_i[row_j[i]] == i ? row_j[i] : SIZE_MAX;
    for (size_t k = 0; ux && k < nroles; k++) free(ux[k]);
    free(ux); free(uy); free(dots); free(sum); free(row_s); free(col_s); free(row_j); free(col_i);
    return ok;
}

int wt_match_rows(const wt_matrix *A, const wt_matrix *B, size_t nroles, int all_rows, size_t *a_to_b)
{
    size_t na = A[0].rows, nb = B[0].rows;
    for (size_t i = 0; i < na; i++) a_to_b[i] = SIZE_MAX;
    if (!na || !nb || !nroles) return 1;
    if (na <= WT_MATCH_DENSE_MAX / nb) {
        double *S = summed_similarity(A, B, nroles);
        int ok = S && wt_match(S, na, nb, a_to_b);
        free(S);
        return ok;
    }
    /* the smaller side's rows (evenly spaced: the same rows for every role and every call) into the other */
    int x_is_a = na <= nb;
    const wt_matrix *X = x_is_a ? A : B, *Y = x_is_a ? B : A;
    size_t nx = X[0].rows, kx = all_rows || nx <= WT_MATCH_MAX_ROWS ? nx : WT_MATCH_MAX_ROWS;
    size_t *xs = malloc(kx * sizeof *xs), *x_to_y = malloc(kx * sizeof *x_to_y);
    int ok = xs && x_to_y;
    for (size_t i = 0; ok && i < kx; i++) xs[i] = (size_t)((double)i * (double)nx / (double)kx);
    ok = ok && mutual_best(X, Y, nroles, xs, kx, x_to_y);
    for (size_t i = 0; ok && i < kx; i++) {
        if (x_to_y[i] == SIZE_MAX) continue;
        if (x_is_a) a_to_b[xs[i]] = x_to_y[i];
        else a_to_b[x_to_y[i]] = xs[i];
    }
    free(xs);
    free(x_to_y);
    return ok;
}

/* Re-measured correlation of the same search against B with its columns scrambled: the level
 * that selection alone reaches. */
double wt_selection_null(const wt_matrix *A, const wt_matrix *B, uint64_t seed)
{
    wt_matrix Bn = {0};
    Bn.rows = B->rows;
    Bn.cols = B->cols;
    Bn.data = malloc(B->rows * B->cols * sizeof(float) + 1);
    size_t *h = malloc(B->cols * sizeof *h + 1), *m = malloc(A->rows * sizeof *m + 1);
    double r0 = 0;
    if (Bn.data && h && m) {
        memcpy(Bn.data, B->data, B->rows * B->cols * sizeof(float));
        for (size_t k = 0; k < B->cols; k++) h[k] = k;
        stats_shuffle(h, B->cols, seed);
        if (wt_reorder_cols(&Bn, h) && wt_match_rows(A, &Bn, 1, 0, m)) {
            pair_moments pm;
            wt_matched_moments(A, &Bn, m, &pm);
            r0 = moments_pearson(&pm);
        }
    }
    free(Bn.data);
    free(h);
    free(m);
    return r0;
}

