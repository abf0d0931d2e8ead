/* Growable byte string for building output. Errors are sticky: check sb.failed once at the end. */
#ifndef LINEAGE_UTIL_STRBUF_H
#define LINEAGE_UTIL_STRBUF_H
#include <stddef.h>
#include "util/error.h"

typedef struct strbuf {
    char *data;
    size_t len, cap;
    int failed;
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_putn(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_putc(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) LINEAGE_PRINTF(2, 3);
/* Returns the NUL-terminated contents (never NULL; "" when empty or failed). */
const char *sb_str(strbuf *sb);

/* Whether s ends with suffix. */
int str_ends_with(const char *s, const char *suffix);
/* qsort comparator for an array of char pointers (strcmp order). */
int str_ptr_cmp(const void *a, const void *b);
#endif
