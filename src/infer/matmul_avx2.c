/* AVX2 matmul kernel over packed panels: 6 tokens x 16 rows of accumulators per step, each weight
 * value loaded once per 6 tokens, no horizontal sums. */
#include <immintrin.h>
#include <string.h>

#include "infer/engine.h"

#define INLINE static inline __attribute__((always_inline))

INLINE __m256i lane_mask(size_t left)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), idx);
}

/* 8 weights of panel row k from lane h * 8: f32, or f16 widened exactly (H). */
INLINE __m256 wload(int H, const void *P, size_t k, int h)
{
    if (H) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)P + k * MM_PANEL + h * 8)));
    return _mm256_loadu_ps((const float *)P + k * MM_PANEL + h * 8);
}

/* MT tokens x one panel; rows: valid rows of the panel (<= 16); P f32 panels, or f16 when H. */
INLINE void tile(int H, int MT, const float *X, size_t ldx, const void *P, size_t K, float *Y, size_t ldy, size_t rows)
{
    __m256 c[6][2];
    _Pragma("GCC unroll 8")
    for (int t = 0; t < MT; t++) c[t][0] = c[t][1] = _mm256_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m256 w0 = wload(H, P, k, 0), w1 = wload(H, P, k, 1);
        _Pragma("GCC unroll 8")
        for (int t = 0; t < MT; t++) {
            __m256 x = _mm256_broadcast_ss(X + (size_t)t * ldx + k);
            c[t][0] = _mm256_fmadd_ps(x, w0, c[t][0]);
            c[t][1] = _mm256_fmadd_ps(x, w1, c[t][1]);
        }
    }
    _Pragma("GCC unroll 8")
    for (int h = 0; h < 2; h++) {
        size_t left = rows > (size_t)h * 8 ? rows - (size_t)h * 8 : 0;
        if (!left) break;
        _Pragma("GCC unroll 8")
        for (int t = 0; t < MT; t++) {
            float *y = Y + (size_t)t * ldy + (size_t)h * 8;
            if (left >= 8) _mm256_storeu_ps(y, c[t][h]);
            else _mm256_maskstore_ps(y, lane_mask(left), c[t][h]);
        }
    }
}

#define DISPATCH(mt) tile(H, mt, X + t * ldx, ldx, H ? (const void *)((const uint16_t *)P + p * K * MM_PANEL) \
                          : (const void *)((const float *)P + p * K * MM_PANEL), K, Y + t * ldy + p * MM_PANEL, ldy, \
                          rows - p * MM_PANEL)

INLINE void kernel(int H, const float *X, size_t T, size_t ldx, const void *P, size_t npanels, size_t K, float *Y,
                   size_t ldy, size_t rows)
{
    for (size_t t = 0; t < T; t += 6) {
        size_t mt = T - t < 6 ? T - t : 6;
        for (size_t p = 0; p < npanels; p++) {
            switch (mt) {
            case 6: DISPATCH(6); break;
            case 5: DISPATCH(5); break;
            case 4: DISPATCH(4); break;
            case 3: DISPATCH(3); break;
            case 2: DISPATCH(2); break;
            default: DISPATCH(1); break;
            }
        }
    }
}

void mm_kernel_avx2(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                    size_t ldy, size_t rows)
{
    kernel(0, X, T, ldx, P, npanels, K, Y, ldy, rows);
}

void f16_widen_avx2(const uint16_t *h, float *f, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) f[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h[i])));
}

void mm_kernel16_avx2(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows)
{
    kernel(1, X, T, ldx, P, npanels, K, Y, ldy, rows);
}

/* ---- Q8_0/Q4_0: |x| as unsigned bytes times w with x's sign (maddubs cannot saturate: 2*127*128 <
 * 32767), pairs summed to int32 per row, scaled into f32 per block. MT tokens x one panel. ---- */
INLINE void qtile(int MT, const uint8_t *X8, const float *XD, size_t K, const unsigned char *P, float *Y,
                  size_t ldy, size_t rows)
{
    size_t nb = K / Q8_BLOCK;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[2][2];
    _Pragma("GCC unroll 2")
    for (int t = 0; t < MT; t++) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        const unsigned char *w = P + b * Q8_PANEL_BLOCK_BYTES;
        __m256i ci[2][2];
        _Pragma("GCC unroll 2")
        for (int t = 0; t < MT; t++) ci[t][0] = ci[t][1] = _mm256_setzero_si256();
        _Pragma("GCC unroll 8")
        for (int g = 0; g < 8; g++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + g * 64));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(w + g * 64 + 32));
            _Pragma("GCC unroll 2")
            for (int t = 0; t < MT; t++) {
                int32_t x4;
                memcpy(&x4, X8 + (size_t)t * K + b * Q8_BLOCK + g * 4, 4);
                __m256i x = _mm256_set1_epi32(x4), ax = _mm256_abs_epi8(x);
                ci[t][0] = _mm256_add_epi32(ci[t][0], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w0, x)), ones));
                ci[t][1] = _mm256_add_epi32(ci[t][1], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w1, x)), ones));
            }
        }
        __m256 s0 = _mm256_loadu_ps((const float *)(w + 8 * 64)), s1 = _mm256_loadu_ps((const float *)(w + 8 * 64 + 32));
        _Pragma("GCC unroll 2")
        for (int t = 0; t < MT; t++) {
            __m256 dx = _mm256_set1_ps(XD[(size_t)t * nb + b]);
            acc[t][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ci[t][0]), _mm256_mul_ps(s0, dx), acc[t][0]);
            acc[t][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ci[t][1]), _mm256_mul_ps(s1, dx), acc[t][1]);
        }
    }
    _Pragma("GCC unroll 2")
    for (int h = 0; h < 2; h++) {
        size_t left = rows > (size_t)h * 8 ? rows - (size_t)h * 8 : 0;
        if (!left) break;
        _Pragma("GCC unroll 2")
        for (int t = 0; t < MT; t++) {
            float *y = Y + (size_t)t * ldy + (size_t)h * 8;
            if (left >= 8) _mm256_storeu_ps(y, acc[t][h]);
            else _mm256_maskstore_ps(y, lane_mask(left), acc[t][h]);
        }
    }
}

void q8_kernel_avx2(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P, size_t npanels,
                    float *Y, size_t ldy, size_t rows)
{
    size_t nb = K / Q8_BLOCK;
    for (size_t t = 0; t < T; t += 2)
        for (size_t p = 0; p < npanels; p++) {
            const unsigned char *pp = P + p * nb * Q8_PANEL_BLOCK_BYTES;
            if (T - t >= 2) qtile(2, X8 + t * K, XD + t * nb, K, pp, Y + t * ldy + p * MM_PANEL, ldy, rows - p * MM_PANEL);
            else qtile(1, X8 + t * K, XD + t * nb, K, pp, Y + t * ldy + p * MM_PANEL, ldy, rows - p * MM_PANEL);
        }
}
