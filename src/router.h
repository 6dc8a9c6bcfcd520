/* router.h — an HTTPServer object: its decoded spec and its compiled rules.
 *
 * Matching follows Easegress's Ordered router (first full match in rule/path order, with
 * its no-match status codes), through an index that avoids a linear scan of every rule:
 * rules bucketed by exact host (plus wildcard/regexp hosts), paths by exact hash and a
 * prefix trie, regexps last, and candidates merged back in definition order.
 * Paths are matched on their decoded, normalised form (see eg_path_normalize).
 */
#ifndef EG_ROUTER_H
#define EG_ROUTER_H

#include <stdint.h>
#include "http_types.h"
#include "ipnet.h"
#include "node.h"
#include "set_headers.h"

typedef struct eg_router eg_router;

typedef struct eg_route_path {
    char *backend;                   /* pipeline name; with only a backendPool, the generated
                                      * "GENERATED-<server>-<ruleIdx>-<pathIdx>" */
    int64_t client_max_body_size;    /* 0: inherit server's; -1 stream; >0 bytes */
    size_t rule_index, path_index;
    eg_node *backend_pool;           /* deep copy of `backendPool` (a proxy pool spec) or NULL */
    char **set_header_keys;          /* `setHeaders`, in document order; value "" deletes */
    char **set_header_values;
    size_t nset_headers;
    eg_set_headers *set_headers;     /* the same, compiled (NULL when none): apply after a match */
    /* private to router.c: matchers, rewrite target ... */
    void *priv;
} eg_route_path;

typedef struct eg_httpserver_spec {
    char *name;
    uint16_t port;
    char *address;                   /* NULL = all interfaces */
    bool keep_alive;                 /* default true */
    int64_t keep_alive_timeout_ms;   /* default 60000 */
    uint32_t max_connections;        /* default 10240 */
    int64_t client_max_body_size;    /* 0 -> 4 MiB (resolved here), -1 stream */
    bool x_forwarded_for;
    eg_ipnet_list trusted_proxies;   /* ours: `trustedProxies: [cidr]` */
    bool https, http3;               /* decoded; https rejected until TLS lands */
    char *global_filter;
    char *access_log_format;         /* NULL = Easegress's default */
    struct eg_access_log_format *access_log; /* compiled (NULL = the default format) */
    char *access_log_output;         /* ours: a path, stdout, stderr, off; NULL = --access-log's */
    int access_log_sink;             /* its destination id (access_log.h): 0 default, -1 off */
    eg_router *router;
    uint32_t cache_size;             /* route cache entries per worker (0: none), see route_cache.h */
    char *router_kind;               /* "Ordered" or "RadixTree" */
    bool auto_cert;
    char *cert_base64, *key_base64, *ca_cert_base64;   /* NULL when absent */
    eg_node *certs, *keys;           /* deep copies of the name->PEM maps, NULL when absent */
    struct eg_tracing_spec *tracing; /* decoded `tracing` (tracing.h), NULL when absent */
} eg_httpserver_spec;

/* Decode an HTTPServer object (the whole object map, meta keys included). */
eg_httpserver_spec *eg_httpserver_spec_decode(eg_dec *d, const eg_node *obj);
void eg_httpserver_spec_free(eg_httpserver_spec *s);
/* Easegress's DefaultSpec of an HTTPServer (the fields the decoder defaults), as a map. */
eg_node *eg_httpserver_default_spec(void);

/* The router of an HTTPServer object: reads `rules` and the server-level `ipFilter` of the
 * object map (all other keys are left to eg_httpserver_spec_decode). `server_name` names the
 * generated backendPool pipelines; `radix` selects the RadixTree router (else Ordered);
 * `cache_size` is the route cache size the workers use with it. NULL on error, with the
 * error in d. */
eg_router *eg_router_decode(eg_dec *d, const eg_node *obj, const char *server_name, bool radix,
                            uint32_t cache_size);
/* Every router gets a process-unique id (route caches know whose results they hold). */
uint64_t eg_router_id(const eg_router *r);
uint32_t eg_router_cache_size(const eg_router *r);
void eg_router_free(eg_router *r);
/* Every path of every rule, in definition order (rule-major). */
size_t eg_router_path_count(const eg_router *r);
const eg_route_path *eg_router_path_at(const eg_router *r, size_t i);

typedef struct {
    const char *method; size_t method_len;
    const char *host; size_t host_len;     /* Host header as received (with port) */
    const char *path; size_t path_len;     /* raw escaped path, no query */
    const char *query; size_t query_len;   /* raw query, no '?' */
    const eg_headers *headers;
    const char *client_ip;                 /* textual, already resolved (eg_client_ip) */
} eg_route_request;

typedef struct {
    int status;                  /* 0 = matched; else 400/403/404/405 */
    const eg_route_path *path;   /* when matched */
    char *rewritten_path;        /* malloc'd escaped path when a rewriteTarget applied */
    /* RadixTree: the `{param}` values and EG_WILDCARD, in pattern order (count 0 otherwise).
     * Names belong to the router, values to the match (one malloc'd block). */
    eg_route_captures captures;
    void *captures_mem;
    /* Set by the search: the outcome depended only on method, host and path (no header,
     * query or client IP was consulted), so a route cache may keep it. */
    bool cacheable;
} eg_route_match;

/* Returns m->status: 0 with m->path (and m->rewritten_path when a rewriteTarget applied),
 * else 403 (server ipFilter, checked first; or a rule/path ipFilter), 400 (a path that cannot
 * be normalised: bad escape, NUL, `..` above root; or a header/query mismatch), 405, 404,
 * or 500 when out of memory. Release m with eg_route_match_release. Thread-safe: the router
 * is only read. */
int eg_router_match(const eg_router *r, const eg_route_request *req, eg_route_match *m);
/* A copy of captures in the arena (the name strings shared with the router), or NULL
 * when there are none. */
const eg_route_captures *eg_route_captures_dup(eg_arena *a, const eg_route_captures *c);
/* The value of capture `name`, or NULL. */
const char *eg_route_capture(const eg_route_captures *c, const char *name, size_t name_len);
/* Does the server-level ipFilter let this client in? (eg_router_match checks it first.) */
bool eg_router_server_allows(const eg_router *r, const char *client_ip);
/* Frees m->rewritten_path and the captures. */
void eg_route_match_release(eg_route_match *m);

/* The Host header without its port, exactly as Go's net.SplitHostPort (what Easegress's
 * RouteContext.GetHost compares): "a.com:80" -> "a.com", "[::1]:80" -> "::1"; a value
 * SplitHostPort rejects ("a.com", "[::1]", "a:b:c") is used whole. */
void eg_host_strip_port(const char *host, size_t len, const char **out, size_t *out_len);

/* Decode %XX (all of them, %2F included), collapse `//`, resolve `.` and `..`. Output is
 * NUL-terminated in `out` (capacity >= len + 1). Returns output length or -1 when invalid. */
long eg_path_normalize(const char *raw, size_t len, char *out);

#endif
