/* Training under a noise. An i.i.d. noise added to every tensor has no preferred direction: the
 * residual B - A of a noised pair is a random matrix whose top singular value sits at the
 * Marchenko-Pastur bulk edge, sigma (sqrt(R) + sqrt(C)), within Tracy-Widom fluctuations. A training
 * update is structured (its gradient directions are shared by many rows: low rank on top of a bulk),
 * and a structured part strong enough to clear the BBP threshold pushes the top singular value out of
 * the bulk. The null is the residual itself with its entries resampled (i.i.d. entries from exactly
 * the residual's values, so a heavy-tailed or non-Gaussian noise is its own control); before that,
 * rows and columns are scaled to unit RMS (and so is every resampled copy), so a noise whose size varies by row or column (e.g. in
 * proportion to the weights) is not taken for structure: a diagonal scaling keeps a low-rank part low
 * rank. Run only when the noise test fired, on index-aligned pairs (at most WT_SPECTRUM_MAX tensors,
 * evenly spaced; samples of WT_SAMPLE_ELEMS elements). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "kernels/kernels.h"
#include "util/bigmem.h"
#include "util/error.h"
#include "util/parallel.h"

#define WT_SPECTRUM_MAX 32       /* tensors tested */
#define WT_SPECTRUM_FIRST 16     /* more than this: two looks */
#define WT_SPECTRUM_FUTILE_Z 2.0 /* the first look's combined z below which the second is not run */
#define WT_SPECTRUM_SHUFFLES 6   /* resampled copies per tensor */
#define WT_SPECTRUM_ITERS 24     /* power iterations */
#define TW1_SD 1.2680            /* standard deviation of the Tracy-Widom (beta = 1) law */

/* Top singular value of D (R x C; DT its transpose) by power iteration from a fixed start, both
 * products through the vectorized dot kernel (u: R floats, v: C floats). */
/* Scales x to unit length; returns its former length (0 when it had none, x left as it was). */
static double normalize(float *x, size_t n)
{
    double nn = 0;
    for (size_t i = 0; i < n; i++) nn += (double)x[i] * x[i];
    nn = sqrt(nn);
    if (!(nn > 0)) return 0;
    for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] / nn);
    return nn;
}

static double top_sv(const float *D, const float *DT, size_t R, size_t C, float *u, float *v)
{
    uint64_t st = 0x7370656374ull;
    for (size_t k = 0; k < C; k++) v[k] = (float)((double)(stats_next(&st) >> 11) / 9007199254740992.0 - 0.5);
    double s = 0;
    for (int it = 0; it < WT_SPECTRUM_ITERS; it++) {
        dot_matrix_f32(D, R, v, 1, C, u);
        if (!(normalize(u, R) > 0)) return 0;
        dot_matrix_f32(DT, C, u, 1, R, v);
        s = normalize(v, C);
        if (!(s > 0)) return 0;
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

/* dst[i] = src[j] with j drawn uniformly, independently for every i: i.i.d. entries from the residual's
 * own values (a bootstrap). The draws come from splitmix64 of a counter, two 32-bit indices per
 * draw, so no step waits on the one before (a Fisher-Yates shuffle of the same copy was a third of
 * the test's time). n < 2^32. */
static void resample_floats(const float *src, float *dst, size_t n, uint64_t seed)
{
    size_t i = 0;
    for (uint64_t c = 1; i + 1 < n; c++, i += 2) {
        uint64_t z = seed + c * 0x9e3779b97f4a7c15ull;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        dst[i] = src[((z & 0xffffffffu) * (uint64_t)n) >> 32];
        dst[i + 1] = src[((z >> 32) * (uint64_t)n) >> 32];
    }
    if (i < n) dst[i] = src[((seed >> 7) % n)];
}

/* Columns, then rows, to unit RMS (zero ones left as they are). Every loop is a whole number of
 * 8-float blocks plus a tail, all in float, so the compiler vectorizes it at -O2 (this runs 7 times per
 * tested tensor; only scale factors come out of the sums, and float carries them to 1e-6). */
#define RMS_LANES 8

static void unit_rms(float *restrict D, size_t R, size_t C, float *restrict cs, float *restrict cf)
{
    size_t C8 = C / RMS_LANES * RMS_LANES;
    memset(cs, 0, C * sizeof *cs);
    for (size_t r = 0; r < R; r++) {
        const float *restrict x = D + r * C;
        for (size_t k = 0; k < C8; k += RMS_LANES)
            for (int l = 0; l < RMS_LANES; l++) cs[k + l] += x[k + l] * x[k + l];
        for (size_t k = C8; k < C; k++) cs[k] += x[k] * x[k];
    }
    for (size_t k = 0; k < C; k++) cf[k] = cs[k] > 0 ? (float)(1 / sqrt((double)cs[k] / (double)R)) : 1.0f;
    for (size_t r = 0; r < R; r++) {
        float *restrict x = D + r * C;
        float acc[RMS_LANES] = {0};
        for (size_t k = 0; k < C8; k += RMS_LANES)
            for (int l = 0; l < RMS_LANES; l++) {
                x[k + l] *= cf[k + l];
                acc[l] += x[k + l] * x[k + l];
            }
        double ss = 0;
        for (int l = 0; l < RMS_LANES; l++) ss += acc[l];
        for (size_t k = C8; k < C; k++) {
            x[k] *= cf[k];
            ss += (double)x[k] * x[k];
        }
        float f = (float)(ss > 0 ? 1 / sqrt(ss / (double)C) : 1);
        for (size_t k = 0; k < C8; k += RMS_LANES)
            for (int l = 0; l < RMS_LANES; l++) x[k + l] *= f;
        for (size_t k = C8; k < C; k++) x[k] *= f;
    }
}

typedef struct spike {
    double z, structured;   /* z against the shuffled null; structured part's size relative to |A| */
    double detectable;      /* the structured size at the BBP threshold (theta^2 = sqrt(R C)), relative to |A| */
} spike;

/* Every buffer of one test in one huge-page block (util/bigmem.h: page by page, the ~1.3 MB of a
 * 65 536-element test would cost ~5 ms of page faults on these VMs, more than the test itself). */
/* A worker's buffers for one test, in one huge-page block reused from test to test (page by page,
 * the ~1.3 MB of a 65 536-element test would cost ~5 ms of page faults on these VMs). */
typedef struct spectrum_scratch {
    float *A, *B, *D, *S, *T, *u, *v, *cs, *cf, *G;
    double *gx, *gy;
    void *block;
    size_t bytes;
} spectrum_scratch;

static int scratch_reserve(spectrum_scratch *x, size_t n, size_t mx)
{
    size_t nf = 5 * n + 4 * mx + WT_SPECTRUM_GRAM_MAX * WT_SPECTRUM_GRAM_MAX, nd = 2 * WT_SPECTRUM_GRAM_MAX;
    nf += nf % 2;   /* the doubles after the floats stay 8-byte aligned */
    size_t bytes = nf * sizeof(float) + nd * sizeof(double);
    if (bytes > x->bytes) {
        bigmem_free(x->block, x->bytes);
        x->bytes = 0;
        x->block = bigmem_alloc(bytes);
        if (!x->block) return 0;
        x->bytes = bytes;
    }
    float *f = x->block;
    x->A = f; x->B = f + n; x->D = f + 2 * n; x->S = f + 3 * n; x->T = f + 4 * n;
    x->u = f + 5 * n; x->v = x->u + mx; x->cs = x->v + mx; x->cf = x->cs + mx; x->G = x->cf + mx;
    double *d = (double *)(void *)(f + nf);
    x->gx = d; x->gy = x->gx + WT_SPECTRUM_GRAM_MAX;
    return 1;
}

static lineage_status test_pair(const wt_ctx *c, const wt_rec *r, spectrum_scratch *xs, spike *out, int *ok,
                                lineage_error *err)
{
    *ok = 0;
    const lineage_tensor_info *ta = lineage_model_tensor(c->a, r->ia), *tb = lineage_model_tensor(c->b, r->ib);
    size_t R = wt_sample_row_count(ta, WT_SAMPLE_ELEMS), C = (size_t)ta->cols, n = R * C;
    if (wt_sample_row_count(tb, WT_SAMPLE_ELEMS) != R || (size_t)tb->cols != C || R < 8 || C < 8) return LINEAGE_OK;
    size_t mx = R > C ? R : C;
    if (!scratch_reserve(xs, n, mx)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    spectrum_scratch x = *xs;
    float *A = x.A, *D = x.D, *S = x.S, *T = x.T;
    lineage_status st = wt_read_sample(c->a, r->ia, WT_SAMPLE_ELEMS, A, err);
    if (!st) st = wt_read_sample(c->b, r->ib, WT_SAMPLE_ELEMS, x.B, err);
    double saa = 0, sdd = 0;
    int finite = 1;
    for (size_t i = 0; !st && i < n; i++) {
        D[i] = x.B[i] - A[i];
        finite &= isfinite(D[i]) && isfinite(A[i]);
        saa += (double)A[i] * A[i];
        sdd += (double)D[i] * D[i];
    }
    if (!st && finite && sdd > 0 && saa > 0) {
        int gram = (R <= C ? R : C) <= WT_SPECTRUM_GRAM_MAX, need_t = !(gram && R <= C);
        unit_rms(D, R, C, x.cs, x.cf);
        if (need_t) transpose(D, R, C, T);
        double s1 = gram ? top_sv_gram(D, T, R, C, x.G, x.gx, x.gy) : top_sv(D, T, R, C, x.u, x.v);
        double sum = 0, sum2 = 0;
        uint64_t seed = 0x6d70ull ^ ((uint64_t)r->ia << 20) ^ r->ib;
        for (int t = 0; t < WT_SPECTRUM_SHUFFLES; t++) {
            resample_floats(D, S, n, stats_mix64(seed + (uint64_t)t));
            unit_rms(S, R, C, x.cs, x.cf);   /* the same procedure as the observed residual went through */
            if (need_t) transpose(S, R, C, T);
            double y = gram ? top_sv_gram(S, T, R, C, x.G, x.gx, x.gy) : top_sv(S, T, R, C, x.u, x.v);
            sum += y;
            sum2 += y * y;
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
        /* below the BBP threshold a structured part stays inside the bulk, whatever its rank */
        out->detectable = sqrt(fmin(1, sqrt((double)R * (double)C) / (double)n)) * sqrt(sdd / saa);
        *ok = 1;
    }
    return st;
}

/* The tested tensors are independent: spread over the threads, each result in its own slot. */
typedef struct spectrum_task {
    const wt_rec *rec;
    spike sp;
    int ok;
    lineage_status st;
    lineage_error err;
} spectrum_task;

typedef struct spectrum_job {
    const wt_ctx *c;
    spectrum_task *tasks;
    spectrum_scratch *scratch;   /* one per worker */
    const size_t *order;         /* the look's tasks */
} spectrum_job;

static void spectrum_one(void *ctx, size_t i, int worker)
{
    spectrum_job *j = ctx;
    spectrum_task *k = &j->tasks[j->order[i]];
    k->st = test_pair(j->c, k->rec, &j->scratch[worker], &k->sp, &k->ok, &k->err);
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
    double zsum = 0, *sizes = malloc((nt + 1) * sizeof *sizes), *floors = malloc((nt + 1) * sizeof *floors);
    lineage_status st = sizes && floors ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    size_t nsizes = 0, nfloors = 0;
    spectrum_job j = {c, NULL, NULL, NULL};
    int workers = parallel_workers(nt, wt_threads(c->opt));
    j.scratch = calloc((size_t)workers + 1, sizeof *j.scratch);
    if (!st && !j.scratch) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    j.tasks = calloc(nt + 1, sizeof *j.tasks);
    if (!st && !j.tasks) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t t = 0; !st && t < nt; t++) j.tasks[t].rec = &c->recs[idx[ne <= WT_SPECTRUM_MAX ? t : t * ne / nt]];
    /* two looks when there are more than WT_SPECTRUM_FIRST tensors: every other tensor first, and the
     * rest only when that half leaves any doubt (a futility stop: it can only lower the false-alarm
     * rate; every detection is decided on all the tensors, as with one look) */
    size_t *order = malloc((nt + 1) * sizeof *order), first = nt > WT_SPECTRUM_FIRST ? (nt + 1) / 2 : nt, looked = nt;
    if (!st && !order) st = error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t t = 0, k = 0; order && t < nt; t += 2) order[k++] = t;
    for (size_t t = 1, k = (nt + 1) / 2; order && t < nt; t += 2) order[k++] = t;
    j.order = order;
    if (!st) parallel_for(first, wt_threads(c->opt), spectrum_one, &j);
    if (!st && first < nt) {
        double z1 = 0;
        size_t n1 = 0;
        for (size_t t = 0; t < first; t++)
            if (!j.tasks[order[t]].st && j.tasks[order[t]].ok) {
                z1 += j.tasks[order[t]].sp.z;
                n1++;
            }
        int failed = 0;
        for (size_t t = 0; t < first; t++) failed |= j.tasks[order[t]].st != LINEAGE_OK;
        /* a failure is reported below, in tensor order */
        if (failed || (n1 && z1 / sqrt((double)n1) < WT_SPECTRUM_FUTILE_Z)) looked = first;
        else {
            spectrum_job rest = {c, j.tasks, j.scratch, order + first};
            parallel_for(nt - first, wt_threads(c->opt), spectrum_one, &rest);
        }
    }
    /* a task of the second look not run counts as not tested */
    for (size_t t = looked; t < nt; t++) j.tasks[order[t]].ok = 0;
    free(order);
    /* results in tensor order whatever the threads did: the first failure is the error */
    for (size_t t = 0; !st && t < nt; t++) {
        const spectrum_task *k = &j.tasks[t];
        if (k->st) {
            st = k->st;
            *c->err = k->err;
            break;
        }
        if (!k->ok) continue;
        tested++;
        zsum += k->sp.z;
        floors[nfloors++] = k->sp.detectable;
        if (k->sp.z >= 3) {
            spiked++;
            sizes[nsizes++] = k->sp.structured;
        }
    }
    for (int w = 0; j.scratch && w < workers; w++) bigmem_free(j.scratch[w].block, j.scratch[w].bytes);
    free(j.scratch);
    free(j.tasks);
    free(idx);
    if (st) {
        free(sizes);
        free(floors);
        return st;
    }
    double Z = tested ? zsum / sqrt((double)tested) : NAN;
    double size = nsizes ? stats_quantile(sizes, nsizes, 0.5) : NAN;
    double floor_rel = nfloors ? stats_quantile(floors, nfloors, 0.5) : NAN;
    free(sizes);
    free(floors);
    int detected = tested >= 4 && Z >= 5;
    int ok = json_set_bool(ar, o, "detected", detected) && json_set_int(ar, o, "tensors", (int64_t)tested) &&
             json_set_int(ar, o, "planned", (int64_t)nt) && json_set_int(ar, o, "looks", looked < nt ? 1 : first < nt ? 2 : 1) &&
             json_set_int(ar, o, "above_bulk", (int64_t)spiked) &&
             (isfinite(Z) ? json_set_double(ar, o, "z", Z) : json_set(ar, o, "z", json_new_null(ar))) &&
             (isfinite(Z) ? json_set_double(ar, o, "p", stats_p_upper(Z)) : json_set(ar, o, "p", json_new_null(ar))) &&
             (isfinite(size) ? json_set_double(ar, o, "structured_rel", size) : json_set(ar, o, "structured_rel", json_new_null(ar))) &&
             (isfinite(floor_rel) ? json_set_double(ar, o, "detectable_rel", floor_rel) : json_set(ar, o, "detectable_rel", json_new_null(ar))) &&
             json_set_str(ar, o, "null", "the residual's own entries resampled with replacement (rows and columns at unit RMS first)");
    return ok ? LINEAGE_OK : error_set(c->err, LINEAGE_E_NOMEM, "out of memory");
}
