/* GGUF block dequantization against an independent double-precision reference: each element's
 * value is computed here from the block layout description (ggml-common.h structs), element by
 * element, and compared with dtype_dequantize_blocks on random block bytes. Also the writer's Q8_0 and
 * Q4_0 quantizers round-trip within their step size. */
#include <math.h>

#include "check.h"
#include "format/dtype.h"
#include "support/gguf_write.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static double rnd_unit(void) { return (rnd() & 0xFFFFFF) / 16777216.0; }

static double half(const unsigned char *p) { return f16_to_f32((uint16_t)(p[0] | p[1] << 8)); }
static void set_half(unsigned char *p, double v)
{
    uint16_t h = f32_to_f16((float)v);
    p[0] = (unsigned char)h;
    p[1] = (unsigned char)(h >> 8);
}
static int bit(const unsigned char *bytes, int i) { return (bytes[i / 8] >> (i % 8)) & 1; }

/* The 6-bit scale and min of sub-block s of a Q4_K/Q5_K block, from the 12 packed bytes: sub-blocks
 * 0-3 keep theirs in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 keep
 * their low 4 bits in the nibbles of bytes 8-11 (scale low, min high) and their top 2 bits in the
 * top 2 bits of bytes 0-3 (scales) and 4-7 (mins). */
static void k4_scale_min(const unsigned char *p, int s, int *sc, int *mn)
{
    if (s < 4) {
        *sc = p[s] % 64;
        *mn = p[4 + s] % 64;
    } else {
        int k = s - 4;
        *sc = p[8 + k] % 16 + 16 * (p[k] / 64);
        *mn = p[8 + k] / 16 + 16 * (p[4 + k] / 64);
    }
}

/* Value of element e of one block, computed from the layout description. */
static double ref_value(lineage_dtype t, const unsigned char *b, int e)
{
    switch (t) {
    case LINEAGE_DTYPE_Q4_0: {   /* d, qs[16]: element j low nibble of qs[j], element 16+j high nibble */
        int nib = e < 16 ? b[2 + e] % 16 : b[2 + e - 16] / 16;
        return half(b) * (nib - 8);
    }
    case LINEAGE_DTYPE_Q4_1: {
        int nib = e < 16 ? b[4 + e] % 16 : b[4 + e - 16] / 16;
        return half(b) * nib + half(b + 2);
    }
    case LINEAGE_DTYPE_Q5_0: {   /* d, qh (bit e = fifth bit of element e), qs[16] */
        int nib = e < 16 ? b[6 + e] % 16 : b[6 + e - 16] / 16;
        return half(b) * (nib + 16 * bit(b + 2, e) - 16);
    }
    case LINEAGE_DTYPE_Q5_1: {
        int nib = e < 16 ? b[8 + e] % 16 : b[8 + e - 16] / 16;
        return half(b) * (nib + 16 * bit(b + 4, e)) + half(b + 2);
    }
    case LINEAGE_DTYPE_Q8_0: return half(b) * (int8_t)b[2 + e];
    case LINEAGE_DTYPE_Q2_K: {   /* scales[16], qs[64], d, dmin; 16 sub-blocks of 16 */
        int chunk = e / 128, w = e % 128, shift = 2 * (w / 32), l = w % 32;
        int q = (b[16 + 32 * chunk + l] >> shift) & 3, sc = b[e / 16];
        return half(b + 80) * (sc % 16) * q - half(b + 82) * (sc / 16);
    }
    case LINEAGE_DTYPE_Q3_K: {   /* hmask[32], qs[64], scales[12], d */
        int chunk = e / 128, w = e % 128, g = w / 32, l = w % 32, s = e / 16;
        int low = (b[32 + 32 * chunk + l] >> (2 * g)) & 3;
        int high = (b[l] >> (4 * chunk + g)) & 1;   /* hmask bit 4*chunk+g of byte l */
        int sl = s < 8 ? b[96 + s] % 16 : b[96 + s - 8] / 16;
        int sh = (b[96 + 8 + s % 4] >> (2 * (s / 4))) & 3;
        return half(b + 108) * (sl + 16 * sh - 32) * (low - (high ? 0 : 4));
    }
    case LINEAGE_DTYPE_Q4_K: {   /* d, dmin, scales[12], qs[128]; 8 sub-blocks of 32 */
        int chunk = e / 64, w = e % 64, sc, mn;
        int byte = b[16 + 32 * chunk + w % 32], q = w < 32 ? byte % 16 : byte / 16;
        k4_scale_min(b + 4, e / 32, &sc, &mn);
        return half(b) * sc * q - half(b + 2) * mn;
    }
    case LINEAGE_DTYPE_Q5_K: {   /* d, dmin, scales[12], qh[32], qs[128] */
        int chunk = e / 64, w = e % 64, sc, mn;
        int byte = b[48 + 32 * chunk + w % 32], q = w < 32 ? byte % 16 : byte / 16;
        q += 16 * ((b[16 + w % 32] >> (2 * chunk + w / 32)) & 1);
        k4_scale_min(b + 4, e / 32, &sc, &mn);
        return half(b) * sc * q - half(b + 2) * mn;
    }
    case LINEAGE_DTYPE_Q6_K: {   /* ql[128], qh[64], scales[16] (i8), d; 16 sub-blocks of 16 */
        int chunk = e / 128, w = e % 128, g = w / 32, l = w % 32;
        int lowbyte = b[64 * chunk + (g % 2) * 32 + l], low = g < 2 ? lowbyte % 16 : lowbyte / 16;
        int high = (b[128 + 32 * chunk + l] >> (2 * g)) & 3;
        return half(b + 208) * (int8_t)b[192 + e / 16] * (low + 16 * high - 32);
    }
    default: return NAN;
    }
}

/* Byte offsets of the f16 fields of each block type (set to finite values). */
static void finite_halves(lineage_dtype t, unsigned char *b)
{
    static const struct { lineage_dtype t; int off[2]; } fields[] = {
        {LINEAGE_DTYPE_Q4_0, {0, -1}}, {LINEAGE_DTYPE_Q4_1, {0, 2}}, {LINEAGE_DTYPE_Q5_0, {0, -1}},
        {LINEAGE_DTYPE_Q5_1, {0, 2}},  {LINEAGE_DTYPE_Q8_0, {0, -1}}, {LINEAGE_DTYPE_Q2_K, {80, 82}},
        {LINEAGE_DTYPE_Q3_K, {108, -1}}, {LINEAGE_DTYPE_Q4_K, {0, 2}}, {LINEAGE_DTYPE_Q5_K, {0, 2}},
        {LINEAGE_DTYPE_Q6_K, {208, -1}}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].t == t)
            for (int k = 0; k < 2; k++)
                if (fields[i].off[k] >= 0) set_half(b + fields[i].off[k], (rnd_unit() * 4 - 2) * 0.01);
}

static void check_type(lineage_dtype t)
{
    enum { NB = 48 };
    size_t bb = dtype_block_bytes(t), be = dtype_block_elems(t);
    unsigned char *blocks = malloc(NB * bb);
    float *got = malloc(NB * be * sizeof *got);
    for (size_t i = 0; i < NB * bb; i++) blocks[i] = (unsigned char)rnd();
    for (size_t k = 0; k < NB; k++) finite_halves(t, blocks + k * bb);
    int ok = dtype_dequantize_blocks(t, blocks, NB, got);
    size_t bad = 0, first_bad = 0;
    double worst = 0;
    for (size_t k = 0; ok && k < NB; k++)
        for (size_t e = 0; e < be; e++) {
            double want = ref_value(t, blocks + k * bb, (int)e), diff = fabs(got[k * be + e] - want);
            double tol = 1e-6 * (1 + fabs(want)) + 1e-9;
            if (diff > worst) worst = diff;
            if (!(diff <= tol) && bad++ == 0) first_bad = k * be + e;
        }
    CHECK(ok && bad == 0, "%s: %d random blocks dequantize to the reference formula (worst |diff| %.3g, %zu bad, "
          "first at %zu)", lineage_dtype_name(t), NB, worst, bad, first_bad);
    free(blocks);
    free(got);
}

/* Known block: Q4_K with d = 1, dmin = 0.5, sub-block 5 scale 37 / min 42 (6-bit values split
 * across bytes), all quants 3 -> element 5*32 = 1*37*3 - 0.5*42. */
static void check_known_q4_k(void)
{
    unsigned char b[144] = {0};
    float y[256];
    set_half(b, 1.0);
    set_half(b + 2, 0.5);
    int sc = 37, mn = 42;   /* sub-block 5: low nibbles in byte 8+1, top bits in bytes 1 and 5 */
    b[4 + 9] = (unsigned char)((sc & 15) | (mn & 15) << 4);
    b[4 + 1] = (unsigned char)((sc >> 4) << 6);
    b[4 + 5] = (unsigned char)((mn >> 4) << 6);
    memset(b + 16, 0x33, 128);
    dtype_dequantize_blocks(LINEAGE_DTYPE_Q4_K, b, 1, y);
    CHECK(y[160] == 37 * 3 - 21.0f && y[191] == 37 * 3 - 21.0f && y[0] == 0.0f,
          "Q4_K hand-built block: sub-block 5 with 6-bit scale 37 and min 42 gives %g (want 90)", y[160]);
}

static void check_writer_quantizers(void)
{
    float x[256], y[256];
    unsigned char q[8 * 34];
    for (int i = 0; i < 256; i++) x[i] = (float)(rnd_unit() * 2 - 1) * (1 + i % 7);
    gguf_quantize_q8_0(x, 256, q);
    dtype_dequantize_blocks(LINEAGE_DTYPE_Q8_0, q, 8, y);
    int ok8 = 1, ok4 = 1;
    for (int b = 0; b < 8; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
        for (int j = 0; j < 32; j++) ok8 &= fabsf(y[32 * b + j] - x[32 * b + j]) <= amax / 127 * 0.51f + 1e-3f * amax;
    }
    CHECK(ok8, "writer Q8_0 round trip within half a step");
    gguf_quantize_q4_0(x, 256, q);
    dtype_dequantize_blocks(LINEAGE_DTYPE_Q4_0, q, 8, y);
    for (int b = 0; b < 8; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
        for (int j = 0; j < 32; j++) ok4 &= fabsf(y[32 * b + j] - x[32 * b + j]) <= amax / 8 + 1e-3f * amax;
    }
    CHECK(ok4, "writer Q4_0 round trip within one step");
}

int main(void)
{
    const lineage_dtype types[] = {LINEAGE_DTYPE_Q4_0, LINEAGE_DTYPE_Q4_1, LINEAGE_DTYPE_Q5_0, LINEAGE_DTYPE_Q5_1,
                                   LINEAGE_DTYPE_Q8_0, LINEAGE_DTYPE_Q2_K, LINEAGE_DTYPE_Q3_K, LINEAGE_DTYPE_Q4_K,
                                   LINEAGE_DTYPE_Q5_K, LINEAGE_DTYPE_Q6_K};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) check_type(types[i]);
    float y[32];
    CHECK(dtype_dequantize_blocks(LINEAGE_DTYPE_F32, "", 1, y) == 0, "dequantize refuses non-block types");
    check_known_q4_k();
    check_writer_quantizers();
    CHECK_EXIT();
}
