/* Shared dictionaries: the registry, values, LRU eviction, TTLs, and exact counts across
 * threads. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "shared_dict.h"
#include "unit.h"

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ; /* interrupted: sleep the rest */
}

static eg_shared_dict *dict(const char *name)
{
    return eg_shared_dict_find(name, strlen(name));
}

static bool has(eg_shared_dict *d, const char *key)
{
    eg_shared_value v;
    return eg_shared_dict_get(d, key, strlen(key), &v, NULL, 0) == EG_SD_OK;
}

static eg_shared_value str(const char *s) { return (eg_shared_value){ .type = EG_SV_STRING, .str = s, .len = strlen(s) }; }
static eg_shared_value num(double n) { return (eg_shared_value){ .type = EG_SV_NUMBER, .number = n }; }

static void setup(void)
{
    static const char *const specs[] = { "small=3", "mid=100", "big=1000", "huge=20000" };
    char err[256];
    int rc = eg_shared_dicts_init(specs, 4, err, sizeof err);
    CHECK_INT(rc, 0);
}

static void test_specs(void)
{
    char name[64], err[256];
    size_t cap = 0;
    CHECK(eg_shared_dict_parse_spec("cache=500", name, sizeof name, &cap, err, sizeof err));
    CHECK_STR(name, "cache");
    CHECK_INT(cap, 500);
    CHECK(eg_shared_dict_parse_spec("a-b_C9=1", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("cache", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("=5", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("c=0", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("c=-1", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("c=10x", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("c=999999999999", name, sizeof name, &cap, err, sizeof err));
    CHECK(!eg_shared_dict_parse_spec("c.d=5", name, sizeof name, &cap, err, sizeof err));
    CHECK(strstr(err, "NAME=CAPACITY") != NULL);
}

static void test_registry(void)
{
    const char *dup[] = { "a=1", "a=2" };
    char err[256];
    CHECK_INT(eg_shared_dicts_init(dup, 2, err, sizeof err), -1);
    CHECK(strstr(err, "twice") != NULL);
    CHECK(dict("default") == NULL);

    const char *resize[] = { "default=50", "x=7" };
    CHECK_INT(eg_shared_dicts_init(resize, 2, err, sizeof err), 0);
    CHECK_INT(eg_shared_dict_capacity(dict("default")), 50);
    CHECK_INT(eg_shared_dict_capacity(dict("x")), 7);
    CHECK(dict("y") == NULL);
    CHECK(dict("defaul") == NULL);

    CHECK_INT(eg_shared_dicts_init(NULL, 0, err, sizeof err), 0);
    CHECK_INT(eg_shared_dict_capacity(dict("default")), EG_SHARED_DICT_DEFAULT_CAPACITY);
    CHECK_STR(eg_shared_dict_name(dict("default")), "default");
    setup();
}

static void test_values(void)
{
    eg_shared_dict *d = dict("mid");
    eg_shared_value v, s = str("hello");
    char buf[64];
    CHECK_INT(eg_shared_dict_get(d, "k", 1, &v, buf, sizeof buf), EG_SD_NOT_FOUND);
    CHECK_INT(eg_shared_dict_set(d, "k", 1, &s, 0), EG_SD_OK);
    CHECK_INT(eg_shared_dict_get(d, "k", 1, &v, buf, sizeof buf), EG_SD_OK);
    CHECK_INT(v.type, EG_SV_STRING);
    CHECK_INT(v.len, 5);
    CHECK(memcmp(v.str, "hello", 5) == 0);
    /* Too small a buffer: the length comes back for a second try. */
    CHECK_INT(eg_shared_dict_get(d, "k", 1, &v, buf, 2), EG_SD_OK);
    CHECK_INT(v.len, 5);

    /* Binary-safe keys and values, and an empty string. */
    eg_shared_value bin = { .type = EG_SV_STRING, .str = "a\0b", .len = 3 };
    CHECK_INT(eg_shared_dict_set(d, "x\0y", 3, &bin, 0), EG_SD_OK);
    CHECK_INT(eg_shared_dict_get(d, "x\0y", 3, &v, buf, sizeof buf), EG_SD_OK);
    CHECK(v.len == 3 && memcmp(v.str, "a\0b", 3) == 0);
    CHECK_INT(eg_shared_dict_get(d, "x", 1, &v, buf, sizeof buf), EG_SD_NOT_FOUND);
    eg_shared_value empty = str("");
    CHECK_INT(eg_shared_dict_set(d, "e", 1, &empty, 0), EG_SD_OK);
    CHECK_INT(eg_shared_dict_get(d, "e", 1, &v, buf, sizeof buf), EG_SD_OK);
    CHECK_INT(v.type, EG_SV_STRING);
    CHECK_INT(v.len, 0);

    /* Replacing changes the type. */
    eg_shared_value n = num(2.5), b = { .type = EG_SV_BOOLEAN, .boolean = true };
    CHECK_INT(eg_shared_dict_set(d, "k", 1, &n, 0), EG_SD_OK);
    CHECK_INT(eg_shared_dict_get(d, "k", 1, &v, buf, sizeof buf), EG_SD_OK);
    CHECK(v.type == EG_SV_NUMBER && v.number == 2.5);
    CHECK_INT(eg_shared_dict_set(d, "k", 1, &b, 0), EG_SD_OK);
    CHECK_INT(eg_shared_dict_get(d, "k", 1, &v, buf, sizeof buf), EG_SD_OK);
    CHECK(v.type == EG_SV_BOOLEAN && v.boolean);

    /* add, incr, delete, and a NONE value deleting. */
    CHECK_INT(eg_shared_dict_add(d, "k", 1, &s, 0), EG_SD_EXISTS);
    CHECK_INT(eg_shared_dict_add(d, "new", 3, &s, 0), EG_SD_OK);
    double out = 0, init = 10;
    CHECK_INT(eg_shared_dict_incr(d, "k", 1, 1, NULL, 0, &out), EG_SD_NOT_NUMBER);
    CHECK_INT(eg_shared_dict_incr(d, "cnt", 3, 1, NULL, 0, &out), EG_SD_NOT_FOUND);
    CHECK_INT(eg_shared_dict_incr(d, "cnt", 3, 2, &init, 0, &out), EG_SD_OK);
    CHECK(out == 12);
    CHECK_INT(eg_shared_dict_incr(d, "cnt", 3, -0.5, &init, 0, &out), EG_SD_OK);
    CHECK(out == 11.5);
    CHECK(eg_shared_dict_delete(d, "cnt", 3));
    CHECK(!eg_shared_dict_delete(d, "cnt", 3));
    eg_shared_value none = { .type = EG_SV_NONE };
    CHECK_INT(eg_shared_dict_set(d, "new", 3, &none, 0), EG_SD_OK);
    CHECK(!has(d, "new"));

    /* Keys of no bytes or over the limit are never stored. */
    CHECK_INT(eg_shared_dict_get(d, "", 0, &v, buf, sizeof buf), EG_SD_NOT_FOUND);
    CHECK_INT(eg_shared_dict_set(d, "", 0, &s, 0), EG_SD_NOT_FOUND);

    double left = -1;
    CHECK_INT(eg_shared_dict_ttl(d, "k", 1, &left), EG_SD_OK);
    CHECK(left == 0);
    CHECK_INT(eg_shared_dict_ttl(d, "nope", 4, &left), EG_SD_NOT_FOUND);

    CHECK_INT(eg_shared_dict_count(d), 3); /* k, x\0y, e */
    eg_buf keys = { 0 };
    CHECK_INT(eg_shared_dict_keys(d, 0, &keys), 3);
    CHECK_INT(keys.len, 3 * sizeof(size_t) + 1 + 3 + 1);
    eg_buf_free(&keys);
    CHECK_INT(eg_shared_dict_keys(d, 2, &keys), 2);
    eg_buf_free(&keys);
    eg_shared_dict_flush_all(d);
    CHECK_INT(eg_shared_dict_count(d), 0);
    CHECK(!has(d, "k"));
}

static void test_lru(void)
{
    eg_shared_dict *d = dict("small");
    eg_shared_value v = str("v");
    eg_shared_dict_set(d, "a", 1, &v, 0);
    eg_shared_dict_set(d, "b", 1, &v, 0);
    eg_shared_dict_set(d, "c", 1, &v, 0);
    CHECK(has(d, "a")); /* a is now the most recent: order a c b */
    eg_shared_dict_set(d, "d", 1, &v, 0); /* evicts b */
    CHECK(!has(d, "b"));
    CHECK(has(d, "c")); /* order c d a */
    double out;
    double zero = 0;
    CHECK_INT(eg_shared_dict_incr(d, "n", 1, 1, &zero, 0, &out), EG_SD_OK); /* evicts a */
    CHECK(!has(d, "a"));
    CHECK(has(d, "c") && has(d, "d") && has(d, "n"));
    CHECK_INT(eg_shared_dict_count(d), 3);
    /* Replacing a key does not evict another. */
    eg_shared_dict_set(d, "c", 1, &v, 0);
    CHECK(has(d, "d") && has(d, "n"));
    CHECK_INT(eg_shared_dict_count(d), 3);
    eg_shared_dict_flush_all(d);

    /* A big dictionary is sharded, but its capacity is still exact. */
    eg_shared_dict *h = dict("huge");
    char key[32];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        eg_shared_value iv = num(i);
        eg_shared_dict_set(h, key, (size_t)n, &iv, 0);
    }
    CHECK_INT(eg_shared_dict_count(h), 20000);
    CHECK(has(h, "key-49999"));
    CHECK(!has(h, "key-0"));
    eg_shared_dict_flush_all(h);
}

static void test_ttl(void)
{
    eg_shared_dict *d = dict("small");
    eg_shared_value v = str("v");
    CHECK_INT(eg_shared_dict_set(d, "t", 1, &v, 0.05), EG_SD_OK);
    double left = 0;
    CHECK_INT(eg_shared_dict_ttl(d, "t", 1, &left), EG_SD_OK);
    CHECK(left > 0.02 && left <= 0.05);
    CHECK(has(d, "t"));
    CHECK_INT(eg_shared_dict_add(d, "t", 1, &v, 0), EG_SD_EXISTS);
    double out, init = 5;
    CHECK_INT(eg_shared_dict_incr(d, "c", 1, 1, &init, 0.05, &out), EG_SD_OK);
    CHECK_INT(eg_shared_dict_incr(d, "c", 1, 1, NULL, 0, &out), EG_SD_OK);
    CHECK(out == 7);
    sleep_ms(80);
    CHECK(!has(d, "t"));
    CHECK_INT(eg_shared_dict_ttl(d, "t", 1, &left), EG_SD_NOT_FOUND);
    CHECK_INT(eg_shared_dict_incr(d, "c", 1, 1, NULL, 0, &out), EG_SD_NOT_FOUND);
    CHECK_INT(eg_shared_dict_count(d), 0);
    CHECK_INT(eg_shared_dict_add(d, "t", 1, &v, 0), EG_SD_OK);
    CHECK(!eg_shared_dict_delete(d, "c", 1));

    /* A full shard drops an expired entry before the least recently used one. */
    eg_shared_dict_flush_all(d);
    eg_shared_dict_set(d, "old", 3, &v, 0);
    eg_shared_dict_set(d, "short", 5, &v, 0.02);
    eg_shared_dict_set(d, "new", 3, &v, 0);
    sleep_ms(40);
    eg_shared_dict_set(d, "newer", 5, &v, 0);
    CHECK(has(d, "old"));
    CHECK(has(d, "new") && has(d, "newer"));
    CHECK(!has(d, "short"));
    /* Setting again without a TTL clears it. */
    eg_shared_dict_set(d, "old", 3, &v, 0.02);
    eg_shared_dict_set(d, "old", 3, &v, 0);
    sleep_ms(40);
    CHECK(has(d, "old"));
    eg_shared_dict_flush_all(d);

    /* Expired entries in the middle of bucket chains: each lookup finds its own key only. */
    eg_shared_dict *m = dict("mid");
    char key[16], buf[16];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        eg_shared_value kv = { .type = EG_SV_STRING, .str = key, .len = (size_t)n };
        eg_shared_dict_set(m, key, (size_t)n, &kv, i % 2 ? 0.02 : 0);
    }
    sleep_ms(40);
    int wrong = 0;
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "k%d", i);
        eg_shared_value got;
        eg_sd_status st = eg_shared_dict_get(m, key, (size_t)n, &got, buf, sizeof buf);
        if (i % 2 ? st != EG_SD_NOT_FOUND : (st != EG_SD_OK || got.len != (size_t)n || memcmp(got.str, key, got.len)))
            wrong++;
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(eg_shared_dict_count(m), 50);
    eg_shared_dict_flush_all(m);
}

#define THREADS 4
#define INCRS 100000

static void *incr_thread(void *arg)
{
    eg_shared_dict *d = arg;
    double out, zero = 0;
    for (int i = 0; i < INCRS; i++)
        eg_shared_dict_incr(d, "hits", 4, 1, &zero, 0, &out);
    return NULL;
}

/* Distinct keys with eviction, reads and deletes racing on every shard. */
static void *churn_thread(void *arg)
{
    eg_shared_dict *d = dict("big");
    uintptr_t id = (uintptr_t)arg;
    char key[32], buf[64];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(key, sizeof key, "t%u-%d", (unsigned)id, i);
        eg_shared_value v = str(key);
        eg_shared_dict_set(d, key, (size_t)n, &v, (i % 3) ? 0 : 0.001);
        eg_shared_value out;
        n = snprintf(key, sizeof key, "t%u-%d", (unsigned)((id + 1) % THREADS), i / 2);
        eg_shared_dict_get(d, key, (size_t)n, &out, buf, sizeof buf);
        if (i % 7 == 0)
            eg_shared_dict_delete(d, key, (size_t)n);
    }
    return NULL;
}

static void test_threads(void)
{
    eg_shared_dict *d = dict("default");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK_INT(pthread_create(&t[i], NULL, incr_thread, d), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    eg_shared_value v;
    CHECK_INT(eg_shared_dict_get(d, "hits", 4, &v, NULL, 0), EG_SD_OK);
    CHECK_INT((long long)v.number, THREADS * INCRS);

    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK_INT(pthread_create(&t[i], NULL, churn_thread, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK(eg_shared_dict_count(dict("big")) <= 1000);
    CHECK(eg_shared_dict_count(dict("big")) > 0);
}

int main(void)
{
    RUN(test_specs);
    RUN(test_registry);
    RUN(test_values);
    RUN(test_lru);
    RUN(test_ttl);
    RUN(test_threads);
    eg_shared_dicts_free();
    UNIT_END("shared_dict");
}
