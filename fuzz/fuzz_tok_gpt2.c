/* vocab.json + merges.txt (split at the first NUL byte of the input). */
#include <string.h>
#include "tok_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t vl = nul ? (size_t)(nul - data) : size;
    const char *merges = nul ? (const char *)nul + 1 : "";
    size_t ml = nul ? size - vl - 1 : 0;
    lineage_error err;
    lineage_tokenizer *t = tok_new("fuzz", "gpt2-files");
    if (t) tok_fuzz_finish(t, tok_load_gpt2_files(t, (const char *)data, vl, merges, ml, "fuzz", &err));
    return 0;
}
