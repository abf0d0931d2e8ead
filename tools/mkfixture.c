/* mkfixture: the project's deterministic fixture generator.
 *
 *   mkfixture hf DIR [--arch llama|mixtral|qwen2_moe|solar_open] [--hidden N] [--layers N] [--heads N]
 *                    [--kv-heads N] [--head-dim N] [--ffn N] [--vocab N] [--experts E --top-k K]
 *                    [--moe-ffn N] [--shared-experts N] [--seed N] [--dtype bf16|f16|f32|fp8]
 *                    [--fp8-block N] [--shards K] [--tied] [--sparse]
 *   mkfixture sparse-100b DIR [--shards K]   Solar-Open-100B layout, BF16, sparse files of full size
 *   mkfixture corrupt DIR                    every class of damaged safetensors file and index;
 *                                            DIR/cases.tsv lists "path<TAB>file the error must name"
 *
 * The generator code lives in the library (src/format/fixture.h) so tests and derivation
 * generators share it. A GGUF writer, when it lands, gets its own subcommand here ("gguf"). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/fixture.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"
#include "lineage.h"

static int usage(void)
{
    fprintf(stderr, "usage: mkfixture hf|sparse-100b|corrupt DIR [options] (see tools/mkfixture.c)\n");
    return 2;
}

static int fail(const lineage_error *err)
{
    fprintf(stderr, "mkfixture: %s\n", err->message);
    return lineage_exit_code(err->code);
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

static int cmd_hf(const char *dir, int argc, char **argv)
{
    fixture_spec s = {FIXTURE_LLAMA, 64, 4, 4, 2, 0, 128, 256, 0, 0, 0, 0, 0, 1};
    fixture_write_options o = {LINEAGE_DTYPE_BF16, 1, 0, 128};
    struct { const char *flag; int *v; long lo, hi; } ints[] = {
        {"--hidden", &s.hidden, 1, 1 << 20}, {"--layers", &s.layers, 0, 10000}, {"--heads", &s.heads, 1, 4096},
        {"--kv-heads", &s.kv_heads, 1, 4096}, {"--head-dim", &s.head_dim, 0, 65536}, {"--ffn", &s.ffn, 1, 1 << 22},
        {"--vocab", &s.vocab, 1, 1 << 24}, {"--experts", &s.experts, 0, 100000}, {"--top-k", &s.top_k, 0, 100000},
        {"--moe-ffn", &s.moe_ffn, 0, 1 << 22}, {"--shared-experts", &s.shared_experts, 0, 64},
        {"--shards", &o.shards, 1, 100000}, {"--fp8-block", &o.fp8_block, 1, 1 << 20}};
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t k;
        for (k = 0; k < sizeof ints / sizeof ints[0]; k++)
            if (!strcmp(a, ints[k].flag)) break;
        if (k < sizeof ints / sizeof ints[0]) {
            if (!v || !parse_int(v, ints[k].lo, ints[k].hi, ints[k].v)) {
                fprintf(stderr, "mkfixture: %s wants an integer in [%ld, %ld]\n", a, ints[k].lo, ints[k].hi);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--tied")) {
            s.tied = 1;
        } else if (!strcmp(a, "--sparse")) {
            o.sparse = 1;
        } else if (!strcmp(a, "--seed") && v) {
            s.seed = strtoull(v, NULL, 0);
            i++;
        } else if (!strcmp(a, "--arch") && v) {
            if (!fixture_arch_parse(v, &s.arch)) {
                fprintf(stderr, "mkfixture: unknown --arch '%s'\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--dtype") && v) {
            static const struct { const char *n; lineage_dtype t; } dts[] = {
                {"bf16", LINEAGE_DTYPE_BF16}, {"f16", LINEAGE_DTYPE_F16}, {"f32", LINEAGE_DTYPE_F32},
                {"fp8", LINEAGE_DTYPE_F8_E4M3}};
            size_t d;
            for (d = 0; d < 4 && strcmp(v, dts[d].n); d++) {}
            if (d == 4) {
                fprintf(stderr, "mkfixture: --dtype wants bf16, f16, f32 or fp8\n");
                return 2;
            }
            o.dtype = dts[d].t;
            i++;
        } else {
            fprintf(stderr, "mkfixture: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (s.arch != FIXTURE_LLAMA && s.experts == 0) s.experts = 4;
    if (s.arch != FIXTURE_LLAMA && s.top_k == 0) s.top_k = 2;
    if ((s.arch == FIXTURE_QWEN2_MOE || s.arch == FIXTURE_SOLAR_OPEN) && s.shared_experts == 0) s.shared_experts = 1;
    lineage_error err = {0, ""};
    fixture_model fm;
    lineage_status st = fixture_model_init(&fm, &s, &err);
    if (st) return fail(&err);
    if (!o.sparse) st = fixture_model_fill(&fm, &err);
    if (!st) st = fixture_write_hf(dir, &fm, &o, &err);
    fixture_model_free(&fm);
    return st ? fail(&err) : 0;
}

/* upstage/Solar-Open-100B: 48 layers x 128 routed experts + 1 shared, hidden 4096, vocab 196608. */
static int cmd_sparse_100b(const char *dir, int argc, char **argv)
{
    fixture_spec s = {FIXTURE_SOLAR_OPEN, 4096, 48, 64, 8, 128, 10240, 196608, 128, 8, 1280, 1, 0, 100};
    fixture_write_options o = {LINEAGE_DTYPE_BF16, 48, 1, 0};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--shards") && i + 1 < argc && parse_int(argv[i + 1], 1, 100000, &o.shards)) i++;
        else {
            fprintf(stderr, "mkfixture: sparse-100b takes only --shards K\n");
            return 2;
        }
    }
    lineage_error err = {0, ""};
    fixture_model fm;
    lineage_status st = fixture_model_init(&fm, &s, &err);
    if (!st) st = fixture_write_hf(dir, &fm, &o, &err);
    fixture_model_free(&fm);
    return st ? fail(&err) : 0;
}

/* ---- corrupt fixtures ---- */

typedef struct corrupt_ctx {
    const char *dir;
    FILE *cases;
    int failed;
} corrupt_ctx;

static void path_in(char *out, size_t n, const char *dir, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* Writes an 8-byte length (declared, or the header's own when declared == UINT64_MAX), the header
 * bytes, and data_len zero bytes (a hole when large). */
static int write_raw(const char *path, uint64_t declared, const char *header, size_t hlen, uint64_t data_len)
{
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    uint64_t len = declared == UINT64_MAX ? hlen : declared;
    unsigned char b[8];
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(len >> (8 * k));
    int ok = fwrite(b, 1, 8, f) == 8 && fwrite(header, 1, hlen, f) == hlen && fflush(f) == 0;
    ok = ok && ftruncate(fileno(f), (off_t)(8 + hlen + data_len)) == 0;
    return fclose(f) == 0 && ok;
}

/* A damaged single file: `name` under dir, listed in cases.tsv as naming itself. */
static void bad_file(corrupt_ctx *c, const char *name, uint64_t declared, const char *header, uint64_t data_len)
{
    char p[4096];
    path_in(p, sizeof p, c->dir, name);
    if (!write_raw(p, declared, header, strlen(header), data_len)) c->failed = 1;
    fprintf(c->cases, "%s\t%s\n", name, name);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* A folder with config.json, shards holding tensors "a" (shard 1) and "b" (shard 2), and the given
 * index text; the error must name `blamed`. */
static void bad_folder(corrupt_ctx *c, const char *name, const char *index, const char *blamed, int b_also_has_a)
{
    char d[4096], p[4200];
    path_in(d, sizeof d, c->dir, name);
    if (mkdir(d, 0777) != 0 && errno != EEXIST) { c->failed = 1; return; }
    static const float vals[4] = {0.5f, -1.0f, 2.0f, 0.25f};
    st_tensor a = {"a", LINEAGE_DTYPE_F32, 1, {4}, vals}, b[2] = {{"b", LINEAGE_DTYPE_F32, 1, {4}, vals}, a};
    lineage_error err;
    path_in(p, sizeof p, d, "config.json");
    int ok = write_text(p, "{\"model_type\": \"llama\", \"num_hidden_layers\": 1}\n");
    path_in(p, sizeof p, d, "model-00001-of-00002.safetensors");
    ok = ok && !safetensors_write(p, &a, 1, NULL, &err);
    path_in(p, sizeof p, d, "model-00002-of-00002.safetensors");
    ok = ok && !safetensors_write(p, b, b_also_has_a ? 2 : 1, NULL, &err);
    if (index) {
        path_in(p, sizeof p, d, "model.safetensors.index.json");
        ok = ok && write_text(p, index);
    }
    if (!ok) c->failed = 1;
    fprintf(c->cases, "%s\t%s\n", name, blamed);
}

#define IDX(wm) "{\"metadata\": {\"total_size\": 32}, \"weight_map\": " wm "}"
#define S1 "\"model-00001-of-00002.safetensors\""
#define S2 "\"model-00002-of-00002.safetensors\""

static int cmd_corrupt(const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "mkfixture: %s: cannot create: %s\n", dir, strerror(errno));
        return 3;
    }
    char p[4096];
    path_in(p, sizeof p, dir, "cases.tsv");
    corrupt_ctx c = {dir, fopen(p, "w"), 0};
    if (!c.cases) {
        fprintf(stderr, "mkfixture: %s: cannot create\n", p);
        return 3;
    }
    const char *t44 = "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}";
    bad_file(&c, "empty.safetensors", 0, "", 0);
    path_in(p, sizeof p, dir, "empty.safetensors");
    if (truncate(p, 0) != 0) c.failed = 1;
    bad_file(&c, "truncated-length.safetensors", UINT64_MAX, "", 0);
    path_in(p, sizeof p, dir, "truncated-length.safetensors");
    if (truncate(p, 5) != 0) c.failed = 1;
    bad_file(&c, "truncated-data.safetensors", UINT64_MAX, t44, 32);
    bad_file(&c, "header-beyond-file.safetensors", 1000, t44, 16);
    bad_file(&c, "header-length-huge.safetensors", UINT64_MAX - 3, t44, 64);
    bad_file(&c, "header-over-limit.safetensors", 101u << 20, "{", (101u << 20) + 64);
    bad_file(&c, "header-garbage.safetensors", UINT64_MAX, "\x01\x02not json at all", 64);
    bad_file(&c, "header-not-object.safetensors", UINT64_MAX, "[1,2,3]", 0);
    bad_file(&c, "offsets-out-of-range.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,1099511627776]}}", 64);
    bad_file(&c, "offsets-reversed.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[64,0]}}", 64);
    bad_file(&c, "offsets-negative.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[-64,0]}}", 64);
    bad_file(&c, "offsets-missing.safetensors", UINT64_MAX, "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,4]}}", 64);
    bad_file(&c, "overlap.safetensors", UINT64_MAX,
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[32,96]}}",
             96);
    bad_file(&c, "overlap-behind-empty.safetensors", UINT64_MAX,
             "{\"a\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]},"
             "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,16]},"
             "\"b\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[32,96]}}",
             96);
    bad_file(&c, "length-mismatch.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,60]}}", 64);
    bad_file(&c, "shape-overflow.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "bytes-overflow.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F64\",\"shape\":[4294967296,1073741824],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "shape-negative.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[-4,-4],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "shape-not-integer.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4,\"4\"],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "too-many-dims.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 8);
    bad_file(&c, "unknown-dtype.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F4\",\"shape\":[4,4],\"data_offsets\":[0,8]}}", 64);
    bad_file(&c, "dtype-missing.safetensors", UINT64_MAX, "{\"t\":{\"shape\":[4,4],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "entry-not-object.safetensors", UINT64_MAX, "{\"t\":[1,2]}", 64);
    bad_file(&c, "name-not-utf8.safetensors", UINT64_MAX,
             "{\"t\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "name-nul.safetensors", UINT64_MAX,
             "{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "name-empty.safetensors", UINT64_MAX,
             "{\"\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,64]}}", 64);
    bad_file(&c, "name-newline.safetensors", UINT64_MAX,
             "{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[4,4],\"data_offsets\":[0,60]}}", 64);
    bad_file(&c, "duplicate-name.safetensors", UINT64_MAX,
             "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
             "\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}}",
             32);
    bad_file(&c, "metadata-not-object.safetensors", UINT64_MAX, "{\"__metadata__\":[1]}", 0);
    bad_file(&c, "fp8-scale-wrong-dtype.safetensors", UINT64_MAX,
             "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4,4],\"data_offsets\":[0,16]},"
             "\"w_scale_inv\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[16,20]}}",
             20);
    bad_file(&c, "fp8-scale-wrong-shape.safetensors", UINT64_MAX,
             "{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[4,4],\"data_offsets\":[0,16]},"
             "\"w_scale_inv\":{\"dtype\":\"F32\",\"shape\":[3,3],\"data_offsets\":[16,52]}}",
             52);
    {
        /* 1000 nested arrays in a tensor entry */
        static char deep[2100];
        strcpy(deep, "{\"t\":");
        size_t n = strlen(deep);
        for (int k = 0; k < 1000; k++) deep[n++] = '[';
        for (int k = 0; k < 1000; k++) deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = 0;
        bad_file(&c, "deep-json.safetensors", UINT64_MAX, deep, 0);
    }
    bad_folder(&c, "index-missing-shard", IDX("{\"a\": " S1 ", \"b\": \"model-00003-of-00003.safetensors\"}"),
               "model.safetensors.index.json", 0);
    bad_folder(&c, "index-dotdot", IDX("{\"a\": " S1 ", \"b\": \"../model-00002-of-00002.safetensors\"}"),
               "model.safetensors.index.json", 0);
    bad_folder(&c, "index-absolute", IDX("{\"a\": " S1 ", \"b\": \"/etc/passwd\"}"), "model.safetensors.index.json", 0);
    bad_folder(&c, "index-not-json", "{\"weight_map\": {\"a\": " S1 ",}", "model.safetensors.index.json", 0);
    bad_folder(&c, "index-no-weight-map", "{\"metadata\": {}}", "model.safetensors.index.json", 0);
    bad_folder(&c, "index-empty-weight-map", IDX("{}"), "model.safetensors.index.json", 0);
    bad_folder(&c, "index-entry-not-string", IDX("{\"a\": " S1 ", \"b\": 2}"), "model.safetensors.index.json", 0);
    bad_folder(&c, "index-wrong-shard", IDX("{\"a\": " S2 ", \"b\": " S1 "}"), "model.safetensors.index.json", 0);
    bad_folder(&c, "index-unknown-tensor", IDX("{\"a\": " S1 ", \"b\": " S2 ", \"c\": " S2 "}"),
               "model.safetensors.index.json", 0);
    bad_folder(&c, "duplicate-across-shards", IDX("{\"a\": " S1 ", \"b\": " S2 "}"), "model-0000", 1);
    bad_folder(&c, "index-deep-json", "{\"weight_map\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
               "model.safetensors.index.json", 0);
    bad_folder(&c, "index-over-limit", NULL, "model.safetensors.index.json", 0);
    path_in(p, sizeof p, dir, "index-over-limit/model.safetensors.index.json");
    {
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || ftruncate(fd, (off_t)65 << 20) != 0) c.failed = 1;
        if (fd >= 0) close(fd);
    }
    bad_folder(&c, "config-not-json", IDX("{\"a\": " S1 ", \"b\": " S2 "}"), "config.json", 0);
    path_in(p, sizeof p, dir, "config-not-json/config.json");
    if (!write_text(p, "{\"model_type\": llama}")) c.failed = 1;
    bad_folder(&c, "config-not-object", IDX("{\"a\": " S1 ", \"b\": " S2 "}"), "config.json", 0);
    path_in(p, sizeof p, dir, "config-not-object/config.json");
    if (!write_text(p, "[\"llama\"]")) c.failed = 1;
    bad_folder(&c, "shard-damaged", IDX("{\"a\": " S1 ", \"b\": " S2 "}"), "model-00002-of-00002.safetensors", 0);
    path_in(p, sizeof p, dir, "shard-damaged/model-00002-of-00002.safetensors");
    if (truncate(p, 20) != 0) c.failed = 1;
    if (fclose(c.cases) != 0 || c.failed) {
        fprintf(stderr, "mkfixture: %s: writing the corrupt fixtures failed\n", dir);
        return 3;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    if (!strcmp(argv[1], "hf")) return cmd_hf(argv[2], argc - 3, argv + 3);
    if (!strcmp(argv[1], "sparse-100b")) return cmd_sparse_100b(argv[2], argc - 3, argv + 3);
    if (!strcmp(argv[1], "corrupt") && argc == 3) return cmd_corrupt(argv[2]);
    /* "gguf": reserved for the GGUF writer (fixture_model -> .gguf) when it lands */
    return usage();
}
