-- Filter code arrives over the admin API: it runs without the means to harm the process.
local testing = require "easegress.testing"

local function run(code)
  local lines = {}
  for line in (code .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = "      " .. line end
  return testing.run_pipeline("name: p\nkind: Pipeline\nfilters:\n  - name: f\n    kind: Lua\n    code: |\n"
    .. table.concat(lines, "\n") .. "\n")
end

describe("the filter sandbox", function()
  it("has no io, os.exit, loadfile, dofile or load", function()
    local res = assert(run([[
local missing = {}
for _, name in ipairs({ "io", "loadfile", "dofile", "load", "loadstring", "module", "debug", "jit", "ffi" }) do
  if _G[name] ~= nil then missing[#missing + 1] = name end
end
if os.exit ~= nil or os.execute ~= nil or os.remove ~= nil then missing[#missing + 1] = "os" end
return ctx:respond(200, table.concat(missing, ","))]]))
    assert.are.equal(200, res.status)
    assert.are.equal("", res.body)
  end)

  it("keeps the C primitives and the runtime from user code", function()
    for _, name in ipairs({ "easegress.c", "easegress.runtime", "easegress.testing", "ffi", "os" }) do
      local res = assert(run('require "' .. name .. '"'))
      assert.are.equal(500, res.status, name)
    end
  end)

  it("gives each filter its own globals", function()
    local res = assert(testing.run_pipeline([[
name: p
kind: Pipeline
filters:
  - name: a
    kind: Lua
    code: |
      shared_value = 1
  - name: b
    kind: Lua
    code: |
      return ctx:respond(200, tostring(shared_value))
]]))
    assert.are.equal("nil", res.body)
  end)
end)

describe("a ctx kept past its request", function()
  it("raises an error instead of touching a request that has ended", function()
    local yaml = [[
name: p
kind: Pipeline
filters:
  - name: keep
    kind: Lua
    code: |
      eg.timer.at(20, function()
        local ok, err = pcall(function() return ctx.req:header("Host") end)
        eg.shared.default:set("stale_ctx", ok and "read" or tostring(err))
      end)
      return ctx:respond(200, "ok")
]]
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(200, res.status)
    eg.sleep(60)
    assert.matches("request that has ended", eg.shared.default:get("stale_ctx"))
  end)
end)
