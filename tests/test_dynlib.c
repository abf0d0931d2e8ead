/* Libraries loaded on first use (io/dynlib.h): a library or symbol that is missing is refused with a
 * message naming it, every time; a present one fills the table with working function pointers. */
#include <string.h>

#include "check.h"
#include "io/dynlib.h"

static struct {
    size_t (*strlen)(const char *);
} good_api;
static const dynlib_sym good_syms[] = {DYNLIB_SYM(good_api, strlen)};
static const char *const good_names[] = {"libc.so.6", NULL};

static struct {
    void (*nothing)(void);
} bad_api;
static const dynlib_sym bad_syms[] = {{"lineage_no_such_symbol_here", &bad_api.nothing}};
static const char *const missing_names[] = {"liblineage-no-such-library.so.9", NULL};

int main(void)
{
    lineage_error err = {0, ""};
    dynlib good = DYNLIB_INIT("libc", good_names, good_syms);
    CHECK(dynlib_load(&good, "test", &err) == LINEAGE_OK, "libc.so.6 loads: %s", err.message);
    CHECK(good_api.strlen && good_api.strlen("lineage") == 7, "its strlen is resolved and works");
    CHECK(dynlib_load(&good, "test", &err) == LINEAGE_OK, "a second load answers the same");

    dynlib missing = DYNLIB_INIT("the test library", missing_names, bad_syms);
    lineage_status st = dynlib_load(&missing, "ctx", &err);
    CHECK(st == LINEAGE_E_UNSUPPORTED, "a missing library is refused (%d)", (int)st);
    CHECK(strstr(err.message, "ctx: the test library is not available") &&
              strstr(err.message, "liblineage-no-such-library.so.9"), "the message names it: %s", err.message);
    err.message[0] = 0;
    CHECK(dynlib_load(&missing, "ctx", &err) == LINEAGE_E_UNSUPPORTED && strstr(err.message, "not available"),
          "and again on the next call: %s", err.message);

    dynlib nosym = DYNLIB_INIT("libc", good_names, bad_syms);
    st = dynlib_load(&nosym, "ctx", &err);
    CHECK(st == LINEAGE_E_UNSUPPORTED && strstr(err.message, "lineage_no_such_symbol_here"),
          "a missing symbol is refused, named: %s", err.message);
    CHECK(bad_api.nothing == NULL, "and nothing is filled");
    CHECK_EXIT();
}
