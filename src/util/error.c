#include "util/error.h"
#include "util/sanitize.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

lineage_status error_set(lineage_error *err, lineage_status code, const char *fmt, ...)
{
    if (err) {
        char raw[sizeof err->message];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        err->code = code;
        /* one line whatever the input contained, and no control byte from it on the terminal */
        for (char *p = raw; *p; p++)
            if (*p == '\n' || *p == '\r') *p = ' ';
        sanitize_terminal_copy(err->message, sizeof err->message, raw);
    }
    return code;
}

lineage_status error_prefix(lineage_error *err, const char *context)
{
    if (!err) return LINEAGE_E_USAGE;
    size_t n = strlen(context);
    if (strncmp(err->message, context, n) != 0) {
        char tmp[sizeof err->message];
        size_t m = strlen(err->message);
        if (n > sizeof tmp - 3) n = sizeof tmp - 3;
        if (m > sizeof tmp - 3 - n) m = sizeof tmp - 3 - n;
        memcpy(tmp, context, n);
        memcpy(tmp + n, ": ", 2);
        memcpy(tmp + n + 2, err->message, m);
        tmp[n + 2 + m] = 0;
        memcpy(err->message, tmp, sizeof tmp);
    }
    return err->code;
}

int lineage_exit_code(lineage_status s)
{
    switch (s) {
    case LINEAGE_OK: return 0;
    case LINEAGE_E_USAGE:
    case LINEAGE_E_FORMAT:
    case LINEAGE_E_UNSUPPORTED: return 2;
    case LINEAGE_E_IO: return 3;
    default: return 1;
    }
}
