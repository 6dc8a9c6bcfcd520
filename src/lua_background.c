/* lua_background.c — Lua that runs outside any request: timers (eg.timer.at / every) and
 * the per-worker init script. Each run gets a coroutine and an exchange of its own (no
 * client, no pipeline), so it can wait like a filter does (eg.http.request, eg.sleep,
 * eg.spawn); it ends when its function returns. */
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "lua_api.h"
#include "lua_vm.h"
#include "worker.h"

typedef struct lua_timer {
    uv_timer_t handle;
    eg_lua_vm *vm;
    int fn_ref;
    bool repeat;
    double id;
    struct lua_timer *next;
} lua_timer;

/* Per VM, kept in its registry. */
typedef struct {
    lua_timer *timers;
    double next_id;
} background_state;

static const char STATE_KEY = 0;

static background_state *state_of(lua_State *L, bool create)
{
    lua_pushlightuserdata(L, (void *)&STATE_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    background_state *st = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!st && create) {
        st = calloc(1, sizeof *st);
        lua_pushlightuserdata(L, (void *)&STATE_KEY);
        lua_pushlightuserdata(L, st);
        lua_rawset(L, LUA_REGISTRYINDEX);
    }
    return st;
}

/* ---- runs ---- */

static void run_end(eg_lua_vm *vm, eg_exchange *x)
{
    eg_lua_api_cancel_wait(x);
    eg_lua_release_x(eg_lua_vm_state(vm), x);
    luaL_unref(eg_lua_vm_state(vm), LUA_REGISTRYINDEX, x->lua_ref);
    eg_arena *a = x->arena;
    eg_arena_free(a);
    free(a);
}

void eg_lua_background_resume(eg_lua_vm *vm, eg_exchange *x, lua_State *co, int nargs)
{
    int rc = lua_resume(co, nargs);
    if (rc == LUA_YIELD) {
        lua_settop(co, 0); /* waiting: the wait's completion resumes it */
        return;
    }
    if (rc != 0)
        eg_error("lua (timer or init): %s", lua_tostring(co, -1) ? lua_tostring(co, -1) : "error");
    run_end(vm, x);
}

/* Start runtime.background(fn, x) in a new coroutine; fn is the value at the top of the
 * VM's stack (popped). */
static void start_run(eg_lua_vm *vm)
{
    lua_State *L = eg_lua_vm_state(vm);
    eg_arena *a = malloc(sizeof *a);
    eg_arena_init(a, 1024);
    eg_exchange *x = eg_arena_alloc(a, sizeof *x);
    memset(x, 0, sizeof *x);
    x->arena = a;
    x->worker = eg_lua_vm_worker(vm);
    x->background = true;
    lua_State *co = lua_newthread(L);
    x->lua_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_getfield(L, -1, "easegress.runtime");
    lua_getfield(L, -1, "background");
    lua_xmove(L, co, 1);  /* runtime.background */
    lua_pop(L, 3);
    lua_xmove(L, co, 1);  /* fn */
    eg_lua_push_x(co, x);
    eg_lua_background_resume(vm, x, co, 2);
}

/* ---- timers ---- */

static void timer_closed(uv_handle_t *h)
{
    lua_timer *t = h->data;
    free(t);
}

static void timer_remove(lua_State *L, lua_timer *t)
{
    background_state *st = state_of(L, false);
    for (lua_timer **pp = st ? &st->timers : NULL; pp && *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    luaL_unref(L, LUA_REGISTRYINDEX, t->fn_ref);
    uv_close((uv_handle_t *)&t->handle, timer_closed);
}

static void on_timer(uv_timer_t *h)
{
    lua_timer *t = h->data;
    eg_lua_vm *vm = t->vm;
    lua_State *L = eg_lua_vm_state(vm);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->fn_ref);
    if (!t->repeat)
        timer_remove(L, t);
    start_run(vm);
}

/* timer_start(ms, repeat, fn) -> id */
static int api_timer_start(lua_State *L)
{
    lua_Number ms = luaL_checknumber(L, 1);
    bool repeat = lua_toboolean(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    uv_loop_t *loop = eg_lua_loop(L);
    eg_lua_vm *vm = eg_lua_vm_of(L);
    if (!loop || !vm || !eg_lua_vm_worker(vm))
        return luaL_error(L, "timers run in workers (and specs) only");
    if (repeat && ms < 1)
        return luaL_error(L, "eg.timer.every needs an interval of at least 1 ms");
    background_state *st = state_of(L, true);
    lua_timer *t = calloc(1, sizeof *t);
    t->vm = vm;
    t->repeat = repeat;
    t->id = ++st->next_id;
    lua_pushvalue(L, 3);
    t->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    uv_timer_init(loop, &t->handle);
    t->handle.data = t;
    uint64_t delay = ms > 0 ? (uint64_t)ms : 0;
    uv_update_time(loop);
    uv_timer_start(&t->handle, on_timer, delay, repeat ? delay : 0);
    /* A timer alone does not keep a worker (or a spec run) from ending. */
    uv_unref((uv_handle_t *)&t->handle);
    t->next = st->timers;
    st->timers = t;
    lua_pushnumber(L, t->id);
    return 1;
}

/* timer_cancel(id) -> true if it was pending */
static int api_timer_cancel(lua_State *L)
{
    lua_Number id = luaL_checknumber(L, 1);
    background_state *st = state_of(L, false);
    for (lua_timer *t = st ? st->timers : NULL; t; t = t->next)
        if (t->id == id) {
            timer_remove(L, t);
            lua_pushboolean(L, 1);
            return 1;
        }
    lua_pushboolean(L, 0);
    return 1;
}

void eg_lua_stop_timers(eg_lua_vm *vm)
{
    lua_State *L = eg_lua_vm_state(vm);
    background_state *st = state_of(L, false);
    while (st && st->timers)
        timer_remove(L, st->timers);
}

void eg_lua_background_free(eg_lua_vm *vm)
{
    lua_State *L = eg_lua_vm_state(vm);
    background_state *st = state_of(L, false);
    if (!st)
        return;
    /* The loop is gone by now: what is left cannot be closed through it, only forgotten. */
    for (lua_timer *t = st->timers, *next; t; t = next) {
        next = t->next;
        free(t);
    }
    free(st);
    lua_pushlightuserdata(L, (void *)&STATE_KEY);
    lua_pushnil(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

/* ---- the init script ---- */

typedef struct {
    uv_timer_t handle;
    eg_lua_vm *vm;
    char *path;
} init_run;

static void init_closed(uv_handle_t *h)
{
    init_run *r = h->data;
    free(r->path);
    free(r);
}

static void on_init(uv_timer_t *h)
{
    init_run *r = h->data;
    lua_State *L = eg_lua_vm_state(r->vm);
    char err[2048];
    lua_pushstring(L, r->path);
    if (eg_lua_vm_call(r->vm, "load_init", 1, 1, err, sizeof err))
        start_run(r->vm);
    else
        eg_error("init script %s: %s", r->path, err);
    uv_close((uv_handle_t *)&r->handle, init_closed);
}

void eg_lua_run_init_script(eg_lua_vm *vm, const char *path)
{
    struct eg_worker *w = eg_lua_vm_worker(vm);
    if (!w || !path)
        return;
    init_run *r = calloc(1, sizeof *r);
    r->vm = vm;
    r->path = strdup(path);
    uv_timer_init(&w->loop, &r->handle);
    r->handle.data = r;
    uv_timer_start(&r->handle, on_init, 0, 0);
}

void eg_lua_background_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "timer_start", api_timer_start },
        { "timer_cancel", api_timer_cancel },
        { NULL, NULL },
    };
    luaL_register(L, NULL, fns);
}
