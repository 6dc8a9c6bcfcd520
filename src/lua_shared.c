/* lua_shared.c — the Lua face of the shared dictionaries (easegress.c.shared; wrapped by
 * lua/easegress/shared.lua as eg.shared).
 *
 * A dictionary is a full userdata holding a pointer into the registry, which lives until
 * the process exits, so the pointer never dangles. No Lua call that may raise (and so
 * longjmp) is made while a shard lock is held: values are copied out first, into a stack
 * buffer or a GC-owned userdata. */
#include "lua_libs.h"

#include <lauxlib.h>
#include <string.h>
#include "buf.h"
#include "shared_dict.h"

#define DICT_MT "easegress.shared_dict"
#define BUF_MT "easegress.shared_buf"
#define DEFAULT_MAX_KEYS 1024

static eg_shared_dict *check_dict(lua_State *L)
{
    return *(eg_shared_dict **)luaL_checkudata(L, 1, DICT_MT);
}

/* The key argument, or NULL with nil, message pushed (callers return 2). */
static const char *check_key(lua_State *L, size_t *klen)
{
    const char *key = luaL_checklstring(L, 2, klen);
    const char *why = *klen == 0 ? "empty key" : *klen > EG_SHARED_DICT_MAX_KEY ? "key too long" : NULL;
    if (!why)
        return key;
    lua_pushnil(L);
    lua_pushstring(L, why);
    return NULL;
}

static double opt_ttl(lua_State *L, int idx)
{
    double ttl = luaL_optnumber(L, idx, 0);
    if (!(ttl >= 0))
        luaL_argerror(L, idx, "ttl must be a number of seconds >= 0");
    return ttl;
}

static void check_value(lua_State *L, int idx, eg_shared_value *v)
{
    memset(v, 0, sizeof *v);
    switch (lua_type(L, idx)) {
    case LUA_TNONE:
    case LUA_TNIL:
        v->type = EG_SV_NONE;
        break;
    case LUA_TSTRING:
        v->type = EG_SV_STRING;
        v->str = lua_tolstring(L, idx, &v->len);
        break;
    case LUA_TNUMBER:
        v->type = EG_SV_NUMBER;
        v->number = lua_tonumber(L, idx);
        break;
    case LUA_TBOOLEAN:
        v->type = EG_SV_BOOLEAN;
        v->boolean = lua_toboolean(L, idx);
        break;
    default:
        luaL_argerror(L, idx, "string, number, boolean or nil expected");
    }
}

static int push_status(lua_State *L, eg_sd_status st)
{
    static const char *const msgs[] = {
        [EG_SD_NOT_FOUND] = "not found", [EG_SD_EXISTS] = "exists",
        [EG_SD_NOT_NUMBER] = "not a number", [EG_SD_NO_MEMORY] = "no memory",
    };
    if (st == EG_SD_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, msgs[st]);
    return 2;
}

/* d:get(key) -> value or nil */
static int sd_get(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    size_t klen;
    const char *key = check_key(L, &klen);
    if (!key)
        return 2;
    char stackbuf[512];
    char *buf = stackbuf;
    size_t cap = sizeof stackbuf;
    eg_shared_value v;
    for (;;) {
        if (eg_shared_dict_get(d, key, klen, &v, buf, cap) != EG_SD_OK) {
            lua_pushnil(L);
            return 1;
        }
        if (v.type != EG_SV_STRING || v.len <= cap)
            break;
        /* Too big for the buffer: a GC-owned one of the right size, then look again. */
        cap = v.len;
        buf = lua_newuserdata(L, cap);
    }
    switch (v.type) {
    case EG_SV_STRING: lua_pushlstring(L, v.str, v.len); break;
    case EG_SV_NUMBER: lua_pushnumber(L, v.number); break;
    case EG_SV_BOOLEAN: lua_pushboolean(L, v.boolean); break;
    default: lua_pushnil(L); break;
    }
    return 1;
}

/* d:set(key, value, ttl?) -> true; a nil value deletes */
static int sd_set(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    size_t klen;
    const char *key = check_key(L, &klen);
    if (!key)
        return 2;
    eg_shared_value v;
    check_value(L, 3, &v);
    return push_status(L, eg_shared_dict_set(d, key, klen, &v, opt_ttl(L, 4)));
}

/* d:add(key, value, ttl?) -> true, or nil, "exists" */
static int sd_add(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    size_t klen;
    const char *key = check_key(L, &klen);
    if (!key)
        return 2;
    eg_shared_value v;
    check_value(L, 3, &v);
    if (v.type == EG_SV_NONE)
        return luaL_argerror(L, 3, "a value to add");
    return push_status(L, eg_shared_dict_add(d, key, klen, &v, opt_ttl(L, 4)));
}

/* d:incr(key, delta, init?, init_ttl?) -> new value, or nil, "not found" / "not a number" */
static int sd_incr(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    size_t klen;
    const char *key = check_key(L, &klen);
    if (!key)
        return 2;
    double delta = luaL_checknumber(L, 3);
    double init = 0;
    bool has_init = !lua_isnoneornil(L, 4);
    if (has_init)
        init = luaL_checknumber(L, 4);
    double ttl = opt_ttl(L, 5), out = 0;
    eg_sd_status st = eg_shared_dict_incr(d, key, klen, delta, has_init ? &init : NULL, ttl, &out);
    if (st != EG_SD_OK)
        return push_status(L, st);
    lua_pushnumber(L, out);
    return 1;
}

/* d:delete(key) -> true if a live key was removed, else false */
static int sd_delete(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    size_t klen;
    const char *key = check_key(L, &klen);
    if (!key)
        return 2;
    lua_pushboolean(L, eg_shared_dict_delete(d, key, klen));
    return 1;
}

/* d:ttl(key) -> seconds left (0: never expires), or nil, "not found" */
static int sd_ttl(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    size_t klen;
    const char *key = check_key(L, &klen);
    if (!key)
        return 2;
    double left;
    eg_sd_status st = eg_shared_dict_ttl(d, key, klen, &left);
    if (st != EG_SD_OK)
        return push_status(L, st);
    lua_pushnumber(L, left);
    return 1;
}

static int buf_gc(lua_State *L)
{
    eg_buf_free(luaL_checkudata(L, 1, BUF_MT));
    return 0;
}

/* d:keys(max?) -> { key, ... }: at most max (default 1024; 0 = all), in no set order */
static int sd_keys(lua_State *L)
{
    eg_shared_dict *d = check_dict(L);
    lua_Integer max = luaL_optinteger(L, 2, DEFAULT_MAX_KEYS);
    if (max < 0)
        return luaL_argerror(L, 2, "max must be >= 0");
    /* The keys are collected into a buffer a userdata owns, so a failing push frees it. */
    eg_buf *b = lua_newuserdata(L, sizeof *b);
    memset(b, 0, sizeof *b);
    luaL_getmetatable(L, BUF_MT);
    lua_setmetatable(L, -2);
    size_t n = eg_shared_dict_keys(d, (size_t)max, b);
    lua_createtable(L, (int)n, 0);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        memcpy(&klen, b->data + off, sizeof klen);
        off += sizeof klen;
        lua_pushlstring(L, b->data + off, klen);
        off += klen;
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

static int sd_capacity(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)eg_shared_dict_capacity(check_dict(L)));
    return 1;
}

static int sd_count(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)eg_shared_dict_count(check_dict(L)));
    return 1;
}

static int sd_flush_all(lua_State *L)
{
    eg_shared_dict_flush_all(check_dict(L));
    return 0;
}

static int sd_name(lua_State *L)
{
    lua_pushstring(L, eg_shared_dict_name(check_dict(L)));
    return 1;
}

static int sd_tostring(lua_State *L)
{
    lua_pushfstring(L, "shared dict %s", eg_shared_dict_name(check_dict(L)));
    return 1;
}

/* easegress.c.shared.open(name) -> the dictionary, or nil if none has that name */
static int sd_open(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    eg_shared_dict *d = eg_shared_dict_find(name, len);
    if (!d) {
        lua_pushnil(L);
        return 1;
    }
    eg_shared_dict **box = lua_newuserdata(L, sizeof *box);
    *box = d;
    luaL_getmetatable(L, DICT_MT);
    lua_setmetatable(L, -2);
    return 1;
}

static const luaL_Reg dict_methods[] = {
    { "get", sd_get },
    { "set", sd_set },
    { "add", sd_add },
    { "incr", sd_incr },
    { "delete", sd_delete },
    { "ttl", sd_ttl },
    { "keys", sd_keys },
    { "capacity", sd_capacity },
    { "count", sd_count },
    { "flush_all", sd_flush_all },
    { "name", sd_name },
    { NULL, NULL },
};

void eg_lua_shared_register(lua_State *L)
{
    luaL_newmetatable(L, BUF_MT);
    lua_pushcfunction(L, buf_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    luaL_newmetatable(L, DICT_MT);
    lua_newtable(L);
    luaL_register(L, NULL, dict_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, sd_tostring);
    lua_setfield(L, -2, "__tostring");
    /* getmetatable(d) must not hand filter code the methods table to change. */
    lua_pushliteral(L, "shared dict");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    lua_newtable(L);
    lua_pushcfunction(L, sd_open);
    lua_setfield(L, -2, "open");
    lua_setfield(L, -2, "shared");
}
