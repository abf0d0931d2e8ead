/* probes_load: the built-in probe set, or one prompt per line from a file (--probes). */
#include <stdlib.h>
#include <string.h>

#include "analysis/probes.h"
#include "analysis/probes_builtin.h"
#include "util/json.h"
#include "io/file.h"
#include "util/error.h"

/* Bounds on a probe file: every probe is a forward pass (or a request), so a few thousand is plenty. */
#define PROBES_MAX_FILE_BYTES (4u << 20)
#define PROBES_MAX_COUNT 10000
#define PROBES_MAX_LINE 8192

static lineage_status load_builtin(arena *ar, probe_set *out, lineage_error *err)
{
    out->items = arena_calloc(ar, probes_builtin_count, sizeof *out->items);
    if (!out->items) return error_set(err, LINEAGE_E_NOMEM, "out of memory");
    for (size_t i = 0; i < probes_builtin_count; i++) {
        out->items[i].text = probes_builtin[i].text;
        out->items[i].len = strlen(probes_builtin[i].text);
        out->items[i].category = probes_builtin[i].category;
    }
    out->count = probes_builtin_count;
    return LINEAGE_OK;
}

/* Decodes one line's "\n", "\t" and "\\" escapes into dst (never longer than the line). */
static lineage_status unescape(const char *path, size_t lineno, const char *s, size_t n, char *dst, size_t *out_len,
                               lineage_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == 0) return error_set(err, LINEAGE_E_FORMAT, "%s:%zu: NUL byte in a probe", path, lineno);
        if (s[i] != '\\') { dst[k++] = s[i]; continue; }
        if (i + 1 == n) return error_set(err, LINEAGE_E_FORMAT, "%s:%zu: line ends in a lone backslash", path, lineno);
        char e = s[++i];
        if (e == 'n') dst[k++] = '\n';
        else if (e == 't') dst[k++] = '\t';
        else if (e == '\\') dst[k++] = '\\';
        else return error_set(err, LINEAGE_E_FORMAT, "%s:%zu: unknown escape '\\%c' (use \\n, \\t or \\\\)", path, lineno,
                              (unsigned char)e >= 32 && (unsigned char)e < 127 ? e : '?');
    }
    dst[k] = 0;
    *out_len = k;
    return LINEAGE_OK;
}

static lineage_status load_file(const char *path, arena *ar, probe_set *out, lineage_error *err)
{
    char *text = NULL;
    size_t len = 0;
    lineage_status st = file_read_all(path, PROBES_MAX_FILE_BYTES, &text, &len, err);
    if (st) return st;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    size_t cap = lines < PROBES_MAX_COUNT ? lines : PROBES_MAX_COUNT;
    out->items = arena_calloc(ar, cap, sizeof *out->items);
    out->count = 0;
    if (!out->items) st = error_set(err, LINEAGE_E_NOMEM, "out of memory");
    size_t pos = 0, lineno = 0;
    while (!st && pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        const char *line = text + pos;
        pos = end + 1;
        if (n && line[n - 1] == '\r') n--;
        if (n == 0) continue;
        if (n > PROBES_MAX_LINE) {
            st = error_set(err, LINEAGE_E_FORMAT, "%s:%zu: probe longer than %d bytes", path, lineno, PROBES_MAX_LINE);
            break;
        }
        if (out->count == PROBES_MAX_COUNT) {
            st = error_set(err, LINEAGE_E_FORMAT, "%s: more than %d probes", path, PROBES_MAX_COUNT);
            break;
        }
        char *dst = arena_alloc(ar, n + 1);
        if (!dst) { st = error_set(err, LINEAGE_E_NOMEM, "out of memory"); break; }
        size_t dl = 0;
        if ((st = unescape(path, lineno, line, n, dst, &dl, err))) break;
        if (!utf8_valid(dst, dl)) {
            st = error_set(err, LINEAGE_E_FORMAT, "%s:%zu: probe is not valid UTF-8", path, lineno);
            break;
        }
        out->items[out->count].text = dst;
        out->items[out->count].len = dl;
        out->items[out->count].category = "file";
        out->count++;
    }
    free(text);
    if (!st && out->count == 0) st = error_set(err, LINEAGE_E_FORMAT, "%s: no probes (one prompt per line)", path);
    return st;
}

lineage_status probes_load(const char *path, arena *ar, probe_set *out, lineage_error *err)
{
    out->items = NULL;
    out->count = 0;
    return path ? load_file(path, ar, out, err) : load_builtin(ar, out, err);
}
