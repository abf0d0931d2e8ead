#include "report/doc_walk.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const section_desc report_sections[] = {
    {"source", "What was compared", "비교 대상"},
    {"architecture", "Architecture", "아키텍처"},
    {"tokenizer", "Tokenizer", "토크나이저"},
    {"weights", "Weights", "가중치"},
    {"behaviour", "Behaviour (next-token outputs)", "출력 행동 (다음 토큰 분포)"},
    {"activations", "Activations", "활성값"},
    {"metadata", "Metadata", "메타데이터"},
    {NULL, NULL, NULL}};

int scalar_text(const json_value *v, char *buf, size_t n)
{
    if (!v) { snprintf(buf, n, "-"); return 1; }
    switch (v->type) {
    case JSON_NULL: snprintf(buf, n, "-"); return 1;
    case JSON_BOOL: snprintf(buf, n, "%s", v->u.boolean ? "yes" : "no"); return 1;
    case JSON_STRING: snprintf(buf, n, "%s", v->u.string.s); return 1;
    case JSON_NUMBER:
        if (v->u.number.is_int) snprintf(buf, n, "%lld", (long long)v->u.number.i);
        else if (!isfinite(v->u.number.d)) snprintf(buf, n, "-");
        else if (v->u.number.d != 0 && (fabs(v->u.number.d) < 1e-3 || fabs(v->u.number.d) >= 1e7))
            snprintf(buf, n, "%.3g", v->u.number.d);
        else snprintf(buf, n, "%.4g", v->u.number.d);
        return 1;
    default: return 0;
    }
}

int is_table(const json_value *v)
{
    if (!v || v->type != JSON_ARRAY || v->u.array.count == 0) return 0;
    for (size_t i = 0; i < v->u.array.count; i++)
        if (v->u.array.items[i]->type != JSON_OBJECT) return 0;
    return 1;
}

size_t table_columns(const json_value *arr, const char **cols, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < arr->u.array.count && i < 64; i++) {
        const json_value *o = arr->u.array.items[i];
        for (size_t k = 0; k < o->u.object.count; k++) {
            const json_member *m = &o->u.object.members[k];
            if (m->value->type == JSON_ARRAY || m->value->type == JSON_OBJECT) continue;
            size_t j = 0;
            while (j < n && strcmp(cols[j], m->key)) j++;
            if (j == n && n < max) cols[n++] = m->key;
        }
    }
    return n;
}

const char *finding_text(const json_value *f, const render_ctx *ctx)
{
    const json_value *t = json_get(f, "text");
    const char *s = ctx->korean ? json_get_string(t, "ko") : NULL;
    if (!s) s = json_get_string(t, "en");
    if (!s) s = json_get_string(f, "what");
    return s ? s : "";
}
