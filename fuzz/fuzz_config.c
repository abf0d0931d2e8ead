/* config.json numbers and untrusted text: any bytes must load as a config or fail cleanly, parameter
 * arithmetic on a loaded config must not overflow into a wrong count, and the sanitizers must leave
 * no control byte or bidi override in their output. */
#include <stdlib.h>
#include <string.h>

#include "analysis/params.h"
#include "format/arch.h"
#include "util/sanitize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_hidden(const strbuf *sb)
{
    for (size_t i = 0; i < sb->len; i++) {
        unsigned cp;
        unsigned char c = (unsigned char)sb->data[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || sanitize_hidden_at(sb->data + i, sb->len - i, &cp)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena a;
    arena_init(&a, 64u << 20);
    json_value *root;
    lineage_error err;
    json_limits lim = {32, 1u << 20};
    if (json_parse((const char *)data, size, &lim, &a, &root, "config.json", &err) == LINEAGE_OK &&
        root->type == JSON_OBJECT) {
        arch_info info;
        arch_init(&info);
        if (arch_from_config(root, arch_text_config(root), &info, "config.json", &err) == LINEAGE_OK) {
            param_counts pc;
            if (params_from_config(&info, &pc) && (pc.total > (uint64_t)INT64_MAX || pc.active > pc.total)) abort();
            params_vision_from_config(json_get(root, "vision_config"));
        }
    }
    arena_free(&a);
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    strbuf sb;
    sb_init(&sb);
    sanitize_terminal(&sb, text, size, 0);
    no_hidden(&sb);
    sb.len = 0;
    sanitize_markdown(&sb, text);
    no_hidden(&sb);
    sb.len = 0;
    sanitize_html(&sb, text);
    no_hidden(&sb);
    sb_free(&sb);
    free(text);
    return 0;
}
