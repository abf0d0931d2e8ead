/* GGUF tokenizer metadata (tokenizer.ggml.*): written once the GGUF reader lands. */
#include "format/gguf.h"
#include "format/tokenizer.h"
#include "util/error.h"

lineage_status tok_open_gguf_file(const char *path, lineage_tokenizer **out, lineage_error *err)
{
    *out = NULL;
    return error_set(err, LINEAGE_E_UNSUPPORTED, "%s: GGUF tokenizers are not supported yet", path);
}
