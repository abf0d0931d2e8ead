/* Shared libraries loaded on first use (dlopen), so a run that never touches them does not pay for
 * them at start-up: libcurl (hf:// sources), libcrypto (--sha256), libpq and SQLite (the index).
 * Linked normally, the libcurl/OpenSSL/Kerberos/LDAP chain costs about 20 ms of CPU and 450 page
 * faults before main() on every run (bench/RESULTS.md, "Weights pass against cat").
 *
 * Each user names the functions it calls once, in a list macro, and DYNLIB_DEFINE builds from it the
 * table of function pointers (called as table.f(...)), the symbol list and the dynlib; dynlib_load
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

/* LIST(X, T) must expand to X(T, f) for each function f; the sonames are tried in order.
 *   #define PQ_FUNCTIONS(X, T) X(T, PQexec) X(T, PQclear)
 *   DYNLIB_DEFINE(libpq, PQ_FUNCTIONS, "libpq", "libpq.so.5", "libpq.so");
 * declares the table libpq (libpq.PQexec(...)) and the dynlib libpq_lib. */
#define DYNLIB_MEMBER_(T, f) __typeof__(f) *f;
#define DYNLIB_ENTRY_(T, f) DYNLIB_SYM(T, f),
#define DYNLIB_DEFINE(T, LIST, what, ...)                              \
    static struct { LIST(DYNLIB_MEMBER_, T) } T;                      \
    static const dynlib_sym T##_syms[] = {LIST(DYNLIB_ENTRY_, T)};    \
    static const char *const T##_sonames[] = {__VA_ARGS__, NULL};     \
    static dynlib T##_lib = DYNLIB_INIT(what, T##_sonames, T##_syms)
#endif
