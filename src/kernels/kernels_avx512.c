/* AVX-512 kernels: 16 f32 lanes, folded into 8-lane double accumulators every
 * KERNELS_FOLD_ELEMS elements. bf16 pairs are widened in registers: a 32-bit lane holding two
 * bf16 values gives the even element by a 16-bit left shift and the odd one by masking. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels_impl.h"

#define INLINE static inline __attribute__((always_inline))

typedef struct lanes {
    __m512 sa, sb, saa, sbb, sab, sdd, mx;
    __m512 c;   /* shift, see moments_unshift */
    uint64_t neq;   /* equal pairs, counted from compare masks in scalar registers (no vector op) */
} lanes;

typedef struct wide {
    __m512d sa, sb, saa, sbb, sab, sdd;
    uint64_t n_equal;
} wide;

INLINE void lanes_zero(lanes *l)
{
    l->sa = l->sb = l->saa = l->sbb = l->sab = l->sdd = _mm512_setzero_ps();
    l->neq = 0;
}

/* shifted is a constant at every call: the unshifted loop (c == 0, most tensors) saves two
 * subtractions per vector. */
INLINE void step_shift(lanes *l, __m512 a, __m512 b, int shifted)
{
    __m512 d = _mm512_sub_ps(a, b);
    __m512 as = shifted ? _mm512_sub_ps(a, l->c) : a, bs = shifted ? _mm512_sub_ps(b, l->c) : b;
    l->sa = _mm512_add_ps(l->sa, as);
    l->sb = _mm512_add_ps(l->sb, bs);
    l->saa = _mm512_fmadd_ps(as, as, l->saa);
    l->sbb = _mm512_fmadd_ps(bs, bs, l->sbb);
    l->sab = _mm512_fmadd_ps(as, bs, l->sab);
    l->sdd = _mm512_fmadd_ps(d, d, l->sdd);
    l->mx = _mm512_max_ps(_mm512_abs_ps(d), l->mx);   /* NaN in the first operand keeps mx */
    l->neq += (uint64_t)__builtin_popcount(_cvtmask16_u32(_mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ)));
}

INLINE void step(lanes *l, __m512 a, __m512 b)
{
    step_shift(l, a, b, 1);
}

INLINE __m512d widen_add(__m512d d, __m512 f)
{
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(f));
    __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(f), 1)));
    return _mm512_add_pd(d, _mm512_add_pd(lo, hi));
}

INLINE void fold(wide *w, lanes *l)
{
    w->sa = widen_add(w->sa, l->sa);
    w->sb = widen_add(w->sb, l->sb);
    w->saa = widen_add(w->saa, l->saa);
    w->sbb = widen_add(w->sbb, l->sbb);
    w->sab = widen_add(w->sab, l->sab);
    w->sdd = widen_add(w->sdd, l->sdd);
    w->n_equal += l->neq;
    lanes_zero(l);
}

INLINE void finish(wide *w, lanes *l, float c, size_t n, pair_moments *acc)
{
    pair_moments m;
    m.n = n;
    moments_unshift(&m, c, _mm512_reduce_add_pd(w->sa), _mm512_reduce_add_pd(w->sb), _mm512_reduce_add_pd(w->saa),
                    _mm512_reduce_add_pd(w->sbb), _mm512_reduce_add_pd(w->sab));
    m.sum_dd = _mm512_reduce_add_pd(w->sdd);
    m.max_abs_diff = _mm512_reduce_max_ps(l->mx);
    m.n_equal = w->n_equal;
    pair_moments_merge(acc, &m);
}

INLINE void start(wide *w, lanes *l, float c)
{
    l->c = _mm512_set1_ps(c);
    w->sa = w->sb = w->saa = w->sbb = w->sab = w->sdd = _mm512_setzero_pd();
    w->n_equal = 0;
    lanes_zero(l);
    l->mx = _mm512_setzero_ps();
}

INLINE void step_bf16x32(lanes *l, const void *a, const void *b, int shifted)
{
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    __m512i xa = _mm512_loadu_si512(a), xb = _mm512_loadu_si512(b);
    step_shift(l, _mm512_castsi512_ps(_mm512_slli_epi32(xa, 16)), _mm512_castsi512_ps(_mm512_slli_epi32(xb, 16)),
               shifted);
    step_shift(l, _mm512_castsi512_ps(_mm512_and_si512(xa, hi)), _mm512_castsi512_ps(_mm512_and_si512(xb, hi)),
               shifted);
}

/* Whole 32-element groups of [i, n), folding every KERNELS_FOLD_ELEMS; returns the new i. The even
 * and odd elements go to separate accumulators (l and a second set): one chain per set halves the
 * add/FMA latency each group waits on, which bounded this loop (~50 GB/s in L2 before). */
INLINE size_t bf16_body(wide *w, lanes *l, const uint16_t *a, const uint16_t *b, size_t i, size_t n, int shifted)
{
    const __m512i hi = _mm512_set1_epi32((int)0xFFFF0000u);
    lanes odd = *l;
    lanes_zero(&odd);
    while (i + 32 <= n) {
        size_t end = n - i > KERNELS_FOLD_ELEMS ? i + KERNELS_FOLD_ELEMS : n;
        for (; i + 32 <= end; i += 32) {
            __m512i xa = _mm512_loadu_si512(a + i), xb = _mm512_loadu_si512(b + i);
            step_shift(l, _mm512_castsi512_ps(_mm512_slli_epi32(xa, 16)),
                       _mm512_castsi512_ps(_mm512_slli_epi32(xb, 16)), shifted);
            step_shift(&odd, _mm512_castsi512_ps(_mm512_and_si512(xa, hi)), _mm512_castsi512_ps(_mm512_and_si512(xb, hi)),
                       shifted);
        }
        fold(w, l);
        fold(w, &odd);
    }
    l->mx = _mm512_max_ps(odd.mx, l->mx);   /* a NaN difference is skipped either way (see step_shift) */
    return i;
}

void pair_moments_bf16_avx512(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    uint16_t cbits;
    unsigned char bits[4];
    float c = shift_bf16(a, n, bits);
    memcpy(&cbits, bits, 2);
    wide w;
    lanes l;
    start(&w, &l, c);
    size_t i = c != 0 ? bf16_body(&w, &l, a, b, 0, n, 1) : bf16_body(&w, &l, a, b, 0, n, 0);
    if (i < n) {
        uint16_t ta[32], tb[32];   /* pairs (c, c) add nothing but one equality each */
        for (size_t k = 0; k < 32; k++) ta[k] = tb[k] = cbits;
        memcpy(ta, a + i, (n - i) * 2);
        memcpy(tb, b + i, (n - i) * 2);
        step_bf16x32(&l, ta, tb, 1);
        fold(&w, &l);
        w.n_equal -= 32 - (n - i);
    }
    finish(&w, &l, c, n, acc);
}

/* f16 and f32: 16 elements per vector, two vectors per step into separate accumulator sets (as
 * bf16_body: half the latency chain), a last single vector into the first set. */
#define TWO_SET_BODY(LOAD_A, LOAD_B)                                                          \
    lanes odd = *l;                                                                            \
    lanes_zero(&odd);                                                                          \
    size_t i = 0;                                                                              \
    while (i + 16 <= n) {                                                                      \
        size_t end = n - i > KERNELS_FOLD_ELEMS ? i + KERNELS_FOLD_ELEMS : n;                  \
        for (; i + 32 <= end; i += 32) {                                                       \
            step_shift(l, LOAD_A(i), LOAD_B(i), shifted);                                      \
            step_shift(&odd, LOAD_A(i + 16), LOAD_B(i + 16), shifted);                         \
        }                                                                                      \
        if (i + 16 <= end) {                                                                   \
            step_shift(l, LOAD_A(i), LOAD_B(i), shifted);                                      \
            i += 16;                                                                           \
        }                                                                                      \
        fold(w, l);                                                                            \
        fold(w, &odd);                                                                         \
    }                                                                                          \
    l->mx = _mm512_max_ps(odd.mx, l->mx);                                                      \
    return i

#define F16_A(k) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + (k))))
#define F16_B(k) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + (k))))
#define F32_A(k) _mm512_loadu_ps(a + (k))
#define F32_B(k) _mm512_loadu_ps(b + (k))

INLINE size_t f16_body(wide *w, lanes *l, const uint16_t *a, const uint16_t *b, size_t n, int shifted)
{
    TWO_SET_BODY(F16_A, F16_B);
}

INLINE size_t f32_body(wide *w, lanes *l, const float *a, const float *b, size_t n, int shifted)
{
    TWO_SET_BODY(F32_A, F32_B);
}

void pair_moments_f16_avx512(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    unsigned char bits[4];
    float c = shift_f16(a, n, bits);
    wide w;
    lanes l;
    start(&w, &l, c);
    size_t i = c != 0 ? f16_body(&w, &l, a, b, n, 1) : f16_body(&w, &l, a, b, n, 0);
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        step(&l, _mm512_mask_blend_ps(k, l.c, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, a + i))),
             _mm512_mask_blend_ps(k, l.c, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, b + i))));
        fold(&w, &l);
        w.n_equal -= 16 - (n - i);
    }
    finish(&w, &l, c, n, acc);
}

void pair_moments_f32_avx512(const float *a, const float *b, size_t n, pair_moments *acc)
{
    unsigned char bits[4];
    float c = shift_f32(a, n, bits);
    wide w;
    lanes l;
    start(&w, &l, c);
    size_t i = c != 0 ? f32_body(&w, &l, a, b, n, 1) : f32_body(&w, &l, a, b, n, 0);
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1);
        step(&l, _mm512_mask_loadu_ps(l.c, k, a + i), _mm512_mask_loadu_ps(l.c, k, b + i));
        fold(&w, &l);
        w.n_equal -= 16 - (n - i);
    }
    finish(&w, &l, c, n, acc);
}

INLINE double hsum(__m512 f)
{
    return _mm512_reduce_add_pd(widen_add(_mm512_setzero_pd(), f));
}

#define FMA4(r) \
    c##r##0 = _mm512_fmadd_ps(a##r, b0, c##r##0); c##r##1 = _mm512_fmadd_ps(a##r, b1, c##r##1); \
    c##r##2 = _mm512_fmadd_ps(a##r, b2, c##r##2); c##r##3 = _mm512_fmadd_ps(a##r, b3, c##r##3)
#define FOLD4(r) \
    s[r][0] += hsum(c##r##0); s[r][1] += hsum(c##r##1); s[r][2] += hsum(c##r##2); s[r][3] += hsum(c##r##3); \
    c##r##0 = c##r##1 = c##r##2 = c##r##3 = _mm512_setzero_ps()

/* s[r][c] = dot(ar[r], br[c]) over dim floats, 16 accumulators in f32 folded into double. */
static void tile4x4(const float *const ar[4], const float *const br[4], size_t dim, double s[4][4])
{
    __m512 c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
    c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = _mm512_setzero_ps();
    c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = _mm512_setzero_ps();
    memset(s, 0, sizeof(double[4][4]));
    size_t k = 0;
    while (k < dim) {
        size_t end = dim - k > KERNELS_FOLD_ELEMS ? k + KERNELS_FOLD_ELEMS : dim;
        for (; k < end; k += 16) {
            __mmask16 m = end - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (end - k)) - 1);
            __m512 b0 = _mm512_maskz_loadu_ps(m, br[0] + k), b1 = _mm512_maskz_loadu_ps(m, br[1] + k);
            __m512 b2 = _mm512_maskz_loadu_ps(m, br[2] + k), b3 = _mm512_maskz_loadu_ps(m, br[3] + k);
            __m512 a0 = _mm512_maskz_loadu_ps(m, ar[0] + k), a1 = _mm512_maskz_loadu_ps(m, ar[1] + k);
            __m512 a2 = _mm512_maskz_loadu_ps(m, ar[2] + k), a3 = _mm512_maskz_loadu_ps(m, ar[3] + k);
            FMA4(0); FMA4(1); FMA4(2); FMA4(3);
        }
        k = end;
        FOLD4(0); FOLD4(1); FOLD4(2); FOLD4(3);
    }
}

void dot_matrix_f32_avx512(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out)
{
    size_t panel = dot_panel_rows(dim);
    for (size_t j0 = 0; j0 < nb; j0 += panel) {
        size_t j1 = nb - j0 > panel ? j0 + panel : nb;
        for (size_t i = 0; i < na; i += 4)
            for (size_t j = j0; j < j1; j += 4) {
                /* a partial tile repeats its first row and stores only the real ones */
                const float *ar[4], *br[4];
                for (size_t r = 0; r < 4; r++) {
                    ar[r] = A + (i + r < na ? i + r : i) * dim;
                    br[r] = B + (j + r < j1 ? j + r : j) * dim;
                }
                double s[4][4];
                tile4x4(ar, br, dim, s);
                for (size_t r = 0; r < 4 && i + r < na; r++)
                    for (size_t c = 0; c < 4 && j + c < j1; c++) out[(i + r) * nb + j + c] = (float)s[r][c];
            }
    }
}

/* 8 floats widened to double per step: the same two roundings as the scalar loop */
void standardize_f32_avx512(float *x, size_t n, double mean, double inv)
{
    const __m512d m = _mm512_set1_pd(mean), s = _mm512_set1_pd(inv);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), m), s)));
    for (; i < n; i++) x[i] = (float)((x[i] - mean) * inv);
}
