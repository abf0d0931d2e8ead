/* modelstat MODEL: what opening a model cost, as one JSON line: tensors, files, the bytes read to
 * parse headers and sidecars (header_bytes), the size of the weight files (total_bytes), and
 * the parameter count. For benchmarks: the fraction of a checkpoint that inspect reads. */
#include <inttypes.h>
#include <stdio.h>

#include "format/model.h"
#include "lineage.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: modelstat MODEL\n");
        return 2;
    }
    lineage_error err = {0, ""};
    lineage_model *m;
    if (lineage_model_open(argv[1], &m, &err)) {
        fprintf(stderr, "modelstat: %s\n", err.message);
        return lineage_exit_code(err.code);
    }
    uint64_t params = 0;
    for (size_t i = 0; i < m->ntensors; i++) params += m->tensors[i].info.numel;
    printf("{\"tensors\": %zu, \"files\": %zu, \"header_bytes\": %" PRIu64 ", \"total_bytes\": %" PRIu64
           ", \"parameters\": %" PRIu64 "}\n",
           m->ntensors, m->nfiles, m->header_bytes, m->total_bytes, params);
    lineage_model_close(m);
    return 0;
}
