/* Scratch buffers of a few hundred KB and up, backed by transparent huge pages where the kernel
 * allows (MADV_HUGEPAGE on a 2 MB-aligned anonymous mapping). Each first touch of a 4 KB page is a
 * page fault; on the virtual machines this runs on a fault costs ~15 us of CPU (the time to copy
 * ~150 KB), so a 2 MB buffer faulted page by page costs ~8 ms, and as one huge page ~0.2 ms
 * (bench/RESULTS.md, "Weights pass against cat"). Memory comes back zeroed. Under AddressSanitizer
 * this is plain calloc/free, so the sanitizer still sees every access. */
#ifndef LINEAGE_UTIL_BIGMEM_H
#define LINEAGE_UTIL_BIGMEM_H
#include <stddef.h>

/* n bytes (n > 0), 64-byte aligned at least; NULL when out of memory. Free with bigmem_free(p, n). */
void *bigmem_alloc(size_t n);
void bigmem_free(void *p, size_t n);
#endif
