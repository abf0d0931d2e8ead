/* Untrusted text (config strings, safetensors and GGUF metadata, tensor names, paths, server
 * replies) on its way out: one sanitizer per output kind, all built on the same rule for what is
 * never written raw. Terminal: C0 and C1 controls, DEL, bidirectional overrides and invalid UTF-8
 * are shown escaped (\x1b, \u{202e}). Markdown: that (CR and LF included), and every character that
 * could open a link, image, heading, emphasis, code span or HTML backslash-escaped. HTML: that, and
 * the HTML metacharacters as entities. */
#ifndef LINEAGE_UTIL_SANITIZE_H
#define LINEAGE_UTIL_SANITIZE_H
#include <stddef.h>
#include "util/strbuf.h"

enum {
    SANITIZE_KEEP_LINES = 1,   /* newline and tab pass (whole reports, not single values) */
    SANITIZE_ALLOW_SGR = 2     /* colour sequences ESC [ digits ; ... m pass (our own colours, colour on) */
};
void sanitize_terminal(strbuf *sb, const char *s, size_t n, int flags);
void sanitize_markdown(strbuf *sb, const char *s);
/* A Markdown code span holding s verbatim (fenced by more backticks than s contains in a row). */
void sanitize_markdown_code(strbuf *sb, const char *s);
void sanitize_html(strbuf *sb, const char *s);
/* Whether the codepoint is never written raw (controls, DEL, C1, bidi overrides and isolates). */
int sanitize_hidden_codepoint(unsigned cp);
/* Length of the valid UTF-8 sequence at s when it encodes such a codepoint (in *cp), else 0. */
size_t sanitize_hidden_at(const char *s, size_t n, unsigned *cp);
/* Copies s into buf (size n, truncated on a character boundary) with the terminal rule applied. */
void sanitize_terminal_copy(char *buf, size_t n, const char *s);
#endif
