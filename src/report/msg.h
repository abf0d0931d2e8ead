/* The message catalogue (msg.c): report codes to English or Korean text. */
#ifndef LINEAGE_REPORT_MSG_H
#define LINEAGE_REPORT_MSG_H
#include "report/report.h"

/* The text of a catalogue key ("hyp.depth_upscaling") in the report language, or NULL. */
const char *msg_lookup(const char *key, const render_ctx *ctx);
/* The text of code under prefix ("rel", "finetune"), or the code itself when the catalogue lacks it. */
const char *msg_code(const char *prefix, const char *code, const render_ctx *ctx);
#endif
/* A finding's control (an object with "key", "values" and the English "description") in the report language. */
void control_text(const json_value *ctl, const render_ctx *ctx, char *buf, size_t n);
