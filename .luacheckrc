-- luacheck configuration: filters and the runtime run on LuaJIT; `eg` is predefined in
-- filter code and specs, as `ngx` is in OpenResty.
std = "luajit"
read_globals = { "eg" }
max_line_length = false
files["spec/"] = { std = "+busted" }
files["sdk-spec/"] = { std = "+busted" }
files["examples/filters/spec/"] = { std = "+busted" }
exclude_files = { "build/", "build-asan/" }
