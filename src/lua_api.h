/* lua_api.h — C primitives for the Lua runtime, and request waits. */
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
/* Stop whatever the exchange waits for, without resuming it. */
void eg_lua_api_cancel_wait(eg_exchange *x);
/* A wait with sequence `seq` finished: resume the request's coroutine with push()'s values
 * (ignored if the exchange has moved on). Implemented in lua_vm.c. */
void eg_lua_wait_complete(eg_exchange *x, uint64_t seq, int (*push)(lua_State *co, void *ud), void *ud);

#endif
