#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/strbuf.h"

/* A mapped file that shrinks while it is read (another process truncates it) turns the next read
 * of a vanished page into SIGBUS, which would kill the process without a word. Every mapping is
 * registered here; a SIGBUS inside one ends the process with one line naming the file and exit 3
 * (LINEAGE_E_IO), whichever thread touched the page. Faults elsewhere keep the default action. */
#define FILE_MAX_MAPPINGS 1024
#define FILE_SIGBUS_PATH 240

typedef struct mapping_slot {
    volatile sig_atomic_t used;
    uintptr_t begin, end;
    char path[FILE_SIGBUS_PATH];
} mapping_slot;

static mapping_slot mapping_slots[FILE_MAX_MAPPINGS];
static pthread_mutex_t mapping_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void write_all(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static void sigbus_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    uintptr_t at = (uintptr_t)info->si_addr;
    for (size_t i = 0; i < FILE_MAX_MAPPINGS; i++) {
        const mapping_slot *m = &mapping_slots[i];
        if (m->used && at >= m->begin && at < m->end) {
            static const char head[] = "lineage: ", tail[] = ": I/O error: the file shrank while it was being read\n";
            write_all(head, sizeof head - 1);
            write_all(m->path, strnlen(m->path, sizeof m->path));
            write_all(tail, sizeof tail - 1);
            _exit(3);
        }
    }
    signal(sig, SIG_DFL);   /* not one of ours: the default action on return */
}

static void sigbus_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigbus_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static void mapping_register(const void *data, uint64_t size, const char *path)
{
    pthread_once(&sigbus_once, sigbus_install);
    pthread_mutex_lock(&mapping_lock);
    for (size_t i = 0; i < FILE_MAX_MAPPINGS; i++) {
        mapping_slot *m = &mapping_slots[i];
        if (m->used) continue;
        m->begin = (uintptr_t)data;
        m->end = (uintptr_t)data + (uintptr_t)size;
        /* the path is shown escaped: it is untrusted text bound for the terminal */
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)path; *p && n + 5 < sizeof m->path; p++) {
            if (*p < 0x20 || *p == 0x7f) n += (size_t)snprintf(m->path + n, sizeof m->path - n, "\\x%02x", *p);
            else m->path[n++] = (char)*p;
        }
        m->path[n] = 0;
        m->used = 1;
        break;
    }
    pthread_mutex_unlock(&mapping_lock);
}

static void mapping_unregister(const void *data)
{
    pthread_mutex_lock(&mapping_lock);
    for (size_t i = 0; i < FILE_MAX_MAPPINGS; i++)
        if (mapping_slots[i].used && mapping_slots[i].begin == (uintptr_t)data) { mapping_slots[i].used = 0; break; }
    pthread_mutex_unlock(&mapping_lock);
}

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode) ? "a folder" : S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket"
           : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device" : "a special file";
}

lineage_status file_open_regular(const char *path, int *fd_out, uint64_t *size, lineage_error *err)
{
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO with no writer must not wait; the type is checked before any read */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return error_set(err, LINEAGE_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, LINEAGE_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, LINEAGE_E_IO, "%s: is %s, not a regular file", path, file_kind(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, LINEAGE_E_IO, "%s: cannot open: %s", path, strerror(e));
    }
    *size = (uint64_t)st.st_size;
    *fd_out = fd;
    return LINEAGE_OK;
}

lineage_status file_map(const char *path, mapped_file *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    uint64_t size;
    int fd;
    lineage_status st = file_open_regular(path, &fd, &size, err);
    if (st) return st;
    out->path = strdup(path);
    if (!out->path) {
        close(fd);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    out->fd = fd;
    out->size = size;
    if (out->size > 0) {
        void *p = mmap(NULL, (size_t)out->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            file_unmap(out);
            return error_set(err, LINEAGE_E_IO, "%s: cannot map: %s", path, strerror(e));
        }
        out->data = p;
        mapping_register(p, out->size, path);
    }
    return LINEAGE_OK;
}

void file_unmap(mapped_file *f)
{
    if (f->data) {
        mapping_unregister(f->data);
        munmap((void *)f->data, (size_t)f->size);
    }
    if (f->fd >= 0) close(f->fd);
    free(f->path);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

lineage_status file_pread(const mapped_file *f, uint64_t offset, void *buf, size_t nbytes, lineage_error *err)
{
    if (offset > f->size || nbytes > f->size - offset)
        return error_set(err, LINEAGE_E_FORMAT, "%s: read of %zu bytes at %llu is beyond the end of the file",
                         f->path, nbytes, (unsigned long long)offset);
    size_t done = 0;
    while (done < nbytes) {
        ssize_t n = pread(f->fd, (char *)buf + done, nbytes - done, (off_t)(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return error_set(err, LINEAGE_E_IO, "%s: read failed: %s", f->path, n ? strerror(errno) : "short read");
        done += (size_t)n;
    }
    return LINEAGE_OK;
}

lineage_status file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, lineage_error *err)
{
    *out = NULL;
    *len = 0;
    uint64_t size;
    int fd;
    lineage_status st = file_open_regular(path, &fd, &size, err);
    if (st) return st;
    if (size > max_bytes) {
        close(fd);
        return error_set(err, LINEAGE_E_FORMAT, "%s: file of %llu bytes exceeds the %zu-byte limit", path,
                         (unsigned long long)size, max_bytes);
    }
    size_t n = (size_t)size;
    char *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, buf + done, n - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        done += (size_t)r;
    }
    close(fd);
    buf[done] = 0;
    *out = buf;
    *len = done;
    return LINEAGE_OK;
}

lineage_status file_read_head(const char *path, void *buf, size_t cap, size_t *got, uint64_t *size, lineage_error *err)
{
    int fd;
    lineage_status st = file_open_regular(path, &fd, size, err);
    if (st) return st;
    size_t done = 0;
    while (done < cap) {
        ssize_t r = pread(fd, (char *)buf + done, cap - done, (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return error_set(err, LINEAGE_E_IO, "%s: read failed: %s", path, strerror(e));
        }
        if (r == 0) break;
        done += (size_t)r;
    }
    close(fd);
    *got = done;
    return LINEAGE_OK;
}

int path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int path_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t n = a;
    if (a && dir[a - 1] != '/') p[n++] = '/';
    memcpy(p + n, name, b + 1);
    return p;
}

char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    size_t n = (size_t)(slash - path);
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, path, n);
    p[n] = 0;
    return p;
}

int path_has_suffix(const char *path, const char *suffix) { return str_ends_with(path, suffix); }
