/* route_cache.h — an HTTPServer's `cacheSize`: a worker's LRU of routing results.
 *
 * Key: method, Host header and raw path. Only results the router marks cacheable are kept
 * (the search consulted no header, query or client IP), plus the server-level ipFilter
 * checked before every lookup, so a cached answer is always the one matching would give.
 * One cache per worker and listener, touched by that worker only: no locks. It holds
 * pointers into one router version and empties itself when it meets another (routers carry
 * process-unique ids), so an update never serves a stale route. */
#ifndef EG_ROUTE_CACHE_H
#define EG_ROUTE_CACHE_H

#include <stdint.h>
#include "router.h"

typedef struct eg_route_cache eg_route_cache;

void eg_route_cache_free(eg_route_cache *c);

/* eg_router_match, through *cp when the router has a cacheSize (the cache is created on
 * first use). The result is the caller's, released with eg_route_match_release as usual. */
int eg_route_cache_match(eg_route_cache **cp, const eg_router *r, const eg_route_request *req,
                         eg_route_match *m);

typedef struct {
    uint64_t hits, misses;
    size_t entries, capacity;
} eg_route_cache_stats;

void eg_route_cache_stats_get(const eg_route_cache *c, eg_route_cache_stats *out);

#endif
