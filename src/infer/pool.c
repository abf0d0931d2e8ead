/* A fixed pool of worker threads for the forward pass: one job at a time, items handed out by an
 * atomic counter, the calling thread working as worker 0. */
#include <stdatomic.h>
#include <stdlib.h>

#include "infer/engine.h"

struct pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    uint64_t generation;     /* bumped for each job */
    int running;             /* workers still inside the current job */
    int quit;
    pool_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next;
};

typedef struct worker_arg { pool *p; int id; } worker_arg;

static void work(pool *p, int id)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) break;
        p->fn(p->ctx, i, id);
    }
}

static void *worker_main(void *arg)
{
    worker_arg a = *(worker_arg *)arg;
    free(arg);
    pool *p = a.p;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->start, &p->lock);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        work(p, a.id);
        pthread_mutex_lock(&p->lock);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

pool *pool_new(int threads)
{
    pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    if (p->threads > 1) {
        p->tid = calloc((size_t)p->threads, sizeof *p->tid);
        if (!p->tid) { p->threads = 1; return p; }
        for (int i = 1; i < p->threads; i++) {
            worker_arg *a = malloc(sizeof *a);
            if (!a || pthread_create(&p->tid[i], NULL, worker_main, a ? (a->p = p, a->id = i, a) : NULL)) {
                free(a);
                p->threads = i;   /* run with the workers started so far */
                break;
            }
        }
    }
    return p;
}

void pool_free(pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    for (int i = 1; i < p->threads; i++) pthread_join(p->tid[i], NULL);
    free(p->tid);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p);
}

int pool_threads(const pool *p) { return p->threads; }

void pool_run(pool *p, size_t n, pool_fn fn, void *ctx)
{
    if (n == 0) return;
    if (p->threads == 1 || n == 1) {
        for (size_t i = 0; i < n; i++) fn(ctx, i, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    p->running = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    work(p, 0);
    pthread_mutex_lock(&p->lock);
    while (p->running > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
