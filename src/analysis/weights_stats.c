/* Per-pair statistics of the weights comparison: moments through the kernels, p-value helpers,
 * sampled rows with a jackknife CI, and byte digests. */
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analysis/weights.h"
#include "util/error.h"

double wt_pearson(const float *a, const float *b, size_t n)
{
    pair_moments m;
    pair_moments_init(&m);
    pair_moments_f32(a, b, n, &m);
    return moments_pearson(&m);
}

double wt_p_upper(double z)
{
    double p = 0.5 * erfc(z / sqrt(2.0));
    if (!(p >= 1e-300)) p = 1e-300;
    return p > 1 ? 1 : p;
}

double wt_z_of_p(double p)
{
    if (p >= 1) return -40;
    if (p <= 1e-300) return 37.0;
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(mid / sqrt(2.0)) > p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double wt_fisher_p(const double *p, size_t k)
{
    if (!k) return 1.0;
    double x = 0;
    for (size_t i = 0; i < k; i++) x += -2.0 * log(p[i] < 1e-300 ? 1e-300 : (p[i] > 1 ? 1 : p[i]));
    /* chi2 survival with 2k degrees of freedom: e^{-t} sum_{i<k} t^i/i!, summed in log space */
    double t = x / 2, lmax = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        double l = -t + (i ? (double)i * log(t) : 0) - lgamma((double)i + 1);
        if (l > lmax) lmax = l;
    }
    double s = 0;
    for (size_t i = 0; i < k; i++) s += exp(-t + (i ? (double)i * log(t) : 0) - lgamma((double)i + 1) - lmax);
    double p_all = exp(lmax + log(s));
    if (!(p_all >= 1e-300)) p_all = 1e-300;
    return p_all > 1 ? 1 : p_all;
}

double wt_spearman_identity(const size_t *matched, size_t n)
{
    if (n < 3) return 0;
    /* ranks of matched values (they are distinct) */
    size_t *order = malloc(n * sizeof *order);
    double *rank = malloc(n * sizeof *rank);
    if (!order || !rank) { free(order); free(rank); return 0; }
    for (size_t i = 0; i < n; i++) order[i] = i;
    /* insertion-free ranking: sort indices by matched value */
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++)
            for (size_t j = i; j >= gap && matched[order[j - gap]] > matched[order[j]]; j -= gap) {
                size_t t = order[j]; order[j] = order[j - gap]; order[j - gap] = t;
            }
    for (size_t i = 0; i < n; i++) rank[order[i]] = (double)i;
    double mean = (double)(n - 1) / 2, sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += ((double)i - mean) * (rank[i] - mean);
        sxx += ((double)i - mean) * ((double)i - mean);
    }
    free(order);
    free(rank);
    return sxx > 0 ? sxy / sxx : 0;
}

void wt_stats_from_moments(const pair_moments *m, wt_pair_stats *s)
{
    s->m = *m;
    s->n = m->n;
    s->cosine = moments_cosine(m);
    s->centered = moments_pearson(m);
    s->rel_l2 = moments_rel_l2(m);
    s->max_abs_diff = m->max_abs_diff;
    s->equal_fraction = m->n ? (double)m->n_equal / (double)m->n : 0;
    s->value_identical = m->n > 0 && m->n_equal == m->n;
    s->scale_ratio = m->sum_aa > 0 ? sqrt(m->sum_bb / m->sum_aa) : 0;
    double n = (double)m->n;
    double va = n > 1 ? m->sum_aa - m->sum_a * m->sum_a / n : 0;
    double vb = n > 1 ? m->sum_bb - m->sum_b * m->sum_b / n : 0;
    double cov = n > 1 ? m->sum_ab - m->sum_a * m->sum_b / n : 0;
    s->slope = va > 0 ? cov / va : 0;
    s->var_ratio = va > 0 ? vb / va : 0;
}

void wt_ci_from_groups(const pair_moments *groups, size_t ngroups, double *lo, double *hi)
{
    pair_moments all;
    pair_moments_init(&all);
    for (size_t g = 0; g < ngroups; g++) pair_moments_merge(&all, &groups[g]);
    double est = moments_pearson(&all), sum = 0, sum2 = 0;
    size_t k = 0;
    for (size_t g = 0; g < ngroups; g++) {
        if (!groups[g].n) continue;
        pair_moments loo;
        pair_moments_init(&loo);
        for (size_t h = 0; h < ngroups; h++) if (h != g) pair_moments_merge(&loo, &groups[h]);
        double v = moments_pearson(&loo);
        sum += v;
        sum2 += v * v;
        k++;
    }
    double se = 0;
    if (k > 1) {
        double mean = sum / (double)k, var = sum2 / (double)k - mean * mean;
        se = sqrt((double)(k - 1) * (var > 0 ? var : 0));
    }
    *lo = est - 1.96 * se;
    *hi = est + 1.96 * se;
    if (*lo < -1) *lo = -1;
    if (*hi > 1) *hi = 1;
}

#define WT_GROUPS 16
#define WT_CHUNK_ELEMS (1u << 16)

lineage_status wt_pair_stats_compute(const lineage_model *a, size_t ia, const lineage_model *b, size_t ib,
                                     double sample, wt_pair_stats *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    const lineage_tensor_info *ta = lineage_model_tensor(a, ia), *tb = lineage_model_tensor(b, ib);
    if (ta->rows != tb->rows || ta->cols != tb->cols)
        return error_set(err, LINEAGE_E_USAGE, "%s: shapes differ", ta->name);
    size_t cols = (size_t)ta->cols ? (size_t)ta->cols : 1;
    size_t chunk_rows = WT_CHUNK_ELEMS / cols ? WT_CHUNK_ELEMS / cols : 1;
    float *ba = malloc(chunk_rows * cols * sizeof(float)), *bb = malloc(chunk_rows * cols * sizeof(float));
    pair_moments groups[WT_GROUPS];
    for (int g = 0; g < WT_GROUPS; g++) pair_moments_init(&groups[g]);
    lineage_status st = (!ba || !bb) ? error_set(err, LINEAGE_E_NOMEM, "out of memory") : LINEAGE_OK;
    int sampling = sample < 1 && ta->rows > 1;
    uint64_t cut = sampling ? (uint64_t)(sample * 18446744073709551615.0) : 0;
    uint64_t taken = 0;
    for (uint64_t r = 0; !st && r < ta->rows;) {
        uint64_t k;
        if (sampling) {
            /* one row at a time: a seeded hash decides membership and its jackknife group */
            uint64_t h = wt_mix64(r ^ 0x6c696e65616765ull);
            int last = r + 1 == ta->rows && taken == 0;
            if (h > cut && !last) { r++; continue; }
            k = 1;
            st = lineage_tensor_read_rows_f32(a, ia, r, 1, ba, err);
            if (!st) st = lineage_tensor_read_rows_f32(b, ib, r, 1, bb, err);
            if (!st) pair_moments_f32(ba, bb, cols, &groups[wt_mix64(h) % WT_GROUPS]);
            taken++;
        } else {
            k = ta->rows - r < chunk_rows ? ta->rows - r : chunk_rows;
            st = lineage_tensor_read_rows_f32(a, ia, r, k, ba, err);
            if (!st) st = lineage_tensor_read_rows_f32(b, ib, r, k, bb, err);
            if (!st) pair_moments_f32(ba, bb, (size_t)k * cols, &groups[(r / chunk_rows) % WT_GROUPS]);
        }
        r += k;
    }
    free(ba);
    free(bb);
    if (st) return st;
    pair_moments all;
    pair_moments_init(&all);
    for (int g = 0; g < WT_GROUPS; g++) pair_moments_merge(&all, &groups[g]);
    wt_stats_from_moments(&all, out);
    out->sampled = sampling;
    if (sampling) wt_ci_from_groups(groups, WT_GROUPS, &out->ci_lo, &out->ci_hi);
    return LINEAGE_OK;
}

lineage_status wt_tensor_digest(const lineage_model *m, size_t idx, char xxh[33], char *sha, lineage_error *err)
{
    const void *bytes;
    uint64_t n;
    lineage_status st = lineage_tensor_raw(m, idx, &bytes, &n, err);
    if (st) return st;
    XXH128_hash_t h = XXH3_128bits(bytes, (size_t)n);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, h);
    for (int i = 0; i < 16; i++) snprintf(xxh + 2 * i, 3, "%02x", c.digest[i]);
    if (sha) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (!EVP_Digest(bytes, (size_t)n, md, &len, EVP_sha256(), NULL) || len != 32)
            return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: SHA-256 failed", m->path);
        for (unsigned i = 0; i < 32; i++) snprintf(sha + 2 * i, 3, "%02x", md[i]);
    }
    return LINEAGE_OK;
}
