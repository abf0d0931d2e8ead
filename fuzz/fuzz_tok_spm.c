/* SentencePiece protobuf loader: any bytes load or fail cleanly; a loaded model encodes a text. */
#include "tok_fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lineage_error err;
    lineage_tokenizer *t = tok_new("fuzz", "sentencepiece");
    if (t) tok_fuzz_finish(t, tok_load_sentencepiece(t, data, size, "fuzz", &err));
    return 0;
}
