/* Placeholder until the verdict engine lands. */
#include "analysis/analysis.h"
#include "util/error.h"

lineage_status verdict_build(const json_value *root, arena *ar, json_value **out, lineage_error *err)
{
    (void)root;
    *out = json_new_object(ar);
    if (!*out || !json_set_str(ar, *out, "label", "inconclusive"))
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    return LINEAGE_OK;
}
