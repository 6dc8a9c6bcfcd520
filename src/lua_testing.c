/* lua_testing.c — run a Pipeline in-process from a busted spec (module
 * "easegress.testing.c"): the real build, flow runner, filters and Lua coroutines, on the
 * spec runner's own loop, without an HTTP server in front. */
#include "lua_testing.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "buf.h"
#include "lua_vm.h"
#include "pipeline.h"
#include "worker.h"

static const char WORKER_KEY = 0;

typedef struct {
    bool flow_done;
    bool body_done;
    int body_error;
    eg_body_sink sink;
    eg_buf body;
} run_state;

static void on_flow_done(eg_exchange *x) { ((run_state *)x->owner)->flow_done = true; }

static bool body_write(eg_body_sink *s, const char *data, size_t len)
{
    run_state *st = (run_state *)((char *)s - offsetof(run_state, sink));
    eg_buf_append(&st->body, data, len);
    return true;
}

static void body_end(eg_body_sink *s, int error)
{
    run_state *st = (run_state *)((char *)s - offsetof(run_state, sink));
    st->body_done = true;
    st->body_error = error;
}

static char *field(lua_State *L, int t, const char *name, eg_arena *a, const char *def, size_t *len)
{
    lua_getfield(L, t, name);
    size_t n = 0;
    const char *v = lua_isstring(L, -1) ? lua_tolstring(L, -1, &n) : def;
    if (v && !lua_isstring(L, -1))
        n = strlen(v);
    char *out = v ? eg_arena_strndup(a, v, n) : NULL;
    lua_pop(L, 1);
    if (len)
        *len = n;
    return out;
}

/* run_pipeline(yaml, request) -> response table, or nil, error.
 * request: { method, path, query, host, headers = { name = value }, body, client_ip }
 * response: { status, headers = { name = value }, body, result, trace = "a=;b=r;" } */
static int run_pipeline(lua_State *L)
{
    size_t ylen;
    const char *yaml = luaL_checklstring(L, 1, &ylen);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushlightuserdata(L, (void *)&WORKER_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    eg_worker *w = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!w)
        return luaL_error(L, "run_pipeline needs the spec runner (easegress-server --busted)");

    char err[512];
    eg_node *obj = eg_yaml_parse(yaml, ylen, err, sizeof err);
    if (!obj) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    eg_dec d;
    eg_dec_init(&d, false);
    eg_pipeline *p = eg_pipeline_build(&d, obj);
    eg_node_free(obj);
    if (!p || !eg_dec_ok(&d)) {
        lua_pushnil(L);
        lua_pushstring(L, d.error ? d.error : "invalid pipeline");
        eg_dec_free(&d);
        eg_pipeline_unref(p);
        return 2;
    }
    eg_dec_free(&d);

    eg_arena *arena = malloc(sizeof *arena);
    eg_arena_init(arena, 4096);
    eg_exchange *x = eg_arena_alloc(arena, sizeof *x);
    memset(x, 0, sizeof *x);
    x->arena = arena;
    x->worker = w;
    x->pipeline = p;
    x->flow_done = on_flow_done;
    run_state st = { 0 };
    eg_buf trace = { 0 };
    x->trace = &trace;
    x->owner = &st;
    eg_namespace *def = eg_exchange_namespace(x, "DEFAULT");
    eg_request *req = def->req;
    req->method = field(L, 2, "method", arena, "GET", NULL);
    req->path = field(L, 2, "path", arena, "/", NULL);
    req->query = field(L, 2, "query", arena, NULL, NULL);
    req->host = field(L, 2, "host", arena, "localhost", NULL);
    req->scheme = "http";
    req->version_major = 1;
    req->version_minor = 1;
    req->body = field(L, 2, "body", arena, NULL, &req->body_len);
    char *ip = field(L, 2, "client_ip", arena, "127.0.0.1", NULL);
    snprintf(req->client_ip, sizeof req->client_ip, "%s", ip);
    snprintf(req->peer_ip, sizeof req->peer_ip, "%s", ip);
    lua_getfield(L, 2, "headers");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            size_t nl, vl;
            const char *n = lua_tolstring(L, -2, &nl);
            const char *v = lua_tolstring(L, -1, &vl);
            if (n && v)
                eg_headers_add(arena, &req->headers, n, nl, v, vl);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    eg_flow_start(x);
    while (!st.flow_done)
        uv_run(&w->loop, UV_RUN_ONCE);
    eg_response *resp = x->ns[0].resp;
    if (resp->stream) {
        st.sink.write = body_write;
        st.sink.end = body_end;
        eg_body_stream *s = resp->stream;
        resp->stream = NULL;
        s->attach(s, &st.sink);
        while (!st.body_done)
            uv_run(&w->loop, UV_RUN_ONCE);
    } else if (resp->body_len) {
        eg_buf_append(&st.body, resp->body, resp->body_len);
    }

    lua_createtable(L, 0, 5);
    lua_pushinteger(L, resp->status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, st.body.data ? st.body.data : "", st.body.len);
    lua_setfield(L, -2, "body");
    lua_pushstring(L, x->result ? x->result : "");
    lua_setfield(L, -2, "result");
    lua_pushlstring(L, trace.data ? trace.data : "", trace.len);
    lua_setfield(L, -2, "trace");
    lua_createtable(L, 0, (int)resp->headers.count);
    for (size_t i = 0; i < resp->headers.count; i++) {
        lua_pushlstring(L, resp->headers.items[i].name, resp->headers.items[i].name_len);
        lua_pushlstring(L, resp->headers.items[i].value, resp->headers.items[i].value_len);
        lua_rawset(L, -3);
    }
    lua_setfield(L, -2, "headers");
    if (st.body_error) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "body_broken");
    }

    eg_buf_free(&st.body);
    eg_buf_free(&trace);
    eg_lua_vm_release(w->lua, x);
    for (size_t i = 0; i < x->nns; i++)
        if (x->ns[i].resp->stream)
            x->ns[i].resp->stream->abort(x->ns[i].resp->stream);
    eg_arena_free(arena);
    free(arena);
    eg_lua_vm_forget_pipeline(w->lua, p);
    eg_pipeline_unref(p);
    return 1;
}

static const luaL_Reg funcs[] = {
    { "run_pipeline", run_pipeline },
    { NULL, NULL },
};

void eg_lua_testing_open(lua_State *L, struct eg_worker *w)
{
    lua_pushlightuserdata(L, (void *)&WORKER_KEY);
    lua_pushlightuserdata(L, w);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    lua_setfield(L, -2, "easegress.testing.c");
    lua_pop(L, 2);
}
