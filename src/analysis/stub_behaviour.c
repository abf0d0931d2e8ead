/* Placeholder until the behaviour analysis lands: its section says "not_run". */
#include <stdio.h>
#include "analysis/analysis.h"
#include "util/error.h"

static lineage_status not_run(arena *ar, json_value **out, lineage_error *err)
{
    json_value *o = json_new_object(ar);
    if (!o || !json_set_str(ar, o, "status", "not_run") ||
        !json_set_str(ar, o, "reason", "the inference engine is not built yet"))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    *out = o;
    return LINEAGE_OK;
}

lineage_status behaviour_compare_section(const lineage_model *a, const lineage_model *b,
                                         const lineage_compare_options *opt, arena *ar, json_value **out,
                                         lineage_error *err)
{
    (void)a; (void)b; (void)opt;
    return not_run(ar, out, err);
}
