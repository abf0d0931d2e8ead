/* Placeholder until the architecture analysis lands. */
#include "analysis/analysis.h"
#include "util/error.h"

lineage_status inspect_build(const lineage_model *m, const lineage_inspect_options *opt, arena *a,
                             json_value *root, lineage_error *err)
{
    (void)opt;
    json_value *t = json_new_object(a);
    if (!t || !json_set_int(a, t, "count", (int64_t)m->ntensors) || !json_set(a, root, "tensors", t))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}

lineage_status arch_compare_section(const lineage_model *a, const lineage_model *b, arena *ar,
                                    json_value **out, lineage_error *err)
{
    (void)a; (void)b;
    *out = json_new_object(ar);
    return *out ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}
