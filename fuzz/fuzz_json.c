/* JSON parser: any bytes must parse or fail cleanly, and a parsed tree must re-serialize. */
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 64u << 20);
    json_value *v;
    lineage_error err;
    json_limits lim = {32, 1u << 20};
    if (json_parse((const char *)data, size, &lim, &a, &v, "fuzz", &err) == LINEAGE_OK) {
        strbuf sb;
        sb_init(&sb);
        json_write(&sb, v, 1);
        sb_free(&sb);
    }
    arena_free(&a);
    return 0;
}
