/* Progress of long passes. The library only reports through the callback the caller put in the
 * call's options (none by default: the library never prints). */
#ifndef LINEAGE_UTIL_PROGRESS_H
#define LINEAGE_UTIL_PROGRESS_H
#include <stdint.h>
#include "lineage.h"

/* Monotonic seconds. */
double progress_now(void);
#endif
