-- Fallback (lua/filters/fallback.lua): replaces an existing response; responseNotFound
-- without one; after a failed or a streamed Proxy response.
local testing = require "easegress.testing"

local function fallback_yaml(fields)
  return "  - name: fallback\n    kind: Fallback\n" .. fields:gsub("[^\n]+", "    %0") .. "\n"
end

local FIELDS = [[
mockCode: 200
mockHeaders: { X-Fallback: "yes", Content-Type: application/json }
mockBody: '{"fallback":true}']]

describe("Fallback", function()
  it("replaces the status, headers and body of the response, keeping other headers", function()
    local yaml = "name: fb\nkind: Pipeline\nfilters:\n" .. [[
  - name: fail
    kind: Lua
    code: |
      ctx:respond(500, "backend broke")
      ctx.resp:set_header("X-Keep", "kept")
]] .. fallback_yaml(FIELDS)
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(200, res.status)
    assert.are.equal('{"fallback":true}', res.body)
    assert.are.equal("yes", res.headers["X-Fallback"])
    assert.are.equal("application/json", res.headers["Content-Type"])
    assert.are.equal("kept", res.headers["X-Keep"])
    assert.are.equal("fallback", res.result)
    assert.are.same({ "fail=", "fallback=fallback" }, testing.steps(res))
  end)

  it("returns responseNotFound and changes nothing without a response", function()
    local yaml = "name: fb\nkind: Pipeline\nfilters:\n" .. fallback_yaml(FIELDS)
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal("responseNotFound", res.result)
    assert.are.equal(0, res.status)
    assert.is_nil(res.headers["X-Fallback"])
  end)

  it("an empty mockBody empties the body", function()
    local yaml = "name: fb\nkind: Pipeline\nfilters:\n" .. [[
  - name: fail
    kind: Lua
    code: ctx:respond(500, "backend broke")
]] .. fallback_yaml("mockCode: 503")
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(503, res.status)
    assert.are.equal("", res.body)
  end)

  it("answers for a Proxy that failed", function()
    local yaml = [[
name: fb
kind: Pipeline
flow:
  - filter: proxy
    jumpIf: { serverError: fallback, failureCode: fallback }
  - filter: END
  - filter: fallback
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: http://127.0.0.1:1
]] .. fallback_yaml(FIELDS)
    local res = assert(testing.run_pipeline(yaml))
    assert.are.equal(200, res.status)
    assert.are.equal('{"fallback":true}', res.body)
    assert.are.same({ "proxy=serverError", "fallback=fallback" }, testing.steps(res))
  end)

  describe("with a backend", function()
    local port, stop
    setup(function() port, stop = testing.start_mirror() end)
    teardown(function() if stop then stop() end end)

    it("replaces a streamed backend response", function()
      local yaml = string.format([[
name: fb
kind: Pipeline
filters:
  - name: proxy
    kind: Proxy
    pools:
      - servers:
          - url: http://127.0.0.1:%d
]], port) .. fallback_yaml(FIELDS)
      local res = assert(testing.run_pipeline(yaml, { path = "/x" }))
      assert.are.equal(200, res.status)
      assert.are.equal('{"fallback":true}', res.body)
      assert.are.equal(tostring(port), res.headers["X-Mirror-Port"])
      assert.are.equal("fallback", res.result)
    end)
  end)

  describe("spec checks", function()
    local function err_of(fields) return testing.build_error("name: fb\nkind: Pipeline\nfilters:\n" .. fallback_yaml(fields)) end

    it("needs mockCode, an http code", function()
      assert.matches("mockCode: required", err_of("mockBody: x"))
      assert.matches("mockCode: invalid http code", err_of("mockCode: 99"))
      assert.matches("mockCode: invalid http code", err_of("mockCode: 600"))
      assert.matches("mockCode: expected integer", err_of("mockCode: 200.5"))
    end)

    it("checks mockHeaders", function()
      assert.matches("mockHeaders%.X%-A: expected string", err_of("mockCode: 200\nmockHeaders: { X-A: [1] }"))
      assert.matches("mockHeaders%.X A: invalid header name", err_of("mockCode: 200\nmockHeaders: { 'X A': b }"))
      assert.matches("mockHeaders: expected a map", err_of("mockCode: 200\nmockHeaders: [a]"))
    end)
  end)
end)
