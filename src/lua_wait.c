/* lua_wait.c — what a request's coroutine can wait for: time, a streamed response body,
 * and (lua_http.c) a backend call. One wait per coroutine at a time; a request has several
 * coroutines when it spawned tasks. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "lua_api.h"
#include "worker.h"

void eg_lua_wait_begin(lua_State *L, eg_exchange *x, eg_lua_wait *w)
{
    for (eg_lua_wait *o = x->lua_waits; o; o = o->next)
        if (o->co == L)
            luaL_error(L, "this coroutine already waits for something");
    w->x = x;
    w->co = L;
    lua_pushthread(L);
    w->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    w->next = x->lua_waits;
    x->lua_waits = w;
}

static void unlink_wait(eg_exchange *x, eg_lua_wait *w)
{
    for (eg_lua_wait **pp = (eg_lua_wait **)&x->lua_waits; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    w->next = NULL;
    w->x = NULL;
}

bool eg_lua_wait_end(eg_lua_wait *w, int (*push)(lua_State *co, void *ud), void *ud)
{
    eg_exchange *x = w->x;
    if (!x)
        return false;
    unlink_wait(x, w);
    lua_State *co = w->co;
    int ref = w->co_ref;
    w->co_ref = LUA_NOREF;
    eg_lua_wait_complete(x, co, push, ud); /* may end the exchange */
    luaL_unref(co, LUA_REGISTRYINDEX, ref);
    return true;
}

eg_exchange *eg_lua_blocking_exchange(lua_State *L)
{
    eg_worker *w = eg_lua_vm_worker(eg_lua_vm_of(L));
    if (!w || !w->inline_mode)
        luaL_error(L, "this call needs a request: outside one it is only available in specs");
    eg_arena *a = malloc(sizeof *a);
    eg_arena_init(a, 1024);
    eg_exchange *x = eg_arena_alloc(a, sizeof *x);
    memset(x, 0, sizeof *x);
    x->arena = a;
    x->worker = w;
    x->block_L = L;
    return x;
}

int eg_lua_blocking_wait(lua_State *L, eg_exchange *x)
{
    eg_worker *w = x->worker;
    while (!x->block_done)
        uv_run(&w->loop, UV_RUN_ONCE);
    int n = x->block_nresults;
    eg_arena *a = x->arena;
    eg_arena_free(a);
    free(a);
    (void)L;
    return n;
}

void eg_lua_api_cancel_wait(eg_exchange *x)
{
    while (x->lua_waits) {
        eg_lua_wait *w = x->lua_waits;
        lua_State *co = w->co;
        int ref = w->co_ref;
        unlink_wait(x, w);
        w->cancel(w);
        luaL_unref(co, LUA_REGISTRYINDEX, ref);
    }
}

/* ---- eg.sleep ---- */

typedef struct {
    eg_lua_wait wait;
    uv_timer_t timer;
} sleep_op;

static void sleep_closed(uv_handle_t *h) { free(h->data); }

static void sleep_cancel(eg_lua_wait *w)
{
    sleep_op *op = (sleep_op *)w;
    uv_close((uv_handle_t *)&op->timer, sleep_closed);
}

static int push_true(lua_State *co, void *ud)
{
    (void)ud;
    lua_pushboolean(co, 1);
    return 1;
}

static void sleep_done(uv_timer_t *t)
{
    sleep_op *op = t->data;
    eg_lua_wait_end(&op->wait, push_true, NULL);
    uv_close((uv_handle_t *)&op->timer, sleep_closed);
}

static int api_sleep_start(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    lua_Number ms = luaL_checknumber(L, 2);
    sleep_op *op = calloc(1, sizeof *op);
    op->wait.cancel = sleep_cancel;
    eg_lua_wait_begin(L, x, &op->wait);
    uv_loop_t *loop = eg_lua_loop(L);
    uv_timer_init(loop, &op->timer);
    op->timer.data = op;
    /* The loop's clock is cached per iteration; filters may have run a while since. */
    uv_update_time(loop);
    uv_timer_start(&op->timer, sleep_done, ms > 0 ? (uint64_t)ms : 0, 0);
    return 0;
}

static void block_timer_done(uv_timer_t *t) { *(int *)t->data = 1; }

/* Outside a request (busted specs, init code): wait by running the loop. */
static int api_sleep_block(lua_State *L)
{
    lua_Number ms = luaL_checknumber(L, 1);
    uv_loop_t *loop = eg_lua_loop(L);
    if (!loop)
        return luaL_error(L, "eg.sleep is not available here");
    uv_timer_t t;
    int done = 0;
    uv_timer_init(loop, &t);
    t.data = &done;
    uv_update_time(loop);
    uv_timer_start(&t, block_timer_done, ms > 0 ? (uint64_t)ms : 0, 0);
    while (!done)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- reading a streamed response body for a filter that asked for it ---- */

typedef struct {
    eg_lua_wait wait;
    eg_body_sink sink;
    eg_body_stream *stream;
    eg_response *resp;
    eg_buf collected;
    bool failed;
    bool attaching;              /* inside attach(): the coroutine is still running */
    bool ended;
} body_op;

static void body_op_free(body_op *op)
{
    eg_buf_free(&op->collected);
    free(op);
}

static void body_cancel(eg_lua_wait *w)
{
    body_op *op = (body_op *)w;
    eg_body_stream *s = op->stream;
    op->stream = NULL;
    if (s)
        s->abort(s); /* no end() follows an abort */
    body_op_free(op);
}

static bool collect_write(eg_body_sink *s, const char *data, size_t len)
{
    body_op *op = (body_op *)((char *)s - offsetof(body_op, sink));
    eg_buf_append(&op->collected, data, len);
    return true;
}

static int push_body(lua_State *co, void *ud)
{
    body_op *op = ud;
    if (op->failed) {
        lua_pushnil(co);
        lua_pushliteral(co, "the response body broke off");
        return 2;
    }
    lua_pushlstring(co, op->collected.data ? op->collected.data : "", op->collected.len);
    return 1;
}

static void collect_end(eg_body_sink *s, int error)
{
    body_op *op = (body_op *)((char *)s - offsetof(body_op, sink));
    op->stream = NULL;
    op->failed = error != 0;
    op->ended = true;
    eg_exchange *x = op->wait.x;
    if (x && !error) {
        eg_response *r = op->resp;
        r->body = eg_arena_strndup(x->arena, op->collected.data ? op->collected.data : "", op->collected.len);
        r->body_len = op->collected.len;
        r->content_length = (int64_t)op->collected.len;
        eg_headers_del(&r->headers, "Transfer-Encoding", 17);
    }
    if (op->attaching)
        return; /* api_resp_read_body answers without yielding */
    eg_lua_wait_end(&op->wait, push_body, op);
    body_op_free(op);
}

/* Returns "wait" (the caller yields), or "done" and the body (or nil, error) when the
 * whole body was already there. */
static int api_resp_read_body(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_response *r = eg_lua_check_ns(L, x)->resp;
    if (!r->stream) {
        lua_pushliteral(L, "done");
        lua_pushlstring(L, r->body ? r->body : "", r->body_len);
        return 2;
    }
    body_op *op = calloc(1, sizeof *op);
    op->wait.cancel = body_cancel;
    eg_lua_wait_begin(L, x, &op->wait);
    op->resp = r;
    op->stream = r->stream;
    op->sink.write = collect_write;
    op->sink.end = collect_end;
    /* The response no longer owns the stream: this wait does, until it ends. */
    r->stream = NULL;
    op->attaching = true;
    op->stream->attach(op->stream, &op->sink);
    op->attaching = false;
    if (!op->ended) {
        lua_pushliteral(L, "wait");
        return 1;
    }
    unlink_wait(x, &op->wait);
    luaL_unref(L, LUA_REGISTRYINDEX, op->wait.co_ref);
    lua_pushliteral(L, "done");
    int n = push_body(L, op);
    body_op_free(op);
    return n + 1;
}

void eg_lua_waits_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "sleep_start", api_sleep_start },
        { "sleep_block", api_sleep_block },
        { "resp_read_body", api_resp_read_body },
        { "http_request", eg_lua_http_request },
        { NULL, NULL },
    };
    luaL_register(L, NULL, fns);
}
