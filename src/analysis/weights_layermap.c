/* Layer alignment: each B layer gets an A layer or none, by dynamic programming over combined
 * per-layer z-scores. Runs are monotone; repeats, forward skips and backward seams (depth
 * up-scaling restarts the parent's stack) cost a penalty; "none" scores the calibrated null max. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/weights.h"

#define WT_PENALTY_STEP 1.0   /* repeat or forward skip */
#define WT_PENALTY_SEAM 2.0   /* backward jump */

double wt_layer_map_threshold(int la, int lb, double alpha)
{
    double tests = (double)(la > 0 ? la : 1) * (lb > 0 ? lb : 1);
    return stats_z_of_p(alpha / tests);
}

static double transition(int prev, int cur)
{
    if (prev < 0 || cur < 0 || cur == prev + 1) return 0;
    return cur < prev ? WT_PENALTY_SEAM : WT_PENALTY_STEP;
}

void wt_layer_map_free(wt_layer_map *m)
{
    free(m->map);
    free(m->score);
    free(m->margin);
    memset(m, 0, sizeof *m);
}

int wt_layer_map_solve(const double *z, int la, int lb, double threshold, wt_layer_map *out)
{
    memset(out, 0, sizeof *out);
    out->la = la;
    out->lb = lb;
    out->threshold = threshold;
    int ns = la + 1;   /* state 0 = none, state i+1 = A layer i */
    out->map = malloc((size_t)(lb ? lb : 1) * sizeof *out->map);
    out->score = malloc((size_t)(lb ? lb : 1) * sizeof *out->score);
    out->margin = malloc((size_t)(lb ? lb : 1) * sizeof *out->margin);
    double *best = malloc((size_t)ns * (lb ? lb : 1) * sizeof *best);
    int *from = malloc((size_t)ns * (lb ? lb : 1) * sizeof *from);
    if (!out->map || !out->score || !out->margin || !best || !from) {
        free(best);
        free(from);
        wt_layer_map_free(out);
        return 0;
    }
    for (int j = 0; j < lb; j++) {
        for (int s = 0; s < ns; s++) {
            int cur = s - 1;
            double gain = cur < 0 ? threshold : z[cur * lb + j];
            if (isnan(gain)) gain = -1e9;
            double bv = -INFINITY;
            int bf = 0;
            if (j == 0) bv = 0;
            else
                for (int p = 0; p < ns; p++) {
                    /* "none" keeps the last matched layer's run going: look through it */
                    double v = best[p * lb + j - 1] - transition(p - 1, cur);
                    if (v > bv) { bv = v; bf = p; }
                }
            best[s * lb + j] = bv + gain;
            from[s * lb + j] = bf;
        }
    }
    int s = 0;
    for (int t = 1; lb && t < ns; t++) if (best[t * lb + lb - 1] > best[s * lb + lb - 1]) s = t;
    for (int j = lb - 1; j >= 0; j--) {
        out->map[j] = s - 1;
        s = from[s * lb + j];
    }
    out->identity = la == lb;
    for (int j = 0; j < lb; j++) {
        double b1 = -INFINITY, b2 = -INFINITY;
        for (int i = 0; i < la; i++) {
            double v = z[i * lb + j];
            if (isnan(v)) continue;
            if (v > b1) { b2 = b1; b1 = v; } else if (v > b2) b2 = v;
        }
        out->margin[j] = isinf(b2) ? (isinf(b1) ? NAN : b1) : b1 - b2;
        out->score[j] = out->map[j] >= 0 ? z[out->map[j] * lb + j] : NAN;
        if (out->map[j] >= 0) out->matched++;
        if (out->map[j] != j) out->identity = 0;
    }
    int prev = -1;
    for (int j = 0; j < lb; j++)
        if (out->map[j] >= 0) {
            if (prev >= 0 && out->map[j] < prev) out->seams++;
            prev = out->map[j];
        }
    free(best);
    free(from);
    return 1;
}

int wt_layer_map_reverse_repeats(const double *z, int la, int lb, double threshold)
{
    if (la <= 0 || lb <= 0) return 0;
    double *zt = malloc((size_t)la * (size_t)lb * sizeof *zt);
    int *used = calloc((size_t)lb, sizeof *used);
    wt_layer_map lm;
    if (!zt || !used) {
        free(zt);
        free(used);
        return -1;
    }
    for (int i = 0; i < la; i++)
        for (int j = 0; j < lb; j++) zt[j * la + i] = z[i * lb + j];
    int repeats = -1;
    if (wt_layer_map_solve(zt, lb, la, threshold, &lm)) {
        repeats = 0;
        for (int i = 0; i < la; i++)
            if (lm.map[i] >= 0 && used[lm.map[i]]++) repeats++;
        wt_layer_map_free(&lm);
    }
    free(zt);
    free(used);
    return repeats;
}
