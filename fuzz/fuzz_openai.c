/* OpenAI-compatible answers: any bytes must parse or fail cleanly; a parsed answer's tokens are sorted,
 * distinct and within the body's size, with log-probabilities <= 0. */
#include <math.h>
#include <string.h>

#include "io/openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena ar;
    arena_init(&ar, 64u << 20);
    lineage_error err;
    openai_token *t;
    size_t n, pt;
    const char *name;
    if (openai_parse_completion((const char *)data, size, "fuzz", &ar, &t, &n, &pt, &err) == LINEAGE_OK) {
        for (size_t i = 0; i < n; i++) {
            if (!(t[i].logprob <= 0) || t[i].len > size || (i && t[i].logprob > t[i - 1].logprob)) __builtin_trap();
            for (size_t k = 0; k < i; k++)
                if (t[k].len == t[i].len && !memcmp(t[k].bytes, t[i].bytes, t[i].len)) __builtin_trap();
        }
    }
    openai_parse_models((const char *)data, size, "fuzz", &ar, &name, &err);
    arena_free(&ar);
    return 0;
}
