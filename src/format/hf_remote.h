/* Remote models hf://ORG/NAME[@REVISION] as models: which files and byte ranges a Hub model needs (small
 * files whole, safetensors headers by range, tensor rows when read), validated by the same code as local
 * folders; the bytes themselves come through io/hub.h into a cache snapshot folder that the folder reader
 * opens (weight files there are sparse; lineage_model.prefetch fills the rows before they are touched). */
#ifndef LINEAGE_FORMAT_HF_REMOTE_H
#define LINEAGE_FORMAT_HF_REMOTE_H
#include "format/model.h"
#include "io/hub.h"

/* Files fetched whole when present (a 404 is fine for each). */
#define HF_REMOTE_SMALL_FILES                                                                             \
    "config.json", "generation_config.json", "model.safetensors.index.json", "tokenizer.json",          \
        "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", \
        "added_tokens.json", "README.md"
#define HF_REMOTE_HEADER_GUESS_BYTES (64u << 10)   /* the speculative first request for a safetensors header */

/* Opens a remote model into m (m->path is set by the caller). */
lineage_status hf_remote_open_model(lineage_model *m, const char *path, lineage_error *err);
/* Persists what was fetched and releases the remote state. */
void hf_remote_close_model(lineage_model *m);
/* The byte-level state behind a remote model (repo, commit, files, counters); NULL for local models. */
hub_remote *hf_remote_hub(const lineage_model *m);
#endif
