/* A fixed pool of worker threads for the forward pass: one job at a time, items handed out by an
 * atomic counter, the calling thread working as worker 0. Between jobs the workers spin briefly
 * before sleeping on the condition variable (a forward pass runs a job every few hundred
 * microseconds; a futex wake-up of a sleeping thread costs tens of them on a virtual machine), and
 * the caller spins briefly for the last workers before sleeping. */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "infer/engine.h"

#define SPIN_NS 200000   /* how long a thread spins for the next job or the last worker */

struct pool {
    int threads;
    pthread_t *tid;
    pthread_mutex_t lock;
    pthread_cond_t start, done;
    atomic_uint_fast64_t generation;   /* bumped for each job (under lock) */
    atomic_int running;                /* workers still inside the current job */
    atomic_int quit;
    int sleepers;                      /* workers waiting on `start` (under lock) */
    int waiting;                       /* the caller waits on `done` (under lock) */
    pool_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next;
};

typedef struct worker_arg { pool *p; int id; } worker_arg;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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
    for (;;) {
        /* spin for the next job, then sleep */
        uint64_t t0 = 0;
        for (unsigned k = 0; atomic_load(&p->generation) == seen && !atomic_load(&p->quit); k++) {
            sched_yield();   /* a no-op on an idle core; others run first on a loaded machine */
            if ((k & 15) == 15) {
                uint64_t t = now_ns();
                if (!t0) t0 = t;
                else if (t - t0 > SPIN_NS) break;
            }
        }
        pthread_mutex_lock(&p->lock);
        while (!atomic_load(&p->quit) && atomic_load(&p->generation) == seen) {
            p->sleepers++;
            pthread_cond_wait(&p->start, &p->lock);
            p->sleepers--;
        }
        pthread_mutex_unlock(&p->lock);
        if (atomic_load(&p->quit)) break;
        seen = atomic_load(&p->generation);
        work(p, a.id);
        if (atomic_fetch_sub(&p->running, 1) == 1) {
            pthread_mutex_lock(&p->lock);
            if (p->waiting) pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
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
    atomic_init(&p->generation, 0);
    atomic_init(&p->running, 0);
    atomic_init(&p->quit, 0);
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
    atomic_store(&p->quit, 1);
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
    /* every worker has finished the previous job (running == 0) and reads these only after it sees
     * the new generation */
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->running, p->threads - 1);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->generation, 1);
    if (p->sleepers) pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->lock);
    work(p, 0);
    uint64_t t0 = 0;
    for (unsigned k = 0; atomic_load(&p->running) > 0; k++) {
        sched_yield();
        if ((k & 15) == 15) {
            uint64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > SPIN_NS) break;
        }
    }
    pthread_mutex_lock(&p->lock);
    p->waiting = 1;
    while (atomic_load(&p->running) > 0) pthread_cond_wait(&p->done, &p->lock);
    p->waiting = 0;
    pthread_mutex_unlock(&p->lock);
}
