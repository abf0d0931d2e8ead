/* "behaviour" section of lineage.report/1: how alike A's and B's next-token distributions are on the
 * probe set (top-1 agreement, Jensen-Shannon divergence, rank correlation of the top-k, each with a
 * bootstrap interval over probes), and, with a panel of unrelated models, whether B is closer to A than
 * to every one of them (paired one-sided Wilcoxon tests, Holm-Bonferroni). docs/METHODOLOGY.md, Behaviour. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/behaviour.h"
#include "util/error.h"

#define ALPHA 0.05
/* Finding weights (docs/METHODOLOGY.md): behaviour corroborates, it never carries a verdict alone. */
#define WEIGHT_DERIVED 0.6
#define WEIGHT_INDEPENDENT 0.4
#define WEIGHT_NEUTRAL 0.1
#define MAX_CATEGORIES 16
/* Panel models per comparison: each model's distributions stay cached while the section runs. */
#define MAX_PANEL 14

#define NOMEM(err) error_set(err, LINEAGE_E_NOMEM, "out of memory")

typedef struct pair_stats {
    double *jsd, *top1, *rho;   /* per probe */
} pair_stats;

static lineage_status pair_compute(const bdist_set *x, const bdist_set *y, pair_stats *ps, lineage_error *err)
{
    size_t n = x->count;
    ps->jsd = malloc(3 * (n ? n : 1) * sizeof(double));
    if (!ps->jsd) return NOMEM(err);
    ps->top1 = ps->jsd + n;
    ps->rho = ps->top1 + n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x->d[i].other) || isnan(y->d[i].other)) {   /* a side could not encode the probe */
            ps->jsd[i] = ps->top1[i] = ps->rho[i] = NAN;
            continue;
        }
        ps->jsd[i] = bdist_jsd(&x->d[i], &y->d[i]);
        ps->top1[i] = x->d[i].n && y->d[i].n ? bdist_top1_agree(&x->d[i], &y->d[i]) : NAN;
        ps->rho[i] = bdist_rank_corr(&x->d[i], &y->d[i]);
    }
    return LINEAGE_OK;
}

static double round4(double v) { return round(v * 1e4) / 1e4; }

/* {value, ci95: [lo, hi], n} of the probes in idx (all when idx is NULL). */
static json_value *estimate(arena *ar, const double *v, const size_t *idx, size_t n, double *mean_out)
{
    double *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return NULL;
    for (size_t i = 0; i < n; i++) tmp[i] = v[idx ? idx[i] : i];
    double mean, lo, hi;
    size_t k = bootstrap_mean_ci(tmp, n, BEHAVIOUR_BOOTSTRAP, BEHAVIOUR_SEED, &mean, &lo, &hi);
    free(tmp);
    if (mean_out) *mean_out = mean;
    json_value *o = json_new_object(ar), *ci = json_new_array(ar);
    if (k) {
        json_set_double(ar, o, "value", round4(mean));
        json_push(ar, ci, json_new_double(ar, round4(lo)));
        json_push(ar, ci, json_new_double(ar, round4(hi)));
    } else {
        json_set(ar, o, "value", json_new_null(ar));
    }
    json_set(ar, o, "ci95", ci);
    json_set_int(ar, o, "n", (int64_t)k);
    return o;
}

static double mean_of(const double *v, size_t n)
{
    double s = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) { s += v[i]; k++; }
    return k ? s / (double)k : NAN;
}

static json_value *side_json(arena *ar, const bdist_set *s, const lineage_model *m)
{
    json_value *o = json_new_object(ar);
    json_set_str(ar, o, "model", lineage_model_path(m));
    json_set_str(ar, o, "source", s->source);
    if (!strcmp(s->source, "endpoint")) {
        json_set_str(ar, o, "url", s->url);
        json_set_str(ar, o, "served_model", s->served_model);
    }
    json_set_double(ar, o, "tokens_per_probe", round(s->tokens_per_probe * 100) / 100);
    json_set_int(ar, o, "probes_not_encodable", (int64_t)s->missing);
    return o;
}

static json_value *finding(arena *ar, const char *direction, double weight, double value, double p, const char *en,
                           const char *ko, const char *control, size_t npanel)
{
    finding_args f = {.line = "behaviour", .direction = direction, .en = en, .ko = ko, .value = round4(value),
                      .p = p, .has_p = 1, .weight = weight, .control = control,
                      .control_key = npanel ? "behaviour_panel" : "behaviour_none", .control_nvalues = npanel ? 1 : 0,
                      .control_values = {(double)npanel, 0}};
    return finding_make(ar, &f);
}

static lineage_status not_run(arena *ar, const char *reason, json_value **out, lineage_error *err)
{
    json_value *o = json_new_object(ar);
    if (!o || !json_set_str(ar, o, "status", "not_run") || !json_set_str(ar, o, "reason", reason)) return NOMEM(err);
    *out = o;
    return LINEAGE_OK;
}

/* Distributions of one side; a model the engine cannot run natively gives *why instead of an error. */
static lineage_status side_dists(const lineage_model *m, const char *endpoint, const lineage_compare_options *opt,
                                 const probe_set *ps, const bdist_set **out, char *why, size_t why_len,
                                 lineage_error *err)
{
    lineage_status st = behaviour_dists(m, endpoint, opt->probes_file, ps, opt->threads, out, err);
    if (st == LINEAGE_E_UNSUPPORTED && !endpoint) {
        snprintf(why, why_len, "%s", err->message);
        return LINEAGE_OK;
    }
    return st;
}

typedef struct panel_result {
    const char *model;
    double jsd, top1, margin, p_raw, p_holm, p_rev, p_rev_holm;
    pair_stats st;
} panel_result;

lineage_status behaviour_compare_section(const lineage_model *a, const lineage_model *b,
                                         const lineage_compare_options *opt, arena *ar, json_value **out,
                                         lineage_error *err)
{
    *out = NULL;
    if (opt->npanel > MAX_PANEL)
        return error_set(err, LINEAGE_E_USAGE, "at most %d panel models (got %zu)", MAX_PANEL, opt->npanel);
    probe_set ps;
    lineage_status st = probes_load(opt->probes_file, ar, &ps, err);
    if (st) return st;
    char why[1100] = "";
    const bdist_set *da = NULL, *db = NULL;
    st = side_dists(a, opt->endpoint_a, opt, &ps, &da, why, sizeof why, err);
    if (!st && !why[0]) st = side_dists(b, opt->endpoint_b, opt, &ps, &db, why, sizeof why, err);
    if (st) return st;
    if (why[0]) return not_run(ar, why, out, err);
    panel_result *pr = calloc(opt->npanel ? opt->npanel : 1, sizeof *pr);
    pair_stats ab = {0};
    if (!pr) return NOMEM(err);
    st = pair_compute(da, db, &ab, err);
    size_t npanel = 0;
    for (size_t k = 0; !st && k < opt->npanel; k++) {
        const bdist_set *dp = NULL;
        char pwhy[1100] = "";
        st = side_dists(opt->panel[k], NULL, opt, &ps, &dp, pwhy, sizeof pwhy, err);
        if (!st && pwhy[0]) st = error_set(err, LINEAGE_E_UNSUPPORTED, "panel model %s", pwhy);
        if (st) break;
        panel_result *r = &pr[npanel++];
        r->model = lineage_model_path(opt->panel[k]);
        if ((st = pair_compute(db, dp, &r->st, err))) break;
        size_t n = ps.count;
        double *d = malloc((n ? n : 1) * sizeof *d);
        if (!d) { st = NOMEM(err); break; }
        double w;
        for (size_t i = 0; i < n; i++) d[i] = r->st.jsd[i] - ab.jsd[i];   /* > 0: B is closer to A than to P */
        r->p_raw = wilcoxon_greater(d, n, &w);
        for (size_t i = 0; i < n; i++) d[i] = -d[i];
        r->p_rev = wilcoxon_greater(d, n, &w);
        free(d);
        r->jsd = mean_of(r->st.jsd, n);
        r->top1 = mean_of(r->st.top1, n);
        r->margin = r->jsd - mean_of(ab.jsd, n);
    }
    json_value *s = json_new_object(ar);
    if (!st && !s) st = NOMEM(err);
    if (!st) {
        size_t n = ps.count;
        json_set_str(ar, s, "status", "ok");
        json_value *probes = json_new_object(ar), *cats = json_new_array(ar);
        json_set_int(ar, probes, "count", (int64_t)n);
        json_set_str(ar, probes, "source", opt->probes_file ? opt->probes_file : "built-in");
        json_set_int(ar, probes, "top_k", BEHAVIOUR_TOP_K);
        /* categories in order of first appearance */
        const char *cat[MAX_CATEGORIES];
        size_t ncat = 0;
        for (size_t i = 0; i < n; i++) {
            size_t c = 0;
            while (c < ncat && strcmp(cat[c], ps.items[i].category)) c++;
            if (c == ncat && ncat < MAX_CATEGORIES) cat[ncat++] = ps.items[i].category;
        }
        for (size_t c = 0; c < ncat; c++) json_push(ar, cats, json_new_string(ar, cat[c]));
        json_set(ar, probes, "categories", cats);
        json_set(ar, s, "probes", probes);
        json_set(ar, s, "a", side_json(ar, da, a));
        json_set(ar, s, "b", side_json(ar, db, b));
        double top1, jsd, rho;
        json_value *stats = json_new_object(ar);
        json_set(ar, stats, "top1_agreement", estimate(ar, ab.top1, NULL, n, &top1));
        json_set(ar, stats, "jsd", estimate(ar, ab.jsd, NULL, n, &jsd));
        json_set(ar, stats, "rank_correlation", estimate(ar, ab.rho, NULL, n, &rho));
        json_set(ar, s, "statistics", stats);
        /* Holm over the panel, in both directions */
        double *p = malloc(2 * (npanel ? npanel : 1) * sizeof *p);
        if (!p) st = NOMEM(err);
        size_t closest = 0;
        for (size_t k = 0; !st && k < npanel; k++) p[k] = pr[k].p_raw;
        if (!st) holm_adjust(p, p + npanel, npanel);
        for (size_t k = 0; !st && k < npanel; k++) pr[k].p_holm = p[npanel + k];
        for (size_t k = 0; !st && k < npanel; k++) p[k] = pr[k].p_rev;
        if (!st) holm_adjust(p, p + npanel, npanel);
        for (size_t k = 0; !st && k < npanel; k++) {
            pr[k].p_rev_holm = p[npanel + k];
            if (pr[k].jsd < pr[closest].jsd) closest = k;
        }
        free(p);
        json_value *bycat = json_new_array(ar);
        size_t *idx = malloc((n ? n : 1) * sizeof *idx);
        if (!idx) st = NOMEM(err);
        for (size_t c = 0; !st && c < ncat; c++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (!strcmp(ps.items[i].category, cat[c])) idx[m++] = i;
            json_value *o = json_new_object(ar);
            json_set_str(ar, o, "category", cat[c]);
            json_set_int(ar, o, "count", (int64_t)m);
            json_set(ar, o, "top1_agreement", estimate(ar, ab.top1, idx, m, NULL));
            json_set(ar, o, "jsd", estimate(ar, ab.jsd, idx, m, NULL));
            json_set(ar, o, "rank_correlation", estimate(ar, ab.rho, idx, m, NULL));
            if (npanel) {   /* B against its closest panel model, for the chart */
                json_value *po = json_new_object(ar);
                json_set_str(ar, po, "model", pr[closest].model);
                json_set(ar, po, "top1_agreement", estimate(ar, pr[closest].st.top1, idx, m, NULL));
                json_set(ar, po, "jsd", estimate(ar, pr[closest].st.jsd, idx, m, NULL));
                json_set(ar, o, "panel", po);
            }
            json_push(ar, bycat, o);
        }
        free(idx);
        json_set(ar, s, "by_category", bycat);
        json_value *panel = json_new_array(ar);
        int all_closer = npanel > 0, some_reverse = 0;
        double margin = INFINITY;
        double pmax = 0, prevmin = 1;
        const char *reverse_model = NULL;
        for (size_t k = 0; !st && k < npanel; k++) {
            panel_result *r = &pr[k];
            json_value *o = json_new_object(ar);
            int closer = r->p_holm < ALPHA && r->margin > 0;
            int reverse = r->p_rev_holm < ALPHA && r->margin < 0;
            json_set_str(ar, o, "model", r->model);
            json_set_double(ar, o, "jsd", round4(r->jsd));
            json_set_double(ar, o, "top1", round4(r->top1));
            json_set_double(ar, o, "margin", round4(r->margin));
            json_set_double(ar, o, "p_raw", r->p_raw);
            json_set_double(ar, o, "p_holm", r->p_holm);
            json_set_bool(ar, o, "closer", closer);
            json_set_double(ar, o, "p_holm_reverse", r->p_rev_holm);
            json_push(ar, panel, o);
            all_closer &= closer;
            if (reverse && (!some_reverse || r->p_rev_holm < prevmin)) { prevmin = r->p_rev_holm; reverse_model = r->model; }
            some_reverse |= reverse;
            if (r->margin < margin) margin = r->margin;
            if (r->p_holm > pmax) pmax = r->p_holm;
        }
        json_set(ar, s, "panel", panel);
        if (npanel) json_set_double(ar, s, "margin", round4(margin));
        else json_set(ar, s, "margin", json_new_null(ar));
        json_value *findings = json_new_array(ar);
        char en[512], ko[512], ctl[300];
        if (!npanel) {
            snprintf(en, sizeof en, "next-token agreement of A and B on %zu probes: top-1 %.1f%%, JSD %.3f bits (effect "
                     "size only: no panel of unrelated models)", n, 100 * top1, jsd);
            snprintf(ko, sizeof ko, "시험 문장 %zu개에서 A와 B의 다음 토큰 일치: top-1 %.1f%%, JSD %.3f 비트 (비교군 "
                     "모델이 없어 효과 크기만 보고)", n, 100 * top1, jsd);
            json_push(ar, findings, finding(ar, "neutral", WEIGHT_NEUTRAL, top1, NAN, en, ko,
                                            "none: unrelated models trained on similar data also agree; --panel MODEL... "
                                            "gives the null", 0));
        } else {
            snprintf(ctl, sizeof ctl, "B against %zu panel model%s on the same probes (paired one-sided Wilcoxon "
                     "signed-rank on per-probe JSD, Holm-Bonferroni)", npanel, npanel == 1 ? "" : "s");
            if (all_closer) {
                snprintf(en, sizeof en, "B's next-token distributions are closer to A's than to every panel model's "
                         "(JSD %.3f vs %.3f for the closest, margin %.3f bits)", jsd, pr[closest].jsd, margin);
                snprintf(ko, sizeof ko, "B의 다음 토큰 분포가 모든 비교군 모델보다 A에 더 가까움 (JSD %.3f, 가장 가까운 "
                         "비교군 %.3f, 차이 %.3f 비트)", jsd, pr[closest].jsd, margin);
                json_push(ar, findings, finding(ar, "derived", WEIGHT_DERIVED, margin, pmax, en, ko, ctl, npanel));
            } else if (some_reverse) {
                snprintf(en, sizeof en, "B's next-token distributions are closer to panel model %s than to A's "
                         "(JSD to A %.3f)", reverse_model, jsd);
                snprintf(ko, sizeof ko, "B의 다음 토큰 분포가 A보다 비교군 모델 %s에 더 가까움 (A와의 JSD %.3f)",
                         reverse_model, jsd);
                json_push(ar, findings, finding(ar, "independent", WEIGHT_INDEPENDENT, margin, prevmin, en, ko, ctl, npanel));
            } else {
                snprintf(en, sizeof en, "B's next-token distributions are not significantly closer to A's than to every "
                         "panel model's (JSD %.3f, margin %.3f bits)", jsd, margin);
                snprintf(ko, sizeof ko, "B의 다음 토큰 분포가 모든 비교군 모델보다 A에 유의하게 가깝지는 않음 (JSD %.3f, "
                         "차이 %.3f 비트)", jsd, margin);
                json_push(ar, findings, finding(ar, "neutral", WEIGHT_NEUTRAL, margin, pmax, en, ko, ctl, npanel));
            }
        }
        json_set(ar, s, "findings", findings);
        if (!st && !findings) st = NOMEM(err);
    }
    for (size_t k = 0; k < npanel; k++) free(pr[k].st.jsd);
    free(pr);
    free(ab.jsd);
    if (st) return st;
    *out = s;
    return LINEAGE_OK;
}
