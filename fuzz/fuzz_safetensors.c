/* safetensors loader from memory: any bytes must load or fail cleanly, and every tensor of a
 * loaded file must read (raw and as f32 rows) within the input buffer. */
#include <stdlib.h>
#include <string.h>

#include "format/model.h"
#include "format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lineage_model *m = calloc(1, sizeof *m);
    if (!m) return 0;
    arena_init(&m->arena, 0);
    m->path = strdup("fuzz.safetensors");
    m->files = calloc(1, sizeof *m->files);
    if (!m->path || !m->files) {
        lineage_model_close(m);
        return 0;
    }
    m->nfiles = 1;
    m->files[0].path = strdup("fuzz.safetensors");
    m->files[0].fd = -1;
    m->files[0].size = size;
    m->files[0].data = data;
    lineage_error err;
    if (m->files[0].path && !safetensors_parse(m, 0, &err) && !model_finish(m, &err)) {
        for (size_t i = 0; i < m->ntensors; i++) {
            const lineage_tensor_info *t = &m->tensors[i].info;
            const void *raw;
            uint64_t nb;
            volatile unsigned char sink = 0;
            if (!lineage_tensor_raw(m, i, &raw, &nb, &err) && nb) sink ^= ((const unsigned char *)raw)[nb - 1];
            (void)sink;
            if (t->numel > (1u << 20)) continue;
            float *out = malloc((size_t)t->numel * sizeof *out + sizeof *out);
            if (out) lineage_tensor_read_rows_f32(m, i, 0, t->rows, out, &err);
            free(out);
        }
    }
    m->files[0].data = NULL;   /* borrowed from the fuzzer, not a mapping */
    lineage_model_close(m);
    return 0;
}
