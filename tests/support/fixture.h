/* Deterministic synthetic checkpoints for tests, benchmarks and demos: the tensor names and shapes
 * of real architectures, filled with seeded Gaussian values, written as Hugging Face folders.
 * A derivation generator builds a fixture_model, fills it, edits spec/tensors, and writes it. */
#ifndef LINEAGE_FORMAT_FIXTURE_H
#define LINEAGE_FORMAT_FIXTURE_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"
#include "util/strbuf.h"

/* xoshiro256** seeded through splitmix64. */
typedef struct fixture_rng {
    uint64_t s[4];
} fixture_rng;

void fixture_rng_seed(fixture_rng *r, uint64_t seed);
uint64_t fixture_rng_next(fixture_rng *r);
double fixture_rng_uniform(fixture_rng *r);   /* in (0, 1) */
double fixture_rng_gauss(fixture_rng *r);     /* N(0, 1) by Box-Muller */

typedef enum {
    FIXTURE_LLAMA,        /* dense: mlp.{gate,up,down}_proj */
    FIXTURE_MIXTRAL,      /* block_sparse_moe.gate, block_sparse_moe.experts.E.w1/w2/w3 */
    FIXTURE_QWEN2_MOE,    /* mlp.gate, mlp.experts.E.*_proj, mlp.shared_expert.*, shared_expert_gate; qkv biases */
    FIXTURE_SOLAR_OPEN    /* mlp.gate (+ e_score_correction_bias), mlp.experts.E.*_proj, mlp.shared_experts.* */
} fixture_arch;

int fixture_arch_parse(const char *name, fixture_arch *out);   /* 1 when known */
const char *fixture_arch_name(fixture_arch a);

typedef struct fixture_spec {
    fixture_arch arch;
    int hidden, layers, heads, kv_heads, head_dim;   /* head_dim 0: hidden / heads */
    int ffn, vocab;                                  /* ffn: dense MLP width */
    int experts, top_k, moe_ffn, shared_experts;     /* MoE archs; moe_ffn 0: ffn */
    int tied;                                        /* no lm_head.weight */
    uint64_t seed;
} fixture_spec;

typedef struct fixture_tensor {
    char *name;
    int ndim;             /* 1 or 2 */
    uint64_t shape[2];
    double mean, std;     /* values are mean + std * N(0, 1) */
    int keep_f32;         /* stays F32 in every checkpoint dtype (router score bias) */
    int fp8;              /* a linear weight that FP8 checkpoints quantize */
    float *data;          /* numel values once filled, else NULL */
} fixture_tensor;

typedef struct fixture_model {
    fixture_spec spec;
    fixture_tensor *tensors;
    size_t count, cap;
} fixture_model;

/* Lists the tensors of spec (no values yet). */
lineage_status fixture_model_init(fixture_model *fm, const fixture_spec *spec, lineage_error *err);
/* Appends a tensor (rows = 0 for 1-D); returns it or NULL when out of memory. */
fixture_tensor *fixture_model_add(fixture_model *fm, const char *name, uint64_t rows, uint64_t cols, double mean,
                                  double std);
/* Fills every tensor's values from the seed and the tensor's name, so values do not depend on
 * tensor order, sharding or dtype. */
lineage_status fixture_model_fill(fixture_model *fm, lineage_error *err);
void fixture_model_free(fixture_model *fm);
uint64_t fixture_tensor_numel(const fixture_tensor *t);

typedef struct fixture_write_options {
    lineage_dtype dtype;   /* F32, F16, BF16, or F8_E4M3 (block scales; non-linear tensors BF16) */
    int shards;            /* <= 1: model.safetensors; K: K shards + model.safetensors.index.json */
    int sparse;            /* headers only, files extended to full size as holes; data unused */
    int fp8_block;         /* FP8 scale block edge; 0: 128 */
} fixture_write_options;

/* Writes config.json, generation_config.json and the weights into dir (created if missing). */
lineage_status fixture_write_hf(const char *dir, const fixture_model *fm, const fixture_write_options *o,
                                lineage_error *err);
/* The config.json text of a spec. */
void fixture_config_json(strbuf *sb, const fixture_spec *s, const fixture_write_options *o);
#endif
