#include "gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "log.h"
#include "lua_vm.h"
#include "stats.h"
#include "route_cache.h"
#include "tracing.h"
#include "worker.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const eg_httpserver_spec *server_spec(const eg_snapshot *s, const char *name)
{
    const eg_server_obj *o = eg_strmap_get(&s->servers, name, strlen(name));
    return o ? o->spec : NULL;
}

static void route_input(const eg_request *req, eg_route_request *rr)
{
    rr->method = req->method;
    rr->method_len = strlen(req->method);
    rr->host = req->host;
    rr->host_len = strlen(req->host);
    rr->path = req->path;
    rr->path_len = strlen(req->path);
    rr->query = req->query;
    rr->query_len = req->query ? strlen(req->query) : 0;
    rr->headers = &req->headers;
    rr->client_ip = req->client_ip;
}

static int64_t body_limit(void *ud, const eg_request *req)
{
    eg_gateway_ud *g = ud;
    const eg_httpserver_spec *spec = server_spec(g->worker->snap, g->server_name);
    if (!spec)
        return 0;
    int64_t limit = spec->client_max_body_size;
    eg_route_request rr;
    route_input(req, &rr);
    eg_route_match m = { 0 };
    if (eg_route_cache_match(&g->route_cache, spec->router, &rr, &m) == 0 && m.path->client_max_body_size)
        limit = m.path->client_max_body_size;
    eg_route_match_release(&m);
    return limit < 0 ? -1 : limit;
}

static void release(eg_exchange *x)
{
    if ((x->lua_ref || x->lua_handle) && x->worker->lua)
        eg_lua_vm_release(x->worker->lua, x);
    /* Streams no one will read (responses of other namespaces) must let go of their
     * connections. */
    for (size_t i = 0; i < x->nns; i++) {
        eg_response *r = x->ns[i].resp;
        if (r->stream) {
            eg_body_stream *s = r->stream;
            r->stream = NULL;
            s->abort(s);
        }
    }
    eg_buf_free(&x->tags);
    eg_worker_unpin(x->worker, x->snap);
    eg_arena_pool_put(&x->worker->arenas, x->arena);
}

static void answer(eg_exchange *x, int status)
{
    eg_response *resp = x->ns[0].resp;
    char body[64];
    snprintf(body, sizeof body, "%d %s\n", status, eg_status_reason(status));
    eg_response_error(x->arena, resp, status, body);
    eg_http1_respond(x->conn, resp);
}

/* The next stage of a GlobalFilter (before -> pipeline -> after), with Easegress's
 * fallthrough rules; false when there is none to run. */
static bool next_stage(eg_exchange *x)
{
    const eg_globalfilter *g = x->gf;
    if (x->gf_stage == 0) {
        if (x->flow_ended && !g->fallthrough_before)
            return false;
        x->gf_stage = 1;
        x->pipeline = x->main_pipeline;
        return true;
    }
    if (x->gf_stage == 1 && g->after) {
        if (x->flow_ended && !g->fallthrough_pipeline)
            return false;
        x->gf_stage = 2;
        x->pipeline = g->after;
        return true;
    }
    return false;
}

static void flow_done(eg_exchange *x)
{
    if (x->aborted || !x->conn) {
        release(x);
        return;
    }
    if (x->gf && next_stage(x)) {
        eg_flow_start(x);
        return;
    }
    eg_response *resp = x->ns[0].resp;
    for (size_t i = 1; i < x->nns; i++) {
        eg_response *r = x->ns[i].resp;
        if (r->stream) {
            eg_body_stream *s = r->stream;
            r->stream = NULL;
            s->abort(s);
        }
    }
    if (!resp->status) {
        answer(x, 503); /* the pipeline left no response */
        return;
    }
    eg_http1_respond(x->conn, resp);
}

static void append_forwarded_for(eg_arena *a, eg_request *req)
{
    const eg_header *h = eg_headers_find(&req->headers, "X-Forwarded-For", 15);
    if (!h) {
        eg_headers_add(a, &req->headers, "X-Forwarded-For", 15, req->peer_ip, strlen(req->peer_ip));
        return;
    }
    size_t n = h->value_len + 2 + strlen(req->peer_ip);
    char *v = eg_arena_alloc(a, n + 1);
    snprintf(v, n + 1, "%.*s, %s", (int)h->value_len, h->value, req->peer_ip);
    eg_headers_set(a, &req->headers, "X-Forwarded-For", 15, v, n);
}

static void handle(void *ud, eg_http1_conn *conn, eg_request *req, eg_arena *arena)
{
    eg_gateway_ud *g = ud;
    eg_worker *w = g->worker;
    eg_exchange *x = eg_arena_alloc(arena, sizeof *x);
    memset(x, 0, sizeof *x);
    x->arena = arena;
    x->worker = w;
    x->conn = conn;
    x->snap = eg_worker_pin(w);
    x->server_name = g->server_name;
    x->flow_done = flow_done;
    x->start_ns = now_ns();
    eg_http1_set_pending(conn, x);
    eg_namespace *def = eg_exchange_namespace(x, "DEFAULT");
    def->req = req;
    x->cur = 0;
    w->requests++;

    if (g->cache_generation != x->snap->generation) {
        g->cache_generation = x->snap->generation;
        g->cached_server = eg_strmap_get(&x->snap->servers, g->server_name, strlen(g->server_name));
        g->cached_route = g->cached_pipeline = NULL;
        const eg_server_obj *so = g->cached_server;
        g->cached_globalfilter = so && so->spec->global_filter
                                     ? eg_strmap_get(&x->snap->globalfilters, so->spec->global_filter,
                                                     strlen(so->spec->global_filter))
                                     : NULL;
    }
    const eg_server_obj *o = g->cached_server;
    if (!o) {
        answer(x, 503);
        return;
    }
    const eg_httpserver_spec *spec = o->spec;
    x->server_spec = spec;
    x->server_stats = o->stats;
    /* The client IP is the peer's (set by the connection) unless proxies are trusted. */
    if (spec->trusted_proxies.count)
        eg_client_ip(req->peer_ip, &req->headers, &spec->trusted_proxies, req->client_ip, sizeof req->client_ip);
    if (spec->tracing)
        x->tracing = eg_trace_begin(arena, spec->tracing, g->server_name, req);

    eg_route_request rr;
    route_input(req, &rr);
    eg_route_match m = { 0 };
    int status = eg_route_cache_match(&g->route_cache, spec->router, &rr, &m);
    if (status) {
        answer(x, status);
        return;
    }
    /* RadixTree {param}s: for setHeaders now, for Lua (ctx:path_param) later */
    x->captures = eg_route_captures_dup(arena, &m.captures);
    eg_set_headers_apply(m.path->set_headers, arena, req, x->captures); /* before the rewrite, as Easegress */
    /* After matching and setHeaders, as Easegress: they see the header as the client sent it. */
    if (spec->x_forwarded_for)
        append_forwarded_for(arena, req);
    if (m.rewritten_path)
        req->path = eg_arena_strndup(arena, m.rewritten_path, strlen(m.rewritten_path));
    eg_route_match_release(&m);
    const eg_pipeline *p;
    if (g->cached_route == m.path) {
        p = g->cached_pipeline;
    } else {
        p = eg_strmap_get(&x->snap->pipelines, m.path->backend, strlen(m.path->backend));
        g->cached_route = m.path;
        g->cached_pipeline = p;
    }
    if (!p) {
        answer(x, 503);
        return;
    }
    x->pipeline = p;
    x->routed = p;
    if (x->tracing)
        eg_trace_set_pipeline(x->tracing, m.path->backend);
    /* GlobalFilter (only for requests that matched a route, as in Easegress). */
    const eg_globalfilter *gf = g->cached_globalfilter;
    if (gf) {
        x->gf = gf;
        x->main_pipeline = p;
        x->gf_stage = gf->before ? 0 : 1;
        if (gf->before)
            x->pipeline = gf->before;
    }
    eg_flow_start(x);
}

/* Every request that got an answer (or whose client left: 499) counts for its server, and
 * for the pipeline its route named. */
static void record_stats(eg_exchange *x, int status, uint64_t resp_bytes)
{
    if (!x->server_stats)
        return;
    const eg_request *req = x->ns[0].req;
    eg_stat_sample sm = {
        .status = status,
        .duration_us = (now_ns() - x->start_ns) / 1000,
        .req_bytes = eg_request_size(req),
        .resp_bytes = x->ns[0].resp->head_bytes + resp_bytes,
    };
    int w = x->worker->id;
    /* Top-N counts the path as the client sent it, before any rewrite. */
    const char *path = req->target_path ? req->target_path : req->path;
    eg_stat_record(x->server_stats, w, &sm, path, strlen(path));
    if (x->routed)
        eg_stat_record(x->routed->stats, w, &sm, NULL, 0);
}

static void abort_exchange(void *ud, void *pending)
{
    (void)ud;
    eg_exchange *x = pending;
    eg_access_log_request(&x->worker->access_log, x, 499, 0);
    record_stats(x, 499, 0);
    if (x->tracing)
        eg_trace_end(x->tracing, x->worker, 499);
    x->aborted = true;
    x->conn = NULL;
    if (x->on_abort) {
        void (*cb)(eg_exchange *) = x->on_abort;
        x->on_abort = NULL;
        cb(x); /* the pending filter stops; the flow then ends in flow_done */
        return;
    }
    release(x);
}

static void finished(void *ud, void *pending, int error, uint64_t body_bytes)
{
    (void)ud;
    eg_exchange *x = pending;
    int status = x->ns[0].resp->status;
    if (error && !status)
        status = 499;
    eg_access_log_request(&x->worker->access_log, x, status, body_bytes);
    record_stats(x, status, body_bytes);
    if (x->tracing)
        eg_trace_end(x->tracing, x->worker, status);
    release(x);
}

const eg_http1_hooks eg_gateway_hooks = {
    .body_limit = body_limit,
    .handle = handle,
    .abort = abort_exchange,
    .finished = finished,
};
