/* AVX-512 matmul kernel over packed panels: 8 tokens x 32 rows of accumulators per step, each
 * weight value loaded once per 8 tokens, no horizontal sums. */
#include <immintrin.h>
#include <string.h>

#include "infer/engine.h"

#define INLINE static inline __attribute__((always_inline))

/* 16 weights of panel row k: f32, or f16 widened exactly (H). */
INLINE __m512 wload(int H, const void *P, size_t k)
{
    if (H) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)P + k * MM_PANEL)));
    return _mm512_loadu_ps((const float *)P + k * MM_PANEL);
}

/* MT tokens x NP panels (NP 1 or 2); rows: valid rows in this panel pair (<= 16*NP); P f32 panels,
 * or f16 panels when H. */
INLINE void tile(int H, int MT, int NP, const float *X, size_t ldx, const void *Pv, size_t K, float *Y, size_t ldy,
                 size_t rows)
{
    __m512 c[8][2];
    _Pragma("GCC unroll 8")
    for (int t = 0; t < MT; t++)
        _Pragma("GCC unroll 8")
        for (int p = 0; p < NP; p++) c[t][p] = _mm512_setzero_ps();
    const void *P1 = H ? (const void *)((const uint16_t *)Pv + K * MM_PANEL) : (const void *)((const float *)Pv + K * MM_PANEL);
    for (size_t k = 0; k < K; k++) {
        __m512 w0 = wload(H, Pv, k);
        __m512 w1 = NP > 1 ? wload(H, P1, k) : w0;
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

#define DISPATCH(mt, np) tile(H, mt, np, X + t * ldx, ldx, H ? (const void *)((const uint16_t *)P + p * K * MM_PANEL) \
                              : (const void *)((const float *)P + p * K * MM_PANEL), K, Y + t * ldy + p * MM_PANEL, ldy, \
                              rows - p * MM_PANEL)

INLINE void kernel(int H, const float *X, size_t T, size_t ldx, const void *P, size_t npanels, size_t K, float *Y,
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

void mm_kernel_avx512(const float *X, size_t T, size_t ldx, const float *P, size_t npanels, size_t K, float *Y,
                      size_t ldy, size_t rows)
{
    kernel(0, X, T, ldx, P, npanels, K, Y, ldy, rows);
}

void f16_widen_avx512(const uint16_t *h, float *f, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(f + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
    for (; i < n; i++) f[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h[i])));
}

void mm_kernel16_avx512(const float *X, size_t T, size_t ldx, const uint16_t *P, size_t npanels, size_t K, float *Y,
                        size_t ldy, size_t rows)
{
    kernel(1, X, T, ldx, P, npanels, K, Y, ldy, rows);
}

/* ---- Q8_0/Q4_0 with VNNI: activations as unsigned bytes (x + 128), vpdpbusd 4 k at a time into
 * int32 per row, the block's -128*sum(w) as the starting value, then scaled into f32 per block. ---- */
#define VNNI __attribute__((target("avx512vnni")))

/* MT tokens x NP panels (MT <= 4, NP <= 3: 12 int32 and 12 f32 accumulators). */
VNNI INLINE void qtile(int MT, int NP, const uint8_t *X8, const float *XD, size_t K, const unsigned char *P,
                       float *Y, size_t ldy, size_t rows)
{
    size_t nb = K / Q8_BLOCK, pstride = nb * Q8_PANEL_BLOCK_BYTES;
    __m512 acc[4][3];
    _Pragma("GCC unroll 4")
    for (int t = 0; t < MT; t++)
        _Pragma("GCC unroll 3")
        for (int p = 0; p < NP; p++) acc[t][p] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        const unsigned char *w = P + b * Q8_PANEL_BLOCK_BYTES;
        __m512i ci[4][3];
        _Pragma("GCC unroll 3")
        for (int p = 0; p < NP; p++) {
            __m512i n = _mm512_loadu_si512(w + p * pstride + 8 * 64 + 64);
            _Pragma("GCC unroll 4")
            for (int t = 0; t < MT; t++) ci[t][p] = n;
        }
        const uint8_t *xb = X8 + b * Q8_BLOCK;
        _Pragma("GCC unroll 8")
        for (int g = 0; g < 8; g++) {
            __m512i a[3];
            _Pragma("GCC unroll 3")
            for (int p = 0; p < NP; p++) a[p] = _mm512_loadu_si512(w + p * pstride + g * 64);
            _Pragma("GCC unroll 4")
            for (int t = 0; t < MT; t++) {
                int32_t x4;
                memcpy(&x4, xb + (size_t)t * K + g * 4, 4);
                __m512i x = _mm512_set1_epi32(x4);
                _Pragma("GCC unroll 3")
                for (int p = 0; p < NP; p++) ci[t][p] = _mm512_dpbusd_epi32(ci[t][p], x, a[p]);
            }
        }
        _Pragma("GCC unroll 4")
        for (int t = 0; t < MT; t++) {
            __m512 dx = _mm512_set1_ps(XD[(size_t)t * nb + b]);
            _Pragma("GCC unroll 3")
            for (int p = 0; p < NP; p++) {
                __m512 sc = _mm512_loadu_ps((const float *)(w + p * pstride + 8 * 64));
                acc[t][p] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ci[t][p]), _mm512_mul_ps(sc, dx), acc[t][p]);
            }
        }
    }
    _Pragma("GCC unroll 3")
    for (int p = 0; p < NP; p++) {
        size_t left = rows > (size_t)p * MM_PANEL ? rows - (size_t)p * MM_PANEL : 0;
        if (!left) break;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        _Pragma("GCC unroll 4")
        for (int t = 0; t < MT; t++) _mm512_mask_storeu_ps(Y + (size_t)t * ldy + (size_t)p * MM_PANEL, m, acc[t][p]);
    }
}

#define QDISPATCH(mt, np) qtile(mt, np, X8 + t * K, XD + t * nb, K, P + p * nb * Q8_PANEL_BLOCK_BYTES, \
                                Y + t * ldy + p * MM_PANEL, ldy, rows - p * MM_PANEL)

VNNI void q8_kernel_avx512vnni(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P,
                               size_t npanels, float *Y, size_t ldy, size_t rows)
{
    size_t nb = K / Q8_BLOCK;
    for (size_t t = 0; t < T; t += 4) {
        size_t mt = T - t < 4 ? T - t : 4;
        for (size_t p = 0; p < npanels; p += 3) {
            size_t np = npanels - p >= 3 ? 3 : npanels - p;
            switch (mt * 4 + np) {
            case 16 + 3: QDISPATCH(4, 3); break;
            case 16 + 2: QDISPATCH(4, 2); break;
            case 16 + 1: QDISPATCH(4, 1); break;
            case 12 + 3: QDISPATCH(3, 3); break;
            case 12 + 2: QDISPATCH(3, 2); break;
            case 12 + 1: QDISPATCH(3, 1); break;
            case 8 + 3: QDISPATCH(2, 3); break;
            case 8 + 2: QDISPATCH(2, 2); break;
            case 8 + 1: QDISPATCH(2, 1); break;
            case 4 + 3: QDISPATCH(1, 3); break;
            case 4 + 2: QDISPATCH(1, 2); break;
            default: QDISPATCH(1, 1); break;
            }
        }
    }
}

/* q8_quantize for one row: the same rounding (f16 scale, nearest-even codes), 32 values at a time. */
void q8_quantize_avx512(const float *x, size_t K, int offset, uint8_t *q, float *d)
{
    const __m512i off = _mm512_set1_epi32(offset ? 128 : 0);
    for (size_t b = 0; b < K / Q8_BLOCK; b++) {
        __m512 v0 = _mm512_loadu_ps(x + b * Q8_BLOCK), v1 = _mm512_loadu_ps(x + b * Q8_BLOCK + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        __m128 dh = _mm_cvtph_ps(_mm_cvtps_ph(_mm_set_ss(amax / 127.0f), _MM_FROUND_TO_NEAREST_INT));
        d[b] = _mm_cvtss_f32(dh);
        __m512 id = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
        __m512i i0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v0, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        __m512i i1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(v1, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm_storeu_si128((__m128i *)(q + b * Q8_BLOCK), _mm512_cvtepi32_epi8(_mm512_add_epi32(i0, off)));
        _mm_storeu_si128((__m128i *)(q + b * Q8_BLOCK + 16), _mm512_cvtepi32_epi8(_mm512_add_epi32(i1, off)));
    }
}
