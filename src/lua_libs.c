/* lua_libs.c — registers the C-backed Lua libraries in "easegress.c" (one call from
 * eg_lua_api_open, so adding a library does not touch the runtime's API file). */
#include "lua_libs.h"

void eg_lua_libs_register(lua_State *L)
{
    eg_lua_shared_register(L);
    eg_lua_re_register(L);
    eg_lua_crypto_register(L);
}
