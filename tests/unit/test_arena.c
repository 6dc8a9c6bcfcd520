/* test_arena.c — the request arena and the per-thread pool of spare arenas. */
#include <stdint.h>
#include <stdlib.h>

#include "arena.h"
#include "unit.h"

static void test_alloc_aligned_and_separate(void)
{
    eg_arena a;
    eg_arena_init(&a, 256);
    char *p = eg_arena_alloc(&a, 3), *q = eg_arena_alloc(&a, 5);
    CHECK(((uintptr_t)p & 15) == 0 && ((uintptr_t)q & 15) == 0);
    CHECK(q >= p + 3);
    char *big = eg_arena_alloc(&a, 10000); /* bigger than a block: a block of its own */
    memset(big, 'x', 10000);
    char *after = eg_arena_alloc(&a, 16);  /* still from the first block's free space */
    CHECK(after == q + 16);
    CHECK_STR(eg_arena_strndup(&a, "hello world", 5), "hello");
    eg_arena_free(&a);
}

static void test_reset_keeps_the_first_block(void)
{
    eg_arena a;
    eg_arena_init(&a, 256);
    for (int i = 0; i < 20; i++)
        eg_arena_alloc(&a, 200);           /* a block each */
    eg_arena_alloc(&a, 5000);              /* and a big one */
    char *last = eg_arena_alloc(&a, 200);  /* the head block's start */
    eg_arena_reset(&a);                    /* the others are freed (ASan's leak check) */
    CHECK(eg_arena_alloc(&a, 100) == last);
    CHECK(eg_arena_alloc(&a, 100) == last + 112); /* rounded up to 16 */
    eg_arena_free(&a);
}

static void test_pool_reuses_and_is_bounded(void)
{
    eg_arena_pool pool = { 0 };
    eg_arena *a = eg_arena_pool_get(&pool);
    char *p = eg_arena_alloc(a, 64);
    eg_arena_alloc(a, 9000);               /* a big block: freed when it goes back */
    eg_arena_pool_put(&pool, a);
    CHECK_INT(pool.count, 1);
    eg_arena *b = eg_arena_pool_get(&pool);
    CHECK(b == a);                         /* the same arena, */
    CHECK(eg_arena_alloc(b, 64) == p);     /* emptied, its first block kept */
    CHECK_INT(pool.count, 0);

    eg_arena *many[EG_ARENA_POOL_MAX + 5];
    for (int i = 0; i < EG_ARENA_POOL_MAX + 5; i++) {
        many[i] = i ? eg_arena_pool_get(&pool) : b;
        eg_arena_alloc(many[i], 10);
    }
    for (int i = 0; i < EG_ARENA_POOL_MAX + 5; i++)
        eg_arena_pool_put(&pool, many[i]);
    CHECK_INT(pool.count, EG_ARENA_POOL_MAX); /* the rest were freed */
    eg_arena_pool_free(&pool);
    CHECK_INT(pool.count, 0);
}

int main(void)
{
    RUN(test_alloc_aligned_and_separate);
    RUN(test_reset_keeps_the_first_block);
    RUN(test_pool_reuses_and_is_bounded);
    UNIT_END("arena");
}
