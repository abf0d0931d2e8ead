/* infer_open: the normalized architecture (arch_of_model) and the config's family-specific keys
 * become a per-layer weight plan: tensors found by role, slices of fused or stacked tensors, small
 * vectors (norms, biases) read once as f32, RoPE frequencies, and the f32 cache when it fits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/arch.h"
#include "format/gguf.h"
#include "infer/engine.h"
#include "util/error.h"

#define MAX_EXPERTS 1024
#define DEFAULT_CACHE (4ull << 30)

static const char *const supported[] = {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe",
                                        "deepseek_v2", "deepseek_v3", "glm4_moe", "solar_open", "gemma", "gemma2",
                                        "gemma3", "phi3", "hyperclovax", NULL};

static lineage_status unsupported(const infer_model *im, lineage_error *err, const char *what)
{
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: cannot run this model: %s", lineage_model_path(im->m), what);
}

static float *own(infer_model *im, size_t n)
{
    if (im->nowned == im->owned_cap) {
        size_t cap = im->owned_cap ? im->owned_cap * 2 : 64;
        float **p = realloc(im->owned, cap * sizeof *p);
        if (!p) return NULL;
        im->owned = p;
        im->owned_cap = cap;
    }
    float *v = calloc(n ? n : 1, sizeof *v);
    if (v) im->owned[im->nowned++] = v;
    return v;
}

static long role(const infer_model *im, const char *r, int layer, int expert)
{
    return lineage_model_find_role(im->m, LINEAGE_COMPONENT_TEXT, r, layer, expert);
}

/* The tensor of layer l whose name ends with suffix (Gemma-2/3 norms share roles), or -1. */
static long by_suffix(const infer_model *im, int layer, const char *suffix)
{
    size_t sl = strlen(suffix);
    for (size_t i = 0; i < lineage_model_tensor_count(im->m); i++) {
        const lineage_tensor_info *t = lineage_model_tensor(im->m, i);
        size_t nl = strlen(t->name);
        if (t->layer == layer && t->component == LINEAGE_COMPONENT_TEXT && nl > sl && !strcmp(t->name + nl - sl, suffix))
            return (long)i;
    }
    return -1;
}

static const lineage_tensor_info *tinfo(const infer_model *im, long t) { return lineage_model_tensor(im->m, (size_t)t); }

/* A weight of `rows` x `cols` at rows [row0, row0+rows) of tensor t. */
static lineage_status wref_make(infer_model *im, long t, uint64_t row0, uint64_t rows, uint64_t cols, wref *out,
                                lineage_error *err)
{
    const lineage_tensor_info *in = tinfo(im, t);
    if (in->cols != cols || row0 > in->rows || rows > in->rows - row0 || rows == 0)
        return error_set(err, LINEAGE_E_FORMAT, "%s: '%s' has shape %llux%llu, expected rows %llu..%llu of width %llu",
                         lineage_model_path(im->m), in->name, (unsigned long long)in->rows,
                         (unsigned long long)in->cols, (unsigned long long)row0,
                         (unsigned long long)(row0 + rows), (unsigned long long)cols);
    *out = (wref){t, row0, rows, cols, NULL, NULL, NULL};
    uint64_t bytes = in->rows ? in->nbytes / in->rows * rows : 0;
    im->weight_bytes += bytes;
    return LINEAGE_OK;
}

static lineage_status need(infer_model *im, const char *r, int layer, int expert, uint64_t rows, uint64_t cols,
                           wref *out, lineage_error *err)
{
    long t = role(im, r, layer, expert);
    if (t < 0) {
        char what[96];
        snprintf(what, sizeof what, "no %s tensor for layer %d", r, layer);
        return unsupported(im, err, what);
    }
    return wref_make(im, t, 0, rows, cols, out, err);
}

/* A 1-D vector of n values (norm weight, bias) as f32; *out NULL when t < 0. */
static lineage_status vec(infer_model *im, long t, uint64_t n, float **out, lineage_error *err)
{
    *out = NULL;
    if (t < 0) return LINEAGE_OK;
    const lineage_tensor_info *in = tinfo(im, t);
    if (in->numel != n)
        return error_set(err, LINEAGE_E_FORMAT, "%s: '%s' has %llu values, expected %llu", lineage_model_path(im->m),
                         in->name, (unsigned long long)in->numel, (unsigned long long)n);
    float *v = own(im, (size_t)n);
    if (!v) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", lineage_model_path(im->m));
    lineage_status st = lineage_tensor_read_rows_f32(im->m, (size_t)t, 0, in->rows, v, err);
    if (st) return st;
    *out = v;
    return LINEAGE_OK;
}

static lineage_status vec_role(infer_model *im, const char *r, int layer, uint64_t n, float **out, lineage_error *err)
{
    return vec(im, role(im, r, layer, -1), n, out, err);
}

/* Gate, up and down of one MLP: separate tensors, a fused gate_up, or slices of stacked experts. */
static lineage_status mlp_plan(infer_model *im, const char *prefix, int layer, int expert, int n_experts,
                               uint64_t width, int gated, mlp_w *w, lineage_error *err)
{
    char gr[48], ur[48], dr[48], gur[48];
    snprintf(gr, sizeof gr, "%s_gate", prefix);
    snprintf(ur, sizeof ur, "%s_up", prefix);
    snprintf(dr, sizeof dr, "%s_down", prefix);
    snprintf(gur, sizeof gur, "%s_gate_up", prefix);
    uint64_t h = im->hidden;
    memset(w, 0, sizeof *w);
    w->gate.t = -1;
    w->width = (size_t)width;
    lineage_status st;
    long up = role(im, ur, layer, expert), gate = role(im, gr, layer, expert), down = role(im, dr, layer, expert);
    long gu = role(im, gur, layer, expert);
    uint64_t off = 0;
    if (expert >= 0 && down < 0) {   /* stacked [E, out, in] */
        up = role(im, ur, layer, -1);
        gate = role(im, gr, layer, -1);
        down = role(im, dr, layer, -1);
        gu = role(im, gur, layer, -1);
        off = (uint64_t)expert;
        if (down >= 0 && (tinfo(im, down)->ndim != 3 || tinfo(im, down)->shape[0] != (uint64_t)n_experts))
            return unsupported(im, err, "stacked expert tensors of an unexpected shape");
    }
    if (down < 0 || (up < 0 && gu < 0)) {
        char what[96];
        snprintf(what, sizeof what, "no %s tensors for layer %d", prefix, layer);
        return unsupported(im, err, what);
    }
    if ((st = wref_make(im, down, off * h, h, width, &w->down, err))) return st;
    if (gu >= 0 && up < 0) {
        if ((st = wref_make(im, gu, off * 2 * width, width, h, &w->gate, err))) return st;
        return wref_make(im, gu, off * 2 * width + width, width, h, &w->up, err);
    }
    if ((st = wref_make(im, up, off * width, width, h, &w->up, err))) return st;
    if (gate >= 0 && (st = wref_make(im, gate, off * width, width, h, &w->gate, err))) return st;
    if (gated && gate < 0) return unsupported(im, err, "a gated MLP without its gate projection");
    if (expert < 0 && !strcmp(prefix, "mlp")) {
        if ((st = vec_role(im, "mlp_up_bias", layer, width, &w->up_b, err))) return st;
        if ((st = vec_role(im, "mlp_gate_bias", layer, width, &w->gate_b, err))) return st;
        if ((st = vec_role(im, "mlp_down_bias", layer, h, &w->down_b, err))) return st;
    }
    return LINEAGE_OK;
}

static double cfg_double(const json_value *o, const char *key, double dflt)
{
    double d;
    return json_get_double(o, key, &d) ? d : dflt;
}

static double yarn_mscale(double scale, double m)
{
    return scale <= 1 ? 1.0 : 0.1 * m * log(scale) + 1.0;
}

static double yarn_correction(double rots, double dim, double base, double max_pos)
{
    return dim * log(max_pos / (rots * 2 * M_PI)) / (2 * log(base));
}

/* RoPE set from theta and a rope_scaling object (NULL: default). */
static lineage_status rope_plan(infer_model *im, rope_set *r, double theta, const json_value *sc, int64_t max_pos,
                                lineage_error *err)
{
    size_t half = im->rot_dim / 2, dim = im->rot_dim;
    r->theta = theta;
    r->attn_factor = 1.0;
    r->inv_freq = own(im, half);
    if (!r->inv_freq) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", lineage_model_path(im->m));
    rope_frequencies(r, dim, 0, r->inv_freq);
    const char *type = sc ? json_get_string(sc, "rope_type") : NULL;
    if (!type && sc) type = json_get_string(sc, "type");
    if (!type || !strcmp(type, "default")) return LINEAGE_OK;
    double factor = cfg_double(sc, "factor", 1.0);
    int64_t orig = -1;
    if (!json_get_int(sc, "original_max_position_embeddings", &orig)) orig = max_pos;
    r->factor = factor;
    r->original_max = orig;
    if (!strcmp(type, "linear")) {
        for (size_t i = 0; i < half; i++) r->inv_freq[i] = (float)(r->inv_freq[i] / factor);
    } else if (!strcmp(type, "dynamic")) {
        r->dynamic = 1;
        if (!json_get_int(sc, "original_max_position_embeddings", &orig)) r->original_max = max_pos;
    } else if (!strcmp(type, "llama3")) {
        double lo = cfg_double(sc, "low_freq_factor", 1.0), hi = cfg_double(sc, "high_freq_factor", 4.0);
        double lo_wl = (double)orig / lo, hi_wl = (double)orig / hi;
        for (size_t i = 0; i < half; i++) {
            double f = r->inv_freq[i], wl = 2 * M_PI / f;
            if (wl > lo_wl) f = f / factor;
            else if (wl >= hi_wl) {
                double smooth = ((double)orig / wl - lo) / (hi - lo);
                f = (1 - smooth) * f / factor + smooth * f;
            }
            r->inv_freq[i] = (float)f;
        }
    } else if (!strcmp(type, "yarn")) {
        double beta_fast = cfg_double(sc, "beta_fast", 32), beta_slow = cfg_double(sc, "beta_slow", 1);
        double mscale = cfg_double(sc, "mscale", 0), mscale_all = cfg_double(sc, "mscale_all_dim", 0);
        double af;
        if (json_get_double(sc, "attention_factor", &af)) r->attn_factor = af;
        else if (mscale != 0 && mscale_all != 0) r->attn_factor = yarn_mscale(factor, mscale) / yarn_mscale(factor, mscale_all);
        else r->attn_factor = yarn_mscale(factor, 1.0);
        int truncate = 1;
        json_get_bool(sc, "truncate", &truncate);
        double low = yarn_correction(beta_fast, (double)dim, theta, (double)orig);
        double high = yarn_correction(beta_slow, (double)dim, theta, (double)orig);
        if (truncate) { low = floor(low); high = ceil(high); }
        if (low < 0) low = 0;
        if (high > (double)dim - 1) high = (double)dim - 1;
        if (low == high) high += 0.001;
        for (size_t i = 0; i < half; i++) {
            double pos_freq = pow(theta, (double)(2 * i) / (double)dim);
            double extra = 1.0 / pos_freq, inter = 1.0 / (factor * pos_freq);
            double ramp = ((double)i - low) / (high - low);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            double extra_factor = 1 - ramp;
            r->inv_freq[i] = (float)(inter * (1 - extra_factor) + extra * extra_factor);
        }
    } else {
        char what[96];
        snprintf(what, sizeof what, "RoPE scaling '%s' is not implemented", type);
        return unsupported(im, err, what);
    }
    return LINEAGE_OK;
}

static act_kind act_of(const char *s, int gemma)
{
    if (!s) return gemma ? ACT_GELU_TANH : ACT_SILU;
    if (!strcmp(s, "silu") || !strcmp(s, "swish")) return ACT_SILU;
    if (!strcmp(s, "relu")) return ACT_RELU;
    if (!strcmp(s, "gelu") && !gemma) return ACT_GELU;
    return ACT_GELU_TANH;   /* gelu_pytorch_tanh, gelu_new, gelu_fast; Gemma's "gelu" means the tanh form */
}

static int gguf_float(const lineage_model *m, const char *key, double *out)
{
    if (!m->gguf) return 0;
    char full[160];
    snprintf(full, sizeof full, "%s.%s", gguf_architecture(m->gguf), key);
    return gguf_get_float(m->gguf, full, out);
}

static int gguf_int(const lineage_model *m, const char *key, int64_t *out)
{
    if (!m->gguf) return 0;
    char full[160];
    snprintf(full, sizeof full, "%s.%s", gguf_architecture(m->gguf), key);
    return gguf_get_int(m->gguf, full, out);
}

/* Which layers attend through the sliding window: the architecture description decides. */
static void sliding_plan(infer_model *im, const arch_info *a)
{
    im->window = a->sliding_window;
    for (int l = 0; l < im->n_layers; l++) im->layers[l].sliding = arch_layer_is_sliding(a, l);
}

static lineage_status layer_plan_make(infer_model *im, const arch_info *a, int l, lineage_error *err)
{
    layer_plan *L = &im->layers[l];
    L->router.t = L->shared_gate.t = L->dense.gate.t = L->shared.gate.t = -1;
    uint64_t h = im->hidden, hd = im->head_dim, qr = im->n_heads * hd, kr = im->n_kv * hd;
    lineage_status st;
    int gemma_hf = im->gemma_norms4 && !im->m->gguf;
    if ((st = vec_role(im, "attn_norm", l, h, &L->attn_norm, err))) return st;
    if (gemma_hf) {   /* Gemma-2/3 name their four norms apart; the role table merges two */
        if ((st = vec(im, by_suffix(im, l, ".post_attention_layernorm.weight"), h, &L->attn_post_norm, err))) return st;
        if ((st = vec(im, by_suffix(im, l, ".pre_feedforward_layernorm.weight"), h, &L->mlp_norm, err))) return st;
        if ((st = vec(im, by_suffix(im, l, ".post_feedforward_layernorm.weight"), h, &L->mlp_post_norm, err))) return st;
    } else {
        if ((st = vec_role(im, "mlp_norm", l, h, &L->mlp_norm, err))) return st;
        if ((st = vec_role(im, "attn_post_norm", l, h, &L->attn_post_norm, err))) return st;
        if ((st = vec_role(im, "mlp_post_norm", l, h, &L->mlp_post_norm, err))) return st;
    }
    if (!L->attn_norm || !L->mlp_norm) return unsupported(im, err, "a layer without its attention or MLP norm");
    if (im->gemma_norms4 && (!L->attn_post_norm || !L->mlp_post_norm))
        return unsupported(im, err, "a Gemma-2/3 layer without its post-norms");
    if ((st = vec_role(im, "attn_q_norm", l, hd, &L->q_norm, err))) return st;
    if ((st = vec_role(im, "attn_k_norm", l, hd, &L->k_norm, err))) return st;
    L->q_a.t = L->q_bp.t = L->kv_a.t = L->kv_b.t = -1;
    if (im->mla) {
        uint64_t nh = im->n_heads, rope = im->rot_dim;
        if (im->q_lora) {
            if ((st = need(im, "attn_q_a", l, -1, im->q_lora, h, &L->q_a, err)) ||
                (st = vec_role(im, "attn_q_a_norm", l, im->q_lora, &L->q_a_norm, err)) ||
                (st = need(im, "attn_q_b", l, -1, qr, im->q_lora, &L->q_bp, err)))
                return st;
        } else if ((st = need(im, "attn_q", l, -1, qr, h, &L->q, err))) return st;
        if ((st = need(im, "attn_kv_a", l, -1, im->kv_lora + rope, h, &L->kv_a, err)) ||
            (st = vec_role(im, "attn_kv_a_norm", l, im->kv_lora, &L->kv_a_norm, err)) ||
            (st = need(im, "attn_kv_b", l, -1, nh * (im->qk_nope + im->v_dim), im->kv_lora, &L->kv_b, err)) ||
            (st = need(im, "attn_o", l, -1, h, nh * im->v_dim, &L->o, err)))
            return st;
        if (!L->q_a_norm && im->q_lora) return unsupported(im, err, "an MLA layer without its q_a norm");
        if (!L->kv_a_norm) return unsupported(im, err, "an MLA layer without its kv_a norm");
    }
    long qkv = role(im, "attn_qkv", l, -1);
    if (im->mla) {
        /* done above */
    } else if (qkv >= 0 && role(im, "attn_q", l, -1) < 0) {
        if ((st = wref_make(im, qkv, 0, qr, h, &L->q, err)) || (st = wref_make(im, qkv, qr, kr, h, &L->k, err)) ||
            (st = wref_make(im, qkv, qr + kr, kr, h, &L->v, err)))
            return st;
        float *b;
        if ((st = vec(im, role(im, "attn_qkv_bias", l, -1), qr + 2 * kr, &b, err))) return st;
        if (b) { L->q_b = b; L->k_b = b + qr; L->v_b = b + qr + kr; }
    } else {
        if ((st = need(im, "attn_q", l, -1, qr, h, &L->q, err)) || (st = need(im, "attn_k", l, -1, kr, h, &L->k, err)) ||
            (st = need(im, "attn_v", l, -1, kr, h, &L->v, err)))
            return st;
        if ((st = vec_role(im, "attn_q_bias", l, qr, &L->q_b, err)) || (st = vec_role(im, "attn_k_bias", l, kr, &L->k_b, err)) ||
            (st = vec_role(im, "attn_v_bias", l, kr, &L->v_b, err)))
            return st;
    }
    if (!im->mla && (st = need(im, "attn_o", l, -1, h, qr, &L->o, err))) return st;
    if ((st = vec_role(im, "attn_o_bias", l, h, &L->o_b, err))) return st;
    long router = role(im, "router", l, -1);
    L->moe = router >= 0 && a->n_routed_experts > 0 && arch_layer_is_moe(a, l);
    if (!L->moe) {
        long down = role(im, "mlp_down", l, -1);
        if (down < 0) return unsupported(im, err, "a layer without its MLP down projection");
        return mlp_plan(im, "mlp", l, -1, 0, tinfo(im, down)->cols, a->gated_mlp != 0, &L->dense, err);
    }
    int E = (int)a->n_routed_experts;
    if (E > MAX_EXPERTS || a->experts_per_token <= 0 || a->experts_per_token > E)
        return unsupported(im, err, "an expert count or top-k out of range");
    if ((st = wref_make(im, router, 0, (uint64_t)E, h, &L->router, err))) return st;
    if ((st = vec(im, role(im, "router_bias", l, -1), (uint64_t)E, &L->router_bias, err))) return st;
    L->n_experts = E;
    L->experts = calloc((size_t)E, sizeof *L->experts);
    if (!L->experts) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", lineage_model_path(im->m));
    /* expert width from the down projection's shape (configs and fixtures disagree on the key) */
    long ed = role(im, "expert_down", l, 0);
    if (ed < 0) ed = role(im, "expert_down", l, -1);
    uint64_t ew = ed >= 0 ? tinfo(im, ed)->cols
                          : (uint64_t)(a->moe_intermediate_size > 0 ? a->moe_intermediate_size : a->intermediate_size);
    for (int e = 0; e < E; e++)
        if ((st = mlp_plan(im, "expert", l, e, E, ew, 1, &L->experts[e], err))) return st;
    if (role(im, "shared_expert_down", l, -1) >= 0) {
        uint64_t sw = tinfo(im, role(im, "shared_expert_down", l, -1))->cols;
        if ((st = mlp_plan(im, "shared_expert", l, -1, 0, sw, 1, &L->shared, err))) return st;
        long sg = role(im, "shared_expert_router", l, -1);
        L->shared_gate.t = -1;
        if (sg >= 0 && (st = wref_make(im, sg, 0, 1, h, &L->shared_gate, err))) return st;
    } else L->shared_gate.t = -1;
    return LINEAGE_OK;
}

static void routing_plan(infer_model *im, const arch_info *a, const json_value *cfg)
{
    const char *f = im->family;
    im->top_k = (int)a->experts_per_token;
    im->deepseek_routing = !strncmp(f, "deepseek", 8) || !strcmp(f, "glm4_moe") || !strcmp(f, "solar_open");
    im->norm_topk = !strcmp(f, "mixtral") || !strcmp(f, "deepseek_v3") || !strcmp(f, "glm4_moe") ||
                    !strcmp(f, "solar_open");
    im->scoring = SCORE_SOFTMAX;
    im->n_group = im->topk_group = 1;
    im->routed_scale = 1.0;
    int b;
    int64_t v;
    if (cfg && json_get_bool(cfg, "norm_topk_prob", &b)) im->norm_topk = b;
    if (cfg && json_get_double(cfg, "routed_scaling_factor", &im->routed_scale)) {}
    if (cfg && json_get_int(cfg, "n_group", &v) && v > 0) im->n_group = (int)v;
    if (cfg && json_get_int(cfg, "topk_group", &v) && v > 0) im->topk_group = (int)v;
    const char *sf = cfg ? json_get_string(cfg, "scoring_func") : NULL;
    if (sf) im->scoring = !strcmp(sf, "sigmoid") ? SCORE_SIGMOID : SCORE_SOFTMAX;
    else if (im->deepseek_routing && a->router_bias) im->scoring = SCORE_SIGMOID;
    if (!cfg && im->m->gguf) {
        double d;
        if (gguf_int(im->m, "expert_gating_func", &v)) im->scoring = v == 2 ? SCORE_SIGMOID : SCORE_SOFTMAX;
        if (gguf_int(im->m, "expert_weights_norm", &v)) im->norm_topk = v != 0;
        if (gguf_float(im->m, "expert_weights_scale", &d) && d > 0) im->routed_scale = d;
        if (gguf_int(im->m, "expert_group_count", &v) && v > 0) im->n_group = (int)v;
        if (gguf_int(im->m, "expert_group_used_count", &v) && v > 0) im->topk_group = (int)v;
    }
}

static lineage_status plan(infer_model *im, const infer_options *opt, lineage_error *err)
{
    const lineage_model *m = im->m;
    arena ar;
    arena_init(&ar, 0);
    arch_info a;
    int ok = arch_of_model(m, &a, &ar, NULL);
    arena_free(&ar);
    if (!ok) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", lineage_model_path(m));
    if (lineage_model_tensor_count(m) == 0) return unsupported(im, err, "no weights (a config-only folder)");
    snprintf(im->family, sizeof im->family, "%s", a.family ? a.family : "generic");
    int known = 0;
    for (int i = 0; supported[i]; i++) known |= !strcmp(im->family, supported[i]);
    if (!known) {
        char what[96];
        snprintf(what, sizeof what, "family '%s' is not supported by the engine", a.model_type ? a.model_type : im->family);
        return unsupported(im, err, what);
    }
    if (a.hidden_size <= 0 || a.num_layers <= 0 || a.num_heads <= 0 || a.num_kv_heads <= 0 || a.head_dim <= 0 ||
        a.num_heads % a.num_kv_heads || a.hidden_size > (1 << 20) || a.num_layers > 4096 || a.head_dim > 4096 ||
        a.num_heads > 4096)
        return unsupported(im, err, "incomplete or out-of-range attention dimensions");
    const json_value *cfg = m->config ? arch_text_config(m->config) : NULL;
    const char *f = im->family;
    int gemma = !strncmp(f, "gemma", 5);
    im->hidden = (size_t)a.hidden_size;
    im->n_layers = (int)a.num_layers;
    im->n_heads = (size_t)a.num_heads;
    im->n_kv = (size_t)a.num_kv_heads;
    im->head_dim = (size_t)a.head_dim;
    double prf = isnan(a.partial_rotary_factor) ? 1.0 : a.partial_rotary_factor;
    im->rot_dim = (size_t)((double)im->head_dim * prf) / 2 * 2;
    im->v_dim = im->head_dim;
    if (a.kv_lora_rank > 0) {   /* MLA: heads are [nope | rope] wide; every head has its own keys and values */
        if (a.qk_nope_head_dim < 0 || a.qk_rope_head_dim <= 0 || a.v_head_dim <= 0 || a.kv_lora_rank > (1 << 20) ||
            a.q_lora_rank > (1 << 20) || a.qk_rope_head_dim % 2)
            return unsupported(im, err, "incomplete multi-head latent attention dimensions");
        im->mla = 1;
        im->qk_nope = (size_t)a.qk_nope_head_dim;
        im->head_dim = (size_t)(a.qk_nope_head_dim + a.qk_rope_head_dim);
        im->rot_dim = (size_t)a.qk_rope_head_dim;
        im->v_dim = (size_t)a.v_head_dim;
        im->n_kv = im->n_heads;
        im->kv_lora = (size_t)a.kv_lora_rank;
        im->q_lora = a.q_lora_rank > 0 ? (size_t)a.q_lora_rank : 0;
    }
    if (im->rot_dim == 0 || im->rot_dim > im->head_dim) return unsupported(im, err, "a rotary dimension out of range");
    im->eps = isnan(a.norm_eps) ? 1e-6 : a.norm_eps;
    im->gemma_norms4 = !strcmp(f, "gemma2") || !strcmp(f, "gemma3") || a.norms_per_layer == 4;
    im->norm_plus_one = gemma && !m->gguf;   /* llama.cpp stores Gemma norms with the 1 added */
    im->act = act_of(a.activation, gemma);
    double qpas = NAN;
    if (cfg) json_get_double(cfg, "query_pre_attn_scalar", &qpas);
    im->attn_scale = 1.0 / sqrt(isnan(qpas) ? (double)im->head_dim : qpas);
    const json_value *rsc = a.rope_scaling;
    double mad = rsc ? cfg_double(rsc, "mscale_all_dim", 0) : 0;
    if (im->mla && mad != 0) {   /* DeepSeek yarn: the softmax scale grows with mscale_all_dim squared */
        double ms = yarn_mscale(cfg_double(rsc, "factor", 1.0), mad);
        im->attn_scale *= ms * ms;
    }
    im->attn_softcap = cfg ? cfg_double(cfg, "attn_logit_softcapping", 0) : 0;
    im->final_softcap = cfg ? cfg_double(cfg, "final_logit_softcapping", 0) : 0;
    if (!cfg) {
        gguf_float(m, "attn_logit_softcapping", &im->attn_softcap);
        gguf_float(m, "final_logit_softcapping", &im->final_softcap);
    }
    if (!(im->attn_softcap > 0)) im->attn_softcap = 0;
    if (!(im->final_softcap > 0)) im->final_softcap = 0;
    im->embed_scale = gemma ? (double)(float)sqrt((double)im->hidden) : 1.0;
    int64_t maxpos = a.max_positions > 0 ? a.max_positions : 8192;
    im->max_context = opt && opt->max_context ? opt->max_context : (size_t)(maxpos < 8192 ? maxpos : 8192);

    lineage_status st;
    long emb = role(im, "embed", -1, -1);
    if (emb < 0) return unsupported(im, err, "no token embedding tensor");
    uint64_t vocab_rows = tinfo(im, emb)->rows;
    if ((st = wref_make(im, emb, 0, vocab_rows, im->hidden, &im->embed, err))) return st;
    im->weight_bytes = 0;   /* one embedding row per token: not counted */
    long head = role(im, "lm_head", -1, -1);
    if (head < 0) head = emb;   /* tied */
    if ((st = wref_make(im, head, 0, tinfo(im, head)->rows, im->hidden, &im->lm_head, err))) return st;
    im->vocab = (size_t)im->lm_head.rows;
    if ((st = vec_role(im, "final_norm", -1, im->hidden, &im->final_norm, err))) return st;
    if (!im->final_norm) return unsupported(im, err, "no final norm");
    if ((st = vec_role(im, "lm_head_bias", -1, im->vocab, &im->lm_head_b, err))) return st;

    double theta = isnan(a.rope_theta) ? 10000.0 : a.rope_theta;
    if ((st = rope_plan(im, &im->rope[0], theta, a.rope_scaling, maxpos, err))) return st;
    if (!cfg && m->gguf && a.rope_scaling_type && strcmp(a.rope_scaling_type, "none")) {
        if (!strcmp(a.rope_scaling_type, "linear") && a.rope_factor > 0)
            for (size_t i = 0; i < im->rot_dim / 2; i++) im->rope[0].inv_freq[i] /= (float)a.rope_factor;
        else if (strcmp(a.rope_scaling_type, "linear")) return unsupported(im, err, "GGUF RoPE scaling other than linear");
    }
    double local_theta = !isnan(a.rope_local_theta) ? a.rope_local_theta : !strcmp(f, "gemma3") ? 10000.0 : theta;
    if ((st = rope_plan(im, &im->rope[1], local_theta, NULL, maxpos, err))) return st;

    im->layers = calloc((size_t)im->n_layers, sizeof *im->layers);
    if (!im->layers) return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", lineage_model_path(m));
    routing_plan(im, &a, cfg);
    for (int l = 0; l < im->n_layers; l++)
        if ((st = layer_plan_make(im, &a, l, err))) return st;
    sliding_plan(im, &a);
    for (int l = 0; l < im->n_layers; l++) {
        /* Gemma-3: local layers use their own base frequency and no scaling */
        im->layers[l].rope_kind = !strcmp(f, "gemma3") && im->layers[l].sliding ? 1 : 0;
        im->layers[l].inv_freq = im->rope[im->layers[l].rope_kind].inv_freq;
    }
    return LINEAGE_OK;
}

/* Every matmul weight of the plan, for caching and sizing. */
static size_t plan_weights(infer_model *im, wref **out, size_t cap)
{
    size_t n = 0;
#define ADD(w) do { if ((w).t >= 0 && (w).rows) { if (n < cap) out[n] = &(w); n++; } } while (0)
    ADD(im->lm_head);
    for (int l = 0; l < im->n_layers; l++) {
        layer_plan *L = &im->layers[l];
        ADD(L->q); ADD(L->k); ADD(L->v); ADD(L->o); ADD(L->q_a); ADD(L->q_bp); ADD(L->kv_a); ADD(L->kv_b);
        mlp_w *mlps[2] = {&L->dense, &L->shared};
        for (int i = 0; i < 2; i++)
            if (mlps[i]->width) { ADD(mlps[i]->gate); ADD(mlps[i]->up); ADD(mlps[i]->down); }
        if (L->moe) {
            ADD(L->router);
            ADD(L->shared_gate);
            for (int e = 0; e < L->n_experts; e++) {
                ADD(L->experts[e].gate); ADD(L->experts[e].up); ADD(L->experts[e].down);
            }
        }
    }
#undef ADD
    return n;
}

lineage_status infer_open(const lineage_model *m, const infer_options *opt, infer_model **out, lineage_error *err)
{
    *out = NULL;
    infer_model *im = calloc(1, sizeof *im);
    if (!im) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    im->m = m;
    im->embed.t = im->lm_head.t = -1;
    lineage_status st = plan(im, opt, err);
    if (!st) {
        size_t n = plan_weights(im, NULL, 0);
        wref **ws = calloc(n ? n : 1, sizeof *ws);
        if (!ws) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
        else {
            plan_weights(im, ws, n);
            uint64_t total = 0, maxk = im->hidden;
            for (size_t i = 0; i < n; i++) {
                total += mm_weight_bytes(im, ws[i]);
                if (ws[i]->cols > maxk) maxk = ws[i]->cols;
            }
            uint64_t budget = opt && opt->cache_bytes ? opt->cache_bytes : DEFAULT_CACHE;
            int threads = opt && opt->threads > 0 ? opt->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
            if (threads < 1) threads = 1;
            if (threads > 256) threads = 256;
            im->pool = pool_new(threads);
            im->scratch = im->pool ? calloc((size_t)pool_threads(im->pool), sizeof *im->scratch) : NULL;
            im->scratch_floats = 2 * 64 * (size_t)maxk;
            if (!im->pool || !im->scratch) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            for (int i = 0; !st && i < pool_threads(im->pool); i++)
                if (!(im->scratch[i] = malloc(im->scratch_floats * sizeof(float))))
                    st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
            /* all or nothing: no half-fast models; weights past the budget are converted per call */
            if (!st && total <= budget) st = mm_prepack(im, ws, n, err);
            free(ws);
        }
    }
    if (st) {
        infer_close(im);
        return st;
    }
    *out = im;
    return LINEAGE_OK;
}

static void wref_free(wref *w)
{
    w->packed = NULL;   /* inside im->arena */
    w->packed16 = NULL;
    w->q8 = NULL;
}

void infer_close(infer_model *im)
{
    if (!im) return;
    if (im->layers) {
        for (int l = 0; l < im->n_layers; l++) {
            layer_plan *L = &im->layers[l];
            wref *all[12] = {&L->q, &L->k, &L->v, &L->o, &L->router, &L->shared_gate, &L->q_a, &L->q_bp, &L->kv_a,
                             &L->kv_b, NULL, NULL};
            for (int i = 0; all[i]; i++) wref_free(all[i]);
            mlp_w *mlps[2] = {&L->dense, &L->shared};
            for (int i = 0; i < 2; i++) {
                wref_free(&mlps[i]->gate);
                wref_free(&mlps[i]->up);
                wref_free(&mlps[i]->down);
            }
            for (int e = 0; L->experts && e < L->n_experts; e++) {
                wref_free(&L->experts[e].gate);
                wref_free(&L->experts[e].up);
                wref_free(&L->experts[e].down);
            }
            free(L->experts);
        }
        free(im->layers);
    }
    wref_free(&im->lm_head);
    if (im->pool) {
        for (int i = 0; im->scratch && i < pool_threads(im->pool); i++) free(im->scratch[i]);
        pool_free(im->pool);
    }
    free(im->scratch);
    for (int i = 0; i < WORK_SLOTS; i++) free(im->work[i]);
    free(im->arena);
    for (size_t i = 0; i < im->nowned; i++) free(im->owned[i]);
    free(im->owned);
    free(im);
}

size_t infer_vocab(const infer_model *im) { return im->vocab; }
int infer_layers(const infer_model *im) { return im->n_layers; }
size_t infer_hidden(const infer_model *im) { return im->hidden; }
const char *infer_family(const infer_model *im) { return im->family; }

size_t infer_mlp_width(const infer_model *im, int layer)
{
    if (layer < 0 || layer >= im->n_layers) return 0;
    const layer_plan *L = &im->layers[layer];
    return L->moe ? (L->n_experts ? L->experts[0].width : 0) : L->dense.width;
}

int infer_experts(const infer_model *im, int layer)
{
    if (layer < 0 || layer >= im->n_layers) return 0;
    return im->layers[layer].moe ? im->layers[layer].n_experts : 0;
}
