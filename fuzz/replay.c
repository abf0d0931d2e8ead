/* Runs a fuzz target over files (the corpus) without libFuzzer: the suite's regression mode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { fprintf(stderr, "replay: cannot open %s\n", argv[i]); return 1; }
        size_t cap = 1 << 16, len = 0, n;
        uint8_t *buf = malloc(cap);
        while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
            len += n;
            if (len == cap) {
                uint8_t *p = realloc(buf, cap *= 2);
                if (!p) { free(buf); buf = NULL; }
                buf = p;
            }
        }
        fclose(f);
        if (!buf) { fprintf(stderr, "replay: out of memory\n"); return 1; }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    return 0;
}
