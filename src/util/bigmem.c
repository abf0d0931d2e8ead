/* Huge-page-backed scratch buffers: see bigmem.h. */
#include "util/bigmem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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
/* Freed regions kept for the next request (every one 2 MB-aligned, a multiple of 2 MB): a comparison
 * asks for scratch many times (controls, shuffle null, stream, spectrum) and a region already faulted
 * in costs a memset instead of page faults. At most BIGMEM_KEEP_BYTES are held. */
#define BIGMEM_SLOTS 16
#define BIGMEM_KEEP_BYTES ((size_t)64 << 20)

typedef struct region {
    unsigned char *p;
    size_t len;
} region;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static region cache[BIGMEM_SLOTS];
static size_t cached, cached_bytes;

static size_t rounded(size_t n) { return (n + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES; }

/* Under cache_lock: puts a region in the cache; 0 when it is full. */
static int cache_put(unsigned char *p, size_t len)
{
    if (cached == BIGMEM_SLOTS || len > BIGMEM_KEEP_BYTES - cached_bytes) return 0;
    cache[cached++] = (region){p, len};
    cached_bytes += len;
    return 1;
}

/* The smallest cached region of at least len bytes, its tail beyond len cached again (or unmapped);
 * NULL when none fits. */
static unsigned char *cache_take(size_t len)
{
    pthread_mutex_lock(&cache_lock);
    size_t best = cached;
    for (size_t i = 0; i < cached; i++)
        if (cache[i].len >= len && (best == cached || cache[i].len < cache[best].len)) best = i;
    unsigned char *p = NULL;
    if (best < cached) {
        region r = cache[best];
        cache[best] = cache[--cached];
        cached_bytes -= r.len;
        p = r.p;
        if (r.len > len && !cache_put(r.p + len, r.len - len)) munmap(r.p + len, r.len - len);
    }
    pthread_mutex_unlock(&cache_lock);
    return p;
}
#endif

void *bigmem_alloc(size_t n)
{
#ifdef BIGMEM_PLAIN
    return calloc(1, n ? n : 1);
#else
    if (n == 0 || n > SIZE_MAX - 2 * HUGE_BYTES) return NULL;
    size_t len = rounded(n);
    unsigned char *p = cache_take(len);
    if (p) {
        memset(p, 0, n);
        return p;
    }
    /* over-allocate by one huge page, then cut to a 2 MB boundary on both sides */
    unsigned char *raw = mmap(NULL, len + HUGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1);
    p = (unsigned char *)start;
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
    if (!p) return;
    pthread_mutex_lock(&cache_lock);
    int kept = cache_put(p, rounded(n));
    pthread_mutex_unlock(&cache_lock);
    if (!kept) munmap(p, rounded(n));
#endif
}

void bigmem_release(void)
{
#ifndef BIGMEM_PLAIN
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < cached; i++) munmap(cache[i].p, cache[i].len);
    cached = cached_bytes = 0;
    pthread_mutex_unlock(&cache_lock);
#endif
}
