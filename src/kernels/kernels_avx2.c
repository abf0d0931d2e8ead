/* AVX2 kernels: 8 f32 lanes folded into 4-lane double accumulators every KERNELS_FOLD_ELEMS
 * elements; same widening trick for bf16 as the AVX-512 file. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels_impl.h"

#define INLINE static inline __attribute__((always_inline))
/* 8 lanes: fold twice as often as AVX-512 so each lane sums the same 64 terms */
#define FOLD (KERNELS_FOLD_ELEMS / 2)

typedef struct lanes {
    __m256 sa, sb, saa, sbb, sab, sdd, mx;
    __m256 c;   /* shift, see moments_unshift */
    __m256i neq;
} lanes;

typedef struct wide {
    __m256d sa, sb, saa, sbb, sab, sdd;
    uint64_t n_equal;
} wide;

INLINE void lanes_zero(lanes *l)
{
    l->sa = l->sb = l->saa = l->sbb = l->sab = l->sdd = _mm256_setzero_ps();
    l->neq = _mm256_setzero_si256();
}

INLINE void step(lanes *l, __m256 a, __m256 b)
{
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 d = _mm256_sub_ps(a, b);
    __m256 as = _mm256_sub_ps(a, l->c), bs = _mm256_sub_ps(b, l->c);
    l->sa = _mm256_add_ps(l->sa, as);
    l->sb = _mm256_add_ps(l->sb, bs);
    l->saa = _mm256_fmadd_ps(as, as, l->saa);
    l->sbb = _mm256_fmadd_ps(bs, bs, l->sbb);
    l->sab = _mm256_fmadd_ps(as, bs, l->sab);
    l->sdd = _mm256_fmadd_ps(d, d, l->sdd);
    l->mx = _mm256_max_ps(_mm256_and_ps(d, abs_mask), l->mx);   /* NaN in the first operand keeps mx */
    l->neq = _mm256_sub_epi32(l->neq, _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_EQ_OQ)));
}

INLINE __m256d widen_add(__m256d d, __m256 f)
{
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(f)), hi = _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
    return _mm256_add_pd(d, _mm256_add_pd(lo, hi));
}

INLINE double hsum_pd(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

INLINE uint64_t hsum_epi32(__m256i v)
{
    uint32_t t[8];
    _mm256_storeu_si256((__m256i *)t, v);
    uint64_t s = 0;
    for (int i = 0; i < 8; i++) s += t[i];
    return s;
}

INLINE float hmax_ps(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

INLINE void fold(wide *w, lanes *l)
{
    w->sa = widen_add(w->sa, l->sa);
    w->sb = widen_add(w->sb, l->sb);
    w->saa = widen_add(w->saa, l->saa);
    w->sbb = widen_add(w->sbb, l->sbb);
    w->sab = widen_add(w->sab, l->sab);
    w->sdd = widen_add(w->sdd, l->sdd);
    w->n_equal += hsum_epi32(l->neq);
    lanes_zero(l);
}

INLINE void start(wide *w, lanes *l, float c)
{
    l->c = _mm256_set1_ps(c);
    w->sa = w->sb = w->saa = w->sbb = w->sab = w->sdd = _mm256_setzero_pd();
    w->n_equal = 0;
    lanes_zero(l);
    l->mx = _mm256_setzero_ps();
}

INLINE void finish(wide *w, lanes *l, float c, size_t n, pair_moments *acc)
{
    pair_moments m;
    m.n = n;
    moments_unshift(&m, c, hsum_pd(w->sa), hsum_pd(w->sb), hsum_pd(w->saa), hsum_pd(w->sbb), hsum_pd(w->sab));
    m.sum_dd = hsum_pd(w->sdd);
    m.max_abs_diff = hmax_ps(l->mx);
    m.n_equal = w->n_equal;
    pair_moments_merge(acc, &m);
}

INLINE void step_bf16x16(lanes *l, const void *a, const void *b)
{
    const __m256i hi = _mm256_set1_epi32((int)0xFFFF0000u);
    __m256i xa = _mm256_loadu_si256((const __m256i *)a), xb = _mm256_loadu_si256((const __m256i *)b);
    step(l, _mm256_castsi256_ps(_mm256_slli_epi32(xa, 16)), _mm256_castsi256_ps(_mm256_slli_epi32(xb, 16)));
    step(l, _mm256_castsi256_ps(_mm256_and_si256(xa, hi)), _mm256_castsi256_ps(_mm256_and_si256(xb, hi)));
}

INLINE void step_f16x8(lanes *l, const void *a, const void *b)
{
    step(l, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)a)), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)b)));
}

INLINE void step_f32x8(lanes *l, const void *a, const void *b)
{
    step(l, _mm256_loadu_ps((const float *)a), _mm256_loadu_ps((const float *)b));
}

/* One driver for the three element types: W elements of `size` bytes per step. */
#define MOMENTS_DRIVER(STEP, SHIFT, W, SIZE)                                                 \
    unsigned char cbits[4];                                                                  \
    float c = SHIFT(a, n, cbits);                                                            \
    wide w;                                                                                  \
    lanes l;                                                                                 \
    start(&w, &l, c);                                                                        \
    const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;     \
    size_t i = 0;                                                                            \
    while (i + (W) <= n) {                                                                   \
        size_t end = n - i > FOLD ? i + FOLD : n;                \
        for (; i + (W) <= end; i += (W)) STEP(&l, pa + i * (SIZE), pb + i * (SIZE));         \
        fold(&w, &l);                                                                        \
    }                                                                                        \
    if (i < n) { /* pairs (c, c) add nothing but one equality each */                        \
        unsigned char ta[(W) * (SIZE)], tb[(W) * (SIZE)];                                    \
        for (size_t k = 0; k < (W); k++) {                                                   \
            memcpy(ta + k * (SIZE), cbits, (SIZE));                                          \
            memcpy(tb + k * (SIZE), cbits, (SIZE));                                          \
        }                                                                                    \
        memcpy(ta, pa + i * (SIZE), (n - i) * (SIZE));                                       \
        memcpy(tb, pb + i * (SIZE), (n - i) * (SIZE));                                       \
        STEP(&l, ta, tb);                                                                    \
        fold(&w, &l);                                                                        \
        w.n_equal -= (W) - (n - i);                                                          \
    }                                                                                        \
    finish(&w, &l, c, n, acc)

void pair_moments_bf16_avx2(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    MOMENTS_DRIVER(step_bf16x16, shift_bf16, 16, 2);
}

void pair_moments_f16_avx2(const uint16_t *a, const uint16_t *b, size_t n, pair_moments *acc)
{
    MOMENTS_DRIVER(step_f16x8, shift_f16, 8, 2);
}

void pair_moments_f32_avx2(const float *a, const float *b, size_t n, pair_moments *acc)
{
    MOMENTS_DRIVER(step_f32x8, shift_f32, 8, 4);
}

INLINE __m256 masked_load(const float *p, size_t avail)
{
    if (avail >= 8) return _mm256_loadu_ps(p);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)avail), idx);
    return _mm256_maskload_ps(p, m);
}

#define FMA4(r) \
    c##r##0 = _mm256_fmadd_ps(a##r, b0, c##r##0); c##r##1 = _mm256_fmadd_ps(a##r, b1, c##r##1); \
    c##r##2 = _mm256_fmadd_ps(a##r, b2, c##r##2); c##r##3 = _mm256_fmadd_ps(a##r, b3, c##r##3)
#define HSUM(x) hsum_pd(widen_add(_mm256_setzero_pd(), (x)))
#define FOLD4(r) \
    s[r][0] += HSUM(c##r##0); s[r][1] += HSUM(c##r##1); s[r][2] += HSUM(c##r##2); s[r][3] += HSUM(c##r##3); \
    c##r##0 = c##r##1 = c##r##2 = c##r##3 = _mm256_setzero_ps()

/* s[r][c] = dot(ar[r], br[c]) for a 2x4 tile; 8 accumulators fit the 16 ymm registers. */
static void tile2x4(const float *const ar[2], const float *const br[4], size_t dim, double s[2][4])
{
    __m256 c00, c01, c02, c03, c10, c11, c12, c13;
    c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = _mm256_setzero_ps();
    memset(s, 0, sizeof(double[2][4]));
    size_t k = 0;
    while (k < dim) {
        size_t end = dim - k > FOLD ? k + FOLD : dim;
        for (; k < end; k += 8) {
            size_t av = end - k;
            __m256 b0 = masked_load(br[0] + k, av), b1 = masked_load(br[1] + k, av);
            __m256 b2 = masked_load(br[2] + k, av), b3 = masked_load(br[3] + k, av);
            __m256 a0 = masked_load(ar[0] + k, av), a1 = masked_load(ar[1] + k, av);
            FMA4(0); FMA4(1);
        }
        k = end;
        FOLD4(0); FOLD4(1);
    }
}

void dot_matrix_f32_avx2(const float *A, size_t na, const float *B, size_t nb, size_t dim, float *out)
{
    size_t panel = dot_panel_rows(dim);
    for (size_t j0 = 0; j0 < nb; j0 += panel) {
        size_t j1 = nb - j0 > panel ? j0 + panel : nb;
        for (size_t i = 0; i < na; i += 2)
            for (size_t j = j0; j < j1; j += 4) {
                const float *ar[2], *br[4];
                for (size_t r = 0; r < 2; r++) ar[r] = A + (i + r < na ? i + r : i) * dim;
                for (size_t r = 0; r < 4; r++) br[r] = B + (j + r < j1 ? j + r : j) * dim;
                double s[2][4];
                tile2x4(ar, br, dim, s);
                for (size_t r = 0; r < 2 && i + r < na; r++)
                    for (size_t c = 0; c < 4 && j + c < j1; c++) out[(i + r) * nb + j + c] = (float)s[r][c];
            }
    }
}

/* 4 floats widened to double per step: the same two roundings as the scalar loop */
void standardize_f32_avx2(float *x, size_t n, double mean, double inv)
{
    const __m256d m = _mm256_set1_pd(mean), s = _mm256_set1_pd(inv);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), m), s)));
    for (; i < n; i++) x[i] = (float)((x[i] - mean) * inv);
}
