-- The pure-Lua part of the Easegress-C Lua SDK, for specs of a filter's own logic under plain
-- busted. Install it from a checkout of the repository (no download):
--   luarocks make --local rockspec/easegress-sdk-scm-1.rockspec
-- then run specs with `busted` (Lua 5.1 to 5.4). See docs/sdk.md.
rockspec_format = "3.0"
package = "easegress-sdk"
version = "scm-1"

source = {
  -- The repository has no published URL: install from a checkout with `luarocks make` run in
  -- its root, which fetches nothing and takes the files from the working tree.
  url = "git+file://./",
}

description = {
  summary = "The pure-Lua part of the Easegress-C Lua SDK, for specs of pure logic under plain busted.",
  detailed = [[
The modules of the Easegress-C Lua runtime that need no C and no running server, so that a
filter's own logic can be tested with plain busted on a stock Lua (5.1 to 5.4) or LuaJIT:

  easegress.template   Easegress's template dialect (Go text/template, sprig and Easegress's
                       functions, Go's output rules), compiled to Lua
  easegress.schema     the filter schema validator (the check made when a Pipeline is submitted)
  easegress.fake_ctx   a ctx of the filter contract over plain tables, with the runtime's
                       checks, plus helpers to build a filter from its spec and read what it did
  easegress.duration   Go durations ("1m30s")
  easegress.httputil   query and cookie parsing shared by both ctx implementations

Everything else needs the runtime and its C core, and specs using it must run inside it with
`easegress-server --busted DIR`: eg.http, eg.spawn/eg.wait, eg.sleep, timers, eg.shared,
eg.re (PCRE2), eg.crypto (OpenSSL), eg.log, eg.time, a ctx over a real request (streamed
bodies, several namespaces of a Pipeline), easegress.testing.run_pipeline, and the built-in
filters. Template functions sha1sum and sha256sum need a bit library: LuaJIT's bit, Lua 5.2's
bit32, or lua-bitop (luabitop) on Lua 5.1 and 5.4; without one they return an error.
lua-cjson is used when present (ctx.req:json(), faster JSON) and is not required.
]],
  license = "Apache-2.0",
  labels = { "easegress", "gateway", "template", "testing", "busted" },
}

dependencies = {
  "lua >= 5.1, < 5.5",
}

-- Build type "none" with install.lua, not "builtin": the builtin backend also copies the
-- whole of a top-level lua/ directory, which here is the entire runtime (the C-backed modules
-- and the built-in filters as top-level "filters.*" modules). These are the modules it ships:
build = {
  type = "none",
  install = { lua = {
    ["easegress.template"] = "lua/easegress/template.lua",
    ["easegress.template.fmt"] = "lua/easegress/template/fmt.lua",
    ["easegress.template.funcs"] = "lua/easegress/template/funcs.lua",
    ["easegress.template.hash"] = "lua/easegress/template/hash.lua",
    ["easegress.template.json"] = "lua/easegress/template/json.lua",
    ["easegress.template.regexp"] = "lua/easegress/template/regexp.lua",
    ["easegress.template.time"] = "lua/easegress/template/time.lua",
    ["easegress.template.utf8"] = "lua/easegress/template/utf8.lua",
    ["easegress.template.value"] = "lua/easegress/template/value.lua",
    ["easegress.schema"] = "lua/easegress/schema.lua",
    ["easegress.fake_ctx"] = "lua/easegress/fake_ctx.lua",
    ["easegress.duration"] = "lua/easegress/duration.lua",
    ["easegress.httputil"] = "lua/easegress/httputil.lua",
  } },
}

-- `luarocks test rockspec/easegress-sdk-scm-1.rockspec` from the repository root runs the SDK's
-- specs with the busted on PATH (Debian's lua-busted, say) against the working tree.
test = {
  type = "command",
  command = "busted '--lpath=lua/?.lua' -o sdk-spec/output.lua --pattern=_spec sdk-spec",
}
