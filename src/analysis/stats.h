/* The statistics every analysis shares (weights, behaviour, activations): normal tails, Fisher's
 * combination, ranks and Spearman, quantiles, a seeded generator. One implementation of each. */
#ifndef LINEAGE_ANALYSIS_STATS_H
#define LINEAGE_ANALYSIS_STATS_H
#include <stddef.h>
#include <stdint.h>

/* Upper tail of the standard normal, P(Z > z). */
double stats_normal_sf(double z);
/* The same clamped to [1e-300, 1] (safe to take logs of). */
double stats_p_upper(double z);
/* Upper-tail z of a one-sided p (inverse of stats_p_upper). */
double stats_z_of_p(double p);
/* log(k!) without lgamma's process-wide signgam (thread-safe). */
double stats_log_factorial(double k);
/* Fisher's combination: -2 sum ln p ~ chi2(2k); returns the combined p (1 when k is 0). */
double stats_fisher_p(const double *p, size_t k);

/* qsort comparator for doubles, ascending. */
int stats_cmp_double(const void *x, const void *y);
/* q-quantile (nearest rank) of v[0..n); sorts v in place; NaN when n is 0. */
double stats_quantile(double *v, size_t n, double q);

/* Ranks 0..n-1 of n distinct values; 0 on allocation failure. */
int stats_ranks_distinct(const size_t *v, size_t n, double *rank);
/* 1-based ranks with ties averaged. */
void stats_average_ranks(const double *v, size_t n, double *r);
/* Spearman rank correlation with ties averaged; NaN when n < 2 or a side is constant. */
double stats_spearman(const double *x, const double *y, size_t n);
/* Spearman of two vectors of distinct values (matchings); NaN when n < 2. */
double stats_spearman_distinct(const size_t *x, const size_t *y, size_t n);
/* Spearman of matched[i] against i; 0 when n < 3. */
double stats_spearman_identity(const size_t *matched, size_t n);

/* splitmix64 mixing of one value, and one step of the seeded generator it drives. */
uint64_t stats_mix64(uint64_t x);
/* inline: shuffles and bootstraps draw one per element */
static inline uint64_t stats_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Fisher-Yates with that generator. */
void stats_shuffle(size_t *perm, size_t n, uint64_t seed);
#endif
