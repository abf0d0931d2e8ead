/* Files that are not files: a FIFO opened by path or inside a folder is refused at once (no hang),
 * and a mapped file truncated while it is read ends the process with one line naming the file and
 * exit 3 instead of a silent SIGBUS (checked in a child process). */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "format/model.h"
#include "io/file.h"

static char tmp[256];

static void write_file(const char *path, size_t n)
{
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < n; i++) fputc((int)(i * 7), f);
    if (f) fclose(f);
}

/* Runs body in a child with stderr captured; returns the wait status, err gets the text. */
static int in_child(void (*body)(const char *), const char *arg, char *errbuf, size_t cap)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        close(p[0]);
        alarm(20);
        body(arg);
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < cap && (r = read(p[0], errbuf + n, cap - 1 - n)) > 0) n += (size_t)r;
    errbuf[n] = 0;
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static void map_truncate_read(const char *path)
{
    mapped_file f;
    if (file_map(path, &f, NULL)) _exit(10);
    if (truncate(path, 0) != 0) _exit(11);
    volatile unsigned sum = 0;
    for (uint64_t i = 0; i < f.size; i += 512) sum += f.data[i];
    _exit(sum == 0xFFFFFFFFu ? 13 : 12);   /* the truncated pages must not read as data */
}

static void model_truncate_read(const char *dir)
{
    lineage_model *m;
    lineage_error err;
    if (lineage_model_open(dir, &m, &err)) { fprintf(stderr, "%s\n", err.message); _exit(10); }
    char path[600];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (truncate(path, 4096) != 0) _exit(11);
    size_t n = lineage_model_tensor_count(m);
    float *row = malloc(1 << 20);
    for (size_t i = 0; i < n; i++) {
        const lineage_tensor_info *t = lineage_model_tensor(m, i);
        if (t->cols <= (1 << 18)) lineage_tensor_read_rows_f32(m, i, t->rows - 1, 1, row, &err);
    }
    _exit(12);
}

static int one_line(const char *s) { const char *nl = strchr(s, '\n'); return nl && nl[1] == 0; }

int main(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/lineage-fh-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp)) return 1;
    char path[600], cmd[1400];
    alarm(60);   /* a regression that blocks on a FIFO fails instead of hanging the suite */

    snprintf(path, sizeof path, "%s/fifo.safetensors", tmp);
    mkfifo(path, 0600);
    mapped_file f;
    lineage_error err = {0};
    lineage_status st = file_map(path, &f, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "FIFO"), "file_map refuses a FIFO without blocking: %s", err.message);
    char *text = NULL;
    size_t len;
    st = file_read_all(path, 1 << 20, &text, &len, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "FIFO"), "file_read_all refuses a FIFO: %s", err.message);
    free(text);
    lineage_model *m = NULL;
    st = lineage_model_open(path, &m, &err);
    CHECK(st == LINEAGE_E_IO && strstr(err.message, "FIFO") && !strstr(err.message, "no such"),
          "a FIFO given as the model path is named as a FIFO: %s", err.message);
    lineage_model_close(m);

    /* a FIFO named model.safetensors inside a folder with a config */
    snprintf(path, sizeof path, "%s/folder", tmp);
    mkdir(path, 0700);
    snprintf(cmd, sizeof cmd, "cp '%s/zoo/arch-only/config.json' '%s/'", shared_dir(), path);
    CHECK(system(cmd) == 0, "config copied");
    snprintf(path, sizeof path, "%s/folder/model.safetensors", tmp);
    mkfifo(path, 0600);
    snprintf(path, sizeof path, "%s/folder", tmp);
    m = NULL;
    st = lineage_model_open(path, &m, &err);
    CHECK(st != LINEAGE_OK && strstr(err.message, "FIFO"), "a FIFO inside a folder fails at once: %s", err.message);
    lineage_model_close(m);

    char msg[2048];
    snprintf(path, sizeof path, "%s/shrinks.bin", tmp);
    write_file(path, 1 << 20);
    int status = in_child(map_truncate_read, path, msg, sizeof msg);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3 && one_line(msg) && strstr(msg, path) && strstr(msg, "I/O"),
          "a mapped file truncated during a read: one line naming it, exit 3 (status %d: %s)", status, msg);

    snprintf(path, sizeof path, "%s/model", tmp);
    snprintf(cmd, sizeof cmd, "cp -r '%s/zoo/base' '%s'", shared_dir(), path);
    CHECK(system(cmd) == 0, "zoo base copied");
    status = in_child(model_truncate_read, path, msg, sizeof msg);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3 && one_line(msg) && strstr(msg, "model.safetensors"),
          "model weights truncated while rows are read: one line, exit 3 (status %d: %s)", status, msg);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    CHECK_EXIT();
}
