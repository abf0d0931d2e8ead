/* Linear assignment for neuron, head, expert and channel matching: exact shortest augmenting paths
 * (Hungarian with potentials, O(n^2 m)) up to WT_LAP_MAX_N, mutual-best matching above. */
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
                double cur = -row[j - 1] - u[i0] - v[j];
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
        for (size_t i = 1; i < n; i++) if (score[i * m + j] > score[bi * m + j]) bi = i;
        best_row[j] = bi;
    }
    for (size_t i = 0; i < n; i++) {
        size_t bj = 0;
        for (size_t j = 1; j < m; j++) if (score[i * m + j] > score[i * m + bj]) bj = j;
        assign[i] = best_row[bj] == i ? bj : SIZE_MAX;
    }
    free(best_row);
    return 1;
}

/* Rows centered and scaled to unit length, so dot products are Pearson correlations. */
static float *unit_rows(const float *X, size_t n, size_t dim)
{
    float *u = malloc(n * dim * sizeof *u + 1);
    if (!u) return NULL;
    for (size_t i = 0; i < n; i++) {
        const float *x = X + i * dim;
        double mean = 0, ss = 0;
        for (size_t k = 0; k < dim; k++) mean += x[k];
        mean /= dim ? (double)dim : 1;
        for (size_t k = 0; k < dim; k++) ss += (x[k] - mean) * (x[k] - mean);
        double inv = ss > 0 ? 1 / sqrt(ss) : 0;
        for (size_t k = 0; k < dim; k++) u[i * dim + k] = (float)((x[k] - mean) * inv);
    }
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
        p = exp(-1.0 - lgamma((double)k + 1));
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

/* Similarity of rows of A and B, matched. S is returned for joint matchings (caller frees). */
double *wt_match_rows(const wt_matrix *A, const wt_matrix *B, size_t *a_to_b)
{
    double *S = wt_row_similarity(A->data, A->rows, B->data, B->rows, A->cols);
    if (S && !wt_match(S, A->rows, B->rows, a_to_b)) { free(S); return NULL; }
    return S;
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
        wt_shuffle(h, B->cols, seed);
        double *S = NULL;
        if (wt_reorder_cols(&Bn, h) && (S = wt_match_rows(A, &Bn, m))) {
            pair_moments pm;
            wt_matched_moments(A, &Bn, m, &pm);
            r0 = moments_pearson(&pm);
        }
        free(S);
    }
    free(Bn.data);
    free(h);
    free(m);
    return r0;
}

