/* lua_api.h — C primitives for the Lua runtime ("easegress.c"), and request waits. */
#ifndef EG_LUA_API_H
#define EG_LUA_API_H

#include <lua.h>
#include <stdint.h>
#include <uv.h>
#include "exchange.h"
#include "lua_vm.h"

/* Register package.loaded["easegress.c"]. */
void eg_lua_api_open(lua_State *L);
/* The loop waits run on (NULL in the supervisor's VM, where nothing may wait). */
void eg_lua_api_set_vm(lua_State *L, eg_lua_vm *vm, uv_loop_t *loop);
uv_loop_t *eg_lua_loop(lua_State *L);
eg_lua_vm *eg_lua_vm_of(lua_State *L);
/* Argument 1 as the exchange of this call (errors in Lua when absent), argument 2 as one of
 * its namespaces. */
eg_exchange *eg_lua_check_x(lua_State *L);
/* Push the exchange's handle (the same userdata every time), and cut it when it ends. */
void eg_lua_push_x(lua_State *L, eg_exchange *x);
void eg_lua_release_x(lua_State *L, eg_exchange *x);
eg_namespace *eg_lua_check_ns(lua_State *L, eg_exchange *x);

/* ---- waits (lua_wait.c) ----
 * An operation a request's coroutine waits for. The operation embeds an eg_lua_wait, starts
 * with eg_lua_wait_begin, and ends with eg_lua_wait_end when it completes; if the request
 * goes away first, `cancel` is called instead (and eg_lua_wait_end then does nothing).
 * Either way the operation frees itself. */
typedef struct eg_lua_wait eg_lua_wait;
struct eg_lua_wait {
    eg_exchange *x;          /* NULL once cancelled or ended */
    lua_State *co;           /* the coroutine that waits (the request's, or a spawned task) */
    int co_ref;              /* keeps it alive meanwhile */
    eg_lua_wait *next;       /* the exchange's other waits (one per coroutine) */
    void (*cancel)(eg_lua_wait *w);
};
/* L is the calling coroutine: it becomes the waiter. */
void eg_lua_wait_begin(lua_State *L, eg_exchange *x, eg_lua_wait *w);
/* Resume the coroutine with push()'s values. Returns false if the wait was cancelled. */
bool eg_lua_wait_end(eg_lua_wait *w, int (*push)(lua_State *co, void *ud), void *ud);
/* Stop everything the exchange's coroutines wait for, without resuming them. */
void eg_lua_api_cancel_wait(eg_exchange *x);
/* Add sleep_start, sleep_block, resp_read_body, http_request to the table on the stack. */
void eg_lua_waits_register(lua_State *L);
/* Outside a request, in the spec runner only: a throwaway exchange to wait on (raises a Lua
 * error in a serving worker, which must never block), and running the loop until the wait
 * has pushed its results on L (returns their count). */
eg_exchange *eg_lua_blocking_exchange(lua_State *L);
int eg_lua_blocking_wait(lua_State *L, eg_exchange *x);
/* timer_start, timer_cancel (lua_background.c). */
void eg_lua_background_register(lua_State *L);
/* eg.http.request's C side (lua_http.c). */
int eg_lua_http_request(lua_State *L);

/* A wait of coroutine `co` finished: resume it with push()'s values; when a spawned task
 * ends and the request's coroutine waits for it, resume that too. Implemented in lua_vm.c. */
void eg_lua_wait_complete(eg_exchange *x, lua_State *co, int (*push)(lua_State *co, void *ud), void *ud);

#endif
