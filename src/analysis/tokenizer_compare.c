#include "analysis/analysis.h"
#include "util/error.h"
lineage_status tokenizer_compare_section(const lineage_model *a, const lineage_model *b, arena *ar,
                                         json_value **out, lineage_error *err)
{
    (void)a; (void)b;
    *out = json_new_object(ar);
    return *out ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}
