/* arena.h — a bump allocator owning everything one request allocates; reset or freed when
 * the request ends, so nothing a request allocates outlives it. */
#ifndef EG_ARENA_H
#define EG_ARENA_H

#include <stddef.h>

typedef struct eg_arena_block eg_arena_block;
typedef struct {
    eg_arena_block *head;
    size_t block_size;
} eg_arena;

void eg_arena_init(eg_arena *a, size_t block_size);
void *eg_arena_alloc(eg_arena *a, size_t n);               /* 16-byte aligned, never NULL */
char *eg_arena_strndup(eg_arena *a, const char *s, size_t n); /* NUL-terminated copy */
/* Keep the first block (for reuse by the next request on the connection), free the rest. */
void eg_arena_reset(eg_arena *a);
void eg_arena_free(eg_arena *a);

/* One thread's spare arenas, each keeping its first block: a request takes one and gives it
 * back, instead of two mallocs and two frees per request. Bounded, so a burst leaves at most
 * EG_ARENA_POOL_MAX first blocks behind. Zeroed memory is an empty pool. */
#define EG_ARENA_POOL_MAX 32
#define EG_ARENA_POOL_BLOCK 4096
typedef struct {
    eg_arena *spare[EG_ARENA_POOL_MAX];
    size_t count;
} eg_arena_pool;

/* An empty arena with EG_ARENA_POOL_BLOCK blocks (malloc-owned; give it back with eg_arena_pool_put). */
eg_arena *eg_arena_pool_get(eg_arena_pool *p);
void eg_arena_pool_put(eg_arena_pool *p, eg_arena *a);
void eg_arena_pool_free(eg_arena_pool *p);

#endif
