/* GGUF tokenizer (tokenizer.ggml.*): any parsed GGUF loads a tokenizer or fails cleanly; a loaded one
 * encodes a text. Token types, scores, merges and role ids are tables hostile input fills. */
#include "format/gguf.h"
#include "format/model.h"
#include "tok_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gguf_file *g;
    lineage_error err;
    if (gguf_parse_memory(data, size, "fuzz", &g, &err) != LINEAGE_OK) return 0;
    lineage_tokenizer *t = NULL;
    if (!tok_open_gguf(g, "fuzz", &t, &err) && t) {
        tok_fuzz_encode(t);
        lineage_tokenizer_close(t);
    }
    gguf_file_free(g);
    return 0;
}
