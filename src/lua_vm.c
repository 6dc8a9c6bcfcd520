/* lua_vm.c — LuaJIT VMs, the request coroutine, and Lua filter kinds.
 *
 * A request gets its coroutine when it first reaches a Lua filter and keeps it to the end.
 * The coroutine runs lua/easegress/runtime.lua's runner, which calls each filter's handler
 * and yields ("done", result); a wait (eg.sleep, ...) yields ("wait") after C started the
 * operation, and the libuv callback resumes the coroutine, outside any Lua frame. Each wait
 * carries the exchange's sequence number, so a late completion never resumes a coroutine
 * that has moved on. */
#include "lua_vm.h"

#include <dirent.h>
#include <stdatomic.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "buf.h"
#include "log.h"
#include "lua_api.h"
#include "lua_testing.h"
#include "proxy.h"
#include "pipeline.h"
#include "shared_dict.h"
#include "snapshot.h"
#include "worker.h"

struct eg_lua_vm {
    lua_State *L;
    size_t mem_used;        /* bytes the VM holds (its allocator counts them) */
    size_t mem_limit;       /* 0 = none */
    struct eg_worker *worker;
    uv_loop_t *loop;
    int runtime_ref;        /* the easegress.runtime module table */
    int instances_ref;      /* lua_filter id -> Lua instance */
    /* Request coroutines parked at the runner's "done" yield, ready for the next request:
     * creating one per request costs more than the filters it runs. */
    int pool[128];
    int npool;
};

/* A Lua filter as built on the main thread: what each worker needs to make its instance. */
typedef struct {
    uint64_t id;            /* unique: keys the workers' instances (addresses get reused) */
    char *kind;             /* "Lua" or the module's kind */
    char *code;             /* inline code, or NULL */
    char *module_path;      /* file of a --filter-dir kind, or NULL */
    char *filter_name;
    char *spec_json;        /* the filter's spec, as JSON, for M.new(spec) */
    char *sources_json;     /* module texts as validated: {path = text} */
    char **results;         /* declared results (NULL-terminated) */
} lua_filter;

/* ---- paths ---- */

/* lua/ beside the binary's directory (bin/../lua), or one more level up for build
 * variants (build-asan/bin/../../lua); EG_LUA_ROOT overrides. */
static void lua_root(char *out, size_t len)
{
    const char *env = getenv("EG_LUA_ROOT");
    if (env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        static const char *const ups[] = { "/../lua", "/../../lua" };
        size_t el = (size_t)(slash - exe);
        for (size_t i = 0; i < 2; i++) {
            char probe[PATH_MAX];
            size_t ul = strlen(ups[i]);
            if (el + ul + 32 > sizeof probe || el + ul + 1 > len)
                break;
            memcpy(probe, exe, el);
            memcpy(probe + el, ups[i], ul);
            memcpy(probe + el + ul, "/easegress/runtime.lua", 23);
            if (access(probe, R_OK) == 0) {
                memcpy(out, exe, el);
                memcpy(out + el, ups[i], ul + 1);
                return;
            }
        }
    }
    snprintf(out, len, "lua");
}

static const char *const *filter_dirs;
static int nfilter_dirs;

/* ---- VM ---- */

static int traceback(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

/* Set once at start-up, before any worker exists; read-only afterwards. */
static size_t vm_memory_limit = 256u << 20;

void eg_lua_set_memory_limit(size_t bytes) { vm_memory_limit = bytes; }

/* Each VM's own allocator: a filter that eats memory gets "not enough memory" (its request
 * a 500) instead of taking the process down with it. */
static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    eg_lua_vm *vm = ud;
    if (nsize == 0) {
        free(ptr);
        vm->mem_used -= osize;
        return NULL;
    }
    if (vm->mem_limit && nsize > osize && vm->mem_used + (nsize - osize) > vm->mem_limit)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        vm->mem_used = vm->mem_used - osize + nsize;
    return p;
}

static lua_State *new_state(eg_lua_vm *vm, char *err, size_t errlen)
{
    vm->mem_limit = vm_memory_limit;
    lua_State *L = lua_newstate(vm_alloc, vm);
    if (!L) {
        snprintf(err, errlen, "cannot create a Lua state");
        return NULL;
    }
    luaL_openlibs(L);
    char root[PATH_MAX], path[PATH_MAX * 3];
    lua_root(root, sizeof root);
    snprintf(path, sizeof path, "%s/?.lua;%s/?/init.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua", root, root);
    lua_getglobal(L, "package");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;/usr/local/lib/lua/5.1/?.so");
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    eg_lua_api_open(L);
    return L;
}

static bool require_runtime(lua_State *L, int *ref, char *err, size_t errlen)
{
    lua_pushcfunction(L, traceback);
    lua_getglobal(L, "require");
    lua_pushstring(L, "easegress.runtime");
    if (lua_pcall(L, 1, 1, -3) != 0) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 2);
        return false;
    }
    *ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return true;
}

static eg_lua_vm *vm_new(uv_loop_t *loop, struct eg_worker *w)
{
    char err[1024];
    eg_lua_vm *vm = calloc(1, sizeof *vm);
    lua_State *L = new_state(vm, err, sizeof err);
    if (!L) {
        eg_error("lua: %s", err);
        free(vm);
        return NULL;
    }
    vm->L = L;
    vm->worker = w;
    vm->loop = loop;
    eg_lua_api_set_vm(L, vm, loop);
    if (!require_runtime(L, &vm->runtime_ref, err, sizeof err)) {
        eg_error("lua: cannot load the runtime: %s", err);
        lua_close(L);
        free(vm);
        return NULL;
    }
    lua_newtable(L);
    vm->instances_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return vm;
}

eg_lua_vm *eg_lua_vm_new(struct eg_worker *w) { return vm_new(&w->loop, w); }

void eg_lua_vm_free(eg_lua_vm *vm)
{
    if (!vm)
        return;
    eg_lua_background_free(vm);
    lua_close(vm->L);
    free(vm);
}

lua_State *eg_lua_vm_state(eg_lua_vm *vm) { return vm->L; }

struct eg_worker *eg_lua_vm_worker(eg_lua_vm *vm) { return vm ? vm->worker : NULL; }

void eg_lua_vm_forget_pipeline(eg_lua_vm *vm, const eg_pipeline *p)
{
    lua_State *L = vm->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->instances_ref);
    for (size_t f = 0; f < p->nfilters; f++) {
        if (!p->filters[f].kind->is_lua || !p->filters[f].inst)
            continue;
        lua_pushnumber(L, (lua_Number)((lua_filter *)p->filters[f].inst)->id);
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
}

void eg_lua_vm_forget(eg_lua_vm *vm, struct eg_snapshot *old, struct eg_snapshot *current)
{
    const eg_strmap_slot *slot;
    for (size_t i = 0; eg_strmap_next(&old->globalfilters, &i, &slot);) {
        const eg_globalfilter *g = slot->value;
        if (current && eg_strmap_get(&current->globalfilters, slot->key, slot->key_len) == g)
            continue;
        if (g->before && g->before->has_lua)
            eg_lua_vm_forget_pipeline(vm, g->before);
        if (g->after && g->after->has_lua)
            eg_lua_vm_forget_pipeline(vm, g->after);
    }
    for (size_t i = 0; eg_strmap_next(&old->pipelines, &i, &slot);) {
        const eg_pipeline *p = slot->value;
        if (p->has_lua && !(current && eg_strmap_get(&current->pipelines, slot->key, slot->key_len) == p))
            eg_lua_vm_forget_pipeline(vm, p);
    }
}

/* ---- calling into the runtime ---- */

/* runtime[fn](args already pushed): returns true with results on the stack. */
static bool runtime_call(eg_lua_vm *vm, const char *fn, int nargs, int nresults, char *err, size_t errlen)
{
    lua_State *L = vm->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->runtime_ref);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    lua_insert(L, -(nargs + 1));
    lua_pushcfunction(L, traceback);
    lua_insert(L, -(nargs + 2));
    int base = lua_gettop(L) - nargs - 1;
    if (lua_pcall(L, nargs, nresults, base) != 0) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_settop(L, base - 1);
        return false;
    }
    lua_remove(L, base);
    return true;
}

bool eg_lua_vm_call(eg_lua_vm *vm, const char *fn, int nargs, int nresults, char *err, size_t errlen)
{
    return runtime_call(vm, fn, nargs, nresults, err, errlen);
}

/* Push the worker's instance of a Lua filter, creating it on first use. */
static bool push_instance(eg_lua_vm *vm, lua_filter *lf, char *err, size_t errlen)
{
    lua_State *L = vm->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->instances_ref);
    lua_pushnumber(L, (lua_Number)lf->id);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1)) {
        lua_remove(L, -2);
        return true;
    }
    lua_pop(L, 1);
    lua_pushstring(L, lf->filter_name);
    lua_pushstring(L, lf->code ? lf->code : "");
    lua_pushstring(L, lf->module_path ? lf->module_path : "");
    lua_pushstring(L, lf->spec_json);
    lua_pushstring(L, lf->sources_json ? lf->sources_json : "{}");
    if (!runtime_call(vm, "instantiate", 5, 1, err, errlen)) {
        lua_pop(L, 1);
        return false;
    }
    lua_pushnumber(L, (lua_Number)lf->id);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
    lua_remove(L, -2);
    return true;
}

static void set_error_response(eg_exchange *x, const char *what)
{
    eg_log(EG_LOG_ERROR, "lua filter error: %s", what);
    eg_response_error(x->arena, eg_x_resp(x), 500, "500 Internal Server Error\n");
}

static void drop_coroutine(eg_lua_vm *vm, eg_exchange *x)
{
    if (!x->lua_ref)
        return;
    if (x->lua_parked && vm->npool < (int)(sizeof vm->pool / sizeof vm->pool[0]))
        vm->pool[vm->npool++] = x->lua_ref;
    else
        luaL_unref(vm->L, LUA_REGISTRYINDEX, x->lua_ref);
    x->lua_ref = 0;
    x->lua_parked = false;
}

/* Resume the request's coroutine with nargs values already pushed on it. */
static eg_filter_status resume(eg_lua_vm *vm, eg_exchange *x, lua_State *co, int nargs, const char **result)
{
    int rc = lua_resume(co, nargs);
    if (rc == LUA_YIELD) {
        /* Tags compared by length and bytes: memcmp of a constant 4 is one compare, where
         * strcmp is a library call, and this runs for every Lua filter of every request. */
        size_t tag_len = 0;
        const char *tag = lua_tolstring(co, 1, &tag_len);
        if (tag && tag_len == 4 && memcmp(tag, "wait", 4) == 0) {
            lua_settop(co, 0);
            return EG_FILTER_PENDING;
        }
        if (tag && tag_len == 4 && memcmp(tag, "done", 4) == 0) {
            if (!lua_toboolean(co, 2)) {
                const char *msg = lua_tostring(co, 3) ? lua_tostring(co, 3) : "(error object is not a string)";
                set_error_response(x, msg);
                *result = "luaError";
                if (strstr(msg, "not enough memory")) {
                    lua_settop(co, 0);
                    lua_gc(vm->L, LUA_GCCOLLECT, 0); /* give the next requests their room back */
                }
            } else {
                size_t len = 0;
                const char *r = lua_type(co, 3) == LUA_TSTRING ? lua_tolstring(co, 3, &len) : NULL;
                *result = r ? eg_arena_strndup(x->arena, r, len) : "";
            }
            lua_settop(co, 0);
            return EG_FILTER_DONE;
        }
    }
    /* The runner itself failed (it never should): a dead coroutine cannot be reused. */
    set_error_response(x, rc == LUA_YIELD ? "bad yield from a filter" : (lua_tostring(co, -1) ? lua_tostring(co, -1) : "?"));
    drop_coroutine(vm, x);
    *result = "luaError";
    return EG_FILTER_DONE;
}

static lua_State *request_coroutine(eg_lua_vm *vm, eg_exchange *x)
{
    lua_State *L = vm->L;
    if (x->lua_ref) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, x->lua_ref);
        lua_State *co = lua_tothread(L, -1);
        lua_pop(L, 1);
        return co;
    }
    x->lua_fresh = true;
    if (vm->npool > 0 && !x->background) {
        x->lua_ref = vm->pool[--vm->npool];
        lua_rawgeti(L, LUA_REGISTRYINDEX, x->lua_ref);
        lua_State *co = lua_tothread(L, -1);
        lua_pop(L, 1);
        return co;
    }
    lua_State *co = lua_newthread(L);
    x->lua_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, vm->runtime_ref);
    lua_getfield(L, -1, "runner");
    lua_xmove(L, co, 1);
    lua_pop(L, 1);
    return co;
}

static void on_abort(eg_exchange *x);

static int push_nothing(lua_State *co, void *ud)
{
    (void)co;
    (void)ud;
    return 0;
}

/* A spawned task ended: is the request's coroutine waiting in eg.wait, and are all the tasks
 * it waits for done now? (The runtime keeps that book.) */
static bool tasks_ready(eg_lua_vm *vm, eg_exchange *x)
{
    char err[512];
    eg_lua_push_x(vm->L, x);
    if (!runtime_call(vm, "tasks_ready", 1, 1, err, sizeof err)) {
        eg_error("lua: tasks_ready: %s", err);
        return false;
    }
    bool ready = lua_toboolean(vm->L, -1);
    lua_pop(vm->L, 1);
    return ready;
}

void eg_lua_wait_complete(eg_exchange *x, lua_State *co, int (*push)(lua_State *co, void *ud), void *ud)
{
    if (x->block_L) {
        x->block_nresults = push(x->block_L, ud);
        x->block_done = true;
        return;
    }
    if (!x->lua_ref)
        return;
    eg_lua_vm *vm = x->worker->lua;
    lua_State *main = request_coroutine(vm, x);
    if (co != main) {
        /* A task: it runs until its next wait or its end (its wrapper catches errors). */
        int rc = lua_resume(co, push(co, ud));
        lua_settop(co, 0);
        if (rc == LUA_YIELD || !tasks_ready(vm, x))
            return;
        co = main;
        push = push_nothing;
        ud = NULL;
    }
    if (x->background) {
        eg_lua_background_resume(vm, x, main, push(main, ud));
        return;
    }
    const char *result = "";
    x->on_abort = NULL;
    if (resume(vm, x, main, push(main, ud), &result) == EG_FILTER_PENDING) {
        x->on_abort = on_abort;
        return;
    }
    x->lua_parked = x->lua_ref != 0;
    eg_flow_resume(x, result);
}

static int push_aborted(lua_State *co, void *ud)
{
    (void)ud;
    lua_pushnil(co);
    lua_pushstring(co, "aborted");
    return 2;
}

/* The client went away during a wait: every wait of the request stops, the request's
 * coroutine gets nil, "aborted", and the flow stops after this filter. */
static void on_abort(eg_exchange *x)
{
    eg_lua_api_cancel_wait(x);
    eg_lua_wait_complete(x, request_coroutine(x->worker->lua, x), push_aborted, NULL);
}

static eg_filter_status lua_handle(void *inst, eg_exchange *x, const char **result)
{
    lua_filter *lf = inst;
    eg_lua_vm *vm = x->worker->lua;
    char err[2048];
    if (!vm) {
        set_error_response(x, "no Lua VM in this worker");
        *result = "luaError";
        return EG_FILTER_DONE;
    }
    lua_State *co = request_coroutine(vm, x);
    if (!push_instance(vm, lf, err, sizeof err)) {
        set_error_response(x, err);
        *result = "luaError";
        return EG_FILTER_DONE;
    }
    lua_xmove(vm->L, co, 1);
    eg_lua_push_x(co, x);
    lua_pushinteger(co, (lua_Integer)x->cur);
    lua_pushboolean(co, x->lua_fresh);
    x->lua_fresh = false;
    x->lua_parked = false;
    eg_filter_status st = resume(vm, x, co, 4, result);
    x->lua_parked = st == EG_FILTER_DONE && x->lua_ref;
    if (st == EG_FILTER_PENDING)
        x->on_abort = on_abort;
    return st;
}

void eg_lua_vm_release(eg_lua_vm *vm, eg_exchange *x)
{
    eg_lua_api_cancel_wait(x);
    eg_lua_release_x(vm->L, x);
    drop_coroutine(vm, x);
}

/* ---- building Lua filters (main thread, in the supervisor's VM) ---- */

/* The supervisor's own VM: submit-time checks only, main thread only. */
static eg_lua_vm *supervisor_vm;

static eg_lua_vm *checker(void)
{
    if (!supervisor_vm)
        supervisor_vm = vm_new(NULL, NULL);
    return supervisor_vm;
}

static void lua_filter_free(void *p)
{
    lua_filter *lf = p;
    if (!lf)
        return;
    free(lf->kind);
    free(lf->code);
    free(lf->module_path);
    free(lf->filter_name);
    free(lf->spec_json);
    free(lf->sources_json);
    for (char **r = lf->results; r && *r; r++)
        free(*r);
    free(lf->results);
    free(lf);
}

static const char *module_path_for_kind(const char *kind);

/* The module's schema does not name these top-level fields ("\n"-separated, from
 * runtime.instantiate): unmark them so they get the unknown-field warning every decoder gives
 * (an error under --strict). */
static void report_unknown_fields(eg_dec *d, const eg_node *spec, const char *names, size_t len)
{
    const char *end = names + len;
    while (names < end) {
        const char *nl = memchr(names, '\n', (size_t)(end - names));
        size_t n = (size_t)((nl ? nl : end) - names);
        for (size_t i = 0; i < spec->count; i++)
            if (strlen(spec->keys[i]) == n && memcmp(spec->keys[i], names, n) == 0)
                spec->items[i]->used = false;
        names += n + 1;
    }
    eg_dec_check_unknown(d, spec);
}

/* Validate in the supervisor VM: compile, load, check the spec against the schema, build an
 * instance once (so M.new errors are submit-time errors). */
static void *lua_create(eg_dec *d, const eg_node *spec, const char *pipeline)
{
    (void)pipeline;
    eg_lua_vm *vm = checker();
    if (!vm) {
        eg_dec_fail(d, NULL, "the Lua runtime is not available");
        return NULL;
    }
    static atomic_uint_fast64_t next_id = 1;
    lua_filter *lf = calloc(1, sizeof *lf);
    lf->id = atomic_fetch_add(&next_id, 1);
    const char *kind = eg_node_str(spec, "kind");
    lf->kind = strdup(kind ? kind : "Lua");
    lf->filter_name = strdup(eg_node_str(spec, "name") ? eg_node_str(spec, "name") : "");
    if (strcmp(lf->kind, "Lua") == 0) {
        char *code = NULL;
        eg_dec_string(d, spec, "code", &code, true);
        lf->code = code;
        char **results = NULL;
        size_t nresults = 0;
        eg_dec_string_list(d, spec, "results", &results, &nresults, false);
        lf->results = calloc(nresults + 1, sizeof *lf->results);
        for (size_t i = 0; i < nresults; i++)
            lf->results[i] = results[i];
        free(results);
        eg_dec_check_unknown(d, spec);
    } else {
        const char *path = module_path_for_kind(lf->kind);
        lf->module_path = path ? strdup(path) : NULL;
        /* Every field belongs to the module's schema, checked by the runtime. */
        for (size_t i = 0; i < spec->count; i++)
            spec->items[i]->used = true;
    }
    if (!eg_dec_ok(d)) {
        lua_filter_free(lf);
        return NULL;
    }
    lf->spec_json = eg_node_to_json(spec, false, NULL);
    char err[2048];
    lua_State *L = vm->L;
    int top = lua_gettop(L);
    lua_pushstring(L, lf->filter_name);
    lua_pushstring(L, lf->code ? lf->code : "");
    lua_pushstring(L, lf->module_path ? lf->module_path : "");
    lua_pushstring(L, lf->spec_json);
    if (!runtime_call(vm, "instantiate", 4, 3, err, sizeof err)) {
        /* First line only: the traceback is for logs. */
        char *nl = strstr(err, "\nstack traceback");
        if (nl)
            *nl = 0;
        eg_dec_fail(d, lf->code ? "code" : NULL, "%s", err);
        lua_settop(L, top);
        lua_filter_free(lf);
        return NULL;
    }
    /* What the supervisor read is what every worker will run. */
    lf->sources_json = strdup(lua_tostring(L, -2) ? lua_tostring(L, -2) : "");
    size_t unknown_len = 0;
    const char *unknown = lua_tolstring(L, -1, &unknown_len);
    if (unknown && unknown_len)
        report_unknown_fields(d, spec, unknown, unknown_len);
    lua_settop(L, top);
    if (!eg_dec_ok(d)) {   /* --strict: an unknown field is an error */
        lua_filter_free(lf);
        return NULL;
    }
    return lf;
}

static const char *const *lua_results(const void *inst)
{
    const lua_filter *lf = inst;
    return (const char *const *)lf->results;
}

static const eg_filter_kind lua_kind = {
    .name = "Lua",
    .description = "Lua runs a filter written in Lua: inline `code`, whose declared `results` "
                   "jumpIf may route on.",
    .results = NULL,
    .create = lua_create,
    .destroy = lua_filter_free,
    .handle = lua_handle,
    .is_lua = true,
    .instance_results = lua_results,
};

/* ---- kinds from filter directories ---- */

typedef struct {
    eg_filter_kind kind;
    char *name;
    char *path;
    char **results;
    char *description;
    char *schema_json;
} dir_kind;

static dir_kind **dir_kinds;
static size_t ndir_kinds;

static const char *module_path_for_kind(const char *kind)
{
    for (size_t i = 0; i < ndir_kinds; i++)
        if (strcmp(dir_kinds[i]->name, kind) == 0)
            return dir_kinds[i]->path;
    return NULL;
}

static void *dir_create(eg_dec *d, const eg_node *spec, const char *pipeline)
{
    lua_filter *lf = lua_create(d, spec, pipeline);
    if (lf) {
        const char *kind = eg_node_str(spec, "kind");
        for (size_t i = 0; i < ndir_kinds; i++)
            if (strcmp(dir_kinds[i]->name, kind) == 0) {
                size_t n = 0;
                while (dir_kinds[i]->results && dir_kinds[i]->results[n])
                    n++;
                lf->results = calloc(n + 1, sizeof *lf->results);
                for (size_t j = 0; j < n; j++)
                    lf->results[j] = strdup(dir_kinds[i]->results[j]);
            }
    }
    return lf;
}

static dir_kind *find_dir_kind(const char *name)
{
    for (size_t i = 0; i < ndir_kinds; i++)
        if (strcmp(dir_kinds[i]->name, name) == 0)
            return dir_kinds[i];
    return NULL;
}

static char **results_from_stack(lua_State *L, int idx)
{
    size_t nr = lua_istable(L, idx) ? lua_objlen(L, idx) : 0;
    char **results = calloc(nr + 1, sizeof *results);
    for (size_t i = 0; i < nr; i++) {
        lua_rawgeti(L, idx, (int)i + 1);
        results[i] = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
        lua_pop(L, 1);
    }
    return results;
}

static void free_results(char **results)
{
    for (char **r = results; r && *r; r++)
        free(*r);
    free(results);
}

/* Read every *.lua file of a filter directory: a file returning a filter module registers
 * its kind (or updates it); a file that does not load keeps whatever was registered from it
 * before, and its error goes to `errors`. */
static void scan_dir(eg_lua_vm *vm, const char *dir, eg_buf *errors)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        eg_buf_printf(errors, "filter directory %s: cannot open\n", dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(dh))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".lua") != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char err[2048];
        lua_State *L = vm->L;
        int top = lua_gettop(L);
        lua_pushstring(L, path);
        if (!runtime_call(vm, "describe_module", 1, 4, err, sizeof err)) {
            char *nl = strstr(err, "\nstack traceback");
            if (nl)
                *nl = 0;
            eg_buf_printf(errors, "%s\n", err);
            lua_settop(L, top);
            continue;
        }
        if (!lua_isstring(L, -4)) {
            lua_settop(L, top); /* a helper module, not a filter */
            continue;
        }
        const char *name = lua_tostring(L, -4);
        dir_kind *k = find_dir_kind(name);
        bool known = k != NULL;
        if (!known)
            k = calloc(1, sizeof *k);
        /* Workers never read a kind's results or metadata (only this thread does). */
        free_results(k->results);
        k->results = results_from_stack(L, -3);
        k->kind.results = (const char *const *)k->results;
        free(k->description);
        k->description = strdup(lua_isstring(L, -2) ? lua_tostring(L, -2) : "");
        k->kind.description = k->description;
        free(k->schema_json);
        k->schema_json = lua_isstring(L, -1) ? strdup(lua_tostring(L, -1)) : NULL;
        k->kind.schema_json = k->schema_json;
        free(k->path);
        k->path = strdup(path);
        lua_settop(L, top);
        if (known)
            continue;
        k->name = strdup(name);
        const eg_filter_kind base = lua_kind;
        k->kind.is_lua = base.is_lua;
        k->kind.destroy = base.destroy;
        k->kind.handle = base.handle;
        k->kind.name = k->name;
        k->kind.create = dir_create;
        k->kind.instance_results = NULL;
        dir_kinds = realloc(dir_kinds, (ndir_kinds + 1) * sizeof *dir_kinds);
        dir_kinds[ndir_kinds++] = k;
        eg_filter_kind_register(&k->kind);
        eg_info("filter kind %s from %s", k->name, path);
    }
    closedir(dh);
}

char *eg_lua_rescan_dir(const char *dir)
{
    eg_lua_vm *vm = checker();
    if (!vm)
        return strdup("the Lua runtime is not available");
    eg_buf errors = { 0 };
    scan_dir(vm, dir, &errors);
    return errors.len ? eg_buf_steal(&errors, NULL) : NULL;
}

bool eg_lua_kind_from_dir(const char *kind, const char *dir)
{
    const dir_kind *k = find_dir_kind(kind);
    size_t n = strlen(dir);
    return k && strncmp(k->path, dir, n) == 0 && k->path[n] == '/';
}

void eg_lua_register_kinds(const char *const *dirs, int n)
{
    filter_dirs = dirs;
    nfilter_dirs = n;
    eg_filter_kind_register(&lua_kind);
    eg_lua_vm *vm = checker();
    if (!vm)
        return;
    /* The built-in filters (lua/filters) first, then the user's directories. */
    char builtin[PATH_MAX + 16];
    lua_root(builtin, PATH_MAX);
    strcat(builtin, "/filters");
    eg_buf errors = { 0 };
    if (access(builtin, R_OK) == 0)
        scan_dir(vm, builtin, &errors);
    for (int i = 0; i < n; i++)
        scan_dir(vm, dirs[i], &errors);
    if (errors.len)
        eg_error("filters that do not load:\n%s", errors.data);
    eg_buf_free(&errors);
}

void eg_lua_kinds_free(void)
{
    eg_lua_vm_free(supervisor_vm);
    supervisor_vm = NULL;
}

/* ---- busted ---- */

int eg_busted_run(const eg_options *o)
{
    eg_lua_set_memory_limit((size_t)o->lua_memory_mb << 20);
    if (eg_shared_dicts_start(o->shared_dicts, o->nshared_dicts) < 0) return 1;
    eg_filter_kind_register(&eg_proxy_kind);
    eg_lua_register_kinds(o->filter_dirs, o->nfilter_dirs);
    /* The specs run on a worker of their own (no thread): filters, waits and backends
     * behave as they do when serving. */
    eg_worker *w = eg_worker_new_inline();
    if (!w->lua)
        return 1;
    lua_State *L = w->lua->L;
    eg_lua_testing_open(L, w);
    char err[4096];
    lua_pushstring(L, o->busted_dir);
    int rc = 1;
    if (runtime_call(w->lua, "run_busted", 1, 1, err, sizeof err))
        rc = (int)lua_tointeger(L, -1);
    else if (strcmp(err, "nil") != 0)
        fprintf(stderr, "busted: %s\n", err);
    eg_worker_free_inline(w);
    eg_lua_kinds_free();
    return rc;
}
