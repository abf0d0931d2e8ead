/* safetensors reading (validated at load) and writing (fixtures, demo models, benchmarks). */
#ifndef LINEAGE_FORMAT_SAFETENSORS_H
#define LINEAGE_FORMAT_SAFETENSORS_H
#include "format/model.h"

#define ST_MAX_HEADER_BYTES (100u << 20)

/* Maps one .safetensors file and appends its tensors to m. */
lineage_status safetensors_add_file(lineage_model *m, const char *path, lineage_error *err);
/* Parses m->files[file_index] (already in memory) and appends its tensors: the loader behind
 * safetensors_add_file, reachable on its own for fuzzing. */
lineage_status safetensors_parse(lineage_model *m, size_t file_index, lineage_error *err);

/* Loads the shards a model.safetensors.index.json text names (from folder dir) and checks that every
 * tensor it lists is in the shard it names. index_path names the index in errors. */
lineage_status hf_index_load(lineage_model *m, const char *dir, const char *index_path, const char *text, size_t len,
                             lineage_error *err);

/* The one check of a model.safetensors.index.json text: its weight_map object (in arena a) and the shard
 * names it lists (plain file names, sorted, each once; a malloc'd array of strings in the arena). */
lineage_status hf_index_parse(const char *text, size_t len, const char *index_path, arena *a, const json_value **wm,
                              const char ***shards, size_t *nshards, lineage_error *err);
/* metadata.total_size of a parsed index (the tensor bytes of all shards), 0 when absent or not a count. */
uint64_t hf_index_total_size(const char *text, size_t len);

typedef struct st_tensor {
    const char *name;
    lineage_dtype dtype;      /* a safetensors dtype */
    int ndim;
    uint64_t shape[LINEAGE_MAX_DIMS];
    const void *data;         /* numel x element size bytes, little-endian */
} st_tensor;

#endif
