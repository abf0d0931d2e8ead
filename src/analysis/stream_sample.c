/* Sampled mode: which blocks of rows to read, and confidence intervals from their partials. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "analysis/stream.h"
#include "util/error.h"

uint64_t stream_block_rows(uint64_t row_bytes)
{
    if (row_bytes == 0) return 1;
    return (STREAM_SAMPLE_BLOCK_BYTES + row_bytes - 1) / row_bytes;
}

typedef struct keyed {
    uint64_t key, block;
} keyed;

static int by_key(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    return a->key < b->key ? -1 : a->key > b->key ? 1 : a->block < b->block ? -1 : a->block > b->block;
}

static int by_value(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

lineage_status stream_sample_blocks(const char *name, uint64_t nblocks, double f, uint64_t seed, uint64_t **out,
                                    size_t *k, lineage_error *err)
{
    *out = NULL;
    *k = 0;
    if (nblocks == 0) return LINEAGE_OK;
    if (nblocks > SIZE_MAX / sizeof(keyed)) return error_set(err, LINEAGE_E_NOMEM, "'%s': too many blocks", name);
    uint64_t want = (uint64_t)llround(f * (double)nblocks);
    uint64_t floor_k = nblocks < 2 ? nblocks : 2;   /* a jackknife needs two blocks */
    if (want < floor_k) want = floor_k;
    if (want > nblocks) want = nblocks;
    keyed *all = malloc((size_t)nblocks * sizeof *all);
    uint64_t *sel = malloc((size_t)want * sizeof *sel);
    if (!all || !sel) {
        free(all);
        free(sel);
        return error_set(err, LINEAGE_E_NOMEM, "'%s': out of memory for the sample", name);
    }
    uint64_t name_key = XXH3_64bits_withSeed(name, strlen(name), seed);
    for (uint64_t i = 0; i < nblocks; i++) {
        all[i].block = i;
        all[i].key = XXH3_64bits_withSeed(&i, sizeof i, name_key);
    }
    qsort(all, (size_t)nblocks, sizeof *all, by_key);
    for (uint64_t i = 0; i < want; i++) sel[i] = all[i].block;
    free(all);
    qsort(sel, (size_t)want, sizeof *sel, by_value);
    *out = sel;
    *k = (size_t)want;
    return LINEAGE_OK;
}

static void moments_sub(pair_moments *d, const pair_moments *s)
{
    d->n -= s->n;
    d->sum_a -= s->sum_a;
    d->sum_b -= s->sum_b;
    d->sum_aa -= s->sum_aa;
    d->sum_bb -= s->sum_bb;
    d->sum_ab -= s->sum_ab;
    d->sum_dd -= s->sum_dd;
}

stream_ci stream_jackknife_ci(const stream_block *blocks, size_t nblocks, uint64_t blocks_total, moments_stat_fn stat)
{
    pair_moments total;
    pair_moments_init(&total);
    for (size_t i = 0; i < nblocks; i++) pair_moments_merge(&total, &blocks[i].m);
    stream_ci ci;
    ci.estimate = stat(&total);
    double var = 0;
    if (nblocks >= 2 && blocks_total > nblocks) {
        double g = (double)nblocks, mean = 0;
        for (size_t i = 0; i < nblocks; i++) {   /* two passes: mean of the leave-one-out values, then spread */
            pair_moments loo = total;
            moments_sub(&loo, &blocks[i].m);
            mean += stat(&loo);
        }
        mean /= g;
        for (size_t i = 0; i < nblocks; i++) {
            pair_moments loo = total;
            moments_sub(&loo, &blocks[i].m);
            double d = stat(&loo) - mean;
            var += d * d;
        }
        var *= (g - 1) / g * (1 - g / (double)blocks_total);
    } else if (nblocks < 2 && blocks_total > nblocks) {
        var = INFINITY;   /* one block of several: no spread to learn from */
    }
    ci.se = sqrt(var);
    ci.lo = ci.estimate - 1.959963984540054 * ci.se;
    ci.hi = ci.estimate + 1.959963984540054 * ci.se;
    if (stat == moments_cosine || stat == moments_pearson) {
        if (ci.lo < -1) ci.lo = -1;
        if (ci.hi > 1) ci.hi = 1;
    } else if (stat == moments_rel_l2 && ci.lo < 0) {
        ci.lo = 0;
    }
    return ci;
}
