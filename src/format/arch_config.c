/* config.json → arch_info: key synonyms across families and each family's defaults for the keys
 * its configs leave out (a missing key means the modelling code's default, which differs). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format/arch.h"
#include "util/error.h"

typedef enum { MOE_NONE, MOE_ALL, MOE_DEEPSEEK, MOE_QWEN, MOE_LLAMA4, MOE_FLAGS } moe_style;

typedef struct family_def {
    const char *name;
    int tied;          /* default of tie_word_embeddings */
    int qk_norm;       /* per-head q/k RMSNorm with weights */
    int gated;         /* gate/up/down MLP */
    int norms;         /* norm vectors per layer */
    int layernorm;     /* LayerNorm (weight + bias) instead of RMSNorm */
    int qkv_bias, o_bias, mlp_bias;
    moe_style moe;
} family_def;

static const family_def families[] = {
    {"llama", 0, 0, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"mistral", 0, 0, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"mixtral", 0, 0, 1, 2, 0, 0, 2, 0, MOE_ALL},
    {"qwen2", 0, 0, 1, 2, 0, 1, 0, 0, MOE_NONE},
    {"qwen2_moe", 0, 0, 1, 2, 0, 1, 0, 0, MOE_QWEN},
    {"qwen3", 0, 1, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"qwen3_moe", 0, 1, 1, 2, 0, 0, 2, 0, MOE_QWEN},
    {"deepseek_v2", 0, 0, 1, 2, 0, 0, 0, 0, MOE_DEEPSEEK},
    {"deepseek_v3", 0, 0, 1, 2, 0, 0, 0, 0, MOE_DEEPSEEK},
    {"kimi_k2", 0, 0, 1, 2, 0, 0, 0, 0, MOE_DEEPSEEK},
    {"glm4_moe", 0, 0, 1, 2, 0, 0, 0, 0, MOE_DEEPSEEK},
    {"solar_open", 0, 0, 1, 2, 0, 0, 0, 0, MOE_DEEPSEEK},
    {"gemma", 1, 0, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"gemma2", 1, 0, 1, 4, 0, 0, 2, 0, MOE_NONE},
    {"gemma3", 1, 1, 1, 4, 0, 0, 2, 0, MOE_NONE},
    {"phi3", 0, 0, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"phimoe", 0, 0, 1, 2, 1, 1, 1, 0, MOE_ALL},
    {"gpt2", 1, 0, 0, 2, 1, 1, 1, 1, MOE_NONE},
    {"gpt_neox", 0, 0, 0, 2, 1, 1, 1, 1, MOE_NONE},
    {"gpt_oss", 0, 0, 1, 2, 0, 1, 1, 1, MOE_ALL},
    {"exaone", 0, 0, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"exaone4", 0, 1, 1, 2, 0, 0, 2, 0, MOE_NONE},
    {"exaone_moe", 0, 1, 1, 2, 0, 0, 0, 0, MOE_FLAGS},
    {"hyperclovax", 0, 0, 1, 2, 0, 0, 2, 0, MOE_NONE},
    /* Llama-4's QK norm is a weightless L2 norm: no parameters */
    {"llama4", 0, 0, 1, 2, 0, 0, 2, 0, MOE_LLAMA4},
    {"generic", 0, 0, 1, 2, 0, 0, 2, 0, MOE_DEEPSEEK},
};

/* model_type spellings (HF and GGUF) that name one of the families above */
static const char *const aliases[][2] = {
    {"llama4_text", "llama4"}, {"gemma3_text", "gemma3"}, {"qwen3moe", "qwen3_moe"}, {"qwen2moe", "qwen2_moe"},
    {"deepseek2", "deepseek_v3"}, {"deepseek_v32", "deepseek_v3"}, {"glm4moe", "glm4_moe"}, {"gptneox", "gpt_neox"},
    {"gpt-oss", "gpt_oss"}, {"exaone3", "exaone"}, {"exaone_moe", "exaone_moe"}, {"hyperclovax_seed", "hyperclovax"},
    {"phi3small", "phi3"}, {"phi-msft", "generic"}, {"qwen2_5_vl_text", "qwen2"}, {"qwen2_vl_text", "qwen2"},
};

static const family_def *family_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i][0])) { name = aliases[i][1]; break; }
    for (size_t i = 0; i + 1 < sizeof families / sizeof families[0]; i++)
        if (!strcmp(name, families[i].name)) return &families[i];
    return NULL;
}

const char *arch_family_of(const char *model_type)
{
    const family_def *f = family_find(model_type);
    return f ? f->name : "generic";
}

void arch_init(arch_info *a)
{
    memset(a, 0, sizeof *a);
    int64_t *ints[] = {&a->hidden_size, &a->num_layers, &a->num_heads, &a->num_kv_heads, &a->head_dim,
                       &a->intermediate_size, &a->vocab_size, &a->n_routed_experts, &a->n_shared_experts,
                       &a->experts_per_token, &a->moe_intermediate_size, &a->shared_expert_intermediate_size,
                       &a->dense_intermediate_size, &a->first_k_dense, &a->moe_step, &a->moe_phase,
                       &a->rope_original_max, &a->max_positions, &a->learned_positions, &a->sliding_window,
                       &a->sliding_layers, &a->q_lora_rank, &a->kv_lora_rank, &a->qk_nope_head_dim,
                       &a->qk_rope_head_dim, &a->v_head_dim, &a->mtp_layers, &a->q_rows, &a->kv_rows,
                       &a->intermediate_min, &a->moe_layers};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) *ints[i] = -1;
    a->rope_theta = a->rope_local_theta = a->rope_factor = a->partial_rotary_factor = a->norm_eps = NAN;
    a->global_every = a->max_window_layers = -1;
    a->tied_embeddings = a->attention_bias = a->attention_out_bias = a->mlp_bias = a->qk_norm = -1;
    a->attn_sinks = a->gated_mlp = a->norms_per_layer = -1;
    a->shared_expert_gate = a->router_bias = 0;
}

const json_value *arch_text_config(const json_value *cfg)
{
    static const char *const keys[] = {"text_config", "language_config", "llm_config", "thinker_config", NULL};
    for (int i = 0; keys[i]; i++) {
        const json_value *s = json_get(cfg, keys[i]);
        if (s && s->type == JSON_OBJECT) {
            /* Qwen-Omni style: thinker_config.text_config */
            const json_value *inner = json_get(s, "text_config");
            return inner && inner->type == JSON_OBJECT ? inner : s;
        }
    }
    return cfg;
}

/* Config numbers are hostile input. Every integer field is read through config_int with one of
 * these limits, far above any published model yet small enough that parameter arithmetic on them
 * stays exact in 64 bits and no loop over them runs long; a value outside them (or of another type)
 * fails the load naming the file and the key. A missing key or null means "unknown". */
const config_limit CONFIG_LAYERS = {1, 10000};                      /* decoder layers */
const config_limit CONFIG_EXTRA_LAYERS = {0, 10000};                /* MTP / dense-prefix layer counts */
const config_limit CONFIG_WIDTH = {1, 1000000};                     /* hidden size, head dim, ranks */
const config_limit CONFIG_FFN = {0, 10000000};                      /* MLP widths (0: none) */
const config_limit CONFIG_HEADS = {1, 100000};                      /* attention heads (> 0) */
const config_limit CONFIG_VOCAB = {1, 100000000};                   /* vocabulary rows */
const config_limit CONFIG_EXPERTS = {0, 100000};                    /* expert counts (0: dense) */
const config_limit CONFIG_POSITIONS = {-1, 1000000000000LL};        /* context lengths, windows (-1: off) */
const config_limit CONFIG_SMALL = {-1, 1000000};                    /* steps, bits, group sizes, ids */

int config_int(config_reader *cr, const json_value *o, const char *key, config_limit lim, int64_t *out)
{
    const json_value *v = json_get(o, key);
    if (!v || v->type == JSON_NULL) return 0;
    int64_t i = 0;
    int integral = 0;
    if (v->type == JSON_NUMBER) {
        if (v->u.number.is_int) { i = v->u.number.i; integral = 1; }
        else if (isfinite(v->u.number.d) && v->u.number.d == floor(v->u.number.d) && fabs(v->u.number.d) < 9.0e15) {
            i = (int64_t)v->u.number.d;   /* 4096.0 written by a Python float */
            integral = 1;
        }
    }
    if (integral && i >= lim.lo && i <= lim.hi) { *out = i; return 1; }
    if (cr && cr->status == LINEAGE_OK) {
        char shown[40];
        if (v->type == JSON_NUMBER) snprintf(shown, sizeof shown, "%.17g", v->u.number.d);
        else snprintf(shown, sizeof shown, "%s", v->type == JSON_STRING ? "a string" : v->type == JSON_BOOL ? "a boolean"
                                                 : v->type == JSON_ARRAY ? "an array" : "an object");
        cr->status = error_set(cr->err, LINEAGE_E_FORMAT, "%s: '%s' is %s, expected an integer from %lld to %lld",
                               cr->what ? cr->what : "config.json", key, shown, (long long)lim.lo, (long long)lim.hi);
    }
    return 0;
}

int config_double(config_reader *cr, const json_value *o, const char *key, double lo, double hi, double *out)
{
    const json_value *v = json_get(o, key);
    if (!v || v->type == JSON_NULL) return 0;
    if (v->type == JSON_NUMBER && isfinite(v->u.number.d) && v->u.number.d >= lo && v->u.number.d <= hi) {
        *out = v->u.number.d;
        return 1;
    }
    if (cr && cr->status == LINEAGE_OK)
        cr->status = error_set(cr->err, LINEAGE_E_FORMAT, "%s: '%s' is not a number from %g to %g",
                               cr->what ? cr->what : "config.json", key, lo, hi);
    return 0;
}

static int get_int_any(config_reader *cr, const json_value *o, const char *const *keys, config_limit lim, int64_t *out)
{
    for (int i = 0; keys[i]; i++)
        if (config_int(cr, o, keys[i], lim, out)) return 1;
    return 0;
}

/* rope bases, scaling factors and epsilons: finite and positive, with room for any real value */
#define CONFIG_REAL_MAX 1e30

static int get_double_any(config_reader *cr, const json_value *o, const char *const *keys, double *out)
{
    for (int i = 0; keys[i]; i++)
        if (config_double(cr, o, keys[i], 0, CONFIG_REAL_MAX, out)) return 1;
    return 0;
}

static const char *get_string_any(const json_value *o, const char *const *keys)
{
    for (int i = 0; keys[i]; i++) {
        const char *s = json_get_string(o, keys[i]);
        if (s) return s;
    }
    return NULL;
}

/* bool key, or a number 0/1 */
static int get_flag(const json_value *o, const char *key, int *out)
{
    const json_value *v = json_get(o, key);
    if (json_get_bool(o, key, out)) return 1;
    if (v && v->type == JSON_NUMBER) { *out = v->u.number.d != 0; return 1; }
    return 0;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* rope_scaling wins over transformers 5's rope_parameters when both are present (what the engine
 * applies); rope_parameters may hold one object per layer type, of which full_attention counts. */
static void read_rope(config_reader *cr, const json_value *sub, arch_info *a)
{
    double d;
    if (get_double_any(cr, sub, KEYS("rope_theta", "rotary_emb_base", "rope_base", "rotary_base"), &d)) a->rope_theta = d;
    if (config_double(cr, sub, "rope_local_base_freq", 0, CONFIG_REAL_MAX, &d)) a->rope_local_theta = d;
    const json_value *sc = json_get(sub, "rope_scaling");
    const json_value *rp = json_get(sub, "rope_parameters");
    if (rp && rp->type == JSON_OBJECT) {
        const json_value *full = json_get(rp, "full_attention");
        if (full && full->type == JSON_OBJECT) rp = full;
        if (isnan(a->rope_theta) && config_double(cr, rp, "rope_theta", 0, CONFIG_REAL_MAX, &d)) a->rope_theta = d;
        if (!sc || sc->type != JSON_OBJECT) sc = rp;
    }
    if (sc && sc->type == JSON_OBJECT) {
        a->rope_scaling = sc;
        const char *t = get_string_any(sc, KEYS("rope_type", "type"));
        a->rope_scaling_type = t && strcmp(t, "default") ? t : NULL;
        if (!a->rope_scaling_type) a->rope_scaling = NULL;
        if (a->rope_scaling && config_double(cr, sc, "factor", 0, CONFIG_REAL_MAX, &d)) a->rope_factor = d;
        int64_t n;
        if (a->rope_scaling && config_int(cr, sc, "original_max_position_embeddings", CONFIG_POSITIONS, &n))
            a->rope_original_max = n;
    }
    if (config_double(cr, sub, "partial_rotary_factor", 0, 1, &d) || config_double(cr, sub, "rotary_pct", 0, 1, &d))
        a->partial_rotary_factor = d;
    int64_t rd;
    if (isnan(a->partial_rotary_factor) && config_int(cr, sub, "rotary_dim", CONFIG_WIDTH, &rd) && a->head_dim > 0)
        a->partial_rotary_factor = (double)rd / (double)a->head_dim;
}

int arch_layer_is_sliding(const arch_info *a, int64_t l)
{
    if (a->sliding_window <= 0 || l < 0) return 0;
    const json_value *t = json_at(a->layer_types, (size_t)l);
    if (a->layer_types && a->layer_types->type == JSON_ARRAY)
        return t && t->type == JSON_STRING && strstr(t->u.string.s, "sliding") != NULL;
    if (a->sliding_pattern) {
        size_t len = strlen(a->sliding_pattern);
        return len && a->sliding_pattern[(size_t)l % len] == 'L';
    }
    const char *f = a->family ? a->family : "";
    if (!strcmp(f, "gemma2")) return l % 2 == 0;
    if (!strcmp(f, "gemma3")) return (l + 1) % (a->global_every > 0 ? a->global_every : 6) != 0;
    if (!strncmp(f, "qwen", 4)) return l >= (a->max_window_layers > 0 ? a->max_window_layers : 0);
    return 1;
}

/* The window size and the per-layer layout (arch_layer_is_sliding), then the count and a short pattern
 * string for the reports, derived from the same per-layer answer. */
static void read_sliding(config_reader *cr, const json_value *sub, arch_info *a)
{
    int64_t w = -1;
    int use = 1;
    config_int(cr, sub, "sliding_window", CONFIG_POSITIONS, &w);
    /* Qwen2/3 configs carry a window that applies only when use_sliding_window says so */
    int qwen = a->family && !strncmp(a->family, "qwen", 4);
    if (get_flag(sub, "use_sliding_window", &use) ? !use : qwen) w = -1;
    const json_value *types = json_get(sub, "layer_types");
    if (types && types->type == JSON_ARRAY && json_count(types) > 0) a->layer_types = types;
    const json_value *pat = json_get(sub, "sliding_window_pattern");
    int64_t every;
    if (pat && pat->type == JSON_STRING && pat->u.string.len > 0 && pat->u.string.len < sizeof a->layer_pattern)
        a->sliding_pattern = pat->u.string.s;
    else if (config_int(cr, sub, "sliding_window_pattern", CONFIG_SMALL, &every) && every > 0)
        a->global_every = every;
    int64_t mwl;
    if (config_int(cr, sub, "max_window_layers", CONFIG_POSITIONS, &mwl) && mwl >= 0) a->max_window_layers = mwl;
    a->sliding_window = w > 0 ? w : -1;
    if (a->sliding_window < 0) {
        if (a->layer_types) {   /* an explicit layout with no window: say so */
            a->sliding_layers = 0;
            snprintf(a->layer_pattern, sizeof a->layer_pattern, "all-full");
        }
        return;
    }
    int64_t n = a->layer_types ? (int64_t)json_count(a->layer_types) : a->num_layers;
    if (n <= 0) {
        snprintf(a->layer_pattern, sizeof a->layer_pattern, "%s", a->sliding_pattern ? a->sliding_pattern : "all-sliding");
        return;
    }
    int64_t sliding = 0;
    for (int64_t l = 0; l < n; l++) sliding += arch_layer_is_sliding(a, l);
    a->sliding_layers = sliding;
    if (sliding == 0) {
        a->sliding_window = -1;
        a->sliding_layers = 0;
        snprintf(a->layer_pattern, sizeof a->layer_pattern, "all-full");
        return;
    }
    if (sliding == n) {
        snprintf(a->layer_pattern, sizeof a->layer_pattern, "all-sliding");
        return;
    }
    if (a->max_window_layers > 0 && !a->layer_types && qwen) {
        snprintf(a->layer_pattern, sizeof a->layer_pattern, "G*%lld+L*%lld", (long long)(n - sliding), (long long)sliding);
        return;
    }
    /* smallest repeating period of the per-layer pattern, when the whole list is periodic */
    int64_t period = n;
    for (int64_t p = 1; p < n && p <= 16 && period == n; p++) {
        int64_t k = p;
        while (k < n && arch_layer_is_sliding(a, k) == arch_layer_is_sliding(a, k - p)) k++;
        if (k == n) period = p;
    }
    if (period < n) {
        for (int64_t l = 0; l < period; l++) a->layer_pattern[l] = arch_layer_is_sliding(a, l) ? 'L' : 'G';
        a->layer_pattern[period] = 0;
    }
    else if (a->sliding_pattern) snprintf(a->layer_pattern, sizeof a->layer_pattern, "%s", a->sliding_pattern);
    else snprintf(a->layer_pattern, sizeof a->layer_pattern, "mixed");
}

static void read_quant(config_reader *cr, const json_value *root, arch_info *a)
{
    const json_value *q = json_get(root, "quantization_config");
    if (!q || q->type != JSON_OBJECT) return;
    a->quant_method = json_get_string(q, "quant_method");
    int64_t bits = -1, group = -1;
    if (!get_int_any(cr, q, KEYS("bits", "num_bits", "w_bit"), CONFIG_SMALL, &bits)) {
        const json_value *groups = json_get(q, "config_groups");
        for (size_t i = 0; groups && i < json_count(groups) && bits < 0; i++) {
            const json_value *w = json_get(groups->u.object.members[i].value, "weights");
            config_int(cr, w, "num_bits", CONFIG_SMALL, &bits);
            config_int(cr, w, "group_size", CONFIG_SMALL, &group);
        }
    }
    if (group < 0) get_int_any(cr, q, KEYS("group_size", "q_group_size"), CONFIG_SMALL, &group);
    const char *fmt = json_get_string(q, "fmt");
    const json_value *blk = json_get(q, "weight_block_size");
    char *s = a->quant_summary;
    size_t cap = sizeof a->quant_summary, n = 0;
    n += (size_t)snprintf(s + n, cap - n, "%s", a->quant_method ? a->quant_method : "unknown");
    if (n < cap && fmt) n += (size_t)snprintf(s + n, cap - n, " %s", fmt);
    if (n < cap && bits > 0) n += (size_t)snprintf(s + n, cap - n, " %lld-bit", (long long)bits);
    if (n < cap && group > 0) n += (size_t)snprintf(s + n, cap - n, " group %lld", (long long)group);
    if (n < cap && json_count(blk) == 2) {
        int64_t r = 0, c = 0;
        const json_value *v0 = json_at(blk, 0), *v1 = json_at(blk, 1);
        if (v0->type == JSON_NUMBER && v1->type == JSON_NUMBER && v0->u.number.is_int && v1->u.number.is_int) {
            r = v0->u.number.i;
            c = v1->u.number.i;
            snprintf(s + n, cap - n, " weight_block_size %lldx%lld", (long long)r, (long long)c);
        }
    }
}

static void read_moe(config_reader *cr, const json_value *sub, const family_def *fam, arch_info *a)
{
    int64_t v;
    get_int_any(cr, sub, KEYS("n_routed_experts", "num_local_experts", "num_experts", "moe_num_experts", "n_experts"),
                CONFIG_EXPERTS, &a->n_routed_experts);
    if (a->n_routed_experts <= 0) { a->n_routed_experts = -1; return; }
    get_int_any(cr, sub, KEYS("num_experts_per_tok", "experts_per_token", "moe_top_k", "num_selected_experts", "top_k",
                              "moe_k"), CONFIG_EXPERTS, &a->experts_per_token);
    /* a token cannot be routed to more experts than there are: the active count would exceed the total */
    if (a->experts_per_token > a->n_routed_experts && cr && cr->status == LINEAGE_OK)
        cr->status = error_set(cr->err, LINEAGE_E_FORMAT, "%s: experts per token (%lld) exceed the routed experts (%lld)",
                               cr->what ? cr->what : "config.json", (long long)a->experts_per_token,
                               (long long)a->n_routed_experts);
    get_int_any(cr, sub, KEYS("n_shared_experts", "num_shared_experts", "moe_num_shared_experts"), CONFIG_EXPERTS,
                &a->n_shared_experts);
    get_int_any(cr, sub, KEYS("moe_intermediate_size", "expert_intermediate_size", "moe_ffn_hidden_size"), CONFIG_FFN,
                &a->moe_intermediate_size);
    if (config_int(cr, sub, "shared_expert_intermediate_size", CONFIG_FFN, &v) && v > 0) {
        a->shared_expert_intermediate_size = v;
        if (a->n_shared_experts < 0) a->n_shared_experts = 1;
    }
    moe_style style = fam ? fam->moe : MOE_DEEPSEEK;
    if (style == MOE_ALL || style == MOE_LLAMA4) {
        if (a->moe_intermediate_size < 0) a->moe_intermediate_size = a->intermediate_size;
    }
    if (style == MOE_LLAMA4) {
        /* every expert and the one shared expert use intermediate_size; dense layers intermediate_size_mlp */
        if (a->n_shared_experts < 0) a->n_shared_experts = 1;
        if (a->shared_expert_intermediate_size < 0) a->shared_expert_intermediate_size = a->intermediate_size;
        if (config_int(cr, sub, "intermediate_size_mlp", CONFIG_FFN, &v)) a->dense_intermediate_size = v;
    }
    if (a->n_shared_experts < 0) a->n_shared_experts = 0;
    if (a->shared_expert_intermediate_size < 0 && a->n_shared_experts > 0 && a->moe_intermediate_size > 0)
        a->shared_expert_intermediate_size = a->n_shared_experts * a->moe_intermediate_size;
    if (fam && !strcmp(fam->name, "qwen2_moe") && a->n_shared_experts > 0) a->shared_expert_gate = 1;
    a->first_k_dense = 0;
    a->moe_step = 1;
    a->moe_phase = 0;
    if (config_int(cr, sub, "first_k_dense_replace", CONFIG_EXTRA_LAYERS, &v)) a->first_k_dense = v;
    const json_value *freq = json_get(sub, "moe_layer_freq");
    if (freq && freq->type == JSON_ARRAY) a->moe_layer_flags = freq;
    else if (config_int(cr, sub, "moe_layer_freq", CONFIG_SMALL, &v) && v > 0) a->moe_step = v;
    if (config_int(cr, sub, "decoder_sparse_step", CONFIG_SMALL, &v) && v > 0) { a->moe_step = v; a->moe_phase = v - 1; }
    if (config_int(cr, sub, "interleave_moe_layer_step", CONFIG_SMALL, &v) && v > 0) { a->moe_step = v; a->moe_phase = v - 1; }
    const json_value *only = json_get(sub, "mlp_only_layers");
    if (only && only->type == JSON_ARRAY && json_count(only) > 0) a->mlp_only_layers = only;
    const json_value *flags = json_get(sub, "is_moe_layer");
    if (flags && flags->type == JSON_ARRAY) a->moe_layer_flags = flags;
    const char *topk_method = json_get_string(sub, "topk_method");
    if ((topk_method && !strcmp(topk_method, "noaux_tc")) ||
        (fam && (!strcmp(fam->name, "glm4_moe") || !strcmp(fam->name, "solar_open") ||
                 !strcmp(fam->name, "gpt_oss") || !strcmp(fam->name, "exaone_moe"))))
        a->router_bias = 1;
}

lineage_status arch_from_config(const json_value *root, const json_value *sub, arch_info *a, const char *what,
                                lineage_error *err)
{
    config_reader reader = {what, err, LINEAGE_OK}, *cr = &reader;
    if (!sub) sub = root;
    if (!sub || sub->type != JSON_OBJECT) return LINEAGE_OK;
    a->source = "config";
    a->model_type = json_get_string(sub, "model_type");
    if (!a->model_type) a->model_type = json_get_string(root, "model_type");
    const family_def *fam = family_find(a->model_type);
    a->family = fam ? fam->name : "generic";
    const json_value *archs = json_get(sub, "architectures");
    if (!archs) archs = json_get(root, "architectures");
    if (json_at(archs, 0) && json_at(archs, 0)->type == JSON_STRING) a->architecture_class = json_at(archs, 0)->u.string.s;

    get_int_any(cr, sub, KEYS("hidden_size", "n_embd", "d_model", "model_dim", "dim"), CONFIG_WIDTH, &a->hidden_size);
    get_int_any(cr, sub, KEYS("num_hidden_layers", "n_layer", "num_layers", "n_layers"), CONFIG_LAYERS, &a->num_layers);
    get_int_any(cr, sub, KEYS("num_attention_heads", "n_head", "num_heads", "n_heads"), CONFIG_HEADS, &a->num_heads);
    if (!get_int_any(cr, sub, KEYS("num_key_value_heads", "num_kv_heads", "n_kv_heads", "multi_query_group_num",
                                   "n_head_kv", "num_key_value_groups"), CONFIG_HEADS, &a->num_kv_heads)) {
        int mq = 0;
        if (get_flag(sub, "multi_query", &mq) && mq) a->num_kv_heads = 1;
        else a->num_kv_heads = a->num_heads;
    }
    if (!get_int_any(cr, sub, KEYS("head_dim", "kv_channels", "attention_head_dim"), CONFIG_WIDTH, &a->head_dim) && a->num_heads > 0 &&
        a->hidden_size > 0)
        a->head_dim = a->hidden_size / a->num_heads;
    get_int_any(cr, sub, KEYS("intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim", "dim_feedforward"), CONFIG_FFN,
                &a->intermediate_size);
    if (a->intermediate_size <= 0 && fam && (!strcmp(fam->name, "gpt2")) && a->hidden_size > 0)
        a->intermediate_size = 4 * a->hidden_size;   /* GPT-2: n_inner null means 4 x n_embd */
    get_int_any(cr, sub, KEYS("vocab_size", "n_vocab", "padded_vocab_size"), CONFIG_VOCAB, &a->vocab_size);
    if (a->vocab_size < 0) get_int_any(cr, root, KEYS("vocab_size"), CONFIG_VOCAB, &a->vocab_size);
    get_int_any(cr, sub, KEYS("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length", "n_ctx"),
                CONFIG_POSITIONS, &a->max_positions);
    if (fam && !strcmp(fam->name, "gpt2")) {
        int64_t np = -1;
        if (get_int_any(cr, sub, KEYS("n_positions", "max_position_embeddings"), CONFIG_VOCAB, &np)) a->learned_positions = np;
    }

    read_moe(cr, sub, fam, a);
    read_rope(cr, sub, a);

    /* MLA: q_lora_rank null means a plain q_proj */
    config_int(cr, sub, "kv_lora_rank", CONFIG_WIDTH, &a->kv_lora_rank);
    if (a->kv_lora_rank > 0) {
        if (!config_int(cr, sub, "q_lora_rank", CONFIG_WIDTH, &a->q_lora_rank)) a->q_lora_rank = 0;
        config_int(cr, sub, "qk_nope_head_dim", CONFIG_WIDTH, &a->qk_nope_head_dim);
        config_int(cr, sub, "qk_rope_head_dim", CONFIG_WIDTH, &a->qk_rope_head_dim);
        config_int(cr, sub, "v_head_dim", CONFIG_WIDTH, &a->v_head_dim);
        if (a->qk_nope_head_dim > 0 && a->qk_rope_head_dim > 0) a->head_dim = a->qk_nope_head_dim + a->qk_rope_head_dim;
    }
    if (!get_int_any(cr, sub, KEYS("num_nextn_predict_layers", "num_mtp_layers", "mtp_num_hidden_layers"), CONFIG_EXTRA_LAYERS,
                     &a->mtp_layers))
        a->mtp_layers = -1;

    int b;
    a->tied_embeddings = fam ? fam->tied : -1;
    if (get_flag(sub, "tie_word_embeddings", &b) || get_flag(root, "tie_word_embeddings", &b)) a->tied_embeddings = b;
    a->qk_norm = fam ? fam->qk_norm : 0;
    if (get_flag(sub, "use_qk_norm", &b) || get_flag(sub, "qk_layernorm", &b) || get_flag(sub, "use_qk_layernorm", &b))
        a->qk_norm = b && !(fam && !strcmp(fam->name, "llama4"));
    a->attention_bias = fam ? fam->qkv_bias : 0;
    a->attention_out_bias = fam ? fam->o_bias : 0;
    if (get_flag(sub, "attention_bias", &b) || get_flag(sub, "add_qkv_bias", &b) || get_flag(sub, "use_bias", &b) ||
        get_flag(sub, "bias", &b)) {
        a->attention_bias = b;
        /* o_bias 2: o_proj follows attention_bias (Llama, Qwen3); Qwen2 and GLM-4.5 bias q/k/v only */
        if (!fam || fam->o_bias == 2) a->attention_out_bias = b;
    }
    if (a->attention_out_bias == 2) a->attention_out_bias = 0;
    a->mlp_bias = fam ? fam->mlp_bias : 0;
    if (get_flag(sub, "mlp_bias", &b)) a->mlp_bias = b;
    a->gated_mlp = fam ? fam->gated : 1;
    a->attn_sinks = fam && !strcmp(fam->name, "gpt_oss");
    a->norms_per_layer = fam ? fam->norms : 2;
    if (get_flag(sub, "use_post_norm", &b) && b) a->norms_per_layer = 4;   /* HyperCLOVA X Peri-LN */
    a->norm_kind = fam && fam->layernorm ? "layernorm" : "rmsnorm";
    double d;
    if (config_double(cr, sub, "rms_norm_eps", 0, CONFIG_REAL_MAX, &d)) a->norm_eps = d;
    else if (get_double_any(cr, sub, KEYS("layer_norm_epsilon", "layer_norm_eps", "norm_epsilon", "norm_eps"), &d)) {
        a->norm_eps = d;
        if (!fam) a->norm_kind = "layernorm";
    }
    a->activation = get_string_any(sub, KEYS("hidden_act", "hidden_activation", "activation_function", "activation"));
    if (!fam && a->activation && (!strncmp(a->activation, "gelu", 4) || !strcmp(a->activation, "relu")) &&
        !json_get(sub, "mlp_bias"))
        a->gated_mlp = 1;   /* unknown family: assume gated unless told otherwise */

    read_sliding(cr, sub, a);
    read_quant(cr, root, a);
    if (!a->quant_method && sub != root) read_quant(cr, sub, a);
    return cr->status;
}

int arch_layer_is_moe(const arch_info *a, int64_t layer)
{
    if (a->n_routed_experts <= 0) return 0;
    if (a->moe_layer_flags) {
        const json_value *f = json_at(a->moe_layer_flags, (size_t)layer);
        if (!f) return 0;
        if (f->type == JSON_BOOL) return f->u.boolean;
        if (f->type == JSON_NUMBER) return f->u.number.d != 0;
        return 0;
    }
    for (size_t i = 0; i < json_count(a->mlp_only_layers); i++) {
        const json_value *v = json_at(a->mlp_only_layers, i);
        if (v->type == JSON_NUMBER && (int64_t)v->u.number.d == layer) return 0;
    }
    if (a->first_k_dense > 0 && layer < a->first_k_dense) return 0;
    int64_t step = a->moe_step > 0 ? a->moe_step : 1, phase = a->moe_phase >= 0 ? a->moe_phase : 0;
    return layer % step == phase;
}
