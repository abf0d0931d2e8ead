/* The opened checkpoint behind the public lineage_model handle. Parsers fill it once at load
 * (every offset, length and shape validated there); everything after may trust it. */
#ifndef LINEAGE_FORMAT_MODEL_H
#define LINEAGE_FORMAT_MODEL_H
#include "util/json.h"
#include "io/file.h"
#include "lineage.h"
#include "util/arena.h"

typedef enum {
    MODEL_SOURCE_HF_FOLDER,
    MODEL_SOURCE_SAFETENSORS,
    MODEL_SOURCE_GGUF,
    MODEL_SOURCE_CONFIG_ONLY
} model_source;

typedef struct model_tensor {
    lineage_tensor_info info;
    size_t file;          /* index into lineage_model.files */
    uint64_t offset;      /* absolute offset of the first byte in that file */
    long scale;           /* FP8: index of the weight_scale_inv tensor, else -1 */
    uint64_t block_rows, block_cols;  /* FP8 scale block (128x128 for DeepSeek-V3) */
    uint32_t unpermute_heads;   /* GGUF llama-family attn_q/attn_k: heads of the stored row permutation, else 0 */
} model_tensor;

typedef struct gguf_file gguf_file;

struct lineage_model {
    char *path;             /* as given */
    char *dir;              /* folder holding sidecar files (config.json, tokenizer.json, ...) */
    model_source source;
    arena arena;            /* tensor names, parsed JSON */
    mapped_file *files;
    size_t nfiles;
    model_tensor *tensors;
    size_t ntensors, tensors_cap;
    json_value *config;     /* parsed config.json or NULL */
    json_value *st_metadata;/* safetensors __metadata__ of the first file, or NULL */
    gguf_file *gguf;        /* GGUF metadata, or NULL */
    int index_without_shards; /* an index named shards of which none is present: config-only */
    uint64_t header_bytes;  /* bytes read to parse headers and sidecars */
    uint64_t total_bytes;   /* size of all weight files */
    uint64_t hidden_bytes;  /* safetensors data bytes no tensor covers (gaps, trailing data) */
    const char *hidden_file;/* the first file holding such bytes */
    /* Remote sources: fetch the bytes of rows [row0, row0+nrows) of a tensor before they are read.
     * NULL for local files. */
    lineage_status (*prefetch)(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                               lineage_error *err);
    void *remote;           /* state of the remote source, or NULL */
    size_t *name_index;     /* open-addressing hash of tensor names, name_index_cap slots */
    size_t name_index_cap;
    size_t *role_index;     /* open-addressing hash of (component, role, layer, expert), first tensor wins */
    size_t role_index_cap;
};

/* Per-source openers (fill m; the caller frees m on failure). */
lineage_status safetensors_open_model(lineage_model *m, const char *file, lineage_error *err);
lineage_status hf_folder_open_model(lineage_model *m, const char *dir, lineage_error *err);
lineage_status gguf_open_model(lineage_model *m, const char *file, lineage_error *err);
void gguf_file_free(gguf_file *g);

/* Appends a tensor (grows m->tensors); returns NULL on allocation failure. */
model_tensor *model_add_tensor(lineage_model *m);
/* (Re)builds the tensor-name hash; fails on a duplicate name. */
lineage_status model_index_names(lineage_model *m, lineage_error *err);
/* After all tensors are added: roles, name index, FP8 scale pairing. */
lineage_status model_finish(lineage_model *m, lineage_error *err);
/* Checks a tensor index and a row range [row0, row0+nrows) against the tensor (LINEAGE_E_USAGE). */
lineage_status model_check_rows(const lineage_model *m, size_t index, uint64_t row0, uint64_t nrows,
                                lineage_error *err);
/* Reads config.json (and nothing else) from dir into m->config when present. */
lineage_status model_load_config(lineage_model *m, const char *dir, lineage_error *err);
/* Reads one config file (any name) into m->config, its numbers validated (arch_from_config). */
lineage_status model_load_config_file(lineage_model *m, const char *path, lineage_error *err);

/* Limits for sidecar JSON files. */
#define MODEL_MAX_CONFIG_BYTES (16u << 20)
#define MODEL_MAX_INDEX_BYTES (64u << 20)
#endif
