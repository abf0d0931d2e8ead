/* Training under a noise. An i.i.d. noise added to every tensor has no preferred direction: the
 * residual B - A of a noised pair is a random matrix whose top singular value sits at the
 * Marchenko-Pastur bulk edge, sigma (sqrt(R) + sqrt(C)), within Tracy-Widom fluctuations. A training
 * update is structured (its gradient directions are shared by many rows: low rank on top of a bulk),
 * and a structured part strong enough to clear the BBP threshold pushes the top singular value out of
 * the bulk. The null is the residual itself with its entries shuffled (i.i.d. entries with exactly
 * the residual's values, so a heavy-tailed or non-Gaussian noise is its own control); before that,
 * rows and columns are scaled to unit RMS (and so is every shuffled copy), so a noise whose size varies by row or column (e.g. in
 * proportion to the weights) is not taken for structure: a diagonal scaling keeps a low-rank part low
 * rank. Run only when the noise test fired, on index-aligned pairs (at most WT_SPECTRUM_MAX tensors,
 * evenly spaced; samples of WT_SAMPLE_ELEMS elements). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "kernels/kernels.h"
#include "util/error.h"

#define WT_SPECTRUM_MAX 32       /* tensors tested */
#define WT_SPECTRUM_SHUFFLES 6   /* shuffled copies per tensor */
#define WT_SPECTRUM_ITERS 24     /* power iterations */
#define TW1_SD 1.2680            /* standard deviation of the Tracy-Widom (beta = 1) law */

/* Top singular value of D (R x C; DT its transpose) by power iteration from a fixed start, both
 * products through the vectorized dot kernel (u: R floats, v: C floats). */
static double top_sv(const float *D, const float *DT, size_t R, size_t C, float *u, float *v)
{
    uint64_t st = 0x7370656374ull;
    for (size_t k = 0; k < C; k++) v[k] = (float)((double)(stats_next(&st) >> 11) / 9007199254740992.0 - 0.5);
    double s = 0;
    for (int it = 0; it < WT_SPECTRUM_ITERS; it++) {
        dot_matrix_f32(D, R, v, 1, C, u);
        double nu = 0;
        for (size_t r = 0; r < R; r++) nu += (double)u[r] * u[r];
        nu = sqrt(nu);
        if (!(nu > 0)) return 0;
        for (size_t r = 0; r < R; r++) u[r] = (float)(u[r] / nu);
        dot_matrix_f32(DT, C, u, 1, R, v);
        double nv = 0;
        for (size_t k = 0; k < C; k++) nv += (double)v[k] * v[k];
        s = sqrt(nv);
        if (!(s > 0)) return 0;
        for (size_t k = 0; k < C; k++) v[k] = (float)(v[k] / s);
    }
    return s;
}

/* The same from the Gram matrix of the short side (k x k, k = min(R, C) small): one matrix product
 * through the blocked kernel, then power iteration on k x k. */
#define WT_SPECTRUM_GRAM_MAX 48

static double top_sv_gram(const float *D, const float *DT, size_t R, size_t C, float *G, double *x, double *y)
{
    size_t k = R <= C ? R : C;
    if (R <= C) dot_matrix_f32(D, R, D, R, C, G);
    else dot_matrix_f32(DT, C, DT, C, R, G);
    for (size_t i = 0; i < k; i++) x[i] = 1.0 + 0.01 * (double)(i % 7);
    double lam = 0;
    for (int it = 0; it < 4 * WT_SPECTRUM_ITERS; it++) {
        double nn = 0;
        for (size_t i = 0; i < k; i++) {
            double a = 0;
            for (size_t j = 0; j < k; j++) a += (double)G[i * k + j] * x[j];
            y[i] = a;
            nn += a * a;
        }
        nn = sqrt(nn);
        if (!(nn > 0)) return 0;
        lam = nn;
        for (size_t i = 0; i < k; i++) x[i] = y[i] / nn;
    }
    return sqrt(lam);
}

static void transpose(const float *D, size_t R, size_t C, float *DT)
{
    for (size_t r = 0; r < R; r++)
        for (size_t k = 0; k < C; k++) DT[k * R + r] = D[r * C + k];
}

/* Fisher-Yates in place (bounded draws by multiply-shift: n < 2^32). */
static void shuffle_floats(float *x, size_t n, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = n; i > 1; i--) {
        uint32_t r = (uint32_t)(stats_next(&st) >> 32);
        size_t j = (size_t)(((uint64_t)r * (uint64_t)i) >> 32);
        float t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* Columns, then rows, to unit RMS (zero ones left as they are). */
static void unit_rms(float *D, size_t R, size_t C, double *tmp)
{
    memset(tmp, 0, C * sizeof *tmp);
    for (size_t r = 0; r < R; r++)
        for (size_t k = 0; k < C; k++) tmp[k] += (double)D[r * C + k] * D[r * C + k];
    for (size_t k = 0; k < C; k++) tmp[k] = tmp[k] > 0 ? 1 / sqrt(tmp[k] / (double)R) : 1;
    for (size_t r = 0; r < R; r++) {
        double ss = 0;
        for (size_t k = 0; k < C; k++) {
            D[r * C + k] = (float)(D[r * C + k] * tmp[k]);
            ss += (double)D[r * C + k] * D[r * C + k];
        }
        double f = ss > 0 ? 1 / sqrt(ss / (double)C) : 1;
        for (size_t k = 0; k < C; k++) D[r * C + k] = (float)(D[r * C + k] * f);
    }
}

typedef struct spike {
    double z, structured;   /* z against the shuffled null; structured part's size relative to |A| */
} spike;

static lineage_status test_pair(wt_ctx *c, const wt_rec *r, spike *out, int *ok)
{
    *ok = 0;
    wt_matrix A = {0}, B = {0};
    lineage_status st = wt_load_sample(c->a, r->ia, WT_SAMPLE_ELEMS, &A, c->err);
    if (!st) st = wt_load_sample(c->b, r->ib, WT_SAMPLE_ELEMS, &B, c->err);
    size_t R = A.rows, C = A.cols, n = R * C;
    if (st || B.rows != R || B.cols != C || R < 8 || C < 8) {
        wt_matrix_free(&A);
        wt_matrix_free(&B);
        return st;
    }
    float *D = malloc(n * sizeof *D), *S = malloc(n * sizeof *S), *T = malloc(n * sizeof *T);
    size_t mx = R > C ? R : C;
    float *u = malloc(mx * sizeof *u), *v = malloc(mx * sizeof *v);
    double *colw = malloc(mx * sizeof *colw);
    float *G = malloc(WT_SPECTRUM_GRAM_MAX * WT_SPECTRUM_GRAM_MAX * sizeof *G);
    double *gx = malloc(WT_SPECTRUM_GRAM_MAX * sizeof *gx), *gy = malloc(WT_SPECTRUM_GRAM_MAX * sizeof *gy);
    if (!D || !S || !T || !u || !v || !colw || !G || !gx || !gy) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    double saa = 0, sdd = 0;
    int finite = 1;
    for (size_t i = 0; !st && i < n; i++) {
        D[i] = B.data[i] - A.data[i];
        finite &= isfinite(D[i]) && isfinite(A.data[i]);
        saa += (double)A.data[i] * A.data[i];
        sdd += (double)D[i] * D[i];
    }
    if (!st && finite && sdd > 0 && saa > 0) {
        unit_rms(D, R, C, colw);
        transpose(D, R, C, T);
        int gram = (R <= C ? R : C) <= WT_SPECTRUM_GRAM_MAX;
        double s1 = gram ? top_sv_gram(D, T, R, C, G, gx, gy) : top_sv(D, T, R, C, u, v);
        double sum = 0, sum2 = 0;
        uint64_t seed = 0x6d70ull ^ ((uint64_t)r->ia << 20) ^ r->ib;
        for (int t = 0; t < WT_SPECTRUM_SHUFFLES; t++) {
            memcpy(S, D, n * sizeof *S);
            shuffle_floats(S, n, seed + (uint64_t)t);
            unit_rms(S, R, C, colw);   /* the same procedure as the observed residual went through */
            transpose(S, R, C, T);
            double x = gram ? top_sv_gram(S, T, R, C, G, gx, gy) : top_sv(S, T, R, C, u, v);
            sum += x;
            sum2 += x * x;
        }
        double k = WT_SPECTRUM_SHUFFLES, mean = sum / k, var = (sum2 - sum * sum / k) / (k - 1);
        /* Tracy-Widom scale of the top singular value of an R x C matrix of unit-variance entries */
        double tw = 0.5 * cbrt(1 / sqrt((double)R) + 1 / sqrt((double)C)) * TW1_SD;
        double sd = fmax(var > 0 ? sqrt(var) : 0, tw);
        out->z = (s1 - mean) / sd;
        /* the spike's strength theta from the top singular value (BBP: y^2 = (theta^2 + R)(theta^2 + C)
         * / theta^2 in units of the bulk's sigma, here 1), as a share of the residual's energy, then of |A| */
        double y2 = s1 * s1, b = y2 - (double)R - (double)C, disc = b * b - 4.0 * (double)R * (double)C;
        double theta2 = s1 > sqrt((double)R) + sqrt((double)C) && disc >= 0 ? (b + sqrt(disc)) / 2 : 0;
        out->structured = sqrt(fmin(1, theta2 / (double)n)) * sqrt(sdd / saa);
        *ok = 1;
    }
    free(D);
    free(S);
    free(u);
    free(v);
    free(colw);
    free(T);
    free(G);
    free(gx);
    free(gy);
    wt_matrix_free(&A);
    wt_matrix_free(&B);
    return st;
}

static int bool_of(const json_value *s, const char *kind, const char *k)
{
    return json_is_true(json_get(json_get(s, kind), k));
}

lineage_status wt_stage_spectrum(wt_ctx *c, json_value *summary)
{
    if (!bool_of(summary, "noised", "detected")) return LINEAGE_OK;
    arena *ar = c->ar;
    json_value *o = json_new_object(ar);
    if (!o || !json_set(ar, summary, "trained_under_noise", o)) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    /* under a recovered hidden permutation the index-aligned residual compares unrelated channels */
    if (bool_of(summary, "permuted", "detected")) {
        return json_set_bool(ar, o, "detected", 0) && json_set_str(ar, o, "not_tested", "under a permutation")
                   ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    }
    int rescaled = bool_of(summary, "rescaled", "detected");
    size_t *idx = malloc((c->nrecs + 1) * sizeof *idx), ne = 0;
    if (!idx) return error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < c->nrecs; i++) {
        const wt_rec *r = &c->recs[i];
        if (r->low_info || r->degenerate || strcmp(r->align, "none") || !(r->z > 5)) continue;
        int global;
        /* a rescaling leaves the raw residual of the matrices reading a norm structured (its columns
         * scaled): only the others are read then */
        if (rescaled && wt_norm_read_by(r->role, &global)) continue;
        idx[ne++] = i;
    }
    size_t nt = ne < WT_SPECTRUM_MAX ? ne : WT_SPECTRUM_MAX, tested = 0, spiked = 0;
    double zsum = 0, *sizes = malloc((nt + 1) * sizeof *sizes);
    lineage_status st = sizes ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    size_t nsizes = 0;
    for (size_t t = 0; !st && t < nt; t++) {
        const wt_rec *r = &c->recs[idx[ne <= WT_SPECTRUM_MAX ? t : t * ne / nt]];
        spike sp;
        int ok;
        st = test_pair(c, r, &sp, &ok);
        if (st || !ok) continue;
        tested++;
        zsum += sp.z;
        if (sp.z >= 3) {
            spiked++;
            sizes[nsizes++] = sp.structured;
        }
    }
    free(idx);
    if (st) {
        free(sizes);
        return st;
    }
    double Z = tested ? zsum / sqrt((double)tested) : NAN;
    double size = nsizes ? stats_quantile(sizes, nsizes, 0.5) : NAN;
    free(sizes);
    int detected = tested >= 4 && Z >= 5;
    int ok = json_set_bool(ar, o, "detected", detected) && json_set_int(ar, o, "tensors", (int64_t)tested) &&
             json_set_int(ar, o, "above_bulk", (int64_t)spiked) &&
             (isfinite(Z) ? json_set_double(ar, o, "z", Z) : json_set(ar, o, "z", json_new_null(ar))) &&
             (isfinite(Z) ? json_set_double(ar, o, "p", stats_p_upper(Z)) : json_set(ar, o, "p", json_new_null(ar))) &&
             (isfinite(size) ? json_set_double(ar, o, "structured_rel", size) : json_set(ar, o, "structured_rel", json_new_null(ar))) &&
             json_set_str(ar, o, "null", "the residual's own entries shuffled (rows and columns at unit RMS first)");
    return ok ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
}
