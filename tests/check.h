/* Minimal test protocol: each check prints "ok - NAME" or "not ok - NAME (where)"; tests/run.sh
 * counts them. A test binary exits nonzero when any check failed. */
#ifndef LINEAGE_TESTS_CHECK_H
#define LINEAGE_TESTS_CHECK_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 5, 6)))
#endif
static int check_report(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    char name[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (ok) printf("ok - %s\n", name);
    else {
        printf("not ok - %s (%s:%d: %s)\n", name, file, line, expr);
        check_failures++;
    }
    fflush(stdout);
    return ok;
}

/* CHECK(cond, "name with %d", args) */
#define CHECK(cond, ...) check_report(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_EXIT() return check_failures ? 1 : 0

/* Directory of ../shared (env LINEAGE_SHARED, default ../shared). */
static inline const char *shared_dir(void)
{
    const char *s = getenv("LINEAGE_SHARED");
    return s && *s ? s : "../shared";
}
#endif
