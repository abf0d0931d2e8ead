/* The probe set: short prompts the behaviour test runs through both models, and the text the
 * activation tests feed them. Built in (English, Korean, Chinese, Japanese, code, numbers), or one's own
 * file with --probes (one prompt per line; "\n" and "\\" escapes). */
#ifndef LINEAGE_ANALYSIS_PROBES_H
#define LINEAGE_ANALYSIS_PROBES_H
#include <stddef.h>
#include "lineage.h"
#include "util/arena.h"

typedef struct probe {
    const char *text;
    size_t len;
    const char *category;     /* "en", "ko", "zh", "ja", "code", "numbers", or "file" */
} probe;

typedef struct probe_set {
    probe *items;
    size_t count;
} probe_set;

/* The built-in set (path NULL) or a file's prompts, allocated in ar. */
lineage_status probes_load(const char *path, arena *ar, probe_set *out, lineage_error *err);
#endif
