/* Chat templates: the Jinja subset that models' chat_template strings use (for/if/elif/else/set/macro/
 * call/filter blocks, break/continue, filters, string and dict methods, loop variables, namespace(),
 * raise_exception, tests, slicing), rendered as @huggingface/jinja renders them (lstrip_blocks and
 * trim_blocks on, its value printing and JSON). Templates are untrusted: parsing and rendering stop
 * with a one-line error naming the source when a hard limit (template size, nesting, loop iterations,
 * evaluation steps, macro recursion, memory, output size) is reached. */
#ifndef LINEAGE_FORMAT_CHAT_TEMPLATE_H
#define LINEAGE_FORMAT_CHAT_TEMPLATE_H
#include <stddef.h>
#include "util/arena.h"
#include "util/json.h"
#include "util/strbuf.h"

typedef struct chat_template chat_template;

typedef struct chat_limits {
    size_t max_output;      /* rendered bytes; default 4 MiB */
    size_t max_steps;       /* evaluated nodes and loop iterations; default 5 million */
    size_t max_depth;       /* macro/call nesting; default 64 */
    size_t max_memory;      /* values built while rendering; default 64 MiB */
} chat_limits;

#define CHAT_TEMPLATE_MAX_BYTES (1u << 20)

/* Parses src[0..len) (what names it in errors, e.g. "tokenizer_config.json: chat_template"). The
 * template lives in ar. */
lineage_status chat_template_parse(const char *src, size_t len, const char *what, arena *ar, chat_template **out,
                                   lineage_error *err);
/* Renders with the members of the JSON object ctx as variables (messages, add_generation_prompt,
 * bos_token, ...). The output is appended to out. limits may be NULL. */
lineage_status chat_template_render(const chat_template *t, const json_value *ctx, const chat_limits *limits,
                                    strbuf *out, lineage_error *err);
#endif
