/* lb.c — load balancing among a pool's servers and choosing a pool (Easegress
 * pkg/filters/proxies/loadbalance.go semantics). Only healthy servers are candidates: every
 * policy works on the list of healthy servers in spec order, as Easegress's ServerGroup does,
 * so hashes are taken modulo the number of healthy servers. */
#include <stdint.h>
#include <string.h>
#include <time.h>
#include "proxy_spec.h"
#include "request_matcher.h"

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u

uint32_t eg_fnv32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = FNV32_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h *= FNV32_PRIME;
        h ^= p[i];
    }
    return h;
}

uint32_t eg_fnv32a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t h = FNV32_OFFSET;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV32_PRIME;
    }
    return h;
}

/* splitmix64 finaliser: spreads a weak seed (clock, address) over all 64 bits. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t eg_lb_rand(eg_lb_state *st)
{
    uint64_t x = st->rng;
    if (x == 0) {
        /* Lazily seeded from the clock and the state's address, so two workers (or two
         * pools) started in the same nanosecond still differ. */
        struct timespec ts = {0, 0};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        x = mix64((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
            mix64((uint64_t)(uintptr_t)st);
        if (x == 0)
            x = 0x2545f4914f6cdd1dull;   /* xorshift must never hold 0 */
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    st->rng = x;
    return x * 0x2545f4914f6cdd1dull;   /* xorshift64* output */
}

/* Index in pool->servers of the k-th (0-based) healthy server. */
static int nth_healthy(const eg_pool_spec *pool, const bool *healthy, size_t k)
{
    for (size_t i = 0; i < pool->nservers; i++) {
        if (healthy && !healthy[i])
            continue;
        if (k-- == 0)
            return (int)i;
    }
    return -1;   /* unreachable when k < number of healthy servers */
}

/* Hash of the first value of header `name` (Go's Header.Get); missing hashes "". */
static uint32_t header_hash(const eg_lb_request *req, const char *name)
{
    const eg_header *h = NULL;
    if (req && req->headers && name)
        h = eg_headers_find(req->headers, name, strlen(name));
    return h ? eg_fnv32(h->value, h->value_len) : eg_fnv32("", 0);
}

static int pick_weighted(const eg_pool_spec *pool, eg_lb_state *st, const bool *healthy, size_t nhealthy)
{
    uint64_t total = 0;
    for (size_t i = 0; i < pool->nservers; i++)
        if (!healthy || healthy[i])
            total += (uint64_t)(pool->servers[i].weight > 0 ? pool->servers[i].weight : 0);
    /* Easegress panics on a zero total; with no weights we fall back to uniform random. */
    if (total == 0)
        return nth_healthy(pool, healthy, eg_lb_rand(st) % nhealthy);
    uint64_t w = eg_lb_rand(st) % total;
    for (size_t i = 0; i < pool->nservers; i++) {
        if (healthy && !healthy[i])
            continue;
        uint64_t sw = (uint64_t)(pool->servers[i].weight > 0 ? pool->servers[i].weight : 0);
        if (w < sw)
            return (int)i;
        w -= sw;
    }
    return -1;   /* unreachable: w < total */
}

int eg_lb_pick(const eg_pool_spec *pool, eg_lb_state *st, const eg_lb_request *req, const bool *healthy)
{
    size_t nhealthy = 0;
    for (size_t i = 0; i < pool->nservers; i++)
        if (!healthy || healthy[i])
            nhealthy++;
    if (nhealthy == 0)
        return -1;

    switch (pool->policy) {
    case EG_LB_RANDOM:
        return nth_healthy(pool, healthy, eg_lb_rand(st) % nhealthy);
    case EG_LB_WEIGHTED_RANDOM:
        return pick_weighted(pool, st, healthy, nhealthy);
    case EG_LB_IP_HASH: {
        const char *ip = req && req->client_ip ? req->client_ip : "";
        return nth_healthy(pool, healthy, eg_fnv32(ip, strlen(ip)) % nhealthy);
    }
    case EG_LB_HEADER_HASH:
        return nth_healthy(pool, healthy, header_hash(req, pool->header_hash_key) % nhealthy);
    case EG_LB_COOKIE_HASH:
        return nth_healthy(pool, healthy, header_hash(req, "Cookie") % nhealthy);
    case EG_LB_ROUND_ROBIN:
        break;
    }
    return nth_healthy(pool, healthy, st->next++ % nhealthy);
}

size_t eg_proxy_choose_pool(const eg_proxy_spec *spec, const eg_lb_request *req, eg_lb_state *st)
{
    for (size_t i = 0; i < spec->npools; i++)
        if (spec->pools[i].filter && eg_request_matcher_match(spec->pools[i].filter, req, st))
            return i;
    return spec->main_pool;
}
