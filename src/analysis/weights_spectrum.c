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
#include "util/error.h"

#define WT_SPECTRUM_MAX 48       /* tensors tested */
#define WT_SPECTRUM_SHUFFLES 8   /* shuffled copies per tensor */
#define WT_SPECTRUM_ITERS 30     /* power iterations */
#define TW1_SD 1.2680            /* standard deviation of the Tracy-Widom (beta = 1) law */

/* Top singular value of D (R x C) by power iteration from a fixed start. */
static double top_sv(const float *D, size_t R, size_t C, double *u, double *v)
{
    uint64_t st = 0x7370656374ull;
    for (size_t k = 0; k < C; k++) v[k] = (double)(stats_next(&st) >> 11) / 9007199254740992.0 - 0.5;
    double s = 0;
    for (int it = 0; it < WT_SPECTRUM_ITERS; it++) {
        double nu = 0;
        for (size_t r = 0; r < R; r++) {
            const float *row = D + r * C;
            double x = 0;
            for (size_t k = 0; k < C; k++) x += row[k] * v[k];
            u[r] = x;
            nu += x * x;
        }
        nu = sqrt(nu);
        if (!(nu > 0)) return 0;
        for (size_t r = 0; r < R; r++) u[r] /= nu;
        memset(v, 0, C * sizeof *v);
        for (size_t r = 0; r < R; r++) {
            const float *row = D + r * C;
            double ur = u[r];
            for (size_t k = 0; k < C; k++) v[k] += ur * row[k];
        }
        double nv = 0;
        for (size_t k = 0; k < C; k++) nv += v[k] * v[k];
        s = sqrt(nv);
        if (!(s > 0)) return 0;
        for (size_t k = 0; k < C; k++) v[k] /= s;
    }
    return s;
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
    float *D = malloc(n * sizeof *D), *S = malloc(n * sizeof *S);
    size_t mx = R > C ? R : C;
    double *u = malloc(mx * sizeof *u), *v = malloc(mx * sizeof *v);
    size_t *perm = malloc(n * sizeof *perm);
    if (!D || !S || !u || !v || !perm) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    double saa = 0, sdd = 0;
    int finite = 1;
    for (size_t i = 0; !st && i < n; i++) {
        D[i] = B.data[i] - A.data[i];
        finite &= isfinite(D[i]) && isfinite(A.data[i]);
        saa += (double)A.data[i] * A.data[i];
        sdd += (double)D[i] * D[i];
    }
    if (!st && finite && sdd > 0 && saa > 0) {
        unit_rms(D, R, C, v);
        double s1 = top_sv(D, R, C, u, v);
        double sum = 0, sum2 = 0;
        uint64_t seed = 0x6d70ull ^ ((uint64_t)r->ia << 20) ^ r->ib;
        for (int t = 0; t < WT_SPECTRUM_SHUFFLES; t++) {
            for (size_t i = 0; i < n; i++) perm[i] = i;
            stats_shuffle(perm, n, seed + (uint64_t)t);
            for (size_t i = 0; i < n; i++) S[i] = D[perm[i]];
            unit_rms(S, R, C, v);   /* the same procedure as the observed residual went through */
            double x = top_sv(S, R, C, u, v);
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
    free(perm);
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
