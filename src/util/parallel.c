#include "util/parallel.h"

#include <pthread.h>

#define PARALLEL_MAX_THREADS 64

typedef struct parallel_job {
    size_t n;
    size_t next;   /* atomic */
    void (*fn)(void *ctx, size_t i, int worker);
    void *ctx;
} parallel_job;

typedef struct parallel_worker_arg {
    parallel_job *j;
    int worker;
} parallel_worker_arg;

static void *parallel_worker(void *arg)
{
    parallel_worker_arg *w = arg;
    parallel_job *j = w->j;
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n) break;
        j->fn(j->ctx, i, w->worker);
    }
    return NULL;
}

int parallel_workers(size_t n, int threads)
{
    if (threads > PARALLEL_MAX_THREADS) threads = PARALLEL_MAX_THREADS;
    if (threads < 1) threads = 1;
    return (size_t)threads > n && n > 0 ? (int)n : threads;
}

void parallel_for(size_t n, int threads, void (*fn)(void *ctx, size_t i, int worker), void *ctx)
{
    parallel_job j = {n, 0, fn, ctx};
    pthread_t tid[PARALLEL_MAX_THREADS];
    parallel_worker_arg args[PARALLEL_MAX_THREADS];
    int started = 0, workers = parallel_workers(n, threads);
    /* a thread that cannot start leaves its share to the others */
    for (int t = 1; t < workers; t++) {
        args[t] = (parallel_worker_arg){&j, t};
        if (pthread_create(&tid[started], NULL, parallel_worker, &args[t]) != 0) break;
        started++;
    }
    args[0] = (parallel_worker_arg){&j, 0};
    parallel_worker(&args[0]);
    for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
}
