/* One pass over tensor pairs of two checkpoints: pair moments (and digests of the raw bytes), with
 * bounded memory and all cores.
 *
 * I/O: tensor bytes are read with pread into per-thread buffers of STREAM_UNIT_ELEMS elements
 * (128 KB of bf16: both sides of a unit stay in L2 for the digests and the moments; 512 KB units
 * cost ~8% more CPU on a 2 x 1 GB bf16 pair), never through the mapping. Measured on page-cached files here: pread 256 KB -
 * 1 MB chunks ~10 GB/s per core; first touch of the mmap 1.5-2 GB/s whatever the advice
 * (MADV_SEQUENTIAL, MADV_WILLNEED, MADV_POPULATE_READ, MADV_HUGEPAGE: page-table population is the
 * cost), and every touched page would count in our RSS until MADV_DONTNEED. The read buffers, the
 * units and their results share one scratch region on huge pages (util/bigmem.h: a 4 KB page fault
 * costs ~15 us of CPU on this VM). pread leaves no mapping behind, so nothing needs releasing; the page cache is deliberately kept (no
 * POSIX_FADV_DONTNEED: the next analysis or run reads the same bytes). A full pass sets
 * POSIX_FADV_SEQUENTIAL on the files to widen readahead when they are cold. Remote models: the rows
 * of each batch of units are announced in one lineage_model_prefetch call per model before any
 * worker reads them (coalesced ranges, several requests in flight). Digests: XXH3-128 through
 * analysis/xxh.h (AVX2 / AVX-512 when the kernels use them).
 *
 * Determinism: the work is cut into units fixed by the tensors alone (not by the thread count) and
 * unit results are merged in file order, so any thread count gives bit-identical results. */
#ifndef LINEAGE_ANALYSIS_STREAM_H
#define LINEAGE_ANALYSIS_STREAM_H
#include "kernels/kernels.h"
#include "format/model.h"

/* Elements per work unit and per hash chunk (a multiple of every GGUF block size). */
#define STREAM_UNIT_ELEMS ((uint64_t)1 << 16)
/* Sampled mode: a block is the fewest whole rows holding at least this many bytes (of the wider
 * dtype of the pair). */
#define STREAM_SAMPLE_BLOCK_BYTES 65536u

typedef struct stream_pair {
    size_t a, b;   /* tensor indices in model A and model B; equal rows and cols */
} stream_pair;

typedef struct stream_options {
    int threads;      /* 0 = all online cores */
    double sample;    /* 0 < sample <= 1; 1 (or 0) = every row */
    uint64_t seed;    /* sampled mode: which blocks */
    int hash;         /* full mode: XXH3-128 digests of both tensors' bytes */
    lineage_progress_fn progress;   /* the caller's progress callback; NULL = silent */
    void *progress_user;
} stream_options;

/* A block of rows read in sampled mode, with its own moments. */
typedef struct stream_block {
    uint64_t row0, nrows;
    pair_moments m;
} stream_block;

typedef struct stream_result {
    pair_moments m;              /* over the rows read: all of them unless sampled */
    uint64_t rows, rows_read;
    /* Digest of each tensor's raw bytes (hashed only): XXH3-128 of the bytes when the tensor has at
     * most STREAM_UNIT_ELEMS elements, else XXH3-128 of the concatenated canonical digests of its
     * consecutive STREAM_UNIT_ELEMS-element pieces. Equal bytes, dtype and size give equal digests. */
    int hashed;
    unsigned char digest_a[16], digest_b[16];
    /* Sampled mode: the blocks read, in row order (malloc'd; stream_results_free), out of
     * blocks_total blocks of the tensor. Full mode: NULL, 0. */
    stream_block *blocks;
    size_t nblocks;
    uint64_t blocks_total;
} stream_result;

/* Streams every pair (in the order given; one pass over both checkpoints when the pairs follow
 * file order) and fills out[0..npairs). On failure out holds nothing to free. */
lineage_status stream_pairs(const lineage_model *a, const lineage_model *b, const stream_pair *pairs, size_t npairs,
                            const stream_options *opt, stream_result *out, lineage_error *err);
void stream_results_free(stream_result *r, size_t n);

/* The digest stream_pairs computes (stream_result.digest_a), of one tensor, read in order on the
 * calling thread; sink (may be NULL) sees every byte of the tensor in order, for other digests. */
typedef void (*stream_byte_sink)(void *user, const void *bytes, size_t n);
lineage_status stream_tensor_digest(const lineage_model *m, size_t index, unsigned char digest[16], stream_byte_sink sink,
                                    void *user, lineage_error *err);

/* Sampled mode: the blocks (ascending) of a tensor that a sample of fraction f with this seed reads:
 * the k = max(min(2, nblocks), round(f * nblocks)) blocks with the smallest seeded hash of
 * (tensor name, block index) — a simple random sample without replacement. Returns k; *out is
 * malloc'd. */
lineage_status stream_sample_blocks(const char *name, uint64_t nblocks, double f, uint64_t seed, uint64_t **out,
                                    size_t *k, lineage_error *err);
/* Rows per sampled block for rows of row_bytes bytes (of the wider dtype of the pair). */
uint64_t stream_block_rows(uint64_t row_bytes);

/* A 95% confidence interval from the block partials of a sample (delete-one-block jackknife with
 * the finite-population correction 1 - k/blocks_total; width 0 when every block was read). */
typedef struct stream_ci {
    double estimate, lo, hi, se;
} stream_ci;

typedef double (*moments_stat_fn)(const pair_moments *m);
/* stat: moments_cosine, moments_pearson or moments_rel_l2 (any function of the sums). lo/hi are
 * clamped to [-1, 1] for cosine and pearson and to [0, inf) for rel_l2. Blocks may come from
 * several tensors (pass the sum of their blocks_total). */
stream_ci stream_jackknife_ci(const stream_block *blocks, size_t nblocks, uint64_t blocks_total, moments_stat_fn stat);
#endif
