/* weightstat A B [--threads N] [--sample F] [--hash]: pairs tensors by name, streams them in one
 * pass and prints the pooled statistics with the rate. Drives the engine for bench_weights.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stream.h"
#include "util/progress.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: weightstat A B [--threads N] [--sample F] [--hash]\n");
        return 2;
    }
    stream_options opt = {0, 1.0, 1, 0, lineage_progress_stderr, NULL};
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) opt.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sample") && i + 1 < argc) opt.sample = atof(argv[++i]);
        else if (!strcmp(argv[i], "--hash")) opt.hash = 1;
        else {
            fprintf(stderr, "weightstat: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    lineage_model *a, *b;
    lineage_error err;
    if (lineage_model_open(argv[1], &a, &err) || lineage_model_open(argv[2], &b, &err)) {
        fprintf(stderr, "weightstat: %s\n", err.message);
        return lineage_exit_code(err.code);
    }
    size_t n = lineage_model_tensor_count(a), np = 0;
    stream_pair *pairs = malloc((n ? n : 1) * sizeof *pairs);
    stream_result *res = malloc((n ? n : 1) * sizeof *res);
    for (size_t i = 0; i < n; i++) {
        long j = lineage_model_find_tensor(b, lineage_model_tensor(a, i)->name);
        if (j >= 0) pairs[np++] = (stream_pair){i, (size_t)j};
    }
    double t0 = progress_now();
    if (stream_pairs(a, b, pairs, np, &opt, res, &err)) {
        fprintf(stderr, "weightstat: %s\n", err.message);
        return lineage_exit_code(err.code);
    }
    double dt = progress_now() - t0;
    pair_moments all;
    pair_moments_init(&all);
    uint64_t bytes = 0;
    for (size_t i = 0; i < np; i++) {
        pair_moments_merge(&all, &res[i].m);
        bytes += lineage_model_tensor(a, pairs[i].a)->nbytes * res[i].rows_read / (res[i].rows ? res[i].rows : 1);
        bytes += lineage_model_tensor(b, pairs[i].b)->nbytes * res[i].rows_read / (res[i].rows ? res[i].rows : 1);
    }
    printf("isa %s tensors %zu elements %llu bytes %llu seconds %.3f GB/s %.2f\n", kernels_isa(), np,
           (unsigned long long)all.n, (unsigned long long)bytes, dt, (double)bytes / dt / 1e9);
    printf("cosine %.9f pearson %.9f rel_l2 %.9f max_abs_diff %.6g equal_fraction %.6f\n", moments_cosine(&all),
           moments_pearson(&all), moments_rel_l2(&all), all.max_abs_diff, all.n ? (double)all.n_equal / (double)all.n : 0);
    stream_results_free(res, np);
    free(res);
    free(pairs);
    lineage_model_close(a);
    lineage_model_close(b);
    return 0;
}
