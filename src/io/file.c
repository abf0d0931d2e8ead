#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/strbuf.h"

lineage_status file_map(const char *path, mapped_file *out, lineage_error *err)
{
    memset(out, 0, sizeof *out);
    out->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_set(err, LINEAGE_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, LINEAGE_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, LINEAGE_E_IO, "%s: not a regular file", path);
    }
    out->path = strdup(path);
    if (!out->path) {
        close(fd);
        return error_set(err, LINEAGE_E_NOMEM, "%s: out of memory", path);
    }
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    if (out->size > 0) {
        void *p = mmap(NULL, (size_t)out->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            file_unmap(out);
            return error_set(err, LINEAGE_E_IO, "%s: cannot map: %s", path, strerror(e));
        }
        out->data = p;
    }
    return LINEAGE_OK;
}

void file_unmap(mapped_file *f)
{
    if (f->data) munmap((void *)f->data, (size_t)f->size);
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_set(err, LINEAGE_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, LINEAGE_E_IO, "%s: not a readable regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return error_set(err, LINEAGE_E_FORMAT, "%s: file of %lld bytes exceeds the %zu-byte limit", path,
                         (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
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
