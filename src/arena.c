#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct eg_arena_block {
    eg_arena_block *next;
    size_t used, size;
    _Alignas(16) char data[];
};

void eg_arena_init(eg_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 4096;
}

void *eg_arena_alloc(eg_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    eg_arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > a->block_size ? n : a->block_size;
        eg_arena_block *nb = malloc(sizeof *nb + size);
        if (!nb)
            abort();
        nb->used = 0;
        nb->size = size;
        /* A big one-off allocation goes behind the head so the head keeps its free space. */
        if (b && size > a->block_size) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *eg_arena_strndup(eg_arena *a, const char *s, size_t n)
{
    char *p = eg_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void eg_arena_reset(eg_arena *a)
{
    eg_arena_block *keep = NULL;
    for (eg_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        if (!keep && b->size == a->block_size) {
            keep = b;
            continue;
        }
        free(b);
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
}

void eg_arena_free(eg_arena *a)
{
    for (eg_arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}

eg_arena *eg_arena_pool_get(eg_arena_pool *p)
{
    if (p->count)
        return p->spare[--p->count];
    eg_arena *a = malloc(sizeof *a);
    if (!a)
        abort();
    eg_arena_init(a, EG_ARENA_POOL_BLOCK);
    return a;
}

void eg_arena_pool_put(eg_arena_pool *p, eg_arena *a)
{
    if (p->count < EG_ARENA_POOL_MAX && a->block_size == EG_ARENA_POOL_BLOCK) {
        eg_arena_reset(a);
        p->spare[p->count++] = a;
        return;
    }
    eg_arena_free(a);
    free(a);
}

void eg_arena_pool_free(eg_arena_pool *p)
{
    while (p->count) {
        eg_arena *a = p->spare[--p->count];
        eg_arena_free(a);
        free(a);
    }
}
