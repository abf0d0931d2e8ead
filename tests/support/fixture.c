#include "support/fixture.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/dtype.h"
#include "format/safetensors.h"
#include "support/safetensors_write.h"
#include "util/error.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void fixture_rng_seed(fixture_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t fixture_rng_next(fixture_rng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fixture_rng_uniform(fixture_rng *r) { return ((double)(fixture_rng_next(r) >> 11) + 0.5) * 0x1.0p-53; }

double fixture_rng_gauss(fixture_rng *r)
{
    double u = fixture_rng_uniform(r), v = fixture_rng_uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static const char *const arch_names[] = {"llama", "mixtral", "qwen2_moe", "solar_open"};

int fixture_arch_parse(const char *name, fixture_arch *out)
{
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, arch_names[i])) { *out = (fixture_arch)i; return 1; }
    return 0;
}

const char *fixture_arch_name(fixture_arch a) { return (unsigned)a < 4 ? arch_names[a] : "llama"; }

uint64_t fixture_tensor_numel(const fixture_tensor *t) { return t->ndim == 2 ? t->shape[0] * t->shape[1] : t->shape[0]; }

fixture_tensor *fixture_model_add(fixture_model *fm, const char *name, uint64_t rows, uint64_t cols, double mean,
                                  double std)
{
    if (fm->count == fm->cap) {
        size_t cap = fm->cap ? fm->cap * 2 : 64;
        fixture_tensor *t = realloc(fm->tensors, cap * sizeof *t);
        if (!t) return NULL;
        fm->tensors = t;
        fm->cap = cap;
    }
    fixture_tensor *t = &fm->tensors[fm->count];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) return NULL;
    fm->count++;
    t->ndim = rows ? 2 : 1;
    t->shape[0] = rows ? rows : cols;
    t->shape[1] = rows ? cols : 0;
    t->mean = mean;
    t->std = std;
    return t;
}

#define INIT_STD 0.02
#define NORM_STD 0.02

/* Adds "<prefix><suffix>" as a linear weight [rows, cols]. */
static int add_linear(fixture_model *fm, const char *prefix, const char *suffix, uint64_t rows, uint64_t cols)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    fixture_tensor *t = fixture_model_add(fm, name, rows, cols, 0.0, INIT_STD);
    if (t) t->fp8 = 1;
    return t != NULL;
}

static int add_vector(fixture_model *fm, const char *prefix, const char *suffix, uint64_t n, double mean, double std)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    return fixture_model_add(fm, name, 0, n, mean, std) != NULL;
}

/* gate/up/down of one feed-forward block under prefix, with the architecture's names. */
static int add_ffn(fixture_model *fm, const char *prefix, int mixtral_names, uint64_t h, uint64_t f)
{
    if (mixtral_names)
        return add_linear(fm, prefix, "w1.weight", f, h) && add_linear(fm, prefix, "w2.weight", h, f) &&
               add_linear(fm, prefix, "w3.weight", f, h);
    return add_linear(fm, prefix, "gate_proj.weight", f, h) && add_linear(fm, prefix, "up_proj.weight", f, h) &&
           add_linear(fm, prefix, "down_proj.weight", h, f);
}

static int add_layer(fixture_model *fm, const fixture_spec *s, int i)
{
    char p[128], q[192];
    uint64_t h = (uint64_t)s->hidden, hd = (uint64_t)(s->head_dim ? s->head_dim : s->hidden / s->heads);
    uint64_t qd = (uint64_t)s->heads * hd, kvd = (uint64_t)s->kv_heads * hd;
    uint64_t mf = (uint64_t)(s->moe_ffn ? s->moe_ffn : s->ffn);
    snprintf(p, sizeof p, "model.layers.%d.", i);
    int ok = add_vector(fm, p, "input_layernorm.weight", h, 1.0, NORM_STD) &&
             add_linear(fm, p, "self_attn.q_proj.weight", qd, h) && add_linear(fm, p, "self_attn.k_proj.weight", kvd, h) &&
             add_linear(fm, p, "self_attn.v_proj.weight", kvd, h) && add_linear(fm, p, "self_attn.o_proj.weight", h, qd);
    if (ok && s->arch == FIXTURE_QWEN2_MOE)
        ok = add_vector(fm, p, "self_attn.q_proj.bias", qd, 0, INIT_STD) &&
             add_vector(fm, p, "self_attn.k_proj.bias", kvd, 0, INIT_STD) &&
             add_vector(fm, p, "self_attn.v_proj.bias", kvd, 0, INIT_STD);
    ok = ok && add_vector(fm, p, "post_attention_layernorm.weight", h, 1.0, NORM_STD);
    if (!ok) return 0;
    switch (s->arch) {
    case FIXTURE_LLAMA:
        snprintf(q, sizeof q, "%smlp.", p);
        return add_ffn(fm, q, 0, h, (uint64_t)s->ffn);
    case FIXTURE_MIXTRAL:
        snprintf(q, sizeof q, "%sblock_sparse_moe.gate.weight", p);
        if (!fixture_model_add(fm, q, (uint64_t)s->experts, h, 0, INIT_STD)) return 0;
        for (int e = 0; e < s->experts; e++) {
            snprintf(q, sizeof q, "%sblock_sparse_moe.experts.%d.", p, e);
            if (!add_ffn(fm, q, 1, h, mf)) return 0;
        }
        return 1;
    case FIXTURE_QWEN2_MOE:
    case FIXTURE_SOLAR_OPEN: {
        int qwen = s->arch == FIXTURE_QWEN2_MOE;
        snprintf(q, sizeof q, "%smlp.gate.weight", p);
        if (!fixture_model_add(fm, q, (uint64_t)s->experts, h, 0, INIT_STD)) return 0;
        if (!qwen) {
            snprintf(q, sizeof q, "%smlp.gate.e_score_correction_bias", p);
            fixture_tensor *b = fixture_model_add(fm, q, 0, (uint64_t)s->experts, 0, 0.01);
            if (!b) return 0;
            b->keep_f32 = 1;
        }
        for (int e = 0; e < s->experts; e++) {
            snprintf(q, sizeof q, "%smlp.experts.%d.", p, e);
            if (!add_ffn(fm, q, 0, h, mf)) return 0;
        }
        if (s->shared_experts > 0) {
            snprintf(q, sizeof q, "%smlp.%s.", p, qwen ? "shared_expert" : "shared_experts");
            if (!add_ffn(fm, q, 0, h, mf * (uint64_t)s->shared_experts)) return 0;
            if (qwen) {
                snprintf(q, sizeof q, "%smlp.shared_expert_gate.weight", p);
                if (!fixture_model_add(fm, q, 1, h, 0, INIT_STD)) return 0;
            }
        }
        return 1;
    }
    }
    return 0;
}

lineage_status fixture_model_init(fixture_model *fm, const fixture_spec *spec, lineage_error *err)
{
    memset(fm, 0, sizeof *fm);
    fm->spec = *spec;
    const fixture_spec *s = &fm->spec;
    int moe = s->arch != FIXTURE_LLAMA;
    if (s->hidden <= 0 || s->layers < 0 || s->heads <= 0 || s->kv_heads <= 0 || s->heads % s->kv_heads ||
        s->vocab <= 0 || s->ffn <= 0 || (!s->head_dim && s->hidden % s->heads) || s->head_dim < 0 ||
        (moe && (s->experts <= 0 || s->top_k <= 0 || s->top_k > s->experts)) || s->layers > 100000 ||
        s->experts > 100000)
        return error_set(err, LINEAGE_E_USAGE, "fixture: inconsistent %s spec (hidden %d, heads %d/%d, experts %d)",
                         fixture_arch_name(s->arch), s->hidden, s->heads, s->kv_heads, s->experts);
    int ok = fixture_model_add(fm, "model.embed_tokens.weight", (uint64_t)s->vocab, (uint64_t)s->hidden, 0,
                               INIT_STD) != NULL;
    for (int i = 0; ok && i < s->layers; i++) ok = add_layer(fm, s, i);
    ok = ok && add_vector(fm, "model.", "norm.weight", (uint64_t)s->hidden, 1.0, NORM_STD);
    if (ok && !s->tied)
        ok = fixture_model_add(fm, "lm_head.weight", (uint64_t)s->vocab, (uint64_t)s->hidden, 0, INIT_STD) != NULL;
    if (!ok) {
        fixture_model_free(fm);
        return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory");
    }
    return LINEAGE_OK;
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

lineage_status fixture_model_fill(fixture_model *fm, lineage_error *err)
{
    for (size_t i = 0; i < fm->count; i++) {
        fixture_tensor *t = &fm->tensors[i];
        uint64_t n = fixture_tensor_numel(t);
        free(t->data);
        t->data = malloc((n ? n : 1) * sizeof *t->data);
        if (!t->data) return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory for '%s'", t->name);
        fixture_rng r;
        fixture_rng_seed(&r, fm->spec.seed ^ name_hash(t->name));
        for (uint64_t k = 0; k < n; k++) t->data[k] = (float)(t->mean + t->std * fixture_rng_gauss(&r));
    }
    return LINEAGE_OK;
}

void fixture_model_free(fixture_model *fm)
{
    for (size_t i = 0; i < fm->count; i++) {
        free(fm->tensors[i].name);
        free(fm->tensors[i].data);
    }
    free(fm->tensors);
    memset(fm, 0, sizeof *fm);
}

static const char *torch_dtype(lineage_dtype t)
{
    return t == LINEAGE_DTYPE_F32 ? "float32" : t == LINEAGE_DTYPE_F16 ? "float16" : "bfloat16";
}

void fixture_config_json(strbuf *sb, const fixture_spec *s, const fixture_write_options *o)
{
    static const char *const classes[] = {"LlamaForCausalLM", "MixtralForCausalLM", "Qwen2MoeForCausalLM",
                                          "SolarOpenForCausalLM"};
    int hd = s->head_dim ? s->head_dim : s->hidden / s->heads, mf = s->moe_ffn ? s->moe_ffn : s->ffn;
    int solar = s->arch == FIXTURE_SOLAR_OPEN;
    sb_printf(sb, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n", classes[s->arch],
              fixture_arch_name(s->arch));
    sb_printf(sb,
              "  \"hidden_size\": %d,\n  \"intermediate_size\": %d,\n  \"num_hidden_layers\": %d,\n"
              "  \"num_attention_heads\": %d,\n  \"num_key_value_heads\": %d,\n  \"head_dim\": %d,\n"
              "  \"vocab_size\": %d,\n  \"hidden_act\": \"silu\",\n  \"rms_norm_eps\": 1e-05,\n"
              "  \"rope_theta\": %s,\n  \"max_position_embeddings\": %d,\n  \"initializer_range\": 0.02,\n"
              "  \"tie_word_embeddings\": %s,\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n"
              "  \"torch_dtype\": \"%s\",\n",
              s->hidden, s->ffn, s->layers, s->heads, s->kv_heads, hd, s->vocab, solar ? "1000000" : "10000.0",
              solar ? 131072 : 4096, s->tied ? "true" : "false", torch_dtype(o->dtype));
    if (s->arch == FIXTURE_MIXTRAL)
        sb_printf(sb, "  \"num_local_experts\": %d,\n  \"num_experts_per_tok\": %d,\n", s->experts, s->top_k);
    else if (s->arch == FIXTURE_QWEN2_MOE)
        sb_printf(sb,
                  "  \"num_experts\": %d,\n  \"num_experts_per_tok\": %d,\n  \"moe_intermediate_size\": %d,\n"
                  "  \"shared_expert_intermediate_size\": %d,\n  \"decoder_sparse_step\": 1,\n",
                  s->experts, s->top_k, mf, mf * s->shared_experts);
    else if (solar)
        sb_printf(sb,
                  "  \"n_routed_experts\": %d,\n  \"n_shared_experts\": %d,\n  \"num_experts_per_tok\": %d,\n"
                  "  \"moe_intermediate_size\": %d,\n  \"first_k_dense_replace\": 0,\n  \"norm_topk_prob\": true,\n"
                  "  \"routed_scaling_factor\": 1.0,\n  \"partial_rotary_factor\": 1.0,\n",
                  s->experts, s->shared_experts, s->top_k, mf);
    if (o->dtype == LINEAGE_DTYPE_F8_E4M3) {
        int b = o->fp8_block > 0 ? o->fp8_block : 128;
        sb_printf(sb,
                  "  \"quantization_config\": {\"quant_method\": \"fp8\", \"fmt\": \"e4m3\", "
                  "\"activation_scheme\": \"dynamic\", \"weight_block_size\": [%d, %d]},\n",
                  b, b);
    }
    sb_puts(sb, "  \"transformers_version\": \"4.46.0\"\n}\n");
}

static lineage_status write_text(const char *dir, const char *name, strbuf *sb, lineage_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return error_set(err, LINEAGE_E_IO, "%s: cannot create: %s", path, strerror(errno));
    int ok = !sb->failed && fwrite(sb->data, 1, sb->len, f) == sb->len;
    if (fclose(f) != 0 || !ok) return error_set(err, LINEAGE_E_IO, "%s: write failed", path);
    return LINEAGE_OK;
}

/* One tensor as stored: converted bytes (NULL when sparse) and its st_tensor view. */
typedef struct stored {
    st_tensor st;
    void *bytes;
    char *owned_name;   /* a generated scale_inv name */
    uint64_t nbytes;
    int shard;
} stored;

/* q = e4m3(w / s) with s = amax / 448 per block; scale_inv holds s (the dequantizing factor). */
static void quantize_fp8(const fixture_tensor *t, uint64_t block, uint8_t *q, float *scale_inv)
{
    uint64_t rows = t->shape[0], cols = t->shape[1], sc = (cols + block - 1) / block;
    for (uint64_t bi = 0; bi * block < rows; bi++)
        for (uint64_t bj = 0; bj < sc; bj++) {
            uint64_t r1 = bi * block + block < rows ? bi * block + block : rows;
            uint64_t c1 = bj * block + block < cols ? bj * block + block : cols;
            float amax = 0;
            for (uint64_t r = bi * block; r < r1; r++)
                for (uint64_t c = bj * block; c < c1; c++) amax = fmaxf(amax, fabsf(t->data[r * cols + c]));
            float s = amax > 0 ? amax / 448.0f : 1.0f;
            scale_inv[bi * sc + bj] = s;
            for (uint64_t r = bi * block; r < r1; r++)
                for (uint64_t c = bj * block; c < c1; c++) q[r * cols + c] = f32_to_f8e4m3(t->data[r * cols + c] / s);
        }
}

static void *convert(const float *src, uint64_t n, lineage_dtype dt)
{
    size_t es = dtype_block_bytes(dt);
    unsigned char *out = malloc(n ? n * es : 1);
    if (!out) return NULL;
    for (uint64_t k = 0; k < n; k++) {
        if (dt == LINEAGE_DTYPE_F32) memcpy(out + 4 * k, &src[k], 4);
        else {
            uint16_t h = dt == LINEAGE_DTYPE_F16 ? f32_to_f16(src[k]) : f32_to_bf16(src[k]);
            out[2 * k] = (unsigned char)h;
            out[2 * k + 1] = (unsigned char)(h >> 8);
        }
    }
    return out;
}

/* Builds the stored tensors: dtype conversion, FP8 quantization with a scale_inv companion. */
static lineage_status build_stored(const fixture_model *fm, const fixture_write_options *o, stored *out, size_t *n,
                                   lineage_error *err)
{
    int fp8 = o->dtype == LINEAGE_DTYPE_F8_E4M3;
    uint64_t block = o->fp8_block > 0 ? (uint64_t)o->fp8_block : 128;
    lineage_dtype plain = fp8 ? LINEAGE_DTYPE_BF16 : o->dtype;
    size_t k = 0;
    for (size_t i = 0; i < fm->count; i++) {
        const fixture_tensor *t = &fm->tensors[i];
        if (!o->sparse && !t->data) return error_set(err, LINEAGE_E_USAGE, "fixture: tensor '%s' has no values", t->name);
        stored *s = &out[k++];
        memset(s, 0, sizeof *s);
        s->st.name = t->name;
        s->st.ndim = t->ndim;
        s->st.shape[0] = t->shape[0];
        s->st.shape[1] = t->shape[1];
        uint64_t numel = fixture_tensor_numel(t);
        if (fp8 && t->fp8 && t->ndim == 2) {
            stored *sc = &out[k++];
            memset(sc, 0, sizeof *sc);
            sc->owned_name = malloc(strlen(t->name) + 11);
            if (!sc->owned_name) return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory");
            sprintf(sc->owned_name, "%s_scale_inv", t->name);
            sc->st.name = sc->owned_name;
            sc->st.dtype = LINEAGE_DTYPE_F32;
            sc->st.ndim = 2;
            sc->st.shape[0] = (t->shape[0] + block - 1) / block;
            sc->st.shape[1] = (t->shape[1] + block - 1) / block;
            sc->nbytes = sc->st.shape[0] * sc->st.shape[1] * 4;
            s->st.dtype = LINEAGE_DTYPE_F8_E4M3;
            s->nbytes = numel;
            if (!o->sparse) {
                s->bytes = malloc(numel ? numel : 1);
                sc->bytes = malloc(sc->nbytes ? sc->nbytes : 1);
                if (!s->bytes || !sc->bytes) return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory");
                quantize_fp8(t, block, s->bytes, sc->bytes);
            }
            continue;
        }
        s->st.dtype = t->keep_f32 ? LINEAGE_DTYPE_F32 : plain;
        s->nbytes = numel * dtype_block_bytes(s->st.dtype);
        if (!o->sparse && !(s->bytes = convert(t->data, numel, s->st.dtype)))
            return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory");
    }
    *n = k;
    return LINEAGE_OK;
}

/* Contiguous shards balanced by bytes; a scale_inv stays with its weight. Returns 0 when some
 * shard would be empty. */
static int assign_shards(stored *s, size_t n, int shards)
{
    uint64_t total = 0, before = 0;
    for (size_t i = 0; i < n; i++) total += s[i].nbytes;
    int cur = 0;
    for (size_t i = 0; i < n; i++) {
        int want = total ? (int)((double)before * shards / (double)total) : (int)(i * (size_t)shards / n);
        if (want > cur && !s[i].owned_name) cur = want < shards ? want : shards - 1;
        s[i].shard = cur;
        before += s[i].nbytes;
    }
    for (int k = 0, i = 0; k < shards; k++) {
        if ((size_t)i >= n || s[i].shard != k) return 0;
        while ((size_t)i < n && s[i].shard == k) i++;
    }
    return 1;
}

static lineage_status write_shards(const char *dir, stored *s, size_t n, const fixture_write_options *o,
                                   lineage_error *err)
{
    int k = o->shards > 1 ? o->shards : 1;
    if ((size_t)k > n) return error_set(err, LINEAGE_E_USAGE, "fixture: %d shards for %zu tensors", k, n);
    if (!assign_shards(s, n, k))
        for (size_t i = 0; i < n; i++) s[i].shard = (int)(i * (size_t)k / n);
    st_tensor *view = malloc(n * sizeof *view);
    if (!view) return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory");
    lineage_status st = LINEAGE_OK;
    strbuf index;
    sb_init(&index);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += s[i].nbytes;
    sb_printf(&index, "{\n  \"metadata\": {\"total_size\": %llu},\n  \"weight_map\": {", (unsigned long long)total);
    char path[4096], file[64];
    for (int shard = 0, i = 0; !st && shard < k; shard++) {
        size_t m = 0;
        if (k == 1) snprintf(file, sizeof file, "model.safetensors");
        else snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", shard + 1, k);
        for (; (size_t)i < n && s[i].shard == shard; i++) {
            view[m] = s[i].st;
            view[m++].data = s[i].bytes;
            sb_puts(&index, i ? ",\n    " : "\n    ");
            json_write_string(&index, s[i].st.name, strlen(s[i].st.name));
            sb_printf(&index, ": \"%s\"", file);
        }
        snprintf(path, sizeof path, "%s/%s", dir, file);
        st = o->sparse ? safetensors_write_sparse(path, view, m, "{\"format\":\"pt\"}", err)
                       : safetensors_write(path, view, m, "{\"format\":\"pt\"}", err);
    }
    sb_puts(&index, "\n  }\n}\n");
    if (!st && k > 1) st = write_text(dir, "model.safetensors.index.json", &index, err);
    sb_free(&index);
    free(view);
    return st;
}

lineage_status fixture_write_hf(const char *dir, const fixture_model *fm, const fixture_write_options *o,
                                lineage_error *err)
{
    if (o->dtype != LINEAGE_DTYPE_F32 && o->dtype != LINEAGE_DTYPE_F16 && o->dtype != LINEAGE_DTYPE_BF16 &&
        o->dtype != LINEAGE_DTYPE_F8_E4M3)
        return error_set(err, LINEAGE_E_USAGE, "fixture: cannot write dtype %s", lineage_dtype_name(o->dtype));
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return error_set(err, LINEAGE_E_IO, "%s: cannot create: %s", dir, strerror(errno));
    strbuf sb;
    sb_init(&sb);
    fixture_config_json(&sb, &fm->spec, o);
    lineage_status st = write_text(dir, "config.json", &sb, err);
    sb_free(&sb);
    sb_init(&sb);
    sb_puts(&sb, "{\n  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"transformers_version\": \"4.46.0\"\n}\n");
    if (!st) st = write_text(dir, "generation_config.json", &sb, err);
    sb_free(&sb);
    if (st) return st;
    stored *s = calloc(fm->count * 2 + 1, sizeof *s);
    if (!s) return error_set(err, LINEAGE_E_NOMEM, "fixture: out of memory");
    size_t n = 0;
    st = build_stored(fm, o, s, &n, err);
    if (!st) st = write_shards(dir, s, n, o, err);
    for (size_t i = 0; i < fm->count * 2 + 1; i++) {
        free(s[i].bytes);
        free(s[i].owned_name);
    }
    free(s);
    return st;
}
