/* mkbig A B GB [NOISE]: two bf16 safetensors checkpoints of about GB gigabytes each, written in
 * chunks (never the whole model in memory); B = A + NOISE * N(0, sd) so the statistics are not
 * trivial. For bench/bench_weights.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/dtype.h"

#define ROWS 4096
#define COLS 4096

static uint64_t state = 0x853C49E6748FEA9Bull;
static inline uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}
/* about N(0, 1): sum of four uniforms, centred and scaled */
static inline float approx_gauss(void)
{
    uint64_t r = next();
    double s = (double)(r & 0xFFFF) + (double)((r >> 16) & 0xFFFF) + (double)((r >> 32) & 0xFFFF) + (double)(r >> 48);
    return (float)((s / 65536.0 - 2.0) * 1.7320508075688772);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mkbig A.safetensors B.safetensors GB [NOISE]\n");
        return 2;
    }
    double gb = atof(argv[3]), noise = argc > 4 ? atof(argv[4]) : 0.05;
    size_t tensor_bytes = (size_t)ROWS * COLS * 2, n = (size_t)(gb * 1e9 / (double)tensor_bytes);
    if (n < 1) n = 1;
    size_t hcap = 256 + n * 160;
    char *h = malloc(hcap);
    size_t hl = 0;
    hl += (size_t)snprintf(h + hl, hcap - hl, "{");
    for (size_t i = 0; i < n; i++)
        hl += (size_t)snprintf(h + hl, hcap - hl, "%s\"model.layers.%zu.mlp.up_proj.weight\":{\"dtype\":\"BF16\",\"shape\":[%d,%d],\"data_offsets\":[%zu,%zu]}",
                               i ? "," : "", i, ROWS, COLS, i * tensor_bytes, (i + 1) * tensor_bytes);
    hl += (size_t)snprintf(h + hl, hcap - hl, "}");
    while (hl % 8) h[hl++] = ' ';
    FILE *fa = fopen(argv[1], "wb"), *fb = fopen(argv[2], "wb");
    if (!fa || !fb) {
        fprintf(stderr, "mkbig: cannot create the outputs\n");
        return 3;
    }
    unsigned char len8[8];
    for (int k = 0; k < 8; k++) len8[k] = (unsigned char)((uint64_t)hl >> (8 * k));
    fwrite(len8, 1, 8, fa); fwrite(h, 1, hl, fa);
    fwrite(len8, 1, 8, fb); fwrite(h, 1, hl, fb);
    uint16_t *ra = malloc(COLS * 2 * 64), *rb = malloc(COLS * 2 * 64);
    for (size_t t = 0; t < n; t++)
        for (int r0 = 0; r0 < ROWS; r0 += 64) {
            for (int r = 0; r < 64; r++) {
                float sd = 0.02f * (1.0f + 0.5f * sinf((float)(r0 + r + (int)t)));
                for (int c = 0; c < COLS; c++) {
                    float a = sd * approx_gauss();
                    ra[r * COLS + c] = f32_to_bf16(a);
                    rb[r * COLS + c] = (next() & 7) == 0 ? ra[r * COLS + c] : f32_to_bf16(a + (float)noise * sd * approx_gauss());
                }
            }
            if (fwrite(ra, 2, COLS * 64, fa) != COLS * 64 || fwrite(rb, 2, COLS * 64, fb) != COLS * 64) {
                fprintf(stderr, "mkbig: write failed\n");
                return 3;
            }
        }
    free(ra); free(rb); free(h);
    if (fclose(fa) || fclose(fb)) return 3;
    return 0;
}
