/* AVX-512 matmul kernel over packed panels: 8 tokens x 32 rows of accumulators per step, each
 * weight value loaded once per 8 tokens, no horizontal sums. */
#include <immintrin.h>

#include "infer/engine.h"

#define INLINE static inline __attribute__((always_inline))

/* MT tokens x NP panels (NP 1 or 2); rows: valid rows in this panel pair (<= 16*NP). */
INLINE void tile(int MT, int NP, const float *X, size_t ldx, const float *P, size_t K, float *Y, size_t ldy,
                 size_t rows)
{
    __m512 c[8][2];
    _Pragma("GCC unroll 8")
    for (int t = 0; t < MT; t++)
        _Pragma("GCC unroll 8")
        for (int p = 0; p < NP; p++) c[t][p] = _mm512_setzero_ps();
    const float *P1 = P + K * MM_PANEL;
    for (size_t k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(P + k * MM_PANEL);
        __m512 w1 = NP > 1 ? _mm512_loadu_ps(P1 + k * MM_PANEL) : w0;
        _Pragma("GCC unroll 8")
        for (int t = 0; t < MT; t++) {
            __m512 x = _mm512_set1_ps(X[(size_t)t * ldx + k]);
            c[t][0] = _mm512_fmadd_ps(x, w0, c[t][0]);
            if (NP > 1) c[t][1] = _mm512_fmadd_ps(x, w1, c[t][1]);
        }
    }
    _Pragma("GCC unroll 8")
    for (int p = 0; p < NP; p++) {
        size_t left = rows > (size_t)p * MM_PANEL ? rows - (size_t)p * MM_PANEL : 0;
        if (!left) break;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        _Pragma("GCC unroll 8")
        for (int t = 0; t < MT; t++) _mm512_mask_storeu_ps(Y + (size_t)t * ldy + (size_t)p * MM_PANEL, m, c[t][p]);
    }
}

#define DISPATCH(mt, np) tile(mt, np, X + t * ldx, ldx, P + p * K * MM_PANEL, K, Y + t * ldy + p * MM_PANEL, ldy, \
                              rows - p * MM_PANEL)

void mm_kernel_avx512(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows)
{
    for (size_t t = 0; t < T; t += 8) {
        size_t mt = T - t < 8 ? T - t : 8;
        for (size_t p = 0; p < npanels; p += 2) {
            int np = npanels - p >= 2 ? 2 : 1;
            switch (mt * 2 + (size_t)np - 1) {
            case 16 + 1: DISPATCH(8, 2); break;
            case 16: DISPATCH(8, 1); break;
            case 14 + 1: DISPATCH(7, 2); break;
            case 14: DISPATCH(7, 1); break;
            case 12 + 1: DISPATCH(6, 2); break;
            case 12: DISPATCH(6, 1); break;
            case 10 + 1: DISPATCH(5, 2); break;
            case 10: DISPATCH(5, 1); break;
            case 8 + 1: DISPATCH(4, 2); break;
            case 8: DISPATCH(4, 1); break;
            case 6 + 1: DISPATCH(3, 2); break;
            case 6: DISPATCH(3, 1); break;
            case 4 + 1: DISPATCH(2, 2); break;
            case 4: DISPATCH(2, 1); break;
            case 2 + 1: DISPATCH(1, 2); break;
            default: DISPATCH(1, 1); break;
            }
        }
    }
}
