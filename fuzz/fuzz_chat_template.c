/* Chat template parser and interpreter: any bytes must parse or fail cleanly, and a parsed template must
 * render or fail cleanly within the limits (small ones here, so a run stays fast). */
#include <string.h>

#include "format/chat_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char ctx_text[] =
        "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"},"
        " {\"role\": \"assistant\", \"content\": \"Hello\"}, {\"role\": \"user\", \"content\": \"너는 누구야?\"}],"
        " \"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}";
    arena a;
    arena_init(&a, 64u << 20);
    json_value *ctx;
    lineage_error err;
    chat_template *t;
    if (json_parse(ctx_text, strlen(ctx_text), NULL, &a, &ctx, "ctx", &err) == LINEAGE_OK &&
        chat_template_parse((const char *)data, size, "fuzz", &a, &t, &err) == LINEAGE_OK) {
        chat_limits lim = {1u << 16, 200000, 16, 8u << 20};
        strbuf sb;
        sb_init(&sb);
        chat_template_render(t, ctx, &lim, &sb, &err);
        sb_free(&sb);
    }
    arena_free(&a);
    return 0;
}
