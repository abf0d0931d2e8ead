/* One-line errors: "FILE: problem". Every layer fills a lineage_error and returns its code. */
#ifndef LINEAGE_UTIL_ERROR_H
#define LINEAGE_UTIL_ERROR_H
#include "lineage.h"

#if defined(__GNUC__) || defined(__clang__)
#define LINEAGE_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LINEAGE_PRINTF(a, b)
#endif

/* Sets err (may be NULL) and returns code, so callers can `return error_set(...)`. */
lineage_status error_set(lineage_error *err, lineage_status code, const char *fmt, ...)
    LINEAGE_PRINTF(3, 4);
/* Prefixes an existing message with "context: " unless it already starts with it. */
lineage_status error_prefix(lineage_error *err, const char *context);
#endif
