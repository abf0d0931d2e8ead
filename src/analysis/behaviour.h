/* The behaviour analysis: next-token distributions on the probe set, reduced to the top-k tokens by
 * canonical bytes plus the residual mass, and the statistics that compare them (docs/METHODOLOGY.md,
 * "Behaviour"). */
#ifndef LINEAGE_ANALYSIS_BEHAVIOUR_H
#define LINEAGE_ANALYSIS_BEHAVIOUR_H
#include <stddef.h>
#include <stdint.h>

#include "analysis/probes.h"
#include "analysis/stats.h"
#include "lineage.h"

/* Tokens kept per distribution: what OpenAI-compatible servers return (vLLM's max_logprobs), so native
 * and endpoint sides share one representation. */
#define BEHAVIOUR_TOP_K 20
#define BEHAVIOUR_BOOTSTRAP 1000
#define BEHAVIOUR_SEED 0x6c696e65616765ULL   /* "lineage": fixed, so intervals are reproducible */

typedef struct bdist_entry {
    const char *bytes;   /* canonical bytes, not NUL-terminated in general */
    uint32_t len;
    double logprob;
} bdist_entry;

/* One next-token distribution: the top tokens (highest first, distinct byte strings) and the
 * probability left over for every other token. */
typedef struct bdist {
    bdist_entry top[BEHAVIOUR_TOP_K];
    size_t n;
    double other;
} bdist;

/* ---- statistics (behaviour_stats.c) ---- */

/* Jensen-Shannon divergence in bits, in [0, 1], over the union of both top lists plus one "other"
 * bucket per side holding its residual mass. */
double bdist_jsd(const bdist *p, const bdist *q);
/* 1 when both put their highest probability on the same byte string. */
int bdist_top1_agree(const bdist *p, const bdist *q);
/* Rank correlation of the top-k: Spearman over p's top list (q's log-probabilities of the same tokens, a
 * token q does not list tied at q's bottom), the same over q's list, averaged; NaN when both are undefined.
 * (Over the union of both lists, tokens listed by one side only would sit at the top of one ranking and the
 * bottom of the other and drive even close models negative.) */
double bdist_rank_corr(const bdist *p, const bdist *q);
/* Mean of the finite values and a percentile bootstrap 95% interval (resampling the finite values);
 * returns how many values were finite. */
size_t bootstrap_mean_ci(const double *v, size_t n, unsigned resamples, uint64_t seed, double *mean, double *lo,
                         double *hi);
/* One-sided Wilcoxon signed-rank test of H1 "d tends to be positive": zeros dropped, average ranks for
 * ties; exact (conditional on the ranks) up to 50 non-zero differences, normal approximation with tie
 * and continuity corrections above. *w_plus gets the sum of positive ranks. */
double wilcoxon_greater(const double *d, size_t n, double *w_plus);
/* Holm-Bonferroni adjusted p-values (monotone, capped at 1). */
void holm_adjust(const double *p, double *adjusted, size_t m);

/* ---- distributions (behaviour_dists.c) ---- */

typedef struct bdist_set {
    bdist *d;                 /* one per probe */
    size_t count;
    double tokens_per_probe;  /* mean prompt length in the side's own tokens */
    size_t missing;           /* probes the side's tokenizer cannot encode (their other = NaN) */
    const char *source;       /* "native" or "endpoint" */
    char url[512];            /* endpoint base URL */
    char served_model[256];   /* endpoint model name */
} bdist_set;

/* The distributions of m (run natively) or of the server at endpoint (m then only gives the tokenizer for
 * the token count) on the probe set; computed once per (model, endpoint, probe file) in this process and
 * shared afterwards (read-only; owned by the cache). */
lineage_status behaviour_dists(const lineage_model *m, const char *endpoint, const char *probes_file,
                               const probe_set *ps, int threads, const bdist_set **out, lineage_error *err);
/* Top-k by canonical bytes from a full logit row: tokens with the same bytes are merged. bytes_of(i) gives
 * token i's bytes (NULL for ids without a token). Entries point into the tokenizer's memory. */
void bdist_from_logits(const float *logits, size_t vocab, const char *(*bytes_of)(void *user, uint32_t id, size_t *len),
                       void *user, bdist *out);
#endif
