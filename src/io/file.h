/* Files: read-only mappings for tensor data, bounded whole-file reads for small sidecars. */
#ifndef LINEAGE_IO_FILE_H
#define LINEAGE_IO_FILE_H
#include <stddef.h>
#include <stdint.h>
#include "lineage.h"

typedef struct mapped_file {
    char *path;
    int fd;
    uint64_t size;
    const unsigned char *data;   /* whole-file read-only mapping; NULL when size is 0 */
} mapped_file;

/* The one way a model path is opened: regular files only (a FIFO, device or folder is refused before
 * any read, without blocking). *fd is a blocking read-only descriptor (-1 on failure). */
lineage_status file_open_regular(const char *path, int *fd, uint64_t *size, lineage_error *err);
/* Maps a whole file read-only; a later SIGBUS inside the mapping (the file shrank) ends the process
 * with one line naming the file and exit 3. */
lineage_status file_map(const char *path, mapped_file *out, lineage_error *err);
void file_unmap(mapped_file *f);
/* Reads nbytes at offset with pread (counted by the caller as bytes read). */
lineage_status file_pread(const mapped_file *f, uint64_t offset, void *buf, size_t nbytes, lineage_error *err);

/* Reads a whole small file; fails with LINEAGE_E_FORMAT when it exceeds max_bytes. */
lineage_status file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, lineage_error *err);

/* The first bytes of a regular file (at most cap; *got may be less) and its size. */
lineage_status file_read_head(const char *path, void *buf, size_t cap, size_t *got, uint64_t *size, lineage_error *err);

int path_exists(const char *path);
int path_is_dir(const char *path);
int path_is_file(const char *path);
/* malloc'd "dir/name" */
char *path_join(const char *dir, const char *name);
/* malloc'd directory part of a path ("." when none) */
char *path_dirname(const char *path);
int path_has_suffix(const char *path, const char *suffix);
#endif
