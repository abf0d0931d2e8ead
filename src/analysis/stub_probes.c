/* Placeholder probe set until the behaviour analysis lands with the real one. */
#include <string.h>
#include "analysis/probes.h"
#include "util/error.h"

static const char *const stub_texts[] = {
    "The quick brown fox jumps over the lazy dog.",
    "This program is free software; you can redistribute it and/or modify it",
    "def main(argc, argv):\n    return 0",
    "#include <stdio.h>\nint main(void) {",
    "1, 2, 3, 5, 8, 13, 21,",
    "NAME\n       ls - list directory contents",
};

lineage_status probes_load(const char *path, arena *ar, probe_set *out, lineage_error *err)
{
    if (path) return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: probe files are not read yet", path);
    size_t n = sizeof stub_texts / sizeof stub_texts[0];
    out->items = arena_alloc(ar, n * sizeof *out->items);
    if (!out->items) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        out->items[i].text = stub_texts[i];
        out->items[i].len = strlen(stub_texts[i]);
        out->items[i].category = "en";
    }
    out->count = n;
    return LINEAGE_OK;
}
