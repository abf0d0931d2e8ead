/* Shared helpers for the Markdown and HTML renderers: which sections a report has, their
 * titles, and scalar/table views of arbitrary report objects. */
#ifndef LINEAGE_REPORT_DOC_WALK_H
#define LINEAGE_REPORT_DOC_WALK_H
#include "report/report.h"

typedef struct section_desc {
    const char *key;
    const char *title_en, *title_ko;
} section_desc;

extern const section_desc report_sections[];   /* terminated by key == NULL */

/* Formats a scalar (number, string, bool, null) into buf; returns 0 for arrays/objects. */
int scalar_text(const json_value *v, char *buf, size_t n);
/* An array whose items are all objects: a table candidate. */
int is_table(const json_value *v);
/* Collects up to max distinct keys whose values are scalars in the table's items. */
size_t table_columns(const json_value *arr, const char **cols, size_t max);
/* A finding's one-line description in the report language. */
const char *finding_text(const json_value *f, const render_ctx *ctx);
#endif
