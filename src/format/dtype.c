#include "format/dtype.h"

#include <math.h>
#include <string.h>

static const struct {
    const char *name;
    size_t block_bytes, block_elems;
} dtype_table[LINEAGE_DTYPE_COUNT] = {
    [LINEAGE_DTYPE_UNKNOWN] = {"UNKNOWN", 0, 1},
    [LINEAGE_DTYPE_F64] = {"F64", 8, 1},
    [LINEAGE_DTYPE_F32] = {"F32", 4, 1},
    [LINEAGE_DTYPE_F16] = {"F16", 2, 1},
    [LINEAGE_DTYPE_BF16] = {"BF16", 2, 1},
    [LINEAGE_DTYPE_F8_E4M3] = {"F8_E4M3", 1, 1},
    [LINEAGE_DTYPE_F8_E5M2] = {"F8_E5M2", 1, 1},
    [LINEAGE_DTYPE_I64] = {"I64", 8, 1},
    [LINEAGE_DTYPE_I32] = {"I32", 4, 1},
    [LINEAGE_DTYPE_I16] = {"I16", 2, 1},
    [LINEAGE_DTYPE_I8] = {"I8", 1, 1},
    [LINEAGE_DTYPE_U8] = {"U8", 1, 1},
    [LINEAGE_DTYPE_BOOL] = {"BOOL", 1, 1},
    [LINEAGE_DTYPE_Q4_0] = {"Q4_0", 18, 32},
    [LINEAGE_DTYPE_Q4_1] = {"Q4_1", 20, 32},
    [LINEAGE_DTYPE_Q5_0] = {"Q5_0", 22, 32},
    [LINEAGE_DTYPE_Q5_1] = {"Q5_1", 24, 32},
    [LINEAGE_DTYPE_Q8_0] = {"Q8_0", 34, 32},
    [LINEAGE_DTYPE_Q2_K] = {"Q2_K", 84, 256},
    [LINEAGE_DTYPE_Q3_K] = {"Q3_K", 110, 256},
    [LINEAGE_DTYPE_Q4_K] = {"Q4_K", 144, 256},
    [LINEAGE_DTYPE_Q5_K] = {"Q5_K", 176, 256},
    [LINEAGE_DTYPE_Q6_K] = {"Q6_K", 210, 256},
};

const char *lineage_dtype_name(lineage_dtype t)
{
    return (t > 0 && t < LINEAGE_DTYPE_COUNT) ? dtype_table[t].name : "UNKNOWN";
}

size_t dtype_block_bytes(lineage_dtype t) { return t < LINEAGE_DTYPE_COUNT ? dtype_table[t].block_bytes : 0; }
size_t dtype_block_elems(lineage_dtype t) { return t < LINEAGE_DTYPE_COUNT ? dtype_table[t].block_elems : 1; }

int dtype_is_quantized(lineage_dtype t) { return t >= LINEAGE_DTYPE_Q4_0 && t <= LINEAGE_DTYPE_Q6_K; }

int dtype_is_float(lineage_dtype t)
{
    return (t >= LINEAGE_DTYPE_F64 && t <= LINEAGE_DTYPE_F8_E5M2) || dtype_is_quantized(t);
}

lineage_dtype dtype_from_safetensors(const char *name)
{
    static const lineage_dtype st_types[] = {
        LINEAGE_DTYPE_F64, LINEAGE_DTYPE_F32, LINEAGE_DTYPE_F16, LINEAGE_DTYPE_BF16, LINEAGE_DTYPE_F8_E4M3,
        LINEAGE_DTYPE_F8_E5M2, LINEAGE_DTYPE_I64, LINEAGE_DTYPE_I32, LINEAGE_DTYPE_I16, LINEAGE_DTYPE_I8,
        LINEAGE_DTYPE_U8, LINEAGE_DTYPE_BOOL};
    for (size_t i = 0; i < sizeof st_types / sizeof st_types[0]; i++)
        if (!strcmp(name, dtype_table[st_types[i]].name)) return st_types[i];
    return LINEAGE_DTYPE_UNKNOWN;
}

float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    float v;
    if (exp == 0) v = ldexpf((float)man, -24);
    else if (exp == 31) v = man ? NAN : INFINITY;
    else v = ldexpf((float)(man | 0x400), (int)exp - 25);
    return sign ? -v : v;
}

float bf16_to_f32(uint16_t b)
{
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN */
float f8e4m3_to_f32(uint8_t v)
{
    int sign = v >> 7, exp = (v >> 3) & 0xF, man = v & 7;
    float r;
    if (exp == 15 && man == 7) return NAN;
    if (exp == 0) r = ldexpf((float)man, -9);
    else r = ldexpf((float)(man | 8), exp - 10);
    return sign ? -r : r;
}

/* float8_e5m2: bias 15, IEEE-like with infinities */
float f8e5m2_to_f32(uint8_t v) { return f16_to_f32((uint16_t)((uint16_t)v << 8)); }

uint16_t f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFF) > 0x7F800000) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7FFF + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

/* Nearest of the 8-bit codes 0..top (monotone in magnitude, decoded by dec); ties go to the even
 * code. `beyond` is the magnitude one step past code top (where rounding up overflows). */
static uint8_t f8_encode(float f, float (*dec)(uint8_t), uint8_t top, float beyond, uint8_t nan_code)
{
    if (isnan(f)) return nan_code;
    uint8_t sign = signbit(f) ? 0x80 : 0;
    double a = fabs((double)f);
    unsigned lo = 0, hi = top;   /* largest code whose value <= a, by bisection */
    if (a >= (double)dec(top)) lo = top;
    else
        while (hi - lo > 1) {
            unsigned mid = (lo + hi) / 2;
            if ((double)dec((uint8_t)mid) <= a) lo = mid; else hi = mid;
        }
    double below = dec((uint8_t)lo), above = lo == top ? (double)beyond : (double)dec((uint8_t)(lo + 1));
    unsigned code = lo;
    if (a - below > above - a || (a - below == above - a && (lo & 1))) code = lo + 1;
    return (uint8_t)(sign | code);
}

uint8_t f32_to_f8e4m3(float f)
{
    uint8_t c = f8_encode(f, f8e4m3_to_f32, 0x7E, 480.0f, 0x7F);
    return (c & 0x7F) == 0x7F && !isnan(f) ? (uint8_t)(c - 1) : c;   /* saturate: 0x7F is NaN */
}

uint8_t f32_to_f8e5m2(float f) { return f8_encode(f, f8e5m2_to_f32, 0x7B, 65536.0f, 0x7E); }

uint16_t f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t a = u & 0x7FFFFFFF;
    if (a > 0x7F800000) return (uint16_t)(sign | 0x7E00);
    if (a >= 0x477FF000) return (uint16_t)(sign | 0x7C00);   /* overflow to inf after rounding */
    if (a < 0x38800000) {                                  /* subnormal or zero */
        float af;
        memcpy(&af, &a, 4);
        float scaled = af * 16777216.0f;                   /* 2^24: units of the smallest subnormal */
        uint32_t m = (uint32_t)lrintf(scaled);             /* rint: nearest even under default mode */
        return (uint16_t)(sign | m);
    }
    uint32_t exp = ((a >> 23) - 112) << 10, man = (a >> 13) & 0x3FF;
    uint32_t h = exp | man;
    uint32_t rest = a & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

int dtype_convert_f32(lineage_dtype t, const void *src, size_t n, float *dst)
{
    const unsigned char *s = src;
    switch (t) {
    case LINEAGE_DTYPE_F32: memcpy(dst, s, n * 4); return 1;
    case LINEAGE_DTYPE_F64:
        for (size_t i = 0; i < n; i++) { double d; memcpy(&d, s + 8 * i, 8); dst[i] = (float)d; }
        return 1;
    case LINEAGE_DTYPE_F16:
        for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, s + 2 * i, 2); dst[i] = f16_to_f32(h); }
        return 1;
    case LINEAGE_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) { uint16_t h; memcpy(&h, s + 2 * i, 2); dst[i] = bf16_to_f32(h); }
        return 1;
    case LINEAGE_DTYPE_F8_E4M3:
        for (size_t i = 0; i < n; i++) dst[i] = f8e4m3_to_f32(s[i]);
        return 1;
    case LINEAGE_DTYPE_F8_E5M2:
        for (size_t i = 0; i < n; i++) dst[i] = f8e5m2_to_f32(s[i]);
        return 1;
    case LINEAGE_DTYPE_I8:
        for (size_t i = 0; i < n; i++) dst[i] = (float)(int8_t)s[i];
        return 1;
    case LINEAGE_DTYPE_U8:
    case LINEAGE_DTYPE_BOOL:
        for (size_t i = 0; i < n; i++) dst[i] = (float)s[i];
        return 1;
    case LINEAGE_DTYPE_I16:
        for (size_t i = 0; i < n; i++) { int16_t v; memcpy(&v, s + 2 * i, 2); dst[i] = (float)v; }
        return 1;
    case LINEAGE_DTYPE_I32:
        for (size_t i = 0; i < n; i++) { int32_t v; memcpy(&v, s + 4 * i, 4); dst[i] = (float)v; }
        return 1;
    case LINEAGE_DTYPE_I64:
        for (size_t i = 0; i < n; i++) { int64_t v; memcpy(&v, s + 8 * i, 8); dst[i] = (float)v; }
        return 1;
    default: return 0;
    }
}
