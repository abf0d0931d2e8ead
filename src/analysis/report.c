/* lineage_inspect and lineage_compare: build the report documents from the analyses. */
#include <stdio.h>
#include <stdlib.h>

#include "analysis/analysis.h"
#include "analysis/battery.h"
#include "analysis/report_source.h"
#include "util/error.h"

lineage_status lineage_inspect(const lineage_model *m, const lineage_inspect_options *opt, lineage_doc **out,
                               lineage_error *err)
{
    *out = NULL;
    lineage_inspect_options def = {0, 0, 989.0, 0.4, NULL, 0, 0};
    if (!opt) opt = &def;
    lineage_doc *d = doc_new();
    if (!d) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    lineage_status st = LINEAGE_OK;
    if (!json_set_str(&d->arena, d->root, "schema", "lineage.inspect/1") ||
        !json_set_str(&d->arena, d->root, "model", m->path))
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    if (!st) st = inspect_build(m, opt, &d->arena, d->root, err);
    if (!st) {
        json_value *src;
        st = remote_describe(m, &d->arena, &src, err);
        if (!st && !json_set(&d->arena, d->root, "source", src)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (st) { lineage_doc_free(d); return st; }
    *out = d;
    return LINEAGE_OK;
}

/* "behaviour_asked" of a compare: A, B (or their endpoints), then the panel as the control. */
static lineage_status compare_asked(const lineage_model *a, const lineage_model *b, const lineage_compare_options *opt,
                                    arena *ar, json_value *root, lineage_error *err)
{
    size_t n = 2 + opt->npanel;
    asked_subject *subj = calloc(n, sizeof *subj);
    char (*names)[32] = calloc(n, sizeof *names);
    if (!subj || !names) {
        free(subj);
        free(names);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    subj[0] = (asked_subject){a, opt->endpoint_a, "A", a->path, "a"};
    subj[1] = (asked_subject){b, opt->endpoint_b, "B", b->path, "b"};
    for (size_t i = 0; i < opt->npanel; i++) {
        snprintf(names[2 + i], sizeof names[2 + i], "panel %zu", i + 1);
        subj[2 + i] = (asked_subject){opt->panel[i], NULL, names[2 + i], opt->panel[i]->path, "panel"};
    }
    json_value *sec;
    lineage_status st = asked_section(subj, n, 2, opt->battery, opt->ask, opt->threads, opt->progress, opt->progress_user,
                                      ar, &sec, err);
    if (!st && !json_set(ar, root, "behaviour_asked", sec)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    free(subj);
    free(names);
    return st;
}

lineage_status lineage_compare(const lineage_model *a, const lineage_model *b, const lineage_compare_options *opt,
                               lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    lineage_compare_options def = {.sample = 1.0};
    if (!opt) opt = &def;
    if (!(opt->sample > 0 && opt->sample <= 1))
        return error_set(err, LINEAGE_E_USAGE, "--sample must be in (0, 1], got %g", opt->sample);
    if (opt->battery && battery_check_name(opt->battery, err)) return LINEAGE_E_USAGE;
    unsigned only = opt->only ? opt->only : (LINEAGE_ONLY_ARCH | LINEAGE_ONLY_TOKENIZER | LINEAGE_ONLY_WEIGHTS);
    lineage_doc *d = doc_new();
    if (!d) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    arena *ar = &d->arena;
    lineage_status st = LINEAGE_OK;
    json_value *models = json_new_object(ar);
    if (!json_set_str(ar, d->root, "schema", "lineage.report/1") || !json_set_str(ar, models, "a", a->path) ||
        !json_set_str(ar, models, "b", b->path) || !json_set(ar, d->root, "models", models))
        st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    json_value *section = NULL, *src = NULL;
    /* what was compared, for remote sources: repo, resolved commit, ETags, bytes fetched (described again at
     * the end, when the analyses have fetched what they read) */
    if (!st) {
        src = json_new_object(ar);
        json_value *one;
        if (!st && !(st = remote_describe(a, ar, &one, err))) json_set(ar, src, "a", one);
        if (!st && !(st = remote_describe(b, ar, &one, err))) json_set(ar, src, "b", one);
        if (!st && !json_set(ar, d->root, "source", src)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st && (only & LINEAGE_ONLY_ARCH)) {
        st = arch_compare_section(a, b, ar, &section, err);
        if (!st && !json_set(ar, d->root, "architecture", section)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st && (only & LINEAGE_ONLY_TOKENIZER)) {
        st = tokenizer_compare_section(a, b, ar, &section, err);
        if (!st && !json_set(ar, d->root, "tokenizer", section)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st && (only & LINEAGE_ONLY_WEIGHTS)) {
        st = weights_compare_section(a, b, opt, ar, &section, err);
        if (!st && !json_set(ar, d->root, "weights", section)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* behaviour and activations run the models: asked for, or cheap enough to do unasked */
    unsigned run_bits = only & (LINEAGE_ONLY_BEHAVIOUR | LINEAGE_ONLY_ACTIVATIONS);
    char why_not[256] = "";
    if (!opt->only && opt->run_models >= 0) {
        if (opt->run_models > 0 || models_cheap_to_run(a, b, opt, why_not, sizeof why_not))
            run_bits = LINEAGE_ONLY_BEHAVIOUR | LINEAGE_ONLY_ACTIVATIONS;
        else if (!st) {
            json_value *skip = json_new_object(ar);
            json_set_str(ar, skip, "status", "not_run");
            json_set_str(ar, skip, "reason", why_not);
            json_set(ar, d->root, "behaviour", skip);
        }
    }
    if (!st && (run_bits & LINEAGE_ONLY_BEHAVIOUR)) {
        st = behaviour_compare_section(a, b, opt, ar, &section, err);
        if (!st && !json_set(ar, d->root, "behaviour", section)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st && (run_bits & LINEAGE_ONLY_ACTIVATIONS)) {
        st = activations_compare_section(a, b, opt, ar, &section, err);
        if (!st && !json_set(ar, d->root, "activations", section)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    if (!st) st = findings_build(a, b, d->root, ar, err);
    if (!st) {
        st = verdict_build(d->root, ar, &section, err);
        if (!st && !json_set(ar, d->root, "verdict", section)) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    /* asked after the verdict is built, so that nothing the models say about themselves can enter it */
    if (!st && opt->battery) st = compare_asked(a, b, opt, ar, d->root, err);
    json_value *one;
    if (!st && !(st = remote_describe(a, ar, &one, err))) json_set(ar, src, "a", one);
    if (!st && !(st = remote_describe(b, ar, &one, err))) json_set(ar, src, "b", one);
    if (st) { lineage_doc_free(d); return st; }
    *out = d;
    return LINEAGE_OK;
}
