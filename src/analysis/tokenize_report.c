/* lineage.tokenize/1: one text encoded by one tokenizer, as a document for --json/--md/--journal. */
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "util/error.h"

#define TOKENIZE_DOC_MAX_IDS 4096   /* the document keeps the first ids; count is always the full one */

lineage_status lineage_tokenize_report(const lineage_tokenizer *t, const char *path, const char *text, size_t len,
                                       lineage_doc **out, lineage_error *err)
{
    *out = NULL;
    uint32_t *ids;
    size_t count;
    lineage_status st = lineage_tokenize(t, text, len, &ids, &count, err);
    if (st) return st;
    lineage_doc *d = doc_new();
    if (!d) {
        free(ids);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    arena *ar = &d->arena;
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += ((unsigned char)text[i] & 0xC0) != 0x80;
    json_value *jids = json_new_array(ar), *pieces = json_new_array(ar);
    int ok = jids && pieces && json_set_str(ar, d->root, "schema", "lineage.tokenize/1") &&
             json_set_str(ar, d->root, "tokenizer", path) &&
             json_set(ar, d->root, "text", utf8_valid(text, len) ? json_new_stringn(ar, text, len) : json_new_null(ar)) &&
             json_set_int(ar, d->root, "count", (int64_t)count) && json_set_int(ar, d->root, "characters", (int64_t)chars);
    for (size_t i = 0; ok && i < count && i < TOKENIZE_DOC_MAX_IDS; i++) {
        size_t pl = 0;
        const char *piece = lineage_tokenizer_bytes(t, ids[i], &pl);
        ok = json_push(ar, jids, json_new_int(ar, ids[i])) &&
             json_push(ar, pieces, piece && utf8_valid(piece, pl) ? json_new_stringn(ar, piece, pl) : json_new_null(ar));
    }
    ok = ok && json_set(ar, d->root, "ids", jids) && json_set(ar, d->root, "pieces", pieces);
    free(ids);
    if (!ok) {
        lineage_doc_free(d);
        return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    }
    *out = d;
    return LINEAGE_OK;
}
