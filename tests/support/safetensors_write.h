/* Test-side safetensors writer: fixtures, generators and benchmarks write checkpoints with it;
 * the library only reads them. */
#ifndef LINEAGE_SUPPORT_SAFETENSORS_WRITE_H
#define LINEAGE_SUPPORT_SAFETENSORS_WRITE_H
#include "format/safetensors.h"

/* Writes tensors in the given order; metadata is a JSON object text or NULL. */
lineage_status safetensors_write(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                 lineage_error *err);
/* The same header, with the data region left as a hole of full size (ftruncate): a checkpoint of
 * any size whose tensors read as zeros (benchmarks of header-only work). data is ignored. */
lineage_status safetensors_write_sparse(const char *path, const st_tensor *tensors, size_t n, const char *metadata,
                                        lineage_error *err);
#endif
