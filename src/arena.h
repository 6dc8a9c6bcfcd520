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

#endif
