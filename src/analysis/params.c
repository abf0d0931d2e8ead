/* Parameter arithmetic. The config formula mirrors what the modelling code allocates per layer;
 * the tensor count is the ground truth when weights are present. */
#include <string.h>

#include "analysis/params.h"
#include "util/strbuf.h"

static uint64_t u(int64_t v) { return v > 0 ? (uint64_t)v : 0; }

uint64_t tensor_params(const lineage_tensor_info *t)
{
    const char *n = t->name;
    if (!strcmp(t->role, "quant_scale")) return 0;
    if (str_ends_with(n, "_zero_point") || str_ends_with(n, ".weight_shape") || str_ends_with(n, ".g_idx") ||
        str_ends_with(n, ".qzeros") || str_ends_with(n, ".inv_freq") || str_ends_with(n, ".scales"))
        return 0;
    /* causal-mask buffers that old GPT-2 / NeoX checkpoints save */
    if (t->ndim >= 3 && (str_ends_with(n, "attn.bias") || str_ends_with(n, "attn.masked_bias") ||
                         str_ends_with(n, "attention.bias") || str_ends_with(n, "attention.masked_bias")))
        return 0;
    /* mxfp4 (gpt-oss): two 4-bit values per byte */
    if (str_ends_with(n, "_blocks") && t->dtype == LINEAGE_DTYPE_U8) return t->numel * 2;
    /* compressed-tensors pack-quantized / GPTQ / AWQ: eight 4-bit values per int32 */
    if ((str_ends_with(n, ".weight_packed") || str_ends_with(n, ".qweight")) && t->dtype == LINEAGE_DTYPE_I32) return t->numel * 8;
    return t->numel;
}

static uint64_t attention_params(const arch_info *a)
{
    uint64_t d = u(a->hidden_size), H = u(a->num_heads), KV = u(a->num_kv_heads), hd = u(a->head_dim);
    if (a->kv_lora_rank > 0) {
        uint64_t nope = u(a->qk_nope_head_dim), rope = u(a->qk_rope_head_dim), v = u(a->v_head_dim);
        uint64_t ql = u(a->q_lora_rank), kvl = u(a->kv_lora_rank);
        uint64_t q = ql ? d * ql + ql + ql * H * (nope + rope) : d * H * (nope + rope);
        uint64_t kv = d * (kvl + rope) + kvl + kvl * H * (nope + v);
        return q + kv + H * v * d;
    }
    uint64_t p = 2 * d * H * hd + 2 * d * KV * hd;
    if (a->attention_bias > 0) p += H * hd + 2 * KV * hd;
    if (a->attention_out_bias > 0) p += d;
    if (a->qk_norm > 0) p += 2 * hd;
    if (a->attn_sinks > 0) p += H;
    return p;
}

static uint64_t mlp_params(const arch_info *a, uint64_t f)
{
    uint64_t d = u(a->hidden_size);
    int gated = a->gated_mlp != 0;
    uint64_t p = (gated ? 3 : 2) * d * f;
    if (a->mlp_bias > 0) p += (gated ? 2 * f : f) + d;
    return p;
}

static uint64_t norm_params(const arch_info *a, uint64_t count)
{
    uint64_t per = u(a->hidden_size) * (a->norm_kind && !strcmp(a->norm_kind, "layernorm") ? 2 : 1);
    return count * per;
}

/* One decoder layer's total and active parameters. */
static void layer_params(const arch_info *a, int64_t layer, uint64_t *total, uint64_t *active, uint64_t *routed)
{
    uint64_t d = u(a->hidden_size);
    uint64_t base = attention_params(a) + norm_params(a, a->norms_per_layer > 0 ? (uint64_t)a->norms_per_layer : 2);
    *routed = 0;
    if (arch_layer_is_moe(a, layer)) {
        uint64_t E = u(a->n_routed_experts), k = u(a->experts_per_token);
        uint64_t expert = mlp_params(a, u(a->moe_intermediate_size));
        uint64_t shared = a->shared_expert_intermediate_size > 0 ? mlp_params(a, u(a->shared_expert_intermediate_size)) : 0;
        if (a->shared_expert_gate) shared += d;
        uint64_t router = E * d + (a->router_bias ? E : 0);
        *routed = E * expert;
        *total = base + *routed + shared + router;
        *active = base + k * expert + shared + router;
    } else {
        uint64_t f = u(a->dense_intermediate_size > 0 ? a->dense_intermediate_size : a->intermediate_size);
        *total = *active = base + mlp_params(a, f);
    }
}

int params_from_config(const arch_info *a, param_counts *out)
{
    memset(out, 0, sizeof *out);
    if (a->hidden_size <= 0 || a->num_layers <= 0 || a->vocab_size <= 0 || a->num_heads <= 0 ||
        (a->kv_lora_rank <= 0 && a->head_dim <= 0))
        return 0;
    if (a->n_routed_experts > 0 && a->moe_intermediate_size <= 0) return 0;
    if (a->n_routed_experts <= 0 && a->intermediate_size <= 0 && a->dense_intermediate_size <= 0) return 0;
    uint64_t d = u(a->hidden_size), V = u(a->vocab_size);
    out->active_known = a->n_routed_experts <= 0 || a->experts_per_token > 0;
    for (int64_t L = 0; L < a->num_layers; L++) {
        uint64_t t, act, routed;
        layer_params(a, L, &t, &act, &routed);
        out->total += t;
        out->active += act;
        out->routed_experts += routed;
    }
    out->embedding = V * d;
    out->lm_head = a->tied_embeddings > 0 ? 0 : V * d;
    uint64_t global = out->embedding + out->lm_head + norm_params(a, 1) + u(a->learned_positions) * d;
    out->total += global;
    out->active += global;
    out->active_without_embedding = out->active - (a->tied_embeddings > 0 ? 0 : out->embedding);
    /* an MTP module: one more decoder layer, two input norms, the 2d→d projection and its head norm;
     * its embedding and output head are shared with the main model */
    for (int64_t i = 0; i < a->mtp_layers; i++) {
        uint64_t t, act, routed;
        layer_params(a, a->num_layers + i, &t, &act, &routed);
        out->mtp += t + norm_params(a, 3) + 2 * d * d;
    }
    return 1;
}

uint64_t params_vision_from_config(const json_value *v)
{
    int64_t d = -1, L = -1, f = -1, p = -1, c = 3, tp = 1;
    if (!json_get_int(v, "hidden_size", &d) && !json_get_int(v, "embed_dim", &d)) return 0;
    if (!json_get_int(v, "depth", &L) && !json_get_int(v, "num_hidden_layers", &L)) return 0;
    if (!json_get_int(v, "intermediate_size", &f)) f = 4 * d;
    json_get_int(v, "patch_size", &p);
    if (!json_get_int(v, "in_chans", &c)) json_get_int(v, "num_channels", &c);
    json_get_int(v, "temporal_patch_size", &tp);
    if (d <= 0 || L <= 0 || f <= 0) return 0;
    /* per block: fused qkv + output projection, two-matrix MLP, two norms */
    uint64_t block = 4 * u(d) * u(d) + 2 * u(d) * u(f) + 2 * u(d);
    uint64_t patch = p > 0 ? u(c) * u(p) * u(p) * u(tp > 0 ? tp : 1) * u(d) : 0;
    return u(L) * block + patch + u(d);
}

void params_from_tensors(const lineage_model *m, const arch_info *a, int comp, param_counts *out)
{
    memset(out, 0, sizeof *out);
    uint64_t k = u(a->experts_per_token);
    out->active_known = 1;
    double inactive = 0;
    for (size_t i = 0; i < m->ntensors; i++) {
        const lineage_tensor_info *t = &m->tensors[i].info;
        uint64_t p = tensor_params(t);
        if (t->component == LINEAGE_COMPONENT_MTP) {
            if (comp < 0 || comp == LINEAGE_COMPONENT_MTP || comp == LINEAGE_COMPONENT_TEXT) out->mtp += p;
            continue;
        }
        if (comp >= 0 && (int)t->component != comp) continue;
        out->total += p;
        if (!strcmp(t->role, "embed")) out->embedding += p;
        if (!strcmp(t->role, "lm_head")) out->lm_head += p;
        if (!strncmp(t->role, "expert_", 7)) {
            out->routed_experts += p;
            uint64_t E = t->expert < 0 && t->ndim >= 3 ? t->shape[0] : u(a->n_routed_experts);
            if (k == 0 || E == 0) out->active_known = 0;
            else if (k < E) inactive += (double)p * (double)(E - k) / (double)E;
        }
    }
    out->active = out->total - (uint64_t)(inactive + 0.5);
    out->active_without_embedding = out->active - (out->lm_head ? out->embedding : 0);
}
