/* lineage.study/1: N models side by side. Every model is inspected once and every pair compared
 * once (lineage_compare: architecture, tokenizer, weights, verdict); the document keeps each model's
 * profile, a field-by-field architecture table and the pairwise numbers as matrices (docs/SCHEMA-study.md).
 * With references, only model x reference pairs are compared (the reference as A, the candidate parent). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/battery.h"
#include "format/arch.h"
#include "util/error.h"

#define NOMEM() error_set(err, LINEAGE_E_NOMEM, "out of memory")
#define STUDY_MAX_MODELS 64


/* Display name: the last path component (a clue for the reader, never evidence). */
static json_value *short_name(arena *ar, const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/') s--;
    return json_new_stringn(ar, path + s, n - s);
}

/* Flattens an architecture object into (key, scalar) rows: nested objects become "moe.routed_experts". */
typedef struct field_row {
    char key[64];
    json_value *values;   /* one per model, null when the model does not declare the field */
} field_row;

static field_row *find_row(field_row *rows, size_t *nrows, size_t cap, const char *key, size_t nmodels, arena *ar)
{
    for (size_t i = 0; i < *nrows; i++)
        if (!strcmp(rows[i].key, key)) return &rows[i];
    if (*nrows == cap) return NULL;
    field_row *r = &rows[(*nrows)++];
    snprintf(r->key, sizeof r->key, "%s", key);
    r->values = json_new_array(ar);
    for (size_t i = 0; r->values && i < nmodels; i++) json_push(ar, r->values, json_new_null(ar));
    return r;
}

static void put_field(field_row *rows, size_t *nrows, size_t cap, const char *key, const json_value *v, size_t model,
                      size_t nmodels, arena *ar)
{
    if (!v || v->type == JSON_ARRAY || v->type == JSON_NULL) return;
    if (v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->u.object.count; i++) {
            char k[64];
            snprintf(k, sizeof k, "%s.%s", key, v->u.object.members[i].key);
            put_field(rows, nrows, cap, k, v->u.object.members[i].value, model, nmodels, ar);
        }
        return;
    }
    field_row *r = find_row(rows, nrows, cap, key, nmodels, ar);
    if (r && r->values) r->values->u.array.items[model] = json_deep_copy(ar, v);
}

static int scalar_equal(const json_value *x, const json_value *y)
{
    if (x->type != y->type) return 0;
    if (x->type == JSON_NUMBER) return x->u.number.d == y->u.number.d;
    if (x->type == JSON_STRING) return !strcmp(x->u.string.s, y->u.string.s);
    if (x->type == JSON_BOOL) return !x->u.boolean == !y->u.boolean;
    return 1;
}

/* Router and attention details the normalized architecture does not carry, read from the text config. */
static void config_extras(const lineage_model *m, field_row *rows, size_t *nrows, size_t cap, size_t model,
                          size_t nmodels, arena *ar)
{
    static const char *const keys[] = {"routed_scaling_factor", "scoring_func", "topk_method", "norm_topk_prob",
                                       "attention_bias", "n_group", "topk_group"};
    const json_value *cfg = m->config ? arch_text_config(m->config) : NULL;
    for (size_t k = 0; cfg && k < sizeof keys / sizeof keys[0]; k++) {
        const json_value *v = json_get(cfg, keys[k]);
        if (!v || (v->type != JSON_NUMBER && v->type != JSON_STRING && v->type != JSON_BOOL)) continue;
        char key[64];
        snprintf(key, sizeof key, "%s%s", strcmp(keys[k], "attention_bias") ? "router." : "", keys[k]);
        /* the normalized architecture already has attention_bias; the config's value fills it when absent */
        field_row *r = find_row(rows, nrows, cap, key, nmodels, ar);
        if (r && r->values && r->values->u.array.items[model]->type == JSON_NULL)
            r->values->u.array.items[model] = json_deep_copy(ar, v);
    }
}

static json_value *architecture_table(const lineage_model *const *models, json_value *const *profiles, size_t n,
                                      arena *ar)
{
    enum { CAP = 96 };
    field_row rows[CAP];
    size_t nrows = 0;
    for (size_t i = 0; i < n; i++) {
        const json_value *arch = json_get(profiles[i], "architecture");
        for (size_t k = 0; arch && k < arch->u.object.count; k++) {
            const json_member *mb = &arch->u.object.members[k];
            if (!strcmp(mb->key, "source")) continue;
            put_field(rows, &nrows, CAP, mb->key, mb->value, i, n, ar);
        }
        config_extras(models[i], rows, &nrows, CAP, i, n, ar);
    }
    json_value *list = json_new_array(ar);
    for (size_t r = 0; list && r < nrows; r++) {
        const json_value *first = NULL;
        int differs = 0, absent = 0;
        for (size_t i = 0; i < n; i++) {
            const json_value *v = json_at(rows[r].values, i);
            if (!v || v->type == JSON_NULL) { absent++; continue; }
            if (!first) first = v;
            else if (!scalar_equal(first, v)) differs = 1;
        }
        json_value *o = json_new_object(ar);
        if (!o || !json_set_str(ar, o, "field", rows[r].key) || !json_set(ar, o, "values", rows[r].values) ||
            !json_set_bool(ar, o, "differs", differs) || !json_set_int(ar, o, "absent", absent) || !json_push(ar, list, o))
            return NULL;
    }
    return list;
}

/* n x n matrix of nulls with the given diagonal (NULL: null diagonal). */
static json_value *matrix_new(arena *ar, size_t n, json_value *(*diag)(arena *))
{
    json_value *m = json_new_array(ar);
    for (size_t i = 0; m && i < n; i++) {
        json_value *row = json_new_array(ar);
        for (size_t j = 0; row && j < n; j++)
            if (!json_push(ar, row, i == j && diag ? diag(ar) : json_new_null(ar))) return NULL;
        if (!json_push(ar, m, row)) return NULL;
    }
    return m;
}
static json_value *one(arena *ar) { return json_new_double(ar, 1.0); }

static void matrix_put(json_value *m, size_t i, size_t j, json_value *v)
{
    if (!m || !v) return;
    json_at(m, i)->u.array.items[j] = v;
    json_at(m, j)->u.array.items[i] = v;
}

/* The pair's numbers kept in the study (the full pair documents are not: each is what `compare` gives). */
static json_value *pair_summary(arena *ar, const json_value *root, size_t ia, size_t ib)
{
    json_value *p = json_new_object(ar);
    if (!p || !json_set_int(ar, p, "a", (int64_t)ia) || !json_set_int(ar, p, "b", (int64_t)ib)) return NULL;
    const json_value *tok = json_get(root, "tokenizer");
    const char *tstatus = json_get_string(tok, "status");
    json_value *t = json_new_object(ar);
    if (!t || !json_set_str(ar, t, "status", tstatus ? tstatus : "not_compared")) return NULL;
    if (tstatus && !strcmp(tstatus, "ok")) {
        static const char *const keep[] = {"relation", "shared", "id_aligned", "common_id_prefix", "merges", "special"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            const json_value *v = json_get(tok, keep[k]);
            if (!v) continue;
            json_value *c = json_deep_copy(ar, v);
            if (!strcmp(keep[k], "special") && c) {   /* the role table is enough; the id lists are per model */
                json_value *slim = json_new_object(ar);
                static const char *const sk[] = {"a", "b", "shared", "same_id"};
                for (size_t s = 0; slim && s < 4; s++)
                    if (json_get(c, sk[s])) json_set(ar, slim, sk[s], json_get(c, sk[s]));
                c = slim;
            }
            if (!c || !json_set(ar, t, keep[k], c)) return NULL;
        }
    }
    const json_value *arch = json_get(root, "architecture");
    json_value *a = json_new_object(ar);
    if (!a || !json_set(ar, a, "differences", json_deep_copy(ar, json_get(arch, "differences"))) ||
        !json_set(ar, a, "hypotheses", json_deep_copy(ar, json_get(arch, "hypotheses"))) ||
        !json_set(ar, a, "blocking", json_deep_copy(ar, json_get(arch, "blocking"))))
        return NULL;
    json_value *w = json_new_object(ar);
    double sim = report_weights_similarity(root);
    const json_value *ws = json_get(root, "weights");
    const char *wstatus = json_get_string(ws, "status");
    if (!w || !json_set(ar, w, "similarity", isfinite(sim) ? json_new_double(ar, sim) : json_new_null(ar)) ||
        (wstatus && !json_set_str(ar, w, "status", wstatus)) ||
        (json_get(ws, "norm_trap") && !json_set(ar, w, "norm_trap", json_deep_copy(ar, json_get(ws, "norm_trap")))))
        return NULL;
    const json_value *v = json_get(root, "verdict");
    json_value *vd = json_new_object(ar);
    const char *label = json_get_string(v, "label");
    double conf = 0;
    json_get_double(v, "confidence", &conf);
    if (!vd || !json_set_str(ar, vd, "label", label ? label : "inconclusive") || !json_set_double(ar, vd, "confidence", conf) ||
        !json_set(ar, vd, "relation", json_deep_copy(ar, json_get(v, "relation"))) ||
        (json_get(v, "direction") && !json_set(ar, vd, "direction", json_deep_copy(ar, json_get(v, "direction")))) ||
        (json_get(v, "relations") && !json_set(ar, vd, "relations", json_deep_copy(ar, json_get(v, "relations")))) ||
        !json_set(ar, vd, "reasons", json_deep_copy(ar, json_get(v, "reasons"))) ||
        !json_set(ar, vd, "reasons_ko", json_deep_copy(ar, json_get(v, "reasons_ko"))))
        return NULL;
    if (!json_set(ar, p, "tokenizer", t) || !json_set(ar, p, "architecture", a) || !json_set(ar, p, "weights", w) ||
        !json_set(ar, p, "verdict", vd))
        return NULL;
    return p;
}

/* One model's tokenizer as the pair comparison described it (side a or b). */
static void keep_tokenizer_profile(arena *ar, json_value *profile, const json_value *root, const char *side)
{
    if (json_get(profile, "tokenizer")) return;
    const json_value *tok = json_get(root, "tokenizer");
    const json_value *s = json_get(tok, side);
    if (s && s->type == JSON_OBJECT) json_set(ar, profile, "tokenizer", json_deep_copy(ar, s));
}

lineage_status lineage_study(const lineage_model *const *models, size_t n, const lineage_study_options *opt,
                             lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    lineage_study_options def = {.compare = {.sample = 1.0}, .inspect = {0, 0, 989.0, 0.4, NULL, 0, 0}, .nreferences = 0};
    if (!opt) opt = &def;
    if (n < 2 || n > STUDY_MAX_MODELS)
        return error_set(err, LINEAGE_E_USAGE, "study wants 2 to %d models, got %zu", STUDY_MAX_MODELS, n);
    if (opt->compare.battery && battery_check_name(opt->compare.battery, err)) return LINEAGE_E_USAGE;
    if (opt->nreferences >= n) return error_set(err, LINEAGE_E_USAGE, "study wants at least one model besides the references");
    size_t ncand = n - opt->nreferences;
    lineage_doc *d = doc_new();
    if (!d) return NOMEM();
    arena *ar = &d->arena;
    lineage_status st = LINEAGE_OK;
    json_value *list = json_new_array(ar), *profiles_arr = json_new_array(ar);
    json_value *profiles[STUDY_MAX_MODELS];
    if (!list || !profiles_arr || !json_set_str(ar, d->root, "schema", "lineage.study/1")) st = NOMEM();
    /* each model inspected once */
    for (size_t i = 0; !st && i < n; i++) {
        json_value *m = json_new_object(ar);
        if (!m || !json_set_str(ar, m, "path", models[i]->path) || !json_set(ar, m, "name", short_name(ar, models[i]->path)) ||
            !json_set_str(ar, m, "role", i < ncand ? "model" : "reference") || !json_push(ar, list, m)) {
            st = NOMEM();
            break;
        }
        lineage_doc *pd;
        st = lineage_inspect(models[i], &opt->inspect, &pd, err);
        if (st) break;
        json_value *p = json_new_object(ar);
        static const char *const keep[] = {"architecture", "parameters", "compute", "components", "tokenizer", "warnings"};
        for (size_t k = 0; p && k < sizeof keep / sizeof keep[0]; k++)
            if (json_get(pd->root, keep[k]) && !json_set(ar, p, keep[k], json_deep_copy(ar, json_get(pd->root, keep[k])))) p = NULL;
        lineage_doc_free(pd);
        if (!p || !json_push(ar, profiles_arr, p)) { st = NOMEM(); break; }
        profiles[i] = p;
    }
    json_value *pairs = json_new_array(ar);
    json_value *m_jac = matrix_new(ar, n, one), *m_aligned = matrix_new(ar, n, one), *m_merge = matrix_new(ar, n, one),
               *m_weights = matrix_new(ar, n, one), *m_verdict = matrix_new(ar, n, NULL), *m_tokrel = matrix_new(ar, n, NULL);
    if (!st && (!pairs || !m_jac || !m_aligned || !m_merge || !m_weights || !m_verdict || !m_tokrel)) st = NOMEM();
    /* every pair compared once */
    for (size_t i = 0; !st && i < n; i++) {
        for (size_t j = i + 1; !st && j < n; j++) {
            size_t ia = i, ib = j;
            if (opt->nreferences) {
                if ((i < ncand) == (j < ncand)) continue;   /* model x reference only */
                ia = j;                                       /* the reference is A */
                ib = i;
            }
            lineage_compare_options co = opt->compare;
            co.panel = NULL;
            co.npanel = 0;
            co.battery = NULL;   /* asked once per model below, not once per pair */
            lineage_doc *r;
            st = lineage_compare(models[ia], models[ib], &co, &r, err);
            if (st) break;
            keep_tokenizer_profile(ar, profiles[ia], r->root, "a");
            keep_tokenizer_profile(ar, profiles[ib], r->root, "b");
            json_value *p = pair_summary(ar, r->root, ia, ib);
            lineage_doc_free(r);
            if (!p || !json_push(ar, pairs, p)) { st = NOMEM(); break; }
            const json_value *t = json_get(p, "tokenizer");
            double v;
            if (json_get_double(json_get(t, "shared"), "jaccard", &v)) matrix_put(m_jac, ia, ib, json_new_double(ar, v));
            if (json_get_double(json_get(t, "id_aligned"), "of_smaller", &v))
                matrix_put(m_aligned, ia, ib, json_new_double(ar, v));
            if (json_is_true(json_get(json_get(t, "merges"), "available")) &&
                json_get_double(json_get(t, "merges"), "spearman", &v))
                matrix_put(m_merge, ia, ib, json_new_double(ar, v));
            if (json_get_string(t, "relation")) matrix_put(m_tokrel, ia, ib, json_new_string(ar, json_get_string(t, "relation")));
            if (json_get_double(json_get(p, "weights"), "similarity", &v)) matrix_put(m_weights, ia, ib, json_new_double(ar, v));
            matrix_put(m_verdict, ia, ib, json_new_string(ar, json_get_string(json_get(p, "verdict"), "label")));
        }
    }
    if (!st) {
        json_value *mats = json_new_object(ar);
        json_value *arch = architecture_table(models, profiles, n, ar);
        if (!mats || !arch || !json_set_int(ar, d->root, "references", (int64_t)opt->nreferences) ||
            !json_set(ar, d->root, "models", list) || !json_set(ar, d->root, "profiles", profiles_arr) ||
            !json_set(ar, d->root, "architecture", arch) || !json_set(ar, mats, "tokenizer_relation", m_tokrel) ||
            !json_set(ar, mats, "tokenizer_jaccard", m_jac) || !json_set(ar, mats, "tokenizer_id_aligned", m_aligned) ||
            !json_set(ar, mats, "merge_order_spearman", m_merge) || !json_set(ar, mats, "weight_similarity", m_weights) ||
            !json_set(ar, mats, "verdict", m_verdict) || !json_set(ar, d->root, "matrices", mats) ||
            !json_set(ar, d->root, "pairs", pairs))
            st = NOMEM();
    }
    if (!st && opt->compare.battery) {   /* every model asked the same questions, side by side */
        asked_subject *subj = calloc(n, sizeof *subj);
        if (!subj) st = NOMEM();
        for (size_t i = 0; !st && i < n; i++)
            subj[i] = (asked_subject){models[i], NULL, json_get_string(json_at(list, i), "name"), models[i]->path,
                                      i < ncand ? "model" : "reference"};
        json_value *sec;
        if (!st) st = asked_section(subj, n, n, opt->compare.battery, opt->compare.ask, opt->compare.threads,
                                    opt->compare.progress, opt->compare.progress_user, ar, &sec, err);
        if (!st && !json_set(ar, d->root, "behaviour_asked", sec)) st = NOMEM();
        free(subj);
    }
    if (st) {
        lineage_doc_free(d);
        return st;
    }
    *out = d;
    return LINEAGE_OK;
}
