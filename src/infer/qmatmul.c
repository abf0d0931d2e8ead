/* Integer matmul for Q8_0 and Q4_0 weights, the arithmetic llama.cpp uses: each token's activations
 * are quantized per block of 32 to int8 with an f16-rounded scale amax/127 (round to nearest even),
 * each block's int32 dot product is scaled by both block scales and summed in f32. Weights are
 * repacked once into int8 panels: per 16 output rows and block of 32, 8 groups of [16 rows][4 k]
 * bytes (the operand layout of vpdpbusd and of maddubs), the 16 row scales, and -128 x the 16 row
 * sums (kernels that take activations offset by +128 as unsigned bytes add it back). */
#include <math.h>
#include <string.h>

#include "format/dtype.h"
#include "format/model.h"
#include "infer/engine.h"
#include "kernels/kernels.h"

size_t q8_packed_bytes(size_t rows, size_t K)
{
    return (rows + MM_PANEL - 1) / MM_PANEL * (K / Q8_BLOCK) * Q8_PANEL_BLOCK_BYTES;
}

int q8_packable(const lineage_model *m, long t)
{
    if (t < 0 || (size_t)t >= m->ntensors) return 0;
    const model_tensor *mt = &m->tensors[t];
    const mapped_file *f = &m->files[mt->file];
    return (mt->info.dtype == LINEAGE_DTYPE_Q8_0 || mt->info.dtype == LINEAGE_DTYPE_Q4_0) && mt->scale < 0 &&
           !m->prefetch && f->data && mt->info.cols % Q8_BLOCK == 0 && mt->info.cols > 0;
}

/* The 32 int8 weights and scale of block b of stored row r. */
static float block_values(const model_tensor *mt, const unsigned char *data, uint64_t r, size_t b, int8_t *q)
{
    size_t bb = dtype_block_bytes(mt->info.dtype);
    const unsigned char *p = data + mt->offset + (r * (mt->info.cols / Q8_BLOCK) + b) * bb;
    float d = f16_to_f32((uint16_t)(p[0] | p[1] << 8));
    if (mt->info.dtype == LINEAGE_DTYPE_Q8_0) memcpy(q, p + 2, 32);
    else
        for (int j = 0; j < 16; j++) {
            q[j] = (int8_t)((p[2 + j] & 15) - 8);
            q[j + 16] = (int8_t)((p[2 + j] >> 4) - 8);
        }
    return d;
}

static uint64_t stored_row(const model_tensor *mt, uint64_t r)
{
    if (!mt->unpermute_heads) return r;
    uint64_t hd = mt->info.rows / mt->unpermute_heads, half = hd / 2, w = r % hd;
    return r - w + (w % half) * 2 + w / half;
}

void q8_pack_rows(const lineage_model *m, long t, uint64_t row0, size_t nrows, unsigned char *panels)
{
    const model_tensor *mt = &m->tensors[t];
    const unsigned char *data = m->files[mt->file].data;
    size_t K = (size_t)mt->info.cols, nb = K / Q8_BLOCK, np = (nrows + MM_PANEL - 1) / MM_PANEL;
    int8_t q[32];
    for (size_t p = 0; p < np; p++)
        for (size_t b = 0; b < nb; b++) {
            unsigned char *dst = panels + (p * nb + b) * Q8_PANEL_BLOCK_BYTES;
            float *scale = (float *)(dst + 8 * 64);
            int32_t *nsum = (int32_t *)(dst + 8 * 64 + 64);
            for (size_t r = 0; r < MM_PANEL; r++) {
                size_t row = p * MM_PANEL + r;
                if (row < nrows) scale[r] = block_values(mt, data, stored_row(mt, row0 + row), b, q);
                else { scale[r] = 0; memset(q, 0, sizeof q); }
                int32_t sum = 0;
                for (int k = 0; k < 32; k++) {
                    dst[(k / 4) * 64 + r * 4 + k % 4] = (unsigned char)q[k];
                    sum += q[k];
                }
                nsum[r] = -128 * sum;
            }
        }
}

void q8_quantize(const float *x, size_t K, int offset, uint8_t *q, float *d)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!strcmp(kernels_isa(), "avx512")) {
        q8_quantize_avx512(x, K, offset, q, d);
        return;
    }
#endif
    for (size_t b = 0; b < K / Q8_BLOCK; b++) {
        const float *v = x + b * Q8_BLOCK;
        float amax = 0;
        for (int i = 0; i < Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(v[i]));
        float id = amax > 0 ? 127.0f / amax : 0.0f;
        d[b] = f16_to_f32(f32_to_f16(amax / 127.0f));
        for (int i = 0; i < Q8_BLOCK; i++) {
            int v8 = (int)nearbyintf(v[i] * id);
            v8 = v8 > 127 ? 127 : v8 < -127 ? -127 : v8;
            q[b * Q8_BLOCK + i] = (uint8_t)(offset ? v8 + 128 : v8);
        }
    }
}

void q8_kernel_scalar(const uint8_t *X8, const float *XD, size_t T, size_t K, const unsigned char *P,
                      size_t npanels, float *Y, size_t ldy, size_t rows)
{
    size_t nb = K / Q8_BLOCK;
    for (size_t t = 0; t < T; t++)
        for (size_t p = 0; p < npanels; p++) {
            float acc[MM_PANEL] = {0};
            for (size_t b = 0; b < nb; b++) {
                const unsigned char *blk = P + (p * nb + b) * Q8_PANEL_BLOCK_BYTES;
                const float *scale = (const float *)(blk + 8 * 64);
                const int8_t *x = (const int8_t *)X8 + t * K + b * Q8_BLOCK;
                for (int r = 0; r < MM_PANEL; r++) {
                    int32_t s = 0;
                    for (int k = 0; k < 32; k++) s += x[k] * (int8_t)blk[(k / 4) * 64 + r * 4 + k % 4];
                    acc[r] = fmaf((float)s, scale[r] * XD[t * nb + b], acc[r]);   /* as the SIMD kernels round */
                }
            }
            for (size_t r = 0; r < MM_PANEL && p * MM_PANEL + r < rows; r++) Y[t * ldy + p * MM_PANEL + r] = acc[r];
        }
}

q8_kernel_fn q8_kernel(int *offset)
{
    const char *isa = kernels_isa();
    *offset = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!strcmp(isa, "avx512") && __builtin_cpu_supports("avx512vnni")) {
        *offset = 1;
        return q8_kernel_avx512vnni;
    }
    if (!strcmp(isa, "avx512") || !strcmp(isa, "avx2")) return q8_kernel_avx2;
#else
    (void)isa;
#endif
    return q8_kernel_scalar;
}
