/* lineage verify: rank candidate parents of one model. Each candidate is compared as A (the
 * candidate) against B (the model); candidates are ordered by verdict class, then by how close
 * the weights are. A parent is named only when it leads the next candidate by PARENT_MARGIN. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "util/error.h"

#define PARENT_MARGIN 0.05

typedef struct candidate {
    const char *path;
    const char *label;
    json_value *relation;
    double confidence, similarity, score;
    json_value *behaviour;   /* the behaviour comparison against the other candidates, or NULL */
    json_value *tokenizer, *architecture;   /* reported beside the ranking; they break ties only */
    double token_alignment;  /* share of the smaller vocabulary at the same id, or -1 */
} candidate;

/* The tokenizer and architecture findings of one comparison, for the ranking table. They never decide
 * derivation (docs/METHODOLOGY.md): a shared tokenizer or design is common among independent models. */
static void side_evidence(arena *ar, const json_value *root, candidate *c)
{
    const json_value *t = json_get(root, "tokenizer");
    c->token_alignment = -1;
    const char *status = json_get_string(t, "status");
    if (status && !strcmp(status, "ok")) {
        json_value *o = json_new_object(ar);
        double v;
        const char *rel = json_get_string(t, "relation");
        if (o && rel) json_set_str(ar, o, "relation", rel);
        if (o && json_get_double(json_get(t, "id_aligned"), "of_smaller", &v)) {
            json_set_double(ar, o, "id_aligned_of_smaller", v);
            c->token_alignment = v;
        }
        if (o && json_get_double(json_get(t, "shared"), "jaccard", &v)) json_set_double(ar, o, "jaccard", v);
        c->tokenizer = o;
    }
    const json_value *a = json_get(root, "architecture");
    if (a && json_is_true(json_get(a, "declared_a")) && json_is_true(json_get(a, "declared_b"))) {
        json_value *o = json_new_object(ar);
        if (o) {
            json_set_int(ar, o, "fields_differ", (int64_t)json_count(json_get(a, "differences")));
            json_set(ar, o, "identical", json_new_bool(ar, json_is_true(json_get(a, "identical"))));
        }
        c->architecture = o;
    }
}

/* What the behaviour section says about this candidate as B's source, for the ranking table. */
static json_value *behaviour_summary(arena *ar, const json_value *root)
{
    const json_value *b = json_get(root, "behaviour");
    const char *status = json_get_string(b, "status");
    if (!status || strcmp(status, "ok")) return NULL;
    json_value *o = json_new_object(ar);
    double v;
    if (json_get_double(json_get(json_get(b, "statistics"), "jsd"), "value", &v)) json_set_double(ar, o, "jsd", v);
    if (json_get_double(json_get(json_get(b, "statistics"), "top1_agreement"), "value", &v))
        json_set_double(ar, o, "top1", v);
    const json_value *panel = json_get(b, "panel");
    int closer = json_count(panel) > 0;
    for (size_t k = 0; k < json_count(panel); k++) closer &= json_is_true(json_get(json_at(panel, k), "closer"));
    if (json_count(panel)) {
        json_set_bool(ar, o, "closer_than_all_others", closer);
        if (json_get_double(b, "margin", &v)) json_set_double(ar, o, "margin", v);
    }
    return o;
}

double report_weights_similarity(const json_value *root)
{
    const json_value *sum = json_get(json_get(root, "weights"), "summary");
    double s;
    if (json_get_double(sum, "similarity", &s)) return s;
    /* after undoing a permutation, else index-aligned */
    if (json_is_true(json_get(json_get(sum, "permuted"), "detected")) &&
        json_get_double(json_get(sum, "permuted"), "centered_after", &s))
        return s;
    if (json_is_true(json_get(json_get(sum, "identical"), "detected"))) return 1.0;
    if (json_get_double(json_get(sum, "finetune_like"), "median_centered", &s)) return s;
    return NAN;
}

/* By score; equal scores (e.g. no weights on either side) by the tokenizer's id alignment, reported as such. */
static int by_score(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->token_alignment > y->token_alignment ? -1 : x->token_alignment < y->token_alignment;
}

lineage_status lineage_verify(const lineage_model *m, const lineage_model *const *cands, size_t n,
                              const lineage_compare_options *opt, lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    if (n == 0) return error_set(err, LINEAGE_E_USAGE, "verify needs at least one candidate");
    lineage_doc *d = doc_new();
    candidate *c = calloc(n, sizeof *c);
    if (!d || !c) {
        free(c);
        lineage_doc_free(d);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    arena *ar = &d->arena;
    lineage_status st = LINEAGE_OK;
    /* behaviour: the other candidates (and any --panel models) are each candidate's panel */
    const lineage_model **panel = calloc(n + (opt ? opt->npanel : 0) + 1, sizeof *panel);
    if (!panel) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !st; i++) {
        lineage_doc *r;
        lineage_compare_options o = opt ? *opt : (lineage_compare_options){.sample = 1.0};
        size_t np = 0;
        for (size_t k = 0; k < n; k++)
            if (k != i && cands[k] != m) panel[np++] = cands[k];
        for (size_t k = 0; opt && k < opt->npanel; k++) panel[np++] = opt->panel[k];
        o.panel = panel;
        o.npanel = np;
        o.endpoint_a = NULL;   /* one endpoint cannot serve every candidate */
        st = lineage_compare(cands[i], m, &o, &r, err);
        if (st) break;
        const json_value *v = json_get(r->root, "verdict");
        const char *label = json_get_string(v, "label");
        c[i].path = arena_strdup(ar, cands[i]->path);
        c[i].label = arena_strdup(ar, label ? label : "inconclusive");
        c[i].relation = json_new_array(ar);
        const json_value *rel = json_get(v, "relation");
        for (size_t k = 0; k < json_count(rel); k++)
            json_push(ar, c[i].relation, json_new_string(ar, json_at(rel, k)->u.string.s));
        json_get_double(v, "confidence", &c[i].confidence);
        c[i].similarity = report_weights_similarity(r->root);
        c[i].behaviour = behaviour_summary(ar, r->root);
        side_evidence(ar, r->root, &c[i]);
        double closeness = isfinite(c[i].similarity) ? c[i].similarity : c[i].confidence;
        if (!strcmp(c[i].label, "identical")) c[i].score = 2 + closeness;
        else if (!strcmp(c[i].label, "derived")) c[i].score = 1 + closeness;
        else if (!strcmp(c[i].label, "inconclusive")) c[i].score = 0.5 - 0.5 * c[i].confidence;
        else c[i].score = -c[i].confidence;
        lineage_doc_free(r);
    }
    if (!st) {
        qsort(c, n, sizeof *c, by_score);
        json_value *list = json_new_array(ar);
        for (size_t i = 0; i < n; i++) {
            json_value *o = json_new_object(ar);
            json_set_int(ar, o, "rank", (int64_t)i + 1);
            json_set_str(ar, o, "reference", c[i].path);
            json_set_str(ar, o, "label", c[i].label);
            json_set(ar, o, "relation", c[i].relation);
            json_set_double(ar, o, "confidence", c[i].confidence);
            if (isfinite(c[i].similarity)) json_set_double(ar, o, "similarity", c[i].similarity);
            json_set_double(ar, o, "score", round(c[i].score * 1e4) / 1e4);
            if (c[i].behaviour) json_set(ar, o, "behaviour", c[i].behaviour);
            if (c[i].tokenizer) json_set(ar, o, "tokenizer", c[i].tokenizer);
            if (c[i].architecture) json_set(ar, o, "architecture", c[i].architecture);
            json_push(ar, list, o);
        }
        int related = !strcmp(c[0].label, "derived") || !strcmp(c[0].label, "identical");
        double margin = n > 1 ? c[0].score - c[1].score : c[0].score;
        json_set_str(ar, d->root, "schema", "lineage.verify/1");
        json_set_str(ar, d->root, "model", m->path);
        json_set(ar, d->root, "candidates", list);
        /* the candidate B's outputs are significantly closer to than to every other one (docs/METHODOLOGY.md) */
        const char *closest = NULL;
        int ran = 0;
        for (size_t i = 0; i < n; i++) {
            ran |= c[i].behaviour != NULL;
            if (json_is_true(json_get(c[i].behaviour, "closer_than_all_others"))) closest = c[i].path;
        }
        if (n > 1 && ran) json_set(ar, d->root, "behaviour_closest", closest ? json_new_string(ar, closest) : json_new_null(ar));
        json_set(ar, d->root, "parent",
                 related && (n == 1 || margin >= PARENT_MARGIN) ? json_new_string(ar, c[0].path) : json_new_null(ar));
        json_set_double(ar, d->root, "margin", round(margin * 1e4) / 1e4);
        json_set_double(ar, d->root, "required_margin", PARENT_MARGIN);
        /* the candidate whose vocabulary sits at the same ids as MODEL's, clearly ahead of the others: a
         * tokenizer finding beside the ranking, never a parent on its own */
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (c[i].token_alignment > c[best].token_alignment) best = i;
        double second = -1;
        for (size_t i = 0; i < n; i++)
            if (i != best && c[i].token_alignment > second) second = c[i].token_alignment;
        if (c[best].token_alignment >= 0.5 && c[best].token_alignment - (second > 0 ? second : 0) >= 0.25)
            json_set_str(ar, d->root, "tokenizer_closest", c[best].path);
        if (!d->root) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    free(c);
    free(panel);
    if (st) {
        lineage_doc_free(d);
        return st;
    }
    *out = d;
    return LINEAGE_OK;
}
