/* Normalized architecture: one struct filled from config.json (any family's key names), GGUF
 * metadata or tensor shapes, so that families can be compared field by field. Integers are -1
 * when unknown; doubles are NAN when unknown; strings NULL. */
#ifndef LINEAGE_ANALYSIS_ARCH_H
#define LINEAGE_ANALYSIS_ARCH_H
#include <stdint.h>
#include "format/gguf.h"
#include "util/json.h"
#include "format/model.h"

typedef struct arch_info {
    const char *model_type;        /* as declared (config or GGUF general.architecture) */
    const char *family;            /* canonical family name, or "generic" */
    const char *architecture_class;/* architectures[0] */
    const char *source;            /* "config", "gguf" or "tensors" */
    int64_t hidden_size, num_layers, num_heads, num_kv_heads, head_dim, intermediate_size, vocab_size;
    /* MoE */
    int64_t n_routed_experts, n_shared_experts, experts_per_token, moe_intermediate_size;
    int64_t shared_expert_intermediate_size;  /* total width of the shared expert(s) */
    int64_t dense_intermediate_size;          /* width of non-MoE layers' MLP when it differs (Llama-4) */
    int64_t first_k_dense;                    /* leading dense layers */
    int64_t moe_step, moe_phase;              /* layer l is MoE when l % moe_step == moe_phase */
    const json_value *mlp_only_layers;        /* Qwen-MoE: explicit dense layers */
    const json_value *moe_layer_flags;        /* per-layer list (is_moe_layer / moe_layer_freq list) */
    int shared_expert_gate;                   /* Qwen2-MoE: sigmoid gate on the shared expert */
    int router_bias;                          /* router has a bias / correction bias */
    /* positions */
    double rope_theta;
    double rope_local_theta;                  /* Gemma-3 sliding layers' base (rope_local_base_freq), NAN */
    const json_value *rope_scaling;           /* the scaling object in force (rope_scaling, else
                                                 rope_parameters[.full_attention]); NULL = default */
    const char *rope_scaling_type;
    double rope_factor;
    int64_t rope_original_max;
    double partial_rotary_factor;
    int64_t max_positions;
    int64_t learned_positions;                /* rows of a learned position table (GPT-2), else -1 */
    /* attention layout */
    int64_t sliding_window;                   /* -1 when no sliding-window layers */
    int64_t sliding_layers;                   /* how many layers use the window */
    char layer_pattern[48];                   /* e.g. "LLLG", "LG", "all-sliding" */
    /* what decides arch_layer_is_sliding, read once here for the engine and the reports alike */
    const json_value *layer_types;            /* explicit per-layer list ("sliding_attention", ...) */
    const char *sliding_pattern;              /* "LLLG"-style string repeated over the layers */
    int64_t global_every;                     /* Gemma-3: every N-th layer is global */
    int64_t max_window_layers;                /* Qwen: layers from this index on use the window */
    int64_t q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim;  /* MLA */
    int64_t mtp_layers;                       /* extra multi-token-prediction layers */
    /* details that change counts; -1 unknown */
    int tied_embeddings, attention_bias, attention_out_bias, mlp_bias, qk_norm, attn_sinks;
    int norms_per_layer;
    int gated_mlp;
    const char *norm_kind;                    /* "rmsnorm" or "layernorm" */
    double norm_eps;
    const char *activation;
    const char *quant_method;
    char quant_summary[96];
    /* from tensor shapes only */
    int64_t q_rows, kv_rows;                  /* rows of q_proj (or q_b) and k_proj in the first layer */
    int64_t intermediate_min;                 /* narrowest dense MLP when widths vary per layer */
    int64_t moe_layers;                       /* layers holding routed experts */
} arch_info;

/* The one reader of config numbers (arch_config.c): the first invalid value found is kept in
 * status/err, naming `what` (the file) and the key. */
typedef struct config_reader {
    const char *what;
    lineage_error *err;
    lineage_status status;
} config_reader;
typedef struct config_limit { int64_t lo, hi; } config_limit;
extern const config_limit CONFIG_LAYERS, CONFIG_EXTRA_LAYERS, CONFIG_WIDTH, CONFIG_FFN, CONFIG_HEADS, CONFIG_VOCAB,
    CONFIG_EXPERTS, CONFIG_POSITIONS, CONFIG_SMALL;
/* 1 and *out set when key holds an integer within lim; 0 when absent or null, and also when invalid
 * (then cr records the error). cr may be NULL (invalid values then read as absent). */
int config_int(config_reader *cr, const json_value *o, const char *key, config_limit lim, int64_t *out);
/* The same for a finite real number within [lo, hi]. */
int config_double(config_reader *cr, const json_value *o, const char *key, double lo, double hi, double *out);

void arch_init(arch_info *a);
/* The text decoder's config object: text_config / language_config / llm_config or cfg itself. */
const json_value *arch_text_config(const json_value *cfg);
/* Fills a from one (sub)config object; top-level keys of root (quantization_config, tie_word_embeddings,
 * architectures) are consulted when sub is nested. A value of the wrong type or outside its plausible
 * range fails with LINEAGE_E_FORMAT naming `what` and the key (err may be NULL). */
lineage_status arch_from_config(const json_value *root, const json_value *sub, arch_info *a, const char *what,
                                lineage_error *err);
/* Fills a from GGUF metadata ({arch}.embedding_length, ...). */
void arch_from_gguf(const gguf_file *g, arch_info *a);
/* Shapes of one component's tensors (text decoder fields only). */
void arch_from_tensors(const lineage_model *m, lineage_component comp, arch_info *a);
/* Compares a declared architecture with the shape-derived one: appends warning strings to warnings,
 * and fills the fields the declaration lacks. */
int arch_reconcile(arch_info *declared, const arch_info *shapes, arena *ar, json_value *warnings);
/* Whether decoder layer l attends through the sliding window (sliding_window > 0 and the layout says so). */
int arch_layer_is_sliding(const arch_info *a, int64_t layer);
/* Whether decoder layer l has a routed-expert MLP. */
int arch_layer_is_moe(const arch_info *a, int64_t layer);
/* The architecture as a JSON object (unknown fields omitted). */
json_value *arch_to_json(const arch_info *a, arena *ar);
/* The tensor naming scheme ("hf-llama", "hf-mixtral", "deepseek", "gpt2", "neox", "gguf", ...). */
const char *arch_naming_scheme(const lineage_model *m, const char **prefix_out);
/* The text decoder's architecture of an opened model: declared (config.json or GGUF) checked against
 * the tensor shapes; mismatches are appended to warnings (may be NULL). 0 on allocation failure. */
int arch_of_model(const lineage_model *m, arch_info *a, arena *ar, json_value *warnings);
/* What chatting with a model needs from its sidecar files (tokenizer_config.json chat_template, a
 * string or a list of named templates; chat_template.jinja / chat_template.json; generation_config.json
 * eos_token_id; config.json) or its GGUF metadata (tokenizer.chat_template, tokenizer.ggml.*). */
#define ARCH_MAX_EOS 8
typedef struct arch_chat {
    const char *template_src;      /* NULL: the model has no chat template */
    size_t template_len;
    const char *template_origin;   /* names it in errors: "DIR/tokenizer_config.json: chat_template" */
    const char *bos_token, *eos_token;  /* token texts the template refers to ("" when unknown) */
    int add_bos;                   /* add_bos_token: 1, 0, or -1 when not said */
    int64_t eos_ids[ARCH_MAX_EOS]; /* end-of-turn ids: generation_config, config, GGUF eos/eot/eom */
    size_t neos;
} arch_chat;
/* Fills c (strings in ar). A sidecar that exists but is malformed is an error naming it. */
lineage_status arch_chat_of_model(const lineage_model *m, arena *ar, arch_chat *c, lineage_error *err);

/* Canonical family for a model_type (or GGUF architecture name); "generic" when unknown. */
const char *arch_family_of(const char *model_type);
#endif
