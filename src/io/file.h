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

lineage_status file_map(const char *path, mapped_file *out, lineage_error *err);
void file_unmap(mapped_file *f);
/* Reads nbytes at offset with pread (counted by the caller as bytes read). */
lineage_status file_pread(const mapped_file *f, uint64_t offset, void *buf, size_t nbytes, lineage_error *err);

/* Reads a whole small file; fails with LINEAGE_E_FORMAT when it exceeds max_bytes. */
lineage_status file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, lineage_error *err);

int path_is_dir(const char *path);
int path_is_file(const char *path);
/* malloc'd "dir/name" */
char *path_join(const char *dir, const char *name);
/* malloc'd directory part of a path ("." when none) */
char *path_dirname(const char *path);
int path_has_suffix(const char *path, const char *suffix);
#endif
