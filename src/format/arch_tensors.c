/* Tensor shapes → arch_info, the check of a declared architecture against them, and the naming
 * scheme. Shapes are the ground truth: configs can be stale, padded or simply wrong. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/arch.h"
#include "util/error.h"
#include "util/strbuf.h"

/* The width of a 2-D (or stacked 3-D) projection that is not the hidden size (GPT-2 Conv1D stores
 * [in, out], everything else [out, in]). */
static int64_t other_dim(const lineage_tensor_info *t, int64_t hidden, int first_dim)
{
    for (int i = first_dim; i < t->ndim && i < first_dim + 2; i++)
        if ((int64_t)t->shape[i] != hidden) return (int64_t)t->shape[i];
    return (int64_t)t->shape[first_dim];
}

static int is_role(const lineage_tensor_info *t, const char *role) { return !strcmp(t->role, role); }

void arch_from_tensors(const lineage_model *m, lineage_component comp, arch_info *a)
{
    a->source = "tensors";
    int max_layer = -1, max_mtp_layer = -1, min_mtp_layer = -1;
    int has_lm_head = 0, has_embed = 0;
    for (size_t i = 0; i < m->ntensors; i++) {
        const lineage_tensor_info *t = &m->tensors[i].info;
        if (comp == LINEAGE_COMPONENT_TEXT && t->component == LINEAGE_COMPONENT_MTP && t->layer >= 0) {
            if (t->layer > max_mtp_layer) max_mtp_layer = t->layer;
            if (min_mtp_layer < 0 || t->layer < min_mtp_layer) min_mtp_layer = t->layer;
        }
        if (t->component != comp) continue;
        if (t->layer > max_layer) max_layer = t->layer;
        if (is_role(t, "embed") && t->ndim == 2) {
            has_embed = 1;
            a->vocab_size = (int64_t)t->shape[0];
            a->hidden_size = (int64_t)t->shape[1];
        }
        if (is_role(t, "lm_head") && t->ndim == 2) has_lm_head = 1;
        if (is_role(t, "pos_embed") && t->ndim == 2) a->learned_positions = (int64_t)t->shape[0];
    }
    if (max_layer >= 0) a->num_layers = max_layer + 1;
    if (max_mtp_layer >= 0) a->mtp_layers = max_mtp_layer - min_mtp_layer + 1;
    if (has_embed) a->tied_embeddings = !has_lm_head;
    int64_t hidden = a->hidden_size;
    int64_t *experts = NULL;
    unsigned char *has_router = NULL;
    if (max_layer >= 0 && max_layer < (1 << 20)) {
        experts = calloc((size_t)max_layer + 1, sizeof *experts);
        has_router = calloc((size_t)max_layer + 1, 1);
    }
    int q_layer = -1, k_layer = -1;
    a->qk_norm = a->attention_bias = a->attn_sinks = 0;
    int gated = 0, has_mlp = 0, norm_bias = 0;
    for (size_t i = 0; i < m->ntensors; i++) {
        const lineage_tensor_info *t = &m->tensors[i].info;
        if (t->component != comp || t->layer < 0) continue;
        int L = t->layer;
        const char *r = t->role;
        if ((is_role(t, "attn_q") || is_role(t, "attn_q_b")) && t->ndim == 2 && (q_layer < 0 || L < q_layer)) {
            q_layer = L;
            a->q_rows = (int64_t)t->shape[0];
        } else if (is_role(t, "attn_k") && t->ndim == 2 && (k_layer < 0 || L < k_layer)) {
            k_layer = L;
            a->kv_rows = (int64_t)t->shape[0];
        } else if (is_role(t, "attn_q_norm") && t->ndim == 1) {
            a->qk_norm = 1;
            a->head_dim = (int64_t)t->shape[0];
        } else if (is_role(t, "attn_q_a") && t->ndim == 2) {
            a->q_lora_rank = (int64_t)t->shape[0];
        } else if (is_role(t, "attn_kv_a_norm") && t->ndim == 1) {
            a->kv_lora_rank = (int64_t)t->shape[0];
        } else if (is_role(t, "attn_sinks")) {
            a->attn_sinks = 1;
        } else if (is_role(t, "attn_q_bias") || is_role(t, "attn_qkv_bias")) {
            a->attention_bias = 1;
        } else if ((is_role(t, "mlp_up") || is_role(t, "mlp_gate") || is_role(t, "mlp_gate_up")) && t->ndim == 2) {
            int64_t f = other_dim(t, hidden, 0);
            if (is_role(t, "mlp_gate_up")) f /= 2;
            has_mlp = 1;
            if (f > a->intermediate_size) a->intermediate_size = f;
            if (a->intermediate_min < 0 || f < a->intermediate_min) a->intermediate_min = f;
        } else if (is_role(t, "router") && t->ndim == 2) {
            a->n_routed_experts = (int64_t)t->shape[0] == hidden ? (int64_t)t->shape[1] : (int64_t)t->shape[0];
            if (has_router) has_router[L] = 1;
        } else if (!strncmp(r, "shared_expert_", 14) && strcmp(r, "shared_expert_router") && strcmp(r, "shared_expert_down") &&
                   t->ndim == 2) {
            int64_t f = other_dim(t, hidden, 0);
            if (is_role(t, "shared_expert_gate_up")) f /= 2;
            a->shared_expert_intermediate_size = f;
        } else if (!strncmp(r, "expert_", 7) && strcmp(r, "expert_down") && !strstr(r, "bias")) {
            if (t->expert >= 0 && t->ndim == 2) {
                int64_t f = other_dim(t, hidden, 0);
                if (is_role(t, "expert_gate_up")) f /= 2;
                a->moe_intermediate_size = f;
                if (experts && t->expert + 1 > experts[L]) experts[L] = t->expert + 1;
            } else if (t->expert < 0 && t->ndim >= 3) {
                /* stacked [E, ...]: gpt-oss [E, 2f, d/32, 16], Llama-4 [E, d, 2f] */
                int64_t f = other_dim(t, hidden, 1);
                if (is_role(t, "expert_gate_up")) f /= 2;
                a->moe_intermediate_size = f;
                if (experts) experts[L] = (int64_t)t->shape[0];
            }
        }
        if (strstr(r, "gate")) gated = 1;
        if (strstr(r, "norm") && str_ends_with(t->name, ".bias")) norm_bias = 1;
    }
    (void)has_mlp;
    if (a->head_dim > 0 && a->q_rows > 0 && a->kv_lora_rank <= 0) {
        a->num_heads = a->q_rows / a->head_dim;
        if (a->kv_rows > 0) a->num_kv_heads = a->kv_rows / a->head_dim;
    }
    a->gated_mlp = gated;
    a->norm_kind = norm_bias ? "layernorm" : "rmsnorm";
    if (experts && has_router) {
        int64_t moe = 0, first_moe = -1, n_exp = 0;
        for (int L = 0; L <= max_layer; L++) {
            if (experts[L] > 0 || has_router[L]) {
                moe++;
                if (first_moe < 0) first_moe = L;
                if (experts[L] > n_exp) n_exp = experts[L];
            }
        }
        a->moe_layers = moe;
        if (moe > 0) {
            if (a->n_routed_experts < 0) a->n_routed_experts = n_exp;
            a->first_k_dense = first_moe;
            if (a->shared_expert_intermediate_size < 0) a->n_shared_experts = 0;
            else if (a->moe_intermediate_size > 0 && a->shared_expert_intermediate_size % a->moe_intermediate_size == 0)
                a->n_shared_experts = a->shared_expert_intermediate_size / a->moe_intermediate_size;
        }
    }
    free(experts);
    free(has_router);
}

/* One integer field: warn when both are known and differ; fill the declaration when it lacks one. */
static int reconcile_field(int64_t *declared, int64_t shape, const char *what, arena *ar, json_value *w)
{
    if (shape < 0) return 1;
    if (*declared < 0) { *declared = shape; return 1; }
    if (*declared == shape) return 1;
    return json_push_fmt(ar, w, "config %s is %" PRId64 " but the tensors say %" PRId64, what, *declared, shape);
}

int arch_reconcile(arch_info *d, const arch_info *s, arena *ar, json_value *w)
{
    int ok = 1;
    if (s->vocab_size > 0 && d->vocab_size > 0 && s->vocab_size != d->vocab_size) {
        ok &= json_push_fmt(ar, w, "config vocab_size is %" PRId64 " but the embedding has %" PRId64 " rows%s", d->vocab_size,
                           s->vocab_size, s->vocab_size > d->vocab_size ? " (padded or extended beyond the config)" : "");
        d->vocab_size = s->vocab_size;
    } else if (d->vocab_size < 0) d->vocab_size = s->vocab_size;
    ok &= reconcile_field(&d->hidden_size, s->hidden_size, "hidden_size", ar, w);
    if (s->num_layers > 0 && d->num_layers > 0 && s->num_layers != d->num_layers)
        ok &= json_push_fmt(ar, w, "config num_hidden_layers is %" PRId64 " but the checkpoint has %" PRId64 " decoder layers",
                           d->num_layers, s->num_layers);
    if (d->num_layers < 0) d->num_layers = s->num_layers;
    if (s->mtp_layers > 0 && d->mtp_layers <= 0)
        ok &= json_push_fmt(ar, w, "the checkpoint stores %" PRId64 " layer(s) beyond num_hidden_layers=%" PRId64
                           " that the config does not declare as num_nextn_predict_layers; counted as MTP layers",
                           s->mtp_layers, d->num_layers);
    else if (d->mtp_layers > 0 && s->mtp_layers <= 0 && s->num_layers > 0)
        ok &= json_push_fmt(ar, w, "config declares %" PRId64 " MTP layer(s) that the checkpoint does not contain",
                           d->mtp_layers);
    if (s->mtp_layers > 0) d->mtp_layers = s->mtp_layers;
    else if (s->num_layers > 0 && d->mtp_layers > 0) d->mtp_layers = 0;
    if (d->head_dim > 0 && s->q_rows > 0 && d->num_heads > 0 && d->kv_lora_rank <= 0 && s->q_rows != d->num_heads * d->head_dim)
        ok &= json_push_fmt(ar, w, "config says %" PRId64 " heads x head_dim %" PRId64 " = %" PRId64 " but q_proj has %" PRId64 " rows",
                           d->num_heads, d->head_dim, d->num_heads * d->head_dim, s->q_rows);
    if (d->head_dim > 0 && s->kv_rows > 0 && d->num_kv_heads > 0 && d->kv_lora_rank <= 0 &&
        s->kv_rows != d->num_kv_heads * d->head_dim)
        ok &= json_push_fmt(ar, w, "config says %" PRId64 " KV heads x head_dim %" PRId64 " but k_proj has %" PRId64 " rows",
                           d->num_kv_heads, d->head_dim, s->kv_rows);
    if (s->head_dim > 0 && d->head_dim > 0 && s->head_dim != d->head_dim && d->kv_lora_rank <= 0)
        ok &= json_push_fmt(ar, w, "config head_dim is %" PRId64 " but the q_norm weight has %" PRId64 " entries",
                           d->head_dim, s->head_dim);
    if (d->head_dim < 0) d->head_dim = s->head_dim;
    if (d->num_heads < 0) d->num_heads = s->num_heads;
    if (d->num_kv_heads < 0) d->num_kv_heads = s->num_kv_heads;
    /* dense MLP width: only comparable when the checkpoint has dense layers */
    int64_t dense_f = d->dense_intermediate_size > 0 ? d->dense_intermediate_size : d->intermediate_size;
    if (s->intermediate_size > 0 && dense_f > 0 && s->intermediate_size != dense_f &&
        !(d->n_routed_experts > 0 && s->intermediate_size == d->moe_intermediate_size))
        ok &= json_push_fmt(ar, w, "config intermediate_size is %" PRId64 " but the dense MLP has width %" PRId64, dense_f,
                           s->intermediate_size);
    if (s->intermediate_min > 0 && s->intermediate_min != s->intermediate_size)
        ok &= json_push_fmt(ar, w, "dense MLP width varies across layers (%" PRId64 " to %" PRId64 ")", s->intermediate_min,
                           s->intermediate_size);
    if (d->intermediate_size < 0) d->intermediate_size = s->intermediate_size;
    d->intermediate_min = s->intermediate_min;
    if (s->n_routed_experts > 0 || d->n_routed_experts > 0) {
        if (s->n_routed_experts < 0 && s->num_layers > 0)
            ok &= json_push_fmt(ar, w, "config declares %" PRId64 " routed experts but the checkpoint has no expert tensors",
                               d->n_routed_experts);
        ok &= reconcile_field(&d->n_routed_experts, s->n_routed_experts, "number of routed experts", ar, w);
        ok &= reconcile_field(&d->moe_intermediate_size, s->moe_intermediate_size, "moe_intermediate_size", ar, w);
        if (s->moe_layers > 0 && d->num_layers > 0) {
            int64_t declared_moe = 0;
            for (int64_t L = 0; L < d->num_layers; L++) declared_moe += arch_layer_is_moe(d, L);
            if (declared_moe != s->moe_layers)
                ok &= json_push_fmt(ar, w, "config layout implies %" PRId64 " MoE layers but the checkpoint has %" PRId64,
                                   declared_moe, s->moe_layers);
        }
        d->moe_layers = s->moe_layers;
    }
    if (s->tied_embeddings >= 0 && d->tied_embeddings >= 0 && s->tied_embeddings != d->tied_embeddings)
        ok &= json_push_fmt(ar, w, "config says tie_word_embeddings=%s but the checkpoint %s a separate lm_head",
                           d->tied_embeddings ? "true" : "false", s->tied_embeddings ? "has no" : "has");
    if (s->tied_embeddings >= 0) d->tied_embeddings = s->tied_embeddings;
    if (s->learned_positions > 0) d->learned_positions = s->learned_positions;
    d->q_rows = s->q_rows;
    d->kv_rows = s->kv_rows;
    if (d->kv_lora_rank < 0) d->kv_lora_rank = s->kv_lora_rank;
    if (d->q_lora_rank < 0 && s->kv_lora_rank > 0) d->q_lora_rank = s->q_lora_rank > 0 ? s->q_lora_rank : 0;
    return ok;
}

/* Naming schemes, most specific first: a marker substring and the scheme it identifies. */
const char *arch_naming_scheme(const lineage_model *m, const char **prefix_out)
{
    static const char *const markers[][2] = {
        {"token_embd.weight", "gguf"}, {"blk.0.", "gguf"},
        {"mlp.experts.gate_up_proj_blocks", "gpt-oss"}, {"feed_forward.experts.gate_up_proj", "llama4"},
        {"kv_a_proj_with_mqa", "deepseek"}, {"block_sparse_moe", "hf-mixtral"},
        {"mlp.shared_expert.", "hf-qwen2-moe"}, {"mlp.shared_experts.", "deepseek-moe"}, {"mlp.experts.0.", "hf-qwen-moe"},
        {"attn.attention.q_proj", "exaone"}, {"attn.c_attn", "gpt2"}, {"attention.query_key_value", "neox"},
        {"self_attention.query_key_value", "bloom/falcon"}, {"self_attn.qkv_proj", "hf-phi3"},
        {"attention.wq", "meta-llama"}, {"self_attn.q_proj", "hf-llama"}, {NULL, NULL}};
    if (prefix_out) *prefix_out = NULL;
    for (int k = 0; markers[k][0]; k++) {
        for (size_t i = 0; i < m->ntensors; i++) {
            const char *n = m->tensors[i].info.name;
            const char *hit = strstr(n, markers[k][0]);
            if (!hit || m->tensors[i].info.component != LINEAGE_COMPONENT_TEXT) continue;
            if (prefix_out) {
                /* a wrapper prefix such as "language_model." before "model.layers" */
                const char *lm = strstr(n, "language_model.");
                *prefix_out = lm == n ? "language_model." : (!strncmp(n, "model.language_model.", 21) ? "model.language_model." : NULL);
            }
            return markers[k][1];
        }
    }
    return m->ntensors ? "unknown" : "none";
}
