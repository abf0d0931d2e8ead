/* Shared libraries loaded on first use: see dynlib.h. */
#include "io/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

/* pthread_once takes no argument: the library being loaded is handed over under this lock. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static dynlib *loading;

static void load_once(void)
{
    dynlib *lib = loading;
    void *h = NULL;
    const char *why = "not found";
    for (size_t i = 0; lib->sonames[i] && !h; i++) {
        h = dlopen(lib->sonames[i], RTLD_NOW | RTLD_LOCAL);
        if (!h && dlerror()) why = "cannot be loaded";
    }
    if (!h) {
        snprintf(lib->message, sizeof lib->message, "%s %s", lib->sonames[0], why);
        lib->status = LINEAGE_E_UNSUPPORTED;
        return;
    }
    for (size_t i = 0; i < lib->nsyms; i++) {
        void *p = dlsym(h, lib->syms[i].name);
        if (!p) {
            snprintf(lib->message, sizeof lib->message, "%s has no %s", lib->sonames[0], lib->syms[i].name);
            lib->status = LINEAGE_E_UNSUPPORTED;
            return;
        }
        memcpy(lib->syms[i].slot, &p, sizeof p);   /* a function pointer has the size of void * (POSIX) */
    }
    lib->status = LINEAGE_OK;   /* the handle stays open for the life of the process */
}

lineage_status dynlib_load(dynlib *lib, const char *context, lineage_error *err)
{
    pthread_mutex_lock(&load_lock);
    loading = lib;
    pthread_once(&lib->once, load_once);
    pthread_mutex_unlock(&load_lock);
    if (lib->status == LINEAGE_OK) return LINEAGE_OK;
    return error_set(err, lib->status, "%s: %s is not available (%s)", context, lib->what, lib->message);
}
