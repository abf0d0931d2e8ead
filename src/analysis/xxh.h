/* XXH3-128 of a buffer on the widest vector unit the kernels dispatcher chose (kernels_isa(),
 * LINEAGE_ISA): Debian's libxxhash is built for SSE2 only (about 10 GB/s here); the same algorithm
 * compiled inline for AVX2 / AVX-512 hashes at 35 / 48 GB/s. Same digest whatever the unit. */
#ifndef LINEAGE_ANALYSIS_XXH_H
#define LINEAGE_ANALYSIS_XXH_H
#include <stddef.h>

/* Writes the canonical (big-endian) form of XXH3_128bits(p, n) to out. */
void xxh3_128_canonical(const void *p, size_t n, unsigned char out[16]);
void xxh3_128_canonical_avx2(const void *p, size_t n, unsigned char out[16]);
void xxh3_128_canonical_avx512(const void *p, size_t n, unsigned char out[16]);
#endif
