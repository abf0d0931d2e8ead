/* safetensors files and Hugging Face folders: every dtype round-trips through the writer and the
 * reader, row ranges, sharded folders equal single-file ones, config-only folders, metadata,
 * folder fallbacks, and the zoo's base / base-fp32 / base-sharded hold the same values. */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"
#include "format/dtype.h"
#include "support/fixture.h"
#include "format/model.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"

static char tmp[256];

static void make_tmp(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lineage-st-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); exit(1); }
}

static void remove_tmp(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
}

static const char *tpath(const char *name)
{
    static char p[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

static void put_le(unsigned char *dst, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) dst[i] = (unsigned char)(v >> (8 * i));
}

/* 12 elements of each dtype whose f32 view is known exactly: value(i) for element i. */
static double value_of(lineage_dtype t, int i)
{
    switch (t) {
    case LINEAGE_DTYPE_BOOL: return i % 2;
    case LINEAGE_DTYPE_U8: return 200 + i;
    case LINEAGE_DTYPE_I8: return i * 11 - 128;
    case LINEAGE_DTYPE_I16: return i * 3000 - 32768;
    case LINEAGE_DTYPE_I32: return (double)i * 100000000.0 - 2147483648.0 + (i == 11 ? 47483647.0 + 1e8 : 0);
    case LINEAGE_DTYPE_I64: return (double)(1LL << 40) * (i - 6);
    case LINEAGE_DTYPE_F8_E4M3: return (i - 6) * 0.5 * (i % 3 ? 1 : 64);      /* exact in E4M3 */
    case LINEAGE_DTYPE_F8_E5M2: return (i - 6) * 0.25 * (i % 3 ? 1 : 4096);   /* exact in E5M2 */
    default: return (i - 5) * 0.375 + (i == 11 ? 1e-3 * (t == LINEAGE_DTYPE_F32 || t == LINEAGE_DTYPE_F64) : 0);
    }
}

static void encode(lineage_dtype t, int i, unsigned char *dst)
{
    double v = value_of(t, i);
    switch (t) {
    case LINEAGE_DTYPE_F64: { uint64_t u; memcpy(&u, &v, 8); put_le(dst, u, 8); break; }
    case LINEAGE_DTYPE_F32: { float f = (float)v; uint32_t u; memcpy(&u, &f, 4); put_le(dst, u, 4); break; }
    case LINEAGE_DTYPE_F16: put_le(dst, f32_to_f16((float)v), 2); break;
    case LINEAGE_DTYPE_BF16: put_le(dst, f32_to_bf16((float)v), 2); break;
    case LINEAGE_DTYPE_F8_E4M3: dst[0] = f32_to_f8e4m3((float)v); break;
    case LINEAGE_DTYPE_F8_E5M2: dst[0] = f32_to_f8e5m2((float)v); break;
    case LINEAGE_DTYPE_I64: put_le(dst, (uint64_t)(int64_t)v, 8); break;
    case LINEAGE_DTYPE_I32: put_le(dst, (uint64_t)(int64_t)v, 4); break;
    case LINEAGE_DTYPE_I16: put_le(dst, (uint64_t)(int64_t)v, 2); break;
    default: dst[0] = (unsigned char)(int)v; break;
    }
}

static void test_every_dtype(void)
{
    static const lineage_dtype types[] = {
        LINEAGE_DTYPE_F64, LINEAGE_DTYPE_F32, LINEAGE_DTYPE_F16, LINEAGE_DTYPE_BF16, LINEAGE_DTYPE_F8_E4M3,
        LINEAGE_DTYPE_F8_E5M2, LINEAGE_DTYPE_I8, LINEAGE_DTYPE_U8, LINEAGE_DTYPE_I16, LINEAGE_DTYPE_I32,
        LINEAGE_DTYPE_I64, LINEAGE_DTYPE_BOOL};
    enum { N = sizeof types / sizeof types[0] };
    unsigned char bytes[N][12 * 8];
    char names[N][32];
    st_tensor ts[N];
    for (int k = 0; k < N; k++) {
        size_t es = dtype_block_bytes(types[k]);
        for (int i = 0; i < 12; i++) encode(types[k], i, bytes[k] + i * es);
        snprintf(names[k], sizeof names[k], "t.%s", lineage_dtype_name(types[k]));
        /* shapes [3, 4] and, for odd k, [2, 2, 3] */
        st_tensor t = {names[k], types[k], k % 2 ? 3 : 2, {k % 2 ? 2 : 3, k % 2 ? 2 : 4, 3}, bytes[k]};
        ts[k] = t;
    }
    lineage_error err = {0, ""};
    const char *file = tpath("dtypes.safetensors");
    CHECK(safetensors_write(file, ts, N, "{\"format\":\"pt\",\"note\":\"\\u00e9\"}", &err) == LINEAGE_OK,
          "writes a file with one tensor of each of the 12 safetensors dtypes (%s)", err.message);
    lineage_model *m = NULL;
    CHECK(lineage_model_open(file, &m, &err) == LINEAGE_OK, "opens it (%s)", err.message);
    if (!m) return;
    CHECK(lineage_model_tensor_count(m) == N, "12 tensors");
    CHECK(m->st_metadata && json_get_string(m->st_metadata, "format") &&
              !strcmp(json_get_string(m->st_metadata, "note"), "\xc3\xa9"),
          "__metadata__ strings are kept");
    for (int k = 0; k < N; k++) {
        long idx = lineage_model_find_tensor(m, names[k]);
        const lineage_tensor_info *in = idx >= 0 ? lineage_model_tensor(m, (size_t)idx) : NULL;
        size_t es = dtype_block_bytes(types[k]);
        int shape_ok = in && in->dtype == types[k] && in->numel == 12 && in->nbytes == 12 * es &&
                       in->cols == (uint64_t)(k % 2 ? 3 : 4) && in->rows == (uint64_t)(k % 2 ? 4 : 3) &&
                       in->ndim == (k % 2 ? 3 : 2);
        CHECK(shape_ok, "%s: dtype, shape, rows x cols and byte size read back", names[k]);
        if (!shape_ok) continue;
        const void *raw;
        uint64_t nb;
        CHECK(lineage_tensor_raw(m, (size_t)idx, &raw, &nb, &err) == 0 && nb == 12 * es && !memcmp(raw, bytes[k], nb),
              "%s: raw bytes are the bytes written", names[k]);
        float out[12];
        int same = lineage_tensor_read_rows_f32(m, (size_t)idx, 0, in->rows, out, &err) == 0;
        for (int i = 0; same && i < 12; i++) {
            double want = value_of(types[k], i);
            if (types[k] == LINEAGE_DTYPE_F32 || types[k] == LINEAGE_DTYPE_F64) want = (float)want;
            same = out[i] == (float)want;
        }
        CHECK(same, "%s: every element converts to the value written", names[k]);
    }
    /* row ranges on the [3, 4] F64 tensor */
    long f32 = lineage_model_find_tensor(m, "t.F64");
    float rows[8];
    CHECK(f32 >= 0 && lineage_tensor_read_rows_f32(m, (size_t)f32, 1, 2, rows, &err) == 0 &&
              rows[0] == (float)value_of(LINEAGE_DTYPE_F64, 4) && rows[7] == (float)value_of(LINEAGE_DTYPE_F64, 11),
          "rows 1..2 of a [3, 4] tensor are elements 4..11");
    CHECK(f32 >= 0 && lineage_tensor_read_rows_f32(m, (size_t)f32, 3, 0, rows, &err) == 0, "an empty range at the end is fine");
    CHECK(f32 >= 0 && lineage_tensor_read_rows_f32(m, (size_t)f32, 2, 2, rows, &err) == LINEAGE_E_USAGE &&
              strstr(err.message, "t.F64"),
          "rows past the end are a usage error naming the tensor");
    CHECK(lineage_tensor_read_rows_f32(m, N, 0, 1, rows, &err) == LINEAGE_E_USAGE, "a tensor index out of range is refused");
    CHECK(lineage_model_find_tensor(m, "t.missing") == -1, "an absent name is -1");
    lineage_model_close(m);
}

static void test_scalar_and_empty(void)
{
    float one = 1.5f;
    st_tensor ts[2] = {{"scalar", LINEAGE_DTYPE_F32, 0, {0}, &one}, {"empty", LINEAGE_DTYPE_F32, 2, {0, 7}, NULL}};
    lineage_error err = {0, ""};
    lineage_model *m = NULL;
    CHECK(safetensors_write(tpath("scalar.safetensors"), ts, 2, NULL, &err) == 0 &&
              lineage_model_open(tpath("scalar.safetensors"), &m, &err) == 0,
          "a 0-D tensor and a [0, 7] tensor write and open (%s)", err.message);
    if (!m) return;
    const lineage_tensor_info *s = lineage_model_tensor(m, (size_t)lineage_model_find_tensor(m, "scalar"));
    const lineage_tensor_info *e = lineage_model_tensor(m, (size_t)lineage_model_find_tensor(m, "empty"));
    float v = 0;
    CHECK(s && s->ndim == 0 && s->numel == 1 && s->rows == 1 && s->cols == 1 &&
              lineage_tensor_read_rows_f32(m, (size_t)lineage_model_find_tensor(m, "scalar"), 0, 1, &v, &err) == 0 &&
              v == 1.5f,
          "a scalar is one row of one column");
    CHECK(e && e->numel == 0 && e->rows == 0 && e->cols == 7 && e->nbytes == 0, "a [0, 7] tensor has no rows");
    lineage_model_close(m);
}

static int write_fixture(const char *dir, const fixture_spec *s, lineage_dtype dt, int shards)
{
    fixture_model fm;
    lineage_error err = {0, ""};
    fixture_write_options o = {dt, shards, 0, 0};
    int ok = fixture_model_init(&fm, s, &err) == 0 && fixture_model_fill(&fm, &err) == 0 &&
             fixture_write_hf(dir, &fm, &o, &err) == 0;
    if (!ok) printf("# fixture: %s\n", err.message);
    fixture_model_free(&fm);
    return ok;
}

/* Same names, shapes and f32 values, tensor by tensor (by name). */
static int same_values(const lineage_model *a, const lineage_model *b, char *why, size_t whylen)
{
    if (lineage_model_tensor_count(a) != lineage_model_tensor_count(b)) {
        snprintf(why, whylen, "%zu vs %zu tensors", lineage_model_tensor_count(a), lineage_model_tensor_count(b));
        return 0;
    }
    lineage_error err;
    for (size_t i = 0; i < lineage_model_tensor_count(a); i++) {
        const lineage_tensor_info *x = lineage_model_tensor(a, i);
        long j = lineage_model_find_tensor(b, x->name);
        const lineage_tensor_info *y = j >= 0 ? lineage_model_tensor(b, (size_t)j) : NULL;
        if (!y || y->rows != x->rows || y->cols != x->cols) {
            snprintf(why, whylen, "'%s' missing or reshaped", x->name);
            return 0;
        }
        size_t n = (size_t)(x->rows * x->cols);
        float *p = malloc((n + 1) * sizeof *p), *q = malloc((n + 1) * sizeof *q);
        int ok = p && q && lineage_tensor_read_rows_f32(a, i, 0, x->rows, p, &err) == 0 &&
                 lineage_tensor_read_rows_f32(b, (size_t)j, 0, y->rows, q, &err) == 0 && !memcmp(p, q, n * sizeof *p);
        free(p);
        free(q);
        if (!ok) {
            snprintf(why, whylen, "'%s' values differ", x->name);
            return 0;
        }
    }
    return 1;
}

static void test_sharded_equals_single(void)
{
    fixture_spec s = {FIXTURE_QWEN2_MOE, 48, 3, 4, 2, 0, 96, 200, 4, 2, 32, 1, 0, 42};
    CHECK(write_fixture(tpath("single"), &s, LINEAGE_DTYPE_BF16, 1) && write_fixture(tpath("sharded"), &s,
                                                                                      LINEAGE_DTYPE_BF16, 5),
          "writes one Qwen2-MoE fixture as a single file and as 5 shards");
    lineage_model *a = NULL, *b = NULL;
    lineage_error err = {0, ""};
    CHECK(lineage_model_open(tpath("single"), &a, &err) == 0, "single-file folder opens (%s)", err.message);
    CHECK(lineage_model_open(tpath("sharded"), &b, &err) == 0, "sharded folder opens (%s)", err.message);
    if (a && b) {
        char why[300] = "";
        CHECK(b->nfiles == 5 && a->nfiles == 1, "5 shard files vs 1");
        CHECK(same_values(a, b, why, sizeof why), "sharded and single-file folders hold the same tensors and values %s",
              why);
        CHECK(a->config && b->config && a->source == MODEL_SOURCE_HF_FOLDER, "config.json is read");
        long e = lineage_model_find_tensor(a, "model.layers.2.mlp.experts.3.down_proj.weight");
        const lineage_tensor_info *t = e >= 0 ? lineage_model_tensor(a, (size_t)e) : NULL;
        CHECK(t && t->layer == 2 && t->expert == 3 && !strcmp(t->role, "expert_down") && t->rows == 48 && t->cols == 32,
              "expert tensor: layer 2, expert 3, expert_down, [hidden, moe_ffn]");
        CHECK(lineage_model_find_role(a, LINEAGE_COMPONENT_TEXT, "expert_down", 2, 3) == e && e >= 0 &&
                  lineage_model_find_role(a, LINEAGE_COMPONENT_TEXT, "expert_down", 2, 4) == -1 &&
                  lineage_model_find_role(a, LINEAGE_COMPONENT_VISION, "expert_down", 2, 3) == -1,
              "find_role finds layer 2 expert 3's expert_down, and nothing for expert 4 or the vision component");
        int first_ok = 1;
        for (size_t i = 0; i < lineage_model_tensor_count(a); i++) {
            const lineage_tensor_info *x = lineage_model_tensor(a, i);
            long j = lineage_model_find_role(a, x->component, x->role, x->layer, x->expert);
            size_t k = 0;   /* the first tensor with the same key, by scanning */
            while (k < i) {
                const lineage_tensor_info *y = lineage_model_tensor(a, k);
                if (y->component == x->component && y->layer == x->layer && y->expert == x->expert &&
                    !strcmp(y->role, x->role))
                    break;
                k++;
            }
            if (j != (long)k) first_ok = 0;
        }
        CHECK(first_ok, "find_role returns the first tensor with that role, layer and expert, for every tensor");
        /* 3 layers x (4 attn + 3 bias + 2 norms + router + 4 experts x 3 + 3 shared + shared gate) + 3 */
        CHECK(lineage_model_tensor_count(a) == 3 * 26 + 3, "Qwen2-MoE tensor count (%zu)", lineage_model_tensor_count(a));
    }
    lineage_model_close(a);
    lineage_model_close(b);
    /* the same seed in another dtype: F32 values round to the BF16 ones */
    CHECK(write_fixture(tpath("single-f32"), &s, LINEAGE_DTYPE_F32, 2), "writes the same fixture as F32 in 2 shards");
    lineage_model *c = NULL;
    a = NULL;
    if (lineage_model_open(tpath("single-f32"), &c, &err) == 0 && lineage_model_open(tpath("single"), &a, &err) == 0) {
        long i = lineage_model_find_tensor(c, "model.embed_tokens.weight");
        long j = lineage_model_find_tensor(a, "model.embed_tokens.weight");
        float x[48], y[48];
        int ok = i >= 0 && j >= 0 && lineage_tensor_read_rows_f32(c, (size_t)i, 7, 1, x, &err) == 0 &&
                 lineage_tensor_read_rows_f32(a, (size_t)j, 7, 1, y, &err) == 0;
        for (int k = 0; ok && k < 48; k++) ok = bf16_to_f32(f32_to_bf16(x[k])) == y[k];
        CHECK(ok, "fixture values depend on seed and name only: F32 rounds to the BF16 file's values");
    } else {
        CHECK(0, "F32 fixture opens (%s)", err.message);
    }
    lineage_model_close(a);
    lineage_model_close(c);
}

static void test_folders(void)
{
    lineage_error err = {0, ""};
    lineage_model *m = NULL;
    mkdir(tpath("config-only"), 0777);
    FILE *f = fopen(tpath("config-only/config.json"), "w");
    if (f) {
        fputs("{\"model_type\": \"llama\", \"num_hidden_layers\": 2, \"hidden_size\": 8}", f);
        fclose(f);
    }
    CHECK(lineage_model_open(tpath("config-only"), &m, &err) == 0 && m->source == MODEL_SOURCE_CONFIG_ONLY &&
              lineage_model_tensor_count(m) == 0 && m->config,
          "a folder with config.json only opens as config-only (%s)", err.message);
    lineage_model_close(m);
    m = NULL;

    mkdir(tpath("nothing"), 0777);
    CHECK(lineage_model_open(tpath("nothing"), &m, &err) == LINEAGE_E_FORMAT && strstr(err.message, "nothing"),
          "a folder with neither config nor weights is a format error naming it");
    CHECK(lineage_model_open(tpath("no-such-thing"), &m, &err) == LINEAGE_E_IO, "a missing path is an I/O error");
    CHECK(lineage_model_open("", &m, &err) == LINEAGE_E_USAGE, "an empty path is a usage error");

    /* no model.safetensors and no index: other .safetensors files in name order */
    mkdir(tpath("consolidated"), 0777);
    float v[2] = {1, 2};
    st_tensor a = {"a.weight", LINEAGE_DTYPE_F32, 1, {2}, v}, b = {"b.weight", LINEAGE_DTYPE_F32, 1, {2}, v};
    safetensors_write(tpath("consolidated/part-b.safetensors"), &b, 1, NULL, &err);
    safetensors_write(tpath("consolidated/part-a.safetensors"), &a, 1, NULL, &err);
    CHECK(lineage_model_open(tpath("consolidated"), &m, &err) == 0 && lineage_model_tensor_count(m) == 2 &&
              !strcmp(lineage_model_tensor(m, 0)->name, "a.weight"),
          "a folder of other .safetensors files opens them in name order (%s)", err.message);
    lineage_model_close(m);
    m = NULL;

    /* a .safetensors file next to a config.json picks the config up */
    fixture_spec s = {FIXTURE_LLAMA, 32, 2, 4, 2, 0, 64, 64, 0, 0, 0, 0, 1, 3};
    CHECK(write_fixture(tpath("tied"), &s, LINEAGE_DTYPE_F16, 1), "writes a tied F16 Llama fixture");
    CHECK(lineage_model_open(tpath("tied/model.safetensors"), &m, &err) == 0 && m->config &&
              m->source == MODEL_SOURCE_SAFETENSORS && lineage_model_find_tensor(m, "lm_head.weight") < 0 &&
              lineage_model_tensor_count(m) == 2 * 9 + 2,
          "a file opened directly reads the config beside it; tied fixtures have no lm_head (%s)", err.message);
    lineage_model_close(m);
}

static void test_zoo(void)
{
    char p[3][512];
    const char *names[3] = {"base", "base-fp32", "base-sharded"};
    lineage_model *m[3] = {NULL, NULL, NULL};
    lineage_error err = {0, ""};
    for (int i = 0; i < 3; i++) {
        snprintf(p[i], sizeof p[i], "%s/zoo/%s", shared_dir(), names[i]);
        CHECK(lineage_model_open(p[i], &m[i], &err) == 0, "zoo %s opens (%s)", names[i], err.message);
    }
    if (m[0] && m[1] && m[2]) {
        char why[300] = "";
        CHECK(lineage_model_tensor_count(m[0]) == 39, "zoo base has 39 tensors (4 layers x 9 + 3)");
        CHECK(same_values(m[0], m[1], why, sizeof why), "zoo base and base-fp32 hold identical values %s", why);
        CHECK(same_values(m[0], m[2], why, sizeof why), "zoo base and base-sharded hold identical values %s", why);
        CHECK(m[2]->nfiles == 3 && lineage_model_tensor(m[1], 0)->dtype == LINEAGE_DTYPE_F32 &&
                  lineage_model_tensor(m[0], 0)->dtype == LINEAGE_DTYPE_BF16,
              "base is BF16, base-fp32 F32, base-sharded 3 files");
    }
    for (int i = 0; i < 3; i++) lineage_model_close(m[i]);
}

int main(void)
{
    make_tmp();
    test_every_dtype();
    test_scalar_and_empty();
    test_sharded_equals_single();
    test_folders();
    test_zoo();
    remove_tmp();
    CHECK_EXIT();
}
