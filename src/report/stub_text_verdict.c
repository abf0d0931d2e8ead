/* Placeholder until the verdict renderer lands. */
#include "report/report.h"

void render_verdict_text(strbuf *sb, const json_value *section, const render_ctx *ctx)
{
    (void)ctx;
    json_write(sb, section, 2);
    sb_putc(sb, '\n');
}
