-- HeaderLookup (lua/filters/header_lookup.lua): its spec checks, and a request with no
-- custom data to find (the item lookups themselves run against a live gateway in
-- tests/integration/test_custom_data.py, since custom data lives in the server's snapshot).
local testing = require "easegress.testing"

local SPEC = [[
headerKey: X-Api-Key
etcdPrefix: credentials/
headerSetters:
  - etcdKey: user
    headerKey: X-User]]

local function pipeline(fields)
  return "name: hl\nkind: Pipeline\nfilters:\n  - name: hl\n    kind: HeaderLookup\n" ..
    fields:gsub("[^\n]+", "    %0") .. "\n" ..
    "  - name: echo\n    kind: Lua\n    code: ctx:respond(200, ctx.req:header('X-User') or '-')\n"
end

describe("HeaderLookup", function()
  it("leaves the request alone when the header is absent or names no item", function()
    local res = assert(testing.run_pipeline(pipeline(SPEC), { headers = { ["X-User"] = "kept" } }))
    assert.are.equal("kept", res.body)
    assert.are.same({ "hl=", "echo=" }, testing.steps(res))
    res = assert(testing.run_pipeline(pipeline(SPEC), { headers = { ["X-Api-Key"] = "nobody" } }))
    assert.are.equal("-", res.body)
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error(pipeline(fields)) end

    it("needs headerKey, etcdPrefix and headerSetters", function()
      assert.matches("headerKey: required", err_of("etcdPrefix: a\nheaderSetters: [{etcdKey: a, headerKey: b}]"))
      assert.matches("etcdPrefix: required", err_of("headerKey: a\nheaderSetters: [{etcdKey: a, headerKey: b}]"))
      assert.matches("headerSetters: required", err_of("headerKey: a\netcdPrefix: b"))
      assert.matches("headerSetters: at least one headerSetter is required",
        err_of("headerKey: a\netcdPrefix: b\nheaderSetters: []"))
      assert.matches("headerSetters%[0%]%.headerKey: required",
        err_of("headerKey: a\netcdPrefix: b\nheaderSetters: [{etcdKey: a}]"))
    end)

    it("needs a prefix that names a kind and a valid pathRegExp", function()
      assert.matches("etcdPrefix: etcdPrefix is required",
        err_of("headerKey: a\netcdPrefix: /\nheaderSetters: [{etcdKey: a, headerKey: b}]"))
      assert.matches("etcdPrefix: \"a/b/\" names no custom data kind",
        err_of("headerKey: a\netcdPrefix: a/b/\nheaderSetters: [{etcdKey: a, headerKey: b}]"))
      assert.matches("pathRegExp: invalid regular expression",
        err_of("headerKey: a\netcdPrefix: b\npathRegExp: '('\nheaderSetters: [{etcdKey: a, headerKey: b}]"))
    end)
  end)
end)
