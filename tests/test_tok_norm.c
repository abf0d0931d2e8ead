/* Unicode normalization forms of the tokenizer normalizers against the conformance file of the
 * Unicode Character Database (NormalizationTest.txt from Debian's unicode-data): every line's
 * five columns must satisfy the invariants the file's header states for NFC, NFD, NFKC, NFKD. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "format/tokenizer.h"
#include "util/strbuf.h"

#define TEST_FILE "/usr/share/unicode/NormalizationTest.txt.bz2"

/* "0044 0307" -> UTF-8 */
static int column(const char *s, const char *end, strbuf *out)
{
    out->len = 0;
    while (s < end) {
        char *e;
        unsigned long cp = strtoul(s, &e, 16);
        if (e == s) break;
        char u[4];
        sb_putn(out, u, tok_utf8_put(u, (uint32_t)cp));
        s = e;
        while (s < end && *s == ' ') s++;
    }
    return !out->failed;
}

static int normalized_equals(const strbuf *in, int compat, int compose, const strbuf *want)
{
    strbuf got;
    sb_init(&got);
    int ok = tok_unicode_normalize(&got, in->data ? in->data : "", in->len, compat, compose) && got.len == want->len &&
             !memcmp(got.data ? got.data : "", want->data ? want->data : "", got.len);
    sb_free(&got);
    return ok;
}

int main(void)
{
    CHECK(tok_unicode_norm_available(), "normalization tables were generated (Debian package unicode-data installed)");
    FILE *f = popen("bzip2 -dc " TEST_FILE " 2>/dev/null", "r");
    CHECK(f != NULL, "reads %s", TEST_FILE);
    if (!f) CHECK_EXIT();
    char line[4096];
    strbuf c[5];
    for (int k = 0; k < 5; k++) sb_init(&c[k]);
    size_t lines = 0, bad[4] = {0}, first_bad[4] = {0};
    /* for each form: the column every column normalizes to (1-based, 0 = skip), per input column */
    static const int want[4][5] = {
        {2, 2, 2, 4, 4},   /* NFC */
        {3, 3, 3, 5, 5},   /* NFD */
        {4, 4, 4, 4, 4},   /* NFKC */
        {5, 5, 5, 5, 5},   /* NFKD */
    };
    static const int compat[4] = {0, 0, 1, 1}, compose[4] = {1, 0, 1, 0};
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n') continue;
        const char *p = line;
        int okcols = 1;
        for (int k = 0; k < 5 && okcols; k++) {
            const char *semi = strchr(p, ';');
            if (!semi) okcols = 0;
            else okcols = column(p, semi, &c[k]), p = semi + 1;
        }
        if (!okcols) continue;
        lines++;
        for (int form = 0; form < 4; form++)
            for (int k = 0; k < 5; k++)
                if (!normalized_equals(&c[k], compat[form], compose[form], &c[want[form][k] - 1])) {
                    if (!bad[form]++) first_bad[form] = lines;
                    break;
                }
    }
    pclose(f);
    CHECK(lines > 15000, "NormalizationTest.txt has its ~19,000 cases (read %zu)", lines);
    static const char *const names[4] = {"NFC", "NFD", "NFKC", "NFKD"};
    for (int form = 0; form < 4; form++)
        CHECK(bad[form] == 0, "%s: every conformance line holds (%zu of %zu fail, first at case %zu)", names[form], bad[form],
              lines, first_bad[form]);
    for (int k = 0; k < 5; k++) sb_free(&c[k]);
    CHECK_EXIT();
}
