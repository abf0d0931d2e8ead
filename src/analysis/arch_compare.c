/* "architecture" section of lineage.report/1: the two normalized configs side by side, tensors
 * matched by normalized (component, role, layer, expert) and shape, which components can be
 * compared directly, which dimensions block the rest, and the derivations the shapes allow.
 * Architecture is compatibility analysis, never a verdict. */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "format/arch.h"
#include "util/error.h"

#define NOMEM() error_set(err, LINEAGE_E_NOMEM, "out of memory")

typedef struct keyed {
    const lineage_tensor_info *t;
} keyed;

static int is_bias(const char *name)
{
    size_t n = strlen(name);
    return n >= 5 && !strcmp(name + n - 5, ".bias");
}

static int key_cmp(const lineage_tensor_info *x, const lineage_tensor_info *y)
{
    if (x->component != y->component) return (int)x->component - (int)y->component;
    int c = strcmp(x->role, y->role);
    if (c) return c;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    if (x->expert != y->expert) return x->expert < y->expert ? -1 : 1;
    return is_bias(x->name) - is_bias(y->name);
}

static int keyed_cmp(const void *a, const void *b)
{
    const lineage_tensor_info *x = ((const keyed *)a)->t, *y = ((const keyed *)b)->t;
    int c = key_cmp(x, y);
    return c ? c : strcmp(x->name, y->name);
}

static keyed *sorted_tensors(const lineage_model *m)
{
    keyed *k = malloc((m->ntensors ? m->ntensors : 1) * sizeof *k);
    if (!k) return NULL;
    for (size_t i = 0; i < m->ntensors; i++) k[i].t = &m->tensors[i].info;
    qsort(k, m->ntensors, sizeof *k, keyed_cmp);
    return k;
}

static int same_shape(const lineage_tensor_info *x, const lineage_tensor_info *y)
{
    if (x->ndim != y->ndim) return 0;
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] != y->shape[i]) return 0;
    return 1;
}

typedef struct comp_tally {
    uint64_t a, b, matched, same_shape;
} comp_tally;

typedef struct field_def {
    const char *name;
    size_t offset;
} field_def;

#define F(x) {#x, offsetof(arch_info, x)}
static const field_def int_fields[] = {
    F(hidden_size), F(num_layers), F(num_heads), F(num_kv_heads), F(head_dim), F(intermediate_size), F(vocab_size),
    F(n_routed_experts), F(n_shared_experts), F(experts_per_token), F(moe_intermediate_size), F(first_k_dense),
    F(max_positions), F(sliding_window), F(q_lora_rank), F(kv_lora_rank), F(mtp_layers)};
#undef F

static int64_t field_of(const arch_info *a, const field_def *f) { return *(const int64_t *)((const char *)a + f->offset); }

/* A derivation the shapes allow: its kind (with an optional variant), the two values of the field it
 * rests on (a, b; negative: none) for the report to word, and the English sentence (the JSON's "text"). */
static int add_hypothesis_v(arena *ar, json_value *list, const char *kind, const char *variant, int64_t a, int64_t b,
                            const char *text)
{
    json_value *h = json_new_object(ar);
    return h && json_set_str(ar, h, "kind", kind) && (!variant || json_set_str(ar, h, "variant", variant)) &&
           (a < 0 || json_set_int(ar, h, "a", a)) && (b < 0 || json_set_int(ar, h, "b", b)) &&
           json_set_str(ar, h, "text", text) && json_set_str(ar, h, "status", "possible") && json_push(ar, list, h);
}
static int add_hypothesis(arena *ar, json_value *list, const char *kind, const char *text)
{
    return add_hypothesis_v(ar, list, kind, NULL, -1, -1, text);
}

static int str_eq(const char *x, const char *y) { return (!x && !y) || (x && y && !strcmp(x, y)); }

/* Side-by-side normalized fields; returns the number of differences. A field one side does not declare
 * is shown with "same": null and is not a difference (absent is not different). */
static int fields_json(const arch_info *A, const arch_info *B, arena *ar, json_value *fields, json_value *diffs, int *ok)
{
    int n = 0;
    const char *sa[][3] = {{"model_type", A->model_type, B->model_type}, {"family", A->family, B->family},
                           {"norm", A->norm_kind, B->norm_kind}, {"activation", A->activation, B->activation},
                           {"rope_scaling", A->rope_scaling_type, B->rope_scaling_type},
                           {"sliding_pattern", A->layer_pattern[0] ? A->layer_pattern : NULL,
                            B->layer_pattern[0] ? B->layer_pattern : NULL}};
    for (size_t i = 0; i < sizeof sa / sizeof sa[0]; i++) {
        if (!sa[i][1] && !sa[i][2]) continue;
        int same = str_eq(sa[i][1], sa[i][2]), one_sided = !sa[i][1] || !sa[i][2];
        json_value *f = json_new_object(ar);
        *ok = *ok && f && json_set_str(ar, f, "field", sa[i][0]) &&
              json_set(ar, f, "a", sa[i][1] ? json_new_string(ar, sa[i][1]) : json_new_null(ar)) &&
              json_set(ar, f, "b", sa[i][2] ? json_new_string(ar, sa[i][2]) : json_new_null(ar)) &&
              json_set(ar, f, "same", one_sided ? json_new_null(ar) : json_new_bool(ar, same)) && json_push(ar, fields, f);
        if (!same && !one_sided) { n++; *ok = *ok && json_push(ar, diffs, json_new_string(ar, sa[i][0])); }
    }
    for (size_t i = 0; i < sizeof int_fields / sizeof int_fields[0]; i++) {
        int64_t x = field_of(A, &int_fields[i]), y = field_of(B, &int_fields[i]);
        if (x < 0 && y < 0) continue;
        int same = x == y, one_sided = x < 0 || y < 0;
        json_value *f = json_new_object(ar);
        *ok = *ok && f && json_set_str(ar, f, "field", int_fields[i].name) &&
              json_set(ar, f, "a", x >= 0 ? json_new_int(ar, x) : json_new_null(ar)) &&
              json_set(ar, f, "b", y >= 0 ? json_new_int(ar, y) : json_new_null(ar)) &&
              json_set(ar, f, "same", one_sided ? json_new_null(ar) : json_new_bool(ar, same)) && json_push(ar, fields, f);
        if (!same && !one_sided) { n++; *ok = *ok && json_push(ar, diffs, json_new_string(ar, int_fields[i].name)); }
    }
    double da[][3] = {{0, A->rope_theta, B->rope_theta}, {1, A->partial_rotary_factor, B->partial_rotary_factor},
                      {2, A->tied_embeddings, B->tied_embeddings}, {3, A->qk_norm, B->qk_norm}};
    static const char *const dn[] = {"rope_theta", "partial_rotary_factor", "tied_embeddings", "qk_norm"};
    for (size_t i = 0; i < 4; i++) {
        double x = da[i][1], y = da[i][2];
        if (i >= 2) { x = x < 0 ? NAN : x; y = y < 0 ? NAN : y; }
        if (isnan(x) && isnan(y)) continue;
        int same = x == y, one_sided = isnan(x) || isnan(y);
        json_value *f = json_new_object(ar);
        *ok = *ok && f && json_set_str(ar, f, "field", dn[i]) &&
              json_set(ar, f, "a", isnan(x) ? json_new_null(ar) : json_new_double(ar, x)) &&
              json_set(ar, f, "b", isnan(y) ? json_new_null(ar) : json_new_double(ar, y)) &&
              json_set(ar, f, "same", one_sided ? json_new_null(ar) : json_new_bool(ar, same)) && json_push(ar, fields, f);
        if (!same && !one_sided) { n++; *ok = *ok && json_push(ar, diffs, json_new_string(ar, dn[i])); }
    }
    return n;
}

/* Dimensions of the text decoder that stop tensor-by-tensor comparison, and what each blocks. */
static int blocking_json(const arch_info *A, const arch_info *B, arena *ar, json_value *list)
{
    static const struct { const char *field; const char *blocks; } dims[] = {
        {"hidden_size", "every weight matrix (needs a width map: hidden-dimension pruning or a different model)"},
        {"vocab_size", "embedding and lm_head rows beyond the shared ids (compare through the tokenizer's shared tokens)"},
        {"intermediate_size", "dense MLP gate/up/down (neurons can still be matched one to one)"},
        {"num_layers", "layer i of A against layer i of B (needs a layer map)"},
        {"num_heads", "attention q/o projections"},
        {"num_kv_heads", "attention k/v projections"},
        {"head_dim", "attention projections"},
        {"moe_intermediate_size", "routed experts"},
        {"n_routed_experts", "expert e of A against expert e of B beyond the shared count"}};
    int ok = 1;
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        const field_def *f = NULL;
        for (size_t k = 0; k < sizeof int_fields / sizeof int_fields[0]; k++)
            if (!strcmp(int_fields[k].name, dims[i].field)) f = &int_fields[k];
        int64_t x = field_of(A, f), y = field_of(B, f);
        if (x < 0 || y < 0 || x == y) continue;
        json_value *o = json_new_object(ar);
        ok = ok && o && json_set_str(ar, o, "dimension", dims[i].field) && json_set_int(ar, o, "a", x) &&
             json_set_int(ar, o, "b", y) && json_set_str(ar, o, "blocks", dims[i].blocks) && json_push(ar, list, o);
    }
    return ok;
}

static int hypotheses_json(const arch_info *A, const arch_info *B, arena *ar, json_value *h)
{
    int ok = 1;
    char buf[400];
    int same_d = A->hidden_size > 0 && A->hidden_size == B->hidden_size;
    int moe_a = A->n_routed_experts > 0, moe_b = B->n_routed_experts > 0;
    if (same_d && A->num_layers > 0 && B->num_layers > A->num_layers) {
        snprintf(buf, sizeof buf, "same width, B has %" PRId64 " layers to A's %" PRId64 ": depth up-scaling of A (layers duplicated, then trained) is possible",
                 B->num_layers, A->num_layers);
        ok = ok && add_hypothesis_v(ar, h, "depth_upscaling", NULL, A->num_layers, B->num_layers, buf);
    }
    if (same_d && B->num_layers > 0 && B->num_layers < A->num_layers) {
        snprintf(buf, sizeof buf, "same width, B has fewer layers (%" PRId64 " < %" PRId64 "): layer pruning of A is possible",
                 B->num_layers, A->num_layers);
        ok = ok && add_hypothesis_v(ar, h, "layer_pruning", NULL, A->num_layers, B->num_layers, buf);
    }
    if (same_d && !moe_a && !moe_b && B->intermediate_size > 0 && B->intermediate_size < A->intermediate_size) {
        snprintf(buf, sizeof buf, "same width, B's MLP is narrower (%" PRId64 " < %" PRId64 "): width (neuron) pruning of A is possible",
                 B->intermediate_size, A->intermediate_size);
        ok = ok && add_hypothesis_v(ar, h, "width_pruning", NULL, A->intermediate_size, B->intermediate_size, buf);
    }
    if (same_d && !moe_a && !moe_b && A->intermediate_size > 0 && B->intermediate_size > A->intermediate_size) {
        snprintf(buf, sizeof buf, "B's MLP is wider (%" PRId64 " > %" PRId64 "): MLP widening of A is possible",
                 B->intermediate_size, A->intermediate_size);
        ok = ok && add_hypothesis_v(ar, h, "width_growth", NULL, A->intermediate_size, B->intermediate_size, buf);
    }
    if (A->hidden_size > 0 && B->hidden_size > 0 && B->hidden_size < A->hidden_size) {
        snprintf(buf, sizeof buf, "B's hidden size is smaller (%" PRId64 " < %" PRId64 "): hidden-dimension pruning (Minitron-style) of A is possible",
                 B->hidden_size, A->hidden_size);
        ok = ok && add_hypothesis_v(ar, h, "hidden_pruning", NULL, A->hidden_size, B->hidden_size, buf);
    }
    if (A->vocab_size > 0 && B->vocab_size > A->vocab_size) {
        snprintf(buf, sizeof buf, "B's vocabulary is larger (%" PRId64 " > %" PRId64 "): vocabulary extension of A is possible",
                 B->vocab_size, A->vocab_size);
        ok = ok && add_hypothesis_v(ar, h, "vocab_extension", NULL, A->vocab_size, B->vocab_size, buf);
    }
    if (B->vocab_size > 0 && B->vocab_size < A->vocab_size) {
        snprintf(buf, sizeof buf, "B's vocabulary is smaller (%" PRId64 " < %" PRId64 "): vocabulary trimming of A is possible",
                 B->vocab_size, A->vocab_size);
        ok = ok && add_hypothesis_v(ar, h, "vocab_trimming", NULL, A->vocab_size, B->vocab_size, buf);
    }
    if (!moe_a && moe_b && A->intermediate_size > 0 && B->moe_intermediate_size > 0) {
        if (B->moe_intermediate_size == A->intermediate_size)
            snprintf(buf, sizeof buf, "A is dense, B is MoE with experts as wide as A's MLP (%" PRId64 "): sparse upcycling of A (experts copied from its MLP) is possible",
                     B->moe_intermediate_size);
        else if (A->intermediate_size % B->moe_intermediate_size == 0)
            snprintf(buf, sizeof buf, "A is dense, B is MoE whose expert width %" PRId64 " divides A's MLP width %" PRId64 ": fine-grained upcycling (A's MLP split into experts) is possible",
                     B->moe_intermediate_size, A->intermediate_size);
        else
            snprintf(buf, sizeof buf, "A is dense, B is MoE: upcycling of A is possible, though expert width %" PRId64 " does not divide A's MLP width %" PRId64,
                     B->moe_intermediate_size, A->intermediate_size);
        ok = ok && add_hypothesis_v(ar, h, "upcycling",
                                    B->moe_intermediate_size == A->intermediate_size                ? "same_width"
                                    : A->intermediate_size % B->moe_intermediate_size == 0 ? "divides"
                                                                                           : "other",
                                    A->intermediate_size, B->moe_intermediate_size, buf);
    }
    if (moe_a && !moe_b)
        ok = ok && add_hypothesis(ar, h, "expert_merging", "A is MoE, B is dense: expert merging or distillation of A into B is possible");
    if (moe_a && moe_b && B->n_routed_experts != A->n_routed_experts)
        ok = ok && add_hypothesis(ar, h, "expert_count_change", "both MoE with different expert counts: expert pruning or expansion is possible");
    if (same_d && A->num_heads == B->num_heads && B->num_kv_heads > 0 && B->num_kv_heads < A->num_kv_heads)
        ok = ok && add_hypothesis(ar, h, "gqa_conversion", "same heads, fewer KV heads in B: KV-head pooling (MHA to GQA conversion) of A is possible");
    return ok;
}

lineage_status arch_compare_section(const lineage_model *ma, const lineage_model *mb, arena *ar, json_value **out,
                                    lineage_error *err)
{
    *out = NULL;
    json_value *sec = json_new_object(ar), *wa = json_new_array(ar), *wb = json_new_array(ar);
    if (!sec || !wa || !wb) return NOMEM();
    arch_info A, B;
    if (!arch_of_model(ma, &A, ar, wa) || !arch_of_model(mb, &B, ar, wb)) return NOMEM();
    json_value *fields = json_new_array(ar), *diffs = json_new_array(ar);
    int ok = fields && diffs;
    int ndiff = fields_json(&A, &B, ar, fields, diffs, &ok);
    /* a side with no config, GGUF metadata or tensors (a tokenizer-only folder) declares no architecture */
    int declared_a = A.source != NULL, declared_b = B.source != NULL;
    ok = ok && json_set(ar, sec, "a", arch_to_json(&A, ar)) && json_set(ar, sec, "b", arch_to_json(&B, ar)) &&
         json_set(ar, sec, "fields", fields) && json_set(ar, sec, "differences", diffs) &&
         json_set_bool(ar, sec, "declared_a", declared_a) && json_set_bool(ar, sec, "declared_b", declared_b) &&
         json_set_bool(ar, sec, "identical", ndiff == 0 && declared_a && declared_b) && json_set(ar, sec, "warnings_a", wa) &&
         json_set(ar, sec, "warnings_b", wb);
    if (!ok) return NOMEM();

    /* tensors matched by normalized key, per component */
    comp_tally ct[LINEAGE_COMPONENT_COUNT];
    memset(ct, 0, sizeof ct);
    uint64_t expert_like_mlp = 0, matched = 0, same = 0;
    if (ma->ntensors && mb->ntensors) {
        keyed *ka = sorted_tensors(ma), *kb = sorted_tensors(mb);
        if (!ka || !kb) { free(ka); free(kb); return NOMEM(); }
        for (size_t i = 0; i < ma->ntensors; i++) ct[ka[i].t->component].a++;
        for (size_t i = 0; i < mb->ntensors; i++) ct[kb[i].t->component].b++;
        size_t i = 0, j = 0;
        while (i < ma->ntensors && j < mb->ntensors) {
            int c = key_cmp(ka[i].t, kb[j].t);
            if (c < 0) { i++; continue; }
            if (c > 0) { j++; continue; }
            comp_tally *t = &ct[ka[i].t->component];
            t->matched++;
            matched++;
            if (same_shape(ka[i].t, kb[j].t)) { t->same_shape++; same++; }
            i++;
            j++;
        }
        /* upcycling check: B's expert tensors shaped like A's dense MLP in the same layer */
        for (size_t k = 0; k < mb->ntensors; k++) {
            const lineage_tensor_info *t = kb[k].t;
            if (strncmp(t->role, "expert_", 7) || t->expert < 0) continue;
            char mlp_role[32];
            snprintf(mlp_role, sizeof mlp_role, "mlp_%s", t->role + 7);
            long ia = lineage_model_find_role(ma, t->component, mlp_role, t->layer, -1);
            if (ia >= 0 && same_shape(&ma->tensors[ia].info, t)) expert_like_mlp++;
            if (k > 4096 && expert_like_mlp == 0) break;   /* bounded on huge MoE checkpoints */
        }
        free(ka);
        free(kb);
    }
    json_value *tens = json_new_object(ar), *comps = json_new_array(ar);
    ok = tens && comps && json_set_int(ar, tens, "a", (int64_t)ma->ntensors) && json_set_int(ar, tens, "b", (int64_t)mb->ntensors) &&
         json_set_int(ar, tens, "matched_by_name", (int64_t)matched) && json_set_int(ar, tens, "same_shape", (int64_t)same) &&
         json_set_int(ar, tens, "shape_differs", (int64_t)(matched - same)) &&
         json_set_int(ar, tens, "only_a", (int64_t)(ma->ntensors - matched)) &&
         json_set_int(ar, tens, "only_b", (int64_t)(mb->ntensors - matched)) &&
         json_set_int(ar, tens, "b_experts_shaped_like_a_mlp", (int64_t)expert_like_mlp) &&
         json_set_str(ar, tens, "matched_by", "component, role, layer, expert");
    if (!ok) return NOMEM();
    if (!ma->ntensors || !mb->ntensors)
        ok = json_set_str(ar, tens, "note", "architecture-only: at least one side has no tensors, so nothing was matched") &&
             json_set_str(ar, tens, "note_key", "architecture_only");
    for (int c = 0; ok && c < LINEAGE_COMPONENT_COUNT; c++) {
        if (!ct[c].a && !ct[c].b) continue;
        json_value *o = json_new_object(ar);
        int direct = ct[c].a && ct[c].b && ct[c].matched > 0 && ct[c].same_shape == ct[c].matched;
        const char *status = !ct[c].a || !ct[c].b ? "one side only"
                             : direct ? "direct"
                             : ct[c].same_shape ? "partial" : "blocked";
        ok = o && json_set_str(ar, o, "name", lineage_component_name((lineage_component)c)) &&
             json_set_int(ar, o, "a_tensors", (int64_t)ct[c].a) && json_set_int(ar, o, "b_tensors", (int64_t)ct[c].b) &&
             json_set_int(ar, o, "matched", (int64_t)ct[c].matched) && json_set_int(ar, o, "same_shape", (int64_t)ct[c].same_shape) &&
             json_set_str(ar, o, "comparison", status) && json_push(ar, comps, o);
    }
    json_value *blocking = json_new_array(ar), *hyp = json_new_array(ar), *notes = json_new_array(ar);
    ok = ok && blocking && hyp && notes && blocking_json(&A, &B, ar, blocking) && hypotheses_json(&A, &B, ar, hyp);
    ok = ok && json_push_fmt(ar, notes, "A shape mismatch is not evidence of independence: pruning, up-scaling, vocabulary "
                                   "extension and upcycling all change shapes while keeping the weights' lineage.") &&
         json_push_fmt(ar, notes, "Identical architecture is not evidence of derivation: most labs copy a reference design "
                             "(RMSNorm, SwiGLU, RoPE, GQA), so shared shapes and names are priors at most.") &&
         json_push_fmt(ar, notes, "Only the weights can answer the lineage question; architecture tells which weight "
                             "comparisons are possible.");
    ok = ok && json_set(ar, sec, "tensors", tens) && json_set(ar, sec, "components", comps) &&
         json_set(ar, sec, "blocking", blocking) && json_set(ar, sec, "hypotheses", hyp) && json_set(ar, sec, "notes", notes);
    if (!ok) return NOMEM();
    char summary[300];
    if (!declared_a || !declared_b)
        snprintf(summary, sizeof summary, "no architecture declared by %s (no config.json, GGUF metadata or tensors): not compared",
                 !declared_a && !declared_b ? "either model" : !declared_a ? "A" : "B");
    else snprintf(summary, sizeof summary, "%s architectures (%d field%s differ); %" PRIu64 " of %zu/%zu tensors match by normalized name, %" PRIu64 " with the same shape",
             ndiff ? "different" : "identical", ndiff, ndiff == 1 ? "" : "s", matched, ma->ntensors, mb->ntensors, same);
    if (!json_set_str(ar, sec, "summary", summary)) return NOMEM();
    *out = sec;
    return LINEAGE_OK;
}
