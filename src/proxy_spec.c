/* proxy_spec.c — decoding the Proxy filter spec (reference/easegress-spec.md §3) and
 * parsing its server URLs. Validation wording follows Easegress where it has any, so users
 * searching its docs and issues find the same messages. */
#define _GNU_SOURCE   /* asprintf */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "proxy_spec.h"
#include "health_check.h"
#include "request_matcher.h"

#define DEFAULT_SERVER_MAX_BODY_SIZE 4194304   /* Easegress: 0 means 4 MiB */
#define DEFAULT_MAX_IDLE_CONNS 10240
#define DEFAULT_MAX_IDLE_CONNS_PER_HOST 1024

/* ---- server URLs --------------------------------------------------------------------- */

static const struct {
    const char *name;
    bool tls;
    uint16_t port;
} url_schemes[] = {
    {"http", false, 80}, {"https", true, 443}, {"ws", false, 80}, {"wss", true, 443},
};

/* Characters we accept in a registered name (hostname or IPv4 literal). Go's url.Parse
 * accepts a few more sub-delims, but none of them can name a backend we could dial. */
static bool host_char(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

void eg_upstream_free(eg_upstream *u)
{
    if (!u)
        return;
    free(u->url);
    free(u->host);
    free(u->host_header);
    free(u->path_prefix);
    eg_strv_free(u->tags, u->ntags);
    memset(u, 0, sizeof *u);
}

bool eg_upstream_parse_url(const char *url, eg_upstream *u, const char **why)
{
    const char *reason = NULL;
    memset(u, 0, sizeof *u);
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            *why = "spaces and control characters are not allowed";
            return false;
        }

    const char *sep = strstr(url, "://");
    size_t si = sizeof url_schemes / sizeof url_schemes[0];
    if (sep)
        for (si = 0; si < sizeof url_schemes / sizeof url_schemes[0]; si++)
            if (strlen(url_schemes[si].name) == (size_t)(sep - url) &&
                strncasecmp(url, url_schemes[si].name, (size_t)(sep - url)) == 0)
                break;
    if (si == sizeof url_schemes / sizeof url_schemes[0]) {
        *why = "scheme must be http, https, ws or wss";
        return false;
    }

    const char *auth = sep + 3;
    size_t alen = strcspn(auth, "/?#");
    const char *rest = auth + alen;
    const char *host = auth, *port = NULL;
    size_t hlen = 0, plen = 0;
    bool v6 = false;
    if (memchr(auth, '@', alen))
        reason = "user information is not supported";
    else if (alen == 0)
        reason = "missing host";
    else if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close)
            reason = "missing ']' in IPv6 host";
        else {
            host = auth + 1;
            hlen = (size_t)(close - host);
            v6 = true;
            if (close + 1 < rest) {
                if (close[1] != ':')
                    reason = "unexpected text after IPv6 host";
                port = close + 2;
                plen = (size_t)(rest - port);
            }
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        hlen = colon ? (size_t)(colon - auth) : alen;
        if (colon) {
            port = colon + 1;
            plen = (size_t)(rest - port);
        }
    }
    if (!reason && strpbrk(rest, "?#"))
        reason = "query and fragment are not allowed";

    char hostbuf[256];
    if (!reason && (hlen == 0 || hlen >= sizeof hostbuf))
        reason = hlen ? "host too long" : "missing host";
    if (!reason) {
        memcpy(hostbuf, host, hlen);
        hostbuf[hlen] = '\0';
        unsigned char addr[16];
        if (v6) {
            if (inet_pton(AF_INET6, hostbuf, addr) != 1)
                reason = "invalid IPv6 address";
            u->host_is_ip = true;
        } else {
            for (size_t i = 0; i < hlen && !reason; i++)
                if (!host_char((unsigned char)hostbuf[i]))
                    reason = "invalid character in host";
            u->host_is_ip = inet_pton(AF_INET, hostbuf, addr) == 1;
        }
    }

    unsigned long portnum = url_schemes[si].port;   /* empty port (host:) means default */
    if (!reason && plen) {
        portnum = 0;
        for (size_t i = 0; i < plen && !reason; i++) {
            if (!isdigit((unsigned char)port[i]))
                reason = "invalid port";
            else if ((portnum = portnum * 10 + (unsigned long)(port[i] - '0')) > 65535)
                reason = "port out of range";
        }
        if (!reason && portnum == 0)
            reason = "port out of range";
    }
    if (reason) {
        memset(u, 0, sizeof *u);
        *why = reason;
        return false;
    }

    u->scheme = url_schemes[si].name;
    u->https = url_schemes[si].tls;
    u->port = (uint16_t)portnum;
    /* The prefix is concatenated with the request's path, which starts with '/'. */
    size_t rl = strlen(rest);
    while (rl > 0 && rest[rl - 1] == '/')
        rl--;
    u->url = strdup(url);
    u->host = strdup(hostbuf);
    u->path_prefix = strndup(rest, rl);
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    int n = portnum == url_schemes[si].port
        ? asprintf(&u->host_header, "%s%s%s", lb, hostbuf, rb)
        : asprintf(&u->host_header, "%s%s%s:%lu", lb, hostbuf, rb, portnum);
    if (n < 0)
        u->host_header = NULL;
    if (!u->url || !u->host || !u->path_prefix || !u->host_header) {
        eg_upstream_free(u);
        *why = "out of memory";
        return false;
    }
    return true;
}

/* ---- helpers ------------------------------------------------------------------------- */

/* A warning at the current path (or an error when the decoder is strict), for values that
 * Easegress accepts but ignores, like an unknown load-balancing policy. */
static void dec_warn(eg_dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void dec_warn(eg_dec *d, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->strict) {
        eg_dec_fail(d, field, "%s", msg);
        return;
    }
    char *w = NULL;
    if (asprintf(&w, "%.*s%s%s: %s", (int)d->path_len, d->path,
                 d->path_len && field ? "." : "", field ? field : "", msg) < 0)
        return;   /* a lost warning is not worth failing the decode */
    char **nw = realloc(d->warnings, (d->nwarnings + 1) * sizeof *nw);
    if (!nw) {
        free(w);
        return;
    }
    nw[d->nwarnings++] = w;
    d->warnings = nw;
}

/* A raw copy of an optional map field, kept for features that are not decoded yet. */
static eg_node *clone_map(eg_dec *d, const eg_node *map, const char *key)
{
    const eg_node *n = eg_dec_map(d, map, key, false);
    if (!n)
        return NULL;
    eg_node *c = eg_node_clone(n);
    if (!c)
        eg_dec_fail(d, key, "out of memory");
    return c;
}

/* serverMaxBodySize: 0 = default/inherit, -1 = stream, else a positive byte count. */
static void dec_body_size(eg_dec *d, const eg_node *map, int64_t *out)
{
    if (eg_dec_int(d, map, "serverMaxBodySize", out, false) && *out < -1)
        eg_dec_fail(d, "serverMaxBodySize", "must be -1 (stream), 0 (default) or a size in bytes");
}

static void dec_int_range(eg_dec *d, const eg_node *map, const char *key, int *out,
                          int64_t lo, int64_t hi)
{
    int64_t v = *out;
    if (!eg_dec_int(d, map, key, &v, false))
        return;
    if (v < lo || v > hi)
        eg_dec_fail(d, key, "must be between %lld and %lld, got %lld", (long long)lo,
                    (long long)hi, (long long)v);
    else
        *out = (int)v;
}

/* Easegress marks these lists uniqueItems. */
static void check_unique(eg_dec *d, const char *field, char **v, size_t n)
{
    for (size_t i = 1; i < n && eg_dec_ok(d); i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0) {
                eg_dec_fail(d, field, "duplicate item \"%s\"", v[i]);
                break;
            }
}

/* ---- pools --------------------------------------------------------------------------- */

static void pool_free_members(eg_pool_spec *p)
{
    for (size_t i = 0; i < p->nservers; i++)
        eg_upstream_free(&p->servers[i]);
    free(p->servers);
    free(p->header_hash_key);
    free(p->failure_codes);
    free(p->span_name);
    free(p->retry_policy);
    free(p->circuit_breaker_policy);
    free(p->service_registry);
    free(p->service_name);
    eg_request_matcher_free(p->filter);
    eg_strv_free(p->server_tags, p->nserver_tags);
    eg_node_free(p->memory_cache);
    eg_node_free(p->health_check);
    eg_node_free(p->sticky_session);
    memset(p, 0, sizeof *p);
}

static void decode_server(eg_dec *d, const eg_node *n, eg_upstream *u)
{
    char *url = NULL, **tags = NULL;
    size_t ntags = 0;
    int weight = 0;
    bool keep_host = false;
    if (!n || n->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return;
    }
    eg_dec_string(d, n, "url", &url, true);
    eg_dec_string_list(d, n, "tags", &tags, &ntags, false);
    check_unique(d, "tags", tags, ntags);
    dec_int_range(d, n, "weight", &weight, 0, 100);
    eg_dec_bool(d, n, "keepHost", &keep_host, false);
    eg_dec_check_unknown(d, n);
    const char *why = NULL;
    if (eg_dec_ok(d) && !eg_upstream_parse_url(url, u, &why))
        eg_dec_fail(d, "url", "invalid URL \"%s\" (%s)", url, why);
    free(url);
    if (!eg_dec_ok(d)) {
        eg_strv_free(tags, ntags);
        return;
    }
    u->tags = tags;
    u->ntags = ntags;
    u->weight = weight;
    u->keep_host = keep_host;
}

static void decode_servers(eg_dec *d, const eg_node *seq, eg_pool_spec *p)
{
    if (!seq->count)
        return;
    p->servers = calloc(seq->count, sizeof *p->servers);
    if (!p->servers) {
        eg_dec_fail(d, "servers", "out of memory");
        return;
    }
    p->nservers = seq->count;   /* zeroed entries free as nothing */
    eg_dec_enter(d, "servers");
    for (size_t i = 0; i < seq->count && eg_dec_ok(d); i++) {
        eg_dec_enter_index(d, i);
        decode_server(d, seq->items[i], &p->servers[i]);
        eg_dec_leave(d);
    }
    size_t weighted = 0;
    for (size_t i = 0; i < p->nservers; i++)
        weighted += p->servers[i].weight > 0;
    /* Easegress: weights are all-or-nothing within a pool. */
    if (eg_dec_ok(d) && weighted && weighted < p->nservers)
        eg_dec_fail(d, NULL, "not all servers have weight(%zu/%zu)", weighted, p->nservers);
    eg_dec_leave(d);
}

static const struct {
    const char *name;
    eg_lb_policy policy;
} lb_policies[] = {
    {"", EG_LB_ROUND_ROBIN}, {"roundRobin", EG_LB_ROUND_ROBIN}, {"random", EG_LB_RANDOM},
    {"weightedRandom", EG_LB_WEIGHTED_RANDOM}, {"ipHash", EG_LB_IP_HASH},
    {"headerHash", EG_LB_HEADER_HASH}, {"cookieHash", EG_LB_COOKIE_HASH},
};

/* ---- healthCheck and memoryCache -----------------------------------------------------
 * Both are kept raw (clone_map): health checks are decoded again where they run
 * (health_check.c, which also checks them here); the response cache is not implemented
 * yet. They are checked as Easegress checks them (its JSON schema, then Validate), so a
 * section Easegress refuses is refused here too, and an unknown field (the docs' `pass:`
 * for `passes`) gets its warning instead of silently doing nothing. */

/* A pool's memoryCache (Easegress's MemoryCacheSpec: every field required). */
static void check_memory_cache(eg_dec *d, const eg_node *mc)
{
    int64_t ms, max_entry = 1;
    char **methods = NULL;
    size_t nmethods = 0;
    eg_dec_enter(d, "memoryCache");
    eg_dec_duration_ms(d, mc, "expiration", &ms, true);
    if (eg_dec_int(d, mc, "maxEntryBytes", &max_entry, true) &&
        (max_entry < 1 || max_entry > (int64_t)UINT32_MAX))
        eg_dec_fail(d, "maxEntryBytes", "must be between 1 and %u", UINT32_MAX);
    const eg_node *codes = eg_dec_seq(d, mc, "codes", true);
    if (codes && eg_dec_ok(d) && !codes->count)
        eg_dec_fail(d, "codes", "must not be empty");
    for (size_t i = 0; codes && eg_dec_ok(d) && i < codes->count; i++) {
        const eg_node *c = codes->items[i];
        eg_dec_enter(d, "codes");
        eg_dec_enter_index(d, i);
        if (c->type != EG_NODE_INT)
            eg_dec_fail(d, NULL, "must be an integer");
        else if (c->v.i < 100 || c->v.i > 599)
            eg_dec_fail(d, NULL, "must be an HTTP status code (100..599), got %lld", (long long)c->v.i);
        for (size_t j = 0; eg_dec_ok(d) && j < i; j++)
            if (codes->items[j]->type == EG_NODE_INT && codes->items[j]->v.i == c->v.i)
                eg_dec_fail(d, NULL, "duplicate code %lld", (long long)c->v.i);
        eg_dec_leave(d);
        eg_dec_leave(d);
    }
    if (eg_dec_string_list(d, mc, "methods", &methods, &nmethods, true) && eg_dec_ok(d) && !nmethods)
        eg_dec_fail(d, "methods", "must not be empty");
    for (size_t i = 0; eg_dec_ok(d) && i < nmethods; i++) {
        if (!eg_http_method_valid(methods[i]))
            eg_dec_fail(d, "methods", "invalid HTTP method \"%s\"", methods[i]);
        for (size_t j = 0; eg_dec_ok(d) && j < i; j++)
            if (!strcmp(methods[i], methods[j]))
                eg_dec_fail(d, "methods", "duplicate method \"%s\"", methods[i]);
    }
    eg_strv_free(methods, nmethods);
    eg_dec_check_unknown(d, mc);
    eg_dec_leave(d);
}

/* loadBalance; *lb_health gets its deprecated healthCheck (not owned). */
static void decode_load_balance(eg_dec *d, const eg_node *lb, eg_pool_spec *p, const eg_node **lb_health)
{
    char *policy = NULL;
    eg_dec_enter(d, "loadBalance");
    eg_dec_string(d, lb, "policy", &policy, false);
    eg_dec_string(d, lb, "headerHashKey", &p->header_hash_key, false);
    eg_dec_any(d, lb, "forwardKey");   /* GRPCProxy's; Easegress accepts and ignores it here */
    p->sticky_session = clone_map(d, lb, "stickySession");
    *lb_health = eg_dec_map(d, lb, "healthCheck", false);
    if (*lb_health && eg_dec_ok(d)) {
        eg_dec_enter(d, "healthCheck");
        eg_health_spec_check(d, *lb_health, true);
        eg_dec_leave(d);
    }
    eg_dec_check_unknown(d, lb);

    p->policy = EG_LB_ROUND_ROBIN;
    if (eg_dec_ok(d) && policy) {
        size_t i, n = sizeof lb_policies / sizeof lb_policies[0];
        for (i = 0; i < n && strcmp(policy, lb_policies[i].name) != 0; i++)
            ;
        if (i < n)
            p->policy = lb_policies[i].policy;
        else if (strcmp(policy, "forward") == 0)
            eg_dec_fail(d, "policy", "policy forward is only supported by GRPCProxy");
        else   /* Easegress logs an error and uses roundRobin; we say so at submit time */
            dec_warn(d, "policy", "unknown policy \"%s\", using roundRobin", policy);
    }
    if (eg_dec_ok(d) && p->header_hash_key && !p->header_hash_key[0]) {
        free(p->header_hash_key);
        p->header_hash_key = NULL;
    }
    if (eg_dec_ok(d) && p->policy == EG_LB_HEADER_HASH && !p->header_hash_key)
        eg_dec_fail(d, "headerHashKey", "headerHash needs to specify headerHashKey");
    free(policy);
    eg_dec_leave(d);
}

static void decode_failure_codes(eg_dec *d, const eg_node *seq, eg_pool_spec *p)
{
    if (!seq->count)
        return;
    p->failure_codes = calloc(seq->count, sizeof *p->failure_codes);
    if (!p->failure_codes) {
        eg_dec_fail(d, "failureCodes", "out of memory");
        return;
    }
    eg_dec_enter(d, "failureCodes");
    for (size_t i = 0; i < seq->count && eg_dec_ok(d); i++) {
        const eg_node *c = seq->items[i];
        eg_dec_enter_index(d, i);
        if (c->type != EG_NODE_INT)
            eg_dec_fail(d, NULL, "must be an integer");
        else if (c->v.i < 100 || c->v.i > 599)
            eg_dec_fail(d, NULL, "must be an HTTP status code (100..599), got %lld", (long long)c->v.i);
        else {
            for (size_t j = 0; j < p->nfailure_codes; j++)
                if (p->failure_codes[j] == (int)c->v.i)
                    eg_dec_fail(d, NULL, "duplicate code %lld", (long long)c->v.i);
            p->failure_codes[p->nfailure_codes++] = (int)c->v.i;
        }
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
}

/* One ServerPoolSpec into *p (zeroed by the caller). */
static void decode_pool(eg_dec *d, const eg_node *n, eg_pool_spec *p)
{
    if (!n || n->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return;
    }
    const eg_node *servers = eg_dec_seq(d, n, "servers", false);
    if (servers && eg_dec_ok(d))
        decode_servers(d, servers, p);
    eg_dec_string_list(d, n, "serverTags", &p->server_tags, &p->nserver_tags, false);
    check_unique(d, "serverTags", p->server_tags, p->nserver_tags);
    eg_dec_string(d, n, "serviceRegistry", &p->service_registry, false);
    eg_dec_string(d, n, "serviceName", &p->service_name, false);
    eg_dec_bool(d, n, "setUpstreamHost", &p->set_upstream_host, false);
    const eg_node *lb = eg_dec_map(d, n, "loadBalance", false), *lb_health = NULL;
    if (lb && eg_dec_ok(d))
        decode_load_balance(d, lb, p, &lb_health);
    const eg_node *filter = eg_dec_map(d, n, "filter", false);
    if (filter && eg_dec_ok(d)) {
        eg_dec_enter(d, "filter");
        p->filter = eg_request_matcher_decode(d, filter);
        eg_dec_leave(d);
    }
    eg_dec_string(d, n, "spanName", &p->span_name, false);
    dec_body_size(d, n, &p->server_max_body_size);
    if (eg_dec_duration_ms(d, n, "timeout", &p->timeout_ms, false) && p->timeout_ms < 0)
        p->timeout_ms = 0;   /* Go only applies a positive timeout */
    eg_dec_string(d, n, "retryPolicy", &p->retry_policy, false);
    eg_dec_string(d, n, "circuitBreakerPolicy", &p->circuit_breaker_policy, false);
    const eg_node *cache = eg_dec_map(d, n, "memoryCache", false);
    if (cache && eg_dec_ok(d))
        check_memory_cache(d, cache);
    p->memory_cache = clone_map(d, n, "memoryCache");
    const eg_node *health = eg_dec_map(d, n, "healthCheck", false);
    if (health && eg_dec_ok(d)) {
        eg_dec_enter(d, "healthCheck");
        eg_health_spec_check(d, health, false);
        eg_dec_leave(d);
    }
    p->health_check = clone_map(d, n, "healthCheck");
    const eg_node *codes = eg_dec_seq(d, n, "failureCodes", false);
    if (codes && eg_dec_ok(d))
        decode_failure_codes(d, codes, p);
    eg_dec_check_unknown(d, n);
    if (!eg_dec_ok(d))
        return;

    /* The deprecated loadBalance.healthCheck applies when the pool has none (Easegress). */
    if (!p->health_check && lb_health && !(p->health_check = eg_node_clone(lb_health))) {
        eg_dec_fail(d, "loadBalance.healthCheck", "out of memory");
        return;
    }
    bool has_service = p->service_name && p->service_name[0];
    if (!has_service && !p->nservers)
        eg_dec_fail(d, NULL, "both serviceName and servers are empty");
    else if (has_service && p->health_check)
        eg_dec_fail(d, "healthCheck", "can not open health check for service discovery");
}

/* ---- the Proxy ----------------------------------------------------------------------- */

void eg_proxy_spec_free(eg_proxy_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->npools; i++)
        pool_free_members(&s->pools[i]);
    free(s->pools);
    if (s->mirror_pool) {
        pool_free_members(s->mirror_pool);
        free(s->mirror_pool);
    }
    eg_node_free(s->mtls);
    free(s);
}

static void decode_pools(eg_dec *d, const eg_node *seq, eg_proxy_spec *s)
{
    if (!seq->count) {
        eg_dec_fail(d, "pools", "must not be empty");
        return;
    }
    s->pools = calloc(seq->count, sizeof *s->pools);
    if (!s->pools) {
        eg_dec_fail(d, "pools", "out of memory");
        return;
    }
    s->npools = seq->count;
    size_t nmain = 0;
    eg_dec_enter(d, "pools");
    for (size_t i = 0; i < seq->count && eg_dec_ok(d); i++) {
        eg_dec_enter_index(d, i);
        decode_pool(d, seq->items[i], &s->pools[i]);
        eg_dec_leave(d);
        if (eg_dec_ok(d) && !s->pools[i].filter && nmain++ == 0)
            s->main_pool = i;
    }
    if (eg_dec_ok(d) && nmain != 1)
        eg_dec_fail(d, NULL, "one and only one mainPool (a pool without filter) is required, found %zu",
                    nmain);
    eg_dec_leave(d);
}

static void decode_mirror(eg_dec *d, const eg_node *n, eg_proxy_spec *s)
{
    if (!(s->mirror_pool = calloc(1, sizeof *s->mirror_pool))) {
        eg_dec_fail(d, "mirrorPool", "out of memory");
        return;
    }
    eg_dec_enter(d, "mirrorPool");
    decode_pool(d, n, s->mirror_pool);
    if (eg_dec_ok(d) && !s->mirror_pool->filter)
        eg_dec_fail(d, "filter", "filter of mirrorPool is required");
    if (eg_dec_ok(d) && s->mirror_pool->memory_cache)
        eg_dec_fail(d, "memoryCache", "memoryCache must be empty in mirrorPool");
    eg_dec_leave(d);
}

static void decode_compression(eg_dec *d, const eg_node *c, eg_proxy_spec *s)
{
    int64_t min_length = 0;
    eg_dec_enter(d, "compression");
    if (eg_dec_int(d, c, "minLength", &min_length, false) &&
        (min_length < 0 || min_length > (int64_t)UINT32_MAX))
        eg_dec_fail(d, "minLength", "must be between 0 and %u", UINT32_MAX);
    eg_dec_check_unknown(d, c);
    eg_dec_leave(d);
    s->compression = true;
    s->compression_min_length = (uint32_t)(min_length < 0 ? 0 : min_length);
}

eg_proxy_spec *eg_proxy_spec_decode(eg_dec *d, const eg_node *filter)
{
    if (!eg_dec_ok(d))
        return NULL;
    if (!filter || filter->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return NULL;
    }
    eg_proxy_spec *s = calloc(1, sizeof *s);
    if (!s) {
        eg_dec_fail(d, NULL, "out of memory");
        return NULL;
    }
    s->max_idle_conns = DEFAULT_MAX_IDLE_CONNS;
    s->max_idle_conns_per_host = DEFAULT_MAX_IDLE_CONNS_PER_HOST;

    /* Filter meta, checked by the pipeline. */
    eg_dec_any(d, filter, "name");
    eg_dec_any(d, filter, "kind");

    const eg_node *pools = eg_dec_seq(d, filter, "pools", true);
    if (pools && eg_dec_ok(d))
        decode_pools(d, pools, s);
    const eg_node *mirror = eg_dec_map(d, filter, "mirrorPool", false);
    if (mirror && eg_dec_ok(d))
        decode_mirror(d, mirror, s);
    const eg_node *comp = eg_dec_map(d, filter, "compression", false);
    if (comp && eg_dec_ok(d))
        decode_compression(d, comp, s);
    s->mtls = clone_map(d, filter, "mtls");
    dec_int_range(d, filter, "maxIdleConns", &s->max_idle_conns, INT_MIN, INT_MAX);
    dec_int_range(d, filter, "maxIdleConnsPerHost", &s->max_idle_conns_per_host, INT_MIN, INT_MAX);
    dec_int_range(d, filter, "maxRedirection", &s->max_redirection, 0, INT_MAX);
    dec_body_size(d, filter, &s->server_max_body_size);
    eg_dec_check_unknown(d, filter);

    if (!eg_dec_ok(d)) {
        eg_proxy_spec_free(s);
        return NULL;
    }
    if (s->server_max_body_size == 0)
        s->server_max_body_size = DEFAULT_SERVER_MAX_BODY_SIZE;
    return s;
}
