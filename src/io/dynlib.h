/* Shared libraries loaded on first use (dlopen), so a run that never touches them does not pay for
 * them at start-up: libcurl (hf:// sources), libcrypto (--sha256), libpq and SQLite (the index).
 * Linked normally, the libcurl/OpenSSL/Kerberos/LDAP chain costs about 20 ms of CPU and 450 page
 * faults before main() on every run (bench/RESULTS.md, "Weights pass against cat").
 *
 * Each user keeps its own table of function pointers and a dynlib_sym list naming them; dynlib_load
 * fills the table once (thread-safe) and returns the same status and message on every call. */
#ifndef LINEAGE_IO_DYNLIB_H
#define LINEAGE_IO_DYNLIB_H
#include <pthread.h>
#include <stddef.h>

#include "lineage.h"

typedef struct dynlib_sym {
    const char *name;
    void *slot;   /* address of the function pointer to fill */
} dynlib_sym;

typedef struct dynlib {
    const char *what;                 /* "libcurl", for messages */
    const char *const *sonames;       /* tried in order, NULL-terminated */
    const dynlib_sym *syms;
    size_t nsyms;
    pthread_once_t once;
    lineage_status status;
    char message[200];
} dynlib;

#define DYNLIB_INIT(what, sonames, syms) \
    {(what), (sonames), (syms), sizeof(syms) / sizeof((syms)[0]), PTHREAD_ONCE_INIT, LINEAGE_OK, ""}

/* Loads the library and resolves every symbol (once); on failure sets err to
 * "<context>: <what> is not available (<reason>)" and returns LINEAGE_E_UNSUPPORTED. */
lineage_status dynlib_load(dynlib *lib, const char *context, lineage_error *err);

/* Filled table entries are function pointers stored through this (POSIX: same size as void *). */
#define DYNLIB_SYM(table, f) {#f, &(table).f}
#endif
