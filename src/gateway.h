/* gateway.h — what a worker does with a request on an HTTPServer's listener: resolve the
 * client IP, route, run the pipeline, answer. */
#ifndef EG_GATEWAY_H
#define EG_GATEWAY_H

#include <stdint.h>
#include "http1_server.h"

struct eg_worker;
struct eg_listener;

typedef struct {
    struct eg_worker *worker;
    struct eg_listener *listener;
    const char *server_name;
    /* Lookups by name cached for the snapshot generation they were made in. */
    uint64_t cache_generation;
    const void *cached_server;
    const void *cached_route;          /* eg_route_path of the last match */
    const void *cached_pipeline;       /* ... and the pipeline it named */
    const void *cached_globalfilter;
    struct eg_route_cache *route_cache; /* the server's cacheSize LRU (route_cache.h), or NULL */
} eg_gateway_ud;

extern const eg_http1_hooks eg_gateway_hooks;

#endif
