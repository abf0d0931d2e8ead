/* The built-in probe texts (probes_builtin.c). */
#ifndef LINEAGE_ANALYSIS_PROBES_BUILTIN_H
#define LINEAGE_ANALYSIS_PROBES_BUILTIN_H
#include <stddef.h>

typedef struct probe_text {
    const char *category;
    const char *text;
} probe_text;

extern const probe_text probes_builtin[];
extern const size_t probes_builtin_count;
#endif
