/* Which tensor of A goes with which of B: (component, role, layer, expert) across naming schemes,
 * and the per-role layer series the controls and the layer map work on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"
#include "format/roles.h"
#include "util/error.h"

#define WT_MAX_LAYERS 4096

int wt_low_information(const lineage_tensor_info *t)
{
    return t->ndim <= 1 || t->rows <= 1 || role_is_low_information(t->role);
}

/* The name after the layer (and expert) index, or after the usual wrappers when there is none. */
static const char *name_tail(const lineage_tensor_info *t)
{
    const char *n = t->name;
    if (t->layer >= 0) {
        char seg[32];
        snprintf(seg, sizeof seg, ".%d.", t->expert >= 0 ? t->expert : t->layer);
        const char *p = strstr(n, seg), *last = NULL;
        while (p) { last = p; p = strstr(p + 1, seg); }
        if (last) return last + strlen(seg);
    }
    static const char *const wrappers[] = {"language_model.model.", "language_model.", "model.", "transformer.", NULL};
    for (int i = 0; wrappers[i]; i++) {
        size_t l = strlen(wrappers[i]);
        if (!strncmp(n, wrappers[i], l)) return n + l;
    }
    return n;
}

const char *wt_tensor_key(const lineage_tensor_info *t, char *buf, size_t cap)
{
    if (!strcmp(t->role, "other") || !strcmp(t->role, "other_bias"))
        snprintf(buf, cap, "%d|%s|%d|%d|%s", (int)t->component, t->role, t->layer, t->expert, name_tail(t));
    else snprintf(buf, cap, "%d|%s|%d|%d", (int)t->component, t->role, t->layer, t->expert);
    return buf;
}

long wt_find(const lineage_model *m, lineage_component comp, const char *role, int layer, int expert)
{
    return lineage_model_find_role(m, comp, role, layer, expert);
}

static wt_series *series_get(wt_layout *l, lineage_component comp, const char *role)
{
    for (size_t i = 0; i < l->nseries; i++)
        if (l->series[i].comp == comp && !strcmp(l->series[i].role, role)) return &l->series[i];
    wt_series *s = realloc(l->series, (l->nseries + 1) * sizeof *s);
    if (!s) return NULL;
    l->series = s;
    s = &l->series[l->nseries++];
    memset(s, 0, sizeof *s);
    s->comp = comp;
    s->role = role;
    s->ia = malloc(WT_MAX_LAYERS * sizeof(long));
    s->ib = malloc(WT_MAX_LAYERS * sizeof(long));
    if (!s->ia || !s->ib) return NULL;
    for (int i = 0; i < WT_MAX_LAYERS; i++) s->ia[i] = s->ib[i] = -1;
    return s;
}

static int layered(const lineage_tensor_info *t)
{
    return t->layer >= 0 && t->layer < WT_MAX_LAYERS && t->expert < 0 && strcmp(t->role, "other") &&
           strcmp(t->role, "other_bias") && strcmp(t->role, "quant_scale");
}

lineage_status wt_layout_build(const lineage_model *a, const lineage_model *b, wt_layout *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    for (int side = 0; side < 2; side++) {
        const lineage_model *m = side ? b : a;
        int *layers = side ? out->layers_b : out->layers_a;
        int *experts = side ? &out->experts_b : &out->experts_a;
        for (size_t i = 0; i < lineage_model_tensor_count(m); i++) {
            const lineage_tensor_info *t = lineage_model_tensor(m, i);
            if (t->layer >= 0 && t->layer < WT_MAX_LAYERS && t->layer + 1 > layers[t->component])
                layers[t->component] = t->layer + 1;
            if (t->expert >= 0 && t->expert < 1 << 20 && t->expert + 1 > *experts) *experts = t->expert + 1;
            if (!layered(t)) continue;
            wt_series *s = series_get(out, t->component, t->role);
            if (!s) { wt_layout_free(out); return error_set(err, LINEAGE_E_NOMEM, "out of memory"); }
            s->low_info |= wt_low_information(t);
            long *idx = side ? s->ib : s->ia;
            int *n = side ? &s->lb : &s->la;
            if (idx[t->layer] < 0) idx[t->layer] = (long)i;
            if (t->layer + 1 > *n) *n = t->layer + 1;
        }
    }
    /* keep the series present in both models */
    size_t k = 0;
    for (size_t i = 0; i < out->nseries; i++) {
        if (out->series[i].la > 0 && out->series[i].lb > 0) out->series[k++] = out->series[i];
        else { free(out->series[i].ia); free(out->series[i].ib); }
    }
    out->nseries = k;
    return LINEAGE_OK;
}

void wt_layout_free(wt_layout *l)
{
    for (size_t i = 0; i < l->nseries; i++) { free(l->series[i].ia); free(l->series[i].ib); }
    free(l->series);
    memset(l, 0, sizeof *l);
}
