/* Architecture analysis on the zoo (../shared/zoo, truth in its README/manifest) and on synthetic
 * configs: normalized fields, shape-derived counts, mismatch warnings, components, compare hints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "format/arch.h"
#include "analysis/params.h"
#include "check.h"

static lineage_model *open_zoo(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/zoo/%s", shared_dir(), name);
    lineage_model *m = NULL;
    lineage_error err;
    if (lineage_model_open(path, &m, &err)) {
        printf("# cannot open %s: %s\n", path, err.message);
        return NULL;
    }
    return m;
}

static json_value *parse(arena *ar, const char *text)
{
    json_value *v = NULL;
    lineage_error err;
    return json_parse(text, strlen(text), NULL, ar, &v, "test", &err) ? NULL : v;
}

static const json_value *find_hypothesis(const json_value *sec, const char *kind)
{
    const json_value *h = json_get(sec, "hypotheses");
    for (size_t i = 0; i < json_count(h); i++)
        if (!strcmp(json_get_string(json_at(h, i), "kind"), kind)) return json_at(h, i);
    return NULL;
}

int main(void)
{
    arena ar;
    arena_init(&ar, 0);

    /* base: Llama, hidden 96, 4 layers, 4 heads (head_dim 24), 2 KV heads, MLP 256, vocab 1024, untied (zoo README) */
    lineage_model *base = open_zoo("base");
    CHECK(base != NULL, "zoo base opens");
    if (base) {
        arch_info a;
        json_value *w = json_new_array(&ar);
        CHECK(arch_of_model(base, &a, &ar, w), "base: architecture built");
        CHECK(a.hidden_size == 96 && a.num_layers == 4 && a.num_heads == 4 && a.num_kv_heads == 2 && a.head_dim == 24 &&
                  a.intermediate_size == 256 && a.vocab_size == 1024 && a.tied_embeddings == 0,
              "base: normalized fields match the zoo README");
        CHECK(json_count(w) == 0, "base: config and tensors agree (no warnings)");
        param_counts pc;
        params_from_tensors(base, &a, -1, &pc);
        /* by hand: embed + lm_head 2*1024*96; per layer q,o 96*96, k,v 48*96, MLP 3*96*256, 2 norms; final norm */
        uint64_t want = 2 * 1024 * 96 + 4 * (2 * 96 * 96 + 2 * 48 * 96 + 3 * 96 * 256 + 2 * 96) + 96;
        CHECK(pc.total == want && pc.active == want, "base: tensor count %llu equals the hand count %llu",
              (unsigned long long)pc.total, (unsigned long long)want);
        param_counts cf;
        CHECK(params_from_config(&a, &cf) && cf.total == pc.total, "base: config formula equals the tensor count");
        const char *naming = arch_naming_scheme(base, NULL);
        CHECK(!strcmp(naming, "hf-llama"), "base: naming scheme hf-llama (got %s)", naming);
    }

    /* arch-only: base's config without weights → the same count from the formula */
    lineage_model *ao = open_zoo("arch-only");
    if (ao) {
        lineage_inspect_options opt = {0, 0, 989, 0.4, NULL, 0, 0};
        lineage_doc *d = NULL;
        lineage_error err;
        CHECK(lineage_inspect(ao, &opt, &d, &err) == LINEAGE_OK, "arch-only: inspect succeeds");
        const json_value *p = d ? json_get(d->root, "parameters") : NULL;
        int64_t total = 0;
        CHECK(p && json_get_int(p, "total", &total) && total == 602976 && !strcmp(json_get_string(p, "source"), "config"),
              "arch-only: config formula total 602976 (hand count of base), source config");
        lineage_doc_free(d);
        lineage_model_close(ao);
    }

    /* upcycled: Mixtral MoE, 4 experts/layer, top-2 (zoo README) */
    lineage_model *up = open_zoo("upcycled");
    if (up && base) {
        arch_info a;
        CHECK(arch_of_model(up, &a, &ar, NULL), "upcycled: architecture built");
        CHECK(!strcmp(a.family, "mixtral") && a.n_routed_experts == 4 && a.experts_per_token == 2 && a.moe_intermediate_size == 256,
              "upcycled: mixtral family, 4 experts, top-2, expert width 256");
        param_counts pc;
        params_from_tensors(up, &a, -1, &pc);
        uint64_t expert = 3 * 96 * 256;
        CHECK(pc.routed_experts == 4 * 4 * expert && pc.total - pc.active == 4 * 2 * expert,
              "upcycled: active = total minus 2 of 4 experts per layer");
        json_value *sec = NULL;
        lineage_error err;
        CHECK(arch_compare_section(base, up, &ar, &sec, &err) == LINEAGE_OK, "base vs upcycled: compare section built");
        CHECK(find_hypothesis(sec, "upcycling") != NULL, "base vs upcycled: upcycling named as possible");
        int64_t n = 0;
        CHECK(json_get_int(json_get(sec, "tensors"), "b_experts_shaped_like_a_mlp", &n) && n == 48,
              "base vs upcycled: all 48 expert matrices have the shape of base's MLP");
    }
    lineage_model_close(up);

    /* pruned: MLP 256 -> 192; upscaled: 4 -> 6 layers; vocab-extended: 1024 -> 1152 (zoo README) */
    static const struct { const char *name, *hypothesis; } pairs[] = {
        {"pruned", "width_pruning"}, {"upscaled", "depth_upscaling"}, {"vocab-extended", "vocab_extension"}};
    for (size_t i = 0; i < 3 && base; i++) {
        lineage_model *b = open_zoo(pairs[i].name);
        json_value *sec = NULL;
        lineage_error err;
        int ok = b && arch_compare_section(base, b, &ar, &sec, &err) == LINEAGE_OK;
        CHECK(ok && find_hypothesis(sec, pairs[i].hypothesis), "base vs %s: %s named as possible", pairs[i].name,
              pairs[i].hypothesis);
        const json_value *notes = ok ? json_get(sec, "notes") : NULL;
        CHECK(notes && strstr(json_at(notes, 0)->u.string.s, "not evidence of independence"),
              "base vs %s: says a shape mismatch is not evidence of independence", pairs[i].name);
        lineage_model_close(b);
    }

    /* vlm-a: text decoder = base under language_model., vision tower declares qwen2_5_vl, projector */
    lineage_model *vlm = open_zoo("vlm-a");
    if (vlm) {
        lineage_inspect_options opt = {0, 0, 989, 0.4, NULL, 0, 0};
        lineage_doc *d = NULL;
        lineage_error err;
        CHECK(lineage_inspect(vlm, &opt, &d, &err) == LINEAGE_OK, "vlm-a: inspect succeeds");
        const json_value *comps = d ? json_get(d->root, "components") : NULL;
        int64_t text_total = -1, vision_total = -1, proj_total = -1;
        const char *vision_type = NULL;
        for (size_t i = 0; i < json_count(comps); i++) {
            const json_value *c = json_at(comps, i);
            const char *n = json_get_string(c, "name");
            int64_t t = -1;
            json_get_int(json_get(c, "parameters"), "total", &t);
            if (!strcmp(n, "text")) text_total = t;
            if (!strcmp(n, "vision")) { vision_total = t; vision_type = json_get_string(json_get(c, "architecture"), "model_type"); }
            if (!strcmp(n, "projector")) proj_total = t;
        }
        CHECK(text_total == 602976, "vlm-a: text component has base's 602976 parameters");
        /* vision: 2 blocks of qkv 192x64, proj 64x64, fc1 256x64, fc2 64x256, 2 norms; patch 64x588; post norm */
        CHECK(vision_total == 2 * (192 * 64 + 64 * 64 + 2 * 256 * 64 + 2 * 64) + 64 * 588 + 64,
              "vlm-a: vision component counted apart (%lld)", (long long)vision_total);
        CHECK(proj_total == 96 * 64 + 96 * 96, "vlm-a: projector counted apart");
        CHECK(vision_type && !strcmp(vision_type, "qwen2_5_vl"), "vlm-a: vision tower keeps its own model_type");
        lineage_doc_free(d);
        lineage_model_close(vlm);
    }
    lineage_model_close(base);

    /* synthetic configs: synonyms, MLA, sliding layouts, MoE layouts */
    {
        arch_info a;
        arch_init(&a);
        json_value *c = parse(&ar, "{\"model_type\":\"gpt2\",\"n_embd\":768,\"n_layer\":12,\"n_head\":12,\"n_inner\":null,"
                                   "\"vocab_size\":50257,\"n_positions\":1024,\"activation_function\":\"gelu_new\"}");
        arch_from_config(c, c, &a, NULL, NULL);
        param_counts pc;
        int ok = params_from_config(&a, &pc);
        /* GPT-2 small: 124.4M parameters (tied lm_head; the well-known figure for the HF gpt2 checkpoint) */
        CHECK(ok && pc.total > 124.0e6 && pc.total < 124.8e6,
              "gpt2 synonyms (n_embd, n_layer, n_head, n_inner=null) give 124.4M (got %llu)", (unsigned long long)pc.total);
    }
    {
        arch_info a;
        arch_init(&a);
        json_value *c = parse(&ar, "{\"model_type\":\"made_up\",\"hidden_size\":64,\"num_hidden_layers\":2,"
                                   "\"num_attention_heads\":4,\"intermediate_size\":128,\"vocab_size\":100}");
        arch_from_config(c, c, &a, NULL, NULL);
        CHECK(!strcmp(a.family, "generic") && a.head_dim == 16 && a.num_kv_heads == 4,
              "unknown model_type: generic keys, head_dim and KV heads defaulted");
    }
    {
        arch_info a;
        arch_init(&a);
        json_value *c = parse(&ar, "{\"model_type\":\"gemma3\",\"text_config\":{\"model_type\":\"gemma3_text\",\"hidden_size\":64,"
                                   "\"num_hidden_layers\":12,\"num_attention_heads\":4,\"head_dim\":16,\"intermediate_size\":128,"
                                   "\"vocab_size\":100,\"sliding_window\":512,\"sliding_window_pattern\":6,"
                                   "\"rope_parameters\":{\"full_attention\":{\"rope_type\":\"linear\",\"factor\":8.0,\"rope_theta\":1000000.0}}},"
                                   "\"vision_config\":{\"model_type\":\"siglip_vision_model\"}}");
        arch_from_config(c, arch_text_config(c), &a, NULL, NULL);
        CHECK(!strcmp(a.family, "gemma3") && a.sliding_layers == 10 && a.sliding_window == 512 && a.tied_embeddings == 1 &&
                  a.rope_theta == 1e6 && a.rope_factor == 8.0,
              "gemma3 text_config: 10 of 12 layers sliding, tied, rope_parameters read");
    }
    {
        arch_info a;
        arch_init(&a);
        json_value *c = parse(&ar, "{\"model_type\":\"qwen3_moe\",\"num_experts\":8,\"num_experts_per_tok\":2,"
                                   "\"decoder_sparse_step\":2,\"mlp_only_layers\":[3],\"num_hidden_layers\":6}");
        arch_from_config(c, c, &a, NULL, NULL);
        int layout[6];
        for (int l = 0; l < 6; l++) layout[l] = arch_layer_is_moe(&a, l);
        CHECK(!layout[0] && layout[1] && !layout[2] && !layout[3] && !layout[4] && layout[5],
              "qwen MoE layout: decoder_sparse_step 2 makes odd layers MoE, mlp_only_layers removes layer 3");
    }
    {
        arch_info a, s;
        arch_init(&a);
        arch_init(&s);
        a.vocab_size = 1000; a.num_heads = 8; a.head_dim = 16; a.num_layers = 4; a.mtp_layers = -1;
        s.vocab_size = 1024; s.q_rows = 96; s.num_layers = 4; s.mtp_layers = 1;
        json_value *w = json_new_array(&ar);
        arch_reconcile(&a, &s, &ar, w);
        CHECK(json_count(w) == 3 && a.vocab_size == 1024 && a.mtp_layers == 1,
              "reconcile flags padded vocab, q rows against heads, and undeclared MTP layers (%zu warnings)", json_count(w));
    }
    arena_free(&ar);
    CHECK_EXIT();
}
