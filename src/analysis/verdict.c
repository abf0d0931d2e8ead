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

static void add_relation(component_verdict *c, const char *rel, double w)
{
    for (int i = 0; i < c->nrelations; i++)
        if (!strcmp(c->relations[i], rel)) {
            if (w > c->relation_weight[i]) c->relation_weight[i] = w;
            return;
        }
    if (c->nrelations < MAX_RELATIONS) {
        c->relations[c->nrelations] = rel;
        c->relation_weight[c->nrelations++] = w;
    }
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
    for (size_t i = 0; i < n; i++) {
        finding_ref *r = &refs[i];
        if (!strcmp(r->line, "activations")) tally(&act, r);
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
            if (r->relation) add_relation(c, r->relation, r->weight);
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
            overall_rel = json_new_array(ar);
            if (t->derived_relation) json_push(ar, overall_rel, json_new_string(ar, t->derived_relation));
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
    for (size_t i = 0; i < n && json_count(reasons) < 6; i++) {
        if (strcmp(refs[i].line, "weights") || refs[i].weight < 0.5) continue;
        const json_value *t = json_get(refs[i].f, "text");
        const char *en = json_get_string(t, "en"), *ko = json_get_string(t, "ko");
        if (!en) en = json_get_string(refs[i].f, "what");
        if (en) add_reason(ar, reasons, reasons_ko, en, ko);
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
                   "텐서 형태가 다릅니다. 형태 차이만으로는 독립의 증거가 되지 않습니다(업스케일링, 가지치기, "
                   "어휘 확장, 업사이클링 모두 형태를 바꿉니다).");
    json_set(ar, v, "reasons", reasons);
    json_set(ar, v, "reasons_ko", reasons_ko);
    *out = v;
    return LINEAGE_OK;
}
