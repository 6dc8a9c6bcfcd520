/* lua_api.c — the C primitives behind ctx and eg (module "easegress.c").
 *
 * Every request function takes the exchange (a light userdata the runtime got from C for
 * this very call) and a namespace index; the Lua side (lua/easegress/ctx.lua) wraps them
 * into the contract's ctx.req / ctx.resp methods. */
#include "lua_api.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "buf.h"
#include "custom_data.h"
#include "log.h"
#include "lua_libs.h"
#include "lua_vm.h"
#include <zlib.h>
#include "node.h"
#include "pipeline.h"
#include "snapshot.h"
#include "tracing.h"

static const char LOOP_KEY = 0;

uv_loop_t *eg_lua_loop(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&LOOP_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    uv_loop_t *loop = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return loop;
}

static const char VM_KEY = 0;

void eg_lua_api_set_vm(lua_State *L, eg_lua_vm *vm, uv_loop_t *loop)
{
    lua_pushlightuserdata(L, (void *)&LOOP_KEY);
    lua_pushlightuserdata(L, loop);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, (void *)&VM_KEY);
    lua_pushlightuserdata(L, vm);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

eg_lua_vm *eg_lua_vm_of(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&VM_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    eg_lua_vm *vm = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return vm;
}

eg_exchange *eg_lua_check_x(lua_State *L)
{
    eg_exchange **h = lua_touserdata(L, 1);
    if (!h || !*h)
        luaL_error(L, "this ctx belongs to a request that has ended");
    return *h;
}

void eg_lua_push_x(lua_State *L, eg_exchange *x)
{
    if (!x->lua_handle) {
        x->lua_handle = lua_newuserdata(L, sizeof *x->lua_handle);
        *x->lua_handle = x;
        x->lua_handle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->lua_handle_ref);
}

void eg_lua_release_x(lua_State *L, eg_exchange *x)
{
    if (!x->lua_handle)
        return;
    *x->lua_handle = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, x->lua_handle_ref);
    x->lua_handle = NULL;
}

eg_namespace *eg_lua_check_ns(lua_State *L, eg_exchange *x)
{
    lua_Integer i = luaL_checkinteger(L, 2);
    if (i < 0 || (size_t)i >= x->nns)
        luaL_error(L, "bad namespace index");
    return &x->ns[i];
}

static int push_str(lua_State *L, const char *s)
{
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushnil(L);
    return 1;
}

/* ---- namespaces ---- */

static int api_namespace(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    const char *name = luaL_checkstring(L, 2);
    eg_namespace *ns = eg_exchange_namespace(x, name);
    lua_pushinteger(L, (lua_Integer)(ns - x->ns));
    return 1;
}

/* name -> index of every namespace the request has so far */
static int api_namespaces(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    lua_createtable(L, 0, (int)x->nns);
    for (size_t i = 0; i < x->nns; i++) {
        lua_pushinteger(L, (lua_Integer)i);
        lua_setfield(L, -2, x->ns[i].name);
    }
    return 1;
}

/* The running pipeline's `data`, as JSON (nil when it has none). */
static int api_pipeline_data(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    if (!x->pipeline || !x->pipeline->data) {
        lua_pushnil(L);
        return 1;
    }
    size_t len;
    char *json = eg_node_to_json(x->pipeline->data, false, &len);
    lua_pushlstring(L, json, len);
    free(json);
    return 1;
}

/* Every header as { {name, value}, ... } in received order (for Go-style header maps). */
static int api_header_list(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_namespace *ns = eg_lua_check_ns(L, x);
    const eg_headers *h = lua_toboolean(L, 3) ? &ns->resp->headers : &ns->req->headers;
    lua_createtable(L, (int)h->count, 0);
    for (size_t i = 0; i < h->count; i++) {
        lua_createtable(L, 2, 0);
        lua_pushlstring(L, h->items[i].name, h->items[i].name_len);
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, h->items[i].value, h->items[i].value_len);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

/* A new, empty request in a namespace (builders): what identifies the client stays. */
static int api_req_reset(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_request *r = eg_lua_check_ns(L, x)->req;
    const eg_request *client = x->ns[0].req;
    memset(r, 0, sizeof *r);
    r->method = "GET";
    r->path = "/";
    r->host = ""; /* as Easegress's: the backend then gets its own address as Host */
    r->scheme = client->scheme;
    r->version_major = 1;
    r->version_minor = 1;
    memcpy(r->client_ip, client->client_ip, sizeof r->client_ip);
    memcpy(r->peer_ip, client->peer_ip, sizeof r->peer_ip);
    return 0;
}

static eg_headers copy_headers(eg_arena *a, const eg_headers *from)
{
    eg_headers h = { 0 };
    if (from->count) {
        h.items = eg_arena_alloc(a, from->count * sizeof *h.items);
        memcpy(h.items, from->items, from->count * sizeof *h.items);
        h.count = h.cap = from->count;
    }
    return h;
}

/* copy(x, from_ns, to_ns, what): what = "req" | "resp" (sourceNamespace of the builders). */
static int api_copy(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_namespace *from = eg_lua_check_ns(L, x);
    lua_Integer to_i = luaL_checkinteger(L, 3);
    if (to_i < 0 || (size_t)to_i >= x->nns)
        return luaL_error(L, "bad namespace index");
    eg_namespace *to = &x->ns[to_i];
    if (!strcmp(luaL_checkstring(L, 4), "req")) {
        *to->req = *from->req;
        to->req->headers = copy_headers(x->arena, &from->req->headers);
    } else {
        if (from->resp->stream)
            return luaL_error(L, "the response of that namespace is still streaming; read its body first");
        *to->resp = *from->resp;
        to->resp->headers = copy_headers(x->arena, &from->resp->headers);
    }
    return 0;
}

/* A fresh response (builders): status, no headers, no body. */
static int api_resp_reset(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_response *r = eg_lua_check_ns(L, x)->resp;
    lua_Integer status = luaL_checkinteger(L, 3);
    if (r->stream) {
        eg_body_stream *s = r->stream;
        r->stream = NULL;
        s->abort(s);
    }
    memset(r, 0, sizeof *r);
    r->status = (int)status;
    return 0;
}

static void push_node(lua_State *L, const eg_node *n, int depth)
{
    if (!n || depth > 200) {
        lua_pushnil(L);
        return;
    }
    switch (n->type) {
    case EG_NODE_NULL: lua_pushnil(L); break;
    case EG_NODE_BOOL: lua_pushboolean(L, n->v.b); break;
    case EG_NODE_INT: lua_pushnumber(L, (lua_Number)n->v.i); break;
    case EG_NODE_FLOAT: lua_pushnumber(L, n->v.f); break;
    case EG_NODE_STRING: lua_pushlstring(L, n->text, n->text_len); break;
    case EG_NODE_SEQ:
        lua_createtable(L, (int)n->count, 0);
        for (size_t i = 0; i < n->count; i++) {
            push_node(L, n->items[i], depth + 1);
            lua_rawseti(L, -2, (int)i + 1);
        }
        break;
    case EG_NODE_MAP:
        lua_createtable(L, 0, (int)n->count);
        for (size_t i = 0; i < n->count; i++) {
            push_node(L, n->items[i], depth + 1);
            lua_setfield(L, -2, n->keys[i]);
        }
        break;
    }
}

/* YAML (or JSON) text -> Lua value, with the gateway's own scalar rules; nil, err on error. */
static int api_yaml_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    char err[300];
    eg_node *n = eg_yaml_parse(text, len, err, sizeof err);
    if (!n) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    push_node(L, n, 0);
    eg_node_free(n);
    return 1;
}

/* gzip(data) / gunzip(data) -> bytes, or nil, err */
static int api_gzip(lua_State *L)
{
    size_t len;
    const char *in = luaL_checklstring(L, 1, &len);
    z_stream z = { 0 };
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return luaL_error(L, "zlib: cannot start compression");
    uLong cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END)
        lua_pushlstring(L, out, z.total_out);
    deflateEnd(&z);
    free(out);
    if (rc != Z_STREAM_END) {
        lua_pushnil(L);
        lua_pushliteral(L, "gzip failed");
        return 2;
    }
    return 1;
}

static int api_gunzip(lua_State *L)
{
    size_t len;
    const char *in = luaL_checklstring(L, 1, &len);
    lua_Integer limit = luaL_optinteger(L, 2, 64 * 1024 * 1024);
    z_stream z = { 0 };
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib, detected */
        return luaL_error(L, "zlib: cannot start decompression");
    eg_buf out = { 0 };
    char chunk[16384];
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        eg_buf_append(&out, chunk, sizeof chunk - z.avail_out);
    } while (rc == Z_OK && (lua_Integer)out.len <= limit);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        bool too_large = (lua_Integer)out.len > limit;
        eg_buf_free(&out);
        lua_pushnil(L);
        lua_pushstring(L, too_large ? "decompressed body too large" : "not valid gzip data");
        return 2;
    }
    lua_pushlstring(L, out.data ? out.data : "", out.len);
    eg_buf_free(&out);
    return 1;
}

/* ---- requests ---- */

static int api_req_get(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_request *r = eg_lua_check_ns(L, x)->req;
    const char *f = luaL_checkstring(L, 3);
    if (!strcmp(f, "method")) return push_str(L, r->method);
    if (!strcmp(f, "path")) return push_str(L, r->path);
    if (!strcmp(f, "query")) return push_str(L, r->query);
    if (!strcmp(f, "host")) return push_str(L, r->host);
    if (!strcmp(f, "scheme")) return push_str(L, r->scheme ? r->scheme : "http");
    if (!strcmp(f, "client_ip")) return push_str(L, r->client_ip);
    if (!strcmp(f, "proto")) {
        lua_pushfstring(L, "HTTP/%d.%d", r->version_major, r->version_minor);
        return 1;
    }
    if (!strcmp(f, "body")) {
        lua_pushlstring(L, r->body ? r->body : "", r->body_len);
        return 1;
    }
    return luaL_error(L, "unknown request field %s", f);
}

/* What may go into a request line: a filter must not be able to split the request it
 * sends to a backend. */
static bool valid_request_part(const char *f, const char *v, size_t len)
{
    if (!strcmp(f, "body") || !v)
        return true;
    if (!strcmp(f, "method")) {
        if (!len)
            return false;
        for (size_t i = 0; i < len; i++)
            if (!((v[i] >= 'A' && v[i] <= 'Z') || v[i] == '-' || v[i] == '_'))
                return false;
        return true;
    }
    if (!strcmp(f, "path") && (len == 0 || v[0] != '/'))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == 0x7f || c == '#' || (c == '?' && strcmp(f, "path") == 0))
            return false;
    }
    return true;
}

static int api_req_set(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_request *r = eg_lua_check_ns(L, x)->req;
    const char *f = luaL_checkstring(L, 3);
    size_t len = 0;
    const char *v = lua_isnil(L, 4) ? NULL : luaL_checklstring(L, 4, &len);
    if (!valid_request_part(f, v, len))
        return luaL_error(L, "invalid request %s %q (escape spaces and control characters)", f, v ? v : "");
    char *copy = v ? eg_arena_strndup(x->arena, v, len) : NULL;
    if (!strcmp(f, "method") && copy) r->method = copy;
    else if (!strcmp(f, "path") && copy) r->path = copy;
    else if (!strcmp(f, "query")) r->query = copy;
    else if (!strcmp(f, "host") && copy) r->host = copy;
    else if (!strcmp(f, "body")) {
        r->body = copy;
        r->body_len = copy ? len : 0;
    } else
        return luaL_error(L, "cannot set request field %s", f);
    return 0;
}

static eg_headers *headers_of(lua_State *L, eg_exchange *x, bool resp)
{
    eg_namespace *ns = eg_lua_check_ns(L, x);
    return resp ? &ns->resp->headers : &ns->req->headers;
}

/* All values of a header joined by ", " (RFC 9110 §5.3), or nil. */
static int push_header(lua_State *L, const eg_headers *h, const char *name, size_t nlen)
{
    luaL_Buffer b;
    int found = 0;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < h->count; i++) {
        if (h->items[i].name_len != nlen || strncasecmp(h->items[i].name, name, nlen) != 0)
            continue;
        if (found++)
            luaL_addlstring(&b, ", ", 2);
        luaL_addlstring(&b, h->items[i].value, h->items[i].value_len);
    }
    luaL_pushresult(&b);
    if (!found) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    return 1;
}

static int header_get(lua_State *L, bool resp)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_headers *h = headers_of(L, x, resp);
    size_t nlen;
    const char *name = luaL_checklstring(L, 3, &nlen);
    return push_header(L, h, name, nlen);
}

/* name -> value of every header; names that differ only in case are one header (under
 * its first spelling), values joined by ", ". */
static int headers_all(lua_State *L, bool resp)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_headers *h = headers_of(L, x, resp);
    lua_createtable(L, 0, (int)h->count);
    for (size_t i = 0; i < h->count; i++) {
        size_t first = i;
        for (size_t j = 0; j < i; j++)
            if (h->items[j].name_len == h->items[i].name_len &&
                strncasecmp(h->items[j].name, h->items[i].name, h->items[i].name_len) == 0) {
                first = j;
                break;
            }
        if (first != i)
            continue; /* gathered with its first occurrence */
        push_header(L, h, h->items[i].name, h->items[i].name_len);
        lua_pushlstring(L, h->items[i].name, h->items[i].name_len);
        lua_insert(L, -2);
        lua_rawset(L, -3);
    }
    return 1;
}

static bool valid_token(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ':' || (unsigned char)s[i] >= 127)
            return false;
    return true;
}

static int header_op(lua_State *L, bool resp)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_headers *h = headers_of(L, x, resp);
    size_t oplen, nlen, vlen = 0;
    const char *op = luaL_checklstring(L, 3, &oplen);
    const char *name = luaL_checklstring(L, 4, &nlen);
    if (!valid_token(name, nlen))
        return luaL_error(L, "invalid header name %q", name);
    if (oplen == 3 && memcmp(op, "del", 3) == 0) {
        eg_headers_del(h, name, nlen);
        return 0;
    }
    const char *value = luaL_checklstring(L, 5, &vlen);
    if (memchr(value, '\r', vlen) || memchr(value, '\n', vlen))
        return luaL_error(L, "header value of %s contains CR or LF", name);
    if (oplen == 3 && memcmp(op, "set", 3) == 0)
        eg_headers_set(x->arena, h, name, nlen, value, vlen);
    else
        eg_headers_add(x->arena, h, name, nlen, value, vlen);
    return 0;
}

static int api_req_header(lua_State *L) { return header_get(L, false); }
static int api_req_headers(lua_State *L) { return headers_all(L, false); }
static int api_req_header_op(lua_State *L) { return header_op(L, false); }
static int api_resp_header(lua_State *L) { return header_get(L, true); }
static int api_resp_headers(lua_State *L) { return headers_all(L, true); }
static int api_resp_header_op(lua_State *L) { return header_op(L, true); }

/* ---- responses ---- */

static int api_resp_status(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_response *r = eg_lua_check_ns(L, x)->resp;
    if (lua_gettop(L) >= 3) {
        lua_Integer s = luaL_checkinteger(L, 3);
        if (s < 100 || s > 999)
            return luaL_error(L, "invalid status %d", (int)s);
        r->status = (int)s;
        return 0;
    }
    lua_pushinteger(L, r->status);
    return 1;
}

static int api_resp_set_body(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_response *r = eg_lua_check_ns(L, x)->resp;
    size_t len;
    const char *b = luaL_checklstring(L, 3, &len);
    eg_response_set(x->arena, r, r->status ? r->status : 200, NULL, b, len);
    return 0;
}

static int api_respond(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    eg_response *r = eg_lua_check_ns(L, x)->resp;
    lua_Integer status = luaL_checkinteger(L, 3);
    size_t len = 0;
    const char *body = luaL_optlstring(L, 4, "", &len);
    const char *ctype = luaL_optstring(L, 5, NULL);
    if (status < 100 || status > 999)
        return luaL_error(L, "invalid status %d", (int)status);
    eg_response_set(x->arena, r, (int)status, ctype ? ctype : (len ? "text/plain; charset=utf-8" : NULL), body, len);
    return 0;
}

/* ---- misc ---- */

static int api_log(lua_State *L)
{
    static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
    int level = luaL_checkoption(L, 1, "info", levels);
    const char *msg = luaL_checkstring(L, 2);
    eg_log(level, "lua: %s", msg);
    return 0;
}

static int api_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static int api_monotonic(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec * 1000 + (lua_Number)ts.tv_nsec / 1e6);
    return 1;
}

/* path_params(x) -> { name = value } of the RadixTree match (empty for Ordered routes) */
static int api_path_params(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    const eg_route_captures *c = x->captures;
    lua_createtable(L, 0, c ? (int)c->count : 0);
    for (size_t i = 0; c && i < c->count; i++) {
        lua_pushstring(L, c->values[i]);
        lua_setfield(L, -2, c->names[i]);
    }
    return 1;
}

/* path_param(x, name) -> value or nil */
static int api_path_param(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    const char *name = luaL_checkstring(L, 2);
    const eg_route_captures *c = x->captures;
    for (size_t i = 0; c && i < c->count; i++)
        if (strcmp(c->names[i], name) == 0)
            return push_str(L, c->values[i]);
    lua_pushnil(L);
    return 1;
}

/* custom_data(x, kind, id) -> the item as JSON text, or nil; from the request's snapshot */
static int api_custom_data(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    size_t kl, il, len;
    const char *kind = luaL_checklstring(L, 2, &kl), *id = luaL_checklstring(L, 3, &il);
    const char *json = x->snap ? eg_custom_data_set_get(x->snap->custom_data, kind, kl, id, il, &len) : NULL;
    if (json)
        lua_pushlstring(L, json, len);
    else
        lua_pushnil(L);
    return 1;
}

/* custom_data_version(x) -> a number that changes with every custom data change */
static int api_custom_data_version(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    lua_pushnumber(L, x->snap ? (lua_Number)eg_custom_data_set_version(x->snap->custom_data) : 0);
    return 1;
}

/* trace_ids(x) -> trace id, span id (hex), sampled; nothing when the server does not trace. */
static int api_trace_ids(lua_State *L)
{
    eg_exchange *x = eg_lua_check_x(L);
    const eg_trace *t = x->tracing;
    if (!t)
        return 0;
    char hex[33];
    eg_trace_hex(t->trace_id, 16, hex);
    lua_pushlstring(L, hex, 32);
    eg_trace_hex(t->span_id, 8, hex);
    lua_pushlstring(L, hex, 16);
    lua_pushboolean(L, t->sampled);
    return 3;
}

static int api_in_worker(lua_State *L)
{
    lua_pushboolean(L, eg_lua_loop(L) != NULL);
    return 1;
}

static const luaL_Reg api[] = {
    { "namespace", api_namespace },
    { "req_reset", api_req_reset },
    { "copy", api_copy },
    { "resp_reset", api_resp_reset },
    { "yaml_decode", api_yaml_decode },
    { "gzip", api_gzip },
    { "gunzip", api_gunzip },
    { "namespaces", api_namespaces },
    { "pipeline_data", api_pipeline_data },
    { "header_list", api_header_list },
    { "req_get", api_req_get },
    { "req_set", api_req_set },
    { "req_header", api_req_header },
    { "req_headers", api_req_headers },
    { "req_header_op", api_req_header_op },
    { "resp_status", api_resp_status },
    { "resp_set_body", api_resp_set_body },
    { "resp_header", api_resp_header },
    { "resp_headers", api_resp_headers },
    { "resp_header_op", api_resp_header_op },
    { "respond", api_respond },
    { "log", api_log },
    { "now", api_now },
    { "monotonic_ms", api_monotonic },
    { "has_loop", api_in_worker },
    { "path_param", api_path_param },
    { "path_params", api_path_params },
    { "custom_data", api_custom_data },
    { "custom_data_version", api_custom_data_version },
    { "trace_ids", api_trace_ids },
    { NULL, NULL },
};

void eg_lua_api_open(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_newtable(L);
    luaL_register(L, NULL, api);
    eg_lua_waits_register(L);
    eg_lua_background_register(L);
    eg_lua_libs_register(L);
    lua_setfield(L, -2, "easegress.c");
    lua_pop(L, 2);
}
