/* Scalar conversions, exhaustively: every F16/BF16 (65536) and F8 E4M3/E5M2 (256) bit pattern
 * against the format's defining formula evaluated in double here, and the f32 encoders against
 * round-to-nearest-even at every midpoint between neighbouring values. */
#include <math.h>

#include "check.h"
#include "format/dtype.h"

/* value = (-1)^s * 2^(e - bias) * (1 + m / 2^mbits), subnormal 2^(1 - bias) * m / 2^mbits.
 * ieee_top: exponent all-ones is inf/NaN (F16, BF16, E5M2); E4M3fn has only S.1111.111 = NaN. */
static double reference(unsigned bits, int ebits, int mbits, int bias, int ieee_top)
{
    unsigned s = bits >> (ebits + mbits) & 1, e = bits >> mbits & ((1u << ebits) - 1), m = bits & ((1u << mbits) - 1);
    unsigned emax = (1u << ebits) - 1;
    double v;
    if (ieee_top && e == emax) v = m ? NAN : INFINITY;
    else if (!ieee_top && e == emax && m == (1u << mbits) - 1) v = NAN;
    else if (e == 0) v = ldexp((double)m / (double)(1u << mbits), 1 - bias);
    else v = ldexp(1.0 + (double)m / (double)(1u << mbits), (int)e - bias);
    return s ? -v : v;
}

static int same(float got, double want)
{
    if (isnan(want)) return isnan(got);
    return (double)got == want && !signbit(got) == !signbit(want);
}

typedef struct format {
    const char *name;
    int ebits, mbits, bias, ieee_top;
    unsigned ncodes;
    float (*decode)(unsigned);
    unsigned (*encode)(float);
} format;

static float dec_f16(unsigned b) { return f16_to_f32((uint16_t)b); }
static float dec_bf16(unsigned b) { return bf16_to_f32((uint16_t)b); }
static float dec_e4m3(unsigned b) { return f8e4m3_to_f32((uint8_t)b); }
static float dec_e5m2(unsigned b) { return f8e5m2_to_f32((uint8_t)b); }
static unsigned enc_f16(float f) { return f32_to_f16(f); }
static unsigned enc_bf16(float f) { return f32_to_bf16(f); }
static unsigned enc_e4m3(float f) { return f32_to_f8e4m3(f); }
static unsigned enc_e5m2(float f) { return f32_to_f8e5m2(f); }

static void check_format(const format *f)
{
    unsigned sign_bit = f->ncodes >> 1, bad = 0, first_bad = 0;
    for (unsigned b = 0; b < f->ncodes; b++)
        if (!same(f->decode(b), reference(b, f->ebits, f->mbits, f->bias, f->ieee_top)) && !bad++) first_bad = b;
    CHECK(bad == 0, "%s: all %u bit patterns decode to the formula's value (first mismatch 0x%x)", f->name, f->ncodes,
          first_bad);

    bad = 0;
    for (unsigned b = 0; b < f->ncodes; b++) {
        float v = f->decode(b);
        if (!isnan(v) && f->encode(v) != b && !bad++) first_bad = b;
    }
    CHECK(bad == 0, "%s: encoding every decoded non-NaN value gives its own bits back (first 0x%x)", f->name,
          first_bad);
    CHECK(isnan(f->decode(f->encode(NAN))), "%s: NaN encodes to a NaN", f->name);

    /* midpoints between neighbouring finite magnitudes (both signs): ties go to the even code,
     * one float step either side goes to the nearer code */
    unsigned tie_bad = 0, side_bad = 0;
    for (unsigned b = 0; b + 1 < sign_bit; b++) {
        double lo = reference(b, f->ebits, f->mbits, f->bias, f->ieee_top);
        double hi = reference(b + 1, f->ebits, f->mbits, f->bias, f->ieee_top);
        if (!isfinite(lo) || !isfinite(hi)) continue;
        float mid = (float)((lo + hi) / 2);   /* exact: one more significant bit than the format */
        unsigned even = (b & 1) ? b + 1 : b;
        for (int s = 0; s < 2; s++) {
            float sg = s ? -1.0f : 1.0f;
            unsigned sb = s ? sign_bit : 0;
            if (f->encode(sg * mid) != (even | sb)) tie_bad++;
            if (f->encode(sg * nextafterf(mid, INFINITY)) != ((b + 1) | sb) ||
                f->encode(sg * nextafterf(mid, 0)) != (b | sb))
                side_bad++;
        }
    }
    CHECK(tie_bad == 0, "%s: exact midpoints round to the even neighbour (%u wrong)", f->name, tie_bad);
    CHECK(side_bad == 0, "%s: values beside a midpoint round to the nearer neighbour (%u wrong)", f->name, side_bad);
}

int main(void)
{
    const format formats[] = {
        {"F16", 5, 10, 15, 1, 65536, dec_f16, enc_f16},
        {"BF16", 8, 7, 127, 1, 65536, dec_bf16, enc_bf16},
        {"F8_E4M3", 4, 3, 7, 0, 256, dec_e4m3, enc_e4m3},
        {"F8_E5M2", 5, 2, 15, 1, 256, dec_e5m2, enc_e5m2},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) check_format(&formats[i]);

    /* overflow: IEEE formats round to infinity past max + half an ulp; E4M3fn saturates at 448 */
    CHECK(f32_to_f16(65519.0f) == 0x7BFF && f32_to_f16(65520.0f) == 0x7C00 && f32_to_f16(1e30f) == 0x7C00 &&
              f32_to_f16(-INFINITY) == 0xFC00,
          "F16 overflow: 65519 -> max, 65520 and beyond -> inf");
    CHECK(f32_to_f8e5m2(61439.0f) == 0x7B && f32_to_f8e5m2(61440.0f) == 0x7C && f32_to_f8e5m2(-1e9f) == 0xFC,
          "F8_E5M2 overflow: 61439 -> 57344, 61440 -> inf");
    CHECK(f32_to_f8e4m3(448.0f) == 0x7E && f32_to_f8e4m3(500.0f) == 0x7E && f32_to_f8e4m3(INFINITY) == 0x7E &&
              f32_to_f8e4m3(-1e9f) == 0xFE,
          "F8_E4M3 saturates to +-448 (0x7F is NaN, never produced from a number)");
    CHECK(f32_to_bf16(3.3895313892515355e38f) == 0x7F7F && f32_to_bf16(INFINITY) == 0x7F80,
          "BF16 max finite and infinity");
    /* smallest subnormals and values that underflow to zero */
    CHECK(f32_to_f16(0x1.0p-24f) == 1 && f32_to_f16(0x1.0p-25f) == 0 && f32_to_f16(0x1.8p-25f) == 1,
          "F16: 2^-24 is the smallest subnormal; 2^-25 ties to zero, 1.5*2^-25 rounds up");
    CHECK(f32_to_f8e4m3(0x1.0p-9f) == 1 && f32_to_f8e4m3(0x1.0p-10f) == 0 && f32_to_f8e4m3(-0x1.8p-10f) == 0x81,
          "F8_E4M3: 2^-9 is the smallest subnormal; half of it ties to zero");

    /* dtype_convert_f32 agrees with the scalar decoders */
    unsigned char raw[256];
    float out[256];
    for (int i = 0; i < 256; i++) raw[i] = (unsigned char)i;
    int ok = dtype_convert_f32(LINEAGE_DTYPE_F8_E4M3, raw, 256, out);
    for (int i = 0; ok && i < 256; i++) ok = same(out[i], (double)f8e4m3_to_f32((uint8_t)i));
    CHECK(ok, "dtype_convert_f32 F8_E4M3 matches the scalar decoder");
    ok = dtype_convert_f32(LINEAGE_DTYPE_F16, raw, 128, out);
    for (int i = 0; ok && i < 128; i++) ok = same(out[i], (double)f16_to_f32((uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8)));
    CHECK(ok, "dtype_convert_f32 F16 reads little-endian pairs");
    CHECK(dtype_convert_f32(LINEAGE_DTYPE_Q4_0, raw, 1, out) == 0, "dtype_convert_f32 refuses block types");
    CHECK_EXIT();
}
