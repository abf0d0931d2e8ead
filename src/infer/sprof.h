#ifdef STAGE_PROF
#include <stdio.h>
#include <time.h>
#ifndef STAGE_PROF_CLOCK
#define STAGE_PROF_CLOCK CLOCK_MONOTONIC   /* CLOCK_THREAD_CPUTIME_ID: CPU time of the calling thread (1 thread) */
#endif
static inline double sp_now(void) { struct timespec ts; clock_gettime(STAGE_PROF_CLOCK, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }
extern double sp_acc[16];
#define SP_T0 double sp_t0 = sp_now()
#define SP_ADD(i) do { double sp_t1 = sp_now(); sp_acc[i] += sp_t1 - sp_t0; sp_t0 = sp_t1; } while (0)
#else
#define SP_T0 (void)0
#define SP_ADD(i) (void)0
#endif
