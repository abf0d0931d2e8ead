#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct arena_block {
    arena_block *next;
    size_t size, used;
    int mapped;   /* from mmap (large blocks), else malloc */
    max_align_t align_[];
};

void arena_init(arena *a, size_t limit)
{
    a->head = NULL;
    a->used_total = 0;
    a->limit = limit;
}

void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *n = b->next;
        if (b->mapped) munmap(b, sizeof *b + b->size);
        else free(b);
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
}

/* Large blocks are mapped with their pages populated up front: one call instead of a page fault
 * per 4 KiB, which costs several times more on virtual machines (parse trees of 100+ MB). */
#define ARENA_MAP_BYTES (1u << 20)

static arena_block *map_block(size_t bytes)
{
#ifdef MAP_POPULATE
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#else
    (void)bytes;
    return NULL;
#endif
}

void *arena_alloc(arena *a, size_t n)
{
    if (n > SIZE_MAX / 2) return NULL;
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    if (a->limit && (a->used_total > a->limit || n > a->limit - a->used_total)) return NULL;
    arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > 60000 ? n : 64000;
        if (b && b->size * 2 > size && b->size < (1u << 24)) size = b->size * 2;
        b = size >= ARENA_MAP_BYTES ? map_block(sizeof *b + size) : NULL;
        int mapped = b != NULL;
        if (!b) b = malloc(sizeof *b + size);
        if (!b) return NULL;
        b->mapped = mapped;
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->align_ + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

void *arena_calloc(arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = arena_alloc(a, count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }
