/* Progress of long passes. The library only reports through the callback the application installed
 * with lineage_set_progress_callback (none by default: the library never prints). */
#ifndef LINEAGE_UTIL_PROGRESS_H
#define LINEAGE_UTIL_PROGRESS_H
#include <stdint.h>
#include "lineage.h"

/* Reports `done` of `total` bytes of the phase `what`, `seconds` after it started. Call from one
 * thread at a time; a last call with done == total ends the phase. */
void progress_report(const char *what, uint64_t done, uint64_t total, double seconds);
int progress_enabled(void);
/* Monotonic seconds. */
double progress_now(void);
#endif
