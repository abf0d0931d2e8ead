/* Per-ISA kernel entry points behind the dispatch table in kernels.c. */
#ifndef LINEAGE_ANALYSIS_KERNELS_IMPL_H
#define LINEAGE_ANALYSIS_KERNELS_IMPL_H
#include <string.h>

#include "kernels/kernels.h"
#include "format/dtype.h"

void pair_moments_f32_avx2(const float *a, const float *b, size_t n, pair_moments *acc);
void pair_moments_bf16_avx2(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void pair_moments_f16_avx2(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void dot_matrix_f32_avx2(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out);
void standardize_f32_avx2(float *x, size_t n, double mean, double inv);

void pair_moments_f32_avx512(const float *a, const float *b, size_t n, pair_moments *acc);
void pair_moments_bf16_avx512(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void pair_moments_f16_avx512(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc);
void dot_matrix_f32_avx512(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out);
void standardize_f32_avx512(float *x, size_t n, double mean, double inv);

/* Fast paths accumulate a-c and b-c in f32 lanes, with c the mean of a's first elements when that
 * mean dominates their spread (else 0): the lane sums then carry n*var instead of
 * n*(mean^2+var), so the pearson of a norm weight (mean 1, spread 0.05) keeps its digits.
 * c is representable in the element type so padding a tail with (c, c) adds nothing. */
#define SHIFT_PREFIX 64

static inline float shift_estimate(const float *v, size_t k)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < k; i++) {
        s += v[i];
        ss += (double)v[i] * v[i];
    }
    if (k < 2) return 0.0f;   /* one value gives no spread to compare the mean with */
    double mean = s / (double)k, var = ss / (double)k - mean * mean;
    return mean - mean == 0 && mean * mean > var ? (float)mean : 0.0f;
}

/* The shift for n elements of a 2-byte or 4-byte float type, and its raw bits for padding. */
static inline float shift_bf16(const void *a, size_t n, unsigned char bits[4])
{
    float v[SHIFT_PREFIX];
    size_t k = n < SHIFT_PREFIX ? n : SHIFT_PREFIX;
    for (size_t i = 0; i < k; i++) {
        uint16_t h;
        memcpy(&h, (const unsigned char *)a + 2 * i, 2);
        v[i] = bf16_to_f32(h);
    }
    uint16_t h = f32_to_bf16(shift_estimate(v, k));
    memcpy(bits, &h, 2);
    return bf16_to_f32(h);
}

static inline float shift_f16(const void *a, size_t n, unsigned char bits[4])
{
    float v[SHIFT_PREFIX];
    size_t k = n < SHIFT_PREFIX ? n : SHIFT_PREFIX;
    for (size_t i = 0; i < k; i++) {
        uint16_t h;
        memcpy(&h, (const unsigned char *)a + 2 * i, 2);
        v[i] = f16_to_f32(h);
    }
    uint16_t h = f32_to_f16(shift_estimate(v, k));
    float c = f16_to_f32(h);
    if (c - c != 0) h = 0, c = 0;   /* the mean rounded to f16 overflowed */
    memcpy(bits, &h, 2);
    return c;
}

static inline float shift_f32(const void *a, size_t n, unsigned char bits[4])
{
    float v[SHIFT_PREFIX];
    size_t k = n < SHIFT_PREFIX ? n : SHIFT_PREFIX;
    memcpy(v, a, k * 4);
    float c = shift_estimate(v, k);
    memcpy(bits, &c, 4);
    return c;
}

/* Turns the shifted sums back into raw ones, in double. */
static inline void moments_unshift(pair_moments *m, double c, double s_a, double s_b, double s_aa, double s_bb,
                                   double s_ab)
{
    double n = (double)m->n;
    m->sum_a = s_a + n * c;
    m->sum_b = s_b + n * c;
    m->sum_aa = s_aa + c * (2 * s_a + n * c);
    m->sum_bb = s_bb + c * (2 * s_b + n * c);
    m->sum_ab = s_ab + c * (s_a + s_b + n * c);
    /* an infinite or NaN shifted sum means the raw one is too; keep its kind */
    if (s_a - s_a != 0) m->sum_a = s_a;
    if (s_b - s_b != 0) m->sum_b = s_b;
    if (s_aa - s_aa != 0) m->sum_aa = s_aa;
    if (s_bb - s_bb != 0) m->sum_bb = s_bb;
    if (s_ab - s_ab != 0) m->sum_ab = s_ab;
}

/* Rows of B per panel so that the panel (dim floats a row) fits in about half an L2. */
static inline size_t dot_panel_rows(size_t dim)
{
    size_t rows = (512u * 1024u) / (dim ? dim * sizeof(float) : 1);
    return rows < 4 ? 4 : rows;
}
#endif
