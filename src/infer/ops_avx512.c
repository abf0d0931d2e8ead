/* AVX-512 versions of scalar building blocks that give the scalar results bit for bit: each value is
 * computed in double with an error far below the f32 rounding step, and lanes whose double result lies
 * so close to an f32 rounding boundary that the libm-based scalar formula could round the other way
 * (relative band 1e-12, against errors of a few 1e-16) are recomputed by the scalar code. */
#include <immintrin.h>
#include <math.h>

#include "infer/engine.h"

/* e^x for |x| <= 700: x = n ln2 + r, |r| <= ln2/2, Taylor series to r^13 (truncation < 2e-16). */
static inline __m512d exp_pd(__m512d x)
{
    __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(1.4426950408889634)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(6.93147180369123816490e-01), x);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.90821492927058770002e-10), r);
    static const double c[14] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                                 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
                                 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
    __m512d p = _mm512_set1_pd(c[0]);
    for (int i = 1; i < 14; i++) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c[i]));
    return _mm512_scalef_pd(p, n);
}

/* Lanes where y might not round to f the way a result within a few 1e-16 of it would. */
static inline __mmask8 unsure(__m512d y, __m256 f)
{
    __m256i fi = _mm256_castps_si256(f);
    __m256i a = _mm256_castps_si256(_mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_set1_pd(1.0 + 1e-12))));
    __m256i b = _mm256_castps_si256(_mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_set1_pd(1.0 - 1e-12))));
    return (__mmask8)(_mm256_cmpneq_epi32_mask(a, fi) | _mm256_cmpneq_epi32_mask(b, fi));
}

void act_silu_avx512(const float *g, float *u, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xf = _mm256_loadu_ps(g ? g + i : u + i);
        __m512d x = _mm512_cvtps_pd(xf);
        /* |x| <= 80 (NaN fails too): e^-x finite, results normal f32 */
        __mmask8 ok = _mm512_cmp_pd_mask(_mm512_abs_pd(x), _mm512_set1_pd(80.0), _CMP_LE_OQ);
        __m512d y = _mm512_div_pd(x, _mm512_add_pd(_mm512_set1_pd(1.0), exp_pd(_mm512_mask_mov_pd(_mm512_setzero_pd(), ok, _mm512_sub_pd(_mm512_setzero_pd(), x)))));
        __m256 f = _mm512_cvtpd_ps(y);
        __mmask8 redo = (__mmask8)(~ok | unsure(y, f));
        if (redo) {
            float tmp[8], xs[8];
            _mm256_storeu_ps(tmp, f);
            _mm256_storeu_ps(xs, xf);
            for (int k = 0; k < 8; k++)
                if (redo >> k & 1) tmp[k] = op_act(ACT_SILU, xs[k]);
            f = _mm256_loadu_ps(tmp);
        }
        _mm256_storeu_ps(u + i, g ? _mm256_mul_ps(f, _mm256_loadu_ps(u + i)) : f);
    }
    for (; i < n; i++) u[i] = g ? op_act(ACT_SILU, g[i]) * u[i] : op_act(ACT_SILU, u[i]);
}

/* op_softmax bit for bit. expf is glibc's (since 2.27): a double result within 1.69 * 2^-34 relative
 * of e^x rounded to f32, so lanes whose e^x lies within 4e-10 relative of an f32 rounding boundary, or
 * outside the normal range, call expf itself. Rows holding a NaN take the scalar path. */
void softmax_avx512(float *x, size_t n)
{
    if (n < 16) {
        op_softmax(x, n);
        return;
    }
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    __mmask16 nan = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        vmax = _mm512_max_ps(vmax, v);
    }
    float mx = _mm512_reduce_max_ps(vmax);
    for (; i < n; i++) {
        if (x[i] != x[i]) nan = 1;
        if (x[i] > mx) mx = x[i];
    }
    if (nan) {
        op_softmax(x, n);
        return;
    }
    const __m512 vmx = _mm512_set1_ps(mx), ninf = _mm512_set1_ps(-INFINITY);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 d = _mm256_sub_ps(v, _mm512_castps512_ps256(vmx));
        __m512d dd = _mm512_cvtps_pd(d);
        /* -87 <= d <= 0 (NaN fails): e^d a normal f32 */
        __mmask8 ok = _mm512_cmp_pd_mask(dd, _mm512_set1_pd(-87.0), _CMP_GE_OQ) &
                      _mm512_cmp_pd_mask(dd, _mm512_setzero_pd(), _CMP_LE_OQ);
        __m512d y = exp_pd(_mm512_mask_mov_pd(_mm512_setzero_pd(), ok, dd));
        __m256 f = _mm512_cvtpd_ps(y);
        __m256i fi = _mm256_castps_si256(f);
        __m256i a = _mm256_castps_si256(_mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_set1_pd(1.0 + 4e-10))));
        __m256i b = _mm256_castps_si256(_mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_set1_pd(1.0 - 4e-10))));
        __mmask8 masked = _mm256_cmp_ps_mask(v, _mm512_castps512_ps256(ninf), _CMP_EQ_OQ);
        __mmask8 redo = (__mmask8)((~ok | _mm256_cmpneq_epi32_mask(a, fi) | _mm256_cmpneq_epi32_mask(b, fi)) & ~masked);
        f = _mm256_mask_mov_ps(f, masked, _mm256_setzero_ps());
        if (redo) {
            float tmp[8], ds[8];
            _mm256_storeu_ps(tmp, f);
            _mm256_storeu_ps(ds, d);
            for (int k = 0; k < 8; k++)
                if (redo >> k & 1) tmp[k] = expf(ds[k]);
            f = _mm256_loadu_ps(tmp);
        }
        _mm256_storeu_ps(x + i, f);
    }
    for (; i < n; i++) x[i] = x[i] == -INFINITY ? 0.0f : expf(x[i] - mx);
    double s = 0;
    for (i = 0; i < n; i++) s += x[i];
    float inv = (float)(1.0 / s);
    for (i = 0; i < n; i++) x[i] *= inv;
}
