/* proxy_spec.h — the Proxy filter's decoded spec and its load balancers.
 * Decoding follows reference/easegress-spec.md §3; runtime (connections, streaming) is proxy.c. */
#ifndef EG_PROXY_SPEC_H
#define EG_PROXY_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include "http_types.h"
#include "node.h"

typedef struct {
    char *url;            /* as written */
    const char *scheme;   /* static "http", "https", "ws" or "wss" (lower case) */
    bool https;           /* https or wss */
    char *host;           /* hostname or IP literal, no brackets */
    uint16_t port;        /* explicit or 80/443 */
    char *host_header;    /* "host[:port]" as it goes in a Host header (port omitted if default) */
    char *path_prefix;    /* "" or "/api" (no trailing slash) */
    bool host_is_ip;
    int weight;           /* 0..100 */
    char **tags; size_t ntags;
    bool keep_host;
} eg_upstream;

typedef enum {
    EG_LB_ROUND_ROBIN, EG_LB_RANDOM, EG_LB_WEIGHTED_RANDOM,
    EG_LB_IP_HASH, EG_LB_HEADER_HASH, EG_LB_COOKIE_HASH,
} eg_lb_policy;

typedef struct eg_request_matcher eg_request_matcher;   /* pool `filter` (canary), private */

typedef struct {
    eg_upstream *servers; size_t nservers;
    eg_lb_policy policy;
    char *header_hash_key;
    bool set_upstream_host;
    int64_t timeout_ms;            /* 0 = none */
    int64_t server_max_body_size;  /* 0 = inherit proxy's */
    int *failure_codes; size_t nfailure_codes;   /* empty = any 5xx */
    char *span_name, *retry_policy, *circuit_breaker_policy, *service_registry, *service_name;
    eg_request_matcher *filter;    /* NULL for the main pool */
    char **server_tags; size_t nserver_tags;     /* service-registry instance filter */
    /* Accepted and kept raw (deep copies owned by the pool) until their features land: */
    eg_node *memory_cache;         /* pool memoryCache */
    eg_node *health_check;         /* pool healthCheck, else the deprecated loadBalance.healthCheck */
    eg_node *sticky_session;       /* loadBalance.stickySession */
} eg_pool_spec;

typedef struct {
    eg_pool_spec *pools; size_t npools;
    size_t main_pool;              /* index of the pool without filter */
    bool compression; uint32_t compression_min_length;
    int max_idle_conns, max_idle_conns_per_host;   /* defaults 10240, 1024 */
    int max_redirection;
    int64_t server_max_body_size;  /* 0 -> 4 MiB resolved here; -1 stream */
    eg_pool_spec *mirror_pool;     /* NULL when absent; always has a filter */
    eg_node *mtls;                 /* raw copy, NULL when absent */
} eg_proxy_spec;

/* Decode one Proxy filter item (the map with name/kind and the Proxy fields). */
eg_proxy_spec *eg_proxy_spec_decode(eg_dec *d, const eg_node *filter);
void eg_proxy_spec_free(eg_proxy_spec *s);

/* Parse a server URL (http, https, ws, wss; host required; no userinfo, query or fragment)
 * into u's url/scheme/https/host/port/host_header/path_prefix/host_is_ip. Returns false and
 * a static reason in *why when invalid; u then holds nothing to free. */
bool eg_upstream_parse_url(const char *url, eg_upstream *u, const char **why);
void eg_upstream_free(eg_upstream *u);   /* frees members, not u */

/* What a load balancer or pool filter may look at. */
typedef struct {
    const char *client_ip;
    const eg_headers *headers;
    const char *method; size_t method_len;
    const char *path; size_t path_len;     /* decoded path */
} eg_lb_request;

/* Per-worker, per-pool state: no sharing, no atomics. Zero-initialise before first use. */
typedef struct {
    uint64_t next;
    uint64_t rng;
} eg_lb_state;

/* Index of the chosen server among pool->servers, or -1 when the pool has none.
 * `healthy` (may be NULL = all healthy) excludes servers. */
int eg_lb_pick(const eg_pool_spec *pool, eg_lb_state *st, const eg_lb_request *req, const bool *healthy);
/* Index of the pool a request goes to: first candidate pool whose filter matches, else main. */
size_t eg_proxy_choose_pool(const eg_proxy_spec *spec, const eg_lb_request *req, eg_lb_state *st);
/* FNV-1 32: what Easegress's ipHash/headerHash (LB and pool filter) use (Go fnv.New32). */
uint32_t eg_fnv32(const void *data, size_t len);
/* FNV-1a 32 (Go fnv.New32a). */
uint32_t eg_fnv32a(const void *data, size_t len);
/* Next pseudo-random number from st->rng (xorshift64*), seeded on first use. */
uint64_t eg_lb_rand(eg_lb_state *st);

#endif
