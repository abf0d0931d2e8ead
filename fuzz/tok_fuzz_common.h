/* Shared by the tokenizer fuzz targets: finish a loaded tokenizer, encode a short text, close. */
#ifndef LINEAGE_FUZZ_TOK_COMMON_H
#define LINEAGE_FUZZ_TOK_COMMON_H
#include <stdlib.h>
#include "format/tokenizer.h"

/* Encodes a text mixing scripts, digits, an emoji and odd spaces; every id must name a token. */
static inline void tok_fuzz_encode(lineage_tokenizer *t)
{
    static const char text[] = "Hello world, 안녕 世界 123 \xf0\x9f\x99\x82  x";
    lineage_error err;
    uint32_t *ids;
    size_t n;
    if (!lineage_tokenize(t, text, sizeof text - 1, &ids, &n, &err)) {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            if (!lineage_tokenizer_bytes(t, ids[i], &len)) abort();   /* an id outside the vocabulary */
        }
        free(ids);
    }
}

static inline void tok_fuzz_finish(lineage_tokenizer *t, lineage_status st)
{
    lineage_error err;
    if (!st) st = tok_finish(t, &err);
    if (!st) tok_fuzz_encode(t);
    lineage_tokenizer_close(t);
}
#endif
