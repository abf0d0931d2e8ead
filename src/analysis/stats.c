/* Shared statistics (stats.h). */
#include <math.h>
#include <stdlib.h>

#include "analysis/stats.h"

double stats_normal_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

double stats_p_upper(double z)
{
    double p = stats_normal_sf(z);
    if (!(p >= 1e-300)) p = 1e-300;
    return p > 1 ? 1 : p;
}

double stats_z_of_p(double p)
{
    if (p >= 1) return -40;
    if (p <= 1e-300) return 37.0;
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_normal_sf(mid) > p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

double stats_log_factorial(double k)
{
    int sign;
    return lgamma_r(k + 1, &sign);
}

double stats_fisher_p(const double *p, size_t k)
{
    if (!k) return 1.0;
    double x = 0;
    for (size_t i = 0; i < k; i++) x += -2.0 * log(p[i] < 1e-300 ? 1e-300 : (p[i] > 1 ? 1 : p[i]));
    /* chi2 survival with 2k degrees of freedom: e^{-t} sum_{i<k} t^i/i!, summed in log space */
    double t = x / 2, lmax = -INFINITY;
    for (size_t i = 0; i < k; i++) {
        double l = -t + (i ? (double)i * log(t) : 0) - stats_log_factorial((double)i);
        if (l > lmax) lmax = l;
    }
    double s = 0;
    for (size_t i = 0; i < k; i++) s += exp(-t + (i ? (double)i * log(t) : 0) - stats_log_factorial((double)i) - lmax);
    double p_all = exp(lmax + log(s));
    if (!(p_all >= 1e-300)) p_all = 1e-300;
    return p_all > 1 ? 1 : p_all;
}

int stats_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double stats_quantile(double *v, size_t n, double q)
{
    if (!n) return NAN;
    qsort(v, n, sizeof *v, stats_cmp_double);
    size_t k = (size_t)(q * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

/* Shell sort on an index: insertion sort is quadratic at 10^4 neurons. */
int stats_ranks_distinct(const size_t *v, size_t n, double *rank)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return 0;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t gap = n / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < n; i++)
            for (size_t j = i; j >= gap && v[idx[j - gap]] > v[idx[j]]; j -= gap) {
                size_t t = idx[j]; idx[j] = idx[j - gap]; idx[j - gap] = t;
            }
    for (size_t r = 0; r < n; r++) rank[idx[r]] = (double)r;
    free(idx);
    return 1;
}

void stats_average_ranks(const double *v, size_t n, double *r)
{
    for (size_t i = 0; i < n; i++) {
        size_t less = 0, equal = 0;
        for (size_t j = 0; j < n; j++) {
            if (v[j] < v[i]) less++;
            else if (v[j] == v[i]) equal++;
        }
        r[i] = (double)less + (double)(equal + 1) / 2.0;
    }
}

static double pearson_of(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

double stats_spearman(const double *x, const double *y, size_t n)
{
    if (n < 2) return NAN;
    double *rx = malloc(2 * n * sizeof *rx);
    if (!rx) return NAN;
    stats_average_ranks(x, n, rx);
    stats_average_ranks(y, n, rx + n);
    double r = pearson_of(rx, rx + n, n);
    free(rx);
    return r;
}

double stats_spearman_distinct(const size_t *x, const size_t *y, size_t n)
{
    if (n < 2) return NAN;
    double *rx = malloc(2 * n * sizeof *rx);
    double r = NAN;
    if (rx && stats_ranks_distinct(x, n, rx) && stats_ranks_distinct(y, n, rx + n)) r = pearson_of(rx, rx + n, n);
    free(rx);
    return r;
}

double stats_spearman_identity(const size_t *matched, size_t n)
{
    if (n < 3) return 0;
    double *rank = malloc(2 * n * sizeof *rank);
    if (!rank || !stats_ranks_distinct(matched, n, rank)) { free(rank); return 0; }
    for (size_t i = 0; i < n; i++) rank[n + i] = (double)i;
    double r = pearson_of(rank + n, rank, n);
    free(rank);
    return isnan(r) ? 0 : r;
}

uint64_t stats_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}


void stats_shuffle(size_t *perm, size_t n, uint64_t seed)
{
    uint64_t s = seed;
    for (size_t i = n; i > 1; i--) {
        s = stats_mix64(s);
        size_t j = (size_t)(s % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}
