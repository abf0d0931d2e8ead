/* Numeric kernels for the weights engine. Each has a scalar double-precision reference
 * (*_scalar) that the tests hold the dispatched fast paths to (1e-6 relative).
 *
 * Fast paths multiply, subtract and accumulate in f32 lanes and fold the lanes into double
 * accumulators every KERNELS_FOLD_ELEMS elements, so a block's rounding error stays near
 * sqrt(block/lanes) * 2^-24 of its magnitude. Values are converted exactly (f16/bf16 -> f32).
 * NaN and infinity follow IEEE in the sums (a NaN anywhere makes the sums NaN); max_abs_diff
 * ignores NaN differences; n_equal counts a == b (NaN never equal, +0 == -0). Products beyond
 * f32 range (|x| > 1.8e19) overflow to infinity on the fast paths. */
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

#define KERNELS_FOLD_ELEMS 1024

void pair_moments_init(pair_moments *m);
void pair_moments_merge(pair_moments *dst, const pair_moments *src);
void pair_moments_f32(const float *a, const float *b, size_t n, pair_moments *acc);
void pair_moments_f32_scalar(const float *a, const float *b, size_t n, pair_moments *acc);
/* Raw little-endian 16-bit floats, converted in registers (no f32 buffer). Pointers need only
 * 2-byte alignment. */
void pair_moments_bf16(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void pair_moments_bf16_scalar(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void pair_moments_f16(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void pair_moments_f16_scalar(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);

double moments_cosine(const pair_moments *m);   /* raw cosine */
double moments_pearson(const pair_moments *m);  /* centered cosine */
double moments_rel_l2(const pair_moments *m);   /* ||a-b|| / ||a|| */

/* out[i*nb + j] = dot(A row i, B row j); rows have `dim` floats. Single-threaded; blocked so a
 * panel of B stays in L2 while all of A streams past it. */
void dot_matrix_f32(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out);
void dot_matrix_f32_scalar(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out);
/* x[i] = (float)((x[i] - mean) * inv), each step in double: every variant gives the scalar one's bits. */
void standardize_f32(float *x, size_t n, double mean, double inv);
void standardize_f32_scalar(float *x, size_t n, double mean, double inv);

/* Name of the instruction set the dispatcher chose ("scalar", "avx2", "avx512"). Chosen once,
 * at first use, from cpuid; the environment variable LINEAGE_ISA=scalar|avx2|avx512 overrides
 * (ignored when the CPU lacks that ISA). */
const char *kernels_isa(void);
/* 1 when this CPU (and build) can run the named ISA. */
int kernels_isa_supported(const char *isa);
/* Switches the dispatch table (tests); returns 0, changing nothing, when unsupported. Not safe
 * while another thread runs kernels. */
int kernels_select(const char *isa);
#endif
