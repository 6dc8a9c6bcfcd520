/* lua_testing.h — in-process pipeline runs for busted specs. */
#ifndef EG_LUA_TESTING_H
#define EG_LUA_TESTING_H

#include <lua.h>

struct eg_worker;
/* Register package.loaded["easegress.testing.c"] bound to this (inline) worker. */
void eg_lua_testing_open(lua_State *L, struct eg_worker *w);

#endif
