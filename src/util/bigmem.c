/* Huge-page-backed scratch buffers: see bigmem.h. */
#include "util/bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define BIGMEM_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIGMEM_PLAIN 1
#endif
#endif

#ifndef BIGMEM_PLAIN
#define HUGE_BYTES ((size_t)2 << 20)

static size_t rounded(size_t n) { return (n + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES; }
#endif

void *bigmem_alloc(size_t n)
{
#ifdef BIGMEM_PLAIN
    return calloc(1, n ? n : 1);
#else
    if (n == 0 || n > SIZE_MAX - 2 * HUGE_BYTES) return NULL;
    size_t len = rounded(n);
    /* over-allocate by one huge page, then cut to a 2 MB boundary on both sides */
    unsigned char *raw = mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    unsigned char *p = (unsigned char *)start;
    size_t head = (size_t)(p - raw), tail = HUGE_BYTES - head;
    if (head) munmap(raw, head);
    if (tail) munmap(p + len, tail);
#ifdef MADV_HUGEPAGE
    (void)madvise(p, len, MADV_HUGEPAGE);   /* advice only: without THP the pages are 4 KB */
#endif
    return p;
#endif
}

void bigmem_free(void *p, size_t n)
{
#ifdef BIGMEM_PLAIN
    (void)n;
    free(p);
#else
    if (p) munmap(p, rounded(n));
#endif
}
