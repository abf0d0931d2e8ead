/* lineage.inspect/1: normalized architecture, components, parameter counts, tensor inventory,
 * metadata clues and compute arithmetic for one model. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "format/arch.h"
#include "analysis/clues.h"
#include "analysis/params.h"
#include "analysis/tokenizer_compare.h"
#include "format/tokenizer.h"
#include "util/error.h"

/* Fine-tuning budget when --finetune-tokens is not given: 1% of the training tokens. */
#define INSPECT_FINETUNE_SHARE 0.01

int arch_of_model(const lineage_model *m, arch_info *a, arena *ar, json_value *warnings)
{
    arch_init(a);
    if (m->config) arch_from_config(m->config, arch_text_config(m->config), a, NULL, NULL);   /* checked at load */
    else if (m->gguf) arch_from_gguf(m->gguf, a);
    if (m->ntensors == 0) return 1;
    arch_info shapes;
    arch_init(&shapes);
    arch_from_tensors(m, LINEAGE_COMPONENT_TEXT, &shapes);
    if (!a->source) {
        /* no declaration at all: the shapes are the architecture */
        *a = shapes;
        a->family = "generic";
        return 1;
    }
    if (warnings) return arch_reconcile(a, &shapes, ar, warnings);
    arena scratch;
    arena_init(&scratch, 0);
    json_value *w = json_new_array(&scratch);
    int ok = w && arch_reconcile(a, &shapes, &scratch, w);
    arena_free(&scratch);
    return ok;
}

typedef struct tally {
    const char *key;
    uint64_t count, params;
} tally;

static void tally_add(tally *t, size_t *n, size_t cap, const char *key, uint64_t params)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(t[i].key, key)) { t[i].count++; t[i].params += params; return; }
    if (*n == cap) return;
    t[*n] = (tally){key, 1, params};
    (*n)++;
}

static json_value *tally_json(arena *ar, const tally *t, size_t n)
{
    json_value *o = json_new_object(ar);
    for (size_t i = 0; o && i < n; i++) {
        json_value *e = json_new_object(ar);
        if (!e || !json_set_int(ar, e, "count", (int64_t)t[i].count) || !json_set_int(ar, e, "params", (int64_t)t[i].params) ||
            !json_set(ar, o, t[i].key, e))
            return NULL;
    }
    return o;
}

static json_value *tensors_json(const lineage_model *m, arena *ar)
{
    tally roles[128], dtypes[LINEAGE_DTYPE_COUNT];
    size_t nr = 0, nd = 0;
    for (size_t i = 0; i < m->ntensors; i++) {
        const lineage_tensor_info *t = &m->tensors[i].info;
        uint64_t p = tensor_params(t);
        tally_add(roles, &nr, 128, t->role, p);
        tally_add(dtypes, &nd, LINEAGE_DTYPE_COUNT, lineage_dtype_name(t->dtype), p);
    }
    const char *prefix = NULL;
    const char *naming = arch_naming_scheme(m, &prefix);
    json_value *o = json_new_object(ar);
    if (!o || !json_set_int(ar, o, "count", (int64_t)m->ntensors) || !json_set(ar, o, "dtypes", tally_json(ar, dtypes, nd)) ||
        !json_set(ar, o, "roles", tally_json(ar, roles, nr)) || !json_set_str(ar, o, "naming", naming) ||
        (prefix && !json_set_str(ar, o, "prefix", prefix)))
        return NULL;
    return o;
}

static json_value *params_json(arena *ar, const param_counts *pc, const char *source)
{
    json_value *o = json_new_object(ar);
    if (!o || !json_set_int(ar, o, "total", (int64_t)pc->total) ||
        (pc->active_known && !json_set_int(ar, o, "active", (int64_t)pc->active)) ||
        (pc->active_known && !json_set_int(ar, o, "active_without_embedding", (int64_t)pc->active_without_embedding)) ||
        !json_set_int(ar, o, "embedding", (int64_t)pc->embedding) || !json_set_int(ar, o, "lm_head", (int64_t)pc->lm_head) ||
        !json_set_int(ar, o, "routed_experts", (int64_t)pc->routed_experts) || !json_set_int(ar, o, "mtp", (int64_t)pc->mtp) ||
        !json_set_int(ar, o, "total_with_mtp", (int64_t)(pc->total + pc->mtp)) || !json_set_str(ar, o, "source", source))
        return NULL;
    return o;
}

/* A vision/audio sub-config's shape (these towers have their own key names). */
static json_value *tower_arch_json(arena *ar, const json_value *cfg)
{
    json_value *o = json_new_object(ar);
    if (!o) return NULL;
    static const char *const keys[][6] = {
        {"hidden_size", "hidden_size", "embed_dim", "width", "d_model", NULL},
        {"num_layers", "depth", "num_hidden_layers", "num_layers", "encoder_layers", NULL},
        {"num_heads", "num_heads", "num_attention_heads", "encoder_attention_heads", NULL, NULL},
        {"intermediate_size", "intermediate_size", "mlp_dim", "encoder_ffn_dim", NULL, NULL},
        {"patch_size", "patch_size", NULL, NULL, NULL, NULL},
        {"out_hidden_size", "out_hidden_size", "projection_dim", NULL, NULL, NULL}};
    const char *mt = json_get_string(cfg, "model_type");
    if (mt && !json_set_str(ar, o, "model_type", mt)) return NULL;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        for (int j = 1; j < 6 && keys[k][j]; j++) {
            int64_t v;
            if (json_get_int(cfg, keys[k][j], &v)) {
                if (!json_set_int(ar, o, keys[k][0], v)) return NULL;
                break;
            }
        }
    }
    return o;
}

static json_value *components_json(const lineage_model *m, const arch_info *text, json_value *text_arch, arena *ar,
                                   int *multimodal)
{
    size_t counts[LINEAGE_COMPONENT_COUNT] = {0};
    for (size_t i = 0; i < m->ntensors; i++) counts[m->tensors[i].info.component]++;
    const json_value *cfg = m->config;
    const json_value *vision = json_get(cfg, "vision_config"), *audio = json_get(cfg, "audio_config");
    *multimodal = counts[LINEAGE_COMPONENT_VISION] || counts[LINEAGE_COMPONENT_PROJECTOR] ||
                  counts[LINEAGE_COMPONENT_AUDIO] || (vision && vision->type == JSON_OBJECT) ||
                  (audio && audio->type == JSON_OBJECT);
    json_value *list = json_new_array(ar);
    if (!list || !*multimodal) return list;
    for (int c = 0; c < LINEAGE_COMPONENT_COUNT; c++) {
        if (c == LINEAGE_COMPONENT_MTP) continue;
        const json_value *sub = c == LINEAGE_COMPONENT_VISION ? vision : c == LINEAGE_COMPONENT_AUDIO ? audio : NULL;
        int declared = sub && sub->type == JSON_OBJECT;
        if (!counts[c] && !declared && c != LINEAGE_COMPONENT_TEXT) continue;
        json_value *o = json_new_object(ar);
        if (!o || !json_set_str(ar, o, "name", lineage_component_name((lineage_component)c))) return NULL;
        json_value *arch = c == LINEAGE_COMPONENT_TEXT ? text_arch : declared ? tower_arch_json(ar, sub) : json_new_object(ar);
        if (!arch || !json_set(ar, o, "architecture", arch) || !json_set_int(ar, o, "tensors", (int64_t)counts[c])) return NULL;
        if (counts[c]) {
            param_counts pc;
            params_from_tensors(m, text, c, &pc);
            if (!json_set(ar, o, "parameters", params_json(ar, &pc, "tensors"))) return NULL;
        } else if (c == LINEAGE_COMPONENT_TEXT) {
            param_counts pc;
            if (params_from_config(text, &pc) && !json_set(ar, o, "parameters", params_json(ar, &pc, "config"))) return NULL;
        } else if (c == LINEAGE_COMPONENT_VISION) {
            uint64_t v = params_vision_from_config(sub);
            json_value *p = json_new_object(ar);
            if (v && (!p || !json_set_int(ar, p, "total", (int64_t)v) || !json_set_str(ar, p, "source", "config-estimate") ||
                      !json_set(ar, o, "parameters", p)))
                return NULL;
        }
        if (!json_push(ar, list, o)) return NULL;
    }
    return list;
}

/* Attention-score FLOPs the 6*N*D rule leaves out: per token and layer, QK^T and AV cost 2*ctx*d_attn
 * multiply-adds forward, 3x for training (Kaplan et al. 2020: 6 * L * ctx * d_attn per token). */
static double attention_flops_per_token(const arch_info *a, int context)
{
    if (a->num_layers <= 0 || a->num_heads <= 0) return NAN;
    int64_t hd = a->head_dim > 0 ? a->head_dim : a->hidden_size > 0 ? a->hidden_size / a->num_heads : -1;
    if (hd <= 0) return NAN;
    return 6.0 * (double)a->num_layers * (double)context * (double)(a->num_heads * hd);
}

static json_value *compute_json(arena *ar, const lineage_inspect_options *opt, const param_counts *pc, const arch_info *arch)
{
    double n = (double)(pc->active_known ? pc->active : pc->total);
    double peak = opt->peak_tflops > 0 ? opt->peak_tflops : 989.0, mfu = opt->mfu > 0 ? opt->mfu : 0.4;
    const char *gpu = opt->gpu ? opt->gpu : peak == 989.0 ? "H100 SXM" : NULL;   /* NULL: a peak given by number */
    int context = opt->context > 0 ? opt->context : 4096;
    double ft = opt->finetune_tokens > 0 ? opt->finetune_tokens : opt->tokens * INSPECT_FINETUNE_SHARE;
    double per_hour = peak * 1e12 * mfu * 3600.0;
    json_value *o = json_new_object(ar), *train = json_new_object(ar), *tune = json_new_object(ar), *att = json_new_object(ar);
    if (!o || !train || !tune || !att) return NULL;
    double f_train = 6.0 * n * opt->tokens, f_tune = 6.0 * n * ft;
    double attn = attention_flops_per_token(arch, context);
    int ok = json_set_double(ar, o, "active_params", n) && json_set_str(ar, o, "formula", "6 * N_active * D") &&
             json_set_double(ar, o, "peak_tflops", peak) && (!gpu || json_set_str(ar, o, "gpu", gpu)) &&
             json_set_str(ar, o, "peak_kind", "dense BF16") && json_set_double(ar, o, "mfu", mfu) &&
             json_set_double(ar, train, "tokens", opt->tokens) && json_set_double(ar, train, "flops", f_train) &&
             json_set_double(ar, train, "gpu_hours", f_train / per_hour) &&
             json_set_double(ar, train, "tokens_per_param", pc->total ? opt->tokens / (double)pc->total : 0) &&
             json_set_double(ar, train, "tokens_per_active_param", n > 0 ? opt->tokens / n : 0) &&
             (opt->gpus <= 0 || (json_set_int(ar, train, "gpus", opt->gpus) &&
                                 json_set_double(ar, train, "wall_clock_days", f_train / per_hour / opt->gpus / 24.0))) &&
             json_set_double(ar, tune, "tokens", ft) && json_set_double(ar, tune, "flops", f_tune) &&
             json_set_double(ar, tune, "gpu_hours", f_tune / per_hour) &&
             (opt->gpus <= 0 || json_set_double(ar, tune, "wall_clock_days", f_tune / per_hour / opt->gpus / 24.0)) &&
             json_set_str(ar, tune, "budget", opt->finetune_tokens > 0 ? "given" : "1% of the training tokens") &&
             json_set(ar, o, "training", train) && json_set(ar, o, "finetune", tune);
    if (ok && isfinite(attn) && n > 0)
        ok = json_set_int(ar, att, "context", context) && json_set_double(ar, att, "flops_per_token", attn) &&
             json_set_double(ar, att, "share_of_6n", attn / (6.0 * n)) && json_set(ar, o, "attention", att);
    char note[300];
    if (isfinite(attn) && n > 0)
        snprintf(note, sizeof note, "omits the attention-score term (+%.1f%% for this model at %d context) and router/MTP "
                                    "overheads; a claim that fits proves nothing", 100 * attn / (6.0 * n), context);
    else snprintf(note, sizeof note, "omits the attention-score term (layers or heads unknown) and router/MTP overheads; a "
                                     "claim that fits proves nothing");
    ok = ok && json_set_str(ar, o, "note", note);
    if (ok && !pc->active_known) ok = json_set_str(ar, o, "warning", "active parameters unknown; used the total");
    return ok ? o : NULL;
}

lineage_status inspect_build(const lineage_model *m, const lineage_inspect_options *opt, arena *ar, json_value *root,
                             lineage_error *err)
{
    json_value *warnings = json_new_array(ar);
    if (!warnings) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    arch_info a;
    if (!arch_of_model(m, &a, ar, warnings)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    json_value *arch = arch_to_json(&a, ar);
    if (!arch || !json_set(ar, root, "architecture", arch)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");

    param_counts pc;
    const char *source = "tensors";
    if (m->ntensors > 0) {
        params_from_tensors(m, &a, -1, &pc);
        if (!pc.active_known && !json_push(ar, warnings, json_new_string(ar, "MoE checkpoint without experts_per_token: "
                                                                             "active parameters unknown")))
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    } else if (params_from_config(&a, &pc)) {
        source = "config";
        const json_value *vision = json_get(m->config, "vision_config");
        uint64_t v = vision ? params_vision_from_config(vision) : 0;
        pc.total += v;
        pc.active += v;
        pc.active_without_embedding += v;
    } else {
        memset(&pc, 0, sizeof pc);
        source = "none";
        if (!json_push(ar, warnings, json_new_string(ar, "no tensors and too few config fields for a parameter count")))
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    json_value *params = params_json(ar, &pc, source);
    if (!params || !json_set(ar, root, "parameters", params)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    /* with weights present, the config formula is a cross-check of the config itself */
    param_counts cf;
    if (m->ntensors > 0 && m->config && params_from_config(&a, &cf)) {
        if (!json_set_int(ar, params, "config_formula_total", (int64_t)cf.total))
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }

    int multimodal = 0;
    json_value *comps = components_json(m, &a, arch, ar, &multimodal);
    if (!comps || (multimodal && !json_set(ar, root, "components", comps)))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    json_value *tensors = tensors_json(m, ar);
    json_value *clues = json_new_array(ar);
    if (!tensors || !clues || !json_set(ar, root, "tensors", tensors)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = clues_collect(m, ar, clues, err);
    if (st) return st;
    if (!json_set(ar, root, "clues", clues)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (opt->tokens > 0) {
        json_value *c = compute_json(ar, opt, &pc, &a);
        if (!c || !json_set(ar, root, "compute", c)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* the tokenizer is part of the checkpoint: a broken one fails inspect as it fails tokenize */
    lineage_tokenizer *tok = NULL;
    st = model_open_tokenizer(m, &tok, err);
    if (st) return st;
    if (tok) {
        json_value *t = json_new_object(ar);
        int ok = t && json_set_int(ar, t, "size", (int64_t)lineage_tokenizer_size(tok)) && json_set(ar, root, "tokenizer", t);
        st = ok ? tokenizer_profile(tok, ar, t, err) : error_set(err, LINEAGE_E_NOMEM, "out of memory");
        lineage_tokenizer_close(tok);
        if (st) return st;
    }
    if (m->hidden_bytes) {
        char w[1200];
        snprintf(w, sizeof w, "%s: %llu data bytes outside every tensor (gaps or trailing data); hidden bytes in a "
                              "checkpoint are a finding", m->hidden_file ? m->hidden_file : m->path,
                 (unsigned long long)m->hidden_bytes);
        if (!json_set_int(ar, root, "hidden_bytes", (int64_t)m->hidden_bytes) || !json_push(ar, warnings, json_new_string(ar, w)))
            return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (m->index_without_shards)
        json_push(ar, warnings, json_new_string(ar, "model.safetensors.index.json lists shards but none is present: "
                                                    "architecture-only mode, counts from the config"));
    if (!json_set_int(ar, root, "bytes_read", (int64_t)m->header_bytes) || !json_set(ar, root, "warnings", warnings))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}
