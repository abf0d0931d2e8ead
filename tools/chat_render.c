/* chat_render TEMPLATE CONTEXT.json: renders a chat template file with the members of a JSON object
 * as variables and writes the exact bytes to stdout; for the suite's comparison with @huggingface/jinja.
 * A template failure is one line on stderr and exit 2. */
#include <stdio.h>
#include <stdlib.h>

#include "format/chat_template.h"
#include "io/file.h"
#include "util/error.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: chat_render TEMPLATE CONTEXT.json\n");
        return 2;
    }
    lineage_error err = {0, ""};
    char *src = NULL, *ctx_text = NULL;
    size_t len = 0, clen = 0;
    arena ar;
    arena_init(&ar, 0);
    json_value *ctx = NULL;
    chat_template *t = NULL;
    strbuf out;
    sb_init(&out);
    lineage_status st = file_read_all(argv[1], CHAT_TEMPLATE_MAX_BYTES + 1, &src, &len, &err);
    if (!st) st = file_read_all(argv[2], 64u << 20, &ctx_text, &clen, &err);
    if (!st) st = json_parse(ctx_text, clen, NULL, &ar, &ctx, argv[2], &err);
    if (!st) st = chat_template_parse(src, len, argv[1], &ar, &t, &err);
    if (!st) st = chat_template_render(t, ctx, NULL, &out, &err);
    if (!st) fwrite(out.data ? out.data : "", 1, out.len, stdout);
    else fprintf(stderr, "chat_render: %s\n", err.message);
    sb_free(&out);
    free(src);
    free(ctx_text);
    arena_free(&ar);
    return st ? lineage_exit_code(st) : 0;
}
