/* Verdict rules (BACKGROUND §5.2) on synthetic findings, independent of any analysis. */
#include <math.h>

#include "analysis/analysis.h"
#include "check.h"

static json_value *finding(arena *a, const char *line, const char *direction, double weight, const char *relation,
                           const char *component, int low_info)
{
    json_value *f = json_new_object(a);
    json_set_str(a, f, "line", line);
    json_set_str(a, f, "what", "synthetic finding");
    json_set_str(a, f, "direction", direction);
    json_set_double(a, f, "weight", weight);
    if (relation) json_set_str(a, f, "relation", relation);
    if (component) json_set_str(a, f, "component", component);
    if (low_info) json_set_bool(a, f, "low_information", 1);
    return f;
}

static void add(arena *a, json_value *root, const char *section, json_value *f)
{
    json_value *s = json_get(root, section);
    if (!s) { s = json_new_object(a); json_set(a, root, section, s); }
    json_value *list = json_get(s, "findings");
    if (!list) { list = json_new_array(a); json_set(a, s, "findings", list); }
    json_push(a, list, f);
}

static const char *verdict(arena *a, json_value *root, json_value **v)
{
    lineage_error err;
    if (verdict_build(root, a, v, &err)) return "error";
    return json_get_string(*v, "label");
}

static int has_relation(const json_value *v, const char *rel)
{
    const json_value *r = json_get(v, "relation");
    for (size_t i = 0; i < json_count(r); i++)
        if (!strcmp(json_at(r, i)->u.string.s, rel)) return 1;
    return 0;
}

int main(void)
{
    arena a;
    arena_init(&a, 0);
    json_value *root, *v;

    root = json_new_object(&a);
    CHECK(!strcmp(verdict(&a, root, &v), "inconclusive"), "no findings at all: inconclusive");
    double c0 = -1;
    json_get_double(v, "confidence", &c0);
    CHECK(c0 == 0,
          "inconclusive without any weight finding: confidence 0, no confidence (docs/METHODOLOGY.md), got %g", c0);

    /* weak weight findings both ways: inconclusive with confidence 1 - max(D, I) (docs/METHODOLOGY.md) */
    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.3, "finetune", NULL, 0));
    add(&a, root, "weights", finding(&a, "weights", "independent", 0.2, NULL, NULL, 0));
    double c1 = -1;
    const char *l1 = verdict(&a, root, &v);
    json_get_double(v, "confidence", &c1);
    CHECK(!strcmp(l1, "inconclusive") && fabs(c1 - 0.7) < 1e-9,
          "weights inconclusive (D 0.3, I 0.2): confidence 1 - max(D, I) = 0.7, got %g", c1);
    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "neutral", 0, NULL, NULL, 0));
    double c2 = -1;
    const char *l2 = verdict(&a, root, &v);
    json_get_double(v, "confidence", &c2);
    CHECK(!strcmp(l2, "inconclusive") && c2 == 1,
          "weights compared, no finding either way: confidence 1 - max(0, 0) = 1, got %g", c2);

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.95, "finetune", NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "derived") && has_relation(v, "finetune"), "strong weight evidence: derived (finetune)");

    root = json_new_object(&a);
    add(&a, root, "tokenizer", finding(&a, "tokenizer", "derived", 1.0, "tokenizer_copied", NULL, 0));
    CHECK(strcmp(verdict(&a, root, &v), "derived") != 0, "tokenizer reuse alone never makes weights derived (R4)");

    root = json_new_object(&a);
    add(&a, root, "architecture", finding(&a, "architecture", "independent", 1.0, "shape_mismatch", NULL, 0));
    CHECK(strcmp(verdict(&a, root, &v), "independent") != 0, "shape mismatch alone never means independent (R1)");
    CHECK(json_count(json_get(v, "reasons")) >= 1, "shape mismatch is explained in the reasons");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.99, "finetune", NULL, 1));
    CHECK(strcmp(verdict(&a, root, &v), "derived") != 0, "norm-only evidence cannot make a pair derived (R3)");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "independent", 0.9, NULL, NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "independent"), "high-information tensors at chance: independent (R6)");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.99, "identical", NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "identical") && json_count(json_get(v, "relation")) == 0, "identical values: identical");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.99, "identical", "vision", 0));
    add(&a, root, "weights", finding(&a, "weights", "independent", 0.9, NULL, "text", 0));
    CHECK(!strcmp(verdict(&a, root, &v), "derived"), "reused vision tower: the pair is related");
    const json_value *comps = json_get(v, "components");
    CHECK(!strcmp(json_get_string(json_get(comps, "text"), "label"), "independent") &&
              !strcmp(json_get_string(json_get(comps, "vision"), "label"), "identical"),
          "per-component verdicts: vision identical, text independent (R8)");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.9, "shared_ancestor", NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "derived") && has_relation(v, "shared_ancestor"), "siblings are related (R7)");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.9, "depth_upscaled", NULL, 0));
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.1, "noised", NULL, 0));
    verdict(&a, root, &v);
    CHECK(has_relation(v, "depth_upscaled") && !has_relation(v, "noised"), "relations list only what the evidence shows");
    double conf = -1;
    json_get_double(v, "confidence", &conf);
    CHECK(conf > 0.5 && conf <= 1, "confidence in (0.5, 1] for strong evidence");

    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.6, "finetune", NULL, 0));
    add(&a, root, "weights", finding(&a, "weights", "independent", 0.9, NULL, NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "independent") || !strcmp(json_get_string(v, "label"), "inconclusive"),
          "weaker derived evidence against strong independence is not called derived");
    arena_free(&a);
    /* Behaviour and activations: weights decide; activations decide when weights cannot; behaviour alone may
     * call a pair derived (capped) but never independent; disagreement is a reported conflict. */
    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.95, "finetune", NULL, 0));
    add(&a, root, "activations", finding(&a, "activations", "independent", 0.8, NULL, NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "derived") && json_count(json_get(v, "conflicts")) == 1 &&
              !strcmp(json_get_string(v, "decided_by"), "weights"),
          "weights derived, activations independent: derived, the conflict reported");
    root = json_new_object(&a);
    add(&a, root, "activations", finding(&a, "activations", "independent", 0.8, NULL, NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "independent") && !strcmp(json_get_string(v, "decided_by"), "activations"),
          "no weights, activations at chance: independent, decided by activations");
    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "derived", 0.3, "finetune", NULL, 0));
    add(&a, root, "activations", finding(&a, "activations", "derived", 0.9, "permuted", NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "derived") && has_relation(v, "permuted"),
          "weights inconclusive, activations matched: derived by activations");
    root = json_new_object(&a);
    add(&a, root, "behaviour", finding(&a, "behaviour", "derived", 0.95, NULL, NULL, 0));
    double bconf = 1;
    const char *lab = verdict(&a, root, &v);
    json_get_double(v, "confidence", &bconf);
    CHECK(!strcmp(lab, "derived") && bconf <= 0.7 + 1e-9, "behaviour alone: derived with confidence capped at 0.7 (%g)", bconf);
    root = json_new_object(&a);
    add(&a, root, "behaviour", finding(&a, "behaviour", "independent", 0.95, NULL, NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "inconclusive"), "behaviour alone never calls a pair independent");
    root = json_new_object(&a);
    add(&a, root, "weights", finding(&a, "weights", "independent", 0.9, NULL, NULL, 0));
    add(&a, root, "behaviour", finding(&a, "behaviour", "derived", 0.9, NULL, NULL, 0));
    CHECK(!strcmp(verdict(&a, root, &v), "independent") && json_count(json_get(v, "conflicts")) == 1,
          "weights independent, behaviour close: independent, the conflict reported");
    /* a direction beside a permutation or a rescaling: the sibling reading is named beside it */
    const char *reparam[] = {"permuted", "rescaled", "finetune"};
    for (int k = 0; k < 3; k++) {
        root = json_new_object(&a);
        json_value *f1 = finding(&a, "weights", "derived", 0.95, "pruned", NULL, 0);
        json_set_str(&a, f1, "lineage_direction", "b_from_a");
        add(&a, root, "weights", f1);
        json_value *f2 = finding(&a, "weights", "derived", 0.9, reparam[k], NULL, 0);
        json_set_str(&a, f2, "lineage_direction", "undetermined");
        add(&a, root, "weights", f2);
        const json_value *ind = NULL;
        int named = !strcmp(verdict(&a, root, &v), "derived") && (ind = json_get(v, "indistinguishable")) &&
                    json_count(ind) == 2 && !strcmp(json_at(ind, 0)->u.string.s, "b_from_a") &&
                    !strcmp(json_at(ind, 1)->u.string.s, "shared_ancestor");
        CHECK(!strcmp(json_get_string(v, "direction"), "b_from_a") && named == (k < 2),
              "pruned (B from A) with %s: direction b_from_a, shared_ancestor %s", reparam[k],
              k < 2 ? "declared indistinguishable" : "not declared");
    }
    arena_free(&a);

    CHECK_EXIT();
}
