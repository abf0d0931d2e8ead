/* FP8 checkpoints end to end (DeepSeek-V3 style): F8_E4M3 weights with per-block F32
 * weight_scale_inv companions, shapes that are not multiples of the block (edge blocks), block
 * sizes from config.json, and files without a config. Expected values are computed here from
 * the raw bytes with the E4M3 formula, independently of the reader. */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "support/fixture.h"
#include "format/model.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"

static char tmp[256];

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

/* float8_e4m3fn by definition: bias 7, 3 mantissa bits, S.1111.111 = NaN */
static float e4m3(uint8_t b)
{
    int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
    double v = e == 0 ? ldexp(m / 8.0, -6) : ldexp(1 + m / 8.0, e - 7);
    if (e == 15 && m == 7) v = NAN;
    return (float)(s ? -v : v);
}

static float f32_at(const unsigned char *p)
{
    float f;
    memcpy(&f, p, 4);
    return f;
}

/* Every FP8 tensor of m read through the library equals q x scale_inv[i/b][j/b] computed from
 * the raw bytes; returns the number of FP8 tensors checked, -1 on a mismatch. */
static int check_dequant(const lineage_model *m, uint64_t block, char *why, size_t whylen)
{
    int n = 0;
    lineage_error err;
    for (size_t i = 0; i < lineage_model_tensor_count(m); i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        if (t->dtype != LINEAGE_DTYPE_F8_E4M3) continue;
        char sname[600];
        snprintf(sname, sizeof sname, "%s_scale_inv", t->name);
        long s = lineage_model_find_tensor(m, sname);
        if (s < 0 || !t->has_scale || m->tensors[i].block_rows != block || m->tensors[i].block_cols != block) {
            snprintf(why, whylen, "'%s' is not paired with a %llu-block scale", t->name, (unsigned long long)block);
            return -1;
        }
        const void *q, *sc;
        uint64_t qn, sn;
        lineage_tensor_raw(m, i, &q, &qn, &err);
        lineage_tensor_raw(m, (size_t)s, &sc, &sn, &err);
        uint64_t scols = lineage_model_tensor(m, (size_t)s)->cols;
        float *out = malloc(t->rows * t->cols * sizeof *out);
        if (!out || lineage_tensor_read_rows_f32(m, i, 0, t->rows, out, &err)) {
            free(out);
            snprintf(why, whylen, "'%s' cannot be read", t->name);
            return -1;
        }
        for (uint64_t r = 0; r < t->rows; r++)
            for (uint64_t c = 0; c < t->cols; c++) {
                float want = e4m3(((const uint8_t *)q)[r * t->cols + c]) *
                             f32_at((const unsigned char *)sc + 4 * ((r / block) * scols + c / block));
                if (out[r * t->cols + c] != want) {
                    snprintf(why, whylen, "'%s'[%llu][%llu] = %g, expected %g", t->name, (unsigned long long)r,
                             (unsigned long long)c, out[r * t->cols + c], want);
                    free(out);
                    return -1;
                }
            }
        free(out);
        n++;
    }
    return n;
}

/* Dequantized values are within E4M3 rounding of the fixture's original f32 values. */
static int close_to_original(const lineage_model *m, const fixture_model *fm, char *why, size_t whylen)
{
    lineage_error err;
    for (size_t k = 0; k < fm->count; k++) {
        const fixture_tensor *ft = &fm->tensors[k];
        if (!ft->fp8) continue;
        long i = lineage_model_find_tensor(m, ft->name);
        if (i < 0) return 0;
        const model_tensor *t = &m->tensors[i];
        uint64_t n = fixture_tensor_numel(ft);
        float *out = malloc(n * sizeof *out), *scale = malloc(m->tensors[t->scale].info.numel * sizeof *scale);
        int ok = out && scale && lineage_tensor_read_rows_f32(m, (size_t)i, 0, t->info.rows, out, &err) == 0 &&
                 lineage_tensor_read_rows_f32(m, (size_t)t->scale, 0, m->tensors[t->scale].info.rows, scale, &err) == 0;
        uint64_t scols = m->tensors[t->scale].info.cols;
        for (uint64_t e = 0; ok && e < n; e++) {
            uint64_t r = e / t->info.cols, c = e % t->info.cols;
            float s = scale[(r / t->block_rows) * scols + c / t->block_cols];
            /* half an ulp of 3 mantissa bits (normal), or half of 2^-9 (subnormal), in scaled units */
            double bound = fabs(ft->data[e]) * 0.0625 + s * 0x1.0p-10 + 1e-12;
            if (fabs((double)out[e] - ft->data[e]) > bound) {
                snprintf(why, whylen, "'%s'[%llu] = %g vs original %g", ft->name, (unsigned long long)e, out[e],
                         ft->data[e]);
                ok = 0;
            }
        }
        free(out);
        free(scale);
        if (!ok) return 0;
    }
    return 1;
}

static void test_fixture_fp8(const char *name, int block)
{
    /* hidden 200, ffn 300: neither a multiple of 128 nor of 64, so every weight has edge blocks */
    fixture_spec s = {FIXTURE_LLAMA, 200, 2, 4, 2, 0, 300, 130, 0, 0, 0, 0, 0, 11};
    fixture_model fm;
    lineage_error err = {0, ""};
    fixture_write_options o = {LINEAGE_DTYPE_F8_E4M3, 2, 0, block};
    int ok = fixture_model_init(&fm, &s, &err) == 0 && fixture_model_fill(&fm, &err) == 0 &&
             fixture_write_hf(tpath(name), &fm, &o, &err) == 0;
    CHECK(ok, "%s: writes an FP8 Llama fixture, block %d, in 2 shards (%s)", name, block, err.message);
    lineage_model *m = NULL;
    CHECK(ok && lineage_model_open(tpath(name), &m, &err) == 0, "%s: opens (%s)", name, err.message);
    if (!m) { fixture_model_free(&fm); return; }
    char why[300] = "";
    int n = check_dequant(m, (uint64_t)(block ? block : 128), why, sizeof why);
    CHECK(n == 2 * 7, "%s: all 14 linear weights are F8_E4M3 with a scale and read as q x scale_inv %s", name, why);
    CHECK(close_to_original(m, &fm, why, sizeof why), "%s: dequantized weights are within E4M3 rounding of the "
          "original values %s", name, why);
    long g = lineage_model_find_tensor(m, "model.layers.1.mlp.gate_proj.weight");
    long norm = lineage_model_find_tensor(m, "model.layers.1.input_layernorm.weight");
    long sc = lineage_model_find_tensor(m, "model.layers.1.mlp.gate_proj.weight_scale_inv");
    uint64_t b = (uint64_t)(block ? block : 128);
    CHECK(sc >= 0 && lineage_model_tensor(m, (size_t)sc)->shape[0] == (300 + b - 1) / b &&
              lineage_model_tensor(m, (size_t)sc)->shape[1] == (200 + b - 1) / b &&
              !strcmp(lineage_model_tensor(m, (size_t)sc)->role, "quant_scale"),
          "%s: gate_proj scale is [ceil(300/b), ceil(200/b)] with role quant_scale", name);
    CHECK(norm >= 0 && !lineage_model_tensor(m, (size_t)norm)->has_scale &&
              lineage_model_tensor(m, (size_t)norm)->dtype == LINEAGE_DTYPE_BF16,
          "%s: norms stay BF16 without a scale", name);
    if (g >= 0) {
        /* a row range across a block boundary equals that slice of the full read */
        float *all = malloc(300 * 200 * sizeof *all), *part = malloc(40 * 200 * sizeof *part);
        int same = all && part && lineage_tensor_read_rows_f32(m, (size_t)g, 0, 300, all, &err) == 0 &&
                   lineage_tensor_read_rows_f32(m, (size_t)g, b - 20, 40, part, &err) == 0 &&
                   !memcmp(part, all + (b - 20) * 200, 40 * 200 * sizeof *part);
        CHECK(same, "%s: rows %llu..%llu (across a block edge) equal the slice of a full read", name,
              (unsigned long long)(b - 20), (unsigned long long)(b + 19));
        free(all);
        free(part);
    }
    lineage_model_close(m);
    fixture_model_free(&fm);
}

static void test_no_config(void)
{
    lineage_error err = {0, ""};
    /* [200, 300] weight with a [2, 3] scale and no config: 128x128 blocks with partial edges */
    static uint8_t q[200 * 300];
    float scale[6] = {1, 2, 4, 8, 16, 32};
    for (int i = 0; i < 200 * 300; i++) {
        q[i] = (uint8_t)(i * 7 % 255);
        if ((q[i] & 0x7F) == 0x7F) q[i] = 0x38;   /* no NaN codes */
    }
    st_tensor ts[2] = {{"w.weight", LINEAGE_DTYPE_F8_E4M3, 2, {200, 300}, q},
                       {"w.weight_scale_inv", LINEAGE_DTYPE_F32, 2, {2, 3}, scale}};
    lineage_model *m = NULL;
    CHECK(safetensors_write(tpath("noconf.safetensors"), ts, 2, NULL, &err) == 0 &&
              lineage_model_open(tpath("noconf.safetensors"), &m, &err) == 0,
          "an FP8 file without config.json opens (%s)", err.message);
    if (m) {
        char why[300] = "";
        CHECK(check_dequant(m, 128, why, sizeof why) == 1, "without a config, blocks are 128x128 with edges %s", why);
        lineage_model_close(m);
        m = NULL;
    }
    /* [4, 4] weight with a [2, 2] scale: only an exact tiling of 2x2 blocks fits */
    uint8_t q4[16];
    float s4[4] = {0.5f, 2, 3, -1};
    for (int i = 0; i < 16; i++) q4[i] = (uint8_t)(0x30 + i);
    st_tensor t4[2] = {{"x", LINEAGE_DTYPE_F8_E4M3, 2, {4, 4}, q4}, {"x_scale_inv", LINEAGE_DTYPE_F32, 2, {2, 2}, s4}};
    CHECK(safetensors_write(tpath("small.safetensors"), t4, 2, NULL, &err) == 0 &&
              lineage_model_open(tpath("small.safetensors"), &m, &err) == 0,
          "a [4, 4] FP8 weight with a [2, 2] scale opens (%s)", err.message);
    if (m) {
        char why[300] = "";
        CHECK(check_dequant(m, 2, why, sizeof why) == 1, "an exact tiling without a config gives 2x2 blocks %s", why);
        float row[4];
        CHECK(lineage_tensor_read_rows_f32(m, 3, 0, 0, row, &err) == LINEAGE_E_USAGE, "tensor index 3 is out of range");
        CHECK(lineage_tensor_read_rows_f32(m, 0, 3, 1, row, &err) == 0 && row[0] == e4m3(0x3C) * 3 &&
                  row[3] == e4m3(0x3F) * -1,
              "row 3 of the [4, 4] weight uses the bottom scale row (3, -1)");
        lineage_model_close(m);
    }
    /* unscaled FP8 (no companion) reads as plain E4M3 / E5M2 */
    uint8_t e5[4] = {0x3C, 0xBC, 0x7C, 0x01};
    st_tensor t5[1] = {{"e5", LINEAGE_DTYPE_F8_E5M2, 1, {4}, e5}};
    m = NULL;
    CHECK(safetensors_write(tpath("e5.safetensors"), t5, 1, NULL, &err) == 0 &&
              lineage_model_open(tpath("e5.safetensors"), &m, &err) == 0,
          "an unscaled E5M2 tensor opens");
    if (m) {
        float v[4];
        CHECK(lineage_tensor_read_rows_f32(m, 0, 0, 1, v, &err) == 0 && v[0] == 1.0f && v[1] == -1.0f && isinf(v[2]) &&
                  v[3] == 0x1.0p-16f && !lineage_model_tensor(m, 0)->has_scale,
              "E5M2 bytes 3C BC 7C 01 read as 1, -1, inf, 2^-16");
        lineage_model_close(m);
    }
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lineage-fp8-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    test_fixture_fp8("fp8-128", 0);
    test_fixture_fp8("fp8-64", 64);
    test_no_config();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    CHECK_EXIT();
}
