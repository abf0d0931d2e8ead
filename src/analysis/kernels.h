/* Numeric kernels for the weights engine. Each has a scalar double-precision reference
 * (*_scalar) that the tests hold the dispatched fast paths to (1e-6 relative). */
#ifndef LINEAGE_ANALYSIS_KERNELS_H
#define LINEAGE_ANALYSIS_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Streaming moments of a pair of equal-length vectors; partial results merge exactly. */
typedef struct pair_moments {
    uint64_t n;
    double sum_a, sum_b, sum_aa, sum_bb, sum_ab;
    double sum_dd;          /* sum of (a-b)^2, accumulated directly (no cancellation) */
    double max_abs_diff;
    uint64_t n_equal;       /* a[i] == b[i] exactly */
} pair_moments;

void pair_moments_init(pair_moments *m);
void pair_moments_merge(pair_moments *dst, const pair_moments *src);
void pair_moments_f32(const float *a, const float *b, size_t n, pair_moments *acc);
void pair_moments_f32_scalar(const float *a, const float *b, size_t n, pair_moments *acc);

double moments_cosine(const pair_moments *m);   /* raw cosine */
double moments_pearson(const pair_moments *m);  /* centered cosine */
double moments_rel_l2(const pair_moments *m);   /* ||a-b|| / ||a|| */

/* out[i*nb + j] = dot(A row i, B row j); rows have `dim` floats. */
void dot_matrix_f32(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out);
void dot_matrix_f32_scalar(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out);

/* Name of the instruction set the dispatcher chose ("scalar", "avx2", "avx512"). */
const char *kernels_isa(void);
#endif
