/* XXH3-128 compiled for AVX2 (the system header's inline mode; xxh.h says why). */
#define XXH_INLINE_ALL
#include <string.h>
#include <xxhash.h>

#include "analysis/xxh.h"

void xxh3_128_canonical_avx2(const void *p, size_t n, unsigned char out[16])
{
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, &c, 16);
}
