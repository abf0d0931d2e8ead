/* GGUF metadata → arch_info: llama.cpp writes the architecture under "{general.architecture}.*". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "format/arch.h"

static int gguf_arch_int(const gguf_file *g, const char *arch, const char *key, int64_t *out)
{
    char full[160];
    if (snprintf(full, sizeof full, "%s.%s", arch, key) >= (int)sizeof full) return 0;
    return gguf_get_int(g, full, out);
}

static int gguf_arch_float(const gguf_file *g, const char *arch, const char *key, double *out)
{
    char full[160];
    if (snprintf(full, sizeof full, "%s.%s", arch, key) >= (int)sizeof full) return 0;
    return gguf_get_float(g, full, out);
}

static const char *gguf_arch_string(const gguf_file *g, const char *arch, const char *key)
{
    char full[160];
    if (snprintf(full, sizeof full, "%s.%s", arch, key) >= (int)sizeof full) return NULL;
    return gguf_get_string(g, full);
}

void arch_from_gguf(const gguf_file *g, arch_info *a)
{
    const char *arch = g ? gguf_architecture(g) : NULL;
    if (!arch) return;
    a->source = "gguf";
    a->model_type = arch;
    a->family = arch_family_of(arch);
    int64_t v;
    double d;
    gguf_arch_int(g, arch, "embedding_length", &a->hidden_size);
    gguf_arch_int(g, arch, "block_count", &a->num_layers);
    gguf_arch_int(g, arch, "attention.head_count", &a->num_heads);
    if (!gguf_arch_int(g, arch, "attention.head_count_kv", &a->num_kv_heads)) a->num_kv_heads = a->num_heads;
    if (gguf_arch_int(g, arch, "attention.key_length", &v)) a->head_dim = v;
    else if (a->num_heads > 0 && a->hidden_size > 0) a->head_dim = a->hidden_size / a->num_heads;
    gguf_arch_int(g, arch, "feed_forward_length", &a->intermediate_size);
    gguf_arch_int(g, arch, "context_length", &a->max_positions);
    if (!gguf_arch_int(g, arch, "vocab_size", &a->vocab_size)) {
        const gguf_kv *tok = gguf_find(g, "tokenizer.ggml.tokens");
        if (tok) a->vocab_size = (int64_t)gguf_kv_array_count(tok);
    }
    if (gguf_arch_int(g, arch, "expert_count", &v) && v > 0) {
        a->n_routed_experts = v;
        gguf_arch_int(g, arch, "expert_used_count", &a->experts_per_token);
        if (!gguf_arch_int(g, arch, "expert_shared_count", &a->n_shared_experts)) a->n_shared_experts = 0;
        if (!gguf_arch_int(g, arch, "expert_feed_forward_length", &a->moe_intermediate_size))
            a->moe_intermediate_size = a->intermediate_size;
        if (gguf_arch_int(g, arch, "expert_shared_feed_forward_length", &v)) a->shared_expert_intermediate_size = v;
        else if (a->n_shared_experts > 0 && a->moe_intermediate_size > 0)
            a->shared_expert_intermediate_size = a->n_shared_experts * a->moe_intermediate_size;
        a->first_k_dense = 0;
        gguf_arch_int(g, arch, "leading_dense_block_count", &a->first_k_dense);
        a->moe_step = 1;
        a->moe_phase = 0;
        if (gguf_arch_int(g, arch, "interleave_moe_layer_step", &v) && v > 0) { a->moe_step = v; a->moe_phase = v - 1; }
    }
    if (gguf_arch_float(g, arch, "rope.freq_base", &d)) a->rope_theta = d;
    a->rope_scaling_type = gguf_arch_string(g, arch, "rope.scaling.type");
    if (gguf_arch_float(g, arch, "rope.scaling.factor", &d)) a->rope_factor = d;
    gguf_arch_int(g, arch, "rope.scaling.original_context_length", &a->rope_original_max);
    if (gguf_arch_int(g, arch, "rope.dimension_count", &v) && a->head_dim > 0 && v > 0)
        a->partial_rotary_factor = (double)v / (double)a->head_dim;
    if (gguf_arch_float(g, arch, "attention.layer_norm_rms_epsilon", &d)) { a->norm_kind = "rmsnorm"; a->norm_eps = d; }
    else if (gguf_arch_float(g, arch, "attention.layer_norm_epsilon", &d)) { a->norm_kind = "layernorm"; a->norm_eps = d; }
    /* Qwen GGUFs may carry a window that llama.cpp (like transformers without use_sliding_window) ignores */
    if (gguf_arch_int(g, arch, "attention.sliding_window", &v) && v > 0 && strncmp(a->family, "qwen", 4))
        a->sliding_window = v;
    if (gguf_arch_int(g, arch, "attention.kv_lora_rank", &v) && v > 0) {
        a->kv_lora_rank = v;
        if (!gguf_arch_int(g, arch, "attention.q_lora_rank", &a->q_lora_rank)) a->q_lora_rank = 0;
        if (gguf_arch_int(g, arch, "rope.dimension_count", &v)) a->qk_rope_head_dim = v;
        if (gguf_arch_int(g, arch, "attention.value_length", &v)) a->v_head_dim = v;
        if (a->head_dim > 0 && a->qk_rope_head_dim > 0) a->qk_nope_head_dim = a->head_dim - a->qk_rope_head_dim;
    }
    if (gguf_arch_int(g, arch, "nextn_predict_layers", &v)) a->mtp_layers = v;
    const char *ft = gguf_get_string(g, "general.file_type");
    int64_t ftype;
    if (!ft && gguf_get_int(g, "general.file_type", &ftype))
        snprintf(a->quant_summary, sizeof a->quant_summary, "gguf file_type %lld", (long long)ftype);
}
