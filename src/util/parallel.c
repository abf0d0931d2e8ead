#include "util/parallel.h"

#include <pthread.h>

#define PARALLEL_MAX_THREADS 64

typedef struct parallel_job {
    size_t n;
    size_t next;   /* atomic */
    void (*fn)(void *ctx, size_t i);
    void *ctx;
} parallel_job;

static void *parallel_worker(void *arg)
{
    parallel_job *j = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n) break;
        j->fn(j->ctx, i);
    }
    return NULL;
}

void parallel_for(size_t n, int threads, void (*fn)(void *ctx, size_t i), void *ctx)
{
    parallel_job j = {n, 0, fn, ctx};
    pthread_t tid[PARALLEL_MAX_THREADS];
    int started = 0;
    if (threads > PARALLEL_MAX_THREADS) threads = PARALLEL_MAX_THREADS;
    /* a thread that cannot start leaves its share to the others */
    for (int t = 1; t < threads && (size_t)t < n; t++) {
        if (pthread_create(&tid[started], NULL, parallel_worker, &j) != 0) break;
        started++;
    }
    parallel_worker(&j);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
}
