/* Batteries: the classification rules (names, refusal markers, expected keywords), the loader of a
 * user's question set, and lineage_ask_battery, which asks every question and summarises: claimed
 * organisations (clues about training data, not weights), the last month answered correctly with its
 * evidence, the refusal rate with a Wilson 95% interval and the phrasings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/battery.h"
#include "io/file.h"
#include "util/error.h"

extern const char *const battery_names[][2];
extern const char *const battery_refusal_markers[];

static int is_alnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
static char fold(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Case-folded (ASCII) search for needle in hay from position from; word: alphanumeric boundaries. */
static const char *find(const char *hay, const char *needle, int word)
{
    size_t n = strlen(needle), h = strlen(hay);
    for (size_t i = 0; i + n <= h; i++) {
        size_t k = 0;
        while (k < n && fold(hay[i + k]) == fold(needle[k])) k++;
        if (k < n) continue;
        if (word && ((i > 0 && is_alnum((unsigned char)hay[i - 1])) || is_alnum((unsigned char)hay[i + n]))) continue;
        return hay + i;
    }
    return NULL;
}

static int ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80) return 0;
    return 1;
}

size_t battery_identity_claims(const char *text, battery_claim *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; battery_names[i][0] && n < max; i++) {
        const char *pat = battery_names[i][0], *org = battery_names[i][1];
        if (!find(text, pat, ascii(pat))) continue;
        int seen = 0;
        for (size_t k = 0; k < n && !seen; k++) seen = !strcmp(out[k].organisation, org);
        if (!seen) out[n++] = (battery_claim){pat, org};
    }
    return n;
}

const char *battery_refusal_marker(const char *text)
{
    for (size_t i = 0; battery_refusal_markers[i]; i++)
        if (find(text, battery_refusal_markers[i], 0)) return battery_refusal_markers[i];
    return NULL;
}

int battery_expected(const char *text, const char *const *expect)
{
    for (size_t i = 0; i < BATTERY_MAX_EXPECT && expect[i]; i++)
        if (find(text, expect[i], ascii(expect[i]) && is_alnum((unsigned char)expect[i][0]))) return 1;
    return 0;
}

lineage_status battery_load(const char *path, arena *ar, battery *out, lineage_error *err)
{
    char *text = NULL;
    size_t len = 0;
    lineage_status st = file_read_all(path, 4u << 20, &text, &len, err);
    json_value *root = NULL;
    if (!st) st = json_parse(text, len, NULL, ar, &root, path, err);
    free(text);
    if (st) return st;
    const char *name = json_get_string(root, "name"), *version = json_get_string(root, "version");
    const char *kind = json_get_string(root, "kind");
    const json_value *qs = json_get(root, "questions");
    if (!name || !version || !qs || qs->type != JSON_ARRAY || !json_count(qs))
        return error_set(err, LINEAGE_E_FORMAT, "%s: a battery wants \"name\", \"version\" and a non-empty \"questions\" list", path);
    if (json_count(qs) > 1000) return error_set(err, LINEAGE_E_FORMAT, "%s: more than 1000 questions", path);
    static const char *const kinds[] = {"identity", "cutoff", "refusal", "plain"};
    out->kind = BATTERY_PLAIN;
    int known = !kind;
    for (int k = 0; kind && k < 4; k++)
        if (!strcmp(kind, kinds[k])) { out->kind = (battery_kind)k; known = 1; }
    if (!known) return error_set(err, LINEAGE_E_FORMAT, "%s: \"kind\" is identity, cutoff, refusal or plain", path);
    battery_question *q = arena_calloc(ar, json_count(qs), sizeof *q);
    if (!q) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < json_count(qs); i++) {
        const json_value *o = json_at(qs, i);
        q[i].text = json_get_string(o, "text");
        q[i].id = json_get_string(o, "id");
        q[i].lang = json_get_string(o, "lang");
        q[i].month = json_get_string(o, "month");
        if (!q[i].text || !q[i].id) return error_set(err, LINEAGE_E_FORMAT, "%s: question %zu wants \"id\" and \"text\"", path, i);
        if (!q[i].lang) q[i].lang = "";
        const json_value *ex = json_get(o, "expect");
        if (json_count(ex) >= BATTERY_MAX_EXPECT)
            return error_set(err, LINEAGE_E_FORMAT, "%s: question %zu has more than %d expected keywords", path, i, BATTERY_MAX_EXPECT - 1);
        for (size_t k = 0; k < json_count(ex); k++) {
            if (json_at(ex, k)->type != JSON_STRING || !*json_at(ex, k)->u.string.s)
                return error_set(err, LINEAGE_E_FORMAT, "%s: question %zu: \"expect\" holds non-empty strings", path, i);
            q[i].expect[k] = json_at(ex, k)->u.string.s;
        }
        if (out->kind == BATTERY_CUTOFF && (!q[i].month || strlen(q[i].month) != 7 || !q[i].expect[0]))
            return error_set(err, LINEAGE_E_FORMAT, "%s: cutoff question %zu wants \"month\" (YYYY-MM) and \"expect\"", path, i);
    }
    out->name = name;
    out->version = version;
    out->questions = q;
    out->n = json_count(qs);
    return LINEAGE_OK;
}

/* Wilson score interval, 95% */
static void wilson(size_t k, size_t n, double *lo, double *hi)
{
    if (!n) { *lo = 0; *hi = 1; return; }
    double z = 1.959964, p = (double)k / (double)n, d = 1 + z * z / (double)n;
    double c = (p + z * z / (2.0 * (double)n)) / d, h = z * sqrt(p * (1 - p) / (double)n + z * z / (4.0 * (double)n * (double)n)) / d;
    *lo = fmax(0, c - h);
    *hi = fmin(1, c + h);
}

typedef struct tally { const char *key; size_t count; } tally;

static void tally_add(tally *t, size_t *n, size_t max, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(t[i].key, key)) { t[i].count++; return; }
    if (*n < max) t[(*n)++] = (tally){key, 1};
}

static json_value *tally_json(arena *ar, const tally *t, size_t n, const char *key_name)
{
    json_value *a = json_new_array(ar);
    for (size_t i = 0; a && i < n; i++) {
        json_value *o = json_new_object(ar);
        if (!o || !json_set_str(ar, o, key_name, t[i].key) || !json_set_int(ar, o, "answers", (int64_t)t[i].count) ||
            !json_push(ar, a, o))
            return NULL;
    }
    return a;
}

#define MAX_TALLY 64

/* Asks every question of b and appends {name, version, kind, items, summary} to list. */
static lineage_status run_battery(const lineage_model *m, const battery *b, const lineage_ask_options *opt,
                                  void (*progress)(size_t, size_t, void *), void *user, size_t *done, size_t total,
                                  arena *ar, json_value *list, lineage_error *err)
{
    static const char *const kinds[] = {"identity", "cutoff", "refusal", "plain"};
    json_value *sec = json_new_object(ar), *items = json_new_array(ar), *sum = json_new_object(ar);
    if (!sec || !items || !sum) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    tally orgs[MAX_TALLY], markers[MAX_TALLY];
    size_t norgs = 0, nmarkers = 0, refused = 0, claiming = 0;
    const char *last_month = NULL;
    for (size_t i = 0; i < b->n; i++) {
        const battery_question *q = &b->questions[i];
        if (progress) progress((*done)++, total, user);
        lineage_ask_options o = *opt;
        o.stream = NULL;
        lineage_doc *d;
        lineage_status st = lineage_ask(m, q->text, &o, &d, err);
        if (st) return error_prefix(err, q->id);
        const json_value *ans = json_get(d->root, "answer");
        const char *text = json_get_string(ans, "text");
        json_value *it = json_new_object(ar);
        int ok = it && json_set_str(ar, it, "id", q->id) && json_set_str(ar, it, "lang", q->lang) &&
                 json_set_str(ar, it, "question", q->text) && json_set_str(ar, it, "answer", text ? text : "") &&
                 json_set_str(ar, it, "stop", json_get_string(ans, "stop") ? json_get_string(ans, "stop") : "unknown");
        battery_claim claims[16];
        size_t nc = battery_identity_claims(text ? text : "", claims, 16);
        json_value *cl = json_new_array(ar);
        for (size_t k = 0; ok && cl && k < nc; k++) {
            json_value *c = json_new_object(ar);
            ok = c && json_set_str(ar, c, "name", claims[k].name) && json_set_str(ar, c, "organisation", claims[k].organisation) &&
                 json_push(ar, cl, c);
            if (b->kind == BATTERY_IDENTITY) tally_add(orgs, &norgs, MAX_TALLY, claims[k].organisation);
        }
        claiming += nc > 0;
        ok = ok && json_set(ar, it, "claims", cl);
        const char *marker = battery_refusal_marker(text ? text : "");
        if (b->kind == BATTERY_REFUSAL) {
            refused += marker != NULL;
            if (marker) tally_add(markers, &nmarkers, MAX_TALLY, marker);
        }
        ok = ok && json_set(ar, it, "refusal_marker", marker ? json_new_string(ar, marker) : json_new_null(ar));
        if (b->kind == BATTERY_CUTOFF) {
            int correct = battery_expected(text ? text : "", q->expect);
            if (correct && (!last_month || strcmp(q->month, last_month) > 0)) last_month = q->month;
            ok = ok && json_set_str(ar, it, "month", q->month) && json_set_bool(ar, it, "correct", correct);
        }
        lineage_doc_free(d);
        if (!ok || !json_push(ar, items, it)) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    int ok = json_set_int(ar, sum, "answers", (int64_t)b->n);
    if (b->kind == BATTERY_IDENTITY) {
        ok = ok && json_set_int(ar, sum, "answers_naming_an_organisation", (int64_t)claiming) &&
             json_set(ar, sum, "organisations", tally_json(ar, orgs, norgs, "organisation")) &&
             json_set_str(ar, sum, "note", "identity claims are clues about training data (a model may be trained on "
                                           "another model's outputs), not evidence about its weights");
    } else if (b->kind == BATTERY_REFUSAL) {
        double lo, hi;
        wilson(refused, b->n, &lo, &hi);
        json_value *ci = json_new_array(ar);
        ok = ok && ci && json_push(ar, ci, json_new_double(ar, lo)) && json_push(ar, ci, json_new_double(ar, hi)) &&
             json_set_int(ar, sum, "refused", (int64_t)refused) &&
             json_set_double(ar, sum, "refusal_rate", b->n ? (double)refused / (double)b->n : 0) &&
             json_set(ar, sum, "refusal_rate_ci95", ci) && json_set(ar, sum, "phrasings", tally_json(ar, markers, nmarkers, "marker"));
    } else if (b->kind == BATTERY_CUTOFF) {
        json_value *months = json_new_array(ar), *evidence = json_new_array(ar);
        for (size_t i = 0; ok && months && i < b->n; i++) {
            const char *mo = b->questions[i].month;
            int first = 1;
            for (size_t k = 0; k < i; k++) first &= strcmp(b->questions[k].month, mo) != 0;
            if (!first) continue;
            size_t asked = 0, correct = 0;
            for (size_t k = 0; k < b->n; k++) {
                if (strcmp(b->questions[k].month, mo)) continue;
                asked++;
                const json_value *c = json_get(json_at(items, k), "correct");
                correct += c && c->type == JSON_BOOL && c->u.boolean;
                if (last_month && !strcmp(mo, last_month) && c && c->u.boolean) ok = ok && json_push(ar, evidence, json_new_string(ar, b->questions[k].id));
            }
            json_value *o = json_new_object(ar);
            ok = ok && o && json_set_str(ar, o, "month", mo) && json_set_int(ar, o, "asked", (int64_t)asked) &&
                 json_set_int(ar, o, "correct", (int64_t)correct) && json_push(ar, months, o);
        }
        ok = ok && json_set(ar, sum, "months", months) &&
             json_set(ar, sum, "last_month_answered_correctly", last_month ? json_new_string(ar, last_month) : json_new_null(ar)) &&
             json_set(ar, sum, "evidence", evidence) &&
             json_set_str(ar, sum, "note", "the estimate is the latest month with a correct answer; a wrong or missing "
                                           "answer does not prove ignorance, so the cutoff is at least that month");
    }
    ok = ok && json_set_str(ar, sec, "name", b->name) && json_set_str(ar, sec, "version", b->version) &&
         json_set_str(ar, sec, "kind", kinds[b->kind]) && json_set(ar, sec, "items", items) && json_set(ar, sec, "summary", sum) &&
         json_push(ar, list, sec);
    return ok ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}

lineage_status battery_check_name(const char *name, lineage_error *err)
{
    if (name && (!strcmp(name, "all") || battery_builtin(name) || path_is_file(name))) return LINEAGE_OK;
    return error_set(err, LINEAGE_E_USAGE, "--battery %.200s: not identity, cutoff, refusal, all or a file", name ? name : "");
}

lineage_status lineage_ask_battery(const lineage_model *m, const char *name, const lineage_ask_options *opt,
                                   void (*progress)(size_t i, size_t n, void *user), void *user, lineage_doc **out,
                                   lineage_error *err)
{
    *out = NULL;
    lineage_ask_options defaults = {0};
    if (!opt) opt = &defaults;
    if (!name) return error_set(err, LINEAGE_E_USAGE, "--battery wants identity, cutoff, refusal, all or a FILE");
    lineage_doc *d = doc_new();
    if (!d) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    arena *ar = &d->arena;
    battery sets[3], user_set;
    size_t nsets = 0;
    lineage_status st = LINEAGE_OK;
    if (!strcmp(name, "all")) {
        sets[nsets++] = *battery_builtin("identity");
        sets[nsets++] = *battery_builtin("cutoff");
        sets[nsets++] = *battery_builtin("refusal");
    } else if (battery_builtin(name)) {
        sets[nsets++] = *battery_builtin(name);
    } else if (path_is_file(name)) {
        st = battery_load(name, ar, &user_set, err);
        sets[nsets++] = user_set;
    } else {
        st = error_set(err, LINEAGE_E_USAGE, "--battery %.200s: not identity, cutoff, refusal, all or a file", name);
    }
    size_t total = 0, done = 0;
    for (size_t i = 0; i < nsets; i++) total += sets[i].n;
    json_value *root = json_new_object(ar), *list = json_new_array(ar), *samp = json_new_object(ar);
    if (!st && (!root || !list || !samp)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; !st && i < nsets; i++)
        st = run_battery(m, &sets[i], opt, progress, user, &done, total, ar, list, err);
    const char *label = opt->label ? opt->label : m ? lineage_model_path(m) : opt->endpoint;
    int ok = !st && json_set_str(ar, root, "schema", "lineage.ask/1") && json_set_str(ar, root, "model", label ? label : "?") &&
             json_set_str(ar, root, "mode", opt->endpoint ? "endpoint" : "native") &&
             json_set(ar, root, "system", opt->system ? json_new_string(ar, opt->system) : json_new_null(ar)) &&
             json_set_double(ar, samp, "temperature", opt->temperature) && json_set_bool(ar, samp, "greedy", opt->temperature <= 0) &&
             json_set_int(ar, samp, "max_tokens", opt->max_tokens > 0 ? opt->max_tokens : 256) &&
             (opt->temperature <= 0 || json_set_int(ar, samp, "seed", (int64_t)opt->seed)) &&
             json_set(ar, root, "sampling", samp) && json_set(ar, root, "batteries", list);
    if (st || !ok) {
        lineage_doc_free(d);
        return st ? st : error_set(err, LINEAGE_E_NOMEM, "out of memory while building the report");
    }
    d->root = root;
    *out = d;
    return LINEAGE_OK;
}
