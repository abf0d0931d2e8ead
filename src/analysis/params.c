/* Parameter arithmetic. The config formula mirrors what the modelling code allocates per layer;
 * the tensor count is the ground truth when weights are present. */
#include <string.h>

#include "analysis/params.h"
#include "format/reader.h"
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

/* Checked arithmetic: counts come from untrusted config and GGUF fields, so every product and sum
 * goes through these; an overflow (or a total beyond INT64_MAX, the JSON integer range) makes
 * the count unknown instead of wrong. */
typedef struct checked { int overflow; } checked;

static uint64_t mul(checked *c, uint64_t a, uint64_t b)
{
    uint64_t r;
    if (!mul_u64(a, b, &r) || r > (uint64_t)INT64_MAX) { c->overflow = 1; return 0; }
    return r;
}

static uint64_t add(checked *c, uint64_t a, uint64_t b)
{
    uint64_t r;
    if (!add_u64(a, b, &r) || r > (uint64_t)INT64_MAX) { c->overflow = 1; return 0; }
    return r;
}

static uint64_t mul3(checked *c, uint64_t a, uint64_t b, uint64_t d) { return mul(c, mul(c, a, b), d); }

static uint64_t attention_params(checked *c, const arch_info *a)
{
    uint64_t d = u(a->hidden_size), H = u(a->num_heads), KV = u(a->num_kv_heads), hd = u(a->head_dim);
    if (a->kv_lora_rank > 0) {
        uint64_t nope = u(a->qk_nope_head_dim), rope = u(a->qk_rope_head_dim), v = u(a->v_head_dim);
        uint64_t ql = u(a->q_lora_rank), kvl = u(a->kv_lora_rank), qk = add(c, nope, rope);
        uint64_t q = ql ? add(c, add(c, mul(c, d, ql), ql), mul3(c, ql, H, qk)) : mul3(c, d, H, qk);
        uint64_t kv = add(c, add(c, mul(c, d, add(c, kvl, rope)), kvl), mul3(c, kvl, H, add(c, nope, v)));
        return add(c, add(c, q, kv), mul3(c, H, v, d));
    }
    uint64_t p = add(c, mul(c, 2, mul3(c, d, H, hd)), mul(c, 2, mul3(c, d, KV, hd)));
    if (a->attention_bias > 0) p = add(c, p, add(c, mul(c, H, hd), mul3(c, 2, KV, hd)));
    if (a->attention_out_bias > 0) p = add(c, p, d);
    if (a->qk_norm > 0) p = add(c, p, mul(c, 2, hd));
    if (a->attn_sinks > 0) p = add(c, p, H);
    return p;
}

static uint64_t mlp_params(checked *c, const arch_info *a, uint64_t f)
{
    uint64_t d = u(a->hidden_size);
    int gated = a->gated_mlp != 0;
    uint64_t p = mul3(c, gated ? 3 : 2, d, f);
    if (a->mlp_bias > 0) p = add(c, p, add(c, gated ? mul(c, 2, f) : f, d));
    return p;
}

static uint64_t norm_params(checked *c, const arch_info *a, uint64_t count)
{
    uint64_t per = mul(c, u(a->hidden_size), a->norm_kind && !strcmp(a->norm_kind, "layernorm") ? 2 : 1);
    return mul(c, count, per);
}

/* One decoder layer's total and active parameters. */
static void layer_params(checked *c, const arch_info *a, int64_t layer, uint64_t *total, uint64_t *active,
                         uint64_t *routed)
{
    uint64_t d = u(a->hidden_size);
    uint64_t base = add(c, attention_params(c, a),
                        norm_params(c, a, a->norms_per_layer > 0 ? (uint64_t)a->norms_per_layer : 2));
    *routed = 0;
    if (arch_layer_is_moe(a, layer)) {
        uint64_t E = u(a->n_routed_experts), k = u(a->experts_per_token);
        uint64_t expert = mlp_params(c, a, u(a->moe_intermediate_size));
        uint64_t shared =
            a->shared_expert_intermediate_size > 0 ? mlp_params(c, a, u(a->shared_expert_intermediate_size)) : 0;
        if (a->shared_expert_gate) shared = add(c, shared, d);
        uint64_t router = add(c, mul(c, E, d), a->router_bias ? E : 0);
        uint64_t common = add(c, add(c, base, shared), router);
        *routed = mul(c, E, expert);
        *total = add(c, common, *routed);
        *active = add(c, common, mul(c, k, expert));
    } else {
        uint64_t f = u(a->dense_intermediate_size > 0 ? a->dense_intermediate_size : a->intermediate_size);
        *total = *active = add(c, base, mlp_params(c, a, f));
    }
}

/* Layer counts beyond this are not a model; the loop below must not run for minutes on a lie. */
#define PARAMS_MAX_LAYERS 100000

int params_from_config(const arch_info *a, param_counts *out)
{
    memset(out, 0, sizeof *out);
    if (a->hidden_size <= 0 || a->num_layers <= 0 || a->vocab_size <= 0 || a->num_heads <= 0 ||
        (a->kv_lora_rank <= 0 && a->head_dim <= 0))
        return 0;
    if (a->num_layers > PARAMS_MAX_LAYERS || a->mtp_layers > PARAMS_MAX_LAYERS) return 0;
    if (a->n_routed_experts > 0 && a->moe_intermediate_size <= 0) return 0;
    if (a->n_routed_experts <= 0 && a->intermediate_size <= 0 && a->dense_intermediate_size <= 0) return 0;
    checked c = {0};
    uint64_t d = u(a->hidden_size), V = u(a->vocab_size);
    out->active_known = a->n_routed_experts <= 0 || a->experts_per_token > 0;
    for (int64_t L = 0; L < a->num_layers && !c.overflow; L++) {
        uint64_t t, act, routed;
        layer_params(&c, a, L, &t, &act, &routed);
        out->total = add(&c, out->total, t);
        out->active = add(&c, out->active, act);
        out->routed_experts = add(&c, out->routed_experts, routed);
    }
    out->embedding = mul(&c, V, d);
    out->lm_head = a->tied_embeddings > 0 ? 0 : out->embedding;
    uint64_t global = add(&c, add(&c, add(&c, out->embedding, out->lm_head), norm_params(&c, a, 1)),
                          mul(&c, u(a->learned_positions), d));
    out->total = add(&c, out->total, global);
    out->active = add(&c, out->active, global);
    out->active_without_embedding = out->active - (a->tied_embeddings > 0 ? 0 : out->embedding);
    /* an MTP module: one more decoder layer, two input norms, the 2d→d projection and its head norm;
     * its embedding and output head are shared with the main model */
    for (int64_t i = 0; i < a->mtp_layers && !c.overflow; i++) {
        uint64_t t, act, routed;
        layer_params(&c, a, a->num_layers + i, &t, &act, &routed);
        out->mtp = add(&c, out->mtp, add(&c, add(&c, t, norm_params(&c, a, 3)), mul3(&c, 2, d, d)));
    }
    if (c.overflow) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    return 1;
}

uint64_t params_vision_from_config(const json_value *v)
{
    int64_t d = -1, L = -1, f = -1, p = -1, ch = 3, tp = 1;
    if (!config_int(NULL, v, "hidden_size", CONFIG_WIDTH, &d) && !config_int(NULL, v, "embed_dim", CONFIG_WIDTH, &d))
        return 0;
    if (!config_int(NULL, v, "depth", CONFIG_LAYERS, &L) && !config_int(NULL, v, "num_hidden_layers", CONFIG_LAYERS, &L))
        return 0;
    if (!config_int(NULL, v, "intermediate_size", CONFIG_FFN, &f)) f = 4 * d;
    config_int(NULL, v, "patch_size", CONFIG_SMALL, &p);
    if (!config_int(NULL, v, "in_chans", CONFIG_SMALL, &ch)) config_int(NULL, v, "num_channels", CONFIG_SMALL, &ch);
    config_int(NULL, v, "temporal_patch_size", CONFIG_SMALL, &tp);
    if (f <= 0) return 0;
    checked c = {0};
    /* per block: fused qkv + output projection, two-matrix MLP, two norms */
    uint64_t block = add(&c, add(&c, mul3(&c, 4, u(d), u(d)), mul3(&c, 2, u(d), u(f))), mul(&c, 2, u(d)));
    uint64_t patch = p > 0 ? mul(&c, mul3(&c, u(ch), u(p), u(p)), mul(&c, u(tp > 0 ? tp : 1), u(d))) : 0;
    uint64_t total = add(&c, add(&c, mul(&c, u(L), block), patch), u(d));
    return c.overflow ? 0 : total;
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
