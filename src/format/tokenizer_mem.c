/* Large zeroed tables for the tokenizer (hash slots, token table, merge lists, pair index): 2 MiB
 * aligned anonymous mappings with transparent huge pages requested and their pages populated in
 * one call. A hash table of several MiB otherwise costs a page fault per 4 KiB touched and a TLB
 * miss per random probe, both several times dearer on virtual machines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "format/tokenizer.h"

#define HUGE_BYTES ((size_t)2 << 20)
#define TABLE_MAP_MIN ((size_t)1 << 20)   /* smaller tables come from calloc */

static size_t mapped_size(size_t bytes) { return (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1); }

void *tok_table_alloc(size_t bytes)
{
    if (bytes < TABLE_MAP_MIN) return calloc(1, bytes ? bytes : 1);
    if (bytes > SIZE_MAX / 2) return NULL;
    size_t size = mapped_size(bytes);
    char *p = mmap(NULL, size + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    char *q = (char *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
    if (q > p) munmap(p, (size_t)(q - p));   /* keep exactly [q, q + size) */
    if (q + size < p + size + HUGE_BYTES) munmap(q + size, (size_t)(p + size + HUGE_BYTES - (q + size)));
#ifdef MADV_HUGEPAGE
    madvise(q, size, MADV_HUGEPAGE);   /* advice only: without it the table still works */
#endif
    return q;
}

void tok_table_free(void *p, size_t bytes)
{
    if (!p) return;
    if (bytes < TABLE_MAP_MIN) free(p);
    else munmap(p, mapped_size(bytes));
}

void *tok_table_grow(void *p, size_t old_bytes, size_t new_bytes)
{
    if (new_bytes <= old_bytes) return p;
    if (old_bytes && mapped_size(old_bytes) >= new_bytes && old_bytes >= TABLE_MAP_MIN) return p;
    void *n = tok_table_alloc(new_bytes);
    if (!n) return NULL;
    if (p) memcpy(n, p, old_bytes);
    tok_table_free(p, old_bytes);
    return n;
}
