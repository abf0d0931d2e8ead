/* Scalar dequantization of the GGUF block types, in the order and float arithmetic of ggml's
 * reference dequantize_row_* routines, so results match them bit for bit. */
#include <string.h>

#include "format/dtype.h"

#define QK 32
#define QK_K 256

static float half_at(const unsigned char *p) { return f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }
static uint32_t u32_at(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* block_q4_0: f16 d, 16 bytes of nibbles (low nibbles first half, high nibbles second half) */
static void dq_q4_0(const unsigned char *b, float *y)
{
    const float d = half_at(b);
    for (int j = 0; j < QK / 2; j++) {
        y[j] = ((b[2 + j] & 0x0F) - 8) * d;
        y[j + QK / 2] = ((b[2 + j] >> 4) - 8) * d;
    }
}

/* block_q4_1: f16 d, f16 m, 16 bytes of nibbles */
static void dq_q4_1(const unsigned char *b, float *y)
{
    const float d = half_at(b), m = half_at(b + 2);
    for (int j = 0; j < QK / 2; j++) {
        y[j] = (b[4 + j] & 0x0F) * d + m;
        y[j + QK / 2] = (b[4 + j] >> 4) * d + m;
    }
}

/* block_q5_0: f16 d, u32 of fifth bits, 16 bytes of nibbles */
static void dq_q5_0(const unsigned char *b, float *y)
{
    const float d = half_at(b);
    const uint32_t qh = u32_at(b + 2);
    for (int j = 0; j < QK / 2; j++) {
        const int h0 = (int)(((qh >> j) << 4) & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
        y[j] = (((b[6 + j] & 0x0F) | h0) - 16) * d;
        y[j + QK / 2] = (((b[6 + j] >> 4) | h1) - 16) * d;
    }
}

/* block_q5_1: f16 d, f16 m, u32 of fifth bits, 16 bytes of nibbles */
static void dq_q5_1(const unsigned char *b, float *y)
{
    const float d = half_at(b), m = half_at(b + 2);
    const uint32_t qh = u32_at(b + 4);
    for (int j = 0; j < QK / 2; j++) {
        const int h0 = (int)(((qh >> j) << 4) & 0x10), h1 = (int)((qh >> (j + 12)) & 0x10);
        y[j] = ((b[8 + j] & 0x0F) | h0) * d + m;
        y[j + QK / 2] = ((b[8 + j] >> 4) | h1) * d + m;
    }
}

/* block_q8_0: f16 d, 32 x i8 */
static void dq_q8_0(const unsigned char *b, float *y)
{
    const float d = half_at(b);
    for (int j = 0; j < QK; j++) y[j] = (int8_t)b[2 + j] * d;
}

/* block_q2_K: 16 bytes of 4-bit scale|min pairs, 64 bytes of 2-bit quants, f16 d, f16 dmin */
static void dq_q2_k(const unsigned char *b, float *y)
{
    const unsigned char *scales = b, *q = b + 16;
    const float d = half_at(b + 80), min = half_at(b + 82);
    int is = 0;
    for (int n = 0; n < QK_K; n += 128) {
        for (int shift = 0; shift < 8; shift += 2) {
            for (int half = 0; half < 2; half++) {
                const unsigned char sc = scales[is++];
                const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
            }
        }
        q += 32;
    }
}

/* The 16 six-bit Q3_K scales, from 12 bytes: low nibbles in bytes 0..7, two high bits each in 8..11. */
static void q3_k_scales(const unsigned char *s, int8_t out[16])
{
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
    uint32_t a0 = u32_at(s), a1 = u32_at(s + 4), tmp = u32_at(s + 8), aux[4];
    aux[0] = (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4);
    aux[2] = ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    for (int i = 0; i < 16; i++) out[i] = (int8_t)(aux[i / 4] >> (8 * (i % 4)));
}

/* block_q3_K: 32 bytes of high-bit masks, 64 bytes of 2-bit quants, 12 bytes of scales, f16 d */
static void dq_q3_k(const unsigned char *b, float *y)
{
    const unsigned char *hm = b, *q = b + 32;
    const float d_all = half_at(b + 108);
    int8_t scales[16];
    q3_k_scales(b + 96, scales);
    int is = 0;
    unsigned char m = 1;
    for (int n = 0; n < QK_K; n += 128) {
        for (int shift = 0; shift < 8; shift += 2) {
            for (int half = 0; half < 2; half++) {
                const float dl = d_all * (scales[is++] - 32);
                for (int l = 0; l < 16; l++) {
                    const int k = l + 16 * half;
                    *y++ = dl * (((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
                }
            }
            m <<= 1;
        }
        q += 32;
    }
}

/* Scale and min j (0..7) of a Q4_K/Q5_K block: 6 bits each, packed into 12 bytes. */
static void scale_min_k4(int j, const unsigned char *q, unsigned char *d, unsigned char *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (unsigned char)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (unsigned char)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* block_q4_K: f16 d, f16 dmin, 12 bytes of scales/mins, 128 bytes of nibbles */
static void dq_q4_k(const unsigned char *b, float *y)
{
    const float d = half_at(b), min = half_at(b + 2);
    const unsigned char *scales = b + 4, *q = b + 16;
    for (int is = 0; is < 8; is += 2) {
        unsigned char sc, m;
        scale_min_k4(is, scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        q += 32;
    }
}

/* block_q5_K: f16 d, f16 dmin, 12 bytes of scales/mins, 32 bytes of fifth bits, 128 bytes of nibbles */
static void dq_q5_k(const unsigned char *b, float *y)
{
    const float d = half_at(b), min = half_at(b + 2);
    const unsigned char *scales = b + 4, *qh = b + 16, *ql = b + 48;
    unsigned char u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2) {
        unsigned char sc, m;
        scale_min_k4(is, scales, &sc, &m);
        const float d1 = d * sc, m1 = min * m;
        scale_min_k4(is + 1, scales, &sc, &m);
        const float d2 = d * sc, m2 = min * m;
        for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
        ql += 32;
        u1 = (unsigned char)(u1 << 2);
        u2 = (unsigned char)(u2 << 2);
    }
}

/* block_q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 x i8 scales, f16 d */
static void dq_q6_k(const unsigned char *b, float *y)
{
    const float d = half_at(b + 208);
    const unsigned char *ql = b, *qh = b + 128;
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int n = 0; n < QK_K; n += 128) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is] * q1;
            y[l + 32] = d * sc[is + 2] * q2;
            y[l + 64] = d * sc[is + 4] * q3;
            y[l + 96] = d * sc[is + 6] * q4;
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

int dtype_dequantize_blocks(lineage_dtype t, const void *src, size_t nblocks, float *dst)
{
    void (*fn)(const unsigned char *, float *);
    switch (t) {
    case LINEAGE_DTYPE_Q4_0: fn = dq_q4_0; break;
    case LINEAGE_DTYPE_Q4_1: fn = dq_q4_1; break;
    case LINEAGE_DTYPE_Q5_0: fn = dq_q5_0; break;
    case LINEAGE_DTYPE_Q5_1: fn = dq_q5_1; break;
    case LINEAGE_DTYPE_Q8_0: fn = dq_q8_0; break;
    case LINEAGE_DTYPE_Q2_K: fn = dq_q2_k; break;
    case LINEAGE_DTYPE_Q3_K: fn = dq_q3_k; break;
    case LINEAGE_DTYPE_Q4_K: fn = dq_q4_k; break;
    case LINEAGE_DTYPE_Q5_K: fn = dq_q5_k; break;
    case LINEAGE_DTYPE_Q6_K: fn = dq_q6_k; break;
    default: return 0;
    }
    const unsigned char *b = src;
    const size_t bb = dtype_block_bytes(t), be = dtype_block_elems(t);
    for (size_t i = 0; i < nblocks; i++) fn(b + i * bb, dst + i * be);
    return 1;
}
