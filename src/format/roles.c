#include "format/roles.h"
#include "util/strbuf.h"

#include <stdlib.h>
#include <string.h>

/* Component from path segments. Order matters: projector names often contain "vision". */
static lineage_component component_of(const char *name)
{
    static const char *const projector[] = {"multi_modal_projector", "mm_projector", "visual.merger",
                                            "vision_projection", "connector", "projector.", NULL};
    static const char *const vision[] = {"vision_tower", "vision_model", "visual.", "vision_encoder",
                                         "image_encoder", "vit.", "vision.", NULL};
    static const char *const audio[] = {"audio_tower", "audio_model", "audio_encoder", "whisper", NULL};
    for (int i = 0; projector[i]; i++) if (strstr(name, projector[i])) return LINEAGE_COMPONENT_PROJECTOR;
    for (int i = 0; vision[i]; i++) if (strstr(name, vision[i])) return LINEAGE_COMPONENT_VISION;
    for (int i = 0; audio[i]; i++) if (strstr(name, audio[i])) return LINEAGE_COMPONENT_AUDIO;
    return LINEAGE_COMPONENT_TEXT;
}

/* Finds ".<seg>.<N>." (or "<seg>.<N>." at the start) and returns N, setting *rest after it. */
static int index_after(const char *name, const char *seg, const char **rest)
{
    size_t sl = strlen(seg);
    for (const char *p = name; (p = strstr(p, seg)) != NULL; p++) {
        if (p != name && p[-1] != '.') continue;
        const char *q = p + sl;
        if (*q != '.') continue;
        q++;
        if (*q < '0' || *q > '9') continue;
        long v = 0;
        while (*q >= '0' && *q <= '9' && v < 1000000) v = v * 10 + (*q++ - '0');
        if (*q != '.' && *q != 0) continue;
        if (rest) *rest = *q ? q + 1 : q;
        return (int)v;
    }
    return -1;
}

typedef struct { const char *pattern; const char *role; } role_rule;

/* Matched in order against the part of the name after the layer (and expert) index. A pattern
 * matches when it equals a dotted segment sequence inside that part. */
static const role_rule shared_expert_rules[] = {
    {"gate_proj", "shared_expert_gate"}, {"up_proj", "shared_expert_up"}, {"down_proj", "shared_expert_down"},
    {"w1", "shared_expert_gate"}, {"w3", "shared_expert_up"}, {"w2", "shared_expert_down"},
    {"gate_up_proj", "shared_expert_gate_up"}, {NULL, NULL}};
static const role_rule expert_rules[] = {
    {"gate_proj", "expert_gate"}, {"up_proj", "expert_up"}, {"down_proj", "expert_down"},
    {"w1", "expert_gate"}, {"w3", "expert_up"}, {"w2", "expert_down"},
    {"gate_up_proj", "expert_gate_up"}, {"fc1", "expert_up"}, {"fc2", "expert_down"},
    {"linear", "expert_up"}, {"linear_1", "expert_down"}, {NULL, NULL}};
static const role_rule layer_rules[] = {
    /* multi-head latent attention (DeepSeek-V2/V3) */
    {"q_a_proj", "attn_q_a"}, {"q_b_proj", "attn_q_b"}, {"kv_a_proj_with_mqa", "attn_kv_a"},
    {"kv_b_proj", "attn_kv_b"}, {"q_a_layernorm", "attn_q_a_norm"}, {"kv_a_layernorm", "attn_kv_a_norm"},
    {"attn_q_a", "attn_q_a"}, {"attn_q_b", "attn_q_b"}, {"attn_kv_a_mqa", "attn_kv_a"},
    {"attn_kv_b", "attn_kv_b"}, {"attn_q_a_norm", "attn_q_a_norm"}, {"attn_kv_a_norm", "attn_kv_a_norm"},
    /* attention */
    {"q_norm", "attn_q_norm"}, {"k_norm", "attn_k_norm"}, {"attn_q_norm", "attn_q_norm"},
    {"attn_k_norm", "attn_k_norm"}, {"query_layernorm", "attn_q_norm"}, {"key_layernorm", "attn_k_norm"},
    {"q_proj", "attn_q"}, {"k_proj", "attn_k"}, {"v_proj", "attn_v"}, {"o_proj", "attn_o"},
    {"attn_q", "attn_q"}, {"attn_k", "attn_k"}, {"attn_v", "attn_v"}, {"attn_output", "attn_o"},
    {"wq", "attn_q"}, {"wk", "attn_k"}, {"wv", "attn_v"}, {"wo", "attn_o"},
    {"qkv_proj", "attn_qkv"}, {"query_key_value", "attn_qkv"}, {"c_attn", "attn_qkv"}, {"W_pack", "attn_qkv"},
    {"attn_qkv", "attn_qkv"}, {"Wqkv", "attn_qkv"}, {"attn.qkv", "attn_qkv"},
    {"attn.c_proj", "attn_o"}, {"attention.dense", "attn_o"}, {"self_attention.dense", "attn_o"},
    {"out_proj", "attn_o"}, {"attn.proj", "attn_o"}, {"sinks", "attn_sinks"},
    /* norms */
    {"input_layernorm", "attn_norm"}, {"ln_1", "attn_norm"}, {"attention_norm", "attn_norm"},
    {"attn_norm", "attn_norm"}, {"norm1", "attn_norm"}, {"layer_norm1", "attn_norm"},
    {"pre_feedforward_layernorm", "mlp_norm"}, {"post_feedforward_layernorm", "mlp_post_norm"},
    {"post_attention_layernorm", "mlp_norm"}, {"ln_2", "mlp_norm"}, {"ffn_norm", "mlp_norm"},
    {"norm2", "mlp_norm"}, {"layer_norm2", "mlp_norm"}, {"post_attention_norm", "attn_post_norm"},
    {"post_ffw_norm", "mlp_post_norm"}, {"post_ffn_norm", "mlp_post_norm"},
    /* MTP module pieces (DeepSeek-V3 / GLM-4.5) */
    {"enorm", "mtp_embed_norm"}, {"hnorm", "mtp_hidden_norm"}, {"eh_proj", "mtp_proj"},
    {"shared_head.norm", "final_norm"}, {"shared_head.head", "lm_head"}, {"embed_tokens", "embed"},
    /* routers */
    {"e_score_correction_bias", "router_bias"}, {"mlp.gate", "router"}, {"block_sparse_moe.gate", "router"},
    {"router", "router"}, {"ffn_gate_inp", "router"}, {"exp_probs_b", "router_bias"},
    /* GGUF stacked experts */
    {"ffn_gate_exps", "expert_gate"}, {"ffn_up_exps", "expert_up"}, {"ffn_down_exps", "expert_down"},
    {"ffn_gate_shexp", "shared_expert_gate"}, {"ffn_up_shexp", "shared_expert_up"},
    {"ffn_down_shexp", "shared_expert_down"}, {"shared_expert_gate", "shared_expert_router"},
    /* dense MLP */
    {"gate_up_proj", "mlp_gate_up"}, {"gate_proj", "mlp_gate"}, {"up_proj", "mlp_up"}, {"down_proj", "mlp_down"},
    {"ffn_gate", "mlp_gate"}, {"ffn_up", "mlp_up"}, {"ffn_down", "mlp_down"},
    {"w1", "mlp_gate"}, {"w3", "mlp_up"}, {"w2", "mlp_down"},
    {"c_fc_0", "mlp_gate"}, {"c_fc_1", "mlp_up"}, {"c_fc", "mlp_up"}, {"mlp.c_proj", "mlp_down"}, {"dense_h_to_4h", "mlp_up"}, {"dense_4h_to_h", "mlp_down"},
    {"fc1", "mlp_up"}, {"fc2", "mlp_down"}, {"mlp.proj", "mlp_down"},
    {NULL, NULL}};
static const role_rule global_rules[] = {
    {"embed_tokens", "embed"}, {"wte", "embed"}, {"embed_in", "embed"}, {"word_embeddings", "embed"},
    {"token_embd", "embed"}, {"tok_embeddings", "embed"}, {"wpe", "pos_embed"},
    {"embed_positions", "pos_embed"}, {"position_embedding", "pos_embed"}, {"patch_embed", "patch_embed"},
    {"lm_head", "lm_head"}, {"embed_out", "lm_head"}, {"output", "lm_head"},
    {"ln_f", "final_norm"}, {"final_layernorm", "final_norm"}, {"final_layer_norm", "final_norm"},
    {"output_norm", "final_norm"}, {"norm", "final_norm"}, {"post_layernorm", "final_norm"},
    {"word_embeddings_layernorm", "embed_norm"},
    {NULL, NULL}};

/* Does `pattern` occur in `s` on dotted-segment boundaries? */
static int segment_match(const char *s, const char *pattern)
{
    size_t pl = strlen(pattern);
    for (const char *p = s; (p = strstr(p, pattern)) != NULL; p++) {
        if (p != s && p[-1] != '.') continue;
        char after = p[pl];
        if (after == 0 || after == '.') return 1;
    }
    return 0;
}

static const char *match_rules(const char *s, const role_rule *rules)
{
    for (int i = 0; rules[i].pattern; i++)
        if (segment_match(s, rules[i].pattern)) return rules[i].role;
    return NULL;
}

static void classify(const char *name, int num_layers, int is_bias, tensor_role *out);

void role_classify(const char *name, int num_layers, tensor_role *out)
{
    /* gpt-oss stacks experts as "...experts.gate_up_proj_blocks" / "_bias": classify the name without
     * the suffix so the projection is recognized */
    size_t n = strlen(name);
    int blocks = str_ends_with(name, "_proj_blocks"), sbias = str_ends_with(name, "_proj_bias");
    if ((blocks || sbias) && n < 512) {
        char base[512];
        memcpy(base, name, n + 1);
        base[n - (blocks ? 7 : 5)] = 0;
        classify(base, num_layers, sbias, out);
        if (!strcmp(out->role, "other") && out->component == LINEAGE_COMPONENT_PROJECTOR) out->role = "projector";
        return;
    }
    classify(name, num_layers, str_ends_with(name, ".bias"), out);
    if (!strcmp(out->role, "other") && out->component == LINEAGE_COMPONENT_PROJECTOR) out->role = "projector";
}

static void classify(const char *name, int num_layers, int is_bias, tensor_role *out)
{
    out->role = "other";
    out->layer = -1;
    out->expert = -1;
    out->component = component_of(name);
    if (str_ends_with(name, "_scale_inv") || str_ends_with(name, ".weight_scale") || str_ends_with(name, ".input_scale") ||
        str_ends_with(name, "_blocks") || str_ends_with(name, "_scales")) {
        /* quantization companions: gpt-oss mxfp4 stores *_blocks / *_scales */
        if (!str_ends_with(name, "_blocks")) { out->role = "quant_scale"; return; }
    }
    const char *rest = NULL;
    int layer = index_after(name, "layers", &rest);
    if (layer < 0) layer = index_after(name, "h", &rest);
    if (layer < 0) layer = index_after(name, "blk", &rest);
    if (layer < 0) layer = index_after(name, "blocks", &rest);
    if (layer < 0) layer = index_after(name, "layer", &rest);
    const char *role = NULL;
    if (layer >= 0) {
        out->layer = layer;
        const char *erest = NULL;
        int expert = index_after(rest, "experts", &erest);
        if (segment_match(rest, "shared_experts") || segment_match(rest, "shared_expert") ||
            segment_match(rest, "shared_mlp")) {
            role = match_rules(rest, shared_expert_rules);
        } else if (expert >= 0) {
            out->expert = expert;
            role = match_rules(erest, expert_rules);
        } else if (segment_match(rest, "experts")) {
            /* stacked experts in one 3-D tensor (gpt-oss, Llama-4) */
            role = match_rules(rest, expert_rules);
        }
        if (!role) role = match_rules(rest, layer_rules);
        if (out->component == LINEAGE_COMPONENT_TEXT && num_layers > 0 && layer >= num_layers)
            out->component = LINEAGE_COMPONENT_MTP;
    } else {
        role = match_rules(name, global_rules);
    }
    if (!role) return;
    if (is_bias) {
        /* biases are low-information like norms; keep them apart from the weights */
        static const char *const bias_roles[][2] = {
            {"attn_q", "attn_q_bias"}, {"attn_k", "attn_k_bias"}, {"attn_v", "attn_v_bias"},
            {"attn_o", "attn_o_bias"}, {"attn_qkv", "attn_qkv_bias"}, {"mlp_up", "mlp_up_bias"},
            {"mlp_down", "mlp_down_bias"}, {"mlp_gate", "mlp_gate_bias"}, {"router", "router_bias"},
            {"expert_up", "expert_up_bias"}, {"expert_down", "expert_down_bias"},
            {"expert_gate_up", "expert_gate_up_bias"}, {"lm_head", "lm_head_bias"}};
        for (size_t i = 0; i < sizeof bias_roles / sizeof bias_roles[0]; i++)
            if (!strcmp(role, bias_roles[i][0])) { out->role = bias_roles[i][1]; return; }
        if (strstr(role, "norm")) { out->role = role; return; }  /* LayerNorm beta: still a norm */
        out->role = "other_bias";
        return;
    }
    out->role = role;
}

int role_is_low_information(const char *role)
{
    return strstr(role, "norm") != NULL || strstr(role, "bias") != NULL || !strcmp(role, "attn_sinks");
}

const char *lineage_component_name(lineage_component c)
{
    static const char *const names[] = {"text", "vision", "projector", "audio", "mtp"};
    return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "unknown";
}
