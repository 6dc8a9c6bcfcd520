/* lua_libs.h — C-backed Lua libraries, each a subtable of "easegress.c" that a module under
 * lua/easegress/ wraps: shared (eg.shared), re (eg.re), crypto (eg.crypto). */
#ifndef EG_LUA_LIBS_H
#define EG_LUA_LIBS_H

#include <lua.h>

/* Add every library to the table on top of the stack (the "easegress.c" table). */
void eg_lua_libs_register(lua_State *L);

/* One library each: sets field `shared`, `re` or `crypto` of the table on top of the stack. */
void eg_lua_shared_register(lua_State *L);
void eg_lua_re_register(lua_State *L);
void eg_lua_crypto_register(lua_State *L);

#endif
