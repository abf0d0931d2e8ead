/* The one NaN/Inf policy for what is drawn or printed: a non-finite value is never scaled into a
 * bar, a point or a width. It is excluded from the drawing and from the scale, counted, and the
 * count is shown beside the chart or table ("n/a" in its place). */
#ifndef LINEAGE_UTIL_FINITE_H
#define LINEAGE_UTIL_FINITE_H
#include <math.h>

/* Cells of a bar for v on a scale where `max` fills `cells`: clamped to [0, cells]; -1 when v or
 * max is not finite (the caller prints "n/a" and counts it). */
static inline int finite_cells(double v, double max, int cells)
{
    if (!isfinite(v) || !isfinite(max) || max <= 0) return -1;
    double x = v / max * cells;
    if (!(x > 0)) return 0;
    if (x >= cells) return cells;
    return (int)(x + 0.5);
}

/* v clamped to [lo, hi]; lo for NaN (callers skip non-finite values before drawing them). */
static inline double finite_clamp(double v, double lo, double hi)
{
    return v > hi ? hi : v >= lo ? v : lo;
}
#endif
