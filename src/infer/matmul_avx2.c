/* AVX2 matmul kernel over packed panels: 6 tokens x 16 rows of accumulators per step, each weight
 * value loaded once per 6 tokens, no horizontal sums. */
#include <immintrin.h>

#include "infer/engine.h"

#define INLINE static inline __attribute__((always_inline))

INLINE __m256i lane_mask(size_t left)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), idx);
}

/* MT tokens x one panel; rows: valid rows of the panel (<= 16). */
INLINE void tile(int MT, const float *X, size_t ldx, const float *P, size_t K, float *Y, size_t ldy, size_t rows)
{
    __m256 c[6][2];
    _Pragma("GCC unroll 8")
    for (int t = 0; t < MT; t++) c[t][0] = c[t][1] = _mm256_setzero_ps();
    for (size_t k = 0; k < K; k++) {
        __m256 w0 = _mm256_loadu_ps(P + k * MM_PANEL), w1 = _mm256_loadu_ps(P + k * MM_PANEL + 8);
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

#define DISPATCH(mt) tile(mt, X + t * ldx, ldx, P + p * K * MM_PANEL, K, Y + t * ldy + p * MM_PANEL, ldy, \
                          rows - p * MM_PANEL)

void mm_kernel_avx2(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
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
