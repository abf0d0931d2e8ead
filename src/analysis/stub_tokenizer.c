/* Placeholder until the tokenizer analysis lands. */
#include "analysis/analysis.h"
#include "util/error.h"

lineage_status tokenizer_compare_section(const lineage_model *a, const lineage_model *b, arena *ar,
                                         json_value **out, lineage_error *err)
{
    (void)a; (void)b;
    *out = json_new_object(ar);
    return *out ? LINEAGE_OK : error_set(err, LINEAGE_E_NOMEM, "out of memory");
}

lineage_status lineage_tokenizer_open(const char *path, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: tokenizer support not built yet", path);
}
void lineage_tokenizer_close(lineage_tokenizer *t) { (void)t; }
size_t lineage_tokenizer_size(const lineage_tokenizer *t) { (void)t; return 0; }
const char *lineage_tokenizer_bytes(const lineage_tokenizer *t, uint32_t id, size_t *len)
{
    (void)t; (void)id; *len = 0;
    return NULL;
}
lineage_status lineage_tokenize(const lineage_tokenizer *t, const char *text, size_t len, uint32_t **ids,
                                size_t *count, lineage_error *err)
{
    (void)t; (void)text; (void)len; *ids = NULL; *count = 0;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "tokenizer support not built yet");
}
