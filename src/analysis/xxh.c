/* Dispatch of the XXH3-128 digest to the unit the kernels use; the library's (SSE2) otherwise. */
#include "analysis/xxh.h"

#include <string.h>
#include <xxhash.h>

#include "kernels/kernels.h"

void xxh3_128_canonical(const void *p, size_t n, unsigned char out[16])
{
    const char *isa = kernels_isa();
    if (!strcmp(isa, "avx512")) {
        xxh3_128_canonical_avx512(p, n, out);
        return;
    }
    if (!strcmp(isa, "avx2")) {
        xxh3_128_canonical_avx2(p, n, out);
        return;
    }
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(p, n));
    memcpy(out, &c, 16);
}
