/* safetensors reading (validated at load) and writing (fixtures, demo models, benchmarks). */
#ifndef LINEAGE_FORMAT_SAFETENSORS_H
#define LINEAGE_FORMAT_SAFETENSORS_H
#include "format/model.h"

/* Maps one .safetensors file and appends its tensors to m. */
lineage_status safetensors_add_file(lineage_model *m, const char *path, lineage_error *err);

typedef struct st_tensor {
    const char *name;
    lineage_dtype dtype;      /* a safetensors dtype */
    int ndim;
    uint64_t shape[LINEAGE_MAX_DIMS];
    const void *data;         /* numel x element size bytes, little-endian */
} st_tensor;

/* Writes tensors in the given order; metadata is a JSON object text or NULL. */
lineage_status safetensors_write(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                 lineage_error *err);
#endif
