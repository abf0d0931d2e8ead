#include "util/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double progress_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One status line rewritten in place; silent for passes under a second and off a terminal. */
void lineage_progress_stderr(void *user, const char *what, uint64_t done, uint64_t total, double seconds)
{
    static _Thread_local int shown;   /* a line is on screen (one terminal line per thread) */
    (void)user;
    if (!isatty(STDERR_FILENO)) return;
    if (done >= total) {
        if (shown) fputs("\r\033[K", stderr);
        shown = 0;
        return;
    }
    if (seconds < 1.0) return;
    double rate = (double)done / seconds;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    if (!strcmp(what, "asking")) {   /* the behaviour battery counts answers, not bytes */
        fprintf(stderr, "\r\033[K%s: %llu/%llu answers, ETA %d:%02d", what, (unsigned long long)done,
                (unsigned long long)total, (int)(eta / 60), (int)eta % 60);
        fflush(stderr);
        shown = 1;
        return;
    }
    fprintf(stderr, "\r\033[K%s: %.1f/%.1f GB, %.2f GB/s, ETA %d:%02d", what, (double)done / 1e9, (double)total / 1e9,
            rate / 1e9, (int)(eta / 60), (int)eta % 60);
    fflush(stderr);
    shown = 1;
}
