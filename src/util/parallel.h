/* parallel_for: fn(ctx, i, worker) for every i in [0, n), the indices taken in order by up to
 * `threads` threads (the caller is one of them, worker 0; the others 1 .. threads-1, so per-worker
 * scratch can be indexed by it). For independent tasks writing their own result slots: the results
 * do not depend on the thread count or timing. */
#ifndef LINEAGE_UTIL_PARALLEL_H
#define LINEAGE_UTIL_PARALLEL_H
#include <stddef.h>

void parallel_for(size_t n, int threads, void (*fn)(void *ctx, size_t i, int worker), void *ctx);
/* The most workers parallel_for(n, threads, ...) uses. */
int parallel_workers(size_t n, int threads);

#endif
