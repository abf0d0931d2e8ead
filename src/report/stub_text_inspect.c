/* Placeholder until the inspect renderer lands. */
#include "report/report.h"

void render_inspect_text(strbuf *sb, const json_value *root, const render_ctx *ctx)
{
    (void)ctx;
    json_write(sb, root, 2);
    sb_putc(sb, '\n');
}
