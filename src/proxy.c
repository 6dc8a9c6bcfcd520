/* proxy.c — the Proxy filter at run time: choose a pool and a server, send the request of
 * the active namespace, put the backend's answer in that namespace's response. */
#define _GNU_SOURCE
#include "proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gzip_stream.h"
#include "health_check.h"
#include "log.h"
#include "pipeline.h"
#include "router.h"
#include "stats.h"
#include "proxy_spec.h"
#include "tracing.h"
#include "upstream.h"
#include "worker.h"

static const char *const proxy_results[] = { "internalError", "clientError", "serverError",
                                             "failureCode", "timeout", "shortCircuited", NULL };

typedef struct {
    struct sockaddr_storage addr;
    bool resolved;
    char pool_key[300];
} server_addr;

#define MAX_WORKERS 256

typedef struct {
    eg_proxy_spec *spec;
    char *state_key;            /* "pipeline/filter", for logs */
    char *pipeline, *filter;    /* the names, for statistics labels */
    /* Per-worker LB state is looked up by these ("pipeline/filter/pool/N", and
     * ".../choose" for candidate selection), so positions survive new versions of an
     * unchanged pool and never alias a pool of another shape. */
    char **pool_state_keys;
    char *choose_state_key;
    /* The states found, per worker (each worker writes only its own slots). */
    eg_lb_state **pool_states;          /* [pool * MAX_WORKERS + worker] */
    eg_lb_state *choose_states[MAX_WORKERS];
    server_addr **addrs;        /* per pool, per server */
    /* Statistics, bound by the supervisor: per pool, and per server of each pool. */
    eg_stat_set **pool_stats;
    eg_stat_set ***server_stats;
    /* Per pool with a healthCheck, per server: its health (NULL: the pool is not checked). */
    eg_health_target ***health;
    char **span_names;          /* per pool: spanName, else Easegress's "proxy#<filter>#main" ... */
} proxy_inst;

typedef struct {
    eg_upstream_call call;
    eg_exchange *x;
    proxy_inst *inst;
    const eg_pool_spec *pool;
    bool accepts_gzip;
    int64_t max_body;
    size_t pool_index, server_index;
    uint64_t start_ns;
    eg_client_span *span;       /* tracing: this call's client span, when sampled */
} proxy_call;

/* Backend names are resolved when the filter is built (on the main thread), never on the
 * request path. */
static void resolve(const eg_upstream *u, server_addr *a)
{
    snprintf(a->pool_key, sizeof a->pool_key, "%s:%u", u->host, u->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", u->port);
    int rc = getaddrinfo(u->host, port, &hints, &res);
    if (rc != 0 || !res) {
        eg_warn("proxy: cannot resolve %s: %s", u->host, gai_strerror(rc));
        return;
    }
    memcpy(&a->addr, res->ai_addr, res->ai_addrlen);
    a->resolved = true;
    freeaddrinfo(res);
}

static void *proxy_create(eg_dec *d, const eg_node *spec_node, const char *pipeline)
{
    eg_proxy_spec *spec = eg_proxy_spec_decode(d, spec_node);
    if (!spec)
        return NULL;
    for (size_t i = 0; i < spec->npools; i++)
        for (size_t j = 0; j < spec->pools[i].nservers; j++)
            if (strcmp(spec->pools[i].servers[j].scheme, "http") != 0) {
                eg_dec_enter(d, "pools");
                eg_dec_enter_index(d, i);
                eg_dec_enter(d, "servers");
                eg_dec_enter_index(d, j);
                eg_dec_fail(d, "url", "%s backends are not implemented yet (only http://)",
                            spec->pools[i].servers[j].scheme);
                eg_proxy_spec_free(spec);
                return NULL;
            }
    proxy_inst *p = calloc(1, sizeof *p);
    p->spec = spec;
    const char *fname = eg_node_str(spec_node, "name");
    size_t n = strlen(pipeline) + strlen(fname ? fname : "") + 2;
    p->state_key = malloc(n);
    snprintf(p->state_key, n, "%s/%s", pipeline, fname ? fname : "");
    p->pipeline = strdup(pipeline);
    p->filter = strdup(fname ? fname : "");
    p->addrs = calloc(spec->npools, sizeof *p->addrs);
    p->pool_state_keys = calloc(spec->npools, sizeof *p->pool_state_keys);
    p->pool_states = calloc(spec->npools * MAX_WORKERS, sizeof *p->pool_states);
    for (size_t i = 0; i < spec->npools; i++) {
        size_t kl = strlen(p->state_key) + 48;
        p->pool_state_keys[i] = malloc(kl);
        snprintf(p->pool_state_keys[i], kl, "%s/pool/%zu/%zu", p->state_key, i, spec->pools[i].nservers);
    }
    size_t cl = strlen(p->state_key) + 16;
    p->choose_state_key = malloc(cl);
    snprintf(p->choose_state_key, cl, "%s/choose", p->state_key);
    p->span_names = calloc(spec->npools, sizeof *p->span_names);
    for (size_t i = 0, candidates = 0; i < spec->npools; i++) {
        const eg_pool_spec *pool = &spec->pools[i];
        size_t sl = strlen(fname ? fname : "") + 48;
        p->span_names[i] = malloc(sl);
        if (pool->span_name && *pool->span_name)
            snprintf(p->span_names[i], sl, "%s", pool->span_name);
        else if (!pool->filter)
            snprintf(p->span_names[i], sl, "proxy#%s#main", fname ? fname : "");
        else
            snprintf(p->span_names[i], sl, "proxy#%s#candidate#%zu", fname ? fname : "", candidates++);
    }
    for (size_t i = 0; i < spec->npools; i++) {
        p->addrs[i] = calloc(spec->pools[i].nservers + 1, sizeof **p->addrs);
        for (size_t j = 0; j < spec->pools[i].nservers; j++)
            resolve(&spec->pools[i].servers[j], &p->addrs[i][j]);
    }
    return p;
}

static void proxy_destroy(void *vp)
{
    proxy_inst *p = vp;
    for (size_t i = 0; i < p->spec->npools; i++) {
        free(p->addrs[i]);
        free(p->pool_state_keys[i]);
        if (p->pool_stats) {
            eg_stat_set_unref(p->pool_stats[i]);
            for (size_t j = 0; j < p->spec->pools[i].nservers; j++)
                eg_stat_set_unref(p->server_stats[i][j]);
            free(p->server_stats[i]);
        }
        for (size_t j = 0; p->health && p->health[i] && j < p->spec->pools[i].nservers; j++)
            eg_health_target_unref(p->health[i][j]);
        if (p->health)
            free(p->health[i]);
        free(p->span_names[i]);
    }
    free(p->health);
    free(p->pool_stats);
    free(p->server_stats);
    free(p->span_names);
    free(p->pool_state_keys);
    free(p->pool_states);
    free(p->choose_state_key);
    free(p->addrs);
    free(p->state_key);
    free(p->pipeline);
    free(p->filter);
    eg_proxy_spec_free(p->spec);
    free(p);
}

/* Pools are named as in Easegress's status: mainPool, candidatePools[i]. */
static void pool_label(const eg_proxy_spec *spec, size_t i, char *out, size_t len)
{
    if (i == spec->main_pool) {
        snprintf(out, len, "mainPool");
        return;
    }
    snprintf(out, len, "candidatePools/%zu", i < spec->main_pool ? i : i - 1);
}

/* Each server of a pool with a healthCheck gets a target on the server's checker, named by
 * the pool, the server and the check, so that an unchanged pool keeps its servers' health
 * across versions. */
static void bind_health(proxy_inst *p, eg_health_checker *hc)
{
    const eg_proxy_spec *spec = p->spec;
    p->health = calloc(spec->npools, sizeof *p->health);
    for (size_t i = 0; i < spec->npools; i++) {
        const eg_pool_spec *pool = &spec->pools[i];
        if (!pool->health_check)
            continue;
        char *check = eg_node_to_json(pool->health_check, false, NULL);
        p->health[i] = calloc(pool->nservers, sizeof **p->health);
        for (size_t j = 0; j < pool->nservers; j++) {
            if (!p->addrs[i][j].resolved)
                continue;
            size_t n = strlen(p->state_key) + strlen(pool->servers[j].url) + strlen(check) + 32;
            char *key = malloc(n);
            snprintf(key, n, "%s/%zu/%s %s", p->state_key, i, pool->servers[j].url, check);
            p->health[i][j] = eg_health_acquire(hc, key, pool->health_check,
                                                (const struct sockaddr *)&p->addrs[i][j].addr,
                                                pool->servers[j].host_header);
            free(key);
        }
        free(check);
    }
}

static void proxy_bind(void *vp, const eg_bind_ctx *ctx)
{
    proxy_inst *p = vp;
    eg_stats_registry *r = ctx->stats;
    const eg_proxy_spec *spec = p->spec;
    if (ctx->health)
        bind_health(p, ctx->health);
    p->pool_stats = calloc(spec->npools, sizeof *p->pool_stats);
    p->server_stats = calloc(spec->npools, sizeof *p->server_stats);
    for (size_t i = 0; i < spec->npools; i++) {
        char label[48], key[1024];
        pool_label(spec, i, label, sizeof label);
        snprintf(key, sizeof key, "Proxy/%s/%s", p->state_key, label);
        eg_stat_labels pool_labels = { "proxy_pool", { "pipeline", "filter", "pool" }, { p->pipeline, p->filter, label } };
        p->pool_stats[i] = eg_stats_acquire(r, key, &pool_labels, false);
        p->server_stats[i] = calloc(spec->pools[i].nservers, sizeof **p->server_stats);
        for (size_t j = 0; j < spec->pools[i].nservers; j++) {
            snprintf(key, sizeof key, "Proxy/%s/%s/%s", p->state_key, label, spec->pools[i].servers[j].url);
            eg_stat_labels server_labels = { "proxy_server",
                                             { "pipeline", "filter", "pool", "server" },
                                             { p->pipeline, p->filter, label, spec->pools[i].servers[j].url } };
            p->server_stats[i][j] = eg_stats_acquire(r, key, &server_labels, false);
        }
    }
}

/* Easegress's {mainPool: {stat}, candidatePools: [{stat}]}, plus each server's figures
 * under `servers` (by URL). */
static eg_node *proxy_status(void *vp)
{
    proxy_inst *p = vp;
    const eg_proxy_spec *spec = p->spec;
    eg_node *st = eg_node_new(EG_NODE_MAP);
    eg_node *candidates = eg_node_new(EG_NODE_SEQ);
    for (size_t i = 0; p->pool_stats && i < spec->npools; i++) {
        eg_node *pool = eg_node_new(EG_NODE_MAP);
        eg_node *stat = eg_node_new(EG_NODE_MAP);
        eg_stat_set_status(p->pool_stats[i], stat);
        eg_node_map_set(pool, "stat", stat);
        eg_node *servers = eg_node_new(EG_NODE_MAP);
        for (size_t j = 0; j < spec->pools[i].nservers; j++) {
            eg_node *ss = eg_node_new(EG_NODE_MAP);
            if (p->health && p->health[i])
                eg_health_target_status(p->health[i][j], ss);
            eg_stat_set_status(p->server_stats[i][j], ss);
            eg_node_map_set(servers, spec->pools[i].servers[j].url, ss);
        }
        eg_node_map_set(pool, "servers", servers);
        if (i == spec->main_pool)
            eg_node_map_set(st, "mainPool", pool);
        else
            eg_node_seq_push(candidates, pool);
    }
    if (candidates->count)
        eg_node_map_set(st, "candidatePools", candidates);
    else
        eg_node_free(candidates);
    return st;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A backend call ended (response head received, or failed): its pool and server count it;
 * latency is the time to the response head. */
static void record_call(proxy_call *pc, int status, int64_t content_length)
{
    proxy_inst *p = pc->inst;
    if (!p->pool_stats)
        return;
    eg_stat_sample sm = {
        .status = status,
        .duration_us = (now_ns() - pc->start_ns) / 1000,
        .req_bytes = pc->call.head.len + pc->call.body_len,
        .resp_bytes = content_length > 0 ? (uint64_t)content_length : 0,
    };
    int w = pc->x->worker->id;
    eg_stat_record(p->pool_stats[pc->pool_index], w, &sm, NULL, 0);
    eg_stat_record(p->server_stats[pc->pool_index][pc->server_index], w, &sm, NULL, 0);
}

static bool is_failure(const eg_pool_spec *pool, int status)
{
    if (!pool->nfailure_codes)
        return status >= 500 && status <= 599;
    for (size_t i = 0; i < pool->nfailure_codes; i++)
        if (pool->failure_codes[i] == status)
            return true;
    return false;
}

static void fail(proxy_call *pc, int status, const char *result, const char *detail)
{
    eg_exchange *x = pc->x;
    char body[160];
    snprintf(body, sizeof body, "%d %s\n", status, eg_status_reason(status));
    eg_debug("proxy %s: %s (%s)", pc->inst->state_key, result, detail ? detail : "");
    eg_response_error(x->arena, eg_x_resp(x), status, body);
    eg_flow_resume(x, result);
}

static bool header_is(const eg_header *h, const char *name)
{
    size_t n = strlen(name);
    return h->name_len == n && strncasecmp(h->name, name, n) == 0;
}

static void on_response(eg_upstream_call *call, int status, eg_headers *headers, int64_t content_length, eg_body_stream *body)
{
    proxy_call *pc = (proxy_call *)call;
    record_call(pc, status, content_length);
    eg_exchange *x = pc->x;
    eg_response *resp = eg_x_resp(x);
    eg_client_span_end(pc->span, status, call->retried, NULL);
    if (pc->max_body > 0 && content_length > pc->max_body) {
        /* Too big to take (serverMaxBodySize): Easegress's internalError, 500. */
        body->abort(body);
        char detail[64];
        snprintf(detail, sizeof detail, "response body of %lld bytes", (long long)content_length);
        fail(pc, 500, "internalError", detail);
        return;
    }
    if (resp->stream) {
        eg_body_stream *old = resp->stream;
        resp->stream = NULL;
        old->abort(old);
    }
    /* A response already in the namespace (say, from CORSAdaptor) keeps its headers; the
     * backend's are added, Access-Control-* replaced. */
    eg_headers merged = resp->status ? resp->headers : (eg_headers){ 0 };
    bool encoded = false;
    const eg_headers *connection = eg_connection_options(headers);
    for (size_t i = 0; i < headers->count; i++) {
        const eg_header *h = &headers->items[i];
        if (eg_is_hop_header(h->name, h->name_len, connection) || header_is(h, "Content-Length"))
            continue;
        if (header_is(h, "Content-Encoding"))
            encoded = true;
        if (resp->status && h->name_len > 15 && strncasecmp(h->name, "Access-Control-", 15) == 0)
            eg_headers_set(x->arena, &merged, h->name, h->name_len, h->value, h->value_len);
        else
            eg_headers_add_kept(x->arena, &merged, h); /* parsed into x->arena (pc->call.arena) */
    }
    resp->status = status;
    resp->headers = merged;
    resp->body = NULL;
    resp->body_len = 0;
    resp->stream = body;
    resp->content_length = content_length;

    const eg_proxy_spec *spec = pc->inst->spec;
    if (spec->compression && pc->accepts_gzip && !encoded && content_length != 0 &&
        (content_length < 0 || content_length >= (int64_t)spec->compression_min_length) && status >= 200 &&
        status != 204 && status != 304) {
        resp->stream = eg_gzip_stream_new(x->arena, body);
        resp->content_length = -1;
        eg_headers_sets(x->arena, &resp->headers, "Content-Encoding", "gzip");
        eg_headers_add(x->arena, &resp->headers, "Vary", 4, "Accept-Encoding", 15);
    }
    eg_flow_resume(x, is_failure(pc->pool, status) ? "failureCode" : "");
}

static void on_error(eg_upstream_call *call, eg_upstream_error err, const char *detail)
{
    proxy_call *pc = (proxy_call *)call;
    record_call(pc, err == EG_UPSTREAM_TIMEOUT ? 504 : 502, 0);
    eg_client_span_end(pc->span, 0, call->retried, err == EG_UPSTREAM_TIMEOUT ? "timeout" : detail);
    switch (err) {
    case EG_UPSTREAM_TIMEOUT:
        fail(pc, 504, "timeout", detail);
        break;
    default:
        fail(pc, 502, "serverError", detail);
        break;
    }
}

static void on_client_abort(eg_exchange *x)
{
    proxy_call *pc = x->abort_ud;
    eg_upstream_cancel(&pc->call);
    eg_flow_resume(x, "clientError");
}

static bool accepts_gzip(const eg_request *req)
{
    for (size_t i = 0; i < req->headers.count; i++) {
        const eg_header *h = &req->headers.items[i];
        if (header_is(h, "Accept-Encoding") && memmem(h->value, h->value_len, "gzip", 4))
            return true;
    }
    return false;
}

/* The request head as the backend gets it: headers re-serialised, never passed raw. */
/* Appending into a buffer sized beforehand (no printf, no reallocation). */
typedef struct {
    char *p;
} out_cursor;

static void put(out_cursor *o, const char *s, size_t n)
{
    memcpy(o->p, s, n);
    o->p += n;
}

static void puts_(out_cursor *o, const char *s) { put(o, s, strlen(s)); }

static void put_u64(out_cursor *o, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *o->p++ = tmp[--n];
}

/* The request head as the backend gets it: headers re-serialised, never passed raw. */
static uv_buf_t build_head(eg_exchange *x, const eg_request *req, const eg_pool_spec *pool, const eg_upstream *u,
                           const uint8_t *span_id)
{
    const char *method = req->method ? req->method : "GET";
    const char *prefix = u->path_prefix ? u->path_prefix : "";
    const char *path = req->path && *req->path ? req->path : "/";
    /* Host: the client's when the server is an IP or keepHost, else the server's;
     * setUpstreamHost forces the server's (Easegress's rules, issues #447/#1245). */
    const char *host = (u->host_is_ip || u->keep_host) && req->host && *req->host ? req->host : u->host_header;
    if (pool->set_upstream_host && !u->keep_host)
        host = u->host_header;
    const char *scheme = req->scheme ? req->scheme : "http";

    size_t cap = strlen(method) + strlen(prefix) + strlen(path) + (req->query ? strlen(req->query) + 1 : 0) +
                 strlen(host) + strlen(scheme) + 128 + (x->tracing ? EG_TRACE_HEADER_MAX : 0);
    for (size_t i = 0; i < req->headers.count; i++)
        cap += req->headers.items[i].name_len + req->headers.items[i].value_len + 4;
    out_cursor o = { eg_arena_alloc(x->arena, cap) };
    char *start = o.p;

    puts_(&o, method);
    put(&o, " ", 1);
    puts_(&o, prefix);
    puts_(&o, path);
    if (req->query) {
        put(&o, "?", 1);
        puts_(&o, req->query);
    }
    put(&o, " HTTP/1.1\r\nHost: ", 17);
    puts_(&o, host);
    put(&o, "\r\n", 2);
    bool has_proto = false;
    const eg_headers *connection = eg_connection_options(&req->headers);
    for (size_t i = 0; i < req->headers.count; i++) {
        const eg_header *h = &req->headers.items[i];
        if (header_is(h, "Host") || header_is(h, "Content-Length") || header_is(h, "Expect") ||
            eg_is_hop_header(h->name, h->name_len, connection) ||
            (x->tracing && eg_trace_is_context_header(x->tracing, h->name, h->name_len)))
            continue;
        if (header_is(h, "X-Forwarded-Proto"))
            has_proto = true;
        put(&o, h->name, h->name_len);
        put(&o, ": ", 2);
        put(&o, h->value, h->value_len);
        put(&o, "\r\n", 2);
    }
    if (x->tracing) /* the trace context, with this call's span as the backend's parent */
        o.p += eg_trace_format_header(x->tracing, span_id, o.p);
    if (!has_proto) {
        put(&o, "X-Forwarded-Proto: ", 19);
        puts_(&o, scheme);
        put(&o, "\r\n", 2);
    }
    bool body_method = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
    if (req->body_len || body_method) {
        put(&o, "Content-Length: ", 16);
        put_u64(&o, req->body_len);
        put(&o, "\r\n", 2);
    }
    put(&o, "\r\n", 2);
    return uv_buf_init(start, (unsigned)(o.p - start));
}

static eg_filter_status proxy_handle(void *vp, eg_exchange *x, const char **result)
{
    proxy_inst *p = vp;
    const eg_proxy_spec *spec = p->spec;
    eg_request *req = eg_x_req(x);
    if (!req->method) /* a namespace nobody built a request in: use the client's */
        *req = *x->ns[0].req;
    eg_worker *w = x->worker;
    eg_lb_request lr = {
        .client_ip = req->client_ip,
        .headers = &req->headers,
        .method = req->method,
        .method_len = strlen(req->method),
        .path = req->path,
        .path_len = strlen(req->path),
    };
    size_t pi = spec->main_pool;
    if (spec->npools > 1) {
        /* Pool filters match the decoded path, as Easegress's do. */
        char *decoded = eg_arena_alloc(x->arena, lr.path_len + 1);
        long n = eg_path_normalize(req->path, lr.path_len, decoded);
        if (n >= 0) {
            lr.path = decoded;
            lr.path_len = (size_t)n;
        }
        eg_lb_state **cst = &p->choose_states[w->id % MAX_WORKERS];
        if (!*cst)
            *cst = eg_worker_state(w, p->choose_state_key, sizeof(eg_lb_state));
        pi = eg_proxy_choose_pool(spec, &lr, *cst);
    }
    const eg_pool_spec *pool = &spec->pools[pi];
    eg_lb_state **st = &p->pool_states[pi * MAX_WORKERS + (size_t)w->id % MAX_WORKERS];
    if (!*st)
        *st = eg_worker_state(w, p->pool_state_keys[pi], sizeof(eg_lb_state));
    bool *healthy = NULL;
    if (p->health && p->health[pi]) {
        healthy = eg_arena_alloc(x->arena, pool->nservers * sizeof *healthy);
        for (size_t j = 0; j < pool->nservers; j++)
            healthy[j] = eg_health_ok(p->health[pi][j]);
    }
    int si = eg_lb_pick(pool, *st, &lr, healthy);
    if (si < 0 || !p->addrs[pi][si].resolved) {
        eg_response_error(x->arena, eg_x_resp(x), 503, "503 Service Unavailable\n");
        *result = "internalError";
        return EG_FILTER_DONE;
    }
    const eg_upstream *u = &pool->servers[si];
    int64_t max_body = pool->server_max_body_size ? pool->server_max_body_size : spec->server_max_body_size;

    proxy_call *pc = eg_arena_alloc(x->arena, sizeof *pc);
    memset(pc, 0, sizeof *pc);
    pc->x = x;
    pc->inst = p;
    pc->pool = pool;
    pc->accepts_gzip = spec->compression && accepts_gzip(req);
    pc->pool_index = pi;
    pc->server_index = (size_t)si;
    pc->start_ns = p->pool_stats ? now_ns() : 0;
    pc->call.addr = (const struct sockaddr *)&p->addrs[pi][si].addr;
    pc->call.pool_key = p->addrs[pi][si].pool_key;
    uint8_t span_id[8] = { 0 };
    if (x->tracing) {
        const char *target = req->path && *req->path ? req->path : "/";
        if (x->tracing->sampled && u->path_prefix && *u->path_prefix) {
            size_t n = strlen(u->path_prefix) + strlen(target) + 1;
            char *t = eg_arena_alloc(x->arena, n);
            snprintf(t, n, "%s%s", u->path_prefix, target);
            target = t;
        }
        pc->span = eg_trace_client_begin(x->tracing, x->arena, p->span_names[pi], req->method, "http", u->host, u->port,
                                         target, req->query, span_id);
    }
    pc->call.head = build_head(x, req, pool, u, span_id);
    pc->call.body = req->body;
    pc->call.body_len = req->body_len;
    pc->call.head_method = !strcmp(req->method, "HEAD");
    pc->call.timeout_ms = pool->timeout_ms > 0 ? (uint64_t)pool->timeout_ms : 0;
    pc->call.max_idle = spec->max_idle_conns_per_host;
    pc->call.max_body = max_body; /* -1: no limit */
    pc->max_body = max_body;
    pc->call.arena = x->arena;
    pc->call.on_response = on_response;
    pc->call.on_error = on_error;
    x->on_abort = on_client_abort;
    x->abort_ud = pc;
    eg_upstream_start(w->upstreams, &pc->call);
    return EG_FILTER_PENDING;
}

const eg_filter_kind eg_proxy_kind = {
    .name = "Proxy",
    .description = "Proxy sends the request to a backend chosen from its server pools and "
                   "returns the backend's response.",
    .results = proxy_results,
    .create = proxy_create,
    .destroy = proxy_destroy,
    .handle = proxy_handle,
    .bind = proxy_bind,
    .status = proxy_status,
};
