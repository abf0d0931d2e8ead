/* Remote models hf://ORG/NAME[@REVISION]: small files fetched whole, safetensors headers by range, tensor
 * rows by range when read, all into a cache snapshot folder that the regular folder reader opens (weight
 * files there are sparse; lineage_model.prefetch fills the rows before they are touched). */
#ifndef LINEAGE_IO_HUB_H
#define LINEAGE_IO_HUB_H
#include "util/json.h"
#include "format/model.h"
#include "lineage.h"
#include "util/arena.h"

/* Files fetched whole when present (a 404 is fine for each). */
#define HUB_SMALL_FILES                                                                                   \
    "config.json", "generation_config.json", "model.safetensors.index.json", "tokenizer.json",          \
        "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", \
        "added_tokens.json", "README.md"
#define HUB_MAX_SMALL_FILE_BYTES (64u << 20)
#define HUB_HEADER_GUESS_BYTES (64u << 10)   /* the speculative first request for a safetensors header */
#define HUB_MAX_HEADER_BYTES (100u << 20)    /* as the safetensors reader */

int hub_is_remote_path(const char *path);

typedef struct hub_url {
    char org[128], name[128], revision[256];
} hub_url;
/* Parses hf://ORG/NAME[@REVISION]; LINEAGE_E_USAGE with a one-line reason when malformed. */
lineage_status hub_parse_url(const char *path, hub_url *out, lineage_error *err);

/* Opens a remote model into m (m->path is set by the caller). */
lineage_status hub_open_model(lineage_model *m, const char *path, lineage_error *err);
/* Persists what was fetched and releases the remote state. */
void hub_close_model(lineage_model *m);

/* The "source" object of a report: for remote models repo, revision, resolved commit, each file's ETag and
 * size, bytes fetched and requests made for this model, checkpoint bytes and the fraction of them read;
 * for local models the path and checkpoint bytes. */
lineage_status remote_describe(const lineage_model *m, arena *a, json_value **out, lineage_error *err);
#endif
