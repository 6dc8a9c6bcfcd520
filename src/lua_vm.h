/* lua_vm.h — the LuaJIT side: one VM per worker, one coroutine per request, filters in Lua
 * (inline `kind: Lua` and modules from --filter-dir), and the busted runner. */
#ifndef EG_LUA_VM_H
#define EG_LUA_VM_H

#include "exchange.h"
#include "options.h"

struct eg_worker;
struct eg_snapshot;
typedef struct eg_lua_vm eg_lua_vm;

eg_lua_vm *eg_lua_vm_new(struct eg_worker *w);
void eg_lua_vm_free(eg_lua_vm *vm);
struct eg_worker *eg_lua_vm_worker(eg_lua_vm *vm);
/* A snapshot this worker no longer uses: drop filter instances of pipeline versions that
 * `current` does not have. */
void eg_lua_vm_forget(eg_lua_vm *vm, struct eg_snapshot *old, struct eg_snapshot *current);
struct eg_pipeline;
/* Drop this worker's instances of a pipeline version's Lua filters. */
void eg_lua_vm_forget_pipeline(eg_lua_vm *vm, const struct eg_pipeline *p);
/* The exchange ends: let its coroutine go. */
void eg_lua_vm_release(eg_lua_vm *vm, eg_exchange *x);

/* The memory each Lua VM may hold (--lua-memory-limit); call before any VM exists. */
void eg_lua_set_memory_limit(size_t bytes);
/* Register `Lua` and the kinds found in the filter directories. */
void eg_lua_register_kinds(const char *const *dirs, int n);
/* Re-read a filter directory after a change (main thread). Returns the errors of the files
 * that do not load (malloc'd, one per line) or NULL. */
char *eg_lua_rescan_dir(const char *dir);
/* Was this kind defined by a file in `dir`? */
bool eg_lua_kind_from_dir(const char *kind, const char *dir);
/* Close the supervisor's VM (at exit: C libraries it loaded, like cjson, keep malloc'd
 * buffers that only lua_close frees, and LeakSanitizer cannot see into LuaJIT's heap). */
void eg_lua_kinds_free(void);
/* ---- background work: timers and the init script (lua_background.c) ---- */
struct lua_State;
/* runtime.<fn>(args on the VM's stack) under the traceback handler. */
bool eg_lua_vm_call(eg_lua_vm *vm, const char *fn, int nargs, int nresults, char *err, size_t errlen);
struct lua_State *eg_lua_vm_state(eg_lua_vm *vm);
/* Resume a background coroutine after a wait (called by the wait completion). */
void eg_lua_background_resume(eg_lua_vm *vm, eg_exchange *x, struct lua_State *co, int nargs);
/* Run `path` in this worker's VM once its loop runs (--init-script). */
void eg_lua_run_init_script(eg_lua_vm *vm, const char *path);
/* Stop every timer (worker shutdown); their handles close on the next loop turn. */
void eg_lua_stop_timers(eg_lua_vm *vm);
void eg_lua_background_free(eg_lua_vm *vm);
/* easegress-server --busted DIR */
int eg_busted_run(const eg_options *o);

#endif
