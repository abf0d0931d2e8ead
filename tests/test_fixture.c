/* The fixture generator: deterministic output, seeded Gaussian values with the intended moments,
 * the tensor layout of each architecture, and sparse files of full size. */
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"
#include "support/fixture.h"
#include "format/model.h"

static char tmp[256];

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

static int write_fixture(const char *dir, const fixture_spec *s, int sparse, int shards)
{
    fixture_model fm;
    lineage_error err = {0, ""};
    fixture_write_options o = {LINEAGE_DTYPE_BF16, shards, sparse, 0};
    int ok = fixture_model_init(&fm, s, &err) == 0 && (sparse || fixture_model_fill(&fm, &err) == 0) &&
             fixture_write_hf(dir, &fm, &o, &err) == 0;
    if (!ok) printf("# fixture: %s\n", err.message);
    fixture_model_free(&fm);
    return ok;
}

static int files_equal(const char *a, const char *b)
{
    FILE *f = fopen(a, "rb"), *g = fopen(b, "rb");
    int same = f && g;
    while (same) {
        int x = fgetc(f), y = fgetc(g);
        if (x != y) same = 0;
        if (x == EOF || y == EOF) break;
    }
    if (f) fclose(f);
    if (g) fclose(g);
    return same;
}

static void test_rng(void)
{
    fixture_rng r;
    fixture_rng_seed(&r, 7);
    double sum = 0, sum2 = 0, sum4 = 0, umin = 1, umax = 0;
    enum { N = 200000 };
    for (int i = 0; i < N; i++) {
        double g = fixture_rng_gauss(&r);
        sum += g;
        sum2 += g * g;
        sum4 += g * g * g * g;
        double u = fixture_rng_uniform(&r);
        umin = fmin(umin, u);
        umax = fmax(umax, u);
    }
    double mean = sum / N, var = sum2 / N - mean * mean, kurt = sum4 / N / (var * var);
    CHECK(fabs(mean) < 0.01 && fabs(var - 1) < 0.02, "Gaussian samples: mean %.4f ~ 0, variance %.4f ~ 1", mean, var);
    CHECK(fabs(kurt - 3) < 0.1, "Gaussian samples: kurtosis %.3f ~ 3 (normal, not uniform)", kurt);
    CHECK(umin > 0 && umax < 1 && umin < 1e-4 && umax > 1 - 1e-4, "uniform samples cover (0, 1) exclusive");
    fixture_rng a, b;
    fixture_rng_seed(&a, 1);
    fixture_rng_seed(&b, 2);
    CHECK(fixture_rng_next(&a) != fixture_rng_next(&b), "different seeds give different streams");
}

static void test_determinism(void)
{
    fixture_spec s = {FIXTURE_MIXTRAL, 32, 2, 4, 2, 0, 48, 64, 4, 2, 0, 0, 0, 5};
    CHECK(write_fixture(tpath("a"), &s, 0, 1) && write_fixture(tpath("b"), &s, 0, 1), "writes a Mixtral fixture twice");
    CHECK(files_equal(tpath("a/model.safetensors"), tpath("b/model.safetensors")) &&
              files_equal(tpath("a/config.json"), tpath("b/config.json")),
          "the same spec and seed give byte-identical files");
    s.seed = 6;
    CHECK(write_fixture(tpath("c"), &s, 0, 1) && !files_equal(tpath("a/model.safetensors"), tpath("c/model.safetensors")),
          "another seed gives other weights");
    lineage_model *m = NULL;
    lineage_error err = {0, ""};
    CHECK(lineage_model_open(tpath("a"), &m, &err) == 0, "the Mixtral fixture opens (%s)", err.message);
    if (!m) return;
    /* 2 layers x (4 attn + 2 norms + router + 4 experts x 3) + embed, norm, lm_head */
    CHECK(lineage_model_tensor_count(m) == 2 * 19 + 3, "Mixtral tensor count %zu", lineage_model_tensor_count(m));
    long w2 = lineage_model_find_tensor(m, "model.layers.1.block_sparse_moe.experts.3.w2.weight");
    const lineage_tensor_info *t = w2 >= 0 ? lineage_model_tensor(m, (size_t)w2) : NULL;
    CHECK(t && t->rows == 32 && t->cols == 48 && t->expert == 3 && !strcmp(t->role, "expert_down"),
          "Mixtral w2 is expert_down [hidden, ffn]");
    long q = lineage_model_find_tensor(m, "model.layers.0.self_attn.q_proj.weight");
    long n = lineage_model_find_tensor(m, "model.layers.0.input_layernorm.weight");
    float w[32 * 32], v[32];
    if (q >= 0 && n >= 0 && lineage_tensor_read_rows_f32(m, (size_t)q, 0, 32, w, &err) == 0 &&
        lineage_tensor_read_rows_f32(m, (size_t)n, 0, 1, v, &err) == 0) {
        double s1 = 0, s2 = 0, n1 = 0;
        for (int i = 0; i < 32 * 32; i++) { s1 += w[i]; s2 += (double)w[i] * w[i]; }
        for (int i = 0; i < 32; i++) n1 += v[i];
        double sd = sqrt(s2 / 1024 - (s1 / 1024) * (s1 / 1024));
        CHECK(sd > 0.017 && sd < 0.023 && fabs(s1 / 1024) < 0.003, "linear weights look initialized: std %.4f ~ 0.02", sd);
        CHECK(fabs(n1 / 32 - 1) < 0.02, "norm weights sit near 1 (mean %.4f)", n1 / 32);
    } else {
        CHECK(0, "reads q_proj and a norm");
    }
    lineage_model_close(m);
}

static void test_layouts(void)
{
    /* Solar-Open-100B (the sparse-100b layout): counts derived from its published config */
    fixture_spec s = {FIXTURE_SOLAR_OPEN, 4096, 48, 64, 8, 128, 10240, 196608, 128, 8, 1280, 1, 0, 1};
    fixture_model fm;
    lineage_error err = {0, ""};
    CHECK(fixture_model_init(&fm, &s, &err) == 0, "Solar-Open-100B spec lists its tensors");
    uint64_t params = 0;
    for (size_t i = 0; i < fm.count; i++) params += fixture_tensor_numel(&fm.tensors[i]);
    uint64_t h = 4096, v = 196608, e = 128, f = 1280;
    uint64_t attn = h * (64 * 128) * 2 + h * (8 * 128) * 2, layer = attn + 2 * h + e * h + e + (e + 1) * 3 * h * f;
    CHECK(fm.count == 48 * (4 + 2 + 2 + 128 * 3 + 3) + 3, "Solar-Open layout has %zu tensors (48 x 395 + 3)", fm.count);
    CHECK(params == 2 * v * h + h + 48 * layer, "Solar-Open parameters %.2fB match the config arithmetic", params / 1e9);
    CHECK(params > 100e9 && params < 105e9, "Solar-Open is 100B-class (%.1fB)", params / 1e9);
    fixture_model_free(&fm);

    fixture_spec bad = {FIXTURE_LLAMA, 30, 2, 4, 3, 0, 48, 64, 0, 0, 0, 0, 0, 1};
    CHECK(fixture_model_init(&fm, &bad, &err) == LINEAGE_E_USAGE, "a spec with heads not divisible by kv_heads is refused");
}

static void test_sparse(void)
{
    fixture_spec s = {FIXTURE_LLAMA, 1024, 4, 8, 8, 0, 4096, 32000, 0, 0, 0, 0, 0, 1};
    CHECK(write_fixture(tpath("sparse"), &s, 1, 3), "writes a sparse 3-shard Llama fixture");
    lineage_model *m = NULL;
    lineage_error err = {0, ""};
    CHECK(lineage_model_open(tpath("sparse"), &m, &err) == 0, "the sparse fixture opens (%s)", err.message);
    if (!m) return;
    uint64_t params = 0, disk = 0;
    for (size_t i = 0; i < m->ntensors; i++) params += m->tensors[i].info.numel;
    for (size_t i = 0; i < m->nfiles; i++) {
        struct stat st;
        if (stat(m->files[i].path, &st) == 0) disk += (uint64_t)st.st_blocks * 512;
    }
    CHECK(m->total_bytes > 2 * params && m->total_bytes < 2 * params + 65536, "files have full size: %llu bytes for "
          "%llu BF16 parameters", (unsigned long long)m->total_bytes, (unsigned long long)params);
    CHECK(disk < m->total_bytes / 100, "files are sparse: %llu bytes allocated", (unsigned long long)disk);
    CHECK(m->header_bytes < m->total_bytes / 1000, "opening reads only headers (%llu bytes)",
          (unsigned long long)m->header_bytes);
    float row[1024];
    CHECK(lineage_tensor_read_rows_f32(m, 0, 100, 1, row, &err) == 0 && row[0] == 0 && row[1023] == 0,
          "holes read as zeros");
    lineage_model_close(m);
}

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lineage-fx-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    test_rng();
    test_determinism();
    test_layouts();
    test_sparse();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    CHECK_EXIT();
}
