/* lua_http.c — eg.http.request: a backend call from Lua that yields the request's coroutine
 * instead of blocking the worker. It goes through the worker's upstream pools, so keep-alive
 * connections are shared with the Proxy filter. */
#include <arpa/inet.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "lua_api.h"
#include "tracing.h"
#include "upstream.h"
#include "url.h"
#include "worker.h"

typedef struct {
    eg_lua_wait wait;
    eg_upstream_call call;
    uv_getaddrinfo_t gai;
    uv_timer_t timer;
    eg_worker *worker;
    eg_arena arena;              /* response headers */
    char host[256];
    char port[8];
    char pool_key[300];
    struct sockaddr_storage addr;
    eg_buf head;
    char *body;
    size_t body_len;
    int status;
    eg_headers headers;
    eg_body_sink sink;
    eg_body_stream *stream;
    eg_buf collected;
    const char *error;
    bool gai_pending, in_call, timer_closed, finished;
    eg_client_span *span;        /* tracing: the call's client span (in the request's arena) */
} http_op;

static void op_free_if_idle(http_op *op)
{
    if (op->gai_pending || !op->timer_closed)
        return;
    eg_arena_free(&op->arena);
    eg_buf_free(&op->head);
    eg_buf_free(&op->collected);
    free(op->body);
    free(op);
}

static void timer_closed(uv_handle_t *h)
{
    http_op *op = h->data;
    op->timer_closed = true;
    op_free_if_idle(op);
}

/* Stop everything still running for this call. */
static void stop_io(http_op *op)
{
    if (op->in_call) {
        op->in_call = false;
        eg_upstream_cancel(&op->call);
    }
    if (op->stream) {
        eg_body_stream *s = op->stream;
        op->stream = NULL;
        s->abort(s);
    }
    if (op->gai_pending)
        uv_cancel((uv_req_t *)&op->gai);
    if (!uv_is_closing((uv_handle_t *)&op->timer))
        uv_close((uv_handle_t *)&op->timer, timer_closed);
}

static int push_result(lua_State *co, void *ud)
{
    http_op *op = ud;
    if (op->error) {
        lua_pushnil(co);
        lua_pushstring(co, op->error);
        return 2;
    }
    lua_createtable(co, 0, 3);
    lua_pushinteger(co, op->status);
    lua_setfield(co, -2, "status");
    lua_pushlstring(co, op->collected.data ? op->collected.data : "", op->collected.len);
    lua_setfield(co, -2, "body");
    lua_createtable(co, 0, (int)op->headers.count);
    for (size_t i = 0; i < op->headers.count; i++) {
        const eg_header *h = &op->headers.items[i];
        lua_pushlstring(co, h->name, h->name_len);
        lua_rawget(co, -2);
        if (lua_isnil(co, -1)) {
            lua_pop(co, 1);
            lua_pushlstring(co, h->name, h->name_len);
            lua_pushlstring(co, h->value, h->value_len);
        } else {
            lua_pushliteral(co, ", ");
            lua_pushlstring(co, h->value, h->value_len);
            lua_concat(co, 3);
            lua_pushlstring(co, h->name, h->name_len);
            lua_insert(co, -2);
        }
        lua_rawset(co, -3);
    }
    lua_setfield(co, -2, "headers");
    return 1;
}

static void finish(http_op *op, const char *error)
{
    if (op->finished)
        return;
    op->finished = true;
    if (error)
        op->error = error;
    eg_client_span_end(op->span, op->error ? 0 : op->status, op->call.retried, op->error);
    op->span = NULL;
    stop_io(op);
    eg_lua_wait_end(&op->wait, push_result, op);
}

static void cancel(eg_lua_wait *w)
{
    http_op *op = (http_op *)w;
    op->finished = true;
    op->span = NULL; /* the request is ending: its trace closes the span as aborted */
    stop_io(op);
}

static bool body_write(eg_body_sink *s, const char *data, size_t len)
{
    http_op *op = (http_op *)((char *)s - offsetof(http_op, sink));
    eg_buf_append(&op->collected, data, len);
    return true;
}

static void body_end(eg_body_sink *s, int error)
{
    http_op *op = (http_op *)((char *)s - offsetof(http_op, sink));
    op->stream = NULL;
    finish(op, error ? "the response body broke off" : NULL);
}

static void on_response(eg_upstream_call *call, int status, eg_headers *headers, int64_t len, eg_body_stream *body)
{
    http_op *op = (http_op *)((char *)call - offsetof(http_op, call));
    (void)len;
    op->in_call = false;
    op->status = status;
    op->headers = *headers;
    op->stream = body;
    op->sink.write = body_write;
    op->sink.end = body_end;
    body->attach(body, &op->sink);
}

static void on_error(eg_upstream_call *call, eg_upstream_error err, const char *detail)
{
    http_op *op = (http_op *)((char *)call - offsetof(http_op, call));
    op->in_call = false;
    (void)detail;
    finish(op, err == EG_UPSTREAM_TIMEOUT ? "timeout" : err == EG_UPSTREAM_CONNECT_FAILED ? "connection refused"
                                                                                          : "connection failed");
}

static void on_timeout(uv_timer_t *t)
{
    http_op *op = t->data;
    finish(op, op->error ? op->error : "timeout");
}

static void start_call(http_op *op)
{
    op->call.addr = (const struct sockaddr *)&op->addr;
    op->call.pool_key = op->pool_key;
    op->call.head = uv_buf_init(op->head.data, (unsigned)op->head.len);
    op->call.body = op->body;
    op->call.body_len = op->body_len;
    op->call.max_idle = 64;
    op->call.arena = &op->arena;
    op->call.on_response = on_response;
    op->call.on_error = on_error;
    op->in_call = true;
    eg_upstream_start(op->worker->upstreams, &op->call);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    http_op *op = req->data;
    op->gai_pending = false;
    if (op->finished) {
        uv_freeaddrinfo(res);
        op_free_if_idle(op);
        return;
    }
    if (status < 0 || !res) {
        uv_freeaddrinfo(res);
        finish(op, "cannot resolve host");
        return;
    }
    memcpy(&op->addr, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    start_call(op);
}

/* http://host[:port]/path?query -> host, port, target ("/path?query"). */
static const char *parse_url(const char *url, http_op *op, const char **target)
{
    if (strncmp(url, "https://", 8) == 0)
        return "https is not supported by eg.http.request yet";
    if (strncmp(url, "http://", 7) != 0)
        return "the url must start with http://";
    eg_url_parts u;
    const char *why = eg_url_split(url, false, &u);
    if (why)
        return why;
    if (u.host_len >= sizeof op->host)
        return "bad host in url";
    memcpy(op->host, u.host, u.host_len);
    op->host[u.host_len] = 0;
    snprintf(op->port, sizeof op->port, "%u", (unsigned)(uint16_t)(u.port > 0 ? u.port : 80));
    snprintf(op->pool_key, sizeof op->pool_key, "%s:%s", op->host, op->port);
    *target = *u.rest == '/' || *u.rest == '?' ? u.rest : "/";
    return NULL;
}

/* http_request(x, method, url, headers, body, timeout_ms) -> "wait" | nil, err
 * x may be nil outside a request in the spec runner: the call then blocks, running the loop
 * until it is done, and returns the response (or nil, err) directly. */
int eg_lua_http_request(lua_State *L)
{
    eg_exchange *x = lua_isnil(L, 1) ? NULL : eg_lua_check_x(L);
    const char *method = luaL_optstring(L, 2, "GET");
    const char *url = luaL_checkstring(L, 3);
    size_t body_len = 0;
    const char *body = luaL_optlstring(L, 5, NULL, &body_len);
    lua_Number timeout = luaL_optnumber(L, 6, 60000);
    if (strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(method) || !*method)
        return luaL_error(L, "invalid method %s", method);
    /* The blocking exchange only after the argument checks: their errors unwind past us. */
    if (!x)
        x = eg_lua_blocking_exchange(L);

    http_op *op = calloc(1, sizeof *op);
    op->worker = x->worker;
    eg_arena_init(&op->arena, 2048);
    const char *target = "/";
    const char *why = parse_url(url, op, &target);
    if (why) {
        eg_arena_free(&op->arena);
        free(op);
        if (x->block_L) {
            eg_arena *a = x->arena;
            eg_arena_free(a);
            free(a);
        }
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    bool literal = false;
    struct sockaddr_in *sin = (struct sockaddr_in *)&op->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&op->addr;
    if (inet_pton(AF_INET, op->host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)atoi(op->port));
        literal = true;
    } else if (inet_pton(AF_INET6, op->host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)atoi(op->port));
        literal = true;
    }

    bool has_host = false, has_trace_header = false;
    eg_buf_printf(&op->head, "%s %s HTTP/1.1\r\n", method, target);
    if (lua_istable(L, 4)) {
        lua_pushnil(L);
        while (lua_next(L, 4)) {
            size_t nl, vl;
            const char *n = lua_tolstring(L, -2, &nl);
            const char *v = lua_tolstring(L, -1, &vl);
            if (n && v && !memchr(v, '\r', vl) && !memchr(v, '\n', vl) && strcspn(n, " :\r\n") == nl) {
                if (nl == 4 && strncasecmp(n, "Host", 4) == 0)
                    has_host = true;
                if (x->tracing && eg_trace_is_context_header(x->tracing, n, nl))
                    has_trace_header = true;
                if (!(nl == 14 && strncasecmp(n, "Content-Length", 14) == 0))
                    eg_buf_printf(&op->head, "%.*s: %.*s\r\n", (int)nl, n, (int)vl, v);
            }
            lua_pop(L, 1);
        }
    }
    if (!has_host)
        eg_buf_printf(&op->head, "Host: %s%s%s\r\n", op->host, strcmp(op->port, "80") ? ":" : "",
                      strcmp(op->port, "80") ? op->port : "");
    /* The request's trace goes on, unless the filter set the context header itself. */
    if (x->tracing && !has_trace_header) {
        uint8_t span_id[8];
        char line[EG_TRACE_HEADER_MAX];
        const char *q = strchr(target, '?');
        char *path = q ? eg_arena_strndup(x->arena, target, (size_t)(q - target)) : (char *)target;
        /* method is a Lua string that may be collected while the call waits: copy it */
        const char *m = x->tracing->sampled ? eg_arena_strndup(x->arena, method, strlen(method)) : method;
        op->span = eg_trace_client_begin(x->tracing, x->arena, "eg.http.request", m, "http", op->host,
                                         (uint16_t)atoi(op->port), path, q ? q + 1 : NULL, span_id);
        eg_buf_append(&op->head, line, eg_trace_format_header(x->tracing, span_id, line));
    }
    if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
        eg_buf_printf(&op->head, "Content-Length: %zu\r\n", body_len);
    eg_buf_append(&op->head, "\r\n", 2);
    if (body_len) {
        op->body = malloc(body_len);
        memcpy(op->body, body, body_len);
        op->body_len = body_len;
    }
    op->call.head_method = strcmp(method, "HEAD") == 0;
    op->call.timeout_ms = timeout > 0 ? (uint64_t)timeout : 0;

    op->wait.cancel = cancel;
    eg_lua_wait_begin(L, x, &op->wait);
    uv_loop_t *loop = eg_lua_loop(L);
    uv_timer_init(loop, &op->timer);
    op->timer.data = op;
    if (timeout > 0) {
        uv_update_time(loop);
        uv_timer_start(&op->timer, on_timeout, (uint64_t)timeout, 0);
    }
    if (literal) {
        start_call(op);
    } else {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        op->gai.data = op;
        op->gai_pending = true;
        int rc = uv_getaddrinfo(loop, &op->gai, on_resolved, op->host, op->port, &hints);
        if (rc < 0) {
            op->gai_pending = false;
            op->error = "cannot resolve host";
            /* Report from the loop, never from inside the caller's frame. */
            uv_timer_start(&op->timer, on_timeout, 0, 0);
        }
    }
    if (x->block_L)
        return eg_lua_blocking_wait(L, x);
    lua_pushliteral(L, "wait");
    return 1;
}
