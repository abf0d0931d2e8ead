/* arch_info → JSON (the "architecture" object of lineage.inspect/1 and each side of a comparison). */
#include <math.h>
#include <string.h>

#include "format/arch.h"

static int set_i(arena *ar, json_value *o, const char *k, int64_t v) { return v < 0 || json_set_int(ar, o, k, v); }
static int set_d(arena *ar, json_value *o, const char *k, double v) { return isnan(v) || json_set_double(ar, o, k, v); }
static int set_s(arena *ar, json_value *o, const char *k, const char *v) { return !v || !*v || json_set_str(ar, o, k, v); }
static int set_b(arena *ar, json_value *o, const char *k, int v) { return v < 0 || json_set_bool(ar, o, k, v); }

json_value *arch_to_json(const arch_info *a, arena *ar)
{
    json_value *o = json_new_object(ar);
    if (!o) return NULL;
    int ok = set_s(ar, o, "model_type", a->model_type) && set_s(ar, o, "family", a->family) &&
             set_s(ar, o, "architecture_class", a->architecture_class) && set_s(ar, o, "source", a->source) &&
             set_i(ar, o, "hidden_size", a->hidden_size) && set_i(ar, o, "num_layers", a->num_layers) &&
             set_i(ar, o, "num_heads", a->num_heads) && set_i(ar, o, "num_kv_heads", a->num_kv_heads) &&
             set_i(ar, o, "head_dim", a->head_dim) && set_i(ar, o, "intermediate_size", a->intermediate_size) &&
             set_i(ar, o, "intermediate_size_min", a->intermediate_min != a->intermediate_size ? a->intermediate_min : -1) &&
             set_i(ar, o, "vocab_size", a->vocab_size) && set_i(ar, o, "max_positions", a->max_positions);
    if (ok && a->n_routed_experts > 0) {
        json_value *moe = json_new_object(ar);
        ok = moe && set_i(ar, moe, "routed_experts", a->n_routed_experts) &&
             set_i(ar, moe, "shared_experts", a->n_shared_experts) &&
             set_i(ar, moe, "experts_per_token", a->experts_per_token) &&
             set_i(ar, moe, "moe_intermediate_size", a->moe_intermediate_size) &&
             set_i(ar, moe, "shared_expert_intermediate_size", a->shared_expert_intermediate_size) &&
             set_i(ar, moe, "dense_intermediate_size", a->dense_intermediate_size) &&
             set_i(ar, moe, "first_k_dense", a->first_k_dense) &&
             set_i(ar, moe, "moe_layer_step", a->moe_step) && set_i(ar, moe, "moe_layers", a->moe_layers) &&
             json_set(ar, o, "moe", moe);
    }
    if (ok && a->kv_lora_rank > 0) {
        json_value *mla = json_new_object(ar);
        ok = mla && set_i(ar, mla, "q_lora_rank", a->q_lora_rank) && set_i(ar, mla, "kv_lora_rank", a->kv_lora_rank) &&
             set_i(ar, mla, "qk_nope_head_dim", a->qk_nope_head_dim) &&
             set_i(ar, mla, "qk_rope_head_dim", a->qk_rope_head_dim) && set_i(ar, mla, "v_head_dim", a->v_head_dim) &&
             json_set(ar, o, "mla", mla);
    }
    if (ok && (!isnan(a->rope_theta) || a->rope_scaling_type || !isnan(a->partial_rotary_factor))) {
        json_value *rope = json_new_object(ar);
        ok = rope && set_d(ar, rope, "theta", a->rope_theta) && set_s(ar, rope, "scaling", a->rope_scaling_type) &&
             set_d(ar, rope, "factor", a->rope_factor) && set_i(ar, rope, "original_max_positions", a->rope_original_max) &&
             set_d(ar, rope, "partial_rotary_factor", a->partial_rotary_factor) && json_set(ar, o, "rope", rope);
    }
    if (ok && (a->sliding_window > 0 || a->layer_pattern[0])) {
        json_value *sw = json_new_object(ar);
        ok = sw && set_i(ar, sw, "window", a->sliding_window) && set_i(ar, sw, "sliding_layers", a->sliding_layers) &&
             set_s(ar, sw, "pattern", a->layer_pattern) && json_set(ar, o, "sliding_window", sw);
    }
    ok = ok && set_i(ar, o, "mtp_layers", a->mtp_layers) && set_i(ar, o, "learned_positions", a->learned_positions) &&
         set_b(ar, o, "tied_embeddings", a->tied_embeddings) && set_b(ar, o, "attention_bias", a->attention_bias) &&
         set_b(ar, o, "qk_norm", a->qk_norm) && set_b(ar, o, "attention_sinks", a->attn_sinks) &&
         set_b(ar, o, "gated_mlp", a->gated_mlp) && set_s(ar, o, "norm", a->norm_kind) &&
         set_d(ar, o, "norm_eps", a->norm_eps) && set_s(ar, o, "activation", a->activation) &&
         set_s(ar, o, "quantization", a->quant_summary);
    return ok ? o : NULL;
}
