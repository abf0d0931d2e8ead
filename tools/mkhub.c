/* mkhub ROOT ZOO: builds a Hub-like tree for the remote tests, served by nginx as
 * ROOT/{org}/{name}/resolve/{main,COMMIT}/FILE, plus ROOT/commits.map (nginx map from repository path to its
 * X-Repo-Commit). Repositories: org/base, org/base-sharded, org/finetune (links to the zoo), org/sparse100b (a
 * 100B-class MoE layout: 48 full-size sparse shards, ~19k tensors, headers only), and bad inputs. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/cache.h"
#include "util/strbuf.h"

static void die(const char *what)
{
    fprintf(stderr, "mkhub: %s: %s\n", what, strerror(errno));
    exit(1);
}

static FILE *commits;

/* Creates ROOT/org/NAME/resolve/main and a COMMIT link to it; returns the main folder. */
static char *repo(const char *root, const char *name, const char *commit)
{
    static char dir[4096];
    char link[4200];
    snprintf(dir, sizeof dir, "%s/org/%s/resolve", root, name);
    lineage_error err;
    if (cache_mkdirs(dir, &err)) {
        fprintf(stderr, "mkhub: %s\n", err.message);
        exit(1);
    }
    snprintf(link, sizeof link, "%s/%s", dir, commit);
    unlink(link);
    if (symlink("main", link) != 0) die(link);
    fprintf(commits, "    ~^/org/%s/ %s;\n", name, commit);
    strncat(dir, "/main", sizeof dir - strlen(dir) - 1);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) die(dir);
    return dir;
}

static void link_zoo(const char *dir, const char *zoo, const char *model)
{
    static const char *files[] = {"README.md", "config.json", "generation_config.json", "special_tokens_map.json",
                                  "tokenizer.json", "tokenizer_config.json", "model.safetensors",
                                  "model.safetensors.index.json", "model-00001-of-00003.safetensors",
                                  "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char src[4096], dst[4200], abs[4096];
        snprintf(src, sizeof src, "%s/%s/%s", zoo, model, files[i]);
        if (access(src, R_OK) != 0) continue;
        if (!realpath(src, abs)) die(src);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        unlink(dst);
        if (symlink(abs, dst) != 0) die(dst);
    }
}

static void write_text(const char *dir, const char *name, const char *text)
{
    size_t len = strlen(text);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) die(path);
}

/* A safetensors file whose data is a hole: header, then ftruncate to the full size. */
static void write_sparse(const char *path, const char *header, size_t hlen, uint64_t data_bytes)
{
    size_t padded = (hlen + 7) & ~(size_t)7;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die(path);
    char pad[8] = "        ";
    if (write(fd, len8, 8) != 8 || write(fd, header, hlen) != (ssize_t)hlen ||
        write(fd, pad, padded - hlen) != (ssize_t)(padded - hlen) ||
        ftruncate(fd, (off_t)(8 + padded + data_bytes)) != 0 || close(fd) != 0)
        die(path);
}

typedef struct spec {
    char name[128];
    uint64_t rows, cols;
} spec;

static void sparse100b(const char *dir)
{
    enum { LAYERS = 64, EXPERTS = 96, HIDDEN = 6144, MOE = 1024, KV = 1024, VOCAB = 152064, SHARDS = 48 };
    size_t cap = 4 + (size_t)LAYERS * (7 + 3 * EXPERTS), n = 0;
    spec *t = calloc(cap, sizeof *t);
    if (!t) die("calloc");
#define ADD(R, C, ...) do { snprintf(t[n].name, sizeof t[n].name, __VA_ARGS__); t[n].rows = (R); t[n].cols = (C); n++; } while (0)
    ADD(VOCAB, HIDDEN, "model.embed_tokens.weight");
    for (int l = 0; l < LAYERS; l++) {
        ADD(1, HIDDEN, "model.layers.%d.input_layernorm.weight", l);
        ADD(HIDDEN, HIDDEN, "model.layers.%d.self_attn.q_proj.weight", l);
        ADD(KV, HIDDEN, "model.layers.%d.self_attn.k_proj.weight", l);
        ADD(KV, HIDDEN, "model.layers.%d.self_attn.v_proj.weight", l);
        ADD(HIDDEN, HIDDEN, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD(1, HIDDEN, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(EXPERTS, HIDDEN, "model.layers.%d.mlp.gate.weight", l);
        for (int e = 0; e < EXPERTS; e++) {
            ADD(MOE, HIDDEN, "model.layers.%d.mlp.experts.%d.gate_proj.weight", l, e);
            ADD(MOE, HIDDEN, "model.layers.%d.mlp.experts.%d.up_proj.weight", l, e);
            ADD(HIDDEN, MOE, "model.layers.%d.mlp.experts.%d.down_proj.weight", l, e);
        }
    }
    ADD(1, HIDDEN, "model.norm.weight");
    ADD(VOCAB, HIDDEN, "lm_head.weight");
#undef ADD
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += t[i].rows * t[i].cols * 2;
    uint64_t per_shard = total / SHARDS + 1;
    strbuf index;
    sb_init(&index);
    sb_printf(&index, "{\"metadata\": {\"total_size\": %llu}, \"weight_map\": {", (unsigned long long)total);
    size_t i = 0;
    for (int s = 0; s < SHARDS; s++) {
        strbuf h;
        sb_init(&h);
        sb_puts(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
        uint64_t off = 0;
        char file[64];
        snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, SHARDS);
        while (i < n && (off < per_shard || s == SHARDS - 1)) {
            uint64_t bytes = t[i].rows * t[i].cols * 2;
            if (t[i].rows == 1)
                sb_printf(&h, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%llu],\"data_offsets\":[%llu,%llu]}", t[i].name,
                          (unsigned long long)t[i].cols, (unsigned long long)off, (unsigned long long)(off + bytes));
            else
                sb_printf(&h, ",\"%s\":{\"dtype\":\"BF16\",\"shape\":[%llu,%llu],\"data_offsets\":[%llu,%llu]}",
                          t[i].name, (unsigned long long)t[i].rows, (unsigned long long)t[i].cols,
                          (unsigned long long)off, (unsigned long long)(off + bytes));
            sb_printf(&index, "%s\"%s\": \"%s\"", i ? ", " : "", t[i].name, file);
            off += bytes;
            i++;
        }
        sb_putc(&h, '}');
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        if (h.failed) die("header");
        write_sparse(path, h.data, h.len, off);
        sb_free(&h);
    }
    sb_puts(&index, "}}\n");
    if (index.failed) die("index");
    write_text(dir, "model.safetensors.index.json", sb_str(&index));
    sb_free(&index);
    char config[1024];
    snprintf(config, sizeof config,
                       "{\"architectures\": [\"Qwen2MoeForCausalLM\"], \"model_type\": \"qwen2_moe\", "
                       "\"hidden_size\": %d, \"num_hidden_layers\": %d, \"num_attention_heads\": 48, "
                       "\"num_key_value_heads\": 8, \"num_experts\": %d, \"num_experts_per_tok\": 8, "
                       "\"moe_intermediate_size\": %d, \"intermediate_size\": %d, \"vocab_size\": %d, "
                       "\"torch_dtype\": \"bfloat16\"}\n",
                       HIDDEN, LAYERS, EXPERTS, MOE, MOE, VOCAB);
    write_text(dir, "config.json", config);
    free(t);
    printf("sparse100b: %zu tensors, %llu bytes in %d shards\n", n, (unsigned long long)total, SHARDS);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkhub ROOT ZOO\n");
        return 2;
    }
    const char *root = argv[1], *zoo = argv[2];
    lineage_error err;
    if (cache_mkdirs(root, &err)) {
        fprintf(stderr, "mkhub: %s\n", err.message);
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/commits.map", root);
    commits = fopen(path, "w");
    if (!commits) die(path);
    link_zoo(repo(root, "base", "1111111111111111111111111111111111111111"), zoo, "base");
    link_zoo(repo(root, "base-sharded", "2222222222222222222222222222222222222222"), zoo, "base-sharded");
    link_zoo(repo(root, "private", "3333333333333333333333333333333333333333"), zoo, "base");
    link_zoo(repo(root, "redir", "4444444444444444444444444444444444444444"), zoo, "base");
    link_zoo(repo(root, "finetune", "9999999999999999999999999999999999999999"), zoo, "finetune");
    sparse100b(repo(root, "sparse100b", "5555555555555555555555555555555555555555"));
    char *d = repo(root, "badjson", "6666666666666666666666666666666666666666");
    write_text(d, "config.json", "{\"hidden_size\": 8,");
    d = repo(root, "hugeheader", "7777777777777777777777777777777777777777");
    write_text(d, "config.json", "{}\n");
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    write_sparse(path, "", 0, (300u << 20));   /* the header length is patched below */
    int fd = open(path, O_WRONLY);
    unsigned char len8[8] = {0, 0, 0, 0x10, 0, 0, 0, 0};   /* 256 MiB */
    if (fd < 0 || pwrite(fd, len8, 8, 0) != 8 || close(fd) != 0) die(path);
    d = repo(root, "badindex", "8888888888888888888888888888888888888888");
    write_text(d, "config.json", "{}\n");
    write_text(d, "model.safetensors.index.json", "{\"weight_map\": {\"a\": \"../../etc/passwd\"}}");
    /* the shards of base-sharded under an index whose total_size is far below what their headers describe */
    d = repo(root, "smallindex", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    link_zoo(d, zoo, "base-sharded");
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", d);
    unlink(path);
    snprintf(path, sizeof path, "%s/base-sharded/model.safetensors.index.json", zoo);
    FILE *in = fopen(path, "rb");
    char *text = in ? calloc(1, 1 << 20) : NULL;
    size_t got = text ? fread(text, 1, (1 << 20) - 1, in) : 0;
    if (in) fclose(in);
    char *num = text ? strstr(text, "\"total_size\": ") : NULL;
    if (!got || !num) die("base-sharded index");
    num += 14;
    char *after = num + strspn(num, "0123456789");
    strbuf small;
    sb_init(&small);
    sb_printf(&small, "%.*s1000%s", (int)(num - text), text, after);
    write_text(d, "model.safetensors.index.json", small.data);
    sb_free(&small);
    free(text);
    if (fclose(commits) != 0) die("commits.map");
    return 0;
}
