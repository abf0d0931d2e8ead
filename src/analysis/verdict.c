/* The verdict: combines the findings every analysis emits into a label, relations, a confidence
 * and reasons. Rules and weights are documented in docs/METHODOLOGY.md; the short version:
 * weight findings decide whether a pair is derived or independent (BACKGROUND §5.1); when the
 * weights cannot decide (not compared, or inconclusive), activation findings (white box, calibrated
 * p-values) may, and failing those, behaviour findings may call a pair derived but never
 * independent. A line of evidence that disagrees with the deciding one is reported as a conflict.
 * Architecture and tokenizer findings shape the explanation, never the label (R1, R2, R4). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "util/error.h"

#define MAX_COMPONENTS 8
#define MAX_RELATIONS 16
#define LOW_INFORMATION_CAP 0.25

typedef struct finding_ref {
    const json_value *f;
    const char *line, *component, *direction, *relation;
    const char *lineage_direction;   /* which side is the parent, for a relation */
    double weight;
} finding_ref;

/* Strongest derived / independent weight of one non-weight line (activations, behaviour). */
typedef struct line_tally {
    double derived, independent;
    const char *derived_relation;
    const json_value *strongest_derived, *strongest_independent;
    int n;
} line_tally;

static void tally(line_tally *t, const finding_ref *r)
{
    t->n++;
    if (!strcmp(r->direction, "derived") && r->weight > t->derived) {
        t->derived = r->weight;
        t->derived_relation = r->relation;
        t->strongest_derived = r->f;
    } else if (!strcmp(r->direction, "independent") && r->weight > t->independent) {
        t->independent = r->weight;
        t->strongest_independent = r->f;
    }
}

typedef struct component_verdict {
    const char *name;
    double derived, independent, identical;   /* strongest weight of each direction */
    const char *relations[MAX_RELATIONS];
    const char *relation_dir[MAX_RELATIONS];
    const json_value *relation_finding[MAX_RELATIONS];
    double relation_weight[MAX_RELATIONS];
    int nrelations;
    int nweights;                              /* weight findings seen */
} component_verdict;

static const char *str_or(const json_value *o, const char *k, const char *def)
{
    const char *s = json_get_string(o, k);
    return s ? s : def;
}

static const char *const finding_sections[] = {"weights", "activations", "behaviour", "tokenizer", "architecture",
                                                "metadata"};
#define N_FINDING_SECTIONS (sizeof finding_sections / sizeof finding_sections[0])

static size_t count_findings(const json_value *root)
{
    size_t n = 0;
    for (size_t s = 0; s < N_FINDING_SECTIONS; s++) n += json_count(json_get(json_get(root, finding_sections[s]), "findings"));
    return n;
}

static size_t collect(const json_value *root, finding_ref *out, size_t max)
{
    const char *const *sections = finding_sections;
    size_t n = 0;
    for (size_t s = 0; s < N_FINDING_SECTIONS; s++) {
        const json_value *list = json_get(json_get(root, sections[s]), "findings");
        for (size_t i = 0; i < json_count(list) && n < max; i++) {
            const json_value *f = json_at(list, i);
            if (!f || f->type != JSON_OBJECT) continue;
            finding_ref *r = &out[n++];
            r->f = f;
            r->line = str_or(f, "line", sections[s]);
            r->component = str_or(f, "component", "text");
            r->direction = str_or(f, "direction", "neutral");
            r->relation = json_get_string(f, "relation");
            r->lineage_direction = str_or(f, "lineage_direction", "undetermined");
            double w = 0;
            json_get_double(f, "weight", &w);
            r->weight = w < 0 ? 0 : w > 1 ? 1 : w;
            /* R3: norms, biases and other low-information tensors are at most weak support */
            if (json_is_true(json_get(f, "low_information")) && r->weight > LOW_INFORMATION_CAP)
                r->weight = LOW_INFORMATION_CAP;
        }
    }
    return n;
}

static component_verdict *component_of(component_verdict *cv, int *ncv, const char *name)
{
    for (int i = 0; i < *ncv; i++)
        if (!strcmp(cv[i].name, name)) return &cv[i];
    if (*ncv >= MAX_COMPONENTS) return &cv[*ncv - 1];
    component_verdict *c = &cv[(*ncv)++];
    memset(c, 0, sizeof *c);
    c->name = name;
    return c;
}

static void add_relation(component_verdict *c, const finding_ref *r)
{
    for (int i = 0; i < c->nrelations; i++)
        if (!strcmp(c->relations[i], r->relation)) {
            if (r->weight > c->relation_weight[i]) c->relation_weight[i] = r->weight;
            /* a side named by one finding outranks "undetermined" from another; two sides cancel */
            if (!strcmp(c->relation_dir[i], "undetermined")) {
                c->relation_dir[i] = r->lineage_direction;
                c->relation_finding[i] = r->f;
            } else if (strcmp(r->lineage_direction, "undetermined") && strcmp(r->lineage_direction, c->relation_dir[i]))
                c->relation_dir[i] = "undetermined";
            return;
        }
    if (c->nrelations < MAX_RELATIONS) {
        c->relations[c->nrelations] = r->relation;
        c->relation_dir[c->nrelations] = r->lineage_direction;
        c->relation_finding[c->nrelations] = r->f;
        c->relation_weight[c->nrelations++] = r->weight;
    }
}

/* Per relation of a component: kind, direction and the finding that carried it. Also the direction
 * of the whole pair: the side every directed relation agrees on, else "undetermined". */
static json_value *relation_details(arena *ar, const component_verdict *c, const json_value *kinds, const char **dir)
{
    json_value *out = json_new_array(ar);
    const char *agreed = NULL;
    int conflict = 0;
    for (size_t k = 0; k < json_count(kinds); k++) {
        const char *kind = json_at(kinds, k)->u.string.s;
        for (int i = 0; i < c->nrelations; i++) {
            if (strcmp(c->relations[i], kind)) continue;
            json_value *o = json_new_object(ar);
            json_set_str(ar, o, "kind", kind);
            json_set_str(ar, o, "direction", c->relation_dir[i]);
            const json_value *t = json_get(c->relation_finding[i], "text");
            if (json_get_string(t, "en")) json_set_str(ar, o, "evidence", json_get_string(t, "en"));
            if (json_get_string(t, "ko")) json_set_str(ar, o, "evidence_ko", json_get_string(t, "ko"));
            json_push(ar, out, o);
            if (strcmp(c->relation_dir[i], "undetermined")) {
                if (agreed && strcmp(agreed, c->relation_dir[i])) conflict = 1;
                agreed = c->relation_dir[i];
            }
        }
    }
    *dir = agreed && !conflict ? agreed : "undetermined";
    return out;
}

/* Label of one component from its weight findings. */
static const char *label_of(const component_verdict *c, double *confidence)
{
    if (c->nweights == 0) {
        *confidence = 0;
        return "inconclusive";
    }
    if (c->identical >= 0.9 && c->independent < 0.5) {
        *confidence = c->identical;
        return "identical";
    }
    if (c->derived >= 0.5 && c->derived >= c->independent) {
        /* conflicting strong independence evidence lowers confidence */
        *confidence = c->derived * (1 - 0.5 * c->independent);
        return "derived";
    }
    if (c->independent >= 0.5) {
        *confidence = c->independent * (1 - c->derived);
        return "independent";
    }
    *confidence = 1 - fmax(c->derived, c->independent);
    return "inconclusive";
}

static json_value *relation_array(arena *ar, const component_verdict *c, double min_weight)
{
    json_value *rels = json_new_array(ar);
    /* strongest first */
    int order[MAX_RELATIONS];
    for (int i = 0; i < c->nrelations; i++) order[i] = i;
    for (int i = 1; i < c->nrelations; i++)
        for (int j = i; j > 0 && c->relation_weight[order[j]] > c->relation_weight[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < c->nrelations; i++)
        if (c->relation_weight[order[i]] >= min_weight && strcmp(c->relations[order[i]], "identical"))
            json_push(ar, rels, json_new_string(ar, c->relations[order[i]]));
    return rels;
}

static void add_reason(arena *ar, json_value *reasons, json_value *reasons_ko, const char *en, const char *ko)
{
    json_push(ar, reasons, json_new_string(ar, en));
    json_push(ar, reasons_ko, json_new_string(ar, ko ? ko : en));
}

/* What the weights say, in words, for setting beside a card's claim. */
static void weights_say(const json_value *v, char *en, size_t ne, char *ko, size_t nk)
{
    const char *label = json_get_string(v, "label"), *dir = json_get_string(v, "direction");
    const json_value *rel = json_get(v, "relation");
    char kinds[200] = "";
    for (size_t k = 0; k < json_count(rel) && strlen(kinds) < 150; k++)
        snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", k ? ", " : "", json_at(rel, k)->u.string.s);
    const char *d_en = !dir ? "" : !strcmp(dir, "b_from_a") ? ", B from A" : !strcmp(dir, "a_from_b") ? ", A from B"
                      : !strcmp(dir, "undetermined") ? ", direction undetermined" : "";
    const char *d_ko = !dir ? "" : !strcmp(dir, "b_from_a") ? ", B가 A에서 파생" : !strcmp(dir, "a_from_b") ? ", A가 B에서 파생"
                      : !strcmp(dir, "undetermined") ? ", 방향 판단 불가" : "";
    snprintf(en, ne, "%s%s%s%s%s", label, kinds[0] ? " (" : "", kinds, kinds[0] ? ")" : "", d_en);
    const char *lk = !strcmp(label, "derived") ? "파생" : !strcmp(label, "identical") ? "동일"
                   : !strcmp(label, "independent") ? "독립" : "판단 불가";
    snprintf(ko, nk, "%s%s%s%s%s", lk, kinds[0] ? " (" : "", kinds, kinds[0] ? ")" : "", d_ko);
}

/* The models' own claims about their origin (card base_model, GGUF base model, _name_or_path), each
 * beside what the weights say. Editable text: shown, never weighed (R9). */
static json_value *metadata_claims(const json_value *root, const json_value *v, arena *ar)
{
    json_value *out = json_new_array(ar);
    char say_en[300], say_ko[300];
    weights_say(v, say_en, sizeof say_en, say_ko, sizeof say_ko);
    static const char *const sides[2] = {"a", "b"};
    for (int s = 0; s < 2; s++) {
        const json_value *list = json_get(json_get(root, "clues"), sides[s]);
        for (size_t i = 0; i < json_count(list); i++) {
            const json_value *c = json_at(list, i);
            const char *kind = json_get_string(c, "kind"), *value = json_get_string(c, "value");
            if (!kind || !value) continue;
            const char *what = !strcmp(kind, "card_base_model") || !strcmp(kind, "gguf_base_model") ? "base model"
                             : !strcmp(kind, "card_base_model_relation") ? "relation to its base"
                             : !strcmp(kind, "config_name_or_path") ? "_name_or_path" : NULL;
            if (!what) continue;
            char en[700], ko[700];
            snprintf(en, sizeof en, "%s's metadata claims %s '%s'; the weights say: %s", s ? "B" : "A", what, value, say_en);
            snprintf(ko, sizeof ko, "%s의 메타데이터 주장 %s '%s'; 가중치 판정: %s", s ? "B" : "A",
                     !strcmp(what, "base model") ? "베이스 모델" : !strcmp(what, "_name_or_path") ? "_name_or_path"
                                                                                             : "베이스와의 관계",
                     value, say_ko);
            json_value *o = json_new_object(ar);
            json_set_str(ar, o, "model", sides[s]);
            json_set_str(ar, o, "kind", kind);
            json_set_str(ar, o, "claim", value);
            json_set_str(ar, o, "en", en);
            json_set_str(ar, o, "ko", ko);
            json_push(ar, out, o);
        }
    }
    return out;
}

lineage_status verdict_build(const json_value *root, arena *ar, json_value **out, lineage_error *err)
{
    /* every finding counts: the references live in the report's arena, not in a fixed buffer */
    size_t nmax = count_findings(root);
    finding_ref *refs = nmax ? arena_calloc(ar, nmax, sizeof *refs) : NULL;
    if (nmax && !refs) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t n = collect(root, refs, nmax);
    component_verdict cv[MAX_COMPONENTS];
    int ncv = 0;
    component_of(cv, &ncv, "text");
    int tokenizer_reuse = 0, shapes_differ = 0;
    line_tally act = {0}, beh = {0};
    /* the activation line's own relations (a pruned MLP, repeated layers), for when it decides */
    component_verdict act_rel;
    memset(&act_rel, 0, sizeof act_rel);
    act_rel.name = "activations";
    for (size_t i = 0; i < n; i++) {
        finding_ref *r = &refs[i];
        if (!strcmp(r->line, "activations")) tally(&act, r);
        if (!strcmp(r->line, "activations") && !strcmp(r->direction, "derived") && r->relation) add_relation(&act_rel, r);
        if (!strcmp(r->line, "behaviour")) tally(&beh, r);
        if (!strcmp(r->line, "tokenizer") && !strcmp(r->direction, "derived")) tokenizer_reuse = 1;
        if (!strcmp(r->line, "architecture") && r->relation && !strcmp(r->relation, "shape_mismatch")) shapes_differ = 1;
        if (strcmp(r->line, "weights")) continue;   /* only weights decide the weight question */
        component_verdict *c = component_of(cv, &ncv, r->component);
        c->nweights++;
        if (!strcmp(r->direction, "derived")) {
            if (r->relation && !strcmp(r->relation, "identical")) {
                if (r->weight > c->identical) c->identical = r->weight;
            } else if (r->weight > c->derived) {
                c->derived = r->weight;
            }
            if (r->relation) add_relation(c, r);
        } else if (!strcmp(r->direction, "independent")) {
            if (r->weight > c->independent) c->independent = r->weight;
        }
    }
    json_value *v = json_new_object(ar), *evidence = json_new_array(ar), *reasons = json_new_array(ar),
               *reasons_ko = json_new_array(ar), *components = json_new_object(ar);
    if (!v || !evidence || !reasons || !reasons_ko || !components)
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    /* per component, then the overall label */
    const char *overall = "inconclusive";
    double overall_conf = 0;
    json_value *overall_rel = json_new_array(ar);
    int any_related = 0, all_identical = 1, any_independent = 0, judged = 0;
    for (int i = 0; i < ncv; i++) {
        double conf;
        const char *label = label_of(&cv[i], &conf);
        json_value *cj = json_new_object(ar);
        json_set_str(ar, cj, "label", label);
        json_value *rels = relation_array(ar, &cv[i], 0.3);
        if (!strcmp(label, "identical")) {
            rels = json_new_array(ar);
            for (int k = 0; k < cv[i].nrelations; k++)
                if (!strcmp(cv[i].relations[k], "requantized")) json_push(ar, rels, json_new_string(ar, "requantized"));
        }
        json_set(ar, cj, "relation", rels);
        json_set_double(ar, cj, "confidence", round(conf * 1000) / 1000);
        json_set(ar, components, cv[i].name, cj);
        if (!cv[i].nweights) continue;
        judged++;
        if (!strcmp(label, "derived") || !strcmp(label, "identical")) {
            any_related = 1;
            for (size_t k = 0; k < json_count(rels); k++) json_push(ar, overall_rel, json_at(rels, k));
        }
        if (strcmp(label, "identical")) all_identical = 0;
        if (!strcmp(label, "independent")) any_independent = 1;
        if (conf > overall_conf || !strcmp(cv[i].name, "text")) overall_conf = conf;
    }
    if (judged && all_identical) overall = "identical";
    else if (any_related) overall = "derived";
    else if (judged && any_independent) overall = "independent";
    if (!judged) overall_conf = 0;
    /* overall confidence: the text decoder's, else the strongest component's */
    {
        double c;
        const char *tl = label_of(&cv[0], &c);
        if (cv[0].nweights && !strcmp(tl, overall)) overall_conf = c;
    }
    /* When the weights cannot decide: activations may (both ways), then behaviour (derived only). */
    const char *decided_by = judged && strcmp(overall, "inconclusive") ? "weights" : NULL;
    json_value *conflicts = json_new_array(ar);
    const line_tally *fallback[2] = {&act, &beh};
    const char *fallback_name[2] = {"activations", "behaviour"};
    for (int k = 0; k < 2 && !decided_by; k++) {
        const line_tally *t = fallback[k];
        int may_call_independent = k == 0;
        if (t->derived >= 0.5 && t->derived >= t->independent) {
            overall = "derived";
            overall_conf = t->derived * (1 - 0.5 * t->independent);
            if (k == 1 && overall_conf > 0.7) overall_conf = 0.7;   /* black box alone: capped */
            overall_rel = k == 0 ? relation_array(ar, &act_rel, 0.3) : json_new_array(ar);
            if (k == 1 && t->derived_relation) json_push(ar, overall_rel, json_new_string(ar, t->derived_relation));
            decided_by = fallback_name[k];
        } else if (may_call_independent && t->independent >= 0.5) {
            overall = "independent";
            overall_conf = t->independent * (1 - t->derived);
            decided_by = fallback_name[k];
        }
    }
    /* conflicts: a line pointing the other way with weight >= 0.5 */
    if (decided_by) {
        int related = strcmp(overall, "independent") != 0;
        for (int k = 0; k < 2; k++) {
            const line_tally *t = fallback[k];
            if (!strcmp(decided_by, fallback_name[k])) continue;
            const json_value *against = related ? (t->independent >= 0.5 ? t->strongest_independent : NULL)
                                                : (t->derived >= 0.5 ? t->strongest_derived : NULL);
            if (!against) continue;
            json_value *c = json_new_object(ar);
            json_set_str(ar, c, "line", fallback_name[k]);
            json_set_str(ar, c, "says", related ? "independent" : "derived");
            json_set_str(ar, c, "decided_by", decided_by);
            json_set(ar, c, "finding", (json_value *)against);
            json_push(ar, conflicts, c);
        }
    }
    json_set_str(ar, v, "label", overall);
    json_set(ar, v, "relation", overall_rel);
    /* which side is the parent, per relation and overall: from the weights, or from the activation
     * line's relations when it decided (behaviour says nothing about direction) */
    const char *direction = "undetermined";
    int derived_by = !strcmp(overall, "derived") && decided_by;
    json_value *details = derived_by && !strcmp(decided_by, "weights") ? relation_details(ar, &cv[0], overall_rel, &direction)
                          : derived_by && !strcmp(decided_by, "activations") ? relation_details(ar, &act_rel, overall_rel, &direction)
                                                                               : json_new_array(ar);
    json_set_str(ar, v, "direction", strcmp(overall, "derived") ? "none" : direction);
    json_set(ar, v, "relations", details);
    json_set_str(ar, v, "decided_by", decided_by ? decided_by : "none");
    if (json_count(conflicts)) json_set(ar, v, "conflicts", conflicts);
    json_set_double(ar, v, "confidence", round(overall_conf * 1000) / 1000);
    if (ncv > 1) json_set(ar, v, "components", components);

    /* evidence: every finding, strongest first */
    for (double cut = 1.0001; cut > -0.5; cut -= 0.1)
        for (size_t i = 0; i < n; i++)
            if (refs[i].weight < cut && refs[i].weight >= cut - 0.1) json_push(ar, evidence, (json_value *)refs[i].f);
    json_set(ar, v, "evidence", evidence);

    /* reasons in plain words */
    if (decided_by && strcmp(decided_by, "weights")) {
        char en[600], ko[600];
        int compared = json_get(root, "weights") != NULL;
        snprintf(en, sizeof en, "The weights %s, so the %s evidence decides it%s.",
                 compared ? "could not decide this pair" : "were not compared in this run (--only)", decided_by,
                 !strcmp(decided_by, "behaviour") ? " (black-box evidence alone: confidence capped at 0.7)" : "");
        snprintf(ko, sizeof ko, compared ? "가중치로는 이 쌍을 판정할 수 없어 %s 근거로 판정합니다%s."
                                         : "이번 실행에서는 가중치를 비교하지 않아(--only) %s 근거로 판정합니다%s.",
                 !strcmp(decided_by, "behaviour") ? "출력 분포" : "활성값",
                 !strcmp(decided_by, "behaviour") ? " (블랙박스 근거만으로는 신뢰도 최대 0.7)" : "");
        add_reason(ar, reasons, reasons_ko, en, ko);
        const line_tally *t = !strcmp(decided_by, "activations") ? &act : &beh;
        const json_value *f = !strcmp(overall, "independent") ? t->strongest_independent : t->strongest_derived;
        const json_value *tx = json_get(f, "text");
        if (json_get_string(tx, "en")) add_reason(ar, reasons, reasons_ko, json_get_string(tx, "en"), json_get_string(tx, "ko"));
    }
    for (size_t k = 0; k < json_count(conflicts); k++) {
        const json_value *c = json_at(conflicts, k);
        const char *line = json_get_string(c, "line"), *says = json_get_string(c, "says");
        char en[700], ko[700];
        const char *what = json_get_string(json_get(c, "finding"), "what");
        snprintf(en, sizeof en, "Conflict: the %s evidence points to %s (%s); the verdict follows the %s, which decide.",
                 line, says, what ? what : "", decided_by);
        snprintf(ko, sizeof ko, "상충: %s 근거는 %s 쪽을 가리킵니다 (%s). 판정은 우선하는 %s 근거를 따릅니다.",
                 !strcmp(line, "behaviour") ? "출력 분포" : "활성값", !strcmp(says, "derived") ? "파생" : "독립",
                 what ? what : "", !strcmp(decided_by, "weights") ? "가중치" : "활성값");
        add_reason(ar, reasons, reasons_ko, en, ko);
    }
    if (decided_by && strcmp(decided_by, "weights")) {
        /* the fallback decided: the "no weights" sentences below would contradict it */
    } else if (!judged && !json_get(root, "weights"))
        add_reason(ar, reasons, reasons_ko,
                   "The weights were not compared in this run (--only), so there is no verdict on derivation; the "
                   "sections below describe the models.",
                   "이번 실행에서는 가중치를 비교하지 않았으므로(--only) 파생 여부에 대한 판정이 없습니다. 아래 "
                   "항목은 모델을 설명합니다.");
    else if (!judged)
        add_reason(ar, reasons, reasons_ko,
                   "No weight comparison could be made, so no claim about derivation is possible; the other lines of "
                   "evidence below describe the models but do not decide the question.",
                   "가중치 비교를 할 수 없어 파생 여부를 판단할 수 없습니다. 아래의 다른 근거는 모델을 설명할 뿐 "
                   "질문에 답하지 않습니다.");
    /* A function-preserving change (permutation, rescaling) can be undone, so "B derived from A through
     * it" and "A and B descend from one ancestor, A re-parametrized" are the same weights: the direction
     * the other relations give stands, and the sibling reading is named beside it. */
    int reparam = 0;
    for (size_t k = 0; k < json_count(overall_rel); k++) {
        const char *kind = json_at(overall_rel, k)->u.string.s;
        reparam |= !strcmp(kind, "permuted") || !strcmp(kind, "rescaled");
    }
    const char *vdir = json_get_string(v, "direction");
    if (reparam && (!strcmp(vdir, "b_from_a") || !strcmp(vdir, "a_from_b"))) {
        json_value *alt = json_new_array(ar);
        json_push(ar, alt, json_new_string(ar, vdir));
        json_push(ar, alt, json_new_string(ar, "shared_ancestor"));
        json_set(ar, v, "indistinguishable", alt);
        add_reason(ar, reasons, reasons_ko,
                   "A permutation or rescaling can be undone: from the weights alone this pair is also two descendants "
                   "of a common ancestor, one of them re-parametrized.",
                   "순열이나 재스케일링은 되돌릴 수 있으므로, 가중치만으로는 이 쌍이 공통 조상의 두 후손(그중 하나가 "
                   "재매개변수화됨)일 수도 있습니다.");
    }
    if (!strcmp(json_get_string(v, "direction"), "b_from_a"))
        add_reason(ar, reasons, reasons_ko, "Direction: A -> B (B derived from A), from the weights.",
                   "방향: A -> B (B가 A에서 파생), 가중치로 판단했습니다.");
    else if (!strcmp(json_get_string(v, "direction"), "a_from_b"))
        add_reason(ar, reasons, reasons_ko, "Direction: B -> A (A derived from B), from the weights.",
                   "방향: B -> A (A가 B에서 파생), 가중치로 판단했습니다.");
    else if (!strcmp(overall, "derived") && decided_by && !strcmp(decided_by, "weights")) {
        int siblings = 0;
        for (size_t k = 0; k < json_count(overall_rel); k++)
            siblings |= !strcmp(json_at(overall_rel, k)->u.string.s, "shared_ancestor");
        if (!siblings) {
            json_value *alt = json_new_array(ar);
            json_push(ar, alt, json_new_string(ar, "b_from_a"));
            json_push(ar, alt, json_new_string(ar, "a_from_b"));
            json_push(ar, alt, json_new_string(ar, "shared_ancestor"));
            json_set(ar, v, "indistinguishable", alt);
            add_reason(ar, reasons, reasons_ko,
                       "Direction undetermined: from the weights alone, B derived from A, A derived from B and two "
                       "descendants of a common ancestor look the same here (model cards and names do not decide it).",
                       "방향 판단 불가: 가중치만으로는 B가 A에서 파생, A가 B에서 파생, 공통 조상의 두 후손을 여기서 "
                       "구별할 수 없습니다 (모델 카드나 이름으로 정하지 않습니다).");
        }
    }
    /* relation kinds the weights can neither show nor exclude (a noise under continued pre-training) */
    if (!strcmp(overall, "derived") && decided_by && !strcmp(decided_by, "weights")) {
        json_value *hidden = json_new_array(ar);
        for (size_t i = 0; hidden && i < n; i++) {
            const char *k = strcmp(refs[i].line, "weights") ? NULL : json_get_string(refs[i].f, "indistinguishable_kind");
            int seen = 0;
            for (size_t j = 0; k && j < json_count(hidden); j++) seen |= !strcmp(json_at(hidden, j)->u.string.s, k);
            if (k && !seen) json_push(ar, hidden, json_new_string(ar, k));
        }
        if (json_count(hidden)) json_set(ar, v, "indistinguishable_kinds", hidden);
    }
    for (size_t i = 0; i < n && json_count(reasons) < 9; i++) {   /* the evidence first */
        if (strcmp(refs[i].line, "weights") || refs[i].weight < 0.5) continue;
        const json_value *t = json_get(refs[i].f, "text");
        const char *en = json_get_string(t, "en"), *ko = json_get_string(t, "ko");
        if (!en) en = json_get_string(refs[i].f, "what");
        if (en) add_reason(ar, reasons, reasons_ko, en, ko);
    }
    for (size_t i = 0; i < n; i++) {   /* then what the weights set aside or cannot tell */
        if (strcmp(refs[i].line, "weights") || !json_is_true(json_get(refs[i].f, "note"))) continue;
        const json_value *t = json_get(refs[i].f, "text");
        if (json_get_string(t, "en")) add_reason(ar, reasons, reasons_ko, json_get_string(t, "en"), json_get_string(t, "ko"));
    }
    if (tokenizer_reuse)
        add_reason(ar, reasons, reasons_ko,
                   "The tokenizer is shared or extended; that is a tokenizer finding, not evidence that weights were "
                   "copied (a from-scratch model can reuse a public tokenizer).",
                   "토크나이저가 공유되었거나 확장되었습니다. 이는 토크나이저에 대한 발견일 뿐, 가중치 복사의 "
                   "증거가 아닙니다(처음부터 학습한 모델도 공개 토크나이저를 쓸 수 있습니다).");
    if (shapes_differ)
        add_reason(ar, reasons, reasons_ko,
                   "Tensor shapes differ; a shape mismatch alone is not evidence of independence (up-scaling, pruning, "
                   "vocabulary extension and upcycling all change shapes).",
                   "텐서 모양이 다릅니다. 모양 차이만으로는 독립의 증거가 되지 않습니다(깊이 확장, 가지치기, "
                   "어휘 확장, 전문가 혼합 업사이클링 모두 모양을 바꿉니다).");
    json_set(ar, v, "reasons", reasons);
    json_set(ar, v, "reasons_ko", reasons_ko);
    json_value *claims = metadata_claims(root, v, ar);
    if (json_count(claims)) json_set(ar, v, "clues", claims);
    *out = v;
    return LINEAGE_OK;
}
