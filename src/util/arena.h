/* Bump allocator for parse trees and reports: one free releases everything. */
#ifndef LINEAGE_UTIL_ARENA_H
#define LINEAGE_UTIL_ARENA_H
#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    size_t used_total;   /* bytes handed out */
    size_t limit;        /* 0 = no limit; beyond it allocations fail */
} arena;

void arena_init(arena *a, size_t limit);
void arena_free(arena *a);
/* 16-byte aligned; NULL on overflow/limit/OOM. */
void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t count, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
#endif
